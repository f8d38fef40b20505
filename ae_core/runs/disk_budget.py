"""Disk for saved runs, budgeted: what one run may hold, what one workspace's runs may hold together, and what a
runs folder may hold in all.

- A run's model (its weights and its optimizer's state) over AE_MAX_SAVED_MODEL_BYTES, or its preview (the images
  and codes recorded after every epoch) over AE_MAX_PREVIEW_BYTES, is refused before anything is written; so is a
  run.json over AE_MAX_RUN_JSON_BYTES, which the lab never writes. A saved run is at most the sum of the three.
- A save by a workspace that would bring its runs in the folder over AE_MAX_WORKSPACE_RUNS_BYTES is refused,
  naming its largest runs to delete; one that would bring the folder's runs over AE_MAX_RUNS_DIR_BYTES likewise.

The size of a run is the size of its files, links neither followed nor counted. The last check of a save is made
under a lock on the runs folder (``budget_lock``, a ``flock`` of the folder) with the staged run's real
size, and the run is renamed into place before the lock is released: saves at once, from threads or processes, can
never together pass a limit.
"""

import fcntl
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ae_core.runs.run_files import run_owner
from ae_core.settings import limits
from ae_core.units import human_size

LARGEST_NAMED = 3  # runs a refusal names as the ones to delete


@dataclass(frozen=True)
class SavedRunSize:
    name: str  # the run's folder
    owner: str | None  # the owner id of the workspace that saved it; None: no workspace's
    size: int  # bytes of its files


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files in ``folder`` and its sub-folders; links are neither followed nor counted."""
    total = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                total += folder_bytes(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def saved_run_sizes(runs_dir: Path) -> list[SavedRunSize]:
    """Every run folder of ``runs_dir`` (not a hidden or staging folder, not a link) with its owner and size."""
    sizes = []
    with os.scandir(runs_dir) as entries:
        folders = [entry for entry in entries if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)]
    for entry in folders:
        try:
            sizes.append(SavedRunSize(entry.name, run_owner(entry.path), folder_bytes(Path(entry.path))))
        except FileNotFoundError:  # deleted meanwhile
            continue
    return sizes


@contextmanager
def budget_lock(runs_dir: Path) -> Iterator[None]:
    """Held by one save at a time across threads and processes, from its last check until its run is in place: a
    ``flock`` of the runs folder itself (each call opens it anew, and flock excludes every other open)."""
    descriptor = os.open(runs_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def saved_model_bytes(model) -> int:
    """Bytes of what saving ``model`` writes: its weights and its optimizer's variables (Adam's two slots per
    weight, once it has trained), from their shapes."""
    optimizer_variables = list(model.optimizer.variables) if getattr(model, "optimizer", None) is not None else []
    return sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in [*model.weights, *optimizer_variables])


def check_run_parts(name: str, model_bytes: int, preview_bytes: int, summary_bytes: int, epochs: int) -> None:
    """ValueError, naming the size and the limit, when the run ``name``'s model, preview or run.json is over its
    limit; before anything is written."""
    limit = limits.current()
    if model_bytes > limit.max_saved_model_bytes:
        raise ValueError(
            f"{name} was not saved: its model is {human_size(model_bytes)} (its weights and its optimizer's state), "
            f"over the {human_size(limit.max_saved_model_bytes)} a saved model may take (AE_MAX_SAVED_MODEL_BYTES). "
            "Train a smaller model (fewer or narrower hidden layers) to save it."
        )
    if preview_bytes > limit.max_preview_bytes:
        raise ValueError(
            f"{name} was not saved: its preview (the images and codes recorded after each of its {epochs:,} epochs) "
            f"is {human_size(preview_bytes)}, over the {human_size(limit.max_preview_bytes)} a saved run's "
            "preview.npz may take (AE_MAX_PREVIEW_BYTES). Train fewer epochs, or record fewer images (preview "
            "and map sample sizes), to save it."
        )
    if summary_bytes > limit.max_run_json_bytes:
        raise ValueError(
            f"{name} was not saved: its run.json would be {human_size(summary_bytes)}, over the "
            f"{human_size(limit.max_run_json_bytes)} a saved run's run.json may take (AE_MAX_RUN_JSON_BYTES). "
            "Train fewer epochs to save it."
        )


def check_room(runs_dir: Path, name: str, size: int, owner: str | None, replacing: bool) -> None:
    """ValueError, saying what to delete, when a run ``name`` of ``size`` bytes saved by ``owner`` (an owner id;
    None: no workspace, which has no quota) would pass the workspace's quota or the folder's total. ``replacing``:
    the run of that name now there is replaced, so it does not count."""
    limit = limits.current()
    runs = [run for run in saved_run_sizes(runs_dir) if not (replacing and run.name == name)]
    mine = [run for run in runs if owner is not None and run.owner == owner]
    used = sum(run.size for run in mine)
    if owner is not None and used + size > limit.max_workspace_runs_bytes:
        raise ValueError(
            f"{name} ({human_size(size)}) was not saved: this workspace's saved runs would take "
            f"{human_size(used + size)}, over its quota of {human_size(limit.max_workspace_runs_bytes)} "
            f"(AE_MAX_WORKSPACE_RUNS_BYTES). {_what_to_delete(mine, 'its saved runs')}"
        )
    used = sum(run.size for run in runs)
    if used + size > limit.max_runs_dir_bytes:
        candidates, whose = (mine, "your saved runs") if mine else (runs, "the saved runs")
        raise ValueError(
            f"{name} ({human_size(size)}) was not saved: the runs folder, shared by everyone on this server, would "
            f"hold {human_size(used + size)}, over its total of {human_size(limit.max_runs_dir_bytes)} "
            f"(AE_MAX_RUNS_DIR_BYTES). {_what_to_delete(candidates, whose)} Whoever runs the server can remove old "
            "runs or raise the total."
        )


def _what_to_delete(runs: list[SavedRunSize], whose: str) -> str:
    if not runs:
        return "Train a smaller model, or fewer epochs, to save it."
    largest = sorted(runs, key=lambda run: run.size, reverse=True)[:LARGEST_NAMED]
    named = ", ".join(f"{run.name} ({human_size(run.size)})" for run in largest)
    return f"Delete some of {whose} first; the largest: {named}."
