"""How fast the app feels in a real browser, and what the live UI costs over training with ae_core alone.

Measures, with MNIST from AE_DATA_DIR (8,000 training and 2,000 validation images):
  (a) from launching ``streamlit run app.py`` to the Data page's "Dataset" selectbox shown in Chromium;
  (b) training a preset through the Train page (click "Start training" to "Finished") against the same
      ``ae_core.runs.train_run`` call in a plain Python subprocess, alternating ae_core, page, ae_core, page;
  (c) after training, from clicking the "Reconstructions" nav link to the reconstruction image shown.

Usage: AE_DATA_DIR=../shared/data .venv/bin/python bench/ui_speed.py [--epochs 5] [--preset conv] [--pairs 2]
Prints a markdown table headed by the command that produced it. Timings on a 2-core machine vary by ~10%.
"""

import argparse
import importlib.util
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ae_core.settings.model_config import PRESET_TITLES  # noqa: E402 - needs the project on sys.path first

# The browser tests' harness (server start, Chromium, StreamlitPage) drives the app here too, so the benchmark
# clicks exactly what the tests click.
_spec = importlib.util.spec_from_file_location("browser_harness", ROOT / "tests" / "browser" / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

TRAINING_TIMEOUT_S = 900
FINISHED_TEXT = re.compile(r"Finished (\d+) epochs? in ([0-9.]+) s")  # the page's "Finished 5 epochs in 30.7 s · ..."

AE_CORE_SNIPPET = """
import json, sys, time
from dataclasses import replace
from ae_core.settings.recommended import recommended_settings
from ae_core.data import load_dataset
from ae_core.runs.run import train_run

data_dir, preset, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
dataset = load_dataset("mnist", data_dir=data_dir, allow_download=False)
start = time.perf_counter()
# The settings the Train page starts from for this preset and dataset.
model_config, train_config = recommended_settings(dataset.name, dataset.image_shape, preset)
train_config = replace(train_config, epochs=epochs)
run = train_run(dataset.x_train, dataset.x_val, dataset.name, model_config, train_config)
print(json.dumps({"wall_s": time.perf_counter() - start, "seconds_per_epoch": run.result.seconds_per_epoch,
                  "n_train": len(dataset.x_train), "epochs": run.result.epochs_completed}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("AE_DATA_DIR") or str(harness.DEFAULT_DATA_DIR))
    parser.add_argument("--preset", default="conv", choices=sorted(PRESET_TITLES))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=2, help="(ae_core, page) measurements, alternated")
    return parser.parse_args()


def train_with_ae_core(args) -> dict:
    """train_run in a fresh Python process; imports and data loading are outside the timed part."""
    command = [sys.executable, "-c", AE_CORE_SNIPPET, args.data_dir, args.preset, str(args.epochs)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TRAINING_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"ae_core training failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def train_in_page(page, args) -> dict:
    """Click "Start training" on the Train page and time it until the page says "Finished"."""
    page.select("Preset", PRESET_TITLES[args.preset])
    page.set_number("Epochs", args.epochs)
    start = time.perf_counter()
    page.click_button("Start training", wait=False)
    page.wait_enabled("Stop")  # running: an earlier run's "Finished" is gone from the page
    finished = page.wait_for_text(re.compile(r"^Finished"), timeout_s=TRAINING_TIMEOUT_S)
    wall = time.perf_counter() - start
    reported = FINISHED_TEXT.search(finished.inner_text())
    page.wait_idle()
    seconds_per_epoch = float(reported.group(2)) / int(reported.group(1)) if reported else None
    return {"wall_s": wall, "seconds_per_epoch": seconds_per_epoch}


def open_reconstructions(page) -> float:
    """Seconds from clicking the "Reconstructions" nav link to a loaded image on that page."""
    link = page.locator('[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]').filter(
        has=page.get_by_text("Reconstructions", exact=True)
    )
    heading = page.get_by_role("heading", name="Reconstructions")
    images = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    start = time.perf_counter()
    link.first.click()
    page.wait_for(heading, "the Reconstructions title")  # the Train page's images are gone once it shows
    page.wait_until(
        lambda: any(
            images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(images.count())
        ),
        "the reconstruction image",
        timeout_s=TRAINING_TIMEOUT_S,
    )
    return time.perf_counter() - start


def run_benchmark(args) -> dict:
    from playwright.sync_api import sync_playwright

    results = {"ae_core": [], "page": []}
    with tempfile.TemporaryDirectory() as runs_dir, sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        page = harness.StreamlitPage(browser.new_page(viewport=harness.VIEWPORT), "ui-speed")
        port = harness.free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(runs_dir) / "streamlit.log"
        launched = time.perf_counter()
        server = harness.start_app(port, Path(args.data_dir), Path(runs_dir), log_path)
        try:
            harness.wait_for_health(url, server, harness.SERVER_START_TIMEOUT_S, log_path)
            results["health_s"] = time.perf_counter() - launched
            page.goto(url)
            page.wait_for(
                page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Dataset", exact=True)),
                "the Dataset selectbox",
            )
            results["startup_s"] = time.perf_counter() - launched
            page.wait_idle()
            page.go_to("Train")
            for _ in range(args.pairs):
                results["ae_core"].append(train_with_ae_core(args))
                results["page"].append(train_in_page(page, args))
            results["reconstructions_s"] = open_reconstructions(page)
        finally:
            harness.stop_app(server)
            browser.close()
    return results


def print_table(args, results: dict) -> None:
    command = f"AE_DATA_DIR={shlex.quote(args.data_dir)} .venv/bin/python bench/{Path(__file__).name} " + " ".join(
        f"--{name} {value}" for name, value in (("preset", args.preset), ("epochs", args.epochs), ("pairs", args.pairs))
    )
    n_train = results["ae_core"][0]["n_train"]
    print(f"`{command}`\n")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; MNIST {n_train} training images; "
        f"preset {args.preset}, {args.epochs} epochs.\n"
    )
    print("| measurement | value |")
    print("|---|---:|")
    print(f"| (a) `streamlit run` to /_stcore/health ok | {results['health_s']:.1f} s |")
    print(f'| (a) `streamlit run` to Data page with "Dataset" selectbox in Chromium | {results["startup_s"]:.1f} s |')
    ratios = []
    for index, (core, page) in enumerate(zip(results["ae_core"], results["page"]), start=1):
        print(
            f"| (b) pair {index}: ae_core `train_run` wall / s per epoch | {core['wall_s']:.1f} / "
            f"{core['seconds_per_epoch']:.2f} s |"
        )
        if page["seconds_per_epoch"] is None:
            print(
                f'| (b) pair {index}: Train page, click to "Finished" wall / s per epoch | {page["wall_s"]:.1f} '
                "/ not shown |"
            )
            continue
        ratios.append(page["seconds_per_epoch"] / core["seconds_per_epoch"])
        print(
            f'| (b) pair {index}: Train page, click to "Finished" wall / s per epoch | {page["wall_s"]:.1f} / '
            f"{page['seconds_per_epoch']:.2f} s |"
        )
        print(f"| (b) pair {index}: page / ae_core s per epoch | {ratios[-1]:.2f}x |")
    if ratios:
        overhead = statistics.median(ratios)
        print(f"| (b) median page / ae_core s per epoch (the live view's overhead) | {overhead:.2f}x |")
    print(f'| (c) click "Reconstructions" to reconstruction image shown | {results["reconstructions_s"]:.1f} s |')
    print(
        "\nNeither side's time includes importing TensorFlow or loading MNIST: the server does both when the Train "
        "page first opens, before the first pair. The page's s per epoch is T / N from its \"Finished N epochs in "
        "T s\"; ae_core's is TrainingResult.seconds_per_epoch: both count training time only, so the overhead "
        "figure leaves out the page's start-up, its scoring against PCA and the up to 2 s it takes to notice the "
        "end of training, which the walls include."
    )


def main() -> None:
    args = parse_args()
    print_table(args, run_benchmark(args))


if __name__ == "__main__":
    main()
