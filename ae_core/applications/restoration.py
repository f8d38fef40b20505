"""Restoration: degrade clean images, then restore them with the autoencoder, a denoising autoencoder when one is
given, and the classical median and Gaussian filters; each scored against the clean images.

Degradations, each at a strength ``level`` in [0, 1]: "gaussian", "salt_pepper" and "masking" as in
``ae_core.models.noise.corrupt``; "occlusion" blacks out one square per image, of side ``level`` x the shorter
image side,
at a random place; "blur" is a Gaussian blur of sigma 3 x ``level`` pixels.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ae_core.figures.images import comparison_image
from ae_core.models.architectures import reconstruct
from ae_core.models.noise import NOISE_TYPES, corrupt
from ae_core.quality.scores import score_images
from ae_core.validation import Number, OneOf, check

DEGRADATIONS = (*NOISE_TYPES, "occlusion", "blur")
BLUR_SIGMA_AT_FULL_LEVEL = 3.0  # pixels; at 3 a 28x28 digit is a blob, the hardest blur worth showing
FILTERS = ("median", "gaussian_filter")
DEFAULT_SWEEP_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5)
DEGRADATION, LEVEL = OneOf(DEGRADATIONS), Number(0.0, 1.0)
SWEEP_IMAGES = 500  # five levels of 500 images cost about one restoration of MNIST's 2,000 validation images


def check_degradation(kind: str, level: float) -> tuple[str, float]:
    """(kind, level) checked: ValueError naming the argument unless kind is one of DEGRADATIONS and level a number
    in [0, 1]."""
    return (
        check("kind", kind, DEGRADATION, "It names the degradation."),
        check("level", level, LEVEL, "It is the degradation's strength."),
    )


def degrade(images: np.ndarray, kind: str, level: float, rng: np.random.Generator) -> np.ndarray:
    """A degraded copy of ``images`` (n, height, width, channels) float32 in [0, 1]; same shape and range."""
    kind, level = check_degradation(kind, level)
    if kind in NOISE_TYPES:
        return corrupt(images, kind, level, rng)
    if kind == "blur":
        sigma = BLUR_SIGMA_AT_FULL_LEVEL * level
        return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma, 0)).astype(np.float32)
    height, width = images.shape[1:3]
    side = round(level * min(height, width))
    occluded = images.copy()
    tops = rng.integers(0, height - side + 1, size=len(images))
    lefts = rng.integers(0, width - side + 1, size=len(images))
    for image, top, left in zip(occluded, tops, lefts):
        image[top : top + side, left : left + side] = 0.0
    return occluded


def classical_filters(images: np.ndarray) -> dict[str, np.ndarray]:
    """name -> ``images`` (n, height, width, channels) through a 3x3 median filter and a Gaussian filter of sigma
    1 pixel, each channel of each image on its own."""
    return {
        "median": ndimage.median_filter(images, size=(1, 3, 3, 1)),
        "gaussian_filter": ndimage.gaussian_filter(images, sigma=(0, 1, 1, 0)),
    }


@dataclass(frozen=True)
class RestorationReport:
    """scores : "noisy" and each restorer -> {"psnr", "ssim"} means over the images (PSNR capped at 100 dB);
    originals, noisy and restored[name] : the first few images (k, height, width, channels)."""

    kind: str
    level: float
    scores: dict[str, dict[str, float]]
    originals: np.ndarray
    noisy: np.ndarray
    restored: dict[str, np.ndarray]
    verdict: str


def restore(
    model, images: np.ndarray, kind: str, level: float, seed: int = 0, denoiser=None, n_preview: int = 8
) -> RestorationReport:
    """Degrade ``images`` with ``kind`` at ``level`` (seeded) and restore them every way; see RestorationReport."""
    kind, level = check_degradation(kind, level)
    if denoiser is not None and tuple(denoiser.input_shape[1:]) != images.shape[1:]:
        raise ValueError(
            f"the denoising run takes {tuple(denoiser.input_shape[1:])} images but these are "
            f"{images.shape[1:]}; give a denoising run trained on the same dataset."
        )
    noisy = degrade(images, kind, level, np.random.default_rng(seed))
    restored = {"autoencoder": reconstruct(model, noisy)}
    if denoiser is not None:
        restored["denoising_autoencoder"] = reconstruct(denoiser, noisy)
    restored.update(classical_filters(noisy))
    scores = {name: _means(images, result) for name, result in {"noisy": noisy, **restored}.items()}
    previews = {name: result[:n_preview] for name, result in restored.items()}
    return RestorationReport(
        kind, level, scores, images[:n_preview], noisy[:n_preview], previews, restoration_verdict(scores)
    )


def _means(originals: np.ndarray, restored: np.ndarray) -> dict[str, float]:
    means = score_images(originals, restored).means()
    return {"psnr": means["psnr"], "ssim": means["ssim"]}


def restoration_report(context, kind: str, level: float, seed: int = 0, denoiser=None) -> RestorationReport:
    """``restore`` on a RunContext's validation images, computed once per run, degradation, seed and denoiser."""
    kind, level = check_degradation(kind, level)
    key = ("restoration", kind, level, seed, None if denoiser is None else id(denoiser))
    return context.cached(
        key, lambda: restore(context.run.model, context.images("validation"), kind, level, seed, denoiser)
    )


