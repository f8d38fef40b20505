"""Compression: the latent code as a compressed image, against PCA and JPEG on the same validation images.

The rate is bytes per image. An autoencoder code of latent_dim numbers costs 4, 2 or 1 byte per number stored at
float32, float16 or 8 bits ("int8"). The 8-bit code maps each dimension linearly from the minimum..maximum of that
dimension over the training codes onto 0..255 (codes outside that range are clipped to it). PCA gets the same byte
budget at the same precision: K = bytes/4 components at float32, bytes/2 at float16, bytes at 8 bits (its
coefficients quantised like the codes), so K equals the code size at every budget. JPEG's bytes are each image's
real encoded size from Pillow, headers included, averaged over the images.
"""

import io
import math
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from ae_core.figures.images import comparison_image, to_uint8
from ae_core.models.architectures import decode
from ae_core.quality.scores import score_images
from ae_core.validation import Integer, OneOf, check

BYTES_PER_NUMBER = {"float32": 4, "float16": 2, "int8": 1}
DEFAULT_JPEG_QUALITIES = (10, 50, 90)
METHODS = ("autoencoder", "pca", "jpeg")
PRECISION = OneOf(tuple(BYTES_PER_NUMBER))
JPEG_QUALITY = Integer(1, 95)  # Pillow's scale; above 95 it only grows the file
JPEG_QUALITY_HINT = "It is JPEG's quality, from 1 (smallest file) to 95 (best image)."


