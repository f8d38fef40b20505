"""The baseline every autoencoder is measured against: PCA with as many components as the code has numbers, fitted
once per run on the images the run was trained on, and the verdict of a model's error against it.
"""

from dataclasses import dataclass

import numpy as np

from ae_core.quality.scores import ImageScores, score_images


@dataclass(frozen=True)
class PcaBaseline:
    n_components: int
    reconstructions: np.ndarray  # (n_val, height, width, channels), clipped to [0, 1]
    scores: ImageScores
    pca: object  # the fitted scikit-learn PCA, kept with the run (Run.pca) for compression and classification


def fit_pca(x_train: np.ndarray, n_components: int, seed: int = 0):
    """scikit-learn PCA fitted on ``x_train`` (n, height, width, channels) with ``n_components``, capped at what
    the data allows (pixels, images), since PCA cannot keep more."""
    from sklearn.decomposition import PCA  # here, not at the top: importing scikit-learn takes a while

    flat_train = x_train.reshape(len(x_train), -1)  # (n, pixels)
    return PCA(n_components=min(n_components, *flat_train.shape), random_state=seed).fit(flat_train)


def pca_baseline(x_train: np.ndarray, x_val: np.ndarray, n_components: int, seed: int = 0) -> PcaBaseline:
    """``fit_pca`` on ``x_train`` and its reconstructions of ``x_val``, scored; both (n, height, width, channels)."""
    pca = fit_pca(x_train, n_components, seed)
    flat_val = x_val.reshape(len(x_val), -1)  # (n_val, pixels)
    reconstructions = pca.inverse_transform(pca.transform(flat_val)).reshape(x_val.shape)
    reconstructions = np.clip(reconstructions, 0.0, 1.0).astype(np.float32)
    return PcaBaseline(pca.n_components_, reconstructions, score_images(x_val, reconstructions), pca)


# Why the textbook model (preset seed_dense) loses to PCA, for a student: the chapter's most teachable fact.
TEXTBOOK_LOSS = (
    "That is what this textbook model teaches: its code is a weighted sum of pixels passed through ReLU layers, "
    "barely more than a linear code, and trained this briefly it finds a worse summary than PCA, which computes "
    "the best linear code of this size exactly. A model that looks at neighbouring pixels together does better: "
    "the convolutional preset (conv) beats PCA at the same code size."
)


def verdict(model_mse: float, pca_mse: float, n_components: int, preset: str | None = None) -> str:
    """One line comparing the model's validation MSE with PCA's at the same code size; for the textbook preset
    (``preset`` "seed_dense") a loss is explained by TEXTBOOK_LOSS instead of a generic hint."""
    ratio = model_mse / pca_mse if pca_mse > 0 else float("inf")
    if ratio < 1.0:
        return (
            f"The autoencoder beats PCA-{n_components}: its error is {ratio:.2f}x PCA's "
            f"({model_mse:.4f} vs {pca_mse:.4f})."
        )
    if preset == "seed_dense":
        return (
            f"PCA-{n_components} wins: the textbook model's error is {ratio:.2f}x PCA's "
            f"({model_mse:.4f} vs {pca_mse:.4f}). {TEXTBOOK_LOSS}"
        )
    return (
        f"PCA-{n_components} still wins: the autoencoder's error is {ratio:.2f}x PCA's "
        f"({model_mse:.4f} vs {pca_mse:.4f}). Train for more epochs or give the model more capacity."
    )


def context_pca(context):
    """The run's PCA (``Run.pca``, fitted once when it was trained), for a RunContext: compression and classification
    share it. A loaded run has none yet; it is fitted here once, on the images the run was trained on (the class
    it left out, if any, left out here too), with as many components as the run's code and the run's seed."""
    run = context.run
    if run.pca is None:
        latent_dim, seed = context.codes("validation").shape[1], run.train_config.seed
        run.pca = context.cached(("pca",), lambda: fit_pca(context.trained_images(), latent_dim, seed))
    return run.pca
