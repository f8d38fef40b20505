"""The server's memory budget for uploads: what it counts, the refusal past it, and memory that comes back when an
upload is let go, by a replacing upload or by a closed tab's session. Real uploads decoded by ae_core.data."""

import gc
import io
import time
import zipfile
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.state import SafeSessionState, SessionState

from ae_core.data import DataFileError, load_upload, readers, readers_images
from ae_core.units import human_size
from ae_core.workspaces import uploads
from ae_core.workspaces.upload_memory import BUDGET_ENV, UploadMemory, dataset_bytes, decode_upload
from pages.shared import keys, server
from pages.shared.server import SessionWatchdog


def upload(n_images: int, seed: int = 0):
    """An uploaded .npz of ``n_images`` random 16x16 images with labels, decoded as the Data page decodes it."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez(
        buffer, images=rng.integers(0, 256, (n_images, 16, 16), dtype=np.uint8), labels=rng.integers(0, 3, n_images)
    )
    return load_upload([(f"set{seed}.npz", buffer.getvalue())])


def wait_until(condition, what: str, timeout_s: float = 5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"{what} did not happen within {timeout_s} s")


def test_uploads_count_until_freed_and_one_past_the_budget_is_refused_saying_what_to_do(monkeypatch):
    memory, first, second = UploadMemory(), upload(100), upload(100, seed=1)
    size = dataset_bytes(first)
    assert size == 100 * 16 * 16 * 4 + 100 * first.y_train.itemsize, "float32 pixels and the labels"
    monkeypatch.setenv(BUDGET_ENV, str(size + size // 2))
    memory.admit(first, "set0.npz")
    memory.admit(replace(first, name="renamed"), "set0.npz")  # the same arrays under another name count once
    assert memory.used() == size
    with pytest.raises(ValueError) as refused:
        memory.admit(second, "set1.npz")
    assert str(refused.value) == (
        f"The server's memory for uploads is in use: the uploads open now hold {human_size(size)} of its "
        f"{human_size(size + size // 2)} budget (AE_MAX_UPLOAD_MEMORY_BYTES), and set1.npz decodes to "
        f"{human_size(size)}, so set1.npz was not loaded. Upload fewer or smaller images, or try again in a few "
        "minutes: an upload's memory comes back once its tab has been closed for a few minutes."
    )
    assert memory.used() == size, "a refused upload holds nothing"
    memory.admit(second, "set1.npz", replacing=first)  # a session's new upload replaces its old one
    del first
    gc.collect()
    assert memory.used() == size, "the replaced upload's memory came back when it was freed"


def test_a_full_budget_refuses_before_decoding(monkeypatch):
    memory, held = UploadMemory(), upload(50)
    monkeypatch.setenv(BUDGET_ENV, str(dataset_bytes(held)))
    memory.admit(held, "set0.npz")
    full = human_size(dataset_bytes(held))
    with pytest.raises(
        ValueError, match=rf"hold {full} of its {full} budget \(AE_MAX_UPLOAD_MEMORY_BYTES\), so big\.zip"
    ):
        memory.check_room("big.zip")
    del held
    gc.collect()
    memory.check_room("big.zip")  # room again


def test_a_workspace_upload_read_back_counts_and_is_refused_when_the_budget_is_full(tmp_path, monkeypatch):
    kept = upload(80)
    uploads.save_upload(tmp_path / "upload", kept)
    memory = UploadMemory()
    back = uploads.load_upload(tmp_path / "upload", memory)
    assert memory.used() == dataset_bytes(back) == dataset_bytes(kept)
    monkeypatch.setenv(BUDGET_ENV, str(dataset_bytes(kept)))
    with pytest.raises(ValueError, match="so the upload set0.npz was not loaded"):
        uploads.load_upload(tmp_path / "upload", memory)  # a second tab of the same workspace would hold a copy
    del back
    gc.collect()
    assert memory.used() == 0


def test_a_closed_tabs_upload_memory_comes_back_within_the_session_timeout(monkeypatch):
    memory = UploadMemory()
    active = {"tab": True}
    watchdog = SessionWatchdog(lambda session: active[session], poll_s=0.05)
    session_state = SafeSessionState(SessionState(), lambda: None)
    session_state[keys.UPLOADS] = {"set0": memory.admit(upload(200), "set0.npz")}
    context = SimpleNamespace(session_id="tab", session_state=session_state)
    monkeypatch.setattr(server, "_watchdog", watchdog)
    monkeypatch.setattr(server, "_connected_context", lambda: context)
    monkeypatch.setattr(server.st, "get_option", {"server.disconnectedSessionTTL": 0.5}.get)
    server.release_state_when_expired()
    assert memory.used() > 0
    closed_at = time.monotonic()
    active["tab"] = False
    wait_until(lambda: memory.used() == 0, "the closed tab's upload memory coming back")
    assert time.monotonic() - closed_at < 0.5 + 1.0, "within the session timeout and a watchdog poll or two"


def test_uploads_decode_one_at_a_time_within_the_budget(monkeypatch):
    """The Data page's way in: a file that fits is decoded and held; one that does not is refused, holding nothing."""
    memory = UploadMemory()
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros((300, 16, 16), np.uint8))
    files = [("plain.npz", buffer.getvalue())]
    monkeypatch.setenv(BUDGET_ENV, str(300 * 16 * 16 * 4))
    held = decode_upload(files, memory=memory)
    assert held.n_train + held.n_val == 300 and memory.used() == 300 * 16 * 16 * 4
    with pytest.raises(ValueError, match="so plain.npz was not loaded"):
        decode_upload(files, memory=memory)
    assert memory.used() == 300 * 16 * 16 * 4
    assert decode_upload(files, replacing=held, memory=memory).n_train == held.n_train, "a replacement fits"


