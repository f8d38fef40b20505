"""Reading a run's ``model.keras``, which may come from anyone: the model is built by the lab's own code from run.json's
settings, checked against the limits first, and only its weights are read from the file.

Keras's ``load_model`` would build whatever the file's config.json names, with ``safe_mode`` refusing Python code:
a config of plain Keras layers that are very large (a Dense layer of millions of units) would cost that memory
before any size could be checked. Here the config is only read as JSON, to refuse a file that names Python code or
classes from outside Keras and the lab, and the weights file's arrays are sized from its headers before any is read.

Each kind of failure is reported for what it is: code or a foreign class (hostile: loading it could run code), a
model over this server's limits, weights larger than the model's or kept in other files, weights that do not fit
the model, a damaged file. An error in the lab's own builder is not the file's fault and is raised as it is.
"""

import json
import re
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np

from ae_core.data.common import error_text, without_reprs
from ae_core.models.architectures import build_autoencoder
from ae_core.models.keras_backend import keras
from ae_core.models.training_cost import check_training_cost, estimate_training_cost
from ae_core.settings.model_config import ModelConfig

CONFIG_MEMBER, WEIGHTS_MEMBER = "config.json", "model.weights.h5"
MAX_CONFIG_BYTES = 1 << 20  # a lab model's config.json is about 10 KB
# The weights file holds the model's weights and, when saved after training, the optimizer's: Adam keeps two slots
# per weight. Anything beyond that, and a little for HDF5's own headers, is not a model the lab saved.
WEIGHT_COPIES_SAVED = 3
HEADER_ALLOWANCE_BYTES = 1 << 20
TRUSTED_MODULES = ("keras", "ae_core")
CODE_CLASSES = {"Lambda": "a `Lambda` layer (Python code)", "__lambda__": "a Python lambda"}
# What reading a damaged zip, JSON or HDF5 file raises (zipfile reports a bad offset as ValueError).
DAMAGED_ERRORS = (ValueError, TypeError, KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile)
HOSTILE = (
    "Loading it could run code, so the lab never does: a model file may hold only Keras layers and the lab's own "
    "models."
)
AGAIN = "Train the run again, or remove its folder."


class _RefusedError(Exception):
    """A model file refused from what its config or its weights' headers say; the message is complete."""


def load_model_file(path: Path, model_config: ModelConfig, image_shape: tuple[int, int, int]) -> keras.Model:
    """The model of ``model_config`` for images of ``image_shape``, holding the weights saved in ``path``.

    ValueError, saying what was found, when the model is over the limits, when the file names Python code or a
    class from outside Keras and the lab, when its weights are larger than such a model's or do not fit it, or the
    file is damaged. Nothing named in the file is imported or built."""
    name = f"{path.parent.name}/model.keras"
    try:
        check_training_cost(model_config, image_shape, batch_size=1)
    except ValueError as error:
        raise ValueError(f"{path.parent.name}/run.json describes a model the lab does not build: {error}") from None
    parameters = estimate_training_cost(model_config, image_shape, 1).parameters
    try:
        with zipfile.ZipFile(path) as archive:
            _check_config(archive, name)
            _check_weights(archive, name, parameters)
    except _RefusedError as refusal:
        raise ValueError(str(refusal)) from None
    except DAMAGED_ERRORS as error:
        raise ValueError(_damaged(name, error, path)) from None
    model = build_autoencoder(model_config, image_shape)  # the lab's own code: its errors are raised as they are
    model(np.zeros((1, *image_shape), np.float32))  # a subclassed model (the VAE) creates its weights when called
    _load_weights(model, path, name)
    return model


def _load_weights(model: keras.Model, path: Path, name: str) -> None:
    try:
        model.load_weights(path)
    except ValueError as error:  # Keras: a layer's weights missing from the file, or of another shape
        raise ValueError(
            f"{name} holds weights that do not fit the model its run.json describes: {_plain(error, path, name)}. "
            f"Expected the model the lab saved for those settings. {AGAIN}"
        ) from None
    except DAMAGED_ERRORS as error:
        raise ValueError(_damaged(name, error, path)) from None


def _damaged(name: str, error: Exception, path: Path | None = None) -> str:
    return f"{name} is damaged or is not a model file the lab saved: {_plain(error, path, name)}. {AGAIN}"


