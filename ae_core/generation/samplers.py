"""New images from a trained autoencoder: draw codes from a sampler, decode them in one call.

Which sampler is right depends on the model. A VAE is trained to make its codes follow N(0, I), so the "normal"
sampler suits it. A plain autoencoder's codes follow no prescribed law; N(0, I) noise lands where its decoder has
never been and comes out as blots. Fitting the training codes fixes that: "gaussian" matches their mean and
covariance, "gmm" fits a mixture of Gaussians, one bump per cluster of codes. ``ae_core.generation.judge`` measures the
difference.

Every sampler is ``fit(codes)`` and then ``sample(n, seed, temperature) -> (n, latent_dim)`` float32; temperature
scales the spread around the mean (or each component's mean): below 1 gives typical, cleaner images, above 1
more varied and stranger ones.
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ae_core.latent.sampling import SEED
from ae_core.models.architectures import decode, latent_dim_of
from ae_core.validation import Integer, Number, OneOf, check

SAMPLERS = ("normal", "gaussian", "gmm")
SAMPLER_TITLES = {
    "normal": "N(0, I): right for a VAE",
    "gaussian": "Gaussian fitted to the training codes",
    "gmm": "Gaussian mixture fitted to the training codes",
}
# Mixture sizes tried when the user sets none; the lowest BIC wins (15 on MNIST's codes, bench/generation_quality.py).
COMPONENT_CHOICES = (1, 5, 10, 15, 20)
MAX_SAMPLES = 10_000
SAMPLE_COUNT = Integer(1, MAX_SAMPLES)
TEMPERATURE = Number(0, 10, low_open=True)
COMPONENTS = Integer(1, 100)
LATENT_DIM = Integer(1)
COVARIANCE_TYPES = ("full", "diag")
SAMPLER, COVARIANCE_TYPE = OneOf(SAMPLERS), OneOf(COVARIANCE_TYPES)
JITTER = 1e-6  # added to covariance diagonals so a code dimension that never varies still factorises


def check_sample_args(n, seed, temperature) -> tuple[int, int, float]:
    """(n, seed, temperature) as plain Python numbers; ValueError naming the argument unless n is in
    1..MAX_SAMPLES, seed in 0..2^32 - 1 and temperature in (0, 10]."""
    return (
        check("n", n, SAMPLE_COUNT, "It is the number of codes to draw."),
        check("seed", seed, SEED),
        check("temperature", temperature, TEMPERATURE, "1 keeps the fitted spread."),
    )


def _check_fitted(sampler, attribute: str) -> None:
    if not hasattr(sampler, attribute):
        raise ValueError(
            f"the {sampler.name} sampler is not fitted yet; call fit(codes) with the training codes before sample()."
        )


def _checked_codes(codes, minimum: int) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2 or len(codes) < minimum or not np.issubdtype(codes.dtype, np.number):
        raise ValueError(
            f"codes must be a numeric array of shape (n >= {minimum}, latent_dim); got {codes.dtype} "
            f"of shape {codes.shape}."
        )
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes hold NaN or infinite values; the model that made them has diverged. Retrain it.")
    return codes.astype(np.float64)


class NormalSampler:
    """N(0, I) in the codes' dimension, whatever the codes look like: the prior a VAE is trained towards."""

    name = "normal"

    def __init__(self, latent_dim: int | None = None):
        """latent_dim : the code's size when it is known without codes, which N(0, I) needs alone; else ``fit``
        reads it from the codes."""
        if latent_dim is not None:
            self.latent_dim = check("latent_dim", latent_dim, LATENT_DIM, "It is the code's size.")

    def fit(self, codes: np.ndarray) -> "NormalSampler":
        self.latent_dim = _checked_codes(codes, 1).shape[1]
        return self

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        _check_fitted(self, "latent_dim")
        n, seed, temperature = check_sample_args(n, seed, temperature)
        noise = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return (temperature * noise).astype(np.float32)


class GaussianSampler:
    """One Gaussian with the codes' mean (latent_dim,) and covariance (latent_dim, latent_dim)."""

    name = "gaussian"

    def fit(self, codes: np.ndarray) -> "GaussianSampler":
        codes = _checked_codes(codes, 2)
        self.mean = codes.mean(axis=0)
        self.covariance = np.cov(codes, rowvar=False)
        self._factor = np.linalg.cholesky(self.covariance + JITTER * np.eye(len(self.mean)))
        return self

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        _check_fitted(self, "mean")
        n, seed, temperature = check_sample_args(n, seed, temperature)
        noise = np.random.default_rng(seed).standard_normal((n, len(self.mean)))
        return (self.mean + temperature * noise @ self._factor.T).astype(np.float32)


