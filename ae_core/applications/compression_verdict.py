"""The compression panel's verdict: the code against PCA at the same bytes, and against each codec at equal bytes or,
when no file tried is that small, at equal error.
"""

import math

from ae_core.applications.rate_distortion import BYTES_PER_NUMBER, CODECS, ENTROPY, RateDistortionRow


def _pca_row(rows: list[RateDistortionRow], precision: str) -> RateDistortionRow:
    """The PCA row stored at ``precision`` (fixed-width PCA rows come in the order of BYTES_PER_NUMBER)."""
    pca = [row for row in rows if row.method == "pca"]
    same = [row for row in pca if row.precision == precision]
    index = list(BYTES_PER_NUMBER).index(precision)
    return same[0] if same else pca[index] if index < len(pca) else min(pca, key=lambda row: row.bytes_per_image)


def compression_verdict(rows: list[RateDistortionRow]) -> str:
    """Where the autoencoder's 8-bit code stands against PCA at the same bytes and precision, entropy-coded, and
    against each image codec at equal bytes (or at equal error, when no file is that small)."""
    code = next(row for row in rows if row.method == "autoencoder" and row.setting == "int8")
    pca = _pca_row(rows, "int8")
    ratio = code.mse / pca.mse if pca.mse > 0 else math.inf
    winner = "the autoencoder wins" if ratio < 1.0 else "PCA wins, so the autoencoder is not worth its cost here"
    components = pca.setting.replace("components=", "")
    budget = (
        "the same bytes"
        if pca.bytes_per_image == code.bytes_per_image
        else f"{pca.bytes_per_image:g} bytes, not the same bytes: the data allows only {components} components"
    )
    sentences = [
        f"At {code.bytes_per_image:g} bytes per image ({code.compression_ratio:.0f}:1 against 8-bit pixels, "
        f"{code.bits_per_pixel:.2g} bits per pixel) the autoencoder's error is {ratio:.2f}x PCA's with {components} "
        f"components in {budget} ({code.mse:.4f} vs {pca.mse:.4f}): {winner}."
    ]
    coded = {row.method: row for row in rows if row.precision == ENTROPY}
    if len(coded) == 2:
        sentences.append(
            f"Entropy-coded, the 8-bit code takes {coded['autoencoder'].bytes_per_image:.1f} bytes and PCA's "
            f"coefficients {coded['pca'].bytes_per_image:.1f}, at the same errors."
        )
    budget = min(row.bytes_per_image for row in rows if row.method == "autoencoder" and row.mse == code.mse)
    for method, name in CODECS.items():
        points = sorted((row for row in rows if row.method == method), key=lambda row: row.bytes_per_image)
        if points:
            sentences.append(_codec_sentence(name, points, code, budget))
    return " ".join(sentences)


def _codec_sentence(name: str, points: list[RateDistortionRow], code: RateDistortionRow, budget: float) -> str:
    """``name``'s rows (sorted by bytes) against the code with the error of ``code`` in ``budget`` bytes."""
    fitting = [row for row in points if row.bytes_per_image <= budget]
    if fitting:
        best = min(fitting, key=lambda row: row.mse)
        outcome = f"{name} wins" if best.mse < code.mse else "the code wins"
        return (
            f"{name} at {best.setting} fits in {best.bytes_per_image:.0f} bytes, within the code's {budget:.0f}, "
            f"with an error of {best.mse:.4f} against the code's {code.mse:.4f}: at equal bytes {outcome}."
        )
    smallest, ratio = points[0], points[0].bytes_per_image / budget
    matching = next((row for row in points if row.mse <= code.mse), None)
    if matching is smallest:
        return (
            f"{name} needs {smallest.bytes_per_image:.0f} bytes ({smallest.setting}), {ratio:.1f}x the code's "
            f"{budget:.0f}, to match its error; no quality tried is that small, so at equal bytes the code wins."
        )
    start = (
        f"The smallest {name} file ({smallest.setting}) takes {smallest.bytes_per_image:.0f} bytes, {ratio:.1f}x "
        f"the code's {budget:.0f}, so at equal bytes the code wins."
    )
    if matching is None:
        best = min(points, key=lambda row: row.mse)
        return start + (
            f" No {name} quality tried matches its error: the best, {best.setting}, takes "
            f"{best.bytes_per_image:.0f} bytes for an error of {best.mse:.4f}."
        )
    return start + (
        f" {name} needs {matching.bytes_per_image:.0f} bytes ({matching.setting}), "
        f"{matching.bytes_per_image / budget:.1f}x as many, to match its error."
    )
