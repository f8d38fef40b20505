"""Reconstruction scores against trusted references: MSE against numpy, PSNR against scikit-image and
``tf.image.psnr``, SSIM against scikit-image's ``structural_similarity``, the PCA baseline against scikit-learn."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from sklearn.decomposition import PCA

from ae_core.models.keras_backend import tf
from ae_core.quality.pca_baseline import pca_baseline, verdict
from ae_core.quality.scores import SSIM_CHUNK, score_images


def _skimage_ssim(originals: np.ndarray, reconstructions: np.ndarray, side: int = 7) -> list[float]:
    """scikit-image's SSIM of each pair of (height, width, channels) images in [0, 1], with the settings the lab
    scores with: a uniform side x side window, sample covariance, K1 0.01, K2 0.03, channels averaged."""
    return [
        structural_similarity(o, r, data_range=1.0, channel_axis=-1, win_size=side)
        for o, r in zip(originals, reconstructions)
    ]


def test_scores_match_trusted_references(mnist_slice):
    originals = mnist_slice[:20]
    rng = np.random.default_rng(0)
    reconstructions = np.clip(originals + rng.normal(0, 0.1, originals.shape), 0, 1).astype(np.float32)
    scores = score_images(originals, reconstructions)
    np.testing.assert_allclose(scores.mse, np.mean((originals - reconstructions) ** 2, axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(scores.psnr, tf.image.psnr(originals, reconstructions, max_val=1.0).numpy(), rtol=1e-4)
    expected_psnr = [peak_signal_noise_ratio(o, r, data_range=1.0) for o, r in zip(originals, reconstructions)]
    np.testing.assert_allclose(scores.psnr, expected_psnr, rtol=1e-5)
    np.testing.assert_allclose(scores.ssim, _skimage_ssim(originals, reconstructions), rtol=1e-5)
    perfect = score_images(originals, originals)
    assert np.all(perfect.ssim == pytest.approx(1.0)) and np.all(np.isinf(perfect.psnr))
    assert perfect.means()["psnr"] == 100.0


def test_ssim_on_8x8_digits_and_3x3_images_matches_scikit_image(digits):
    originals, reconstructions = digits.x_val[:5], np.clip(digits.x_val[:5] * 0.9 + 0.05, 0, 1)
    np.testing.assert_allclose(
        score_images(originals, reconstructions).ssim, _skimage_ssim(originals, reconstructions), rtol=1e-5
    )
    tiny = np.random.default_rng(0).random((4, 3, 3, 1))
    np.testing.assert_allclose(score_images(tiny, tiny[::-1]).ssim, _skimage_ssim(tiny, tiny[::-1], side=3), rtol=1e-6)


def test_pca_baseline_equals_scikit_learn_pca(digits):
    baseline = pca_baseline(digits.x_train, digits.x_val, 10)
    flat_train = digits.x_train.reshape(len(digits.x_train), -1)
    pca = PCA(n_components=10, random_state=0).fit(flat_train)
    flat_val = digits.x_val.reshape(len(digits.x_val), -1)
    expected = np.clip(pca.inverse_transform(pca.transform(flat_val)), 0, 1)
    assert baseline.n_components == 10 and baseline.pca.n_components_ == 10
    assert baseline.scores.mse.mean() == pytest.approx(np.mean((flat_val - expected) ** 2), rel=1e-5)
    np.testing.assert_allclose(np.abs(baseline.pca.components_), np.abs(pca.components_), atol=1e-5)
    assert pca_baseline(digits.x_train, digits.x_val, 500).n_components == 64  # capped at the pixel count


def test_verdict_names_the_winner():
    assert verdict(0.01, 0.02, 32).startswith("The autoencoder beats PCA-32")
    assert verdict(0.03, 0.02, 32).startswith("PCA-32 still wins")


def test_ssim_of_colour_images_averages_the_channels_and_does_not_depend_on_the_batch():
    rng = np.random.default_rng(1)
    originals = rng.random((SSIM_CHUNK + 3, 9, 10, 3))
    reconstructions = np.clip(originals + rng.normal(0, 0.2, originals.shape), 0, 1)
    scores = score_images(originals, reconstructions).ssim
    np.testing.assert_allclose(scores[:3], _skimage_ssim(originals[:3], reconstructions[:3]), rtol=1e-6)
    np.testing.assert_allclose(scores[-3:], score_images(originals[-3:], reconstructions[-3:]).ssim, rtol=1e-12)