class MixtureSampler:
    """A Gaussian mixture (scikit-learn) on the codes; the number of components is ``n_components``, or the one of
    COMPONENT_CHOICES with the lowest BIC. covariance_type : "full" or "diag"."""

    name = "gmm"

    def __init__(self, n_components: int | None = None, covariance_type: str = "full", seed: int = 0):
        if n_components is not None:
            n_components = check("n_components", n_components, COMPONENTS, "Or None, to choose it by BIC.")
        self.n_components = n_components
        self.covariance_type = check("covariance_type", covariance_type, COVARIANCE_TYPE)
        self.seed = check("seed", seed, SEED)

    def fit(self, codes: np.ndarray) -> "MixtureSampler":
        codes = _checked_codes(codes, 2)
        choices = [self.n_components] if self.n_components else [k for k in COMPONENT_CHOICES if k <= len(codes)]
        if choices[0] > len(codes):
            raise ValueError(f"a mixture of {choices[0]} components needs at least as many codes; got {len(codes)}.")
        fits = [self._fit_mixture(codes, k) for k in choices]
        self.bic = {fit.n_components: fit.bic(codes) for fit in fits}
        self.mixture = min(fits, key=lambda fit: self.bic[fit.n_components])
        covariances = self.mixture.covariances_  # (k, d, d) when full, (k, d) when diag
        if self.covariance_type == "diag":
            covariances = np.stack([np.diag(variances) for variances in covariances])
        self._factors = np.linalg.cholesky(covariances + JITTER * np.eye(codes.shape[1]))  # (k, d, d)
        return self

    def _fit_mixture(self, codes: np.ndarray, n_components: int) -> GaussianMixture:
        mixture = GaussianMixture(n_components, covariance_type=self.covariance_type, random_state=self.seed)
        # Its M-step makes one small matrix product per component; OpenBLAS's threads, spinning on a CPU that
        # training also uses, made a 10-component fit of 8,000 codes take 128 s instead of 2.7 s on one thread.
        with threadpool_limits(1, user_api="blas"):
            return mixture.fit(codes)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """Pick a component per code by the mixture's weights, then draw around its mean, all in one batch."""
        _check_fitted(self, "mixture")
        n, seed, temperature = check_sample_args(n, seed, temperature)
        rng = np.random.default_rng(seed)
        weights = self.mixture.weights_ / self.mixture.weights_.sum()
        components = rng.choice(len(weights), size=n, p=weights)  # (n,)
        noise = rng.standard_normal((n, self._factors.shape[1]))  # (n, latent_dim)
        spread = np.einsum("nij,nj->ni", self._factors[components], noise)
        return (self.mixture.means_[components] + temperature * spread).astype(np.float32)


def make_sampler(name: str, n_components: int | None = None, covariance_type: str = "full"):
    """An unfitted sampler by name (one of SAMPLERS); n_components and covariance_type are for "gmm" only."""
    name = check("sampler", name, SAMPLER)
    if name == "gmm":
        return MixtureSampler(n_components, covariance_type)
    return NormalSampler() if name == "normal" else GaussianSampler()


@dataclass(frozen=True)
class Generation:
    """codes : (n, latent_dim) float32; images : (n, height, width, channels) float32 in [0, 1]; seconds : time to
    sample and decode them."""

    codes: np.ndarray
    images: np.ndarray
    seconds: float


def generate(model, sampler, n: int, seed: int = 0, temperature: float = 1.0) -> Generation:
    """Draw ``n`` codes from a fitted ``sampler`` and decode them with one decoder call."""
    started = time.perf_counter()
    codes = sampler.sample(n, seed, temperature)
    if codes.shape[1] != latent_dim_of(model):
        raise ValueError(
            f"the sampler was fitted on {codes.shape[1]}-dimensional codes but the model's code has "
            f"{latent_dim_of(model)}; fit it on this model's codes."
        )
    images = decode(model, codes).astype(np.float32)
    return Generation(codes, images, time.perf_counter() - started)
