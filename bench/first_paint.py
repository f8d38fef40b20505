"""How soon each page shows something, in real Chromium, on a dataset's default run.

Trains the default run of ``--dataset`` (digits unless told) with the command line (``python -m ae_core train
--dataset DATASET``, every default but ``--epochs`` when given: a page's time does not depend on them),
starts a fresh server whose runs folder holds it, opens it on the Train page and then, for every page in turn,
measures from the click on the page's navigation link to its first chart or image drawn (a Plotly chart's SVG, or
an image loaded), on the new page and not a stale element of the one before. Generate comes first, straight after
opening the run on the fresh server, while the judges that the server trains in the background at start are still
training; the table says whether the judge was still training when the samples appeared. A second round visits every
page again. Target: at most 1 s for every page.

Usage: [AE_DATA_DIR=../shared/data] .venv/bin/python bench/first_paint.py [--rounds 2] [--width 1400]
       [--dataset digits|mnist] [--epochs N]
Prints a markdown table headed by the command that produced it.
"""

import argparse
import importlib.util
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("browser_harness", ROOT / "tests" / "browser" / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

PAGES = ("Generate", "Data", "Train", "Reconstructions", "Latent space", "Applications")
TIMEOUT_S = 600
# True once the page titled `title` shows a chart or image that is not left over from the page before (Streamlit
# marks an element still on screen from the previous script run as stale).
FIRST_RESULT_SHOWN = """(title) => {
    const heading = document.querySelector('[data-testid="stMain"] h1');
    if (!heading || heading.innerText.trim() !== title) return false;
    const fresh = el => {
        const container = el.closest('[data-testid="stElementContainer"]');
        return container && container.getAttribute('data-stale') !== 'true' && el.getBoundingClientRect().width > 0;
    };
    const charts = document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot .main-svg');
    const images = document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img');
    return [...charts].some(fresh) || [...images].some(img => fresh(img) && img.complete && img.naturalWidth > 0);
}"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="visits of every page, the first on a fresh server")
    parser.add_argument("--width", type=int, default=1400, help="the browser window's width in pixels")
    parser.add_argument("--dataset", choices=("digits", "mnist"), default="digits", help="whose default run")
    parser.add_argument("--epochs", type=int, help="the run's epochs, instead of the default's")
    return parser.parse_args()


def train_default_run(runs_dir: Path, dataset: str, epochs: int | None) -> None:
    command = [sys.executable, "-m", "ae_core", "train", "--dataset", dataset, "--out", str(runs_dir / dataset)]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=TIMEOUT_S)


def click_to_first_result(page, title: str) -> float:
    """Seconds from clicking the navigation link of page ``title`` to its first chart or image drawn."""
    link = page.locator(harness.NAV_LINKS).filter(has=page.get_by_text(title, exact=True)).first
    start = time.perf_counter()
    link.click()
    page.wait_for_function(FIRST_RESULT_SHOWN, arg=title, timeout=TIMEOUT_S * 1000, polling="raf")
    return time.perf_counter() - start


def judge_was_training(page) -> bool:
    """Whether Generate, once it shows either, shows the judge's training progress rather than its scores: the grids
    come first, and then one or the other below them."""
    scores = page.locator('[data-testid="stMetric"]').filter(has_text="Recognisable")
    page.wait_until(lambda: scores.count() > 0 or page.progress_text(), "the judge's scores or its progress", TIMEOUT_S)
    return "Training the judge" in page.progress_text() or "waits to train" in page.progress_text()


def run_benchmark(args) -> dict:
    from playwright.sync_api import sync_playwright

    rounds = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        runs_dir = Path(folder) / "runs"
        train_default_run(runs_dir, args.dataset, args.epochs)
        browser = harness.launch_chromium(playwright)
        try:
            with harness.served_app(runs_dir, "streamlit-first-paint.log") as url:
                page = harness.StreamlitPage(browser.new_page(viewport={"width": args.width, "height": 1000}))
                page.goto(url)
                page.wait_for(page.locator(harness.NAV_LINKS), "the navigation", timeout_s=TIMEOUT_S)
                page.wait_idle()
                page.go_to("Train")
                page.click_button("Open run")
                page.wait_for_text(re.compile(rf"^Opened {args.dataset}"))
                for _ in range(args.rounds):
                    seconds, judge_training = {}, None
                    for title in PAGES:
                        seconds[title] = click_to_first_result(page, title)
                        if title == "Generate" and judge_training is None:
                            judge_training = judge_was_training(page)
                        page.wait_idle(timeout_s=TIMEOUT_S)
                    rounds.append({"seconds": seconds, "judge_training": judge_training})
        finally:
            browser.close()
    return {"rounds": rounds}


def print_table(args, results: dict) -> None:
    epochs = "" if args.epochs is None else f" --epochs {args.epochs}"
    print(
        f"`.venv/bin/python bench/{Path(__file__).name} --rounds {args.rounds} --width {args.width} "
        f"--dataset {args.dataset}{epochs}`\n"
    )
    trained = "the default epochs" if args.epochs is None else f"{args.epochs} epochs"
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; Chromium {args.width} px wide; the "
        f"{args.dataset} default run ({trained}); seconds from the click on a page's link to its first chart or "
        "image drawn.\n"
    )
    header = " | ".join(f"round {number}" for number in range(1, len(results["rounds"]) + 1))
    print(f"| page | {header} |")
    print("|---|" + "---:|" * len(results["rounds"]))
    for title in PAGES:
        cells = " | ".join(f"{one['seconds'][title]:.2f} s" for one in results["rounds"])
        print(f"| {title} | {cells} |")
    first = results["rounds"][0]
    print(
        f"\nRound 1's Generate: the judge was {'still' if first['judge_training'] else 'no longer'} training when its "
        "samples appeared."
    )


def main() -> None:
    args = parse_args()
    print_table(args, run_benchmark(args))


if __name__ == "__main__":
    main()
