import os
from pathlib import Path

import pytest

SHARED_DATA_DIR = Path(os.environ.get("AE_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder holding MNIST's 10,000-image test set (../shared/data unless AE_DATA_DIR says otherwise)."""
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def digits():
    from ae_core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist_slice(shared_data_dir):
    """The first 1,000 MNIST training images, (1000, 28, 28, 1) float32 in [0, 1]."""
    from ae_core.data import load_dataset

    return load_dataset("mnist", data_dir=shared_data_dir, allow_download=False).x_train[:1000]


@pytest.fixture(autouse=True)
def environment(shared_data_dir, tmp_path, monkeypatch):
    """Every test, and every app or command it starts, reads MNIST from the shared data folder and saves runs under
    its own temporary folder, never in the project."""
    monkeypatch.setenv("AE_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("AE_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture
def media(monkeypatch) -> dict:
    """file id -> bytes of every image and download a page hands to Streamlit's media storage (read them with
    tests.test_pages.picture)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stored, original = {}, MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    return stored
