"""A classroom: many users press Start on the default digits training at once. How soon does the last one get its
result, on local workers and on a Ray cluster?

Each user starts the Train page's default run on digits (``recommended_settings`` for the default preset) as a
``TrainingJob`` of a person of its own, all within a few milliseconds, and the bench follows every job to its end:
seconds from the class's start to each user's first batch and to its result.

- ``local``: local worker processes behind a ``TrainingQueue`` of ``--slots`` slots, as the server runs them (one
  training per person at a time, the fair share as configured: AE_FAIR_SHARE_S), ``--slots`` workers kept warm.
- ``ray``: a Ray cluster of ``--nodes`` nodes of 1 CPU each on this machine (``ray.cluster_utils.Cluster``), each
  training an actor asking for AE_RAY_CPUS_PER_TRAINING CPUs (default 1); Ray's scheduler alone decides when.

Before each class, one run alone on the same executor is the reference (after another one alone, so that neither
side pays for its executor's first start): the class's scaling is the users' runs alone, end to end, over the time to
the last result (how many trainings' worth of work it did at once). For local workers it also prints how many worker
processes were alive at once and their resident memory together, at most (read every second from /proc): a job that
yields its slot to another person keeps its paused worker.

    PYTHONPATH=. .venv/bin/python bench/classroom.py --executors local ray --users 30
"""

import argparse
import os
import statistics
import time
from dataclasses import replace

from ae_core.data import load_dataset
from ae_core.settings.model_config import DEFAULT_PRESET
from ae_core.settings.recommended import recommended_settings
from ae_core.training.jobs import DONE, TrainingJob

POLL_S = 0.05
CHILDREN_POLL_S = 1.0
NODE_OBJECT_STORE_BYTES = 200 * 2**20  # digits take a few MB; Ray's default (30% of memory) per node is far more


def make_job(digits, model_config, train_config, executor, queue=None, person=None) -> TrainingJob:
    return TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        model_config,
        train_config,
        split=digits.split.to_dict(),
        queue=queue,
        person=person,
        executor=executor,
    )


def children() -> tuple[int, float]:
    """How many child processes this process has, and their resident memory together in MB."""
    count, resident_kb = 0, 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status)
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields["PPid"]) == os.getpid():
            count += 1
            resident_kb += int(fields.get("VmRSS", "0 kB").split()[0])
    return count, resident_kb / 1024


def follow(jobs: list, started: float, count_children: bool = False) -> tuple[list[dict], tuple[int, float]]:
    """Poll every job until all have ended: each one's seconds from ``started`` to its first batch and its end; and
    with ``count_children``, the most child processes seen at once and the most memory they held together."""
    rows = [{"first_batch_s": None, "finished_s": None, "status": None} for _ in jobs]
    most, most_mb, counted_at = 0, 0.0, 0.0
    while any(row["finished_s"] is None for row in rows):
        if count_children and time.monotonic() - counted_at >= CHILDREN_POLL_S:
            count, resident_mb = children()
            most, most_mb, counted_at = max(most, count), max(most_mb, resident_mb), time.monotonic()
        now = time.monotonic() - started
        for job, row in zip(jobs, rows, strict=True):
            if row["finished_s"] is not None:
                continue
            snapshot = job.snapshot()
            if row["first_batch_s"] is None and snapshot.progress is not None:
                row["first_batch_s"] = now
            if snapshot.finished:
                row["finished_s"], row["status"] = now, snapshot.status
        time.sleep(POLL_S)
    return rows, (most, most_mb)


def alone(digits, model_config, train_config, executor, queue=None) -> float:
    """Seconds from Start to the result of one run with the executor to itself."""
    started = time.monotonic()
    job = make_job(digits, model_config, train_config, executor, queue, "alone").start()
    job.join()
    if job.snapshot().status != DONE:
        raise RuntimeError(f"the reference run ended {job.snapshot().status}: {job.snapshot().message}")
    return time.monotonic() - started


