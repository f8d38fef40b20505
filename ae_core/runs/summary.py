"""A saved run's ``run.json``, read back and checked by declared rules before anything believes it.

``RunSummary`` declares every key a run.json holds and the rule its value must meet; ``check_summary`` builds one
with ``validation.from_values``, then rebuilds the configs and the split by their own declared rules. A malformed
run.json is one ValueError in the lab's format, naming the key, what it must be and what was found.
"""

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, with_config
from typing_extensions import NotRequired, TypedDict

from ae_core.data import Split
from ae_core.data.normalise import MAX_CLASSES
from ae_core.runs.run_files import read_run_file
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.validation import Expected, Integer, expected_words, from_values

WHERE = "run.json"


# Rules validation.py has no word for, declared the way it declares its own (a pydantic type and its Expected words).
def _valid_text(text: str) -> str:
    text.encode("utf-8")  # a JSON escape can hold a lone surrogate, which no page or file could show or write
    return text


def UnicodeText(most: int) -> Any:  # noqa: N802 - a type, named like one
    """A string of at most ``most`` characters that is valid Unicode (no lone surrogates)."""
    words = f"valid UTF-8 text of at most {most:,} characters"
    return Annotated[StrictStr, Field(max_length=most), AfterValidator(_valid_text), Expected(words)]


def Nullable(rule: Any) -> Any:  # noqa: N802
    """``rule`` or null."""
    return Annotated[rule | None, Expected(f"null or {expected_words(rule)}")]


NUMBER = StrictInt | StrictFloat  # a diverged loss is saved as NaN or Infinity, which JSON reads back as floats
NAME = UnicodeText(200)
JSON_OBJECT = Annotated[dict, Expected("a JSON object")]


@with_config(ConfigDict(extra="forbid"))
class _Divergence(TypedDict):
    epoch: StrictInt
    batch: StrictInt
    loss: NUMBER
    # Missing from runs saved before they were recorded.
    cause: NotRequired[UnicodeText(2000) | None]
    learning_rate: NotRequired[NUMBER | None]
    optimizer: NotRequired[UnicodeText(32) | None]


DIVERGENCE = Annotated[_Divergence, Expected("an object of epoch, batch and loss")]


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What run.json holds; ``ae_core.runs.saving`` writes it from a Run. The last three keys are missing from runs
    saved before they existed, and get their defaults."""

    name: NAME  # the folder's name wins over it, so a copied run is named by where it is
    created: UnicodeText(64)  # ISO 8601, UTC
    dataset: UnicodeText(4096)  # a built-in dataset's name or a path
    model_config: JSON_OBJECT  # ModelConfig.to_dict(); checked by ModelConfig.from_dict
    train_config: JSON_OBJECT  # TrainConfig.to_dict(); checked by TrainConfig.from_dict
    metrics: Annotated[dict[NAME, NUMBER], Expected("an object of metric names to numbers")]
    history: Annotated[
        dict[NAME, list[NUMBER]], Expected("an object of metric names to lists of numbers, one per epoch")
    ]
    batch_losses: Annotated[
        list[Annotated[list[NUMBER], Field(min_length=2, max_length=2)]], Expected("a list of [epoch, loss] pairs")
    ]
    epochs_completed: Integer(0)
    samples_seen: Integer(0)
    train_seconds: Annotated[StrictFloat, Field(ge=0), Expected("a number of seconds >= 0")]
    stopped: Annotated[StrictBool, Expected("true or false")]
    notes: Annotated[list[UnicodeText(10_000)], Expected("a list of texts")]
    divergence: Nullable(DIVERGENCE)
    # A missing id is derived from the run's creation time and dataset (check_summary), so it is the same at every
    # load.
    id: Nullable(UnicodeText(64)) = None
    split: Nullable(JSON_OBJECT) = None  # Split.to_dict(), with the images' content_hash; checked by Split.from_dict
    excluded_class: Nullable(Integer(0, MAX_CLASSES - 1)) = None


def read_run_summary(folder: str | Path) -> dict:
    """The parsed ``run.json`` of ``folder``; FileNotFoundError when there is none, ValueError when the folder or
    the file is a link, or the file is over AE_MAX_RUN_JSON_BYTES (refused from its size, unread), not UTF-8 or not
    JSON. Its content is checked by ``check_summary``."""
    folder = Path(folder)
    try:
        text = read_run_file(folder, "run.json", "max_run_json_bytes")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{folder.name} is not a saved run: expected a folder holding run.json and model.keras."
        ) from None
    try:
        return json.loads(text.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"run.json is not valid UTF-8 text ({error.reason} at byte {error.start}).") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"run.json is not valid JSON ({error.msg} at line {error.lineno}).") from None
    except RecursionError:
        raise ValueError("run.json nests its values too deeply to be a saved run.") from None


def check_summary(values: dict) -> dict:
    """``values`` (a parsed run.json) checked against ``RunSummary``'s rules, with the keys older runs lack filled
    in; ValueError naming the first key that is missing, unknown or does not meet its rule, and the first field of
    a config or the split that does not."""
    summary = from_values(RunSummary, values, WHERE)
    ModelConfig.from_dict(summary.model_config, where=f"{WHERE}: model_config")
    TrainConfig.from_dict(summary.train_config, where=f"{WHERE}: train_config")
    if summary.split is not None:
        Split.from_dict(summary.split, where=f"{WHERE}: split")
    if summary.id is None:
        derived = uuid.uuid5(uuid.NAMESPACE_URL, f"{summary.created}/{summary.dataset}").hex
        summary = dataclasses.replace(summary, id=derived)
    return dataclasses.asdict(summary)
