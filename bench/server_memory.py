"""Memory over many trainings through the Train page: the server's, and its workers'.

One session (Streamlit's AppTest, in this process, as ``bench/soak.py``) trains the default digits run with few
epochs again and again, each to its end, on the server's executor (``executors.executor()``: local workers unless
AE_EXECUTOR says otherwise). After each training the page collects its run, the server's background worker draws
its default latent map, and the session then lets the run go, as a session that keeps nothing, so what remains is
what the server keeps. It prints one row per training: this process's resident memory (VmRSS) then, and the peak
resident memory (VmHWM) of the worker process that trained it, read every 50 ms while it ran. The summary compares
the server's memory after training ``--compare-after`` with that after the last (the bound: ``--max-growth-mb``);
exits 1 beyond it.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/server_memory.py --trainings 50
"""

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time

from streamlit.testing.v1 import AppTest

from bench.soak import APP, resident_mb, wait_for
from pages.shared import keys, server

WORKER_POLL_S = 0.05


def peak_resident_mb(pid: int) -> float | None:
    """The peak resident memory of process ``pid`` (VmHWM), None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        return None


def worker_peak(job) -> float | None:
    """The worker's peak resident memory, read until the job ends (the worker exits once it has sent its run)."""
    wait_for(lambda: job.worker is not None or job.snapshot().finished)
    pid = getattr(job.worker, "pid", None)  # a local worker's process
    peak = None
    while pid is not None and not job.snapshot().finished:
        peak = peak_resident_mb(pid) or peak
        time.sleep(WORKER_POLL_S)
    return peak


def background_idle() -> None:
    """Wait until the server's background worker has drawn the run's latent map."""
    server.background_worker().submit(lambda: None).result(timeout=600)


def one_training(at: AppTest) -> tuple[str, float | None]:
    """Start one training, follow it to its end, let the page collect it; (its status, its worker's peak MB)."""
    next(button for button in at.button if button.label == "Start training").click().run()
    job = at.session_state[keys.JOB]
    peak = worker_peak(job)
    assert job.join(600)
    at.run()  # the page collects the run and hands its latent map to the background worker
    background_idle()
    status = job.snapshot().status
    at.session_state[keys.RUNS] = {}  # the session keeps nothing, so what remains is what the server keeps
    at.run()
    return status, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainings", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--compare-after", type=int, default=5, help="the training whose memory is the reference")
    parser.add_argument("--max-growth-mb", type=float, default=20.0)
    arguments = parser.parse_args()
    os.environ.setdefault("AE_RUNS_DIR", tempfile.mkdtemp(prefix="server-memory-runs-"))
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state[keys.DATASET] = "digits"
    at.run()
    at.switch_page("pages/train.py").run()
    at.number_input(key=keys.EPOCHS).set_value(arguments.epochs)
    at.run()
    preset = at.selectbox(key=keys.PRESET).value
    print(f"start: {resident_mb():.1f} MB; default digits run ({preset}), {arguments.epochs} epochs each", flush=True)
    print(f"{'training':>8} {'status':>8} {'server RSS MB':>13} {'worker peak MB':>14} {'threads':>7}", flush=True)
    server_mb, worker_mb = [], []
    for number in range(1, arguments.trainings + 1):
        status, peak = one_training(at)
        gc.collect()
        server_mb.append(resident_mb())
        if peak is not None:
            worker_mb.append(peak)
        peak_text = "-" if peak is None else f"{peak:.1f}"
        print(
            f"{number:>8} {status:>8} {server_mb[-1]:>13.1f} {peak_text:>14} {threading.active_count():>7}", flush=True
        )
        if at.exception:
            print(f"the page raised: {at.exception}")
            return 1
    reference, last = server_mb[arguments.compare_after - 1], server_mb[-1]
    growth = last - reference
    print(
        f"server RSS after training {arguments.compare_after}: {reference:.1f} MB; after {arguments.trainings}: "
        f"{last:.1f} MB; difference {growth:+.1f} MB (bound {arguments.max_growth_mb:g} MB); range after "
        f"{arguments.compare_after}: {min(server_mb[arguments.compare_after - 1 :]):.1f} to "
        f"{max(server_mb[arguments.compare_after - 1 :]):.1f} MB"
    )
    if worker_mb:
        print(
            f"worker peak RSS: median {statistics.median(worker_mb):.1f} MB, min {min(worker_mb):.1f}, max "
            f"{max(worker_mb):.1f} MB over {len(worker_mb)} workers (first {worker_mb[0]:.1f}, last "
            f"{worker_mb[-1]:.1f})"
        )
    return 0 if abs(growth) <= arguments.max_growth_mb else 1


if __name__ == "__main__":
    sys.exit(main())
