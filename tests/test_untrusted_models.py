"""A run folder from someone else is untrusted: its model.keras may hold a Lambda layer (Python code), a class the
lab never registered, a class or function of another installed package, or weights far larger than the model.
Loading refuses each with one clear ValueError and runs none of it: every hostile model here writes a marker file if
any of its code runs, and the tests first show that it does when Keras is allowed to run it, then that the marker is
absent after the lab refused it. The model itself is built from run.json's settings, checked against the limits
first. Files that are not hostile (damaged, over the limits, weights of another model) are not called so.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ae_core.models.architectures import build_autoencoder, reconstruct
from ae_core.models.keras_backend import keras
from ae_core.runs import model_file
from ae_core.runs.listing import list_runs
from ae_core.runs.loading import load_run
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig

REFUSED = (
    r"model\.keras was refused: .*Loading it could run code, so the lab never does: a model file may hold only "
    r"Keras layers and the lab's own models\. Train the run again, or remove its folder\.$"
)
TRUSTED_SETTINGS = ModelConfig(latent_dim=2, hidden_units=(16,))


class MarkerLayer(keras.layers.Layer):
    """A custom layer the lab does not register: building one writes the marker file."""

    def __init__(self, marker: str, **kwargs):
        super().__init__(**kwargs)
        self.marker = marker
        Path(marker).write_text("MarkerLayer was built")

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "marker": self.marker}


@pytest.fixture(scope="module")
def saved_run(digits, tmp_path_factory) -> Path:
    run = train_run(
        digits.x_train[:256],
        digits.x_val[:64],
        "digits",
        TRUSTED_SETTINGS,
        TrainConfig(epochs=1, batch_size=64),
        name="trusted",
    )
    return save_run(run, tmp_path_factory.mktemp("runs"))


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "code-ran"


def _planted(saved_run: Path, runs_dir: Path, name: str) -> Path:
    """A copy of the saved run (valid run.json and preview.npz) under runs_dir/name, its model to be replaced."""
    folder = runs_dir / name
    shutil.copytree(saved_run, folder)
    return folder


def _refused_without_running(folder: Path, marker: Path, found: str) -> None:
    with pytest.raises(ValueError, match=REFUSED) as refusal:
        load_run(folder)
    assert found in str(refusal.value) and "Traceback" not in str(refusal.value)
    assert "safe_mode=False" not in str(refusal.value)  # never advise turning the protection off
    assert not marker.exists(), "loading the refused model ran its code"


def test_lambda_layer_is_refused_and_runs_no_code(saved_run, tmp_path, marker):
    folder = _planted(saved_run, tmp_path / "runs", "lambda")
    inputs = keras.Input((8, 8, 1))
    # The path is a constant of the lambda's code, which Keras saves (marshal); default arguments would not reload.
    writes_marker = keras.layers.Lambda(eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"))
    keras.Model(inputs, writes_marker(inputs)).save(folder / "model.keras")
    marker.unlink()  # building the model above ran the lambda once
    keras.saving.load_model(folder / "model.keras", safe_mode=False)
    assert marker.exists(), "the Lambda does write the marker when Keras is allowed to run it"
    marker.unlink()
    _refused_without_running(folder, marker, "holds a `Lambda` layer (Python code)")


def test_unregistered_custom_layer_is_refused_and_never_built(saved_run, tmp_path, marker):
    folder = _planted(saved_run, tmp_path / "runs", "custom")
    inputs = keras.Input((8, 8, 1))
    keras.Model(inputs, MarkerLayer(str(marker))(inputs)).save(folder / "model.keras")
    marker.unlink()
    keras.saving.load_model(folder / "model.keras", custom_objects={"MarkerLayer": MarkerLayer})
    assert marker.exists(), "the layer does write the marker when Keras can find its class"
    marker.unlink()
    _refused_without_running(folder, marker, "names class 'MarkerLayer' of module")


def _with_member(saved_run: Path, folder: Path, name: str, content: bytes) -> None:
    """folder/model.keras: the saved run's model with its member ``name`` replaced by ``content``."""
    with (
        zipfile.ZipFile(saved_run / "model.keras") as original,
        zipfile.ZipFile(folder / "model.keras", "w") as hostile,
    ):
        for member in original.infolist():
            hostile.writestr(member, content if member.filename == name else original.read(member.filename))


def _with_config(saved_run: Path, folder: Path, edit) -> None:
    """folder/model.keras: the saved run's model with config.json replaced by edit(config)."""
    with zipfile.ZipFile(saved_run / "model.keras") as original:
        config = json.loads(original.read("config.json"))
    _with_member(saved_run, folder, "config.json", json.dumps(edit(config)).encode())


