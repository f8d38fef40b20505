"""A workspace per browser, in real Chromium: the run a person trains is there after a reload and after the server
restarts (the token in the address is the key), a second browser can open a saved run but not rename or delete it
while its owner can, and no page fetches anything from a host other than the app's own."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import NAV_LINKS, RERUN_TIMEOUT_S, VIEWPORT, StreamlitPage, served_app

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT_S = 180
PAGES = ["Data", "Train", "Reconstructions", "Latent space", "Generate", "Applications"]


def opened(browser, url: str, name: str, requests: list | None = None) -> StreamlitPage:
    """``url`` in a fresh browser context (another browser, as far as the server can tell)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    if requests is not None:
        context.on("request", lambda request: requests.append(request.url))
    page = StreamlitPage(context.new_page(), name)
    page.goto(url)
    page.wait_for(page.locator(NAV_LINKS), "the navigation", timeout_s=RERUN_TIMEOUT_S)
    page.wait_idle()
    return page


def token_of(page: StreamlitPage) -> str:
    return page.wait_until(lambda: parse_qs(urlparse(page.url).query).get("ws", [None])[0], "a workspace token")


def run_picked(page: StreamlitPage) -> str:
    """The run the Reconstructions page shows (its Run selectbox)."""
    page.go_to("Reconstructions")
    box = page.wait_for(page._widget("stSelectbox", "Run"), "the Run selectbox")
    return box.locator("input").input_value()


def train_one_epoch(page: StreamlitPage, name: str) -> None:
    """Train the Dense preset on the chosen dataset for one epoch, as ``name``, from the Train page."""
    page.go_to("Train")
    page.select("Preset", "Dense")
    page.set_number("Epochs", 1)
    page.set_text("Run name", name)
    page.click_button("Start training", wait=False)
    page.wait_for_text(re.compile(r"^Finished"), timeout_s=TRAINING_TIMEOUT_S)
    page.wait_idle()


def test_a_run_survives_a_reload_and_a_restart_and_only_its_workspace_deletes_it(browser, tmp_path):
    runs_dir = tmp_path / "runs"
    with served_app(runs_dir, "streamlit-workspaces-1.log") as url:
        page = opened(browser, url, "workspace")
        token = token_of(page)
        page.select("Dataset", "Digits", exact=False)
        train_one_epoch(page, "kept-run")
        assert token_of(page) == token, "the token stays in the address on every page"

        page.reload()
        page.wait_for(page.locator(NAV_LINKS), "the navigation after the reload")
        page.wait_idle()
        assert token_of(page) == token
        assert run_picked(page) == "kept-run", "the reload kept the run"
        page.wait_for(page.locator('[data-testid="stImage"]'), "the run's reconstructions")
        page.screenshot("workspace-1-after-reload")

        page.go_to("Train")
        page.click_button("Save run")
        page.wait_for_text("everyone using this server can open it now")
        other = opened(browser, url, "other-workspace")
        assert token_of(other) != token, "another browser gets a workspace of its own"
        other.go_to("Train")
        other.wait_for(other.button("Open run"), "the saved run")
        assert not other.button("Delete run").is_enabled() and not other.button("Rename run").is_enabled()
        other.click_button("Open run")
        other.wait_for_text("it is now the current run")
        other.screenshot("workspace-2-other-browser")
        other.context.close()
        page.context.close()

    with served_app(runs_dir, "streamlit-workspaces-2.log") as url:  # the server restarted
        page = opened(browser, f"{url}/?ws={token}", "workspace-restarted")
        assert token_of(page) == token
        assert run_picked(page) == "kept-run", "the workspace's run is there after the restart"
        page.go_to("Train")
        page.wait_for(page.button("Delete run"), "the saved run")
        assert page.button("Delete run").is_enabled() and page.button("Rename run").is_enabled()
        page.click_button("Delete run")
        page.click_button("Delete for everyone")
        page.wait_for_text(re.compile(r"^Deleted kept-run from"))
        page.screenshot("workspace-3-deleted-by-its-owner")
        page.context.close()


