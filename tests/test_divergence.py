"""A model that dies or blows up while its loss stays finite ends as diverged, names the cause and the learning rate
to try, and says so in run.json and in the command line's JSON; healthy runs, slow ones included, are left alone."""

import json

import numpy as np
import pytest

from ae_core.cli.commands import main
from ae_core.models.architectures import build_autoencoder
from ae_core.runs.loading import load_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.engine import train
from ae_core.training.health import output_spread, sickness, suggested_learning_rate

CONV_2 = ModelConfig(preset="conv", latent_dim=2)


def _train(digits, model_config, **settings):
    config = TrainConfig(**{"epochs": 1, "batch_size": 64, **settings})
    model = build_autoencoder(model_config, digits.image_shape, seed=config.seed)
    return model, train(model, digits.x_train, digits.x_val, model_config, config)


def test_a_learning_rate_of_5_ends_as_diverged_with_the_cause_and_the_rate_to_try(digits):
    model, result = _train(digits, CONV_2, learning_rate=5.0, epochs=3)
    divergence = result.divergence
    assert divergence is not None and divergence.epoch == 1 and result.epochs_completed == 1  # stopped after epoch 1
    assert "same image" in divergence.cause and "codes have exploded" in divergence.cause
    assert "learning rate too high" in divergence.message and "such as 0.001" in divergence.message
    reconstructions = model.predict(digits.x_val[:50], verbose=0)
    assert output_spread(reconstructions) < 1e-6 * output_spread(digits.x_val[:50])  # the weights kept are dead


@pytest.mark.parametrize(
    ("model_config", "settings"),
    [
        (CONV_2, {}),
        (ModelConfig(preset="seed_dense", latent_dim=32), {}),
        (ModelConfig(preset="vae", latent_dim=4, hidden_units=(32,)), {}),
        (CONV_2, {"optimizer": "sgd", "learning_rate": 0.001}),  # barely learns in one epoch, but is alive
    ],
)
def test_healthy_and_slow_runs_are_not_flagged(digits, model_config, settings):
    _, result = _train(digits, model_config, **settings)
    assert result.divergence is None and result.epochs_completed == 1


def test_sickness_names_each_sign_and_only_those_found():
    rng = np.random.default_rng(0)
    images = rng.random((8, 4, 4, 1)).astype(np.float32)
    codes = rng.normal(size=(20, 2)).astype(np.float32)
    assert sickness(images, images * 0.9, codes, 0.05, 0.1) is None
    assert "same image" in sickness(images, np.zeros_like(images), codes, 0.05, 0.1)
    assert "codes have exploded" in sickness(images, images, codes * 1e6, 0.05, 0.1)
    assert "loss has exploded" in sickness(images, images, codes, 50.0, 0.1)
    assert suggested_learning_rate(5.0, "adam") == 0.001 and suggested_learning_rate(10.0, "sgd") == 1.0


def test_cli_train_json_carries_the_divergence_and_run_json_keeps_it(tmp_path, capsys):
    out = tmp_path / "lr5"
    argv = ["train", "--dataset", "digits", "--latent-dim", "2", "--learning-rate", "5", "--epochs", "1"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["diverged"].startswith("Training diverged") and "such as 0.001" in report["diverged"]
    loaded = load_run(out)
    assert loaded.result.divergence.message == report["diverged"]
