"""An independent judge of images: a small CNN classifier trained on a dataset's training split, which scores how
recognisable and how varied a batch of images is, and how close each one lies to a training image.

The judge shares nothing with the autoencoder it judges (its own network, trained on labels the autoencoder never
sees), so a decoder cannot score well by producing what its own encoder likes. One judge is trained per dataset
content (the split's content hash) in the process, reused, and dropped with the last dataset of that content. Its
penultimate layer's features give a batch's Fréchet distance to real images (``frechet``).
"""

import math
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score

from ae_core.data import Dataset
from ae_core.generation.frechet import feature_statistics, frechet_distance
from ae_core.latent.nearest import nearest
from ae_core.models.keras_backend import keras, tf

CONFIDENCE = 0.9  # a prediction above this probability counts as a recognisable image
TRAINING_STEPS = 500  # batches of 128: 8 epochs of 8,000 MNIST images (98% accurate), 42 of 1,438 digits (99%)
BATCH_SIZE = 128
FEATURES = "features"  # the judge's penultimate layer
FEATURE_SIZE = 128  # as in the LeNet-style classifiers MNIST's Fréchet distances are usually measured with


@dataclass(frozen=True)
class Scores:
    """How a classifier sees a batch of n images.

    confident_share : in [0, 1], share of images whose most likely class has probability above CONFIDENCE.
    class_histogram : (n_classes,) int64, the predicted classes of those confident images.
    class_entropy : in [0, 1], the histogram's entropy / log(n_classes): 1.0 = every class equally often, 0.0 = one
        class only; None when no image was confident, so there is no spread to measure.
    nearest_distances : (n,) float32 >= 0, pixel L2 distance from each image to its nearest training image.
    relative_distances : (n,) float32 >= 0, each of nearest_distances over the typical (median) one of real
        validation images: 1 is as near as an unseen real image; far below 1 is a copy, or a blur near everything.
    frechet_distance : the Fréchet distance of the batch's judge features to those of half the real validation
        images (``Judge.score_images``); None for a batch of one image.
    """

    confident_share: float
    class_histogram: np.ndarray
    class_entropy: float | None
    nearest_distances: np.ndarray
    relative_distances: np.ndarray | None = None
    frechet_distance: float | None = None

    @property
    def mean_nearest_distance(self) -> float:
        return float(np.mean(self.nearest_distances))

    @property
    def median_relative_distance(self) -> float | None:
        return None if self.relative_distances is None else float(np.median(self.relative_distances))

    def to_dict(self) -> dict:
        """Plain JSON types; the per-image distances are summarised by their mean."""
        return {
            "confident_share": self.confident_share,
            "class_entropy": self.class_entropy,
            "class_histogram": self.class_histogram.tolist(),
            "mean_nearest_distance": self.mean_nearest_distance,
            "median_relative_distance": self.median_relative_distance,
            "frechet_distance": self.frechet_distance,
        }


class Judge:
    """A small CNN (after keras-io's examples/vision/mnist_convnet.py) trained on one dataset's training split."""

    def __init__(self, dataset: Dataset, seed: int = 0, on_step=None, train_classifier=None):
        """``train_classifier(x_train, y_train, n_classes, seed, on_step)`` trains the classifier: here by default,
        or elsewhere (``judge_process.train_classifier_in_child``)."""
        if dataset.y_train is None:
            raise ValueError(
                f"{dataset.name} is unlabeled; judging generated images needs a labeled dataset such as "
                "digits or mnist, whose classes the judge learns."
            )
        self.n_classes = len(dataset.class_names)
        self.x_train = dataset.x_train
        train_classifier = train_classifier or _train_classifier
        self.classifier = train_classifier(dataset.x_train, dataset.y_train, self.n_classes, seed, on_step)
        self.feature_model = keras.Model(self.classifier.inputs, self.classifier.get_layer(FEATURES).output)
        # The real reference: validation images, in two halves. The second half's feature statistics are what every
        # batch is compared with; the first half, cut to a batch's size, gives the real-against-real distance.
        half = len(dataset.x_val) // 2
        self.real_features = self.features(dataset.x_val[:half]) if half >= 2 else None
        self.reference = feature_statistics(self.features(dataset.x_val[half:])) if half >= 2 else None
        self.typical_distance = float(np.median(nearest_distances(dataset.x_val, self.x_train)))

    def features(self, images: np.ndarray) -> np.ndarray:
        """images : (n, height, width, channels) float32 in [0, 1] -> (n, FEATURE_SIZE) float32, the penultimate
        layer's activations, on which Fréchet distances are measured."""
        checked = _checked_images(images, self.x_train.shape[1:])
        return self.feature_model.predict(checked, batch_size=1024, verbose=0)

    def real_frechet_distance(self, n: int) -> float | None:
        """The Fréchet distance of ``n`` real validation images (the first half's first n) to the same reference as
        a batch's: what a batch of n perfect samples would score. None when the validation set is too small."""
        if self.reference is None or n < 2:
            return None
        return frechet_distance(self.real_features[:n], self.reference)

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
        distances = nearest_distances(images, self.x_train)
        measurable = self.reference is not None and len(images) >= 2
        return Scores(
            confident_share=float(np.mean(confident)),
            class_histogram=histogram.astype(np.int64),
            class_entropy=normalised_entropy(histogram) if confident.any() else None,
            nearest_distances=distances,
            relative_distances=distances / self.typical_distance if self.typical_distance > 0 else None,
            frechet_distance=frechet_distance(self.features(images), self.reference) if measurable else None,
        )


