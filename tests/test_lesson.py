"""The lesson's steps: well-formed questions, and each step's answer is what its experiment measures on the lesson's
own runs (the presets' recommended settings on digits, trained once for the module)."""

import numpy as np
import pytest

from ae_core.applications.anomaly import anomaly_report
from ae_core.data.drawing import drawing_to_image
from ae_core.latent.maps import default_run_map
from ae_core.lesson.drawn_digit import inspect_drawing
from ae_core.lesson.experiments import CONVOLUTIONAL, STEP_RUNS, WITHOUT_ZEROS, run_step
from ae_core.lesson.shared_runs import SharedTrainings
from ae_core.lesson.steps import STEPS, step
from ae_core.runs.context import context_for
from ae_core.training.jobs import DONE


def answer(number: int) -> str:
    prediction = step(number).prediction
    return prediction.choices[prediction.answer]


@pytest.fixture(scope="module")
def lesson_runs(digits) -> dict:
    """LessonRun name -> Run of every run the lesson trains, as a server would: through shared trainings."""
    shared = SharedTrainings()
    needed = {lesson_run.name: lesson_run for runs in STEP_RUNS.values() for lesson_run in runs}
    jobs = {
        name: shared.request(digits, *lesson_run.settings(digits), lesson_run.excluded_class, name)
        for name, lesson_run in needed.items()
    }
    for job in jobs.values():
        assert job.join(300)
        assert job.snapshot().status == DONE, job.snapshot().message
    return {name: job.snapshot().run for name, job in jobs.items()}


def result(number: int, digits, lesson_runs):
    return run_step(number, digits, {lesson_run.name: lesson_runs[lesson_run.name] for lesson_run in STEP_RUNS[number]})


def test_every_step_has_an_idea_and_a_prediction_of_two_to_four_choices():
    assert [item.number for item in STEPS] == list(range(1, 9))
    for item in STEPS:
        prediction = item.prediction
        assert 2 <= len(prediction.choices) <= 4 and 0 <= prediction.answer < len(prediction.choices)
        assert item.idea and prediction.question.endswith("?") and prediction.reason
        assert item.lab_page.startswith("pages/") and item.lab_page.endswith(".py")
    with pytest.raises(ValueError, match="from 1 to 8"):
        step(9)


def test_step_1_an_image_is_64_numbers(digits):
    numbers = run_step(1, digits, {}).numbers
    assert str(numbers["pixels"]) == answer(1) == "64"
    assert numbers["n_train"] + numbers["n_val"] == 1797


def test_step_2_the_textbook_model_does_not_beat_pca(digits, lesson_runs):
    numbers = result(2, digits, lesson_runs).numbers
    assert numbers["components"] == 32
    assert numbers["val_mse"] > numbers["pca_val_mse"]
    assert answer(2).startswith("No")


def test_step_3_the_convolutional_model_beats_pca(digits, lesson_runs):
    shown = result(3, digits, lesson_runs)
    assert shown.numbers["components"] == 8
    assert 0.5 < shown.numbers["val_mse"] / shown.numbers["pca_val_mse"] < 0.7
    assert answer(3) == "The convolutional autoencoder" and "The autoencoder wins" in shown.headline
    assert "its error is about 60% of PCA's" in step(3).prediction.reason


def test_step_4_images_of_one_digit_sit_together(digits, lesson_runs):
    numbers = result(4, digits, lesson_runs).numbers
    assert numbers["same_digit_share"] > 0.6 and numbers["same_digit_share"] > 5 * numbers["chance"]
    assert answer(4).startswith("Yes")


def test_step_4_hands_the_page_each_map_points_image_in_row_order(digits, lesson_runs):
    shown = result(4, digits, lesson_runs)
    sample = default_run_map(context_for(lesson_runs[CONVOLUTIONAL.name], digits)).sample
    assert len(shown.map_images) == len(sample.indices)
    for row in (0, len(sample.indices) // 2, len(sample.indices) - 1):  # a validation row first, a training row last
        split = digits.x_val if sample.splits[row] == "validation" else digits.x_train
        np.testing.assert_array_equal(shown.map_images[row], split[sample.indices[row]])


def test_step_5_fitted_codes_decode_to_digits_and_noise_does_not(digits, lesson_runs):
    recognised = result(5, digits, lesson_runs).numbers["recognised"]
    assert recognised["gaussian"] > 2 * recognised["normal"]
    assert answer(5).startswith("Codes from a bell curve fitted")


def test_step_6_the_walk_through_the_codes_stays_a_digit_more_than_the_cross_fade(digits, lesson_runs):
    recognised = result(6, digits, lesson_runs).numbers["recognised"]
    assert recognised["code walk"] > recognised["cross-fade"] + 0.1
    assert answer(6) == "The walk through the codes"


def test_step_7_the_autoencoder_wins_every_use_but_classification(digits, lesson_runs):
    shown = result(7, digits, lesson_runs)
    wins = shown.numbers["wins"]
    winners_named = {  # the uses each choice of step 7 says the autoencoder wins
        "All four": set(wins),
        "Compression, restoration and anomaly detection, but not classification": set(wins) - {"classification"},
        "Only classification": {"classification"},
        "None": set(),
    }
    assert set(winners_named) == set(step(7).prediction.choices)
    assert {use for use, win in wins.items() if win} == winners_named[answer(7)]
    assert [row["autoencoder wins"] for row in shown.table] == ["yes", "yes", "no", "yes"]


def test_step_8_the_model_receives_64_numbers_from_a_drawing(digits, lesson_runs):
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 120:150, :3] = 255  # a 1
    image = drawing_to_image(rgba, lesson_runs[WITHOUT_ZEROS.name].image_shape, "digits")
    assert image.size == 64 and "64 numbers" in answer(8)
    assert result(8, digits, lesson_runs).numbers["latent_dim"] == 8


def test_a_drawing_is_placed_rebuilt_and_judged_like_a_dataset_image(digits, lesson_runs):
    context = context_for(lesson_runs[WITHOUT_ZEROS.name], digits)
    latent_map = default_run_map(context)
    index = 5  # a training image, passed as if drawn
    drawn = inspect_drawing(context, context.images("training")[index], latent_map)
    assert drawn.error == pytest.approx(float(context.errors("training")[index]), rel=1e-4)
    assert drawn.nearest[0] == index or np.array_equal(
        context.codes("training")[drawn.nearest[0]], context.codes("training")[index]
    )
    row = np.flatnonzero((latent_map.sample.splits == "training") & (latent_map.sample.indices == index))[0]
    assert np.allclose(drawn.map_point, latent_map.projection.coords[row], atol=1e-4) and drawn.map_point_exact
    assert drawn.threshold == anomaly_report(context).threshold
    assert drawn.flagged == (drawn.error > drawn.threshold)


def test_a_run_trained_on_every_digit_has_no_threshold_for_a_drawing(digits, lesson_runs):
    context = context_for(lesson_runs[CONVOLUTIONAL.name], digits)
    drawn = inspect_drawing(context, context.images("validation")[0], default_run_map(context))
    assert drawn.threshold is None and drawn.flagged is None
    assert 0.0 <= drawn.error_share <= 1.0
