"""The server's environment, read in one way: each ``AE_*`` variable is a field of a pydantic-settings class.

- ``EnvironmentSettings``: the base every such class derives from. Field ``x`` is read from the variable ``AE_X``
  (that exact name), when the class is instantiated, so a changed variable, or a test's monkeypatch of one, holds
  at the next read. A blank value means unset. A malformed one is a ValueError in the lab's format
  (``ae_core.validation``): the variable, what it must be, the text found, and the default that unsetting it gives.
- ``ServerEnvironment``: the runs folder, the data folder, the cap on trainings at once, the pause timeout, the
  workspaces folder, their expiry, the admin token, whether to train example runs, where trainings run and what each
  asks of a Ray cluster, and a run's time budget and fair share of a slot; read it with ``current()``. The limits on
  files, images and models (``AE_MAX_*``) are ``ae_core.settings.limits``, on the same base.

The README lists every variable ("Running the app for a class" and "Limits").
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, SettingsConfigDict

from ae_core.validation import Expected, refusal

ENV_PREFIX = "AE_"
# A paused job holds its memory (its slot goes to others meanwhile); after this long nobody is likely to come back.
DEFAULT_PAUSE_TIMEOUT_S = 600.0


def _read_text(parse: Callable[[str], Any]) -> BeforeValidator:
    """A validator that parses a variable's text with ``parse``; blank text takes the field's default."""

    def read(value: Any) -> Any:
        if not isinstance(value, str):  # given in Python, not read from the environment
            return value
        if not value.strip():
            raise PydanticUseDefault()
        return parse(value)

    return BeforeValidator(read)


def _whole_number(text: str) -> int:
    # Underscores group digits (1_000_000), as in Python; "5.0" and "1e6" are refused, not rounded.
    return int(text.replace("_", ""))


def WholeNumber(low: int) -> Any:  # noqa: N802 - a type, named like one
    """A whole number of at least ``low``, written in digits with optional underscores."""
    return Annotated[int, _read_text(_whole_number), Field(ge=low), Expected(f"a whole number of at least {low:,}")]


Seconds = Annotated[
    float,
    _read_text(lambda text: float(text.replace("_", ""))),
    Field(gt=0, allow_inf_nan=False),
    Expected("a number of seconds above 0"),
]
SWITCH_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _switch(text: str) -> bool:
    if text.strip().lower() not in SWITCH_WORDS:
        raise ValueError("not a switch")
    return SWITCH_WORDS[text.strip().lower()]


Switch = Annotated[bool, _read_text(_switch), Expected("1 or 0 (true or false, yes or no)")]
# Ray counts CPUs and GPUs in fractions: 0.5 lets two trainings share one
RayCpus = Annotated[
    float,
    _read_text(lambda text: float(text.replace("_", ""))),
    Field(gt=0, allow_inf_nan=False),
    Expected("a number of CPUs above 0 (0.5 shares one between two trainings)"),
]
RayGpus = Annotated[
    float,
    _read_text(lambda text: float(text.replace("_", ""))),
    Field(ge=0, allow_inf_nan=False),
    Expected("a number of GPUs of at least 0 (0: none)"),
]
EXECUTORS = ("local", "ray")
Executor = Annotated[
    Literal[EXECUTORS],
    _read_text(lambda text: text.strip().lower()),
    Expected(f"one of {', '.join(EXECUTORS)}"),
]
Folder = Annotated[Path, _read_text(Path), Expected("a folder")]
FolderOrNone = Annotated[Path | None, _read_text(Path), Expected("a folder")]
# A secret to compare, never parsed; short ones are guessed
Secret = Annotated[
    Annotated[str, Field(min_length=16)] | None, _read_text(str), Expected("a text of at least 16 characters")
]
DEFAULT_WORKSPACE_EXPIRY_S = 86_400.0  # a day: a class's session, and the evening after it
# Sharing the compute. Ten minutes of training is four times what a default run on a built-in dataset needs; a turn
# of 30 s lets a waiting person's default digits run (about 10 s alone) start and finish within about a minute.
DEFAULT_RUN_TIME_BUDGET_S = 600.0
DEFAULT_FAIR_SHARE_S = 30.0


class EnvironmentSettings(BaseSettings):
    """Fields read from ``AE_<FIELD NAME IN CAPITALS>``; see the module's docstring. Subclasses may override
    ``default_in_words`` to say how the default of a field reads in a message."""

    model_config = SettingsConfigDict(
        alias_generator=lambda name: ENV_PREFIX + name.upper(),
        case_sensitive=True,
        validate_by_name=True,  # Python code may give a field by its name: Limits(max_images=10)
        extra="ignore",
        frozen=True,
    )

    def __init__(self, **values: Any):
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise ValueError(type(self)._refusal(error)) from None

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of field ``name``: "max_images" -> "AE_MAX_IMAGES"."""
        return ENV_PREFIX + name.upper()

    @classmethod
    def default_in_words(cls, name: str) -> str:
        return f"{cls.model_fields[name].get_default(call_default_factory=True)}"

    @classmethod
    def _refusal(cls, error: ValidationError) -> str:
        """The message for the first malformed variable of ``error``."""
        first = error.errors()[0]
        by_variable = {cls.variable(name): name for name in cls.model_fields}
        name = by_variable.get(first["loc"][0], first["loc"][0])
        expected = next(rule.words for rule in cls.model_fields[name].metadata if isinstance(rule, Expected))
        hint = f"Unset it to use the default, {cls.default_in_words(name)}."
        if name == "admin_token":  # a secret is never repeated: messages reach logs and pages
            return f"{cls.variable(name)} must be {expected}; the value set is not (not shown, as it is secret). {hint}"
        return refusal(cls.variable(name), expected, first["input"], hint)


