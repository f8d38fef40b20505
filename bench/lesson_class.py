"""A class at once on the Lesson page, in real Chromium: ten sessions press "Run this step" on step 2 together.

On a fresh server (empty temporary runs folder, no example runs), one session opens the Lesson page at ?step=2,
presses "Run this step" and is timed to the step's result ("Result." shown). On a second fresh server, ten sessions
(ten browser contexts of one Chromium, each its own Streamlit session and workspace) open ?step=2 and wait until
idle; then each page's own timer clicks "Run this step" at one agreed instant of the browser's clock, which puts
the ten clicks within milliseconds of each other, and each page notes when its result appears. Times are taken in
the browser (Date.now() at the click and at the result), not by polling from Python.

Checks, each of which fails if every session trained its own model: the ten results name one run id in their links
to the lab, and the ten workspaces on disk hold that run and no other (the trainings started are the distinct run
ids saved). A third fresh server times step 3 (the convolutional model) alone. Each figure comes with the 1-minute
load average before and after it: times here depend on what else the machine runs.

Usage: .venv/bin/python bench/lesson_class.py [--sessions 10]
Prints a markdown table headed by the command that produced it; exits with an error if a check fails.
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("browser_harness", ROOT / "tests" / "browser" / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

TIMEOUT_S = 900  # ten sessions measuring on a busy 2-core machine
CLICK_DELAY_MS = 3000  # from scheduling the clicks to the instant they fire: time to schedule them on every page
LAB_LINK = '[data-testid="stMain"] a[href*="run="]'  # "Open this run (…) on the … page", once the step has run
# Schedules a click on "Run this step" at the browser-clock instant `at` (ms) and notes, by Date.now(), the click and
# the first moment the step's result ("Result." in bold) is in the page. A MutationObserver sees the result as soon
# as Streamlit draws it, with no polling interval and no timer throttling.
SCHEDULE_CLICK = """(at) => {
    const runButton = () => [...document.querySelectorAll('[data-testid="stMain"] button')]
        .find(el => el.innerText.trim() === 'Run this step');
    if (!runButton()) return false;
    window.lessonClickAt = null;
    window.lessonResultAt = null;
    const resultShown = () => [...document.querySelectorAll('[data-testid="stMain"] strong')]
        .some(el => el.innerText.trim() === 'Result.' && el.getBoundingClientRect().width > 0);
    setTimeout(() => {
        const button = runButton();
        window.lessonClickAt = Date.now();
        const observer = new MutationObserver(() => {
            if (resultShown()) {
                window.lessonResultAt = Date.now();
                observer.disconnect();
            }
        });
        observer.observe(document.body, {childList: true, subtree: true, characterData: true});
        button.click();
    }, Math.max(0, at - Date.now()));
    return true;
}"""
# The click and result instants, and the result's text (the paragraph that starts with the bold "Result.").
RESULT_SEEN = """() => {
    const mark = [...document.querySelectorAll('[data-testid="stMain"] strong')]
        .find(el => el.innerText.trim() === 'Result.');
    return [window.lessonClickAt, window.lessonResultAt, mark ? mark.parentElement.innerText.trim() : null];
}"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions pressing Run this step together")
    return parser.parse_args()


def load_average() -> float:
    return os.getloadavg()[0]


def open_step(browser, url: str, step: int, name: str):
    """A new browser context (its own Streamlit session) on the Lesson page at ``step``, its first run ended."""
    context = browser.new_context(viewport=harness.VIEWPORT)
    context.set_default_timeout(120_000)
    page = harness.StreamlitPage(context.new_page(), name)
    page.goto(f"{url}/lesson?step={step}")
    page.wait_for(page.button("Run this step"), "the Run this step button", timeout_s=TIMEOUT_S)
    page.wait_idle(timeout_s=TIMEOUT_S)
    return page


def press_together(pages: list) -> None:
    """Have every page click "Run this step" at one instant of the browser's clock (all pages share it)."""
    at = pages[0].evaluate("() => Date.now()") + CLICK_DELAY_MS
    for page in pages:
        if not page.evaluate(SCHEDULE_CLICK, at):
            page.fail("no Run this step button to press")


def wait_for_results(pages: list) -> list[dict]:
    """Wait until every page shows its result and has ended its script run; each page's click and result instants
    (ms, browser clock), its result's text and the run id in its link to the lab."""
    deadline = time.monotonic() + TIMEOUT_S
    waiting = list(pages)
    while waiting:
        if time.monotonic() > deadline:
            waiting[0].fail(f"no result within {TIMEOUT_S} s of pressing Run this step")
        for page in list(waiting):
            page.check_no_exception()
            if page.evaluate("() => window.lessonResultAt") is not None:
                waiting.remove(page)
        time.sleep(0.25)
    shown = []
    for page in pages:
        page.wait_idle(timeout_s=TIMEOUT_S)
        link = page.wait_for(page.locator(LAB_LINK), "the link to the step's run on its lab page")
        query = urllib.parse.parse_qs(urllib.parse.urlparse(link.get_attribute("href")).query)
        clicked, result, headline = page.evaluate(RESULT_SEEN)
        shown.append({"click_ms": clicked, "result_ms": result, "run_id": query["run"][0], "headline": headline})
    return shown


