"""A server that trains again and again keeps its memory flat: glibc's arenas capped at one per core, the free
pages handed back after each training. The soak runs in a process of its own, so its memory is only its own."""

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOAK_CYCLES = 20
# Per cycle. Measured: +0.07 to +0.49 MB (the first cycles still settle); before the cap on arenas 5 to 10 MB, and
# 2 MB per cycle when each training's step graph stayed alive.
GROWTH_BOUND_MB = 1.0

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the allocator tuned here is glibc's")


# Run in a fresh process: mallocs on THREADS threads alive at once, then counts glibc's arenas from malloc_info's
# report (one <heap nr="..."> element per arena). Each new thread that mallocs gets an arena of its own while there
# are fewer than the cap (by default 8 per core), so the count shows whether a cap was applied.
COUNT_ARENAS = """
import ctypes, sys, threading

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.open_memstream.restype = ctypes.c_void_p
libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
if sys.argv[1] == "capped":
    from ae_core.training.native_memory import limit_malloc_arenas
    print("cap", limit_malloc_arenas())
threads = int(sys.argv[2])
allocated, done = threading.Barrier(threads + 1), threading.Event()

def hold_memory():
    blocks = [libc.malloc(4096) for _ in range(64)]
    allocated.wait()
    done.wait()
    for block in blocks:
        libc.free(block)

workers = [threading.Thread(target=hold_memory) for _ in range(threads)]
for worker in workers:
    worker.start()
allocated.wait()  # every thread now holds memory from its arena
report, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(report), ctypes.byref(size))
libc.malloc_info(0, stream)
libc.fclose(stream)
done.set()
for worker in workers:
    worker.join()
print("arenas", report.value.decode().count("<heap nr="))
"""


def _arenas_after_threads(mode: str, threads: int, **environment) -> dict:
    """{"arenas": count, "cap": what limit_malloc_arenas returned (when mode is "capped")} from a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    if "MALLOC_ARENA_MAX" not in environment:
        env.pop("MALLOC_ARENA_MAX", None)
    run = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode, str(threads)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {
        key: None if value == "None" else int(value)
        for key, value in (line.split() for line in run.stdout.splitlines())
    }


@glibc_only
def test_arenas_are_capped_at_one_per_core_unless_the_environment_chose():
    cores = os.cpu_count()
    threads = 2 * cores + 2  # more than the cap, fewer than glibc's own limit of 8 per core
    control = _arenas_after_threads("control", threads)
    assert control["arenas"] == threads + 1, "without the cap, each thread has an arena (and the main one)"
    capped = _arenas_after_threads("capped", threads)
    assert capped == {"cap": cores, "arenas": capped["arenas"]} and capped["arenas"] <= cores
    chosen = _arenas_after_threads("capped", threads, MALLOC_ARENA_MAX="3")
    assert chosen == {"cap": None, "arenas": 3}, "the environment's choice stands"


@glibc_only
def test_start_and_stop_cycles_through_the_train_page_keep_memory_flat_and_charts_fresh(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "AE_RUNS_DIR": str(tmp_path)}
    environment.pop("MALLOC_ARENA_MAX", None)
    soak = subprocess.run(
        [
            sys.executable,
            "bench/soak.py",
            "--cycles",
            str(SOAK_CYCLES),
            "--max-growth-mb",
            str(GROWTH_BOUND_MB),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = soak.stdout.strip().splitlines()[-2:]
    assert "charts: every chart showed its own run's losses" in summary, soak.stdout + soak.stderr[-2000:]
    growth = float(re.search(r"growth ([-+][\d.]+) MB per cycle", summary[0]).group(1))
    assert growth <= GROWTH_BOUND_MB, summary[0]
    assert soak.returncode == 0, soak.stdout
