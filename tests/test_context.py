"""The run context: a run's own split, its derived arrays computed once, and one context per run."""

import gc
import threading
import weakref
from dataclasses import replace

import numpy as np
import pytest
from sklearn.decomposition import PCA

from ae_core.applications.classification import classification_features
from ae_core.applications.compression import compression_report
from ae_core.data import load_dataset
from ae_core.models.architectures import encode, reconstruct
from ae_core.quality.pca_baseline import context_pca
from ae_core.quality.scores import per_image_mse
from ae_core.runs import context as context_module
from ae_core.runs.context import RunContext, context_for, dataset_for, forget_dataset
from ae_core.runs.loading import load_run
from ae_core.runs.run import train_run, training_images
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig


@pytest.fixture(scope="module")
def digits_seed3():
    return load_dataset("digits", seed=3)


@pytest.fixture(scope="module")
def run(digits_seed3):
    config = ModelConfig(preset="dense", latent_dim=6, hidden_units=(32,))
    return train_run(
        digits_seed3.x_train,
        digits_seed3.x_val,
        "digits",
        config,
        TrainConfig(epochs=1, batch_size=64),
        split=digits_seed3.split.to_dict(),
    )


def test_the_dataset_is_loaded_with_the_runs_own_split(run, digits_seed3):
    dataset = dataset_for(run)
    np.testing.assert_array_equal(dataset.x_val, digits_seed3.x_val)
    assert not np.array_equal(load_dataset("digits").x_val, dataset.x_val), "seed 0 would give other images"


def test_a_dataset_that_no_longer_gives_the_runs_split_is_refused(run):
    other = load_dataset("digits", val_fraction=0.3, seed=3)
    with pytest.raises(ValueError, match="the data has changed"):
        RunContext(run, other)


def test_derived_arrays_equal_the_models_own_and_are_computed_once(run, digits_seed3):
    context = RunContext(run, digits_seed3)
    codes = context.codes("training")
    np.testing.assert_allclose(codes, encode(run.model, digits_seed3.x_train), rtol=1e-5, atol=1e-6)
    reconstructions = context.reconstructions("training")
    np.testing.assert_allclose(reconstructions, reconstruct(run.model, digits_seed3.x_train), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context.errors("training"), per_image_mse(digits_seed3.x_train, reconstructions))
    assert context.codes("training") is codes, "a second look reuses the array"
    assert context.reconstructions("validation") is run.val_reconstructions, "training's own reconstructions reused"
    assert context.labels("validation") is digits_seed3.y_val
    with pytest.raises(ValueError, match="split must be one of validation, training"):
        context.images("test")


def test_concurrent_requests_for_one_result_compute_it_once(run, digits_seed3):
    context, calls = RunContext(run, digits_seed3), []

    def slow():
        calls.append(1)
        threading.Event().wait(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(context.cached(("slow",), slow))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and all(result is results[0] for result in results)


def test_old_derived_results_are_dropped_but_codes_are_kept(run, digits_seed3, monkeypatch):
    monkeypatch.setattr(context_module, "MAX_DERIVED", 2)
    context = RunContext(run, digits_seed3)
    codes = context.codes("validation")
    for index in range(4):
        context.cached(("projection", index), lambda index=index: index)
    assert context.cached(("projection", 0), lambda: "recomputed") == "recomputed"
    assert context.cached(("projection", 3), lambda: "recomputed") == 3
    assert context.codes("validation") is codes


def test_one_context_per_run_and_dataset(run, digits_seed3):
    first = context_for(run, digits_seed3)
    assert context_for(run, digits_seed3) is first
    other_dataset = load_dataset("digits", seed=3)
    assert context_for(run, other_dataset) is not first, "another dataset object gets its own context"
    reopened = replace(run, id="another-run")
    assert context_for(reopened, digits_seed3).key == "another-run"


def test_a_runs_context_goes_with_the_run(digits_seed3):
    config = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
    run = train_run(
        digits_seed3.x_train,
        digits_seed3.x_val,
        "digits",
        config,
        TrainConfig(epochs=1, batch_size=256),
        split=digits_seed3.split.to_dict(),
    )
    context = weakref.ref(context_for(run, digits_seed3))
    context().codes("validation")
    assert context_for(run, digits_seed3) is context()
    del run
    gc.collect()
    assert context() is None, "no cache keeps a dropped run's arrays alive"


def test_a_replaced_upload_takes_its_contexts_along(run, digits_seed3):
    first = context_for(run, digits_seed3)
    forget_dataset(digits_seed3)
    assert run.context is None and context_for(run, digits_seed3) is not first


@pytest.fixture
def pca_fits(monkeypatch) -> list:
    """The number of components of every scikit-learn PCA fitted from here on, in order."""
    fits, fit = [], PCA.fit

    def counted_fit(self, *args, **kwargs):
        fits.append(self.n_components)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(PCA, "fit", counted_fit)
    return fits


def test_pca_is_fitted_once_per_run_and_shared_by_compression_and_classification(digits_seed3, pca_fits):
    config = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
    run = train_run(digits_seed3.x_train, digits_seed3.x_val, "digits", config, TrainConfig(epochs=1, batch_size=256))
    assert pca_fits == [4], "training fits the run's PCA baseline once"
    context = context_for(run, digits_seed3)
    assert context_pca(context) is run.pca
    compression_report(context, qualities=(50,))
    classification_features(context)
    assert pca_fits == [4], "compression and classification reuse the run's PCA"


def test_a_loaded_run_fits_its_pca_once_on_the_images_it_was_trained_on(digits_seed3, tmp_path, pca_fits):
    x_train = training_images(digits_seed3.x_train, digits_seed3.y_train, digits_seed3.class_names, 3)
    config = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
    run = train_run(
        x_train,
        digits_seed3.x_val,
        "digits",
        config,
        TrainConfig(epochs=1, batch_size=256),
        split=digits_seed3.split.to_dict(),
        excluded_class=3,
    )
    loaded = load_run(save_run(run, tmp_path))
    assert loaded.pca is None, "the PCA is not saved"
    first = context_pca(context_for(loaded, digits_seed3))
    assert context_pca(context_for(loaded, load_dataset("digits", seed=3))) is first, "another dataset object too"
    assert pca_fits == [4, 4], "once in training, once for the loaded run"
    # The same images as in training, class 3 left out: the loaded run's PCA is the one its metrics were scored by.
    np.testing.assert_allclose(first.components_, run.pca.components_, atol=1e-6)
