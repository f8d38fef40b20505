"""The server's environment, read by one pydantic-settings parser: every AE_* variable refused with what to do when
malformed, taking effect when valid, and meaning unset when blank."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ae_core.data import DatasetUnavailableError, load_dataset
from ae_core.data.sources import resolve_data_dir
from ae_core.models.training_cost import check_training_cost
from ae_core.runs.names import default_runs_dir
from ae_core.settings import environment, limits
from ae_core.settings.limits import Limits
from ae_core.settings.model_config import ModelConfig
from ae_core.training.queue import max_concurrent_trainings

ROOT = Path(__file__).resolve().parents[1]
LIMIT_NAMES = list(Limits.model_fields)
NOT_WHOLE_NUMBERS_OF_AT_LEAST_1 = ["abc", "0", "-5", "2.5", "5.0", "1e6", "10 MB", "0x10"]


@pytest.fixture
def bare_environment(monkeypatch):
    """No AE_* variable set but those a test sets."""
    for name in list(Limits.model_fields) + list(environment.ServerEnvironment.model_fields):
        monkeypatch.delenv(environment.ENV_PREFIX + name.upper(), raising=False)
    return monkeypatch


def _readme_tables() -> tuple[dict, dict]:
    """(variable -> default) of the README's Limits table, and of every table."""
    readme = (ROOT / "README.md").read_text()
    limits_section = readme.split("\n## Limits\n")[1].split("\n## ")[0]
    row = re.compile(r"^\| `(AE_\w+)` \| ([^|]+?) \|", flags=re.MULTILINE)
    return dict(row.findall(limits_section)), dict(row.findall(readme))


def test_the_readme_lists_every_variable_and_its_limits_table_is_what_limits_describe(bare_environment):
    limits_table, every_table = _readme_tables()
    assert limits_table == Limits().describe()
    variables = [*Limits.model_fields, *environment.ServerEnvironment.model_fields]
    assert sorted(every_table) == sorted(environment.ENV_PREFIX + name.upper() for name in variables)
    assert Limits().describe()["AE_MAX_IMAGES"] == "100,000" and Limits().describe()["AE_MAX_FILE_BYTES"] == "1 GiB"


@pytest.mark.parametrize("name", LIMIT_NAMES)
def test_a_malformed_limit_is_refused_with_its_default_and_a_valid_one_takes_effect(bare_environment, name):
    variable, default = f"AE_{name.upper()}", Limits.model_fields[name].default
    in_words = Limits().describe()[variable]
    for bad in NOT_WHOLE_NUMBERS_OF_AT_LEAST_1:
        bare_environment.setenv(variable, bad)
        expected = f"{variable} must be a whole number of at least 1; got '{bad}'. Unset it to use the default, "
        with pytest.raises(ValueError, match=re.escape(expected + f"{in_words}.")):
            limits.current()
    bare_environment.setenv(variable, "1_234")
    assert getattr(limits.current(), name) == 1234
    bare_environment.setenv(variable, " 77 ")
    assert getattr(limits.current(), name) == 77
    bare_environment.setenv(variable, "  ")
    assert getattr(limits.current(), name) == default, "blank means unset"
    bare_environment.setenv(variable.lower(), "5")
    assert getattr(limits.current(), name) == default, "only the exact name counts"


def test_a_limit_is_read_at_each_use(bare_environment):
    config, image_shape = ModelConfig(preset="dense", latent_dim=8, hidden_units=(64,)), (8, 8, 1)
    check_training_cost(config, image_shape, 32)
    bare_environment.setenv("AE_MAX_MODEL_PARAMETERS", "1000")
    with pytest.raises(ValueError, match="the limit is 1,000 \\(AE_MAX_MODEL_PARAMETERS\\)"):
        check_training_cost(config, image_shape, 32)
    bare_environment.setenv("AE_MAX_MODEL_PARAMETERS", "many")
    with pytest.raises(ValueError, match="AE_MAX_MODEL_PARAMETERS must be a whole number of at least 1; got 'many'"):
        check_training_cost(config, image_shape, 32)


