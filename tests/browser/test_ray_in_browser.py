"""The app on a Ray cluster, in real Chromium: a Ray head started with ``ray start --head`` on this machine, the app
started with ``RAY_ADDRESS`` naming it, and a digits run trained from the Train page, on the cluster."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    NAV_LINKS,
    RERUN_TIMEOUT_S,
    VIEWPORT,
    StreamlitPage,
    free_port,
    require_chromium,
    served_app,
)
from tests.browser.test_app_in_browser import validation_points

pytestmark = pytest.mark.browser

RAY = Path(sys.executable).with_name("ray")
HEAD_START_TIMEOUT_S = 120
TRAINING_TIMEOUT_S = 180
ADDRESS = re.compile(r"ray start --address='([^']+)'")


@pytest.fixture
def ray_head(monkeypatch):
    """A Ray head of 2 CPUs, as a teacher starts one (docs/deploy.md), its address in RAY_ADDRESS for the app;
    yields its temporary folder, where its logs are. ``--block`` keeps ``ray start`` in the foreground, so ending
    that one process ends the head's."""
    require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="ae-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    environment = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"}
    environment["RAY_AUTH_MODE"] = "token"
    ports = ["--port", "--ray-client-server-port", "--dashboard-port", "--dashboard-agent-listen-port"]
    command = [RAY, "start", "--head", "--block", "--num-cpus", "2", "--disable-usage-stats"]
    command += ["--include-dashboard", "false", "--temp-dir", str(folder)]
    command += [str(part) for port in ports for part in (port, free_port())]  # beside any other Ray on this machine
    log_path = ARTIFACTS / "ray-head.log"
    with open(log_path, "w") as log:
        head = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + HEAD_START_TIMEOUT_S
        while not (address := ADDRESS.search(log_path.read_text())):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        monkeypatch.setenv("RAY_ADDRESS", address.group(1))
        monkeypatch.setenv("RAY_AUTH_MODE", "token")
        yield folder
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        shutil.rmtree(folder, ignore_errors=True)


def training_actors(folder: Path) -> list[Path]:
    """The worker logs of the cluster's training actors (Ray heads each with the actor's class)."""
    return [log for log in folder.rglob("worker-*.out") if ":actor_name:TrainingActor" in log.read_text()]


def test_a_run_trained_from_the_train_page_trains_on_the_ray_cluster(ray_head, browser, tmp_path):
    with served_app(tmp_path / "runs", "streamlit-ray.log") as url:
        context = browser.new_context(viewport=VIEWPORT)
        page = StreamlitPage(context.new_page(), "ray")
        page.goto(url)
        page.wait_for(page.locator(NAV_LINKS), "the navigation", timeout_s=RERUN_TIMEOUT_S)
        page.wait_idle()
        page.select("Dataset", "Digits", exact=False)
        page.go_to("Train")
        page.select("Preset", "Dense")
        page.set_number("Epochs", 2)
        page.click_button("Start training", wait=False)
        page.wait_for_text(re.compile(r"^Finished"), timeout_s=TRAINING_TIMEOUT_S)
        page.wait_until(lambda: validation_points(page) == 2, "a validation-loss curve of both epochs")
        page.screenshot("ray-train-finished")
        context.close()
    assert len(training_actors(ray_head)) == 1, "the run trained in one actor on the Ray cluster"
