"""Compression: the latent code as a compressed image, against PCA, JPEG and WebP on the same validation images.

The rate is bytes per image. An autoencoder code of latent_dim numbers costs 4, 2 or 1 byte per number stored at
float32, float16 or 8 bits ("int8"). The 8-bit code maps each dimension linearly from the minimum..maximum of that
dimension over the training codes onto 0..255 (codes outside that range are clipped to it); "int8+entropy" is the
same 8-bit code coded losslessly (LZMA over the set's levels, ``codecs.entropy_coded``), so its error is the 8-bit
one and only its bytes shrink. PCA gets the same byte budget at the same precision: K = bytes/4 components at
float32, bytes/2 at float16, bytes at 8 bits (its coefficients quantised and coded like the codes), so K equals the
code size at every budget whenever the data allows that many components. JPEG's bytes are each image's real file
size from Pillow, tables included; "jpeg_shared_tables" counts each image's own stream and reports the tables it
shares with the others once per set; WebP's are each image's file size (see ``ae_core.applications.codecs``).

Every row is scored on the same images: the first ``DEFAULT_MAX_IMAGES`` validation images unless told otherwise.
"""

from dataclasses import dataclass

import numpy as np

from ae_core.applications.codecs import QUALITY as JPEG_QUALITY
from ae_core.applications.codecs import QUALITY_HINT as JPEG_QUALITY_HINT
from ae_core.applications.codecs import (  # noqa: F401 (jpeg_round_trip: part of this module's interface)
    entropy_coded,
    jpeg_files,
    jpeg_round_trip,
    jpeg_shared_tables,
    webp_round_trip,
)
from ae_core.applications.compression_verdict import _pca_row, compression_verdict
from ae_core.applications.rate_distortion import (
    BYTES_PER_NUMBER,
    CODECS,
    ENTROPY,
    Quantiser,
    RateDistortionRow,
    round_trip,
    scored_row,
)
from ae_core.figures.images import comparison_image
from ae_core.models.architectures import decode
from ae_core.quality.scores import score_images
from ae_core.validation import Integer, check

MAX_IMAGES = Integer(1)
DEFAULT_JPEG_QUALITIES = (10, 50, 90)
DEFAULT_MAX_IMAGES = 300  # every row on the same images: means within a few percent, and the panel answers in ~1 s


def autoencoder_reconstructions(
    model, train_codes: np.ndarray, val_codes: np.ndarray, val_reconstructions: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """precision -> the model's decoding of ``val_codes`` (n, latent_dim) stored at that precision; the 8-bit
    range comes from ``train_codes``. val_reconstructions : the float32 decoding, when the caller has it."""
    quantiser = Quantiser.fit(train_codes)
    decoded = {"float32": val_reconstructions} if val_reconstructions is not None else {}
    missing = [precision for precision in BYTES_PER_NUMBER if precision not in decoded]
    stored = [round_trip(val_codes, precision, quantiser) for precision in missing]  # each (n, latent_dim)
    images = decode(model, np.concatenate(stored))  # one call for every precision: (len(missing) * n, ...)
    decoded.update(zip(missing, np.split(images, len(missing))))
    return {precision: decoded[precision] for precision in BYTES_PER_NUMBER}


def pca_reconstructions(pca, x_train: np.ndarray, x_val: np.ndarray) -> dict[str, np.ndarray]:
    """precision -> reconstructions of ``x_val`` from ``pca``'s K coefficients (a fitted scikit-learn PCA) stored at
    that precision; the 8-bit range comes from the coefficients of ``x_train``."""
    return _pca_decoded(pca, *_pca_coefficients(pca, x_train, x_val), x_val.shape)


def _pca_decoded(pca, train_coefficients: np.ndarray, val_coefficients: np.ndarray, shape) -> dict[str, np.ndarray]:
    """``pca_reconstructions`` from the coefficients (n, K) of the training and validation images."""
    quantiser = Quantiser.fit(train_coefficients)
    return {
        precision: np.clip(round_trip(val_coefficients, precision, quantiser) @ pca.components_ + pca.mean_, 0.0, 1.0)
        .reshape(shape)
        .astype(np.float32)
        for precision in BYTES_PER_NUMBER
    }


@dataclass(frozen=True)
class CompressionReport:
    """rows : every method and setting, autoencoder first; previews : (method, setting, precision) ->
    reconstructions of the first ``originals`` (k, height, width, channels); verdict : sentences from the rows;
    n_images : how many validation images every row is scored on."""

    rows: list[RateDistortionRow]
    originals: np.ndarray
    previews: dict[tuple[str, str, str], np.ndarray]
    verdict: str
    n_images: int = 0


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
    max_images: int | None = DEFAULT_MAX_IMAGES,
) -> CompressionReport:
    """The rate-distortion rows of the autoencoder and of ``pca`` (a fitted scikit-learn PCA with as many
    components as the code) at each precision and entropy-coded, and of JPEG, JPEG with shared tables and WebP at
    ``qualities``, on the first ``max_images`` of ``x_val`` (None: all); codes are (n, latent_dim) from the model's
    encoder; val_reconstructions : the model's float32 decoding of val_codes."""
    qualities = tuple(check("quality", quality, JPEG_QUALITY, JPEG_QUALITY_HINT) for quality in qualities)
    if max_images is not None:
        max_images = check("max_images", max_images, MAX_IMAGES, "It is how many validation images are compressed.")
        x_val, val_codes = x_val[:max_images], val_codes[:max_images]
        val_reconstructions = None if val_reconstructions is None else val_reconstructions[:max_images]
    latent_dim, components = val_codes.shape[1], pca.n_components_
    decoded = autoencoder_reconstructions(model, train_codes, val_codes, val_reconstructions)
    coefficients = _pca_coefficients(pca, x_train, x_val)  # training (n_train, K), validation (n, K)
    pca_decoded = _pca_decoded(pca, *coefficients, x_val.shape)
    code_bytes, pca_bytes = _entropy_bytes(train_codes, val_codes), _entropy_bytes(*coefficients)
    setting = f"components={components}"
    results = [("autoencoder", p, p, latent_dim * BYTES_PER_NUMBER[p], images, 0) for p, images in decoded.items()]
    results += [("pca", setting, p, components * BYTES_PER_NUMBER[p], images, 0) for p, images in pca_decoded.items()]
    results += [
        ("autoencoder", ENTROPY, ENTROPY, code_bytes, decoded["int8"], 0),
        ("pca", setting, ENTROPY, pca_bytes, pca_decoded["int8"], 0),
    ]
    for method, codec in (("jpeg", jpeg_files), ("jpeg_shared_tables", jpeg_shared_tables), ("webp", webp_round_trip)):
        for quality in qualities:
            coded = codec(x_val, quality)
            results.append((method, f"quality={quality}", "", coded.bytes_per_image, coded.decoded, coded.shared_bytes))
    rows = _scored_rows(results, x_val)
    previews = {(method, setting, p): images[:n_preview] for method, setting, p, _, images, _ in results}
    return CompressionReport(rows, x_val[:n_preview], previews, compression_verdict(rows), len(x_val))


