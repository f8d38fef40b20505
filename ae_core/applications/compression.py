"""Compression: the latent code as a compressed image, against PCA and JPEG on the same validation images.

The rate is bytes per image. An autoencoder code of latent_dim numbers costs 4, 2 or 1 byte per number stored at
float32, float16 or 8 bits ("int8"). The 8-bit code maps each dimension linearly from the minimum..maximum of that
dimension over the training codes onto 0..255 (codes outside that range are clipped to it). PCA gets the same byte
budget at the same precision: K = bytes/4 components at float32, bytes/2 at float16, bytes at 8 bits (its
coefficients quantised like the codes). JPEG's bytes are each image's real encoded size from Pillow, headers
included, averaged over the images.
"""

import io
import math
from dataclasses import asdict, dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from sklearn.decomposition import PCA

from ae_core.metrics import score_images
from ae_core.models import decode
from ae_core.plots import comparison_image, to_uint8

BYTES_PER_NUMBER = {"float32": 4, "float16": 2, "int8": 1}
DEFAULT_JPEG_QUALITIES = (10, 50, 90)
METHODS = ("autoencoder", "pca", "jpeg")


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
    if precision not in BYTES_PER_NUMBER:
        raise ValueError(f"precision must be one of {', '.join(BYTES_PER_NUMBER)}; got {precision!r}.")
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


def scored_row(method: str, setting: str, bytes_per_image: float, originals: np.ndarray,
               reconstructions: np.ndarray) -> RateDistortionRow:  # fmt: skip
    """Score ``reconstructions`` of ``originals`` (n, height, width, channels) in [0, 1] at that byte cost."""
    means = score_images(originals, reconstructions).means()
    pixel_bytes = math.prod(originals.shape[1:])  # one byte per 8-bit pixel value
    return RateDistortionRow(method, setting, float(bytes_per_image), means["mse"], means["psnr"], means["ssim"],
                             pixel_bytes / bytes_per_image, 8.0 * bytes_per_image / math.prod(originals.shape[1:3]))


def autoencoder_reconstructions(model, train_codes: np.ndarray, val_codes: np.ndarray) -> dict[str, np.ndarray]:
    """precision -> the model's decoding of ``val_codes`` (n, latent_dim) stored at that precision; the 8-bit
    range comes from ``train_codes``."""
    quantiser = Quantiser.fit(train_codes)
    return {precision: decode(model, round_trip(val_codes, precision, quantiser)) for precision in BYTES_PER_NUMBER}


