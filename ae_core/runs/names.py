"""Run names: what a name may hold, whether it is free in a runs folder, and where runs are saved by default."""

import re
from pathlib import Path

RUN_NAME_PATTERN = re.compile(r"[^A-Za-z0-9._-]+")
RUNS_DIR_ENV = "AE_RUNS_DIR"


def default_runs_dir() -> Path:
    """Where runs are saved unless told otherwise: the AE_RUNS_DIR environment variable, else ./runs. The app saves
    there, and the command line's ``train`` without ``--out`` too."""
    from ae_core.settings import environment

    return environment.current().runs_dir


def sanitize_run_name(name: str) -> str:
    """A run name safe as one folder name: letters, digits, '.', '_' and '-', no leading dot, at most 64 chars."""
    cleaned = RUN_NAME_PATTERN.sub("-", str(name)).lstrip(".-")[:64]
    if not cleaned:
        raise ValueError(f"A run name needs at least one letter or digit; got {name!r}.")
    return cleaned


def check_run_name(runs_dir: str | Path, name: str, overwrite: bool = False) -> str:
    """The sanitised ``name``; ValueError when nothing is left of it, FileExistsError when a run of that name is
    already in ``runs_dir`` and ``overwrite`` is False. Call it before training, so a bad name costs nothing."""
    cleaned = sanitize_run_name(name)
    if not overwrite and (Path(runs_dir) / cleaned).exists():
        raise FileExistsError(f"A run named {cleaned!r} already exists; choose another name or overwrite it.")
    return cleaned
