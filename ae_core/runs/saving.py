"""Saving and deleting runs in a runs folder, so that readers never see half a run.

A saved run is a folder holding ``model.keras``, ``run.json`` and ``preview.npz``; its name is the folder's name.
Saving writes a staging folder ``runs_dir/.NAME.saving-PID-HEX/`` and renames it onto ``runs_dir/NAME``: a rename
onto an existing run fails, so of two saves of one name exactly one wins, and a save killed midway leaves only a
staging folder, never a half-written run (``clean_staging`` removes it). Deleting renames the run to a staging name
first, then removes it. A save that would pass a limit on disk (``ae_core.runs.disk_budget``: the run's own size,
its workspace's quota, the folder's total) is refused with what to delete; the per-batch losses are decimated
(``ae_core.runs.history``), so run.json stays small.

A run saved from a workspace holds ``owner``, a text file of the workspace's ``owner_id``
(``ae_core.workspaces.store``): only that workspace may rename or delete it (``check_owner``). Whoever passes no
owner (the command line, the server's admin token) may change any run; a run without the file (the command line's,
an example) is changed only that way.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ae_core.runs.disk_budget import budget_lock, check_room, check_run_parts, folder_bytes, saved_model_bytes
from ae_core.runs.history import decimate_batch_losses
from ae_core.runs.names import check_run_name
from ae_core.runs.run_files import OWNER_FILE, link_refusal, run_owner

if TYPE_CHECKING:
    from ae_core.runs.run import Run


def _summary(run: Run, name: str) -> dict:
    result = run.result
    return {
        "id": run.id,
        "name": name,
        "created": run.created,
        "dataset": run.dataset_name,
        "split": run.split,
        "excluded_class": run.excluded_class,
        "model_config": run.model_config.to_dict(),
        "train_config": run.train_config.to_dict(),
        "metrics": run.metrics,
        "history": result.history,
        "batch_losses": decimate_batch_losses(result.batch_losses),
        "epochs_completed": result.epochs_completed,
        "samples_seen": result.samples_seen,
        "train_seconds": result.train_seconds,
        "stopped": result.stopped,
        "divergence": None if result.divergence is None else vars(result.divergence),
        "notes": result.notes,
    }


def _preview(run: Run) -> dict[str, np.ndarray]:
    """preview.npz's arrays: the fixed validation images, and their reconstructions and codes, and the map
    sample's codes, recorded after every epoch."""
    result = run.result
    return {
        "images": result.preview_images,
        "timeline": result.preview_timeline,
        "codes": result.preview_codes,
        "map_codes": result.map_codes,
    }


def _write_run(run: Run, name: str, folder: Path, owner: str | None, summary_text: str) -> None:
    """The run's files in ``folder``; an OSError (a full disk) names the run, never a path on the server."""
    try:
        if owner is not None:
            (folder / OWNER_FILE).write_text(owner, encoding="ascii")
        run.model.save(folder / "model.keras")
        (folder / "run.json").write_text(summary_text, encoding="utf-8")
        np.savez_compressed(folder / "preview.npz", **_preview(run))
    except OSError as error:
        raise OSError(f"{name} could not be written: {error.strerror or error}.") from None


