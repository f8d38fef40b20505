"""The Latent space page in real Chromium: train on digits, open the map, hover a point to see its image, click a
point and an empty spot, switch to t-SNE, lasso a group of points on the WebGL scatter and look at the inspector.
Screenshots land in test-artifacts/browser/."""

import re
from pathlib import Path

import pytest
from conftest import LATENT_MAP as MAP
from conftest import first_point, hover_shows_the_first_points_image, lasso_middle_of_map

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT_S = 180
MAP_TIMEOUT_S = 240  # a t-SNE map on a 2-core machine that also compiles UMAP in the background
MAPPED = 600  # images on the t-SNE map: fewer than all 1,797 digits keep it quick
INSPECTED = re.compile(r"^original: (validation|training) image \d+")


def map_point_count(page) -> int:
    """How many points the latent map's traces hold."""
    return page.evaluate("""() => {
        const plot = document.querySelector('.st-key-latent_chart .js-plotly-plot');
        const points = (plot ? plot._fullData : []).filter(t => t.name !== 'spots' && t.name !== 'decoded spot');
        return points.reduce((total, trace) => total + (trace._length || 0), 0);
    }""")


def train_digits(page) -> None:
    page.select("Dataset", "Digits", exact=False)
    page.go_to("Train")
    page.select("Preset", "Dense")
    page.set_number("Epochs", 3)
    page.click_button("Start training", wait=False)
    page.wait_for_text(re.compile(r"^Finished"), timeout_s=TRAINING_TIMEOUT_S)
    page.wait_idle()


def click_first_point(page, trace_name: str | None = None) -> None:
    x, y, _ = first_point(page, trace_name)
    page.mouse.click(x, y)


def test_tsne_map_and_a_lasso_selection_open_the_inspector(page):
    train_digits(page)
    page.go_to("Latent space")
    page.wait_for(page.locator(MAP), "the latent map", timeout_s=MAP_TIMEOUT_S)
    page.wait_until(lambda: map_point_count(page) == 1797, "all 1,797 digits on the PCA map")
    page.wait_for_text(re.compile(r"^Map's faith to the codes \(trustworthiness, k=10\)"))
    page.screenshot("latent-01-pca")
    hover_shows_the_first_points_image(page, MAP, "latent-01-hover")
    hover_shows_the_first_points_image(page, ".st-key-latent_epoch_chart .js-plotly-plot", "latent-01-hover-epochs")
    click_first_point(page)
    page.wait_idle()
    page.wait_for_text(INSPECTED)
    assert "points=" in page.url, page.url
    page.screenshot("latent-01-clicked-point")
    click_first_point(page, "spots")  # the clickable spot in the map's lower left corner
    page.wait_idle()
    page.wait_for_text(re.compile(r"^decoded at the cross \("))
    page.screenshot("latent-01-clicked-spot")
    page.set_number("Images mapped", MAPPED)
    page.wait_until(lambda: map_point_count(page) == MAPPED, f"{MAPPED} digits on the PCA map")

    method = page.locator('[data-testid="stButtonGroup"] button').filter(has_text=re.compile(r"^t-SNE$"))
    page.wait_for(method, "the t-SNE choice").click()
    page.wait_for_text("t-SNE and UMAP maps have no inverse", timeout_s=MAP_TIMEOUT_S)  # drawn with the map
    page.wait_idle(timeout_s=MAP_TIMEOUT_S)
    assert "method=tsne" in page.url and f"samples={MAPPED}" in page.url, page.url
    assert map_point_count(page) == MAPPED
    page.wait_for_text(f"t-SNE map of {MAPPED} images", timeout_s=10)
    page.screenshot("latent-02-tsne")
    with page.expect_download() as download:
        page.click_button("Download codes and map coordinates (CSV)", wait=False)
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0].startswith("index,split,label,x,y,code_0") and len(rows) == 1 + MAPPED

    lasso_middle_of_map(page)
    page.wait_idle(timeout_s=MAP_TIMEOUT_S)
    caption = page.wait_for_text(INSPECTED)
    assert "points=" in page.url, page.url
    inspected = page.locator('[data-testid="stImage"]').filter(has_text=INSPECTED)
    assert inspected.locator("img").last.evaluate("img => img.complete && img.naturalWidth >= 100"), (
        "the original is drawn large enough to see"
    )
    neighbours = page.locator('[data-testid="stImage"]').filter(has_text="Nearest 8 images in latent space")
    assert neighbours.count() == 1
    page.screenshot("latent-03-inspector")
    assert caption.is_visible()
