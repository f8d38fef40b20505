"""The Latent space page in real Chromium: train on digits, open the map, hover a point to see its image, click a
point and an empty spot, switch to t-SNE, lasso a group of points on the WebGL scatter and look at the inspector.
Screenshots land in test-artifacts/browser/."""

import re
from pathlib import Path

import pytest
from conftest import ARTIFACTS, lasso_middle_of_map
from conftest import LATENT_MAP as MAP

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


def first_point(page, trace_name: str | None = None, chart: str = MAP) -> tuple:
    """Where Plotly draws the first point of the trace named ``trace_name`` (default: the first) of the map
    ``chart`` (a selector), and its map row: (x, y, row)."""
    page.locator(f"{chart} .nsewdrag").scroll_into_view_if_needed()
    return page.evaluate(
        """([name, chart]) => {
        const plot = document.querySelector(chart);
        const trace = plot._fullData.find(t => name === null || t.name === name);
        const layout = plot._fullLayout, box = plot.getBoundingClientRect();
        return [box.x + layout.xaxis._offset + layout.xaxis.l2p(trace.x[0]),
                box.y + layout.yaxis._offset + layout.yaxis.l2p(trace.y[0]), trace.customdata[0]];
    }""",
        [trace_name, chart],
    )


def click_first_point(page, trace_name: str | None = None) -> None:
    x, y, _ = first_point(page, trace_name)
    page.mouse.click(x, y)


def hover_shows_the_first_points_image(page, chart: str, shot: str) -> None:
    """Move the pointer over the first point of the map ``chart`` (a selector): that point's image shows, large
    enough to read (screenshot ``shot``), and goes when the pointer leaves."""
    x, y, row = first_point(page, chart=chart)
    page.mouse.move(x - 30, y - 30)
    page.mouse.move(x, y, steps=5)
    image = page.locator('[data-testid="map-hover-image"]').filter(visible=True)
    page.wait_until(lambda: image.count() == 1 and image.get_attribute("data-row") == str(row), "its hover image")
    size = image.bounding_box()
    assert size["width"] >= 100 and size["height"] >= 100, size  # an 8x8 digit, large enough to read
    page.page.screenshot(path=ARTIFACTS / f"{shot}.png")  # the screen as it is: a whole-page shot moves the pointer
    page.mouse.move(5, 5)
    page.wait_until(lambda: image.count() == 0, "the hover image hidden again")


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