def normalised_entropy(histogram: np.ndarray) -> float:
    """Entropy of ``histogram`` (k,) counts, divided by log(k): in [0, 1]; 0.0 for an empty histogram."""
    total = histogram.sum()
    if total == 0:
        return 0.0
    shares = histogram[histogram > 0] / total
    return max(0.0, float(-(shares * np.log(shares)).sum() / math.log(len(histogram))))  # never -0.0


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
            keras.layers.Dense(  # the penultimate layer: the features Fréchet distances are measured on
                FEATURE_SIZE,
                activation="relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                name=FEATURES,
            ),
            keras.layers.Dropout(0.5, seed=seed),
            keras.layers.Dense(
                n_classes, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed=seed)
            ),
        ],
        name="judge",
    )


def _train_classifier(x_train: np.ndarray, y_train: np.ndarray, n_classes: int, seed: int, on_step=None):
    """The trained classifier; ``on_step(done, total)`` after each training batch, when given."""
    classifier = _build_classifier(x_train.shape[1:], n_classes, seed)
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    # A seeded shuffle, so the same data gives the same judge and a benchmark's figures repeat.
    batches = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=seed)
    epochs = math.ceil(TRAINING_STEPS / math.ceil(len(x_train) / BATCH_SIZE))
    total = epochs * math.ceil(len(x_train) / BATCH_SIZE)
    callbacks = [] if on_step is None else [_StepCallback(on_step, total)]
    classifier.fit(batches.batch(BATCH_SIZE), epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    return classifier


class _StepCallback(keras.callbacks.Callback):
    def __init__(self, on_step, total: int):
        super().__init__()
        self.on_step, self.total, self.done = on_step, total, 0

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        self.on_step(self.done, self.total)


_JUDGES: dict[tuple, Judge] = {}
_JUDGES_LOCK = threading.Lock()  # guards _TRAINING_LOCKS
_TRAINING_LOCKS: dict[tuple, threading.Lock] = {}  # judge_key -> held while that judge trains
_PROGRESS: dict[tuple, float] = {}  # judge_key -> share of the training steps done, while it trains
_USERS: dict[tuple, weakref.WeakSet] = {}  # judge_key -> the live datasets that asked for that judge


def judge_key(dataset: Dataset) -> tuple:
    """What a judge is known by: the content hash of its dataset's images and labels on their split, so two uploads
    of one name and size get a judge each; a dataset without a hash, by its name and split."""
    digest = dataset.split.content_hash
    return ("content", digest) if digest else (dataset.name, dataset.split)


def _used_by(key: tuple, dataset: Dataset) -> None:
    """Count ``dataset`` among the users of judge ``key``; the judge is dropped when the last of them is freed."""
    users = _USERS.setdefault(key, weakref.WeakSet())
    if dataset not in users:
        users.add(dataset)
        weakref.finalize(dataset, _release, key)


def _release(key: tuple) -> None:
    # Runs when a dataset is freed, on whatever thread frees it, maybe inside judge_for: so no lock is taken, and
    # each step is one atomic dict operation. A dataset being freed is no longer in its WeakSet.
    users = _USERS.get(key)
    if users is not None and not list(users):
        _USERS.pop(key, None)
        _JUDGES.pop(key, None)
        _TRAINING_LOCKS.pop(key, None)


def judge_for(dataset: Dataset, train_classifier=None) -> Judge:
    """The process's judge for ``dataset``'s content (``judge_key``), trained on first use (seconds) and reused
    until the last dataset object with that content is freed; ``train_classifier`` as ``Judge``'s."""
    key = judge_key(dataset)
    _used_by(key, dataset)
    judge = _JUDGES.get(key)
    if judge is not None:
        return judge
    with _JUDGES_LOCK:
        training_lock = _TRAINING_LOCKS.setdefault(key, threading.Lock())
    # held while training, so two sessions asking at once train one judge, and a judge that trains keeps nobody
    # from another judge that is ready
    with training_lock:
        if key not in _JUDGES:
            _PROGRESS[key] = 0.0
            try:
                _JUDGES[key] = Judge(
                    dataset,
                    on_step=lambda done, total: _PROGRESS.__setitem__(key, done / total),
                    train_classifier=train_classifier,
                )
            finally:
                del _PROGRESS[key]
        return _JUDGES[key]


def judge_ready(dataset: Dataset) -> bool:
    """Whether ``judge_for(dataset)`` returns at once, its judge trained already; read without the lock that a
    training judge holds, so a page can say a wait is coming."""
    return judge_key(dataset) in _JUDGES


def judge_progress(dataset: Dataset) -> float | None:
    """The share in [0, 1] of its training steps that ``dataset``'s judge has done while it trains; None when it is
    not training (trained already, or not started)."""
    return _PROGRESS.get(judge_key(dataset))