def restoration_verdict(scores: dict[str, dict[str, float]]) -> str:
    """Which restorer gives the highest PSNR, by how much over the noisy input, and how the autoencoder stands
    against the best classical filter."""
    noisy = scores["noisy"]["psnr"]
    best = max((name for name in scores if name != "noisy"), key=lambda name: scores[name]["psnr"])
    if scores[best]["psnr"] < noisy:
        return (
            f"No restorer improves on the degraded input ({noisy:.2f} dB): the best, {best.replace('_', ' ')}, "
            f"loses {noisy - scores[best]['psnr']:.2f} dB. At this strength the degraded images are closer to "
            "the originals than any restoration."
        )
    sentence = (
        f"Best: {best.replace('_', ' ')} at {scores[best]['psnr']:.2f} dB, "
        f"{scores[best]['psnr'] - noisy:+.2f} dB over the degraded input ({noisy:.2f} dB)."
    )
    best_filter = max(FILTERS, key=lambda name: scores[name]["psnr"])
    gap = scores["autoencoder"]["psnr"] - scores[best_filter]["psnr"]
    if gap >= 0:
        return sentence + f" The autoencoder beats the {best_filter.replace('_', ' ')} by {gap:.2f} dB."
    loss = f" The {best_filter.replace('_', ' ')} beats the autoencoder by {-gap:.2f} dB"
    advice = ": for this degradation a classical filter is the better tool." if best in FILTERS else "."
    return sentence + loss + advice


def restoration_grid(report: RestorationReport) -> tuple[np.ndarray, list[str]]:
    """One displayable uint8 image: originals, degraded, then each restoration, one row each, and the labels."""
    names = list(report.restored)
    picture = comparison_image(report.originals, report.noisy, *(report.restored[name] for name in names))
    return picture, ["original", f"{report.kind} {report.level:g}", *(name.replace("_", " ") for name in names)]


def strength_sweep(
    model, images: np.ndarray, kind: str, levels=DEFAULT_SWEEP_LEVELS, seed: int = 0, denoiser=None, progress=None
) -> list[dict]:
    """Rows {"level", "method", "psnr", "ssim"} for the degraded input and each restorer at every level.

    progress : called as progress(done, total) after each level.
    """
    rows = []
    for done, level in enumerate(levels, start=1):
        report = restore(model, images, kind, level, seed, denoiser, n_preview=0)
        rows += [{"level": float(level), "method": name, **score} for name, score in report.scores.items()]
        if progress is not None:
            progress(done, len(levels))
    return rows


def sweep_report(
    context, kind: str, seed: int = 0, denoiser=None, n_images: int = SWEEP_IMAGES, progress=None
) -> list[dict]:
    """``strength_sweep`` at DEFAULT_SWEEP_LEVELS on a RunContext's first ``n_images`` validation images, cached
    per run, degradation, seed and denoiser."""
    images = context.images("validation")[:n_images]
    key = ("restoration_sweep", kind, seed, n_images, None if denoiser is None else id(denoiser))
    return context.cached(
        key, lambda: strength_sweep(context.run.model, images, kind, seed=seed, denoiser=denoiser, progress=progress)
    )
