"""User text is text, in real Chromium: names built to fetch an image from outside, link out, or style a chart are
shown as typed, and nothing more.

A loopback HTTP server stands in for an outside address and counts every connection made to it. The first test
renders hostile names through ae_core.user_text in Streamlit's own Markdown (a small script of its own), beside
the raw names as a positive control. The second uploads a zip of digit images whose file name and class folders
are hostile, trains, saves the run and opens every page of the app. Screenshots land in test-artifacts/browser/.
"""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    ARTIFACTS,
    ROOT,
    SERVER_START_TIMEOUT_S,
    VIEWPORT,
    StreamlitPage,
    free_port,
    lasso_middle_of_map,
    stop_app,
    wait_for_health,
)
from PIL import Image

from ae_core import user_text

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT_S = 180
SLOW_PANEL_TIMEOUT_S = 180  # the judge, the classifiers and the maps are first computed on a busy 2-core machine
STYLED_BY_A_NAME = "70px"
MARKDOWN = '[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"]'


class OutsideServer(ThreadingHTTPServer):
    """An HTTP server on a loopback port that stands in for an outside address: it counts every connection
    (an image, a link followed, a TLS attempt at https:) and answers each request with a 1x1 PNG."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Answer)
        self.connections, self.paths = 0, []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True


class _Answer(BaseHTTPRequestHandler):
    PIXEL = io.BytesIO()
    Image.new("L", (1, 1)).save(PIXEL, format="PNG")

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(self.PIXEL.getvalue())

    def log_message(self, *args):
        pass


@pytest.fixture
def outside():
    server = OutsideServer()
    thread = threading.Thread(target=server.serve_forever, name="outside-server", daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def hostile_names(host: str) -> dict[str, str]:
    """Names that, shown raw, would fetch from ``host``, link to it, or style or rearrange text."""
    return {
        "markdown image": f"![b](http://{host}/name.png)",
        "markdown link": f"[click here](http://{host}/phish)",
        "html image": f"<img src=http://{host}/i.png>",
        "bare link": f"http://{host}/bare and www.example.com and me@example.com",
        "plotly span": '<span style="font-size:70px">big</span>',
        "plotly link": f'<a href="http://{host}/x">a</a>',
        "plotly break": "top<br>bottom",
        "streamlit markdown": ":red[red] :material/home: :smile: **bold** `code` $x^2$ ~~gone~~",
        "block syntax": "# heading\n- item\n> quote\n---",
        "ordered list": "1. first",
        "plus list": "+ plus",
        "underscores": "_it_ __strong__ snake_case",
        "newlines and rtl": "first\nsecond\r\nthird invoice\u202egnp.exe",
        "leading spaces": "    indented",
        "10,000 characters": (f"[x](http://{host}/long) " * 400)[:10_000],
    }


PROBE_SCRIPT = """
import json, os
import numpy as np
import streamlit as st
from ae_core import user_text

names = json.loads(open(os.environ["AE_PROBE_NAMES"]).read())
if st.query_params.get("control"):  # the positive control: the same names, raw
    for name in names:
        st.markdown(name)
else:
    for index, name in enumerate(names):
        shown = user_text.markdown(name)
        with st.container(key=f"escaped-{index}"):
            st.markdown(shown)
            st.caption(shown)
            st.info(shown)
            st.checkbox(shown, key=f"check-{index}")
            st.image(np.zeros((2, 60)), caption=shown, width=300)
"""


@contextlib.contextmanager
def served_script(script: Path, env: dict):
    """``streamlit run script`` with this repository importable, for as long as the block runs; yields its address."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "streamlit-probe.log"
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    environment = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process, SERVER_START_TIMEOUT_S, log_path)
        yield url
    finally:
        stop_app(process)


def open_page(browser, url: str, name: str) -> StreamlitPage:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = StreamlitPage(context.new_page(), name)
    page.goto(url)
    page.wait_for(page.locator('[data-testid="stApp"]'), "the app")
    page.wait_idle()
    return page


def links_out(page) -> list[str]:
    """The href of every link, in HTML or in a chart's SVG, that points outside the app's own origin."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('a')).map(a =>
        a.getAttribute('href') ?? a.getAttribute('xlink:href')).filter(href => href !== null
        && new URL(href, location.href).origin !== location.origin)""")