def zipped_pngs(n_images: int, side: int) -> bytes:
    """A .zip of ``n_images`` plain grey ``side`` x ``side`` PNGs in one class folder: a few KiB that decode to
    ``n_images * side * side * 4`` bytes of float32 pixels."""
    png = io.BytesIO()
    Image.fromarray(np.full((side, side), 128, np.uint8)).save(png, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for index in range(n_images):
            zipped.writestr(f"plain/{index:04d}.png", png.getvalue())
    return archive.getvalue()


def plain_upload(kind: str, n_images: int, side: int) -> list[tuple[str, bytes]]:
    """An upload of ``n_images`` plain grey ``side`` x ``side`` images: a .zip of PNGs or a compressed .npz of
    uint8."""
    if kind == "zip":
        return [("plain.zip", zipped_pngs(n_images, side))]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=np.full((n_images, side, side), 128, np.uint8))
    return [("plain.npz", buffer.getvalue())]


@pytest.mark.parametrize("kind", ["zip", "npz"])
def test_an_upload_larger_than_the_room_left_is_refused_by_the_readers_before_decoding_its_image_set(monkeypatch, kind):
    memory, held = UploadMemory(), upload(1_000)
    budget = dataset_bytes(held) + 2**20
    monkeypatch.setenv(BUDGET_ENV, str(budget))
    memory.admit(held, "set0.npz")
    decoded = 400 * 64 * 64 * 4  # 6.25 MiB of float32 pixels, over the 1 MiB left
    files = plain_upload(kind, 400, 64)
    # what makes the image set: a zip's images are decoded one by one into it, a .npz's array is read after its header
    module, reader = (readers_images, "_decode") if kind == "zip" else (readers, "read_at_most")
    calls = []
    real = getattr(module, reader)
    monkeypatch.setattr(module, reader, lambda *args: calls.append(args) or real(*args))
    with pytest.raises(DataFileError) as refused:
        decode_upload(files, memory=memory)
    shape = {"zip": "plain.zip: 400 x 64 x 64 x 1", "npz": "plain.npz: images: 400 x 64 x 64"}[kind]
    assert str(refused.value) == (
        f"{shape} float32 pixels would take {human_size(decoded)}, over the 1 MiB left of the server's "
        f"{human_size(budget)} memory for uploads (AE_MAX_UPLOAD_MEMORY_BYTES; other uploads open now hold "
        f"{human_size(dataset_bytes(held))}). Upload fewer or smaller images, or try again in a few minutes: an "
        "upload's memory comes back once its tab has been closed for a few minutes."
    )
    assert calls == [], "refused from the sizes its headers state, before its image set was made"
    assert memory.used() == dataset_bytes(held), "a refused upload holds nothing"
    fits = decode_upload(plain_upload(kind, 60, 64), memory=memory)  # 960 KiB
    assert fits.n_train + fits.n_val == 60 and memory.used() == dataset_bytes(held) + dataset_bytes(fits)
    assert calls, "the one that fits was read by the same readers"