# A package installed beside the lab, whose classes and functions Keras finds by their registered names: each
# writes the marker file named by $AE_MARKER when any of its code runs.
HOSTILE_PACKAGE = """
import os
from pathlib import Path

import keras


def _mark(what):
    Path(os.environ["AE_MARKER"]).write_text(what)


@keras.saving.register_keras_serializable(package="hostile")
class MarkerLayer(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        _mark("MarkerLayer was built")

    def call(self, inputs):
        return inputs


@keras.saving.register_keras_serializable(package="hostile")
def marker_activation(x):
    _mark("marker_activation ran")
    return x
"""
# How Keras 3 writes them in a config.json: a class by module and registered name, a function by its registered
# name (its module is then "builtins").
HOSTILE_LAYER = {
    "module": "hostile_pieces",
    "class_name": "MarkerLayer",
    "config": {"name": "encoder", "trainable": True},
    "registered_name": "hostile>MarkerLayer",
}
HOSTILE_ACTIVATION = {
    "module": "builtins",
    "class_name": "function",
    "config": "hostile>marker_activation",
    "registered_name": "function",
}
# Plain Keras loading a model file with safe_mode=False and using it, where the hostile package is installed.
PLAIN_KERAS_LOAD = """
import sys

import keras
import numpy as np

sys.path.insert(0, sys.argv[1])
import hostile_pieces  # noqa: E402,F401 - registers its classes and functions, as an installed package would

try:
    model = keras.saving.load_model(sys.argv[2], safe_mode=False)
    model(np.zeros((1, *model.inputs[0].shape[1:]), "float32"))  # a model is loaded to be used
except Exception as error:  # the hostile piece has run by then, or never will
    print(type(error).__name__, str(error)[:300])
"""


def _as_model(config: dict) -> dict:
    return HOSTILE_LAYER


def _as_layer(config: dict) -> dict:
    config["config"]["layers"][1] = {
        **HOSTILE_LAYER,
        "name": "encoder",
        "inbound_nodes": config["config"]["layers"][1]["inbound_nodes"],
    }
    return config


def _as_activation(config: dict) -> dict:
    encoder = config["config"]["layers"][1]["config"]
    dense = next(layer for layer in encoder["layers"] if layer["class_name"] == "Dense")
    dense["config"]["activation"] = HOSTILE_ACTIVATION
    return config


PIECES = {
    _as_model: "names class 'MarkerLayer' of module 'hostile_pieces'",
    _as_layer: "names class 'MarkerLayer' of module 'hostile_pieces'",
    _as_activation: "names function 'hostile>marker_activation' of module 'builtins'",
}


@pytest.fixture(scope="module")
def hostile_runs(saved_run, tmp_path_factory) -> dict:
    """One run folder per hostile piece (a valid run.json and preview.npz, its model.keras's config edited) and,
    for each, whether plain Keras ran the piece when loading the file with safe_mode=False, in a subprocess where the
    hostile package is installed. Then the package is installed (imported, its names registered) in this process
    too, so that the lab's refusal is tested where Keras could find every piece."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "hostile_pieces.py").write_text(HOSTILE_PACKAGE)
    runs, ran = {}, {}
    for edit in PIECES:
        folder = _planted(saved_run, root / "runs", edit.__name__)
        _with_config(saved_run, folder, edit)
        marker = root / f"{edit.__name__}-ran"
        load = [sys.executable, "-c", PLAIN_KERAS_LOAD, str(root), str(folder / "model.keras")]
        subprocess.run(load, env={**os.environ, "AE_MARKER": str(marker)}, capture_output=True, timeout=300)
        runs[edit], ran[edit] = folder, marker.exists()
    sys.path.insert(0, str(root))
    try:
        importlib.import_module("hostile_pieces")
    finally:
        sys.path.remove(str(root))
    return {"runs": runs, "ran": ran}


@pytest.mark.parametrize("edit", list(PIECES), ids=lambda edit: edit.__name__)
def test_a_class_or_function_of_another_package_runs_in_keras_and_is_refused_here(
    hostile_runs, marker, monkeypatch, edit
):
    assert hostile_runs["ran"][edit], "the piece does run when plain Keras loads the file with its package installed"
    monkeypatch.setenv("AE_MARKER", str(marker))  # where the piece would write, were any of its code run here
    _refused_without_running(hostile_runs["runs"][edit], marker, PIECES[edit])


def test_a_config_of_huge_plain_layers_builds_nothing_the_model_comes_from_run_json(saved_run, tmp_path, digits):
    """Keras's load_model would build a Dense layer of 50 million units (13 GB of weights) before anything could
    check it; the lab builds the model run.json describes, so the file's config costs nothing."""
    folder = _planted(saved_run, tmp_path / "runs", "huge-config")

    def huge_dense(config):
        encoder = config["config"]["layers"][1]["config"]
        next(layer for layer in encoder["layers"] if layer["class_name"] == "Dense")["config"]["units"] = 50_000_000
        return config

    _with_config(saved_run, folder, huge_dense)
    loaded, original = load_run(folder), load_run(saved_run)
    assert loaded.model.count_params() == original.model.count_params() < 10_000
    images = digits.x_val[:8]
    np.testing.assert_allclose(reconstruct(loaded.model, images), reconstruct(original.model, images), rtol=1e-6)