def images_out(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('img, image')).map(img =>
        img.getAttribute('src') ?? img.getAttribute('href') ?? img.getAttribute('xlink:href'))
        .filter(src => src && !src.startsWith('data:') && new URL(src, location.href).origin !== location.origin)""")


def test_escaped_names_render_as_typed_in_streamlit(browser, outside, tmp_path):
    names = list(hostile_names(outside.address).values())
    names_file = tmp_path / "names.json"
    names_file.write_text(json.dumps(names))
    script = tmp_path / "probe.py"
    script.write_text(PROBE_SCRIPT)
    with served_script(script, {"AE_PROBE_NAMES": str(names_file)}) as url:
        page = open_page(browser, url, "probe")
        page.wait_for(page.locator(f".st-key-escaped-{len(names) - 1}"), "the last name")
        page.wait_for_timeout(1_500)  # time for any image the Markdown asks for
        page.screenshot("hostile-names-probe")
        for index, name in enumerate(names):
            box = page.locator(f".st-key-escaped-{index}")
            texts = box.locator(MARKDOWN).evaluate_all("els => els.map(el => el.textContent)")
            expected = user_text.visible(name)
            assert len(texts) == 5 and all(text.replace(user_text.WORD_JOINER, "") == expected for text in texts), (
                f"{name[:80]!r} is not shown as typed: {[text[:200] for text in texts]}"
            )
            assert box.locator("a, .katex, [data-testid='stIconMaterial'], h1, li, blockquote, code, hr").count() == 0
        assert links_out(page) == [] and images_out(page) == []
        assert outside.connections == 0, f"escaped names reached the outside server: {outside.paths}"

        control = open_page(browser, f"{url}/?control=1", "probe-control")
        control.wait_until(lambda: outside.connections > 0, "the raw names reaching the outside server", 10)
        control.screenshot("hostile-names-probe-control")
        assert any("/phish" in href for href in links_out(control)), "raw Markdown links out (positive control)"
        assert any("/name.png" in path for path in outside.paths), "raw Markdown fetches the image"


# The upload: its file name is set by the browser, so it may hold '/'; class folder names cannot (a '/' starts a
# sub-folder), so their links have no '//': "https:HOST" is still an address outside the app for a browser.
def upload_file_name(host: str) -> str:
    return f"![b](http://{host}/name.png) [click here](http://{host}/phish) <img src=http://{host}/i.png> digits.zip"


def class_names(host: str) -> tuple[str, ...]:
    return (
        '<span style="font-size:70px">big',  # Plotly draws the rest of a label 70 px tall, closed or not
        f'<a href="https:{host}">a',  # a Plotly link out
        f"![i](https:{host})",  # a Markdown image from outside
        f"[click here](https:{host})",  # a Markdown link out
        "www.example.com",  # a bare link in GitHub's Markdown
        "x<br>y",
        ":red[red] **bold** $x$",
        "rtl\u202egnp.exe",  # reads "rtlexe.png" unless shown as an escape
        "new\nline",
        "9",
    )


def hostile_zip(host: str) -> bytes:
    """scikit-learn's 1,797 digits as 8x8 PNGs, one folder per class, the folders named by class_names."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    names = class_names(host)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (image, label) in enumerate(zip(digits.images, digits.target)):
            png = io.BytesIO()
            Image.fromarray(np.round(image * 255 / 16).astype(np.uint8)).save(png, format="PNG")
            archive.writestr(f"{names[label]}/{index}.png", png.getvalue())
    return buffer.getvalue()


def main_text(page) -> str:
    """The text of the page's main area as read on screen: without the invisible word joiners of escaped names."""
    return page.locator('[data-testid="stMain"]').inner_text().replace(user_text.WORD_JOINER, "")


def chart_texts(page) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot svg text')).map(el => el.textContent)"
    )


def assert_names_shown_as_typed(page, outside, shot: str, charts: bool = True) -> None:
    """Nothing reached the outside server, no link leaves the app, no chart text is styled by a name or holds a
    link, the span class's name is in a chart as typed (``charts``), and no direction mark reached the screen."""
    page.wait_idle()
    page.wait_for_timeout(1_000)  # time for any image a name would ask for
    page.screenshot(shot)
    assert outside.connections == 0, f"{shot}: a request left for the outside server: {outside.paths}"
    assert links_out(page) == [], f"{shot}: links out of the app"
    assert images_out(page) == [], f"{shot}: images from outside the app"
    styled = page.evaluate(
        """size => Array.from(document.querySelectorAll('.js-plotly-plot svg text, .js-plotly-plot svg tspan'))
        .filter(el => (el.getAttribute('style') || '').includes(size)).map(el => el.textContent)""",
        STYLED_BY_A_NAME,
    )
    assert styled == [], f"{shot}: chart text styled by a class name: {styled}"
    assert page.locator(".js-plotly-plot svg a").count() == 0, f"{shot}: a link in a chart"
    if charts:
        assert any('<span style="font-size:70px">big' in text for text in chart_texts(page)), f"{shot}: no name"
    text = main_text(page)
    assert "\u202e" not in text and not any("\u202e" in text for text in chart_texts(page)), f"{shot}: a raw U+202E"


def open_tab(page, title: str) -> None:
    page.wait_for(page.get_by_role("tab", name=title), f"tab {title!r}").click()
    page.wait_idle(SLOW_PANEL_TIMEOUT_S)


def chart(page, key: str, what: str) -> None:
    page.wait_for(page.locator(f".st-key-{key} .js-plotly-plot"), what, SLOW_PANEL_TIMEOUT_S)
    page.wait_for_timeout(500)  # Plotly draws its legend and ticks after the plot


