"""Browser-test fixtures: the app served by ``streamlit run``, Debian's Chromium driven by Playwright, and a page
object with the steps a person takes (choose, type, click, navigate, wait, look).

The app runs once per test session with ``AE_DATA_DIR`` (MNIST's test set from ../shared/data unless set) and a
temporary ``AE_RUNS_DIR``. Screenshots and the server log land in ``test-artifacts/browser/``. A missing Chromium
fails these tests, so no run can pass without them; `pytest -m "not browser"` leaves them out on purpose.
"""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
CHROMIUM = os.environ.get("AE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 8000
SERVER_START_TIMEOUT_S = 120  # first start imports Streamlit and pandas on a busy 2-core machine
RERUN_TIMEOUT_S = 60  # one script run after a click; the first run that imports TensorFlow is the slow one
IDLE_SETTLE_S = 0.5  # the app counts as idle once no script has run for this long
EXCEPTION = '[data-testid="stException"]'
ERROR_BOX = '[data-testid="stAlertContentError"]'  # st.error, e.g. "Training failed: ..."
NAV_LINKS = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(port: int, data_dir: Path, runs_dir: Path, log_path: Path, examples: bool = False) -> subprocess.Popen:
    """``streamlit run app.py`` on ``port`` with the venv's Python (the one running the tests).

    The file watcher is off: no module reloads while a test runs, and no watcher CPU on a 2-core machine. Example
    runs (AE_EXAMPLE_RUNS) only where a test asks for them: they would take the cores from the test's own trainings
    and add runs to every session.
    """
    env = {
        **os.environ,
        "AE_DATA_DIR": str(data_dir),
        "AE_RUNS_DIR": str(runs_dir),
        "AE_EXAMPLE_RUNS": "1" if examples else "0",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    log = open(log_path, "w")
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()  # the child holds its own copy of the file descriptor


def wait_for_health(url: str, process: subprocess.Popen, timeout_s: float, log_path: Path) -> None:
    """Return once ``url``/_stcore/health answers "ok"; fail with the server log if it exits or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"streamlit did not answer {url}/_stcore/health within {timeout_s:.0f} s:\n{log_path.read_text()[-3000:]}"
    )


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class StreamlitPage:
    """A Playwright page showing the app. Unknown attributes go to the Playwright page (``locator``, ``evaluate``).

    Every wait fails early, with a screenshot, when the app shows an exception or an error box.
    """

    def __init__(self, page, name: str = "page"):
        self.page = page
        self.name = name

    def __getattr__(self, attribute):
        return getattr(self.page, attribute)

    # Waiting ------------------------------------------------------------------------------------------------------

    def script_state(self) -> str | None:
        """ "running" while a script run is in progress, "notRunning" otherwise (Streamlit's own test attribute)."""
        return self.page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")

    def wait_idle(self, timeout_s: float = RERUN_TIMEOUT_S) -> None:
        """Wait until no script has run for IDLE_SETTLE_S, so a click's rerun has started and ended."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while time.monotonic() < deadline:
            self.check_no_exception()
            if self.script_state() == "notRunning":
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= IDLE_SETTLE_S:
                    return
            else:
                quiet_since = None
            self.page.wait_for_timeout(100)
        self.fail(f"the app was still running a script after {timeout_s:.0f} s")

    def wait_for(self, locator, what: str, timeout_s: float = RERUN_TIMEOUT_S):
        """Wait until ``locator`` has a visible match; return its first match."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_no_exception()
            for index in range(locator.count()):
                match = locator.nth(index)
                if match.is_visible():
                    return match
            self.page.wait_for_timeout(250)
        self.fail(f"{what} did not appear within {timeout_s:.0f} s")

    def wait_for_text(self, pattern: str | re.Pattern, timeout_s: float = RERUN_TIMEOUT_S):
        """Wait for an element whose text matches ``pattern`` (a substring, or a regular expression)."""
        return self.wait_for(self.page.get_by_text(pattern), f"text {pattern!r}", timeout_s)

    def wait_until(self, condition, what: str, timeout_s: float = RERUN_TIMEOUT_S):
        """Poll ``condition()`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_no_exception()
            value = condition()
            if value:
                return value
            self.page.wait_for_timeout(250)
        self.fail(f"{what} did not happen within {timeout_s:.0f} s")

    def check_no_exception(self) -> None:
        for selector, kind in ((EXCEPTION, "an exception"), (ERROR_BOX, "an error")):
            boxes = self.page.locator(selector)
            if boxes.count():
                self.fail(f"the app shows {kind}:\n{boxes.first.inner_text()[:2000]}")

    def fail(self, message: str):
        path = self.screenshot(f"FAILED-{self.name}")
        pytest.fail(f"{self.name}: {message} (screenshot: {path})")

    # Acting -------------------------------------------------------------------------------------------------------

    def _widget(self, testid: str, label: str):
        """The widget with data-testid ``testid`` whose label text is exactly ``label``."""
        label_element = self.page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True)
        return self.page.locator(f'[data-testid="{testid}"]').filter(has=label_element)

    def select(self, label: str, option: str, exact: bool = True) -> str:
        """Choose ``option`` in the selectbox labelled ``label`` (``exact=False``: the option containing it).

        Returns the option text now shown in the box.
        """
        box = self.wait_for(self._widget("stSelectbox", label), f"selectbox {label!r}")
        box.click()
        choice = self.page.get_by_role("option", name=option, exact=exact)
        choice = self.wait_for(choice, f"option {option!r} of {label!r}", timeout_s=10)
        chosen = choice.inner_text().strip()
        choice.click()
        self.wait_idle()
        shown = box.locator("input").input_value()
        if shown != chosen:
            self.fail(f"selectbox {label!r} shows {shown!r} after choosing {chosen!r}")
        return chosen

    def selected(self, label: str) -> str | None:
        """The option shown in the selectbox labelled ``label``; None when no such selectbox is shown."""
        box = self._widget("stSelectbox", label)
        return box.locator("input").input_value() if box.count() else None

    def set_number(self, label: str, value: int | float) -> None:
        """Type ``value`` into the number input labelled ``label`` and commit it with Enter."""
        field = self.wait_for(self._widget("stNumberInput", label), f"number input {label!r}").locator("input")
        field.fill(str(value))
        field.press("Enter")
        self.wait_idle()
        if float(field.input_value()) != float(value):
            self.fail(f"number input {label!r} shows {field.input_value()!r} after typing {value!r}")

    def set_text(self, label: str, value: str) -> None:
        """Type ``value`` into the text input labelled ``label`` and commit it with Enter."""
        field = self.wait_for(self._widget("stTextInput", label), f"text input {label!r}").locator("input")
        field.fill(value)
        field.press("Enter")
        self.wait_idle()

    def button(self, text: str):
        return self.page.get_by_role("button", name=text, exact=True)

    def click_button(self, text: str, wait: bool = True) -> None:
        """Click the button labelled exactly ``text``; with ``wait``, also wait for the rerun to end."""
        self.wait_for(self.button(text), f"button {text!r}").click()
        if wait:
            self.wait_idle()

    def wait_enabled(self, text: str, timeout_s: float = RERUN_TIMEOUT_S) -> None:
        """Wait until the button labelled exactly ``text`` can be clicked."""
        button = self.button(text)
        self.wait_until(lambda: button.count() and button.first.is_enabled(), f"button {text!r} enabled", timeout_s)

    def go_to(self, title: str) -> None:
        """Click the navigation link of the page titled ``title`` and wait for that page to render."""
        links = self.page.locator(NAV_LINKS)
        link = self.wait_for(links.filter(has=self.page.get_by_text(title, exact=True)), f"nav link {title!r}")
        link.click()
        self.wait_until(lambda: link.get_attribute("aria-current") == "page", f"page {title!r} becoming current")
        self.wait_idle()

    # Looking ------------------------------------------------------------------------------------------------------

    def nav_titles(self) -> list[str]:
        """The titles of the navigation links, in order (a link's text starts with its icon's name)."""
        return [text.strip().splitlines()[-1].strip() for text in self.page.locator(NAV_LINKS).all_inner_texts()]

    def progress_text(self) -> str:
        """The text of the first progress bar on the page, "" when none is shown."""
        bars = self.page.locator('[data-testid="stProgress"]')
        return bars.first.inner_text().strip() if bars.count() else ""

    def plot_traces(self, charts: str = ".js-plotly-plot") -> list[list[dict]]:
        """The traces of every Plotly chart ``charts`` (a CSS selector) matches as {"name", "x", "y"} with plain
        lists, in page order.

        ``el.data`` keeps NumPy arrays in Plotly's base64 form ({"dtype", "bdata"}), so x and y come from the decoded
        ``el._fullData`` when ``el.data`` does not hold a plain array.
        """
        return self.page.evaluate(
            """(charts) => Array.from(document.querySelectorAll(charts)).map(el =>
            (el.data || []).map((trace, i) => {
                const full = (el._fullData || []).find(f => f.index === i) || {};
                const values = key => Array.isArray(trace[key]) ? trace[key] : Array.from(full[key] || []);
                return {name: trace.name ?? full.name ?? '', x: values('x'), y: values('y')};
            }))""",
            charts,
        )

    def screenshot(self, name: str) -> Path:
        """Save the whole page to ARTIFACTS/name.png. Streamlit scrolls inside its main container, so Playwright's
        full_page sees one screen; the viewport is stretched to the content's height for the shot instead."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        viewport = self.page.viewport_size
        content_height = self.page.evaluate("""() => Math.max(...[document.scrollingElement,
            ...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
            .map(el => el ? el.scrollHeight : 0))""")
        height = min(max(content_height, viewport["height"]), MAX_SCREENSHOT_HEIGHT)
        self.page.set_viewport_size({"width": viewport["width"], "height": height})
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no focus ring
        self.page.mouse.move(viewport["width"] - 5, 5)  # no hover effects
        try:
            self.page.wait_for_timeout(300)  # let Plotly resize to the new layout
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(viewport)
        return path


def require_chromium() -> None:
    """Fail when Chromium is missing: a run must not pass without its browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}; install it with `apt-get install chromium` (see .ci/run), "
            'or leave the browser tests out on purpose with `pytest -m "not browser"`.'
        )


@contextlib.contextmanager
def served_app(runs_dir: Path, log_name: str, examples: bool = False):
    """A fresh ``streamlit run app.py`` for as long as the block runs; yields its address."""
    data_dir = Path(os.environ.get("AE_DATA_DIR") or DEFAULT_DATA_DIR)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = ARTIFACTS / log_name
    process = start_app(port, data_dir, runs_dir, log_path, examples)
    try:
        wait_for_health(url, process, SERVER_START_TIMEOUT_S, log_path)
        yield url
    finally:
        stop_app(process)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """The app's address; the server runs for the whole session with a temporary runs folder."""
    require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old_screenshot in ARTIFACTS.glob("*.png"):
        old_screenshot.unlink()
    with served_app(tmp_path_factory.mktemp("runs"), "streamlit.log") as url:
        yield url


@pytest.fixture
def fresh_app_url(app_url, tmp_path):
    """The address of a second server started for this test alone, which has served no request yet."""
    with served_app(tmp_path / "runs", "streamlit-fresh.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def open_app(browser, app_url):
    """Factory: ``open_app(name, url)`` opens ``url`` (the session's app by default) in a fresh browser context,
    its own Streamlit session, and waits for the navigation."""
    contexts = []

    def open_new(name: str = "page", url: str | None = None) -> StreamlitPage:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = StreamlitPage(context.new_page(), name)
        page.goto(url or app_url)
        page.wait_for(page.locator(NAV_LINKS), "the navigation", timeout_s=RERUN_TIMEOUT_S)
        page.wait_idle()
        return page

    yield open_new
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_app) -> StreamlitPage:
    """The app in a fresh 1400x1000 browser context, first page rendered."""
    return open_app()


LATENT_MAP = ".st-key-latent_chart .js-plotly-plot"  # the Latent space page's map


def lasso_middle_of_map(page) -> None:
    """Pick the lasso tool in the map's mode bar and drag it around the middle third of the plot area."""
    page.locator(LATENT_MAP).hover()
    page.locator(f'{LATENT_MAP} .modebar-btn[data-title="Lasso Select"]').click()
    plot_area = page.wait_for(page.locator(f"{LATENT_MAP} .nsewdrag"), "the map's plot area")
    plot_area.scroll_into_view_if_needed()  # the mouse moves in the viewport's coordinates
    area = plot_area.bounding_box()
    left, top = area["x"] + area["width"] / 3, area["y"] + area["height"] / 3
    right, bottom = area["x"] + 2 * area["width"] / 3, area["y"] + 2 * area["height"] / 3
    page.mouse.move(left, top)
    page.mouse.down()
    for x, y in ((right, top), (right, bottom), (left, bottom), (left, top + 5)):
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def first_point(page, trace_name: str | None = None, chart: str = LATENT_MAP) -> tuple:
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