def classroom(digits, model_config, train_config, executor, users: int, queue=None) -> tuple[list, list, tuple]:
    started = time.monotonic()
    jobs = [make_job(digits, model_config, train_config, executor, queue, f"student-{n}").start() for n in range(users)]
    rows, most_children = follow(jobs, started, count_children=queue is not None)
    return jobs, rows, most_children


def report(name: str, rows: list, alone_s: float) -> float:
    first = [row["first_batch_s"] for row in rows if row["first_batch_s"] is not None]
    finished = [row["finished_s"] for row in rows]
    last = max(finished)
    done = sum(row["status"] == DONE for row in rows)
    scaling = len(rows) * alone_s / last
    print(
        f"| {name} | {alone_s:.1f} | {last:.1f} | {statistics.median(first):.1f} / {max(first):.1f} | "
        f"{statistics.median(finished):.1f} / {last:.1f} | {done} of {len(rows)} | {scaling:.2f}x |",
        flush=True,
    )
    return last


def local_class(digits, model_config, train_config, users: int, slots: int) -> float:
    from ae_core.training.local_workers import LocalWorkers
    from ae_core.training.queue import TrainingQueue

    workers, queue = LocalWorkers(warm=slots), TrainingQueue(slots)
    alone(digits, model_config, train_config, workers, queue)
    alone_s = alone(digits, model_config, train_config, workers, queue)
    _, rows, (most, most_mb) = classroom(digits, model_config, train_config, workers, users, queue)
    workers.close()
    last = report(f"local workers, queue of {slots} (fair share {queue.fair_share_s:g} s)", rows, alone_s)
    print(f"local worker processes alive at once: at most {most}, holding {most_mb:,.0f} MB together (RSS)")
    return last


def ray_class(digits, model_config, train_config, users: int, nodes: int) -> float:
    import ray
    from ray.cluster_utils import Cluster

    from ae_core.training.ray_workers import RayWorkers

    node = {"num_cpus": 1, "object_store_memory": NODE_OBJECT_STORE_BYTES}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(**node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        workers = RayWorkers()
        alone(digits, model_config, train_config, workers)
        alone_s = alone(digits, model_config, train_config, workers)
        jobs, rows, _ = classroom(digits, model_config, train_config, workers, users)
        per_node = {}
        for job in jobs:
            node_id = job.worker.where().node_id  # the job's RayTraining: where its actor ran
            per_node[node_id] = per_node.get(node_id, 0) + 1
        last = report(f"Ray, {nodes} nodes of 1 CPU", rows, alone_s)
        print("trainings per node:", ", ".join(str(count) for count in sorted(per_node.values(), reverse=True)))
        return last
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", nargs="+", choices=["local", "ray"], default=["local", "ray"])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--slots", type=int, default=2, help="the local queue's cap")
    parser.add_argument("--nodes", type=int, default=3, help="Ray nodes of 1 CPU each")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recommended epochs")
    arguments = parser.parse_args()
    digits = load_dataset("digits")
    model_config, train_config = recommended_settings("digits", digits.image_shape, DEFAULT_PRESET, digits.n_train)
    if arguments.epochs is not None:
        train_config = replace(train_config, epochs=arguments.epochs)
    print(
        f"{arguments.users} users start the default digits run at once ({model_config.preset}, "
        f"{train_config.epochs} epochs, batch {train_config.batch_size}); seconds from the class's start"
    )
    print("| executor | one alone | last result | first batch median / max | result median / max | done | scaling |")
    print("|---|---|---|---|---|---|---|")
    last = {}
    if "local" in arguments.executors:
        last["local"] = local_class(digits, model_config, train_config, arguments.users, arguments.slots)
    if "ray" in arguments.executors:
        last["ray"] = ray_class(digits, model_config, train_config, arguments.users, arguments.nodes)
    if len(last) == 2:
        print(f"time to the last result, Ray over local: {last['ray'] / last['local']:.2f}x")


if __name__ == "__main__":
    main()