def train(page, epochs: int) -> None:
    page.select("Preset", "Dense")
    page.set_number("Epochs", epochs)
    page.click_button("Start training", wait=False)
    finished = re.compile(rf"^Finished {epochs} epochs? in")  # not the outcome of a run before, still shown
    page.wait_for_text(finished, timeout_s=TRAINING_TIMEOUT_S)
    page.wait_idle()


def test_a_hostile_upload_is_shown_as_typed_on_every_page(open_app, outside):
    host = outside.address
    file_name = upload_file_name(host)
    page = open_app("hostile")
    page.wait_for_text("One upload at a time")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        {"name": file_name, "mimeType": "application/zip", "buffer": hostile_zip(host)}
    )
    chart(page, "class_counts", "the class counts")
    assert_names_shown_as_typed(page, outside, "hostile-1-data")
    dataset = page._widget("stSelectbox", "Dataset").locator("input").input_value()
    assert dataset.startswith(file_name), f"the Dataset box shows {dataset!r}"

    page.go_to("Train")
    page.wait_until(lambda: f"Dataset: {file_name} (uploaded), 1,438 training" in main_text(page), "the file name")
    train(page, 2)
    publish = page.get_by_text(re.compile(r"^Publish \d+ of my uploaded images with this run$"))
    page.wait_for(publish, "the publishing checkbox").click()
    page.wait_idle()
    checkbox = page.locator('[data-testid="stCheckbox"]').filter(has=publish)
    checkbox.locator('[data-testid="stTooltipHoverTarget"]').hover()  # its help quotes the file name
    tooltip = page.wait_for(page.locator('[data-testid="stTooltipContent"]'), "the help of the checkbox")
    assert f"validation images of {file_name} and" in tooltip.inner_text().replace(user_text.WORD_JOINER, "")
    assert_names_shown_as_typed(page, outside, "hostile-2-train-publish-help", charts=False)
    page.click_button("Save run")
    page.wait_for_text("everyone using this server can open it now")
    assert_names_shown_as_typed(page, outside, "hostile-2-train-saved", charts=False)

    page.go_to("Reconstructions")
    page.wait_until(lambda: f"Dense model on {file_name} (uploaded), 2 epochs" in main_text(page), "the run's caption")
    assert_names_shown_as_typed(page, outside, "hostile-3-reconstructions", charts=False)

    page.go_to("Latent space")
    chart(page, "latent_chart", "the latent map")
    chart(page, "latent_epoch_chart", "the map over training")
    legend = chart_texts(page)
    for name in class_names(host):
        assert user_text.visible(name) in legend, f"{name!r} not in the latent map's legend as typed"
    with page.expect_download() as download:
        page.click_button("Download codes and map coordinates (CSV)", wait=False)
    assert re.fullmatch(r"[\w.-]+-pca-latent\.csv", download.value.suggested_filename, re.ASCII)
    lasso_middle_of_map(page)
    page.wait_idle(SLOW_PANEL_TIMEOUT_S)
    caption = page.wait_for_text(re.compile(r"^original: (validation|training) image \d+, label ")).inner_text()
    label = caption.replace(user_text.WORD_JOINER, "").split(", label ", 1)[1].split(" (left) and its", 1)[0]
    assert label in [user_text.visible(name) for name in class_names(host)], caption
    assert_names_shown_as_typed(page, outside, "hostile-4-latent")

    page.go_to("Generate")
    chart(page, "class_share_chart", "the judge's classes")
    assert_names_shown_as_typed(page, outside, "hostile-5-generate")

    page.go_to("Applications")
    chart(page, "rate_distortion", "the rate-distortion chart")
    assert_names_shown_as_typed(page, outside, "hostile-6-applications-compression", charts=False)
    open_tab(page, "Classification")
    page.click_button("Train the classifiers", wait=False)
    chart(page, "confusion_chart", "the confusion matrix")
    assert_names_shown_as_typed(page, outside, "hostile-7-applications-classification")
    open_tab(page, "Anomaly detection")
    span_class = class_names(host)[0]
    page.select("Class to hold out", span_class)
    button = page.wait_for(page.get_by_role("button", name=re.compile("^Train without class ")), "the offer")
    assert button.inner_text().replace(user_text.WORD_JOINER, "") == f"Train without class {span_class}"
    button.click()
    hold_out = page.wait_for(page._widget("stSelectbox", "Hold out a class"), "the Hold out a class setting")
    page.wait_until(lambda: hold_out.locator("input").input_value() == span_class, "the class held out on Train")
    train(page, 1)
    page.go_to("Applications")
    open_tab(page, "Anomaly detection")
    chart(page, "anomaly_histogram", "the anomaly histogram")
    assert any(f"held-out {span_class}s" in text for text in chart_texts(page))
    assert_names_shown_as_typed(page, outside, "hostile-8-applications-anomaly")