def saved_run_ids(workspaces: Path) -> list[str]:
    """The id in every run.json under the workspaces folder: one per workspace that holds a run."""
    return [json.loads(path.read_text())["id"] for path in sorted(workspaces.glob("*/runs/*/run.json"))]


def measure(browser, step: int, sessions: int) -> dict:
    """``sessions`` sessions on a fresh server press Run this step on ``step`` together; what each saw and what the
    workspaces hold afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        workspaces = Path(folder) / "workspaces"
        os.environ["AE_WORKSPACES_DIR"] = str(workspaces)  # the server started next inherits it
        with harness.served_app(Path(folder) / "runs", f"streamlit-lesson-class-step{step}-x{sessions}.log") as url:
            pages = [open_step(browser, url, step, f"lesson-class-{index}") for index in range(sessions)]
            try:
                load_before = load_average()
                press_together(pages)
                shown = wait_for_results(pages)
                load_after = load_average()
                saved = saved_run_ids(workspaces)
            finally:
                for page in pages:
                    page.context.close()
    seconds = sorted((one["result_ms"] - one["click_ms"]) / 1000 for one in shown)
    clicks = [one["click_ms"] for one in shown]
    return {
        "seconds": seconds,
        "click_spread_ms": max(clicks) - min(clicks),
        "link_run_ids": {one["run_id"] for one in shown},
        "headlines": {one["headline"] for one in shown},
        "saved_run_ids": saved,
        "load": (load_before, load_after),
    }


def run_benchmark(args) -> dict:
    from playwright.sync_api import sync_playwright

    harness.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        try:
            return {
                "alone": measure(browser, 2, 1),
                "class": measure(browser, 2, args.sessions),
                "step3": measure(browser, 3, 1),
            }
        finally:
            browser.close()


def failed_checks(args, results: dict) -> list[str]:
    """What the class's results show that would not be so if the server trained the model once for all of them."""
    together = results["class"]
    problems = []
    if len(together["seconds"]) != args.sessions:
        problems.append(f"{len(together['seconds'])} of {args.sessions} sessions showed the result")
    if len(together["link_run_ids"]) != 1:
        problems.append(f"the sessions' links name {len(together['link_run_ids'])} different runs")
    if len(set(together["saved_run_ids"])) != 1 or set(together["saved_run_ids"]) != together["link_run_ids"]:
        problems.append(f"the workspaces hold {len(set(together['saved_run_ids']))} different runs")
    if len(together["saved_run_ids"]) != args.sessions:
        problems.append(f"{len(together['saved_run_ids'])} of {args.sessions} workspaces hold the run")
    if len(together["headlines"]) != 1:
        problems.append(f"the sessions show {len(together['headlines'])} different results")
    return problems


def loads(result: dict) -> str:
    before, after = result["load"]
    return f"{before:.1f} → {after:.1f}"


def print_table(args, results: dict) -> None:
    alone, together, step3 = results["alone"], results["class"], results["step3"]
    times = together["seconds"]
    print(f"`.venv/bin/python bench/{Path(__file__).name} --sessions {args.sessions}`\n")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; one Chromium; each case on a fresh "
        "server with an empty runs folder; seconds from the click on Run this step to the step's result shown, by "
        f"the browser's clock; the {args.sessions} clicks fell within {together['click_spread_ms']:.0f} ms.\n"
    )
    print("| step 2 | alone | first | median | last | last / alone | trainings started | load average (1 min) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {args.sessions} sessions at once | {alone['seconds'][0]:.1f} s | {times[0]:.1f} s | "
        f"{statistics.median(times):.1f} s | {times[-1]:.1f} s | {times[-1] / alone['seconds'][0]:.2f}x | "
        f"{len(set(together['saved_run_ids']))} | alone {loads(alone)}, class {loads(together)} |"
    )
    print(
        f"\nAll {len(times)} sessions showed the same result, and their links to the lab name "
        f"{len(together['link_run_ids'])} run id, held by {len(together['saved_run_ids'])} workspaces."
    )
    print(
        f"\nStep 3 (the convolutional model) alone: {step3['seconds'][0]:.1f} s to its result "
        f"(load average {loads(step3)})."
    )


def main() -> None:
    args = parse_args()
    results = run_benchmark(args)
    print_table(args, results)
    if problems := failed_checks(args, results):
        sys.exit("Failed: " + "; ".join(problems) + ".")


if __name__ == "__main__":
    main()
