"""The app in real Chromium, driven the way a person uses it: choose data, train, stop, look at reconstructions.

Screenshots of every step land in test-artifacts/browser/. Training uses scikit-learn's 8x8 digits so each run
takes seconds; the timeouts are generous because a 2-core machine runs the app, TensorFlow and Chromium at once.
"""

import math
import re

import pytest

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT_S = 180
FINISHED = re.compile(r"^Finished")
PREVIEW_CAPTION = re.compile(r"^Originals \(top\) and reconstructions \(bottom\)")
VALIDATION_NAME = re.compile(r"val", re.IGNORECASE)
IMAGE_SIZE_8X8 = re.compile(r"^8\s*[x×]\s*8(\s*[x×]\s*1)?$")  # the Data page writes 8×8×1


def validation_trace(page) -> dict | None:
    """The validation-loss trace of the page's Plotly charts: a trace named like "val...", one with "loss" first."""
    traces = [trace for chart in page.plot_traces() for trace in chart if VALIDATION_NAME.search(trace["name"])]
    traces.sort(key=lambda trace: "loss" not in trace["name"].lower())
    return traces[0] if traces else None


def validation_points(page) -> int:
    trace = validation_trace(page)
    return len(trace["y"]) if trace else 0


def progress_epoch(page, epochs: int) -> int:
    """The epoch the progress text ("Epoch 3/200 · batch ...") names, 0 when none is shown."""
    texts = page.get_by_text(re.compile(rf"Epoch \d+/{epochs}\b")).all_inner_texts()
    return max(
        (int(match.group(1)) for text in texts for match in re.finditer(rf"Epoch (\d+)/{epochs}\b", text)), default=0
    )


def visible_image(page, within: str = '[data-testid="stMain"]'):
    """The first loaded, visible <img> in ``within``; its natural size is checked so a broken image fails."""
    images = page.locator(f"{within} img")

    def loaded():
        for index in range(images.count()):
            image = images.nth(index)
            if image.is_visible() and image.evaluate("img => img.complete && img.naturalWidth > 0"):
                return image
        return None

    return page.wait_until(loaded, f"a loaded image in {within}")


def choose_digits(page) -> None:
    chosen = page.select("Dataset", "Digits", exact=False)
    assert "Digits" in chosen


def start_training(page, preset: str | None = None, epochs: int | None = None) -> None:
    """Set what is given, click "Start training" and wait until the job runs (Stop enabled), so the outcome
    and chart of an earlier run on the page are not mistaken for this one's."""
    if preset is not None:
        page.select("Preset", preset)
    if epochs is not None:
        page.set_number("Epochs", epochs)
    page.click_button("Start training", wait=False)
    page.wait_enabled("Stop")


def check_data_page_shows_digits(page) -> None:
    current = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    assert current.get_by_text("Data", exact=True).count() == 1, "the app should open on the Data page"
    choose_digits(page)
    image_size = page.wait_for(
        page.locator('[data-testid="stMetric"]').filter(has_text="Image size"), "the Image size metric"
    )
    value = image_size.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert IMAGE_SIZE_8X8.match(value), f"digits are 8x8 pixels; the page says {value!r}"
    # The sample grid is one Plotly image trace, drawn as an SVG <image> of the tiled digits.
    grid = page.wait_for(page.locator(".st-key-samples .js-plotly-plot image"), "the sample grid image")
    box = grid.bounding_box()
    assert box["width"] >= 200 and box["height"] >= 60, f"the sample grid is drawn at {box}"
    page.screenshot("01-data-digits")


def check_two_epochs_of_conv_training(page) -> None:
    page.go_to("Train")
    start_training(page, "Convolutional", epochs=2)
    page.wait_for_text(FINISHED, timeout_s=TRAINING_TIMEOUT_S)
    page.wait_for(page.locator('[data-testid="stPlotlyChart"]'), "the loss chart")
    page.wait_until(lambda: validation_points(page) >= 2, "a validation-loss trace with 2 points")
    trace = validation_trace(page)
    assert len(trace["x"]) == len(trace["y"]) == 2, trace
    assert all(math.isfinite(value) and value > 0 for value in trace["y"]), trace
    caption = page.wait_for_text(PREVIEW_CAPTION)
    preview = page.locator('[data-testid="stImage"]').filter(has_text=PREVIEW_CAPTION)
    assert preview.count() == 1, "the preview caption should belong to one image"
    visible_image(page, '[data-testid="stImage"]:has-text("Originals (top)")')
    assert caption.is_visible()
    page.screenshot("02-train-conv-2-epochs")


def check_stop_keeps_partial_history(page) -> None:
    start_training(page, epochs=200)
    # The page redraws every 2 s and a digits epoch takes less, so any epoch past the first counts.
    page.wait_until(
        lambda: progress_epoch(page, 200) >= 2 or validation_points(page) >= 1,
        "the end of the first epoch",
        timeout_s=TRAINING_TIMEOUT_S,
    )
    page.click_button("Stop", wait=False)
    warning = page.wait_for_text("Stopped after", timeout_s=TRAINING_TIMEOUT_S)
    page.wait_idle()
    epochs_done = validation_points(page)
    assert 1 <= epochs_done < 200, f"the chart should keep the partial history; it has {epochs_done} points"
    stopped_after = re.search(r"Stopped after (\d+)", warning.inner_text())
    assert stopped_after, f"the warning should say after how many epochs: {warning.inner_text()!r}"
    assert int(stopped_after.group(1)) == epochs_done, (warning.inner_text(), epochs_done)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
    page.screenshot("03-train-stopped")


