"""Soak test of the Train page: many start/stop cycles in one session, in one process, through Streamlit's AppTest.

Each cycle starts a long training (Dense preset) on scikit-learn's digits, waits for its first finished epoch,
checks the live chart, stops it, checks the stopped run's chart, and lets the run go (as a session that keeps
nothing). It prints one row per cycle and a summary: the growth of the process's resident memory (from /proc) per
cycle after the warm-up cycles, and whether any chart ever showed another run's losses (a stale chart). Exits 1 when
memory grows more than --max-growth-mb per cycle or a chart was stale.

Before memory is read, the allocator hands its free pages back, as the server has it do once a session's state is
emptied: on a loaded machine glibc kept about 30 MB more or less for reuse from one cycle to the next, a level that
flips rather than climbs, and the soak is after what stays.

Growth is measured between the medians of the first and of the last MEDIAN_OF cycles after the warm-up: a creep
moves both ends of the series apart, while one cycle that happens to end with a batch of memory not yet handed
back does not decide the result.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/soak.py --cycles 20
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ae_core.training.native_memory import release_free_memory
from pages.shared import keys

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# The first cycles trace TensorFlow's functions and fill its allocator's pools; growth is measured after them.
WARM_UP_CYCLES = 3
MEDIAN_OF = 5


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def loss_chart_losses(at: AppTest) -> list[float]:
    """The train-loss values (first trace) of the Train page's loss chart."""
    specs = [json.loads(element.proto.spec) for element in at.get("plotly_chart") if element.key == keys.LOSS_CHART]
    return list(specs[0]["data"][0].get("y", [])) if specs else []


def wait_for(condition, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the training job did not reach the expected state")
        time.sleep(0.1)


def one_cycle(at: AppTest) -> tuple[int, bool]:
    """Start, watch, stop and drop one run; returns (points on the stopped run's chart, whether every chart
    showed only this run's losses)."""
    next(button for button in at.button if button.label == "Start training").click().run()
    job = at.session_state[keys.JOB]
    wait_for(lambda: job.snapshot().epochs_completed >= 1)
    at.run()
    own = [loss for _, loss in job.snapshot().batch_losses]
    live = loss_chart_losses(at)
    fresh = 0 < len(live) <= len(own) and live == own[: len(live)]
    next(button for button in at.button if button.label == "Stop").click().run()
    assert job.join(300)
    at.run()
    stopped = loss_chart_losses(at)
    fresh = fresh and stopped == [loss for _, loss in job.snapshot().run.result.batch_losses]
    at.session_state[keys.RUNS] = {}  # the session keeps nothing, so what remains is what leaks
    return len(stopped), fresh and not at.exception


def soak(cycles: int) -> tuple[list[float], bool]:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[keys.DATASET] = "digits"
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key=keys.PRESET).set_value("dense").run()
    at.number_input(key=keys.EPOCHS).set_value(500)
    at.number_input(key=keys.BATCH_SIZE).set_value(32)
    at.run()
    memory, all_fresh = [], True
    print(f"{'cycle':>5} {'RSS MB':>8} {'chart points':>12} {'own data':>8}", flush=True)
    for cycle in range(1, cycles + 1):
        points, fresh = one_cycle(at)
        release_free_memory()
        memory.append(resident_mb())
        all_fresh &= fresh
        print(f"{cycle:>5} {memory[-1]:>8.1f} {points:>12} {'yes' if fresh else 'STALE':>8}", flush=True)
    return memory, all_fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--max-growth-mb", type=float, default=1.0, help="per cycle, after the warm-up")
    arguments = parser.parse_args()
    least = WARM_UP_CYCLES + 2 * MEDIAN_OF
    if arguments.cycles < least:
        print(
            f"error: --cycles must be at least {least}: {WARM_UP_CYCLES} warm-up cycles, then two medians of "
            f"{MEDIAN_OF}; got {arguments.cycles}."
        )
        return 2
    os.environ.setdefault("AE_RUNS_DIR", tempfile.mkdtemp(prefix="soak-runs-"))
    memory, fresh = soak(arguments.cycles)
    measured = memory[WARM_UP_CYCLES:]
    first, last = statistics.median(measured[:MEDIAN_OF]), statistics.median(measured[-MEDIAN_OF:])
    growth = (last - first) / (len(measured) - MEDIAN_OF)
    print(
        f"RSS median of cycles {WARM_UP_CYCLES + 1}-{WARM_UP_CYCLES + MEDIAN_OF}: {first:.1f} MB; of cycles "
        f"{arguments.cycles - MEDIAN_OF + 1}-{arguments.cycles}: {last:.1f} MB; growth {growth:+.2f} MB per cycle "
        f"(bound {arguments.max_growth_mb} MB)"
    )
    print("charts: every chart showed its own run's losses" if fresh else "charts: a STALE chart was seen")
    return 0 if fresh and growth <= arguments.max_growth_mb else 1


if __name__ == "__main__":
    sys.exit(main())
