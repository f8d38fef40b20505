"""Training speed: the textbook model through ae_core (listener attached) vs the textbook script's plain model.fit.

Same data (MNIST's 10,000 test images: first 8,000 train, last 2,000 validation), batch 256, 20 epochs, the two
measured alternately so machine noise hits both. Prints a markdown table.

    AE_DATA_DIR=../shared/data .venv/bin/python bench/training_speed.py [--repeats 3] [--epochs 20]
"""

import argparse
import statistics
import time

from ae_core.data import load_dataset
from ae_core.models.architectures import build_autoencoder
from ae_core.models.keras_backend import keras
from ae_core.settings.model_config import SEED_DENSE
from ae_core.settings.train_config import TrainConfig
from ae_core.training.engine import train
from ae_core.training.events import TrainingListener


class Recorder(TrainingListener):
    """What a user interface does at the least: keep every batch's logs and every epoch's preview."""

    def __init__(self):
        self.batches, self.epochs = [], []

    def on_batch(self, progress):
        self.batches.append(progress.logs)

    def on_epoch_end(self, epoch):
        self.epochs.append(epoch)


def plain_fit(x_train, x_val, epochs: int, seed: int) -> tuple[float, float]:
    """The textbook script: flat 784-pixel vectors, model.fit with validation data; (seconds, final val loss)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((784,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    hidden = keras.layers.Dense(32, activation="relu")(hidden)
    code = keras.layers.Dense(32)(hidden)
    hidden = keras.layers.Dense(32, activation="relu")(code)
    hidden = keras.layers.Dense(64, activation="relu")(hidden)
    autoencoder = keras.Model(inputs, keras.layers.Dense(784)(hidden))
    autoencoder.compile(optimizer="adam", loss="mse")
    flat_train, flat_val = x_train.reshape(-1, 784), x_val.reshape(-1, 784)
    started = time.perf_counter()
    history = autoencoder.fit(
        flat_train,
        flat_train,
        epochs=epochs,
        batch_size=256,
        shuffle=True,
        validation_data=(flat_val, flat_val),
        verbose=0,
    )
    return time.perf_counter() - started, history.history["val_loss"][-1]


def ae_core_train(x_train, x_val, epochs: int, seed: int) -> tuple[float, float]:
    model = build_autoencoder(SEED_DENSE, x_train.shape[1:], seed=seed)
    started = time.perf_counter()
    result = train(model, x_train, x_val, SEED_DENSE, TrainConfig(epochs=epochs, batch_size=256, seed=seed), Recorder())
    return time.perf_counter() - started, result.history["val_loss"][-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    dataset = load_dataset("mnist", allow_download=False)
    samples = args.epochs * dataset.n_train
    rows = {"plain model.fit": [], "ae_core train + listener": []}
    for repeat in range(args.repeats):
        rows["plain model.fit"].append(plain_fit(dataset.x_train, dataset.x_val, args.epochs, seed=repeat))
        rows["ae_core train + listener"].append(ae_core_train(dataset.x_train, dataset.x_val, args.epochs, seed=repeat))
    reference_seconds = statistics.median(seconds for seconds, _ in rows["plain model.fit"])
    reference_loss = statistics.median(loss for _, loss in rows["plain model.fit"])
    print(
        f"MNIST {dataset.n_train} train / {dataset.n_val} val, batch 256, {args.epochs} epochs, "
        f"median of {args.repeats} alternating repeats\n"
    )
    print("| training | s/epoch | samples/s | throughput vs fit | final val MSE | vs fit |")
    print("|---|---|---|---|---|---|")
    for name, measurements in rows.items():
        seconds = statistics.median(seconds for seconds, _ in measurements)
        loss = statistics.median(loss for _, loss in measurements)
        print(
            f"| {name} | {seconds / args.epochs:.3f} | {samples / seconds:,.0f} | {reference_seconds / seconds:.2f}x "
            f"| {loss:.4f} | {100 * (loss / reference_loss - 1):+.1f}% |"
        )


if __name__ == "__main__":
    main()