def test_limits_given_in_python_are_checked_too():
    assert Limits(max_images=10).max_images == 10
    with pytest.raises(ValueError, match="AE_MAX_IMAGES must be a whole number of at least 1; got 0"):
        Limits(max_images=0)


def test_the_cap_on_trainings_at_once(bare_environment):
    default = environment.default_max_concurrent()
    assert max_concurrent_trainings() == default >= 2
    for bad in ["two", "0", "1.5", "-1"]:
        bare_environment.setenv("AE_MAX_CONCURRENT_TRAININGS", bad)
        expected = (
            f"AE_MAX_CONCURRENT_TRAININGS must be a whole number of at least 1; got '{bad}'. Unset it to use the "
            f"default, {default} (half of this machine's cores, at least 2)."
        )
        with pytest.raises(ValueError, match=re.escape(expected)):
            max_concurrent_trainings()
    bare_environment.setenv("AE_MAX_CONCURRENT_TRAININGS", "1")
    assert max_concurrent_trainings() == 1
    bare_environment.setenv("AE_MAX_CONCURRENT_TRAININGS", "")
    assert max_concurrent_trainings() == default


def test_the_pause_timeout(bare_environment):
    assert environment.current().pause_timeout_s == 600
    for bad in ["abc", "0", "-1", "nan", "inf", "10 min"]:
        bare_environment.setenv("AE_PAUSE_TIMEOUT_S", bad)
        expected = f"AE_PAUSE_TIMEOUT_S must be a number of seconds above 0; got '{bad}'. Unset it to use the "
        with pytest.raises(ValueError, match=re.escape(expected + "default, 600 s.")):
            environment.current()
    for good, seconds in [("1.5", 1.5), ("1_800", 1800.0), (" 90 ", 90.0)]:
        bare_environment.setenv("AE_PAUSE_TIMEOUT_S", good)
        assert environment.current().pause_timeout_s == seconds


def test_the_runs_folder(bare_environment, tmp_path):
    assert default_runs_dir() == Path("runs")
    bare_environment.setenv("AE_RUNS_DIR", str(tmp_path / "shared runs"))
    assert default_runs_dir() == tmp_path / "shared runs"
    bare_environment.setenv("AE_RUNS_DIR", " ")
    assert default_runs_dir() == Path("runs")


def test_the_data_folder_is_where_builtin_datasets_are_found(bare_environment, shared_data_dir, tmp_path):
    bare_environment.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no MNIST in Keras' cache either
    assert resolve_data_dir() is None
    bare_environment.setenv("AE_DATA_DIR", "~/lab-data")
    assert resolve_data_dir() == Path.home() / "lab-data"
    assert resolve_data_dir(tmp_path) == tmp_path, "an explicit folder wins"
    bare_environment.setenv("AE_DATA_DIR", str(shared_data_dir))
    mnist = load_dataset("mnist", allow_download=False)
    assert mnist.n_train + mnist.n_val == 10_000
    bare_environment.setenv("AE_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailableError):
        load_dataset("mnist", allow_download=False)
    bare_environment.setenv("AE_DATA_DIR", "")
    assert resolve_data_dir() is None


def test_a_malformed_variable_is_refused_wherever_the_environment_is_read(bare_environment):
    bare_environment.setenv("AE_PAUSE_TIMEOUT_S", "soon")
    with pytest.raises(ValueError, match="AE_PAUSE_TIMEOUT_S must be a number of seconds above 0; got 'soon'"):
        default_runs_dir()


def test_settings_load_without_keras():
    imports = "import ae_core.settings.limits, ae_core.settings.environment, ae_core.settings.recommended, sys"
    check = "assert not {'keras', 'tensorflow'} & set(sys.modules), sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", f"{imports}; {check}"], cwd=ROOT, check=True, timeout=120)
