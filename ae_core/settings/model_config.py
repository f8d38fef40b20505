"""What to build and how to train it: typed configurations and their validation.

Kept free of Keras so the pages and the command line can describe, check and show settings without loading it.
"""

from dataclasses import asdict, dataclass

import numpy as np

from ae_core.models.noise import check_noise

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
# Every image is scored by SSIM (metrics.score_images), whose smallest window is 3x3; scikit-image divides by zero on
# images with a side of 1 or 2. Both architectures accept any size above that (the conv models pad their input).
MIN_IMAGE_SIDE = 3


@dataclass(frozen=True)
class ModelConfig:
    """What to build. Fields a preset does not use are ignored (``seed_dense`` ignores all but ``latent_dim``)."""

    preset: str = "dense"
    latent_dim: int = 32
    architecture: str = "dense"  # base of the denoising, sparse and vae presets; "conv" for the conv preset
    hidden_units: tuple[int, ...] = (256, 128)  # dense encoder widths; the decoder mirrors them
    filters: tuple[int, ...] = (32, 64)  # conv encoder filters, each a stride-2 layer; the decoder mirrors them
    activation: str = "relu"
    loss: str = "mse"
    noise_type: str = "gaussian"  # denoising only
    noise_level: float = 0.3  # denoising only: Gaussian sigma, or the fraction of pixels hit
    l1: float = 1e-4  # sparse only: weight of the L1 penalty on the code
    beta: float = 1.0  # vae only: weight of the KL term

    @property
    def is_conv(self) -> bool:
        return self.preset == "conv" or (self.preset in ("denoising", "sparse", "vae") and self.architecture == "conv")

    @property
    def corrupts_inputs(self) -> bool:
        return self.preset == "denoising"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        values = dict(values)
        for name in ("hidden_units", "filters"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


SEED_DENSE = ModelConfig(preset="seed_dense", latent_dim=32, hidden_units=(64, 32), activation="relu", loss="mse")


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer between {low} and {high}; got {value!r}.")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def parse_layer_sizes(name: str, text: str) -> tuple[int, ...]:
    """Layer sizes typed as text, such as "256,128" -> (256, 128); ValueError naming ``name`` when unreadable."""
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError(f"{name} must be whole numbers separated by commas, such as 256,128; got {text!r}.") from None


def check_model_config(config: ModelConfig, image_shape: tuple[int, int, int]) -> None:
    """Raise ValueError with the expected and received values for anything that cannot be built."""
    _check_choice("preset", config.preset, PRESETS)
    if len(image_shape) != 3 or min(image_shape) < 1 or image_shape[2] not in (1, 3):
        raise ValueError(f"image_shape must be (height, width, 1 or 3); got {tuple(image_shape)}.")
    if min(image_shape[:2]) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"images must be at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels to be scored (SSIM); got "
            f"{image_shape[0]}x{image_shape[1]}. Resize them to {MIN_IMAGE_SIDE} or more pixels a side."
        )
    _check_int("latent_dim", config.latent_dim, 2, 256)
    _check_choice("architecture", config.architecture, ARCHITECTURES)
    _check_choice("activation", config.activation, ACTIVATIONS)
    _check_choice("loss", config.loss, LOSSES)
    if config.is_conv:
        _check_layers("filters", config.filters, 1, 512)
        smallest_side = min(image_shape[:2])
        if 2 ** len(config.filters) > 2 * smallest_side:
            raise ValueError(
                f"{len(config.filters)} stride-2 conv layers need images of at least {2 ** (len(config.filters) - 1)} "
                f"pixels a side; got {image_shape[0]}x{image_shape[1]}. Use fewer filters layers."
            )
    elif config.preset != "seed_dense":
        _check_layers("hidden_units", config.hidden_units, 2, 4096)
    if config.preset == "seed_dense" and config.loss != "mse":
        raise ValueError(f"The seed_dense preset is the textbook model with MSE loss; got loss={config.loss!r}.")
    if config.corrupts_inputs:
        check_noise(config.noise_type, config.noise_level)
    if not isinstance(config.l1, (int, float)) or not 0.0 <= config.l1 <= 1.0:
        raise ValueError(f"l1 must be a number between 0 and 1; got {config.l1!r}.")
    if not isinstance(config.beta, (int, float)) or not 0.0 <= config.beta <= 100.0:
        raise ValueError(f"beta must be a number between 0 and 100; got {config.beta!r}.")


def _check_layers(name: str, sizes, low: int, high: int) -> None:
    if not isinstance(sizes, (tuple, list)) or not 1 <= len(sizes) <= 5:
        raise ValueError(f"{name} must list 1 to 5 layer sizes; got {sizes!r}.")
    for size in sizes:
        _check_int(f"each of {name}", size, low, high)
