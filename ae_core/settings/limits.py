"""Every limit the lab enforces, in one place: what a file, an image set or a model may cost before it is refused.

Each limit has a default chosen for a shared 2-core, 24 GiB server, and an environment variable that whoever runs
the server can set to change it (the README lists them). ``Limits`` reads them (``ae_core.settings.environment``
says how: blank means unset, a malformed value is refused with what to do); ``current()`` reads them at each call,
so a changed variable, or a test's monkeypatch of one, holds at once. Checks happen before the work: from file
sizes, archive directories and headers, never after inflating or decoding.
"""

from ae_core.settings.environment import EnvironmentSettings, WholeNumber
from ae_core.units import human_size

Limit = WholeNumber(1)


class Limits(EnvironmentSettings):
    """Limits in bytes, pixels, images or parameters. Field ``x`` is read from the environment variable ``AE_X``,
    a whole number of at least 1 (underscores may group its digits), else takes the default below."""

    max_upload_bytes: Limit = 200 * 2**20  # Streamlit's own default upload limit (server.maxUploadSize = 200 MB)
    max_file_bytes: Limit = 2**30  # one data file read from disk, compressed
    max_decompressed_bytes: Limit = 2**30  # what one archive, gzip stream or .npz may unpack to
    max_decoded_bytes: Limit = 2**30  # the float32 pixels an image set decodes to
    max_images: Limit = 100_000
    # Images with a longer side are downscaled to this side on loading (aspect kept), with a note saying so.
    max_image_side: Limit = 256
    # Images with more pixels than this are refused from their header, before decoding: a 9000x9000 PNG costs
    # 0.3 s of CPU to decode even when it is then downscaled. A 12-megapixel phone photo (4000x3000) passes.
    max_source_pixels: Limit = 25_000_000
    max_model_parameters: Limit = 50_000_000
    # Estimated memory of one training: weights, optimizer slots and gradients, plus a batch's activations.
    max_training_bytes: Limit = 4 * 2**30

    def describe(self) -> dict[str, str]:
        """Environment variable -> value in words, for the README and the app's settings table: the defaults
        where no variable is set."""
        return {self.variable(name): _in_words(name, getattr(self, name)) for name in type(self).model_fields}

    @classmethod
    def default_in_words(cls, name: str) -> str:
        return _in_words(name, cls.model_fields[name].default)


def _in_words(name: str, value: int) -> str:
    return human_size(value) if name.endswith("_bytes") else f"{value:,}"


def current() -> Limits:
    """The limits in force: each field from its environment variable when set, else the default."""
    return Limits()
