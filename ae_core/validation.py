"""One way to check what a person, the server's environment or a file hands the lab: pydantic types, and every
refusal in one format, "NAME must be EXPECTED; got VALUE." with what to do where that helps.

A rule is a type (``Integer(2, 256)``, ``Number(0, 10, low_open=True)``, ``OneOf(PRESETS)``, ...) that carries the
words of what it expects. Check one value with ``check(name, value, rule)``; annotate a dataclass's fields with
rules and check a whole instance with ``check_fields`` or build one from a dict with ``from_values``. Ranges live in
the rule, messages here.
"""

from __future__ import annotations

import dataclasses
import numbers
import typing
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a rule expects, in words: the part of a message after "must be"."""

    words: str


def _whole_number(value: Any) -> Any:
    # numpy integers count as whole numbers; bools and floats do not, although Python treats True as 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError("not a whole number")
    return int(value)


def _real_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:  # NaN is unequal to itself
        raise ValueError("not a number")
    return float(value)


# Rules are cached: equal arguments give the same type, so its TypeAdapter (_adapter) is built once, not per check.
@cache
def Integer(low: int, high: int | None = None) -> Any:  # noqa: N802 - a type, named like one
    """An int (numpy ints too, never a bool) between ``low`` and ``high``, both included; no upper bound when
    ``high`` is None."""
    if high is None:
        return Annotated[
            int, BeforeValidator(_whole_number), Field(ge=low), Expected(f"an integer of at least {low:,}")
        ]
    words = f"an integer between {low:,} and {high:,}"
    return Annotated[int, BeforeValidator(_whole_number), Field(ge=low, le=high), Expected(words)]


@cache
def Number(low: float, high: float, *, low_open: bool = False) -> Any:  # noqa: N802
    """A real number (ints and numpy numbers too, never a bool or NaN) in [low, high], or (low, high]."""
    lower = Field(gt=low) if low_open else Field(ge=low)
    words = f"a number in ({low:g}, {high:g}]" if low_open else f"a number between {low:g} and {high:g}"
    return Annotated[float, BeforeValidator(_real_number), lower, Field(le=high), Expected(words)]


@cache
def OneOf(choices: tuple[str, ...]) -> Any:  # noqa: N802
    """One of the strings ``choices``."""
    return Annotated[Literal[tuple(choices)], Expected(f"one of {', '.join(choices)}")]


@cache
def Sizes(low: int, high: int, most: int) -> Any:  # noqa: N802
    """1 to ``most`` layer sizes, each an integer between ``low`` and ``high``; a list is taken as a tuple."""
    return Annotated[
        tuple[Integer(low, high), ...],
        Field(min_length=1, max_length=most),
        Expected(f"1 to {most} layer sizes, each an integer between {low:,} and {high:,}"),
    ]


@cache
def Text(most: int) -> Any:  # noqa: N802
    """A string of at most ``most`` characters."""
    return Annotated[str, Field(max_length=most), Expected(f"text of at most {most:,} characters")]


def expected_words(rule: Any) -> str:
    """The words of what ``rule`` expects ("an integer between 2 and 256")."""
    for metadata in typing.get_args(rule)[1:]:
        if isinstance(metadata, Expected):
            return metadata.words
    return f"of type {getattr(rule, '__name__', rule)}"


def refusal(name: str, expected: str, value: Any, hint: str = "") -> str:
    """The lab's refusal: "NAME must be EXPECTED; got VALUE." and the hint, what to do. Long values are cut."""
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{name} must be {expected}; got {shown}." + (f" {hint}" if hint else "")


def message(name: str, rule: Any, value: Any, hint: str = "") -> str:
    """The lab's refusal of ``value`` for ``rule``: "NAME must be EXPECTED; got VALUE." and the hint."""
    return refusal(name, expected_words(rule), value, hint)


@cache
def _adapter(rule: Any) -> TypeAdapter:
    return TypeAdapter(rule)


def check(name: str, value: Any, rule: Any, hint: str = "") -> Any:
    """``value`` checked against ``rule`` and converted (a numpy int to int, a list of sizes to a tuple);
    ValueError in the lab's format, naming ``name``, when it does not fit."""
    try:
        return _adapter(rule).validate_python(value)
    except ValidationError:
        raise ValueError(message(name, rule, value, hint)) from None


def _field_rules(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def check_fields(instance: Any, names: tuple[str, ...] | None = None) -> None:
    """Check each field of a dataclass ``instance`` (only ``names`` when given) against the rule it is annotated
    with; ValueError naming the first field that does not fit."""
    rules = _field_rules(type(instance))
    for field in dataclasses.fields(instance):
        if names is None or field.name in names:
            check(field.name, getattr(instance, field.name), rules[field.name])


def from_values(cls: type, values: dict, where: str) -> Any:
    """An instance of dataclass ``cls`` from ``values`` (as read from a file), each field checked and converted;
    ValueError naming ``where``, the field and what it expects, for an unknown, missing or unfitting field."""
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a JSON object; got {type(values).__name__}.")
    rules = _field_rules(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{where} has unknown settings {unknown}; expected only {sorted(fields)}.")
    checked = {}
    for name, field in fields.items():
        if name in values:
            checked[name] = check(f"{where}: {name}", values[name], rules[name])
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where} has no {name}; it must be {expected_words(rules[name])}.")
    return cls(**checked)
