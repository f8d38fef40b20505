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

    # Memory shared by everyone: the decoded uploads all sessions hold at once. Four of the largest image sets
    # (max_decoded_bytes each), a sixth of the server's memory.
    max_upload_memory_bytes: Limit = 4 * 2**30

    # The runs folder. A saved run's files are read only within these, far above what the lab writes, so a file
    # grown or planted there costs a stat, never a parse.
    # run.json: its 2,000 batch losses at most and 10,000 epochs of six metrics (a VAE's most) write 1.7 MB.
    max_run_json_bytes: Limit = 4 * 2**20
    # preview.npz, on disk and its arrays unpacked: the reconstructions and codes recorded after every epoch. A
    # 10-minute run writes about 30 MB (2,000 epochs of digits, 150 of MNIST); a run whose record is larger is
    # refused at save, never written unreadable.
    max_preview_bytes: Limit = 128 * 2**20
    # A saved model's weights and its optimizer's state (Adam keeps two more copies): about 5.5 million weights.
    max_saved_model_bytes: Limit = 64 * 2**20
    # Disk for saved runs: one workspace's runs in one runs folder, together, and every run in it, together.
    max_workspace_runs_bytes: Limit = 256 * 2**20
    max_runs_dir_bytes: Limit = 4 * 2**30

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