def _plain(error: Exception, path: Path | None = None, name: str = "") -> str:
    """The whole message of ``error`` without Python object reprs: Keras names a layer as ``<Dense name=code,
    built=True>`` and prints a variable with all its values; here they become ``Dense 'code'`` and the variable's
    path. The file's ``path`` on the server, when an error quotes it, becomes its ``name``."""
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    if path is not None:
        text = text.replace(str(path.absolute()), name).replace(str(path), name)
    text = re.sub(r"<Variable path=([^,>]+)[^>]*>", r"'\1'", text)
    text = re.sub(r"<(\w+) name=([^,>]+)[^>]*>", r"\1 '\2'", text)
    return without_reprs(text).rstrip(".:") or type(error).__name__


def _member(archive: zipfile.ZipFile, name: str, member_name: str, most_bytes: int) -> zipfile.ZipInfo:
    try:
        member = archive.getinfo(member_name)
    except KeyError:
        raise _RefusedError(_damaged(name, KeyError(f"it holds no {member_name}"))) from None
    if member.file_size > most_bytes:
        raise _RefusedError(
            f"{name} was refused: its {member_name} is {member.file_size:,} bytes, more than the {most_bytes:,} such "
            f"a model needs. Expected the model the lab saved for the settings in its run.json. {AGAIN}"
        )
    return member


def _check_config(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a config.json naming Python code or a class from a module outside Keras and the lab."""
    member = _member(archive, name, CONFIG_MEMBER, MAX_CONFIG_BYTES)
    try:
        config = json.loads(archive.read(member))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _RefusedError(
            _damaged(name, ValueError(f"its {CONFIG_MEMBER} is not JSON ({error_text(error)})"))
        ) from None
    for found in _named_classes(config):
        class_name, module = found.get("class_name"), found.get("module")
        if class_name in CODE_CLASSES:
            raise _RefusedError(
                f"{name} was refused: its {CONFIG_MEMBER} holds {CODE_CLASSES[class_name]}. {HOSTILE} {AGAIN}"
            )
        if module is not None and not (isinstance(module, str) and module.split(".")[0] in TRUSTED_MODULES):
            # Keras names a function by its config: {"class_name": "function", "config": "package>name"}
            kind = "function" if class_name == "function" else "class"
            shown = found.get("config") if kind == "function" else class_name
            raise _RefusedError(
                f"{name} was refused: its {CONFIG_MEMBER} names {kind} {str(shown)[:60]!r} of module "
                f"{str(module)[:60]!r}, from outside Keras and the lab. {HOSTILE} {AGAIN}"
            )


def _named_classes(config):
    """Every object in a Keras config that names a class, however deeply nested."""
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from _named_classes(value)
    elif isinstance(config, list):
        for value in config:
            yield from _named_classes(value)


def _check_weights(archive: zipfile.ZipFile, name: str, parameters: int) -> None:
    """Refuse a weights file whose arrays, sized from their HDF5 headers, are more than the model and its optimizer
    state: reading them would cost that memory before their shapes could be found not to fit."""
    most_bytes = WEIGHT_COPIES_SAVED * 4 * parameters + HEADER_ALLOWANCE_BYTES
    member = _member(archive, name, WEIGHTS_MEMBER, most_bytes)
    datasets = []
    with archive.open(member) as stream, h5py.File(stream, "r") as weights:
        weights.visititems(lambda _, item: datasets.append(item) if isinstance(item, h5py.Dataset) else None)
        if any(dataset.external or dataset.is_virtual for dataset in datasets):  # HDF5 can; a saved model never does
            raise _RefusedError(
                f"{name} was refused: its {WEIGHTS_MEMBER} points at data in other files, which a model the lab "
                f"saved never does. {AGAIN}"
            )
        sizes = [dataset.size * dataset.dtype.itemsize for dataset in datasets]
    if sum(sizes) > most_bytes:
        raise _RefusedError(
            f"{name} was refused: its {WEIGHTS_MEMBER} holds {sum(sizes):,} bytes of arrays, more than the "
            f"{most_bytes:,} such a model needs; reading them would cost that memory. Expected the model the lab "
            f"saved for the settings in its run.json. {AGAIN}"
        )