def test_a_run_json_describing_a_model_over_the_limit_is_refused_before_building(saved_run, tmp_path):
    folder = _planted(saved_run, tmp_path / "runs", "huge-settings")
    summary = json.loads((folder / "run.json").read_text())
    summary["model_config"]["hidden_units"] = [4096] * 4  # 100 million parameters: 400 MB before training
    (folder / "run.json").write_text(json.dumps(summary))
    with pytest.raises(
        ValueError,
        match=r"^huge-settings/run\.json describes a model the lab does not build: this model would have "
        r"[\d,]+ parameters; the limit is [\d,]+ \(AE_MAX_MODEL_PARAMETERS\)\. Use fewer or smaller layers",
    ) as refusal:
        load_run(folder)
    assert "could run code" not in str(refusal.value)


def _weights_file(path: Path, **dataset) -> bytes:
    with h5py.File(path, "w") as weights:
        weights.create_dataset("layers/dense/vars/0", **dataset)
    return path.read_bytes()


def test_weights_claiming_more_than_the_model_holds_are_refused_from_their_headers(saved_run, tmp_path):
    """A 4 GB array of which no chunk is written takes a few KB on disk; reading it would allocate all of it."""
    folder = _planted(saved_run, tmp_path / "runs", "huge-weights")
    content = _weights_file(tmp_path / "huge.h5", shape=(10**9,), dtype="float32", chunks=(2**20,), compression="gzip")
    assert len(content) < 100_000
    _with_member(saved_run, folder, "model.weights.h5", content)
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError, match=r"holds 4,000,000,000 bytes of arrays, more than the [\d,]+ such a model"
        ) as refusal:
            load_run(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    assert "could run code" not in str(refusal.value)


def test_weights_pointing_at_other_files_are_refused(saved_run, tmp_path):
    folder = _planted(saved_run, tmp_path / "runs", "external")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(16, dtype=np.float32).tobytes())
    content = _weights_file(tmp_path / "external.h5", shape=(16,), dtype="float32", external=[(str(secret), 0, 64)])
    _with_member(saved_run, folder, "model.weights.h5", content)
    with pytest.raises(
        ValueError,
        match=r"external/model\.keras was refused: its model\.weights\.h5 points at data in "
        r"other files",
    ):
        load_run(folder)


def _without_weights(saved_run: Path, folder: Path) -> None:
    with (
        zipfile.ZipFile(saved_run / "model.keras") as original,
        zipfile.ZipFile(folder / "model.keras", "w") as damaged,
    ):
        damaged.writestr("config.json", original.read("config.json"))


@pytest.mark.parametrize(
    "damage, found",
    [
        (
            lambda saved_run, folder: (folder / "model.keras").write_bytes(b"PK\x03\x04 not really a zip"),
            "File is not a zip file",
        ),
        (_without_weights, "it holds no model.weights.h5"),
    ],
)
def test_a_damaged_model_file_is_called_damaged_not_hostile(saved_run, tmp_path, damage, found):
    folder = _planted(saved_run, tmp_path / "runs", "damaged")
    damage(saved_run, folder)
    with pytest.raises(ValueError) as refusal:
        load_run(folder)
    assert str(refusal.value) == (
        f"damaged/model.keras is damaged or is not a model file the lab saved: {found}. Train the run again, or "
        "remove its folder."
    )


def test_weights_of_another_model_are_called_a_mismatch_with_keras_whole_message(saved_run, tmp_path):
    """The file is a lab model, but of other settings than its run.json's: Keras's whole message says which layers
    could not take their weights; its object reprs and the values of the variables are left out."""
    folder = _planted(saved_run, tmp_path / "runs", "mismatch")
    build_autoencoder(ModelConfig(latent_dim=2, hidden_units=(32,)), (8, 8, 1)).save(folder / "model.keras")
    with pytest.raises(ValueError) as refusal:
        load_run(folder)
    message = str(refusal.value)
    assert message.startswith(
        "mismatch/model.keras holds weights that do not fit the model its run.json describes: A total of "
    )
    assert message.endswith(
        "Expected the model the lab saved for those settings. Train the run again, or remove its folder."
    )
    assert "List of objects that could not be loaded" in message, "Keras's message is whole, not cut at its first '. '"
    assert "variable.shape=(64, 16), Received: value.shape=(64, 32)" in message
    assert "could run code" not in message and "<" not in message and "value=[[" not in message


