"""Reading a run's ``model.keras``, which may come from anyone: the model is built by the lab's own code from run.json's
settings, checked against the limits first, and only its weights are read from the file.

Keras's ``load_model`` would build whatever the file's config.json names, with ``safe_mode`` refusing Python code:
a config of plain Keras layers that are very large (a Dense layer of millions of units) would cost that memory
before any size could be checked. Here the config is only read as JSON, to refuse a file that names Python code or
classes from outside Keras and the lab, and the weights file's arrays are sized from its headers before any is read.
"""

import json
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np

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


def load_model_file(path: Path, model_config: ModelConfig, image_shape: tuple[int, int, int]) -> keras.Model:
    """The model of ``model_config`` for images of ``image_shape``, holding the weights saved in ``path``.

    ValueError, naming what was found, when the model is over the limits, when the file names Python code or a class
    from outside Keras and the lab, when its weights are larger than such a model's, or do not fit it, or the file
    is damaged. Nothing named in the file is imported or built."""
    try:
        check_training_cost(model_config, image_shape, batch_size=1)
        with zipfile.ZipFile(path) as archive:
            _check_config(archive)
            _check_weights(archive, estimate_training_cost(model_config, image_shape, 1).parameters)
        model = build_autoencoder(model_config, image_shape)
        model(np.zeros((1, *image_shape), np.float32))  # a subclassed model (the VAE) creates its weights when called
        model.load_weights(path)
    except _RefusedError as refusal:
        raise _refused(path, str(refusal)) from None
    except (ValueError, TypeError, KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
        raise _refused(path, str(error).split(". ")[0][:200].rstrip(".")) from None
    return model


class _RefusedError(Exception):
    """What a model file was refused for, before the common wording is added."""


def _refused(path: Path, found: str) -> ValueError:
    return ValueError(
        f"{path.parent.name}/model.keras was refused: {found}. Expected a model saved by the lab for the "
        "settings in its run.json, built only of Keras layers and the lab's own models; Python code "
        "(Lambda layers) and classes from other modules are refused because loading them could run "
        "code. Train the run again, or remove its folder."
    )


def _member(archive: zipfile.ZipFile, name: str, most_bytes: int) -> zipfile.ZipInfo:
    try:
        member = archive.getinfo(name)
    except KeyError:
        raise _RefusedError(f"it holds no {name}") from None
    if member.file_size > most_bytes:
        raise _RefusedError(
            f"its {name} is {member.file_size:,} bytes, more than the {most_bytes:,} such a model needs"
        )
    return member


def _check_config(archive: zipfile.ZipFile) -> None:
    """Refuse a config.json naming Python code or a class from a module outside Keras and the lab."""
    member = _member(archive, CONFIG_MEMBER, MAX_CONFIG_BYTES)
    try:
        config = json.loads(archive.read(member))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _RefusedError(f"its {CONFIG_MEMBER} is not JSON ({error})") from None
    for found in _named_classes(config):
        class_name, module = found.get("class_name"), found.get("module")
        if class_name in CODE_CLASSES:
            raise _RefusedError(f"its {CONFIG_MEMBER} holds {CODE_CLASSES[class_name]}")
        if module is not None and not (isinstance(module, str) and module.split(".")[0] in TRUSTED_MODULES):
            raise _RefusedError(
                f"its {CONFIG_MEMBER} names class {str(class_name)[:60]!r} of module {str(module)[:60]!r}"
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


def _check_weights(archive: zipfile.ZipFile, parameters: int) -> None:
    """Refuse a weights file whose arrays, sized from their HDF5 headers, are more than the model and its optimizer
    state: reading them would cost that memory before their shapes could be found not to fit."""
    most_bytes = WEIGHT_COPIES_SAVED * 4 * parameters + HEADER_ALLOWANCE_BYTES
    member = _member(archive, WEIGHTS_MEMBER, most_bytes)
    datasets = []
    with archive.open(member) as stream, h5py.File(stream, "r") as weights:
        weights.visititems(lambda _, item: datasets.append(item) if isinstance(item, h5py.Dataset) else None)
        if any(dataset.external or dataset.is_virtual for dataset in datasets):
            raise _RefusedError(
                f"its {WEIGHTS_MEMBER} points at data in other files"
            )  # HDF5 can; a saved model never does
        sizes = [dataset.size * dataset.dtype.itemsize for dataset in datasets]
    if sum(sizes) > most_bytes:
        raise _RefusedError(
            f"its {WEIGHTS_MEMBER} holds {sum(sizes):,} bytes of arrays, more than the {most_bytes:,} "
            "such a model needs"
        )