def default_max_concurrent() -> int:
    """Half the machine's cores, at least two. TensorFlow spreads one training over about two cores (its matrix
    kernels use several threads), so more at once only slows each down; but even a 2-core machine runs two, so one
    long run never makes a second person wait to see their training start."""
    return max(2, (os.cpu_count() or 1) // 2)


class ServerEnvironment(EnvironmentSettings):
    """The server's settings other than its limits, each from its ``AE_*`` variable."""

    runs_dir: Folder = Path("runs")  # where the app and the command line's train save runs
    data_dir: FolderOrNone = None  # where MNIST and Fashion-MNIST are found; None: nowhere but Keras' cache
    max_concurrent_trainings: WholeNumber(1) = Field(default_factory=default_max_concurrent)
    pause_timeout_s: Seconds = DEFAULT_PAUSE_TIMEOUT_S  # seconds a paused training waits before it stops
    workspaces_dir: FolderOrNone = None  # each browser's runs and upload; None: "workspaces" beside the runs folder
    workspace_expiry_s: Seconds = DEFAULT_WORKSPACE_EXPIRY_S  # a workspace nobody opened this long is removed
    admin_token: Secret = None  # whoever gives it may delete any saved run; None: nobody may
    # A server whose runs folder holds no runs trains the lesson's textbook and convolutional runs at start
    example_runs: Switch = True
    # Where trainings run: worker processes on this machine, or the Ray cluster that Ray's own RAY_ADDRESS names
    executor: Executor = Field(default_factory=lambda: "ray" if os.environ.get("RAY_ADDRESS") else "local")
    # What one training asks of a Ray cluster; a GPU only where the cluster has one
    ray_cpus_per_training: RayCpus = 1.0
    ray_gpus_per_training: RayGpus = 0.0

    # Sharing the compute: how long one run may train, and how long it keeps its slot while others wait
    run_time_budget_s: Seconds = DEFAULT_RUN_TIME_BUDGET_S  # training time (pauses and waits excluded) of one run
    fair_share_s: Seconds = DEFAULT_FAIR_SHARE_S  # a turn: a training holding its slot this long yields to a waiter

    def workspaces_folder(self) -> Path:
        """Where workspaces are kept: AE_WORKSPACES_DIR, else ``workspaces`` beside the runs folder."""
        return self.workspaces_dir or self.runs_dir.parent / "workspaces"

    @classmethod
    def default_in_words(cls, name: str) -> str:
        if name == "max_concurrent_trainings":
            return f"{default_max_concurrent()} (half of this machine's cores, at least 2)"
        if name == "pause_timeout_s":
            return f"{DEFAULT_PAUSE_TIMEOUT_S:g} s"
        if name == "workspace_expiry_s":
            return f"{DEFAULT_WORKSPACE_EXPIRY_S:g} s (a day)"
        if name == "workspaces_dir":
            return "a folder named workspaces beside AE_RUNS_DIR"
        if name == "admin_token":
            return "none (nobody may delete others' runs)"
        if name == "run_time_budget_s":
            return f"{DEFAULT_RUN_TIME_BUDGET_S:g} s (10 minutes)"
        if name == "executor":
            return "ray when RAY_ADDRESS is set, else local"
        if name == "ray_cpus_per_training":
            return "1 CPU"
        if name == "ray_gpus_per_training":
            return "0 (no GPU)"
        if name == "fair_share_s":
            return f"{DEFAULT_FAIR_SHARE_S:g} s"
        return super().default_in_words(name)


def current() -> ServerEnvironment:
    """The server's environment now: each variable read afresh, a malformed one refused (ValueError)."""
    return ServerEnvironment()
