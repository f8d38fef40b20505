"""An independent judge of images: a small CNN classifier trained on a dataset's training split, which scores how
recognisable and how varied a batch of images is, and how close each one lies to a training image.

The judge shares nothing with the autoencoder it judges (its own network, trained on labels the autoencoder never
sees), so a decoder cannot score well by producing what its own encoder likes. One judge is trained per dataset and
split in the process and then reused.
"""

import math
import threading
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score

from ae_core.data import Dataset
from ae_core.latent.nearest import nearest
from ae_core.models.keras_backend import keras, tf

CONFIDENCE = 0.9  # a prediction above this probability counts as a recognisable image
TRAINING_STEPS = 500  # batches of 128: 8 epochs of 8,000 MNIST images (98% accurate), 42 of 1,438 digits (99%)
BATCH_SIZE = 128


@dataclass(frozen=True)
class Scores:
    """How a classifier sees a batch of n images.

    confident_share : in [0, 1], share of images whose most likely class has probability above CONFIDENCE.
    class_histogram : (n_classes,) int64, the predicted classes of those confident images.
    class_entropy : in [0, 1], the histogram's entropy / log(n_classes): 1.0 = every class equally often, 0.0 = one
        class only (or no confident image at all).
    nearest_distances : (n,) float32 >= 0, pixel L2 distance from each image to its nearest training image; near 0
        means the image is a copy of one the model was trained on.
    """

    confident_share: float
    class_histogram: np.ndarray
    class_entropy: float
    nearest_distances: np.ndarray

    @property
    def mean_nearest_distance(self) -> float:
        return float(np.mean(self.nearest_distances))

    def to_dict(self) -> dict:
        """Plain JSON types; the per-image distances are summarised by their mean."""
        return {
            "confident_share": self.confident_share,
            "class_entropy": self.class_entropy,
            "class_histogram": self.class_histogram.tolist(),
            "mean_nearest_distance": self.mean_nearest_distance,
        }


class Judge:
    """A small CNN (after keras-io's examples/vision/mnist_convnet.py) trained on one dataset's training split."""

    def __init__(self, dataset: Dataset, seed: int = 0):
        if dataset.y_train is None:
            raise ValueError(
                f"{dataset.name} is unlabeled; judging generated images needs a labeled dataset such as "
                "digits or mnist, whose classes the judge learns."
            )
        self.n_classes = len(dataset.class_names)
        self.x_train = dataset.x_train
        self.classifier = _train_classifier(dataset.x_train, dataset.y_train, self.n_classes, seed)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """images : (n, height, width, channels) float32 in [0, 1] -> (n, n_classes) class probabilities."""
        return self.classifier.predict(_checked_images(images, self.x_train.shape[1:]), batch_size=1024, verbose=0)

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        """Share of ``images`` whose predicted class equals ``labels`` (n,) int (scikit-learn's ``accuracy_score``)."""
        return float(accuracy_score(labels, np.argmax(self.probabilities(images), axis=1)))

    def score_images(self, images: np.ndarray) -> Scores:
        """Scores of ``images`` (n, height, width, channels) float32 in [0, 1], n >= 1, the training images' shape."""
        probabilities = self.probabilities(images)
        confident = probabilities.max(axis=1) > CONFIDENCE
        histogram = np.bincount(np.argmax(probabilities[confident], axis=1), minlength=self.n_classes)
        return Scores(
            confident_share=float(np.mean(confident)),
            class_histogram=histogram.astype(np.int64),
            class_entropy=normalised_entropy(histogram),
            nearest_distances=nearest_distances(images, self.x_train),
        )


def normalised_entropy(histogram: np.ndarray) -> float:
    """Entropy of ``histogram`` (k,) counts, divided by log(k): in [0, 1]; 0.0 for an empty histogram."""
    total = histogram.sum()
    if total == 0:
        return 0.0
    shares = histogram[histogram > 0] / total
    return float(-(shares * np.log(shares)).sum() / math.log(len(histogram)))


def nearest_distances(images: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Pixel L2 distance from each of ``images`` (n, ...) to its nearest of ``references`` (m, ...) -> (n,) float32,
    by ``latent.nearest.nearest``."""
    _, distances = nearest(images, references, 1)  # (n, 1)
    return distances[:, 0]


def _checked_images(images: np.ndarray, image_shape: tuple) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != tuple(image_shape) or len(images) == 0:
        raise ValueError(
            f"images must be an array of shape (n >= 1, {', '.join(map(str, image_shape))}) like the "
            f"judge's training images; got shape {images.shape}."
        )
    return images.astype(np.float32, copy=False)


def _build_classifier(image_shape: tuple, n_classes: int, seed: int) -> keras.Model:
    """Two conv + max-pool blocks, dropout and a softmax layer; every layer seeded, so no process-wide state."""

    def conv(filters):
        return keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + filters),
        )

    pool_size = 2 if min(image_shape[:2]) >= 4 else 1  # 8x8 digits pool to 2x2; tiny images are not pooled
    return keras.Sequential(
        [
            keras.Input(image_shape),
            conv(32),
            keras.layers.MaxPooling2D(pool_size),
            conv(64),
            keras.layers.MaxPooling2D(pool_size),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5, seed=seed),
            keras.layers.Dense(
                n_classes, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed=seed)
            ),
        ],
        name="judge",
    )


def _train_classifier(x_train: np.ndarray, y_train: np.ndarray, n_classes: int, seed: int) -> keras.Model:
    classifier = _build_classifier(x_train.shape[1:], n_classes, seed)
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    # A seeded shuffle, so the same data gives the same judge and a benchmark's figures repeat.
    batches = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=seed)
    epochs = math.ceil(TRAINING_STEPS / math.ceil(len(x_train) / BATCH_SIZE))
    classifier.fit(batches.batch(BATCH_SIZE), epochs=epochs, shuffle=False, verbose=0)  # shuffled above
    return classifier


_JUDGES: dict[tuple, Judge] = {}
_JUDGES_LOCK = threading.Lock()


def judge_for(dataset: Dataset) -> Judge:
    """The process's judge for ``dataset`` on its split, trained on first use (seconds) and then reused."""
    key = (dataset.name, dataset.split)
    with _JUDGES_LOCK:  # held while training, so two sessions asking at once train one judge
        if key not in _JUDGES:
            _JUDGES[key] = Judge(dataset)
        return _JUDGES[key]


def judge_ready(dataset: Dataset) -> bool:
    """Whether ``judge_for(dataset)`` returns at once, its judge trained already; read without the lock, which a
    training judge holds, so a page can say a wait is coming."""
    return (dataset.name, dataset.split) in _JUDGES