def _claim(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``; FileExistsError when a run is already there (the rename fails)."""
    try:
        os.rename(staging, target)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise FileExistsError(
                f"A run named {target.name!r} already exists; choose another name or overwrite it."
            ) from None
        raise


def save_run(run: Run, runs_dir: str | Path = "runs", overwrite: bool = False, owner: str | None = None) -> Path:
    """Write ``run`` to ``runs_dir/NAME/`` (NAME: ``run.name`` sanitised), exclusively and atomically; return it.
    ``owner``: the owner id of the workspace saving it, whose quota it counts against, or None for a run no
    workspace owns (no quota; the folder's total still holds).

    Without ``overwrite`` an existing run of that name is a FileExistsError, also when another save claims the name
    while this one writes. With ``overwrite`` the old run is moved aside, replaced, then deleted. A run over the
    limits of ``ae_core.runs.disk_budget`` is a ValueError saying which and what to do; a model, preview or run.json
    over its own limit is refused before anything is written.
    """
    runs_dir = Path(runs_dir)
    name = check_run_name(runs_dir, run.name, overwrite)
    summary_text = json.dumps(_summary(run, name), indent=1)
    model_bytes = saved_model_bytes(run.model)
    preview_bytes = sum(array.nbytes for array in _preview(run).values())
    check_run_parts(name, model_bytes, preview_bytes, len(summary_text.encode()), run.result.epochs_completed)
    runs_dir.mkdir(parents=True, exist_ok=True)
    check_room(runs_dir, name, model_bytes, owner, overwrite)  # the model alone: a sure refusal writes nothing
    target, staging = runs_dir / name, staging_folder(runs_dir, name, "saving")
    staging.mkdir()
    try:
        _write_run(run, name, staging, owner, summary_text)
        retired = None
        with budget_lock(runs_dir):
            check_room(runs_dir, name, folder_bytes(staging), owner, overwrite)
            if overwrite and target.exists():
                retired = staging_folder(runs_dir, name, "replaced")
                os.rename(target, retired)
            _claim(staging, target)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def check_owner(runs_dir: str | Path, name: str, by: str | None, action: str = "delete") -> None:
    """PermissionError unless ``by`` (an owner id; None: the command line or the admin token) may ``action`` the
    saved run ``runs_dir/name``."""
    owner = run_owner(Path(runs_dir) / name)
    if by is not None and by != owner:
        whose = "another workspace" if owner else "no workspace (it is read-only here)"
        raise PermissionError(
            f"{name} belongs to {whose}; only the workspace that saved it may {action} it. Open it, or save a copy "
            "under another name."
        )


def _plain_run_folder(runs_dir: Path, name: str) -> Path:
    """``runs_dir/name``, a saved run; ValueError or FileNotFoundError as delete_run says."""
    plain = isinstance(name, str) and name == Path(name).name and "\\" not in name
    if not plain or name in ("", "..") or name.startswith("."):  # "a/b", "/etc", "", a staging folder ".x.saving-1-ab"
        raise ValueError(
            f"A run to delete is named by its folder in the runs folder, such as conv-digits-101500; got "
            f"{name!r}, which is not a plain folder name."
        )
    folder = runs_dir / name
    if folder.is_symlink():
        raise ValueError(link_refusal(name))
    if not (folder / "run.json").is_file():
        raise FileNotFoundError(f"There is no saved run named {name!r}; it may have been deleted already.")
    return folder


def delete_run(runs_dir: str | Path, name: str, by: str | None = None) -> None:
    """Delete the saved run ``runs_dir/name``: it is renamed to a staging folder first, so it leaves the listing
    whole and at once, then removed (a delete killed midway leaves a staging folder that ``clean_staging`` removes).

    ValueError when ``name`` is not a plain run folder's name (a path, "..", a hidden or staging folder, a link);
    FileNotFoundError when no saved run of that name is there (also when another delete took it first);
    PermissionError when ``by`` is an owner id other than the run's (see ``check_owner``).
    """
    runs_dir = Path(runs_dir)
    folder = _plain_run_folder(runs_dir, name)
    check_owner(runs_dir, name, by)
    retired = staging_folder(runs_dir, name, "deleting")
    try:
        os.rename(folder, retired)
    except FileNotFoundError:
        raise FileNotFoundError(f"The run {name!r} was deleted meanwhile.") from None
    shutil.rmtree(retired)


def rename_run(runs_dir: str | Path, name: str, new_name: str, by: str | None = None) -> Path:
    """Rename the saved run ``runs_dir/name`` to ``new_name`` (sanitised; a run's name is its folder's); return its
    new folder. Errors as delete_run's, and FileExistsError when a run of the new name is there."""
    runs_dir = Path(runs_dir)
    folder = _plain_run_folder(runs_dir, name)
    check_owner(runs_dir, name, by, "rename")
    target = runs_dir / check_run_name(runs_dir, new_name, overwrite=False)
    _claim(folder, target)
    return target


# Folders a save in progress writes (the new run, and with overwrite the old one moved aside), and a run being
# deleted, moved aside first so that it leaves the listing at once and whole.
STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<kind>saving|replaced|deleting)-(?P<pid>\d+)-[0-9a-f]+$")


def staging_folder(runs_dir: Path, name: str, kind: str) -> Path:
    return runs_dir / f".{name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_staging(runs_dir: str | Path = "runs") -> list[str]:
    """Remove the staging folders that saves killed midway left in ``runs_dir``; return their names.

    A folder of a process still alive is left alone, as that save is still writing. An old run moved aside by a
    killed overwrite is put back when nothing took its name, so a crash never loses a saved run.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    removed = []
    for folder in sorted(runs_dir.iterdir()):
        match = STAGING_PATTERN.match(folder.name)
        if match is None or not folder.is_dir() or _alive(int(match["pid"])):
            continue
        if match["kind"] == "replaced" and not (runs_dir / match["name"]).exists():
            os.rename(folder, runs_dir / match["name"])
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed
