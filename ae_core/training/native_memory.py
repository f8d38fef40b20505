"""Handing freed memory back to the operating system in a long-lived server. Does nothing beyond a garbage
collection where the C library is not glibc.

glibc's malloc keeps memory freed inside its arenas for reuse; a server that has just let go of a closed session's
runs and upload would otherwise go on holding their pages (docs/reliability.md, "Soak").
"""

import ctypes
import gc
import platform
from functools import cache


@cache
def _glibc() -> ctypes.CDLL | None:
    return ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None


def release_free_memory() -> None:
    """Collect unreachable Python objects (a model's graphs are reference cycles), then return the allocator's free
    pages to the operating system. About 0.2 s with TensorFlow loaded (the collection); call it when a large piece of
    work has ended."""
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
