"""The one way to validate: each rule accepts what it says and refuses the rest, in one message format."""

import re
from dataclasses import dataclass

import numpy as np
import pytest

from ae_core.validation import Integer, Number, OneOf, Sizes, Text, check, check_fields, from_values, message


def refused(name, value, rule) -> str:
    with pytest.raises(ValueError) as error:
        check(name, value, rule)
    return str(error.value)


def test_integer_takes_python_and_numpy_ints_and_nothing_else():
    rule = Integer(2, 256)
    assert check("latent_dim", np.int64(8), rule) == 8 and type(check("latent_dim", np.int64(8), rule)) is int
    assert check("latent_dim", 256, rule) == 256
    for value in (True, 8.0, "8", None, 1, 257):
        assert refused("latent_dim", value, rule) == f"latent_dim must be an integer between 2 and 256; got {value!r}."
    assert refused("epochs", 0, Integer(1, 10_000)) == "epochs must be an integer between 1 and 10,000; got 0."
    assert check("n", 10**9, Integer(1)) == 10**9
    assert refused("n", 0, Integer(1)) == "n must be an integer of at least 1; got 0."


def test_number_takes_reals_but_no_bool_or_nan_and_its_bounds_as_written():
    assert check("beta", np.float32(0.5), Number(0, 100)) == 0.5
    assert check("beta", 0, Number(0, 100)) == 0.0
    for value in (True, float("nan"), "1", -0.1, 100.5):
        assert refused("beta", value, Number(0, 100)) == f"beta must be a number between 0 and 100; got {value!r}."
    assert check("learning_rate", 10, Number(0, 10, low_open=True)) == 10.0
    assert refused("learning_rate", 0.0, Number(0, 10, low_open=True)) == (
        "learning_rate must be a number in (0, 10]; got 0.0."
    )


def test_one_of_names_every_choice():
    rule = OneOf(("adam", "rmsprop", "sgd"))
    assert check("optimizer", "sgd", rule) == "sgd"
    for value in ("Adam", "", 1, None):
        assert refused("optimizer", value, rule) == f"optimizer must be one of adam, rmsprop, sgd; got {value!r}."


def test_sizes_take_a_list_as_a_tuple_and_check_each_size():
    rule = Sizes(2, 4096, 5)
    assert check("hidden_units", [256, np.int64(128)], rule) == (256, 128)
    expected = "hidden_units must be 1 to 5 layer sizes, each an integer between 2 and 4,096; got {}."
    for value in ((), (1,), (64, True), (8, 8, 8, 8, 8, 8), "64,32", (64.0,)):
        assert refused("hidden_units", value, rule) == expected.format(repr(value))


def test_text_and_long_values_are_cut_in_messages():
    assert check("name", "digits", Text(8)) == "digits"
    long_text = "x" * 200
    shown = refused("name", long_text, Text(8))
    assert shown.startswith("name must be text of at most 8 characters; got 'xxx") and shown.endswith("....")
    assert len(shown) < 150


def test_a_hint_says_what_to_do():
    text = message("AE_MAX_IMAGES", Integer(1), "abc", "Unset it to use the default, 100,000.")
    assert text == "AE_MAX_IMAGES must be an integer of at least 1; got 'abc'. Unset it to use the default, 100,000."
    with pytest.raises(ValueError, match=re.escape("got 3. Use 1 or 2.")):
        check("dims", 3, Integer(1, 2), "Use 1 or 2.")


@dataclass(frozen=True)
class Settings:
    size: Integer(1, 10)
    kind: OneOf(("a", "b")) = "a"
    layers: Sizes(1, 8, 3) = (4,)


def test_check_fields_names_the_first_field_that_does_not_fit():
    check_fields(Settings(size=3))
    with pytest.raises(ValueError, match=re.escape("kind must be one of a, b; got 'c'.")):
        check_fields(Settings(size=3, kind="c"))
    check_fields(Settings(size=30, kind="b"), names=("kind",))  # only the fields asked for
    with pytest.raises(ValueError, match="size must be an integer between 1 and 10; got 30."):
        check_fields(Settings(size=30, kind="b"))


def test_from_values_builds_checked_and_converted_or_says_which_field_is_wrong():
    assert from_values(Settings, {"size": np.int64(2), "layers": [1, 2]}, "run.json") == Settings(2, "a", (1, 2))
    refusals = [
        ([1, 2], "run.json must be a JSON object; got list."),
        ({"size": 2, "colour": "red"}, "run.json has unknown settings ['colour']; expected only"),
        ({"kind": "a"}, "run.json has no size; it must be an integer between 1 and 10."),
        ({"size": 2, "layers": [9]}, "run.json: layers must be 1 to 3 layer sizes, each an integer between 1 and 8"),
    ]
    for values, expected in refusals:
        with pytest.raises(ValueError, match=re.escape(expected)):
            from_values(Settings, values, "run.json")