def check_reconstructions_page(page) -> None:
    page.go_to("Reconstructions")
    pca_label = page.locator('[data-testid="stMetricLabel"]').filter(has_text="PCA")
    pca = page.wait_for(
        page.locator('[data-testid="stMetric"]').filter(has=pca_label), "the PCA metric", timeout_s=TRAINING_TIMEOUT_S
    )
    visible_image(page, '[data-testid="stImage"]:has-text("Originals (top)")')
    page.wait_idle()
    assert page.locator('[data-testid="stException"]').count() == 0
    value = pca.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert re.fullmatch(r"\d+(\.\d+)?", value), f"the PCA metric should show a number; it shows {value!r}"
    page.screenshot("04-reconstructions")


def test_one_session_from_data_to_reconstructions(page):
    check_data_page_shows_digits(page)
    check_two_epochs_of_conv_training(page)
    check_stop_keeps_partial_history(page)
    check_reconstructions_page(page)


def test_pause_and_resume_through_the_buttons(page):
    choose_digits(page)
    page.go_to("Train")
    start_training(page, epochs=40)
    page.wait_until(lambda: progress_epoch(page, 40) >= 1, "the first batches", timeout_s=TRAINING_TIMEOUT_S)
    page.click_button("Pause", wait=False)
    page.wait_until(lambda: page.progress_text().startswith("Paused · Epoch"), "the progress text saying paused")
    page.wait_enabled("Resume")
    page.wait_for_timeout(2_500)  # one redraw: batches already queued when Pause was clicked still finish
    paused_at = page.progress_text()
    page.screenshot("06-train-paused")
    page.wait_for_timeout(2 * 2_500)  # two more redraws of the live view
    assert page.progress_text() == paused_at, "a paused job does not advance"
    page.click_button("Resume", wait=False)
    page.wait_until(lambda: page.progress_text().startswith("Epoch"), "the progress text after resuming")
    page.wait_for_text(FINISHED, timeout_s=TRAINING_TIMEOUT_S)
    page.wait_until(lambda: validation_points(page) >= 40, "a validation trace of all 40 epochs")
    page.screenshot("07-train-resumed-and-finished")


def test_a_deep_link_to_train_on_a_fresh_server_uses_the_apps_navigation(open_app, fresh_app_url):
    """The first request a new server gets is /train: Streamlit would run pages/train.py alone and list app.py
    and every file in pages/ under their file names unless the app's navigation takes over."""
    page = open_app("deep-link", f"{fresh_app_url}/train")
    page.wait_for(page.locator("h1").filter(has_text="Train"), "the Train page's title")
    page.wait_idle()
    titles = page.nav_titles()
    assert titles[:4] == ["Data", "Lesson", "Train", "Reconstructions"], titles
    assert not any(title.lower() in ("common", "keys", "app") for title in titles), titles
    current = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    assert current.get_by_text("Train", exact=True).count() == 1, "the Train link is the current page"
    page.wait_for(page.button("Start training"), "the Start training button")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot("08-deep-link-train")


def both_training(sessions: list, epochs: int) -> bool:
    """True when every page shows the progress of its unfinished run at this moment."""
    return all(1 <= progress_epoch(page, epochs) and not page.get_by_text(FINISHED).count() for page in sessions)


def test_two_sessions_train_at_the_same_time(open_app):
    epochs = 40
    sessions = [open_app("session-a"), open_app("session-b")]
    for page in sessions:
        choose_digits(page)
        page.go_to("Train")
        page.select("Preset", "Dense")
        page.set_number("Epochs", epochs)
        page.set_text("Run name", page.name)
    for page in sessions:
        page.click_button("Start training", wait=False)
    sessions[0].wait_until(
        lambda: both_training(sessions, epochs), "both sessions training at one moment", timeout_s=TRAINING_TIMEOUT_S
    )
    for page in sessions:
        page.screenshot(f"05-concurrent-{page.name}-training")
    for page in sessions:
        page.wait_for_text(FINISHED, timeout_s=TRAINING_TIMEOUT_S)
    for page in sessions:
        page.wait_idle()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.wait_until(
            lambda page=page: validation_points(page) >= epochs, f"{page.name}: a validation trace with {epochs} points"
        )
        trace = validation_trace(page)
        assert len(trace["y"]) == epochs, f"{page.name} should chart its own {epochs} epochs: {trace}"
        page.wait_for_text(f"Inspect run {page.name}")  # each session keeps its own run
        page.screenshot(f"05-concurrent-{page.name}")
    first, second = (validation_trace(page)["y"] for page in sessions)
    assert first == second, "the same settings and seed should give the same losses in both sessions"
