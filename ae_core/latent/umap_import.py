"""UMAP imported with numba's on-disk cache, so its compile is paid once per machine, not once per process.

umap-learn and pynndescent decorate most of their numba functions without ``cache=True``, so numba compiles them
again in every new process (about 40 s on two cores); some (UMAP's layout step, pynndescent's searches) are
even made with ``numba.njit`` while a map is computed. ``import_umap`` makes ``cache=True`` the default of
``numba.njit`` and ``numba.jit`` in this process from then on, and points numba's cache at a folder this process
can write: ``NUMBA_CACHE_DIR`` when set, else ``~/.cache/autoencoder-lab/numba``. A function numba cannot cache
(a closure over runtime values) is compiled as before.
bench/latent_speed.py measures a restarted process's first map against a later one.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from pathlib import Path

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "autoencoder-lab" / "numba"
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """The folder numba's compiled functions are kept in (created if missing)."""
    folder = Path(os.environ.get("NUMBA_CACHE_DIR") or DEFAULT_CACHE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _caching(decorator):
    """``decorator`` (numba.njit or numba.jit) with cache=True unless the caller says otherwise."""

    @functools.wraps(decorator)
    def wrapped(*args, **kwargs):
        kwargs.setdefault("cache", True)
        return decorator(*args, **kwargs)

    wrapped.caches_by_default = True
    return wrapped


def import_umap():
    """The ``umap.UMAP`` class, its modules imported (the first time) with numba's on-disk cache on."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's and umap's import-time chatter, "cannot cache" notes included
        os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir()))
        import numba

        numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]  # read at import; numba may be imported already
        if not getattr(numba.njit, "caches_by_default", False):
            numba.njit, numba.jit = _caching(numba.njit), _caching(numba.jit)
        from umap import UMAP
    return UMAP
