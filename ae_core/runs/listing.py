"""A runs folder without Keras: listing saved runs from their ``run.json``. Loads fast, so a listing costs no
TensorFlow start-up.

Each summary is checked before anything uses it (``ae_core.runs.summary``). A folder that fails is named in
``RunListing.skipped`` with the reason, and never stops the listing.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ae_core.runs.saving import run_owner
from ae_core.runs.summary import check_summary, read_run_summary


@dataclass(frozen=True)
class RunListing:
    """The saved runs of a folder: ``runs`` holds their run.json summaries, newest first, each with "name" equal to
    its folder's name, "id", and "owner" (the owner id of the workspace that saved it, or None); ``skipped`` holds
    one message per malformed run folder, naming it and why."""

    runs: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _listed(folder: Path) -> dict:
    summary = check_summary(read_run_summary(folder))
    if not (folder / "model.keras").is_file():
        raise ValueError("model.keras is missing.")
    return {**summary, "name": folder.name, "owner": run_owner(folder)}


def list_runs(runs_dir: str | Path = "runs") -> RunListing:
    """The saved runs in ``runs_dir``, newest first, and a message for each folder that is not a readable run.
    Staging folders of saves (names starting with ".") are never listed."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return RunListing()
    listing = RunListing()
    for folder in sorted(runs_dir.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            listing.runs.append(_listed(folder))
        except (ValueError, OSError) as error:
            listing.skipped.append(f"{folder.name}: {error}")
    listing.runs.sort(key=lambda summary: summary["created"], reverse=True)
    return listing
