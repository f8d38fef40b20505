"""Datasets for the lab: the built-in ones (scikit-learn digits, MNIST, Fashion-MNIST) and files a user brings.

Every loader returns a Dataset of images (n, height, width, channels), float32 in [0, 1], split into training
and validation sets, with the Split that chose them. Loading reads in one direction: sources (builtin for the
built-in datasets) -> readers (IDX and .npz; readers_images for image sets, image_members for the files of a folder
or .zip) -> normalise -> split (see loading). Keras is imported only when a built-in dataset
must be downloaded, so importing this package stays fast enough for the app's first page.
"""

from ae_core.data.builtin import (
    DATASETS,
    DatasetSpec,
    DatasetStatus,
    DatasetUnavailableError,
    dataset_status,
    default_dataset_name,
)
from ae_core.data.common import DataFileError, DecodedLimit
from ae_core.data.loading import load_dataset, load_upload
from ae_core.data.sources import resolve_data_dir
from ae_core.data.split import Dataset, Split, split_train_val

__all__ = [
    "DATASETS",
    "DataFileError",
    "Dataset",
    "DatasetSpec",
    "DatasetStatus",
    "DatasetUnavailableError",
    "DecodedLimit",
    "Split",
    "dataset_status",
    "default_dataset_name",
    "load_dataset",
    "load_upload",
    "resolve_data_dir",
    "split_train_val",
]
