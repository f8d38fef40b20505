"""What a model's training costs, estimated from its settings before anything is built: its parameter
count and the memory of weights, optimizer slots, gradients and a batch's layer outputs, checked against the limits.
Kept free of Keras, so settings can be checked and described without loading it.
"""

import math
from dataclasses import dataclass

from ae_core.settings import limits
from ae_core.settings.model_config import ModelConfig, check_model_config
from ae_core.units import human_size

BYTES_PER_FLOAT = 4
# Per parameter: the weight, Adam's two moment slots and the gradient. Per activation: the value kept for the backward
# pass and its gradient.
COPIES_PER_PARAMETER = 4
COPIES_PER_ACTIVATION = 2


@dataclass(frozen=True)
class TrainingCost:
    """What training a model costs, known before it is built. ``activations_per_image`` sums the outputs of every
    encoder and decoder layer, inputs included; ``training_bytes`` estimates the memory of one training step:
    ``parameters * 4 bytes * 4 + batch_size * activations_per_image * 4 bytes * 2``."""

    parameters: int
    training_bytes: int
    activations_per_image: int


def _dense_counts(config: ModelConfig, image_shape) -> tuple[int, int]:
    """(parameters, activations per image) of a dense autoencoder, counted layer by layer as ``_dense`` builds it."""
    hidden_units = (64, 32) if config.preset == "seed_dense" else tuple(config.hidden_units)
    heads = 2 if config.preset == "vae" else 1  # z_mean and z_log_var
    pixels, latent_dim = math.prod(image_shape), config.latent_dim
    widths = (pixels, *hidden_units)
    back = (latent_dim, *reversed(hidden_units), pixels)
    parameters = (
        sum(a * b + b for a, b in zip(widths, widths[1:]))
        + heads * (widths[-1] * latent_dim + latent_dim)
        + sum(a * b + b for a, b in zip(back, back[1:]))
    )
    # input, flatten, hidden, code(s) | code input, hidden, pixels, reshape
    activations = 2 * pixels + sum(hidden_units) + heads * latent_dim + latent_dim + sum(hidden_units) + 2 * pixels
    return parameters, activations


def _conv_counts(config: ModelConfig, image_shape) -> tuple[int, int]:
    """(parameters, activations per image) of a conv autoencoder, counted layer by layer as ``_conv`` builds it."""
    height, width, channels = image_shape
    heads = 2 if config.preset == "vae" else 1
    latent_dim, stride_product = config.latent_dim, 2 ** len(config.filters)
    sides = [(math.ceil(height / stride_product) * stride_product, math.ceil(width / stride_product) * stride_product)]
    for _ in config.filters:
        sides.append((sides[-1][0] // 2, sides[-1][1] // 2))
    depths = (channels, *config.filters)
    feature_maps = [h * w * d for (h, w), d in zip(sides, depths)]  # padded input, then each conv's output
    bottom = feature_maps[-1]  # the last conv's output, flattened
    back = (config.filters[-1], *reversed(config.filters))
    parameters = (
        sum(9 * a * b + b for a, b in zip(depths, depths[1:]))
        + heads * (bottom * latent_dim + latent_dim)
        + latent_dim * bottom
        + bottom
        + sum(9 * a * b + b for a, b in zip(back, back[1:]))
        + 9 * config.filters[0] * channels
        + channels
    )
    transposed = sum(h * w * d for (h, w), d in zip(reversed(sides[:-1]), reversed(config.filters)))
    # input, padded, convs, flatten, code(s) | code input, dense, reshape, transposed convs, output conv, crop
    activations = (
        height * width * channels
        + sum(feature_maps)
        + bottom
        + heads * latent_dim
        + latent_dim
        + 2 * bottom
        + transposed
        + feature_maps[0]
        + height * width * channels
    )
    return parameters, activations


def estimate_training_cost(
    model_config: ModelConfig, image_shape: tuple[int, int, int], batch_size: int
) -> TrainingCost:
    """The parameter count (exact: equals the built model's ``count_params()``) and training memory estimate."""
    check_model_config(model_config, image_shape)
    counts = _conv_counts if model_config.is_conv else _dense_counts
    parameters, activations = counts(model_config, tuple(int(side) for side in image_shape))
    training_bytes = BYTES_PER_FLOAT * (
        COPIES_PER_PARAMETER * parameters + COPIES_PER_ACTIVATION * int(batch_size) * activations
    )
    return TrainingCost(parameters=parameters, training_bytes=training_bytes, activations_per_image=activations)


def check_training_cost(model_config: ModelConfig, image_shape: tuple[int, int, int], batch_size: int) -> None:
    """Raise ValueError, before anything is built, when the model or its training exceeds ``limits.current()``."""
    cost, allowed = estimate_training_cost(model_config, image_shape, batch_size), limits.current()
    if cost.parameters > allowed.max_model_parameters:
        raise ValueError(
            f"this model would have {cost.parameters:,} parameters; the limit is "
            f"{allowed.max_model_parameters:,} (AE_MAX_MODEL_PARAMETERS). Use fewer or smaller layers, "
            "or smaller images."
        )
    if cost.training_bytes > allowed.max_training_bytes:
        raise ValueError(
            f"training this model in batches of {batch_size} would need about "
            f"{human_size(cost.training_bytes)}; the limit is {human_size(allowed.max_training_bytes)} "
            "(AE_MAX_TRAINING_BYTES). Use a smaller batch size, smaller layers or smaller images."
        )
