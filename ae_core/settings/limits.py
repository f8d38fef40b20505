"""Every limit the lab enforces, in one place: what a file, an image set or a model may cost before it is refused.

Each limit has a default chosen for a shared 2-core, 24 GiB server, and an environment variable that whoever runs
the server can set to change it (the README lists them). Limits are read at each call through ``current()``, so a
changed variable, or a test's monkeypatch of one, holds at once. Checks happen before the work: from file sizes,
archive directories and headers, never after inflating or decoding.
"""

import os
from dataclasses import dataclass, fields

from ae_core.units import human_size

ENV_PREFIX = "AE_"


@dataclass(frozen=True)
class Limits:
    """Limits in bytes, pixels, images or parameters. Field ``x`` is set by the environment variable ``AE_X``."""

    max_upload_bytes: int = 200 * 2**20  # Streamlit's own default upload limit (server.maxUploadSize = 200 MB)
    max_file_bytes: int = 2**30  # one data file read from disk, compressed
    max_decompressed_bytes: int = 2**30  # what one archive, gzip stream or .npz may unpack to
    max_decoded_bytes: int = 2**30  # the float32 pixels an image set decodes to
    max_images: int = 100_000
    # Images with a longer side are downscaled to this side on loading (aspect kept), with a note saying so.
    max_image_side: int = 256
    # Images with more pixels than this are refused from their header, before decoding: a 9000x9000 PNG costs
    # 0.3 s of CPU to decode even when it is then downscaled. A 12-megapixel phone photo (4000x3000) passes.
    max_source_pixels: int = 25_000_000
    max_model_parameters: int = 50_000_000
    # Estimated memory of one training: weights, optimizer slots and gradients, plus a batch's activations.
    max_training_bytes: int = 4 * 2**30

    def describe(self) -> dict[str, str]:
        """Environment variable -> current value in words, for the README and the app's settings table."""
        return {
            f"{ENV_PREFIX}{field.name.upper()}": _in_words(field.name, getattr(self, field.name))
            for field in fields(self)
        }


def _in_words(name: str, value: int) -> str:
    return human_size(value) if name.endswith("_bytes") else f"{value:,}"


def current() -> Limits:
    """The limits in force: each field from its environment variable when set, else the default."""
    values = {}
    for field in fields(Limits):
        variable = f"{ENV_PREFIX}{field.name.upper()}"
        text = os.environ.get(variable)
        if text is None or not text.strip():
            continue
        try:
            values[field.name] = int(text.replace("_", ""))
        except ValueError:
            raise ValueError(
                f"{variable} must be a whole number; got {text!r}. Unset it to use the default, "
                f"{_in_words(field.name, field.default)}."
            ) from None
        if values[field.name] < 1:
            raise ValueError(f"{variable} must be at least 1; got {text!r}.")
    return Limits(**values)
