"""The C allocator under a long-lived server that trains on threads: glibc's malloc, tuned so that memory freed by
a finished training goes back to the operating system. Everything here does nothing where the C library is not
glibc.

Every training runs on a new thread, and in the app so does every script run. glibc gives busy threads arenas of
their own (up to eight per core) and keeps freed memory inside each arena for reuse. A server that starts and stops
trainings all day then grew by about 10 MB with each one, with no Python or TensorFlow object left alive
(`bench/soak.py`; docs/reliability.md, "Soak"). Fewer arenas, reused by each new thread, and handing the free pages
back after each training keep it flat.
"""

import ctypes
import gc
import os
import platform
from functools import cache

M_ARENA_MAX = -8  # mallopt's parameter for the most arenas (glibc's malloc.h)


@cache
def _glibc() -> ctypes.CDLL | None:
    return ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None


def limit_malloc_arenas() -> int | None:
    """Cap glibc's malloc arenas at one per core for the rest of this process; returns the cap, or None where the
    C library is not glibc or the MALLOC_ARENA_MAX environment variable has already chosen one."""
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return None
    arenas = os.cpu_count() or 1
    return arenas if libc.mallopt(M_ARENA_MAX, arenas) == 1 else None


def release_free_memory() -> None:
    """Collect unreachable Python objects (a training's graphs are reference cycles), then return the allocator's
    free pages to the operating system. About 0.2 s with TensorFlow loaded (the collection); call it when a large
    piece of work has ended."""
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
