"""The Applications page in real Chromium: train on digits, open Applications, read the compression verdict and
chart, switch to the other tabs, then train a run without one class from the anomaly tab and score it.
Screenshots land in test-artifacts/browser/."""

import re

import pytest

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT_S = 180
PANEL_TIMEOUT_S = 120  # the first look at a run computes its codes, PCA and JPEG on a busy 2-core machine
VERDICT = re.compile(r"^At \d+ bytes per image \(\d+:1 against 8-bit pixels, [\d.]+ bits per pixel\)")


def open_tab(page, title: str) -> None:
    page.wait_for(page.get_by_role("tab", name=title), f"tab {title!r}").click()
    page.wait_idle(PANEL_TIMEOUT_S)


def train_for(page, epochs: int) -> None:
    page.set_number("Epochs", epochs)
    page.click_button("Start training", wait=False)
    page.wait_enabled("Stop")
    page.wait_for_text(re.compile(rf"^Finished {epochs} epochs"), TRAINING_TIMEOUT_S)


def test_applications_after_training_on_digits(page):
    assert "Digits" in page.select("Dataset", "Digits", exact=False)
    page.go_to("Train")
    train_for(page, 2)
    page.go_to("Applications")

    page.wait_for(page.locator(".st-key-rate_distortion .js-plotly-plot"), "the rate-distortion chart", PANEL_TIMEOUT_S)
    verdict = page.wait_for_text(VERDICT).inner_text()
    assert "PCA" in verdict and "JPEG" in verdict, verdict
    traces = page.plot_traces()[0]
    assert [trace["name"] for trace in traces] == ["autoencoder", "pca", "JPEG", "JPEG with shared tables", "WebP"]
    assert len(traces[0]["x"]) == 4 and all(value > 0 for value in traces[0]["y"]), "3 precisions + entropy"
    page.screenshot("applications-compression")

    open_tab(page, "Restoration")
    page.wait_for(page.locator(".st-key-restoration_sweep .js-plotly-plot"), "the strength sweep", PANEL_TIMEOUT_S)
    page.wait_for_text(re.compile(r"^(Best: .+ dB over the degraded input|No restorer improves)"))
    assert page.locator(".st-key-rate_distortion").count() == 0, "a hidden tab computes nothing"
    page.screenshot("applications-restoration")

    open_tab(page, "Classification")
    page.click_button("Train the classifiers", wait=False)
    page.wait_for(page.locator(".st-key-confusion_chart .js-plotly-plot"), "the confusion matrix", PANEL_TIMEOUT_S)
    # The chosen label count's results show first; the accuracy chart once every label count is done
    accuracy_chart = ".st-key-accuracy_chart .js-plotly-plot"
    page.wait_for(page.locator(accuracy_chart), "the accuracy chart", PANEL_TIMEOUT_S)
    accuracy = {trace["name"]: trace["y"] for trace in page.plot_traces(accuracy_chart)[0]}
    assert len(accuracy) == 12 and all(0.0 <= value <= 1.0 for values in accuracy.values() for value in values)
    page.screenshot("applications-classification")

    open_tab(page, "Anomaly detection")
    page.wait_for_text(re.compile(r"was trained on every class"))
    page.select("Class to hold out", "1")
    page.screenshot("applications-anomaly-offer")
    page.click_button("Train without class 1")
    hold_out = page.wait_for(page._widget("stSelectbox", "Hold out a class"), "the Hold out a class setting")
    assert hold_out.locator("input").input_value() == "1", "the Train page opens with class 1 held out"
    train_for(page, 3)
    page.go_to("Applications")
    open_tab(page, "Anomaly detection")
    auc = page.wait_for(page.locator('[data-testid="stMetric"]').filter(has_text="ROC AUC"), "the ROC AUC")
    assert 0.0 <= float(auc.locator('[data-testid="stMetricValue"]').inner_text()) <= 1.0
    page.wait_for(page.locator(".st-key-roc_chart .js-plotly-plot"), "the ROC curve")
    page.wait_for_text(re.compile(r"^AUC \d\.\d\d: "))
    page.screenshot("applications-anomaly")