def pca_reconstructions(x_train: np.ndarray, x_val: np.ndarray, budgets: dict[str, int],
                        seed: int = 0) -> dict[str, tuple[int, np.ndarray]]:  # fmt: skip
    """precision -> (K, reconstructions of x_val) for PCA at ``budgets[precision]`` bytes per image.

    K = bytes / BYTES_PER_NUMBER[precision], capped at what PCA can keep (pixels, training images). One PCA is
    fitted with the largest K: components are nested, so a smaller K is its first K.
    """
    flat_train, flat_val = x_train.reshape(len(x_train), -1), x_val.reshape(len(x_val), -1)  # (n, pixels)
    cap = min(flat_train.shape)
    counts = {p: min(cap, max(1, budget // BYTES_PER_NUMBER[p])) for p, budget in budgets.items()}
    pca = PCA(n_components=max(counts.values()), random_state=seed).fit(flat_train)
    train_coefficients, val_coefficients = pca.transform(flat_train), pca.transform(flat_val)  # (n, K_max)
    results = {}
    for precision, k in counts.items():
        quantiser = Quantiser.fit(train_coefficients[:, :k])
        stored = round_trip(val_coefficients[:, :k], precision, quantiser)
        flat = stored @ pca.components_[:k] + pca.mean_
        results[precision] = (k, np.clip(flat, 0.0, 1.0).reshape(x_val.shape).astype(np.float32))
    return results


def jpeg_round_trip(images: np.ndarray, quality: int) -> tuple[np.ndarray, float]:
    """images (n, height, width, 1 or 3) in [0, 1] through JPEG at ``quality`` (1..95) -> (decoded images,
    mean encoded bytes per image)."""
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be an integer between 1 and 95; got {quality!r}.")
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


def compare_compression(model, x_train: np.ndarray, train_codes: np.ndarray, x_val: np.ndarray,
                        val_codes: np.ndarray, qualities: tuple[int, ...] = DEFAULT_JPEG_QUALITIES,
                        n_preview: int = 8, seed: int = 0) -> CompressionReport:  # fmt: skip
    """The rate-distortion rows of the autoencoder (3 precisions), PCA (same budgets) and JPEG (``qualities``)
    on ``x_val``; codes are (n, latent_dim) from the model's encoder."""
    latent_dim = val_codes.shape[1]
    budgets = {precision: latent_dim * size for precision, size in BYTES_PER_NUMBER.items()}
    results = [("autoencoder", p, budgets[p], images)
               for p, images in autoencoder_reconstructions(model, train_codes, val_codes).items()]
    results += [("pca", f"components={k}", budgets[p], images)
                for p, (k, images) in pca_reconstructions(x_train, x_val, budgets, seed).items()]
    for quality in qualities:
        images, size = jpeg_round_trip(x_val, quality)
        results.append(("jpeg", f"quality={quality}", size, images))
    rows = [scored_row(method, setting, size, x_val, images) for method, setting, size, images in results]
    previews = {(method, setting): images[:n_preview] for method, setting, _, images in results}
    return CompressionReport(rows, x_val[:n_preview], previews, compression_verdict(rows))


def compression_report(context, qualities: tuple[int, ...] = DEFAULT_JPEG_QUALITIES) -> CompressionReport:
    """``compare_compression`` on a RunContext's validation images, computed once per run and qualities."""
    dataset = context.dataset
    return context.cached(("compression", tuple(qualities)), lambda: compare_compression(
        context.run.model, dataset.x_train, context.codes("training"), dataset.x_val, context.codes("validation"),
        tuple(qualities), seed=context.run.train_config.seed))  # fmt: skip


def compression_verdict(rows: list[RateDistortionRow]) -> str:
    """Where the autoencoder's smallest code stands against PCA at the same bytes and against JPEG."""
    code = min((row for row in rows if row.method == "autoencoder"), key=lambda row: row.bytes_per_image)
    pca = next(row for row in rows if row.method == "pca" and row.bytes_per_image == code.bytes_per_image)
    ratio = code.mse / pca.mse if pca.mse > 0 else math.inf
    winner = "the autoencoder wins" if ratio < 1.0 else "PCA wins, so the autoencoder is not worth its cost here"
    sentence = (f"At {code.bytes_per_image:g} bytes per image ({code.compression_ratio:.0f}:1 against 8-bit pixels) "
                f"the autoencoder's error is {ratio:.2f}x PCA's with {pca.setting.replace('=', ' ')} "
                f"({code.mse:.4f} vs {pca.mse:.4f}): {winner}.")
    jpegs = sorted((row for row in rows if row.method == "jpeg"), key=lambda row: row.bytes_per_image)
    matching = next((row for row in jpegs if row.mse <= code.mse), None)
    if not jpegs:
        return sentence
    if matching is None:
        best = min(jpegs, key=lambda row: row.mse)
        return sentence + (f" No JPEG quality tried matches it: the best, {best.setting}, takes "
                           f"{best.bytes_per_image:.0f} bytes for an error of {best.mse:.4f}.")
    if matching.bytes_per_image <= code.bytes_per_image:
        return sentence + (f" JPEG at {matching.setting} matches it in {matching.bytes_per_image:.0f} bytes, so "
                           "JPEG wins here.")
    return sentence + (f" JPEG needs {matching.bytes_per_image:.0f} bytes ({matching.setting}), "
                       f"{matching.bytes_per_image / code.bytes_per_image:.1f}x as many, to match its error.")


def compression_grid(report: CompressionReport, precision: str = "int8") -> tuple[np.ndarray, list[str]]:
    """One displayable image: originals, then the autoencoder at ``precision``, PCA at the same bytes and the JPEG
    closest in bytes, one row each; returns the uint8 image and the four row labels."""
    rows = {(row.method, row.setting): row for row in report.rows}
    code = rows[("autoencoder", precision)]
    pca = next(row for row in report.rows if row.method == "pca" and row.bytes_per_image == code.bytes_per_image)
    chosen = [code, pca]
    jpegs = [row for row in report.rows if row.method == "jpeg"]
    if jpegs:
        chosen.append(min(jpegs, key=lambda row: abs(row.bytes_per_image - code.bytes_per_image)))
    labels = ["original"] + [f"{row.method} {row.setting} ({row.bytes_per_image:.0f} B)" for row in chosen]
    picture = comparison_image(report.originals, *(report.previews[(row.method, row.setting)] for row in chosen))
    return picture, labels


def rate_distortion_figure(rows: list[RateDistortionRow], metric: str = "psnr") -> go.Figure:
    """``metric`` ("mse", "psnr" or "ssim") against bytes per image on a log axis, one line per method."""
    figure = go.Figure()
    for method in METHODS:
        points = sorted((row for row in rows if row.method == method), key=lambda row: row.bytes_per_image)
        if points:
            figure.add_scatter(x=[row.bytes_per_image for row in points], y=[getattr(row, metric) for row in points],
                               text=[row.setting for row in points], mode="lines+markers+text",
                               textposition="top center", name=method)  # fmt: skip
    titles = {"mse": "MSE (lower is better)", "psnr": "PSNR dB (higher is better)", "ssim": "SSIM (higher is better)"}
    figure.update_layout(xaxis_title="bytes per image", yaxis_title=titles[metric], xaxis_type="log",
                         margin=dict(t=30, b=40, l=50, r=10))  # fmt: skip
    return figure