def test_an_error_in_the_labs_own_builder_is_raised_as_it_is(saved_run, monkeypatch):
    """A bug in the lab is not the file's fault: it is not reported as a refused file."""

    def broken_builder(*args, **kwargs):
        raise TypeError("a bug in the builder. Its whole message is kept.")

    monkeypatch.setattr(model_file, "build_autoencoder", broken_builder)
    with pytest.raises(TypeError, match=r"^a bug in the builder\. Its whole message is kept\.$"):
        load_run(saved_run)


class OpensMarker:
    """Unpickling this calls open(marker, "w"): pickle runs whatever callable an object names."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_pickled_preview_is_refused_and_never_unpickled(saved_run, tmp_path, marker):
    folder = _planted(saved_run, tmp_path / "runs", "pickled")
    with np.load(saved_run / "preview.npz") as preview:
        arrays = {key: preview[key] for key in preview.files}
    np.savez(folder / "preview.npz", **{**arrays, "codes": np.array([OpensMarker(marker)], dtype=object)})
    with np.load(folder / "preview.npz", allow_pickle=True) as preview:
        preview["codes"]
    assert marker.exists(), "the array does open the marker when numpy may unpickle it"
    marker.unlink()
    with pytest.raises(ValueError, match=r"pickled/preview\.npz: codes is an object array, which needs pickle"):
        load_run(folder)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, found",
    [
        (b"PK\x03\x04 damaged", "is not a readable zip archive"),
        (None, "lacks the arrays ['codes', 'images', 'timeline']"),
    ],
)
def test_damaged_preview_is_refused_clearly(saved_run, tmp_path, content, found):
    folder = _planted(saved_run, tmp_path / "runs", "damaged")
    if content is None:
        np.savez(folder / "preview.npz", other=np.zeros(3))
    else:
        (folder / "preview.npz").write_bytes(content)
    with pytest.raises(ValueError, match="Train the run again, or remove its folder") as refusal:
        load_run(folder)
    assert found in str(refusal.value) and "allow_pickle" not in str(refusal.value)


def test_listing_hostile_runs_runs_nothing_and_a_trusted_run_still_loads(saved_run, tmp_path, marker, digits):
    runs_dir = tmp_path / "runs"
    inputs = keras.Input((8, 8, 1))
    hostile = keras.Model(inputs, MarkerLayer(str(marker))(inputs))
    for name in ("custom", "another"):
        hostile.save(_planted(saved_run, runs_dir, name) / "model.keras")
    _with_config(saved_run, _planted(saved_run, runs_dir, "package"), _as_model)
    marker.unlink()
    shutil.copytree(saved_run, runs_dir / "trusted")
    listing = list_runs(runs_dir)
    assert sorted(summary["name"] for summary in listing.runs) == ["another", "custom", "package", "trusted"]
    assert not marker.exists(), "listing runs deserialised a model"
    trusted = load_run(runs_dir / "trusted")
    original = load_run(saved_run)
    assert trusted.name == "trusted" and trusted.id == original.id
    images = digits.x_val[:8]
    np.testing.assert_allclose(reconstruct(trusted.model, images), reconstruct(original.model, images), rtol=1e-6)


@st.composite
def damaged(draw, valid: bytes) -> bytes:
    """valid with a bit flipped, four bytes set to a huge value, or cut short, at any offset."""
    data, at = bytearray(valid), draw(st.integers(0, len(valid) - 1))
    edit = draw(st.sampled_from(["flip", "huge", "truncate"]))
    if edit == "flip":
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif edit == "huge":
        data[at : at + 4] = b"\xff\xff\xff\xff"
    else:
        del data[at:]
    return bytes(data)


# Each example loads a model with Keras, so this takes a fifth of the data loaders' count (AE_FUZZ_EXAMPLES).
@settings(
    max_examples=max(1, int(os.environ.get("AE_FUZZ_EXAMPLES", "150")) // 5),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), file_name=st.sampled_from(["model.keras", "preview.npz"]))
def test_damaged_run_files_load_or_are_refused_clearly(saved_run, data, file_name):
    with tempfile.TemporaryDirectory() as runs_dir:
        folder = Path(runs_dir) / "damaged"
        shutil.copytree(saved_run, folder)
        (folder / file_name).write_bytes(data.draw(damaged((saved_run / file_name).read_bytes())))
        try:
            load_run(folder)
        except ValueError as error:
            assert f"damaged/{file_name}" in str(error) and "Train the run again, or remove its folder" in str(error)
