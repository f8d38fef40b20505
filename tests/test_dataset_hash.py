"""Datasets known by their content: a hash of the images recorded with the split and in run.json, the judge keyed by
it and freed with the last dataset that used it, and a saved run refused on other data of the same name and size."""

import gc
import json

import numpy as np
import pytest

from ae_core.data import load_dataset
from ae_core.data.split import Split, content_hash
from ae_core.generation import judge as judges
from ae_core.runs.context import RunContext, dataset_for
from ae_core.runs.loading import load_run
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig


def _write_upload(path, digits, flipped: bool):
    """mine.npz: digits' images (flipped left to right when asked) as 0..16 integers, with their labels."""
    images = np.concatenate([digits.x_train, digits.x_val])[..., 0]  # (1797, 8, 8)
    images = images[:, :, ::-1] if flipped else images
    labels = np.concatenate([digits.y_train, digits.y_val])
    np.savez(path, images=np.round(images * 16).astype(np.uint8), labels=labels)


def test_the_hash_follows_the_images_and_is_recorded_with_the_split(digits, tmp_path):
    split = digits.split
    assert split.content_hash == content_hash(digits.x_train, digits.y_train, digits.x_val, digits.y_val)
    assert load_dataset("digits").split.content_hash == split.content_hash  # the same content hashes alike
    assert content_hash(digits.x_train[:, ::-1], digits.y_train, digits.x_val, digits.y_val) != split.content_hash
    assert Split.from_dict(split.to_dict()).content_hash == split.content_hash
    with pytest.raises(ValueError, match="content_hash must be null or 32 hexadecimal digits; got 'abc'"):
        Split.from_dict({**split.to_dict(), "content_hash": "abc"})
    run = train_run(
        digits.x_train, digits.x_val, digits.name, ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,)),
        TrainConfig(epochs=1, batch_size=256), name="hashed", split=split.to_dict(),
    )  # fmt: skip
    folder = save_run(run, tmp_path / "runs")
    assert json.loads((folder / "run.json").read_text())["split"]["content_hash"] == split.content_hash
    assert load_run(folder).split["content_hash"] == split.content_hash


def test_a_saved_run_is_refused_on_other_images_of_the_same_name_and_size(digits, tmp_path):
    upload = tmp_path / "mine.npz"
    _write_upload(upload, digits, flipped=False)
    first = load_dataset(upload)
    run = train_run(
        first.x_train, first.x_val, str(upload), ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,)),
        TrainConfig(epochs=1, batch_size=256), name="on-mine", split=first.split.to_dict(),
    )  # fmt: skip
    folder = save_run(run, tmp_path / "runs")
    assert dataset_for(load_run(folder)).split.content_hash == first.split.content_hash  # the same file: accepted
    _write_upload(upload, digits, flipped=True)  # same name, same size, other images
    other = load_dataset(upload)
    assert (other.n_train, other.n_val) == (first.n_train, first.n_val)
    with pytest.raises(ValueError) as refused:
        dataset_for(load_run(folder))
    assert first.split.content_hash in str(refused.value) and other.split.content_hash in str(refused.value)
    with pytest.raises(ValueError, match="other images of the same name and size"):
        RunContext(run, other)


def test_the_judge_is_keyed_by_content_and_freed_with_its_last_dataset(digits, tmp_path):
    _write_upload(tmp_path / "a.npz", digits, flipped=False)
    first = load_dataset(tmp_path / "a.npz")
    _write_upload(tmp_path / "a.npz", digits, flipped=True)
    second = load_dataset(tmp_path / "a.npz")
    assert first.name == second.name and first.split == second.split  # what the judge used to be keyed by
    first_judge, second_judge = judges.judge_for(first), judges.judge_for(second)
    assert first_judge is not second_judge
    assert np.array_equal(first_judge.x_train, first.x_train) and np.array_equal(second_judge.x_train, second.x_train)
    same_content = load_dataset(tmp_path / "a.npz")  # a second object of the second content shares its judge
    assert judges.judge_for(same_content) is second_judge
    key = judges.judge_key(second)
    del second, second_judge
    gc.collect()
    assert judges.judge_ready(same_content), "one user is left"
    del same_content
    gc.collect()
    assert key not in judges._JUDGES and judges.judge_key(first) in judges._JUDGES
