"""Two people start 10,000-epoch trainings on digits; how soon does a third person's default digits run finish?

Through the server's queue (``TrainingQueue``, the cap and the fair share as configured: AE_MAX_CONCURRENT_TRAININGS,
AE_FAIR_SHARE_S) without Streamlit or a browser, as the Train page starts jobs: one person per workspace. First the
third person's run alone, the reference; then, for each head start the two long runs get, the third person's wait
for its first batch and its time to finish, from its Start, and how often it yielded its own slot meanwhile.

    PYTHONPATH=. .venv/bin/python bench/fair_share.py --head-starts 5 60
    AE_FAIR_SHARE_S=86400 PYTHONPATH=. .venv/bin/python bench/fair_share.py --head-starts 5 --give-up-after 180
"""

import argparse
import time
from dataclasses import replace

from ae_core.data import load_dataset
from ae_core.settings.recommended import recommended_settings
from ae_core.training.jobs import QUEUED, TrainingJob
from ae_core.training.queue import TrainingQueue, max_concurrent_trainings

POLL_S = 0.1
LONG_EPOCHS = 10_000


def default_job(digits, queue=None, person=None, epochs=None) -> TrainingJob:
    model_config, train_config = recommended_settings("digits", digits.image_shape, "conv", digits.n_train)
    if epochs is not None:
        train_config = replace(train_config, epochs=epochs)
    return TrainingJob(digits.x_train, digits.x_val, "digits", model_config, train_config, queue=queue, person=person)


def follow(job: TrainingJob, started: float, give_up_s: float) -> dict:
    """Poll ``job`` until it ends or ``give_up_s`` passes: seconds to its first batch and to its end, and the turns
    it yielded."""
    first_batch = finished = None
    yields, was_queued = 0, True
    while time.monotonic() - started < give_up_s:
        snapshot = job.snapshot()
        if first_batch is None and snapshot.progress is not None:
            first_batch = time.monotonic() - started
        queued = snapshot.status == QUEUED
        yields += queued and not was_queued
        was_queued = queued
        if snapshot.finished:
            finished = time.monotonic() - started
            break
        time.sleep(POLL_S)
    return {"first_batch_s": first_batch, "finished_s": finished, "yields": yields, "status": job.snapshot().status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head-starts", type=float, nargs="+", default=[5.0, 60.0], help="seconds the long runs get")
    parser.add_argument("--give-up-after", type=float, default=600.0, help="seconds to follow the third run")
    args = parser.parse_args()
    digits = load_dataset("digits")

    alone = default_job(digits).start()
    started = time.monotonic()
    reference = follow(alone, started, args.give_up_after)
    alone_s = reference["finished_s"]
    queue = TrainingQueue(max_concurrent_trainings())
    print(
        f"slots {queue.max_concurrent}, fair share {queue.fair_share_s:g} s; default digits run alone: {alone_s:.1f} s"
    )
    print("| head start of the two 10,000-epoch runs | third run's first batch | finished | vs alone | yields |")
    print("|---|---|---|---|---|")
    for head_start in args.head_starts:
        hostile = [default_job(digits, queue, f"hostile-{n}", LONG_EPOCHS).start() for n in (1, 2)]
        time.sleep(head_start)
        third = default_job(digits, queue, "third").start()
        result = follow(third, time.monotonic(), args.give_up_after)
        for job in (third, *hostile):
            job.stop()
            job.join()
        first = (
            "not within the time followed" if result["first_batch_s"] is None else f"{result['first_batch_s']:.1f} s"
        )
        if result["finished_s"] is None:
            print(f"| {head_start:g} s | {first} | not within {args.give_up_after:g} s | | {result['yields']} |")
        else:
            finished = result["finished_s"]
            print(f"| {head_start:g} s | {first} | {finished:.1f} s | {finished / alone_s:.2f}x | {result['yields']} |")


if __name__ == "__main__":
    main()
