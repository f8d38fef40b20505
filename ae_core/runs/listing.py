"""A runs folder without Keras: listing saved runs from their ``run.json``. Loads fast, so a listing costs no
TensorFlow start-up.

Each summary is checked before anything uses it (``ae_core.runs.summary``). A folder that fails, and a link (never
followed), is named in ``RunListing.skipped`` with the reason, and never stops the listing. A listing holds only the
small part of each summary (no history), and each run.json is read once per process: a summary is kept while its
file's inode, size and times stay the same, so listing a folder again costs a ``stat`` per run.
"""

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ae_core.runs.run_files import check_run_file, link_refusal, run_owner
from ae_core.runs.summary import check_summary, read_run_summary

NOT_LISTED = ("history", "batch_losses")  # the large part of a summary; load_run reads it


@dataclass(frozen=True)
class RunListing:
    """The saved runs of a folder: ``runs`` holds their run.json summaries without history and batch losses,
    newest first, each with "name" equal to its folder's name, "id", and "owner" (the owner id of the workspace
    that saved it, or None); ``skipped`` holds one message per malformed run folder or link, naming it and why."""

    runs: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# (runs folder, run name) -> (run.json's stat key, its listed summary or the message why it was skipped). Folders
# that go (a workspace's, once it expires) leave theirs behind, so past MAX_KNOWN runs all are forgotten at once.
_KNOWN: dict[tuple[str, str], tuple[tuple, dict | str]] = {}
MAX_KNOWN = 20_000  # about 2 KB each
_KNOWN_LOCK = threading.Lock()


def _listed(folder: Path) -> dict:
    summary = check_summary(read_run_summary(folder))
    check_run_file(folder, "model.keras")
    listed = {key: value for key, value in summary.items() if key not in NOT_LISTED}
    return {**listed, "name": folder.name, "owner": run_owner(folder)}


def _stat_key(folder: Path) -> tuple | None:
    """What changes when run.json is replaced or rewritten; None when it is missing. A saved run's files are
    written once, in its staging folder, so a new run.json is a new run."""
    try:
        status = os.lstat(folder / "run.json")
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _listed_or_reason(folder: Path) -> dict | str:
    """The listed summary of ``folder``, or the reason it is skipped; read again only when run.json has changed."""
    key, known = _stat_key(folder), (os.path.abspath(folder.parent), folder.name)
    with _KNOWN_LOCK:
        cached = _KNOWN.get(known)
    if key is not None and cached is not None and cached[0] == key:
        return cached[1]
    try:
        outcome: dict | str = _listed(folder)
    except (ValueError, OSError) as error:
        outcome = str(error)
    with _KNOWN_LOCK:
        if len(_KNOWN) >= MAX_KNOWN:
            _KNOWN.clear()
        _KNOWN[known] = (key, outcome)
    return outcome


def list_runs(runs_dir: str | Path = "runs") -> RunListing:
    """The saved runs in ``runs_dir``, newest first, and a message for each folder that is not a readable run and
    each link. Staging folders of saves (names starting with ".") are never listed."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return RunListing()
    listing = RunListing()
    with os.scandir(runs_dir) as scanned:
        entries = sorted((entry for entry in scanned if not entry.name.startswith(".")), key=lambda e: e.name)
    for entry in entries:
        if entry.is_symlink():
            listing.skipped.append(f"{entry.name}: {link_refusal(entry.name)}")
        elif entry.is_dir(follow_symlinks=False):
            outcome = _listed_or_reason(runs_dir / entry.name)
            if isinstance(outcome, str):
                listing.skipped.append(f"{entry.name}: {outcome}")
            else:
                listing.runs.append(dict(outcome))  # a copy: the kept one serves the next listing
    _forget_gone(runs_dir, {entry.name for entry in entries})
    listing.runs.sort(key=lambda summary: summary["created"], reverse=True)
    return listing


def _forget_gone(runs_dir: Path, names: set[str]) -> None:
    """Drop what is kept about runs no longer in ``runs_dir``, so the memory kept follows the runs there."""
    folder = os.path.abspath(runs_dir)
    with _KNOWN_LOCK:
        for known in [known for known in _KNOWN if known[0] == folder and known[1] not in names]:
            del _KNOWN[known]
