"""The baseline every autoencoder is measured against: PCA with as many components as the code has numbers, fitted
once per run, and the verdict of a model's error against it.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from ae_core.quality.scores import ImageScores, score_images


@dataclass(frozen=True)
class PcaBaseline:
    n_components: int
    reconstructions: np.ndarray  # (n_val, height, width, channels), clipped to [0, 1]
    scores: ImageScores


def pca_baseline(x_train: np.ndarray, x_val: np.ndarray, n_components: int, seed: int = 0) -> PcaBaseline:
    """Fit scikit-learn PCA with ``n_components`` on ``x_train`` and reconstruct ``x_val``.

    The component count is capped at what the data allows (pixels, training images), since PCA cannot keep more.
    """
    n_train = len(x_train)
    flat_train = x_train.reshape(n_train, -1)  # (n_train, pixels)
    n_components = min(n_components, flat_train.shape[1], n_train)
    pca = PCA(n_components=n_components, random_state=seed).fit(flat_train)
    flat_val = x_val.reshape(len(x_val), -1)
    reconstructions = pca.inverse_transform(pca.transform(flat_val)).reshape(x_val.shape)
    reconstructions = np.clip(reconstructions, 0.0, 1.0).astype(np.float32)
    return PcaBaseline(n_components, reconstructions, score_images(x_val, reconstructions))


def verdict(model_mse: float, pca_mse: float, n_components: int) -> str:
    """One line comparing the model's validation MSE with PCA's at the same code size."""
    ratio = model_mse / pca_mse if pca_mse > 0 else float("inf")
    if ratio < 1.0:
        return (
            f"The autoencoder beats PCA-{n_components}: its error is {ratio:.2f}x PCA's "
            f"({model_mse:.4f} vs {pca_mse:.4f})."
        )
    return (
        f"PCA-{n_components} still wins: the autoencoder's error is {ratio:.2f}x PCA's "
        f"({model_mse:.4f} vs {pca_mse:.4f}). Train for more epochs or give the model more capacity."
    )


def fit_pca(x_train, n_components: int, seed: int = 0):
    """scikit-learn PCA fitted on ``x_train`` (n, height, width, channels) with ``n_components``, capped at what
    the data allows (pixels, images)."""
    from sklearn.decomposition import PCA

    flat_train = x_train.reshape(len(x_train), -1)  # (n, pixels)
    return PCA(n_components=min(n_components, *flat_train.shape), random_state=seed).fit(flat_train)


def context_pca(context):
    """``fit_pca`` on a RunContext's training images with as many components as the run's code, fitted once per
    run: compression and classification share it."""
    latent_dim = context.codes("validation").shape[1]
    seed = context.run.train_config.seed
    return context.cached(("pca", latent_dim, seed), lambda: fit_pca(context.dataset.x_train, latent_dim, seed))
