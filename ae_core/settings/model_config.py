"""What to build: ``ModelConfig``, the presets, and the checks of a model against the images it is for.

Each field is annotated with its rule (``ae_core.validation``), so its range lives in one place; only the checks
that involve two settings, or a setting and the images, are written out here. Kept free of Keras so the pages and
the command line can describe, check and show settings without loading it.
"""

from dataclasses import asdict, dataclass

from ae_core.models.noise import NOISE_TYPES
from ae_core.validation import Integer, Number, OneOf, Sizes, check_fields, from_values

PRESETS = ("seed_dense", "dense", "conv", "denoising", "sparse", "vae")
# The preset the app and the command line start from: on MNIST it reaches 0.36x PCA-32's error within a minute of
# training on a 2-core CPU (bench/quality.py), where the dense presets stay behind PCA.
DEFAULT_PRESET = "conv"
PRESET_TITLES = {
    "seed_dense": "Textbook dense (784-64-32-32)",
    "dense": "Dense",
    "conv": "Convolutional",
    "denoising": "Denoising",
    "sparse": "Sparse",
    "vae": "Variational (VAE)",
}
ARCHITECTURES = ("dense", "conv")
LOSSES = ("mse", "binary_crossentropy")
ACTIVATIONS = ("relu", "elu", "gelu", "tanh", "sigmoid")
MAX_LAYERS = 5  # encoder layers; the decoder mirrors them
# Every image is scored by SSIM (metrics.score_images), whose smallest window is 3x3; scikit-image divides by zero on
# images with a side of 1 or 2. Both architectures accept any size above that (the conv models pad their input).
MIN_IMAGE_SIDE = 3


@dataclass(frozen=True)
class ModelConfig:
    """What to build. Fields a preset does not use are ignored when building (``seed_dense`` ignores all but
    ``latent_dim``), but each must still fit its rule, so that every saved configuration reads back."""

    preset: OneOf(PRESETS) = "dense"
    latent_dim: Integer(2, 256) = 32
    architecture: OneOf(ARCHITECTURES) = "dense"  # base of the denoising, sparse and vae presets
    hidden_units: Sizes(2, 4096, MAX_LAYERS) = (256, 128)  # dense encoder widths; the decoder mirrors them
    filters: Sizes(1, 512, MAX_LAYERS) = (32, 64)  # conv encoder filters, each a stride-2 layer; mirrored too
    activation: OneOf(ACTIVATIONS) = "relu"
    loss: OneOf(LOSSES) = "mse"
    noise_type: OneOf(NOISE_TYPES) = "gaussian"  # denoising only
    noise_level: Number(0, 1) = 0.3  # denoising only: Gaussian sigma, or the fraction of pixels hit
    l1: Number(0, 1) = 1e-4  # sparse only: weight of the L1 penalty on the code
    beta: Number(0, 100) = 1.0  # vae only: weight of the KL term

    @property
    def is_conv(self) -> bool:
        return self.preset == "conv" or (self.preset in ("denoising", "sparse", "vae") and self.architecture == "conv")

    @property
    def corrupts_inputs(self) -> bool:
        return self.preset == "denoising"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict, where: str = "model_config") -> "ModelConfig":
        """The configuration ``values`` (as ``to_dict`` wrote it, a saved run's for instance) describe, each field
        checked and converted (layer sizes to tuples); ValueError naming ``where`` and the field that does not fit.
        Fields missing from older runs take their defaults."""
        return from_values(cls, values, where)


SEED_DENSE = ModelConfig(preset="seed_dense", latent_dim=32, hidden_units=(64, 32), activation="relu", loss="mse")


def parse_layer_sizes(name: str, text: str) -> tuple[int, ...]:
    """Layer sizes typed as text, such as "256,128" -> (256, 128); ValueError naming ``name`` when unreadable."""
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError(f"{name} must be whole numbers separated by commas, such as 256,128; got {text!r}.") from None


def check_model_config(config: ModelConfig, image_shape: tuple[int, int, int]) -> None:
    """Raise ValueError, saying what was expected, what was received and what to do, for a configuration that
    cannot be built for images of ``image_shape`` (height, width, channels)."""
    check_fields(config)
    _check_image_shape(image_shape)
    if config.is_conv:
        _check_conv_depth(config.filters, image_shape)
    if config.preset == "seed_dense" and config.loss != "mse":
        raise ValueError(
            f"loss must be mse for the seed_dense preset, the textbook model; got {config.loss!r}. "
            "Choose the dense preset for another loss."
        )


def _check_image_shape(image_shape) -> None:
    if len(image_shape) != 3 or min(image_shape) < 1 or image_shape[2] not in (1, 3):
        raise ValueError(f"image_shape must be (height, width, 1 or 3 channels); got {tuple(image_shape)}.")
    if min(image_shape[:2]) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"images must be at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels to be scored (SSIM); got "
            f"{image_shape[0]}x{image_shape[1]}. Resize them to {MIN_IMAGE_SIDE} or more pixels a side."
        )


def _check_conv_depth(filters: tuple[int, ...], image_shape) -> None:
    """Each conv layer halves the image (rounding up, after padding): n layers need a side of 2 ** (n - 1)."""
    smallest_side = int(min(image_shape[:2]))
    if 2 ** len(filters) > 2 * smallest_side:
        most_layers = smallest_side.bit_length()  # the largest n with 2 ** (n - 1) <= smallest_side
        raise ValueError(
            f"filters must be at most {most_layers} layers for {image_shape[0]}x{image_shape[1]} images; got "
            f"{tuple(filters)}: {len(filters)} stride-2 conv layers need images of at least "
            f"{2 ** (len(filters) - 1)} pixels a side. Use fewer filters layers."
        )
