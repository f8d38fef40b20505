import numpy as np
import pytest
from sklearn.decomposition import PCA

from ae_core.backend import tf
from ae_core.metrics import pca_baseline, score_images, verdict


def test_scores_match_trusted_references(mnist_slice):
    originals = mnist_slice[:20]
    rng = np.random.default_rng(0)
    reconstructions = np.clip(originals + rng.normal(0, 0.1, originals.shape), 0, 1).astype(np.float32)
    scores = score_images(originals, reconstructions)
    np.testing.assert_allclose(scores.mse, np.mean((originals - reconstructions) ** 2, axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(scores.psnr, tf.image.psnr(originals, reconstructions, max_val=1.0).numpy(), rtol=1e-4)
    assert np.all(scores.ssim < 1.0) and np.all(scores.ssim > 0.0)
    perfect = score_images(originals, originals)
    assert np.all(perfect.ssim == pytest.approx(1.0)) and np.all(np.isinf(perfect.psnr))
    assert perfect.means()["psnr"] == 100.0


def test_ssim_works_on_8x8_digits(digits):
    scores = score_images(digits.x_val[:5], np.clip(digits.x_val[:5] * 0.9, 0, 1))
    assert scores.ssim.shape == (5,) and np.all((scores.ssim > 0.5) & (scores.ssim < 1.0))


def test_pca_baseline_equals_scikit_learn_pca(digits):
    baseline = pca_baseline(digits.x_train, digits.x_val, 10)
    flat_train = digits.x_train.reshape(len(digits.x_train), -1)
    pca = PCA(n_components=10, random_state=0).fit(flat_train)
    flat_val = digits.x_val.reshape(len(digits.x_val), -1)
    expected = np.clip(pca.inverse_transform(pca.transform(flat_val)), 0, 1)
    assert baseline.n_components == 10
    assert baseline.scores.mse.mean() == pytest.approx(np.mean((flat_val - expected) ** 2), rel=1e-5)
    assert pca_baseline(digits.x_train, digits.x_val, 500).n_components == 64  # capped at the pixel count


def test_verdict_names_the_winner():
    assert verdict(0.01, 0.02, 32).startswith("The autoencoder beats PCA-32")
    assert verdict(0.03, 0.02, 32).startswith("PCA-32 still wins")