@dataclass(frozen=True)
class Quantiser:
    """8-bit quantisation per dimension between ``low`` and ``high``, each (dims,) float32."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> "Quantiser":
        """values : (n, dims), e.g. the training codes; the range is their per-dimension min and max."""
        return cls(values.min(axis=0).astype(np.float32), values.max(axis=0).astype(np.float32))

    @property
    def step(self) -> np.ndarray:
        """(dims,) the value of one level; a round trip is off by at most half of it inside the range."""
        return (self.high - self.low) / 255.0

    def encode(self, values: np.ndarray) -> np.ndarray:
        """(n, dims) float -> (n, dims) uint8 levels; values outside [low, high] are clipped."""
        span = np.where(self.high > self.low, self.high - self.low, 1.0)  # a constant dimension needs one level
        return np.round(np.clip((values - self.low) / span, 0.0, 1.0) * 255.0).astype(np.uint8)

    def decode(self, levels: np.ndarray) -> np.ndarray:
        return (self.low + levels.astype(np.float32) * self.step).astype(np.float32)


def round_trip(values: np.ndarray, precision: str, quantiser: Quantiser) -> np.ndarray:
    """``values`` (n, dims) as read back after storing them at ``precision``; float32."""
    precision = check("precision", precision, PRECISION)
    if precision == "int8":
        return quantiser.decode(quantiser.encode(values))
    return values.astype(precision).astype(np.float32)


@dataclass(frozen=True)
class RateDistortionRow:
    """One method at one setting, averaged over the images: bytes per image and MSE, PSNR (dB, capped at 100 per
    image), SSIM. compression_ratio is against 8-bit pixels; bits_per_pixel counts all channels of a pixel."""

    method: str
    setting: str
    bytes_per_image: float
    mse: float
    psnr: float
    ssim: float
    compression_ratio: float
    bits_per_pixel: float

    def to_dict(self) -> dict:
        return asdict(self)


def scored_row(
    method: str, setting: str, bytes_per_image: float, originals: np.ndarray, reconstructions: np.ndarray
) -> RateDistortionRow:
    """Score ``reconstructions`` of ``originals`` (n, height, width, channels) in [0, 1] at that byte cost."""
    means = score_images(originals, reconstructions).means()
    pixel_bytes = math.prod(originals.shape[1:])  # one byte per 8-bit pixel value
    return RateDistortionRow(
        method,
        setting,
        float(bytes_per_image),
        means["mse"],
        means["psnr"],
        means["ssim"],
        pixel_bytes / bytes_per_image,
        8.0 * bytes_per_image / math.prod(originals.shape[1:3]),
    )


def autoencoder_reconstructions(
    model, train_codes: np.ndarray, val_codes: np.ndarray, val_reconstructions: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """precision -> the model's decoding of ``val_codes`` (n, latent_dim) stored at that precision; the 8-bit
    range comes from ``train_codes``. val_reconstructions : the float32 decoding, when the caller has it."""
    quantiser = Quantiser.fit(train_codes)
    decoded = {"float32": val_reconstructions} if val_reconstructions is not None else {}
    for precision in BYTES_PER_NUMBER:
        if precision not in decoded:
            decoded[precision] = decode(model, round_trip(val_codes, precision, quantiser))
    return {precision: decoded[precision] for precision in BYTES_PER_NUMBER}


def pca_reconstructions(pca, x_train: np.ndarray, x_val: np.ndarray) -> dict[str, np.ndarray]:
    """precision -> reconstructions of ``x_val`` from ``pca``'s K coefficients (a fitted scikit-learn PCA) stored at
    that precision; the 8-bit range comes from the coefficients of ``x_train``."""
    flat_train, flat_val = x_train.reshape(len(x_train), -1), x_val.reshape(len(x_val), -1)  # (n, pixels)
    quantiser = Quantiser.fit(pca.transform(flat_train))
    val_coefficients = pca.transform(flat_val)  # (n, K)
    return {
        precision: np.clip(round_trip(val_coefficients, precision, quantiser) @ pca.components_ + pca.mean_, 0.0, 1.0)
        .reshape(x_val.shape)
        .astype(np.float32)
        for precision in BYTES_PER_NUMBER
    }


def jpeg_round_trip(images: np.ndarray, quality: int) -> tuple[np.ndarray, float]:
    """images (n, height, width, 1 or 3) in [0, 1] through JPEG at ``quality`` (1..95) -> (decoded images,
    mean encoded bytes per image)."""
    quality = check("quality", quality, JPEG_QUALITY, JPEG_QUALITY_HINT)
    pixels = to_uint8(images)
    decoded, sizes = np.empty(images.shape, np.float32), []
    for index, image in enumerate(pixels):
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
            buffer, format="JPEG", quality=quality, optimize=True
        )
        sizes.append(buffer.tell())
        decoded[index] = np.asarray(Image.open(buffer)).reshape(image.shape) / 255.0
    return decoded, float(np.mean(sizes))


@dataclass(frozen=True)
class CompressionReport:
    """rows : every method and setting, autoencoder first; previews : (method, setting) -> reconstructions of the
    first ``originals`` (k, height, width, channels); verdict : one or two sentences from the rows."""

    rows: list[RateDistortionRow]
    originals: np.ndarray
    previews: dict[tuple[str, str], np.ndarray]
    verdict: str


def compare_compression(
    model,
    pca,
    x_train: np.ndarray,
    train_codes: np.ndarray,
    x_val: np.ndarray,
    val_codes: np.ndarray,
    qualities: tuple[int, ...] = DEFAULT_JPEG_QUALITIES,
    n_preview: int = 8,
    val_reconstructions: np.ndarray | None = None,
) -> CompressionReport:
    """The rate-distortion rows of the autoencoder and of ``pca`` (a fitted scikit-learn PCA with as many
    components as the code) at each precision, and of JPEG at ``qualities``, on ``x_val``; codes are
    (n, latent_dim) from the model's encoder; val_reconstructions : the model's float32 decoding of val_codes."""
    qualities = tuple(check("quality", quality, JPEG_QUALITY, JPEG_QUALITY_HINT) for quality in qualities)
    latent_dim, components = val_codes.shape[1], pca.n_components_
    decoded = autoencoder_reconstructions(model, train_codes, val_codes, val_reconstructions)
    results = [("autoencoder", p, latent_dim * BYTES_PER_NUMBER[p], images) for p, images in decoded.items()]
    results += [
        ("pca", f"components={components}", components * BYTES_PER_NUMBER[p], images)
        for p, images in pca_reconstructions(pca, x_train, x_val).items()
    ]
    for quality in qualities:
        images, size = jpeg_round_trip(x_val, quality)
        results.append(("jpeg", f"quality={quality}", size, images))
    rows = [scored_row(method, setting, size, x_val, images) for method, setting, size, images in results]
    previews = {(method, setting): images[:n_preview] for method, setting, _, images in results}
    return CompressionReport(rows, x_val[:n_preview], previews, compression_verdict(rows))


def compression_report(context, qualities: tuple[int, ...] = DEFAULT_JPEG_QUALITIES) -> CompressionReport:
    """``compare_compression`` on a RunContext's validation images, computed once per run and qualities."""
    from ae_core.quality.pca_baseline import context_pca

    return context.cached(
        ("compression", tuple(qualities)),
        lambda: compare_compression(
            context.run.model,
            context_pca(context),
            context.dataset.x_train,
            context.codes("training"),
            context.dataset.x_val,
            context.codes("validation"),
            tuple(qualities),
            val_reconstructions=context.reconstructions("validation"),
        ),
    )


