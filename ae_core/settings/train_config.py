"""How to train: ``TrainConfig``, each field annotated with its rule (``ae_core.validation``), and its checks."""

from dataclasses import asdict, dataclass

from ae_core.validation import Integer, Number, OneOf, check_fields, from_values

OPTIMIZERS = ("adam", "rmsprop", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Epochs and batch size have no default here: ``recommended_settings`` chooses them."""

    epochs: Integer(1, 10_000)
    batch_size: Integer(1, 65_536)
    learning_rate: Number(0, 10, low_open=True) = 1e-3  # Adam's default
    optimizer: OneOf(OPTIMIZERS) = "adam"
    seed: Integer(0, 2**31 - 1) = 0
    preview_size: Integer(1, 64) = 16  # validation images whose reconstructions are recorded every epoch
    map_sample_size: Integer(1, 100_000) = 1000  # validation images whose codes are recorded every epoch

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict, where: str = "train_config") -> "TrainConfig":
        """The configuration ``values`` (as ``to_dict`` wrote it) describe, each field checked; ValueError naming
        ``where`` and the field that does not fit."""
        return from_values(cls, values, where)


def check_train_config(config: TrainConfig, n_train: int) -> None:
    """Raise ValueError, saying what was expected, what was received and what to do, for an impossible setting
    or a batch larger than the ``n_train`` training images."""
    check_fields(config)
    if config.batch_size > n_train:
        raise ValueError(
            f"batch_size must be at most the number of training images ({n_train:,}); got {config.batch_size:,}. "
            f"Use a batch of {n_train:,} or fewer images."
        )