def _scored_rows(results: list[tuple], originals: np.ndarray) -> list[RateDistortionRow]:
    """A row per (method, setting, precision, bytes, images, shared bytes); images that are the same array (the
    8-bit code and its entropy-coded form) are scored once, and so are identical decodings (JPEG's pixels at one
    quality do not depend on how its tables are stored)."""
    known: list[tuple[np.ndarray, dict]] = []  # (images, their mean scores)
    rows = []
    for method, setting, precision, size, images, shared in results:
        means = next((means for other, means in known if other is images or np.array_equal(other, images)), None)
        if means is None:
            means = score_images(originals, images).means()
            known.append((images, means))
        rows.append(scored_row(method, setting, size, originals, images, precision, shared, means))
    return rows


def _pca_coefficients(pca, x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The PCA coefficients (n, K) of the training and of the validation images."""
    return pca.transform(x_train.reshape(len(x_train), -1)), pca.transform(x_val.reshape(len(x_val), -1))


def _entropy_bytes(train_values: np.ndarray, val_values: np.ndarray) -> float:
    """Bytes per image of ``val_values`` (n, dims) quantised to 8 bits on the range of ``train_values`` and coded
    losslessly (``codecs.entropy_coded``)."""
    return entropy_coded(Quantiser.fit(train_values).encode(val_values))[0]


def compression_report(
    context, qualities: tuple[int, ...] = DEFAULT_JPEG_QUALITIES, max_images: int | None = DEFAULT_MAX_IMAGES
) -> CompressionReport:
    """``compare_compression`` on a RunContext's validation images, computed once per run, qualities and images."""
    from ae_core.quality.pca_baseline import context_pca

    return context.cached(
        ("compression", tuple(qualities), max_images),
        lambda: compare_compression(
            context.run.model,
            context_pca(context),
            context.dataset.x_train,
            context.codes("training"),
            context.dataset.x_val,
            context.codes("validation"),
            tuple(qualities),
            val_reconstructions=context.reconstructions("validation"),
            max_images=max_images,
        ),
    )


def compression_grid(report: CompressionReport, precision: str = "int8") -> tuple[np.ndarray, list[str]]:
    """One displayable image: originals, then the autoencoder at ``precision``, PCA at the same precision and the
    image codec's file closest in bytes, one row each; returns the uint8 image and the four row labels."""
    code = next(row for row in report.rows if row.method == "autoencoder" and row.setting == precision)
    chosen = [code, _pca_row(report.rows, precision)]
    files = [row for row in report.rows if row.method in CODECS]
    if files:
        chosen.append(min(files, key=lambda row: abs(row.bytes_per_image - code.bytes_per_image)))
    labels = ["original"] + [f"{row.method} {row.setting} ({row.bytes_per_image:.0f} B)" for row in chosen]
    picture = comparison_image(
        report.originals, *(report.previews[(row.method, row.setting, row.precision)] for row in chosen)
    )
    return picture, labels
