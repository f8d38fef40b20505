"""Saving and deleting runs in a runs folder, so that readers never see half a run.

A saved run is a folder holding ``model.keras``, ``run.json`` and ``preview.npz``; its name is the folder's name.
Saving writes a staging folder ``runs_dir/.NAME.saving-PID-HEX/`` and renames it onto ``runs_dir/NAME``: a rename
onto an existing run fails, so of two saves of one name exactly one wins, and a save killed midway leaves only a
staging folder, never a half-written run (``clean_staging`` removes it). Deleting renames the run to a staging name
first, then removes it.

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

from ae_core.runs.names import check_run_name

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
        "batch_losses": result.batch_losses,
        "epochs_completed": result.epochs_completed,
        "samples_seen": result.samples_seen,
        "train_seconds": result.train_seconds,
        "stopped": result.stopped,
        "divergence": None if result.divergence is None else vars(result.divergence),
        "notes": result.notes,
    }


OWNER_FILE = "owner"


def _write_run(run: Run, name: str, folder: Path, owner: str | None) -> None:
    if owner is not None:
        (folder / OWNER_FILE).write_text(owner, encoding="ascii")
    run.model.save(folder / "model.keras")
    (folder / "run.json").write_text(json.dumps(_summary(run, name), indent=1), encoding="utf-8")
    np.savez_compressed(
        folder / "preview.npz",
        images=run.result.preview_images,
        timeline=run.result.preview_timeline,
        codes=run.result.preview_codes,
        map_codes=run.result.map_codes,
    )


def _claim(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``; FileExistsError when a run is already there (the rename fails)."""
    try:
        os.rename(staging, target)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise FileExistsError(
                f"A run named {target.name!r} already exists in {target.parent}; choose another name or overwrite it."
            ) from None
        raise


def save_run(run: Run, runs_dir: str | Path = "runs", overwrite: bool = False, owner: str | None = None) -> Path:
    """Write ``run`` to ``runs_dir/NAME/`` (NAME: ``run.name`` sanitised), exclusively and atomically; return it.
    ``owner``: the owner id of the workspace saving it, or None for a run no workspace owns.

    Without ``overwrite`` an existing run of that name is a FileExistsError, also when another save claims the name
    while this one writes. With ``overwrite`` the old run is moved aside, replaced, then deleted.
    """
    runs_dir = Path(runs_dir)
    name = check_run_name(runs_dir, run.name, overwrite)
    runs_dir.mkdir(parents=True, exist_ok=True)
    target, staging = runs_dir / name, staging_folder(runs_dir, name, "saving")
    staging.mkdir()
    try:
        _write_run(run, name, staging, owner)
        retired = None
        if overwrite and target.exists():
            retired = staging_folder(runs_dir, name, "replaced")
            os.rename(target, retired)
        _claim(staging, target)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def run_owner(folder: str | Path) -> str | None:
    """The owner id saved with the run in ``folder``; None when no workspace owns it."""
    try:
        return (Path(folder) / OWNER_FILE).read_text(encoding="ascii").strip() or None
    except (FileNotFoundError, UnicodeDecodeError):
        return None


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
            f"A run to delete is named by its folder in {runs_dir}, such as conv-digits-101500; got "
            f"{name!r}, which is not a plain folder name."
        )
    folder = runs_dir / name
    if folder.is_symlink():
        raise ValueError(f"{folder} is a link, not a run folder; only runs saved in {runs_dir} can be deleted.")
    if not (folder / "run.json").is_file():
        raise FileNotFoundError(
            f"There is no saved run named {name!r} in {runs_dir}; it may have been deleted already."
        )
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
        raise FileNotFoundError(f"The run {name!r} was deleted from {runs_dir} meanwhile.") from None
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
