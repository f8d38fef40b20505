"""The Lesson in real Chromium, walked as a student does: each step's prediction chosen, the step run, the result
read, a digit drawn on the last step, the image of a map's point shown on hover. Prints the time each step took to
show its result; screenshots land in test-artifacts/browser/lesson/step-N.png."""

import re
import time

import pytest

from ae_core.lesson.steps import STEPS
from pages.shared.drawn_digit import LESSON_CANVAS
from tests.browser.conftest import ARTIFACTS, hover_shows_the_first_points_image

pytestmark = pytest.mark.browser

STEP_TIMEOUT_S = 180  # a step that trains waits in the server's queue on a busy machine
STEP_4_MAP = ".st-key-lesson-figure-4-0 .js-plotly-plot"
DRAWING_MAP = f".st-key-{LESSON_CANVAS}-map .js-plotly-plot"  # the drawing's map on the last step
RESULT = re.compile(r"^Result\.")


def choose(page, text: str) -> None:
    page.locator('[data-testid="stRadio"]').get_by_text(text, exact=True).click()
    page.wait_idle()


def draw_a_one(page) -> None:
    """Drag the mouse down the middle of the canvas, as a student draws a 1."""
    canvas = page.wait_for(page.locator(f'[class*="st-key-{LESSON_CANVAS}_"] canvas').last, "the drawing canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(x + 5, box["y"] + 0.85 * box["height"], steps=20)
    page.mouse.up()


def test_walking_the_lesson_runs_every_step(page):
    (ARTIFACTS / "lesson").mkdir(parents=True, exist_ok=True)
    page.go_to("Lesson")
    seconds = {}
    for step in STEPS:
        page.wait_for_text(f"Step {step.number} of {len(STEPS)}: {step.title}")
        assert f"step={step.number}" in page.url
        choice = step.prediction.choices[step.number % len(step.prediction.choices)]
        choose(page, choice)
        page.wait_for_text(re.compile(r"^(Right\.|Not quite: the answer is)"))
        start = time.monotonic()
        page.click_button("Run this step", wait=False)
        page.wait_for_text(RESULT, timeout_s=STEP_TIMEOUT_S)
        page.wait_idle()
        seconds[step.number] = time.monotonic() - start
        page.wait_for_text(re.compile(r"^Open (this run|the )"))
        if step.number == 4:
            hover_shows_the_first_points_image(page, STEP_4_MAP, "lesson/step-4-hover")
        if step.number == len(STEPS):
            draw_a_one(page)
            page.wait_for_text("What the model sees: 8 × 8 pixels", timeout_s=STEP_TIMEOUT_S)
            page.wait_for_text("Anomaly threshold")
            page.wait_idle()
            hover_shows_the_first_points_image(page, DRAWING_MAP, "lesson/step-8-hover")
        page.screenshot(f"lesson/step-{step.number}")
        if step.number < len(STEPS):
            page.click_button("Next step")
    for number, taken in seconds.items():
        print(f"step {number} ({STEPS[number - 1].title}): {taken:.1f} s to its result")
    print(f"the whole lesson: {sum(seconds.values()):.1f} s of waiting for results")
