"""Ready-made runs, in real Chromium: a fresh server with an empty runs folder trains its two example runs in the
background, and a browser that opens Latent space (and trains nothing) sees a latent map, then finds both examples
in the run picker. Prints how soon the map appeared after the server answered its health check."""

import re
import time

import pytest
from conftest import LATENT_MAP, NAV_LINKS, RERUN_TIMEOUT_S, VIEWPORT, StreamlitPage, served_app

pytestmark = pytest.mark.browser

EXAMPLES_TIMEOUT_S = 300  # TensorFlow's import and two small trainings on two cores, beside the judges' training


def test_a_fresh_server_shows_a_latent_map_before_anyone_trains(browser, tmp_path):
    with served_app(tmp_path / "runs", "streamlit-examples.log", examples=True) as url:
        started = time.monotonic()
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = StreamlitPage(context.new_page(), "examples")
            page.goto(url)
            page.wait_for(page.locator(NAV_LINKS), "the navigation", timeout_s=RERUN_TIMEOUT_S)
            page.go_to("Latent space")
            page.wait_for_text(re.compile(r"^Two example runs are training on the server"))
            page.screenshot("examples-1-training")
            page.wait_for(page.locator(LATENT_MAP), "the latent map of an example run", timeout_s=EXAMPLES_TIMEOUT_S)
            print(f"\nlatent map of an example run shown {time.monotonic() - started:.1f} s after the server was up")
            page.screenshot("examples-2-map")
            assert page.selected("Run").startswith("example-")
            page.wait_until(
                lambda: {"example-textbook", "example-conv"} <= set(run_names(page)),
                "both example runs in the picker",
                timeout_s=EXAMPLES_TIMEOUT_S,
            )
        finally:
            context.close()


def run_names(page) -> list[str]:
    """The names the Run selectbox offers, read from its open list (closed again); the page is reloaded first, so a
    session joins an example that finished since its last script run."""
    page.reload()
    page.wait_idle()
    box = page.wait_for(page._widget("stSelectbox", "Run"), "the Run selectbox")
    box.click()
    options = page.get_by_role("option")
    page.wait_for(options.first, "the Run selectbox's options", timeout_s=10)
    names = [option.inner_text().strip() for option in options.all()]
    page.keyboard.press("Escape")
    return names