def test_no_page_fetches_anything_from_another_host(browser, app_url):
    requests: list[str] = []
    page = opened(browser, app_url, "offline", requests)
    for title in PAGES:
        page.go_to(title)
        page.wait_idle()
        page.page.wait_for_timeout(1000)  # fonts and images load after the script run
    own = urlparse(app_url).netloc
    hosts = {urlparse(url).netloc for url in requests if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert own in hosts and len(requests) > 20, "the recorder saw the app's own requests"
    outside = sorted(url for url in requests if urlparse(url).netloc not in (own, ""))
    assert hosts == {own}, f"requests left the server: {outside}"
    fonts = [url for url in requests if url.endswith(".woff2")]
    assert any("MaterialSymbols" in url for url in fonts), "the page icons' font comes from the app itself"
    page.context.close()


def test_a_latent_space_link_opens_the_same_saved_run_and_view_in_a_fresh_browser(browser, app_url):
    page = opened(browser, app_url, "link")
    train_one_epoch(page, "linked-run")
    page.click_button("Save run")
    page.wait_for_text("everyone using this server can open it now")
    page.go_to("Latent space")
    query = parse_qs(urlparse(page.url).query)
    page.goto(f"{page.url.split('?')[0]}?ws={query['ws'][0]}&run={query['run'][0]}&method=tsne&iterations=50&points=3")
    page.wait_for(page.locator(NAV_LINKS), "the navigation")
    page.wait_idle(timeout_s=TRAINING_TIMEOUT_S)
    link = page.url
    view = {name: parse_qs(urlparse(link).query).get(name) for name in ("run", "method", "iterations", "points")}
    assert view == {"run": query["run"], "method": ["tsne"], "iterations": ["50"], "points": ["3"]}

    fresh = opened(browser, re.sub(r"ws=[^&]+&?", "", link), "link-fresh-browser")  # the view, without the key
    fresh.wait_idle(timeout_s=TRAINING_TIMEOUT_S)
    shown = parse_qs(urlparse(fresh.url).query)
    assert shown["ws"] != query["ws"], "the fresh browser has a workspace of its own"
    assert {name: shown.get(name) for name in view} == view, "the same run and view"
    box = fresh.wait_for(fresh._widget("stSelectbox", "Run"), "the Run selectbox")
    assert box.locator("input").input_value() == "linked-run"
    fresh.screenshot("workspace-4-link-in-fresh-browser")
    fresh.context.close()
    page.context.close()


def saved_digits_run(runs_dir):
    """A one-epoch dense run on digits, saved in ``runs_dir`` as a person's Save run would: anyone may open it."""
    from ae_core.data import load_dataset
    from ae_core.runs.run import train_run
    from ae_core.runs.saving import save_run
    from ae_core.settings.model_config import ModelConfig
    from ae_core.settings.train_config import TrainConfig

    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    run = train_run(
        digits.x_train,
        digits.x_val,
        "digits",
        config,
        TrainConfig(epochs=1, batch_size=64),
        name="shared-run",
        split=digits.split.to_dict(),
    )
    save_run(run, runs_dir)
    return run


def address(page: StreamlitPage) -> dict:
    return {name: values[0] for name, values in parse_qs(urlparse(page.url).query).items()}


def test_a_generate_and_an_applications_link_open_the_same_view_in_a_fresh_browser(browser, tmp_path):
    run = saved_digits_run(tmp_path / "runs")
    with served_app(tmp_path / "runs", "streamlit-workspaces-links.log") as url:
        page = opened(browser, f"{url}/generate?run={run.id}", "generate-link")
        page.wait_for_text(re.compile(r"^64 images, sampled and decoded"), timeout_s=TRAINING_TIMEOUT_S)
        page.set_number("Seed", 7)
        page.wait_until(lambda: address(page).get("seed") == "7", "the seed in the address")
        link = address(page)
        assert link["run"] == run.id and link["sampler"] == "gmm" and link["temperature"] == "1"

        fresh = opened(browser, re.sub(r"ws=[^&]+&?", "", page.url), "generate-link-fresh-browser")
        fresh.wait_for_text(re.compile(r"^64 images, sampled and decoded"), timeout_s=TRAINING_TIMEOUT_S)
        field = fresh.wait_for(fresh._widget("stNumberInput", "Seed"), "the Seed input").locator("input")
        assert field.input_value() == "7", "the link's seed"
        shown = address(fresh)
        assert shown["ws"] != link["ws"] and {**shown, "ws": link["ws"]} == link, "the same run and view"
        fresh.screenshot("workspace-5-generate-link-in-fresh-browser")
        fresh.context.close()

        page.go_to("Applications")
        page.get_by_role("tab", name="Restoration", exact=True).click()
        page.wait_idle(timeout_s=TRAINING_TIMEOUT_S)
        page.select("Degradation", "Blur")
        page.wait_until(lambda: address(page).get("degradation") == "blur", "the degradation in the address")
        link = address(page)
        assert link["tab"] == "restoration" and link["run"] == run.id

        fresh = opened(browser, re.sub(r"ws=[^&]+&?", "", page.url), "applications-link-fresh-browser")
        fresh.wait_for(fresh._widget("stSelectbox", "Degradation"), "the Restoration tab", timeout_s=TRAINING_TIMEOUT_S)
        assert fresh.selected("Degradation") == "Blur"
        tab = fresh.get_by_role("tab", name="Restoration", exact=True)
        assert tab.get_attribute("aria-selected") == "true", "the link's tab is open"
        assert {**address(fresh), "ws": link["ws"]} == link
        fresh.screenshot("workspace-6-applications-link-in-fresh-browser")
        fresh.context.close()

        page.go_to("Train")  # the run the link opened, as a run just trained shows, and in "Compare runs"
        page.wait_for_text(re.compile(r"^Finished 1 epoch in"))
        page.wait_for(page.locator('[data-testid="stDataFrame"]'), "the Compare runs table")
        assert page.selected("Preset") == "Dense", "the run's settings in the form"
        page.screenshot("workspace-7-train-with-the-opened-run")
        page.context.close()
