"""Generation measured by a standard: the Fréchet distance on the judge's features against a numpy formula, real
against real far below noise, the copy check relative to real images, no entropy when nothing was recognised, and
the command line's JSON keys."""

import json

import numpy as np
import pytest

from ae_core.cli.commands import main
from ae_core.figures.generation import distance_figure
from ae_core.generation.frechet import feature_statistics, frechet_distance
from ae_core.generation.judge import CONFIDENCE, FEATURE_SIZE, judge_for
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    """For diagonal covariances the distance is sum((m1 - m2)^2) + sum((s1 - s2)^2), s the standard deviations."""
    rng = np.random.default_rng(0)
    first = rng.normal(0.0, 1.0, size=(20_000, 3)) * [1.0, 2.0, 0.5]
    second = rng.normal(0.0, 1.0, size=(20_000, 3)) * [3.0, 1.0, 0.5] + [1.0, 0.0, -2.0]
    mean_1, mean_2 = first.mean(axis=0), second.mean(axis=0)
    std_1, std_2 = first.std(axis=0, ddof=1), second.std(axis=0, ddof=1)
    expected = np.sum((mean_1 - mean_2) ** 2) + np.sum((std_1 - std_2) ** 2)  # about 1 + 4 + 4 + 1 = 10
    assert frechet_distance(first, feature_statistics(second)) == pytest.approx(expected, rel=0.01)
    assert frechet_distance(first, feature_statistics(first)) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_handles_fewer_images_than_features():
    rng = np.random.default_rng(1)
    reference = feature_statistics(rng.normal(size=(500, 64)))
    distance = frechet_distance(rng.normal(size=(10, 64)), reference)
    assert np.isfinite(distance) and distance > 0


@pytest.fixture(scope="module")
def judge(digits):
    return judge_for(digits)


def test_real_images_are_far_nearer_real_ones_than_noise_by_frechet(judge, digits):
    assert judge.features(digits.x_val[:5]).shape == (5, FEATURE_SIZE)
    noise = np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)
    real = judge.real_frechet_distance(64)
    assert 0 < real < 0.2 * judge.score_images(noise).frechet_distance
    assert judge.real_frechet_distance(1) is None and judge.score_images(noise[:1]).frechet_distance is None


def test_the_copy_check_is_relative_to_real_unseen_images(judge, digits):
    real = judge.score_images(digits.x_val)
    assert real.median_relative_distance == pytest.approx(1.0)  # real validation images are the yardstick
    copies = judge.score_images(digits.x_train[:20])
    assert np.all(copies.relative_distances == 0)
    noise = np.random.default_rng(0).random((20, 8, 8, 1), dtype=np.float32)
    assert judge.score_images(noise).median_relative_distance > 2.0
    figure = distance_figure({"copies": copies, "real": real})
    assert list(figure.data[0].x) == pytest.approx(list(copies.relative_distances))
    assert figure.layout.shapes[0].x0 == 1.0  # the line where real images sit


def test_no_entropy_when_nothing_was_recognised(judge):
    noise = np.random.default_rng(2).random((400, 8, 8, 1), dtype=np.float32)
    unsure = noise[judge.probabilities(noise).max(axis=1) <= CONFIDENCE]
    assert len(unsure) >= 2
    scores = judge.score_images(unsure)
    assert scores.confident_share == 0 and scores.class_entropy is None and scores.to_dict()["class_entropy"] is None


def test_generate_json_carries_the_batch_and_the_real_frechet_distances(digits, judge, tmp_path, capsys):
    run = train_run(
        digits.x_train,
        digits.x_val,
        digits.name,
        ModelConfig(preset="conv", latent_dim=8),
        TrainConfig(epochs=2, batch_size=64),
        name="tiny",
        split=digits.split.to_dict(),
    )
    run_dir = save_run(run, tmp_path / "runs")
    out = tmp_path / "samples.npz"
    argv = ["generate", str(run_dir), "--n", "64", "--seed", "3", "--out", str(out), "--json"]
    assert main([*argv, "--sampler", "gmm"]) == 0
    report = json.loads(capsys.readouterr().out)
    with np.load(out) as written:
        expected = judge.score_images(written["images"]).frechet_distance
    assert report["frechet_distance"] == pytest.approx(expected, rel=1e-4)
    assert report["frechet_distance_real"] == pytest.approx(judge.real_frechet_distance(64), rel=1e-4)
    assert report["frechet_distance_real"] < report["frechet_distance"]
