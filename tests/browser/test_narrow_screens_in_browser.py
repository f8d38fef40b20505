"""Every page at 800 and 1400 px wide, on the digits default run, in real Chromium: nothing sticks out of the page or
its column, nothing is cut off inside its box (a metric shown as "128 …", a clipped button), no word of a label,
button or tab breaks across lines, and every tab of a page is looked at. Screenshots of each page at each width land
in test-artifacts/browser/ (narrow-WIDTH-N-PAGE.png)."""

import re
import subprocess
import sys

import pytest

from tests.browser.conftest import NAV_LINKS, RERUN_TIMEOUT_S, ROOT, StreamlitPage, served_app

pytestmark = pytest.mark.browser

WIDTHS = (800, 1400)
PAGES = ("Data", "Train", "Reconstructions", "Latent space", "Generate", "Applications")
TRAINING_TIMEOUT_S = 900  # the digits default run: the conv preset, 40 epochs, on a busy 2-core machine
PAGE_TIMEOUT_S = 240  # a page's first chart, e.g. the judge or the applications' baselines on a busy machine
FIRST_RESULT = '[data-testid="stMain"] .js-plotly-plot, [data-testid="stMain"] [data-testid="stImage"] img'

# Problems on the page as shown, one line each. Elements of a hidden tab or a closed expander have no size and
# are left out; data frames scroll inside themselves by design, and Plotly draws in SVG, checked by its own size.
LAYOUT_PROBLEMS = """() => {
    const problems = [];
    const SCROLLS_INSIDE = '[data-testid="stDataFrame"], .js-plotly-plot';
    const main = document.querySelector('[data-testid="stMain"]');
    const block = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
    const name = el => {
        const label = el.querySelector('[data-testid="stWidgetLabel"], [data-testid="stMetricLabel"], button, p');
        const text = (label ? label.innerText : el.innerText || '').trim().split('\\n')[0].slice(0, 40);
        return `${el.getAttribute('data-testid') || el.tagName.toLowerCase()} "${text}"`;
    };
    if (main.scrollWidth > main.clientWidth + 1) {
        problems.push(`the page scrolls sideways: ${main.scrollWidth} px in ${main.clientWidth}`);
    }
    for (const el of main.querySelectorAll('[data-testid="stElementContainer"]')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        if (box.right > block.right + 1 || box.left < block.left - 1) {
            problems.push(`${name(el)} sticks out of the page: ${Math.round(box.left)}-${Math.round(box.right)} px`);
        }
        for (const inner of [el, ...el.querySelectorAll('*')]) {
            if (!(inner instanceof HTMLElement) || inner.closest(SCROLLS_INSIDE)) continue;
            // inputs scroll their text; boxes under 4 px wide are a screen reader's, not drawn
            if (['INPUT', 'TEXTAREA'].includes(inner.tagName) || inner.clientWidth < 4) continue;
            const overflow = getComputedStyle(inner).overflowX;
            if (overflow !== 'visible' && inner.scrollWidth > inner.clientWidth + 1) {
                problems.push(`${name(el)} is cut off: ${inner.scrollWidth} px shown in ${inner.clientWidth}`);
                break;
            }
        }
    }
    for (const plot of main.querySelectorAll('.js-plotly-plot')) {
        const svg = plot.querySelector('.main-svg');
        const room = plot.parentElement.getBoundingClientRect().width;
        if (svg && plot.getBoundingClientRect().width > 0 && svg.getBoundingClientRect().width > room + 1) {
            problems.push(`a chart is ${Math.round(svg.getBoundingClientRect().width)} px wide in ${Math.round(room)}`);
        }
    }
    const texts = main.querySelectorAll(
        '[data-testid="stWidgetLabel"], button, [role="tab"], [data-testid="stMetricLabel"]');
    for (const holder of texts) {
        if (holder.getBoundingClientRect().width === 0) continue;
        const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const word of node.textContent.matchAll(/[^\\s\\-\\u2013\\/]+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const tops = new Set(Array.from(range.getClientRects()).map(rect => Math.round(rect.top)));
                if (tops.size > 1) problems.push(`"${word[0]}" breaks across lines`);
            }
        }
    }
    return problems;
}"""


@pytest.fixture(scope="module")
def digits_default_url(tmp_path_factory):
    """A server whose runs folder holds the digits default run, trained by the command line with every default."""
    runs = tmp_path_factory.mktemp("narrow-runs")
    command = [sys.executable, "-m", "ae_core", "train", "--dataset", "digits", "--out", str(runs / "digits-default")]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=TRAINING_TIMEOUT_S)
    with served_app(runs, "streamlit-narrow.log") as url:
        yield url


def open_saved_run(browser, url: str, width: int) -> StreamlitPage:
    context = browser.new_context(viewport={"width": width, "height": 1000})
    context.set_default_timeout(30_000)
    page = StreamlitPage(context.new_page(), f"narrow-{width}")
    page.goto(url)
    page.wait_for(page.locator(NAV_LINKS), "the navigation", timeout_s=RERUN_TIMEOUT_S)
    page.wait_idle()
    page.go_to("Train")
    page.click_button("Open run")
    page.wait_for_text(re.compile(r"^Opened digits-default"))
    return page


def layout_problems(page: StreamlitPage) -> list[str]:
    """The problems of the page as shown, in each of its tabs (a tab's content is drawn with the page)."""
    problems = page.evaluate(LAYOUT_PROBLEMS)
    tabs = page.locator('[data-testid="stMain"] [role="tab"]')
    for index in range(1, tabs.count()):
        tabs.nth(index).click()
        page.wait_for_timeout(400)  # Plotly resizes a chart once its tab is shown
        problems += [f"tab {tabs.nth(index).inner_text().strip()!r}: {line}" for line in page.evaluate(LAYOUT_PROBLEMS)]
    if tabs.count():
        tabs.first.click()
    return problems


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_width_of_the_screen(browser, digits_default_url, width):
    page = open_saved_run(browser, digits_default_url, width)
    try:
        found = {}
        for number, title in enumerate(PAGES, start=1):
            page.go_to(title)
            page.wait_for(page.locator(FIRST_RESULT), f"the first chart or image of {title}", timeout_s=PAGE_TIMEOUT_S)
            page.wait_idle(timeout_s=PAGE_TIMEOUT_S)
            page.wait_for_timeout(500)  # Plotly lays a chart out after the script has ended
            found[title] = layout_problems(page)
            page.screenshot(f"narrow-{width}-{number}-{title.lower().replace(' ', '-')}")
        assert not any(found.values()), {title: problems for title, problems in found.items() if problems}
    finally:
        page.context.close()