def _pca_row(rows: list[RateDistortionRow], precision: str) -> RateDistortionRow:
    """The PCA row stored at ``precision``: PCA rows come in the order of BYTES_PER_NUMBER."""
    return [row for row in rows if row.method == "pca"][list(BYTES_PER_NUMBER).index(precision)]


def compression_verdict(rows: list[RateDistortionRow]) -> str:
    """Where the autoencoder's 8-bit code stands against PCA at the same bytes and precision, and against JPEG."""
    code = next(row for row in rows if row.method == "autoencoder" and row.setting == "int8")
    pca = min((row for row in rows if row.method == "pca"), key=lambda row: row.bytes_per_image)  # its 8-bit row
    ratio = code.mse / pca.mse if pca.mse > 0 else math.inf
    winner = "the autoencoder wins" if ratio < 1.0 else "PCA wins, so the autoencoder is not worth its cost here"
    sentence = (
        f"At {code.bytes_per_image:g} bytes per image ({code.compression_ratio:.0f}:1 against 8-bit pixels) "
        f"the autoencoder's error is {ratio:.2f}x PCA's with {pca.setting.replace('=', ' ')} "
        f"({code.mse:.4f} vs {pca.mse:.4f}): {winner}."
    )
    jpegs = sorted((row for row in rows if row.method == "jpeg"), key=lambda row: row.bytes_per_image)
    matching = next((row for row in jpegs if row.mse <= code.mse), None)
    if not jpegs:
        return sentence
    if matching is None:
        best = min(jpegs, key=lambda row: row.mse)
        return sentence + (
            f" No JPEG quality tried matches it: the best, {best.setting}, takes "
            f"{best.bytes_per_image:.0f} bytes for an error of {best.mse:.4f}."
        )
    if matching.bytes_per_image <= code.bytes_per_image:
        return sentence + (
            f" JPEG at {matching.setting} matches it in {matching.bytes_per_image:.0f} bytes, so JPEG wins here."
        )
    return sentence + (
        f" JPEG needs {matching.bytes_per_image:.0f} bytes ({matching.setting}), "
        f"{matching.bytes_per_image / code.bytes_per_image:.1f}x as many, to match its error."
    )


def compression_grid(report: CompressionReport, precision: str = "int8") -> tuple[np.ndarray, list[str]]:
    """One displayable image: originals, then the autoencoder at ``precision``, PCA at the same bytes and the JPEG
    closest in bytes, one row each; returns the uint8 image and the four row labels."""
    rows = {(row.method, row.setting): row for row in report.rows}
    code = rows[("autoencoder", precision)]
    chosen = [code, _pca_row(report.rows, precision)]
    jpegs = [row for row in report.rows if row.method == "jpeg"]
    if jpegs:
        chosen.append(min(jpegs, key=lambda row: abs(row.bytes_per_image - code.bytes_per_image)))
    labels = ["original"] + [f"{row.method} {row.setting} ({row.bytes_per_image:.0f} B)" for row in chosen]
    picture = comparison_image(report.originals, *(report.previews[(row.method, row.setting)] for row in chosen))
    return picture, labels
