"""A runs folder without Keras: run names, listing saved runs from their ``run.json``, and clearing what killed
saves left behind. Loads fast, so a bad name or a listing costs no TensorFlow start-up.

A summary is checked before anything uses it: strict UTF-8, exactly the known keys, each of its type, configs that
rebuild. A folder that fails is named in ``RunListing.skipped`` with the reason, and never stops the listing.
"""

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ae_core.data import Split
from ae_core.settings import limits
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.units import human_size

NoneType = type(None)
SUMMARY_TYPES = {
    "id": str,
    "name": str,
    "created": str,
    "dataset": str,
    "split": (dict, NoneType),
    "excluded_class": (int, NoneType),
    "model_config": dict,
    "train_config": dict,
    "metrics": dict,
    "history": dict,
    "batch_losses": list,
    "epochs_completed": int,
    "samples_seen": int,
    "train_seconds": (int, float),
    "stopped": bool,
    "divergence": (dict, NoneType),
    "notes": list,
}
# Keys that runs saved before they existed lack: the value they get. A missing id is derived from the run's creation
# time and dataset, so it stays the same at every load.
OPTIONAL_KEYS = {"id": None, "split": None, "excluded_class": None}


@dataclass(frozen=True)
class RunListing:
    """The saved runs of a folder: ``runs`` holds their run.json summaries, newest first, each with "name" equal to
    its folder's name and "id"; ``skipped`` holds one message per malformed run folder, naming it and why."""

    runs: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_run_summary(folder: str | Path) -> dict:
    """The parsed ``run.json`` of ``folder``; FileNotFoundError when there is none, ValueError when it is too large,
    not UTF-8 or not JSON. Its content is checked by ``check_summary``."""
    summary_file = Path(folder) / "run.json"
    if not summary_file.is_file():
        raise FileNotFoundError(f"{folder} is not a saved run: expected a folder holding run.json and model.keras.")
    limit = limits.current().max_file_bytes
    if summary_file.stat().st_size > limit:
        raise ValueError(f"run.json is {human_size(summary_file.stat().st_size)}; the limit is {human_size(limit)}.")
    try:
        summary = json.loads(summary_file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"run.json is not valid UTF-8 text ({error.reason} at byte {error.start}).") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"run.json is not valid JSON ({error.msg} at line {error.lineno}).") from None
    except RecursionError:
        raise ValueError("run.json nests its values too deeply to be a saved run.") from None
    if not isinstance(summary, dict):
        raise ValueError(f"run.json must hold a JSON object; got {type(summary).__name__}.")
    return summary


def _check_text(value, where: str) -> None:
    """ValueError for any string in ``value`` that is not valid Unicode text (JSON escapes can hold lone surrogates)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"run.json's {where} is not valid UTF-8 text: {value!r}.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_text(item, where)


def _check_type(key: str, value) -> None:
    kinds = SUMMARY_TYPES[key] if isinstance(SUMMARY_TYPES[key], tuple) else (SUMMARY_TYPES[key],)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # JSON's true is no count
        names = " or ".join("null" if kind is NoneType else kind.__name__ for kind in kinds)
        raise ValueError(f"run.json's {key!r} must be {names}; got {type(value).__name__} {value!r:.60}.")


def check_summary(summary: dict) -> dict:
    """``summary`` with the keys older runs lack filled in; ValueError naming the first key that is missing,
    unexpected, of the wrong type, not valid text, or a config that does not rebuild."""
    summary = {**{key: value for key, value in OPTIONAL_KEYS.items() if key not in summary}, **summary}
    missing, extra = sorted(set(SUMMARY_TYPES) - set(summary)), sorted(set(summary) - set(SUMMARY_TYPES))
    if missing or extra:
        raise ValueError(f"run.json must hold exactly the keys of a saved run; missing {missing}, unexpected {extra}.")
    if summary["id"] is None:
        summary["id"] = uuid.uuid5(uuid.NAMESPACE_URL, f"{summary['created']}/{summary['dataset']}").hex
    for key, value in summary.items():
        _check_type(key, value)
        _check_text(value, key)
    try:
        ModelConfig.from_dict(summary["model_config"])
        TrainConfig(**summary["train_config"])
    except TypeError as error:
        raise ValueError(f"run.json's configs do not match this version of the lab: {error}.") from None
    if summary["split"] is not None:
        Split.from_dict(summary["split"])
    if summary["divergence"] is not None and set(summary["divergence"]) != {"epoch", "batch", "loss"}:
        raise ValueError(f"run.json's divergence must hold epoch, batch and loss; got {sorted(summary['divergence'])}.")
    if not all(isinstance(point, list) and len(point) == 2 for point in summary["batch_losses"]):
        raise ValueError("run.json's batch_losses must be [epoch, loss] pairs.")
    return summary


def _listed(folder: Path) -> dict:
    summary = check_summary(read_run_summary(folder))
    if not (folder / "model.keras").is_file():
        raise ValueError("model.keras is missing.")
    return {**summary, "name": folder.name}


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
