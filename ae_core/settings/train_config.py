"""How to train: ``TrainConfig`` and its checks."""

from dataclasses import asdict, dataclass

from ae_core.settings.model_config import _check_choice, _check_int

OPTIMIZERS = ("adam", "rmsprop", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Epochs and batch size have no default here: ``recommended_settings`` chooses them."""

    epochs: int
    batch_size: int
    learning_rate: float = 1e-3  # Adam's default
    optimizer: str = "adam"
    seed: int = 0
    preview_size: int = 16  # validation images whose reconstructions are recorded every epoch
    map_sample_size: int = 1000  # validation images whose codes are recorded every epoch, for the latent map

    def to_dict(self) -> dict:
        return asdict(self)


def check_train_config(config: TrainConfig, n_train: int) -> None:
    """Raise ValueError with the expected and received values for an impossible setting."""
    for name, low, high in (("epochs", 1, 10_000), ("batch_size", 1, 65_536), ("seed", 0, 2**31 - 1)):
        _check_int(name, getattr(config, name), low, high)
    if config.batch_size > n_train:
        raise ValueError(
            f"batch_size must be at most the number of training images ({n_train}); got {config.batch_size}."
        )
    if not isinstance(config.learning_rate, (int, float)) or not 0.0 < config.learning_rate <= 10.0:
        raise ValueError(f"learning_rate must be a number in (0, 10]; got {config.learning_rate!r}.")
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    _check_int("preview_size", config.preview_size, 1, 64)
    _check_int("map_sample_size", config.map_sample_size, 1, 100_000)
