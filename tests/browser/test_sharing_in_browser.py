"""Sharing one server, in real Chromium with the project's server settings (XSRF protection on): an upload goes
through, a run trained on it is saved only after publishing is confirmed, and a saved run is deleted after a
confirmation."""

import io
import re

import numpy as np
import pytest

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT_S = 180
FINISHED = re.compile(r"^Finished")


def npz_file(tmp_path):
    """An unlabeled 12x10 image set, 60 images, as a person would pick it from disk."""
    images = np.random.default_rng(0).integers(0, 256, (60, 12, 10), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, images=images)
    path = tmp_path / "mine.npz"
    path.write_bytes(buffer.getvalue())
    return path


def metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    return page.wait_for(metric, f"metric {label!r}").locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_an_upload_trains_and_is_published_only_after_confirmation_then_deleted(page, tmp_path):
    page.name = "sharing"
    page.wait_for_text("One upload at a time")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(npz_file(tmp_path)))
    page.wait_until(lambda: metric_value(page, "Image size").replace(" ", "") == "12×10×1", "the upload shown")
    page.screenshot("sharing-1-uploaded")

    page.go_to("Train")
    page.select("Preset", "Dense")
    page.set_number("Epochs", 2)
    page.set_number("Batch size", 16)  # the upload has 48 training images
    page.set_text("Run name", "my-upload-run")
    page.click_button("Start training", wait=False)
    page.wait_for_text(FINISHED, timeout_s=TRAINING_TIMEOUT_S)
    page.wait_idle()
    page.wait_for_text("visible to everyone using this server")
    assert not page.button("Save run").is_enabled(), "a run on an upload is not saved before the confirmation"
    page.screenshot("sharing-2-confirm-publishing")
    page.get_by_text(re.compile(r"^Publish \d+ of my uploaded images with this run$")).click()
    page.wait_idle()
    page.click_button("Save run")
    page.wait_for_text("everyone using this server can open it now")
    page.screenshot("sharing-3-saved")

    assert page.selected("Saved run").startswith("my-upload-run ·"), "saving selects the saved run"
    page.click_button("Delete run")
    page.wait_for_text("Delete my-upload-run for everyone using this server?")
    page.screenshot("sharing-4-confirm-delete")
    page.click_button("Delete for everyone")
    page.wait_for_text(re.compile(r"^Deleted my-upload-run from"))
    page.wait_idle()
    # The server's runs folder is shared with the other browser tests, so another saved run may be shown instead.
    shown = page.selected("Saved run")
    assert shown is None or not shown.startswith("my-upload-run ·"), shown
    page.screenshot("sharing-5-deleted")
