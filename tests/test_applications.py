import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ae_core.applications.anomaly import anomaly_verdict, detect_anomalies, precision_recall
from ae_core.applications.classification import (
    CLASSIFIERS,
    accuracy,
    accuracy_table,
    best_accuracies,
    classification_verdict,
)
from ae_core.applications.classifiers import balanced_subset
from ae_core.applications.compression import jpeg_round_trip, pca_reconstructions
from ae_core.applications.compression_verdict import compression_verdict
from ae_core.applications.rate_distortion import Quantiser, RateDistortionRow, round_trip, scored_row
from ae_core.applications.restoration import classical_filters, degrade, restoration_verdict
from ae_core.quality.pca_baseline import fit_pca
from ae_core.quality.scores import score_images

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = 1
PCA_ROW = ("pca", "components=8")  # PCA with as many components as the runs' code


def test_identical_images_score_the_documented_psnr_cap(digits):
    row = scored_row("autoencoder", "float32", 32, digits.x_val[:20], digits.x_val[:20])
    assert row.psnr == 100.0 and row.mse == 0.0 and row.ssim == pytest.approx(1.0)
    assert row.compression_ratio == 2.0 and row.bits_per_pixel == 4.0  # 64 one-byte pixels in 32 bytes


def test_jpeg_bytes_grow_with_quality_and_its_error_shrinks(mnist_slice):
    images = mnist_slice[:50]
    results = [jpeg_round_trip(images, quality) for quality in (10, 50, 90)]
    sizes = [size for _, size in results]
    errors = [score_images(images, decoded).mse.mean() for decoded, _ in results]
    assert sizes[0] < sizes[1] < sizes[2]
    assert errors[0] > errors[1] > errors[2]
    decoded, size = jpeg_round_trip(images, np.int64(50))  # numpy integers are integers
    assert size == sizes[1] and np.array_equal(decoded, results[1][0])
    with pytest.raises(ValueError, match="quality must be an integer between 1 and 95; got 50.0. It is JPEG's quality"):
        jpeg_round_trip(images, 50.0)


def test_int8_quantisation_round_trips_within_half_a_step_and_clips_outside_the_range():
    rng = np.random.default_rng(0)
    training = rng.normal(0.0, [1.0, 5.0, 0.01], size=(500, 3)).astype(np.float32)
    quantiser = Quantiser.fit(training)
    inside = rng.uniform(quantiser.low, quantiser.high, size=(200, 3)).astype(np.float32)
    error = np.abs(round_trip(inside, "int8", quantiser) - inside)
    assert np.all(error <= quantiser.step / 2 + 1e-6)
    assert error.max() > quantiser.step.min() / 10  # 8 bits really lose something
    outside = quantiser.high + 1.0
    assert np.allclose(round_trip(outside[None], "int8", quantiser), quantiser.high, atol=1e-5)
    assert np.array_equal(round_trip(inside, "float32", quantiser), inside)


def test_pca_coefficients_are_stored_at_each_precision(digits):
    pca = fit_pca(digits.x_train, 8)
    results = pca_reconstructions(pca, digits.x_train, digits.x_val)
    mse = {precision: score_images(digits.x_val, images).mse.mean() for precision, images in results.items()}
    flat_val = digits.x_val.reshape(len(digits.x_val), -1)
    exact = np.clip(pca.inverse_transform(pca.transform(flat_val)), 0, 1)
    assert mse["float32"] == pytest.approx(np.mean((exact - flat_val) ** 2), rel=1e-4)
    assert mse["float16"] == pytest.approx(mse["float32"], rel=1e-3)
    assert mse["int8"] > mse["float32"]  # quantising the coefficients costs a little


def _row(method, setting, size, mse):
    return RateDistortionRow(method, setting, size, mse, 20.0, 0.8, 64 / size, 8 * size / 64)


def test_compression_verdict_flips_when_the_numbers_flip():
    jpeg = _row("jpeg", "quality=50", 300.0, 0.010)
    winning = [_row("autoencoder", "int8", 8.0, 0.012), _row("pca", "components=8", 8.0, 0.020), jpeg]
    losing = [_row("autoencoder", "int8", 8.0, 0.020), _row("pca", "components=8", 8.0, 0.012), jpeg]
    assert "the autoencoder wins" in compression_verdict(winning)
    assert "PCA wins" in compression_verdict(losing)
    assert "JPEG needs 300 bytes" in compression_verdict(winning)
    assert "No JPEG quality tried matches it" in compression_verdict([*winning[:2], replace(jpeg, mse=0.5)])


def test_degradations_keep_shape_and_range_and_occlusion_blacks_out_one_box(digits):
    images = np.ones((4, 8, 8, 1), np.float32)
    occluded = degrade(images, "occlusion", 0.5, np.random.default_rng(0))
    assert np.all((occluded == 0).sum(axis=(1, 2, 3)) == 16)  # a 4x4 box in each 8x8 image
    for kind in ("gaussian", "salt_pepper", "masking", "blur"):
        degraded = degrade(digits.x_val[:10], kind, 0.3, np.random.default_rng(0))
        assert degraded.shape == (10, 8, 8, 1) and degraded.min() >= 0.0 and degraded.max() <= 1.0
        assert not np.allclose(degraded, digits.x_val[:10])
    with pytest.raises(
        ValueError, match="kind must be one of gaussian, salt_pepper, masking, occlusion, blur; got 'rain'. It"
    ):
        degrade(images, "rain", 0.3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="level must be a number between 0 and 1; got 1.5. It is the degradation's"):
        degrade(images, "blur", 1.5, np.random.default_rng(0))


def test_median_filter_removes_salt_and_pepper_noise(mnist_slice):
    images = mnist_slice[:100]
    noisy = degrade(images, "salt_pepper", 0.1, np.random.default_rng(0))
    filtered = classical_filters(noisy)["median"]
    assert score_images(images, filtered).mse.mean() < 0.5 * score_images(images, noisy).mse.mean()


def test_restoration_verdict_flips_when_the_numbers_flip():
    scores = {"noisy": {"psnr": 15.0}, "median": {"psnr": 18.0}, "gaussian_filter": {"psnr": 17.0}}
    assert "autoencoder beats the median by 2.00 dB" in restoration_verdict({**scores, "autoencoder": {"psnr": 20.0}})
    assert "median beats the autoencoder by 2.00 dB" in restoration_verdict({**scores, "autoencoder": {"psnr": 16.0}})


def test_balanced_subsets_hold_an_equal_share_of_each_class(digits):
    subset = balanced_subset(digits.y_train, 100, seed=3)
    assert len(subset) == 100 and np.all(np.bincount(digits.y_train[subset]) == 10)
    assert np.array_equal(subset, balanced_subset(digits.y_train, 100, seed=3))
    assert not np.array_equal(subset, balanced_subset(digits.y_train, 100, seed=4))
    with pytest.raises(ValueError, match="n_labels must be an integer of at least 10; got 5"):
        balanced_subset(digits.y_train, 5)
    assert len(balanced_subset(digits.y_train, np.int64(5000))) == digits.n_train


def test_logistic_regression_on_all_digits_pixels_is_far_above_chance(digits):
    flat = (digits.x_train.reshape(digits.n_train, -1), digits.x_val.reshape(digits.n_val, -1))
    rows = accuracy_table({"pixels": flat}, digits.y_train, digits.y_val, label_counts=(None,))
    assert rows[0]["classifier"] == "logistic_regression" and rows[0]["accuracy"] > 0.9  # chance: 0.1; 0.975 measured
    assert accuracy(np.array([0, 1, 2, 3]), np.array([0, 1, 0, 3])) == 0.75


def test_features_that_are_the_labels_classify_perfectly(digits):
    one_hot = np.eye(10, dtype=np.float32)
    features = {"codes": (one_hot[digits.y_train], one_hot[digits.y_val])}
    supervised = [classifier for classifier in CLASSIFIERS if classifier != "label_spreading"]
    # (label spreading is left out: on exact duplicates its k-NN graph ties, and one label per class reaches few)
    rows = accuracy_table(features, digits.y_train, digits.y_val, label_counts=(10, None), classifiers=supervised)
    assert len(rows) == 2 * len(supervised) and all(row["accuracy"] == 1.0 for row in rows)
    assert rows[-1]["n_labels"] == digits.n_train


def test_classification_verdict_flips_when_the_numbers_flip():
    def rows(codes):
        return [
            {"features": name, "classifier": "knn", "n_labels": 100, "accuracy": accuracy}
            for name, accuracy in (("pixels", 0.8), ("pca", 0.7), ("codes", codes))
        ]

    assert best_accuracies(rows(0.9), 100)["codes"] == 0.9
    assert "the codes win by 10.0 percentage points over pixels" in classification_verdict(rows(0.9), 100)
    assert "the codes lose, pixels beats them by 20.0 percentage points" in classification_verdict(rows(0.6), 100)


def test_classifiers_fit_on_one_thread_and_leave_the_thread_pools_as_they_were():
    from threadpoolctl import threadpool_info

    from ae_core.applications.classifiers import one_thread

    before = [pool["num_threads"] for pool in threadpool_info()]
    with one_thread():
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_perfectly_separated_scores_give_auc_1_and_perfect_precision_and_recall():
    labels = np.array([0, 1, 2, 1, 0, 2, 1])
    errors = np.where(labels == 1, 0.5, 0.01)
    report = detect_anomalies(errors, labels, 1, normal_train_errors=np.full(50, 0.01))
    assert report.auc == 1.0 and report.precision == 1.0 and report.recall == 1.0
    assert (report.n_normal, report.n_anomalous) == (4, 3)
    assert precision_recall(errors, labels == 1, threshold=1.0) == (0.0, 0.0)  # nothing flagged
    reversed_report = detect_anomalies(-errors, labels, 1, normal_train_errors=np.full(50, -0.01))
    assert reversed_report.auc == 0.0 and "are not caught" in reversed_report.verdict


def test_overlapping_scores_give_the_auc_counted_by_hand():
    # Anomalous errors 0.3, 0.6, 0.8 against normal 0.1, 0.3, 0.5, 0.7: of the 12 pairs the anomalous image has the
    # higher error in 1 + 3 + 4 and ties in 1 (counted half), so AUC = 8.5 / 12.
    errors = np.array([0.1, 0.3, 0.3, 0.5, 0.6, 0.7, 0.8])
    labels = np.array([0, 5, 0, 0, 5, 0, 5])
    report = detect_anomalies(errors, labels, 5, normal_train_errors=np.full(20, 0.55))
    assert report.auc == pytest.approx(8.5 / 12) and report.threshold == pytest.approx(0.55)
    assert (report.precision, report.recall) == pytest.approx((2 / 3, 2 / 3))  # flagged: 0.6, 0.7 and 0.8
    assert precision_recall(errors, labels == 5, threshold=0.2) == pytest.approx((3 / 6, 1.0))  # all but 0.1


def test_anomaly_verdict_flips_at_the_weak_auc():
    assert "are not caught" in anomaly_verdict(0.65, 0.2, 0.1, "1")
    assert "singles out held-out 1s only in part" in anomaly_verdict(0.75, 0.5, 0.4, "1")
    assert "singles out held-out 1s well" in anomaly_verdict(0.95, 0.9, 0.8, "1")


@pytest.fixture(scope="module")
def saved_runs(digits, tmp_path_factory):
    """The folders of a dense run on digits trained without class HELD_OUT and of a denoising run on all classes."""
    from ae_core.runs.run import train_run, training_images
    from ae_core.runs.saving import save_run
    from ae_core.settings.model_config import ModelConfig
    from ae_core.settings.train_config import TrainConfig

    runs_dir, config = tmp_path_factory.mktemp("runs"), ModelConfig("dense", latent_dim=8, hidden_units=(64, 32))
    training = TrainConfig(epochs=30, batch_size=32)  # the 8x8 digits train in a few seconds

    def saved(x_train, config, name, excluded_class=None):
        split = digits.split.to_dict()
        run = train_run(x_train, digits.x_val, "digits", config, training, None, None, name, split, excluded_class)
        return str(save_run(run, runs_dir))

    x_train = training_images(digits.x_train, digits.y_train, digits.class_names, HELD_OUT)
    return saved(x_train, config, "without-1", HELD_OUT), saved(
        digits.x_train, replace(config, preset="denoising"), "d"
    )


@pytest.fixture(scope="module")
def command(saved_runs, shared_data_dir):
    """``python -m ae_core ARGUMENTS --json`` as a subprocess; "RUN" stands for the run trained without HELD_OUT."""

    def run(*arguments):
        arguments = [saved_runs[0] if argument == "RUN" else argument for argument in arguments]
        return subprocess.run(
            [sys.executable, "-m", "ae_core", *arguments, "--data-dir", str(shared_data_dir), "--json"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compress_command_prints_every_method_on_the_validation_images(command, digits):
    rows = _json(command("compress", "RUN"))["rows"]
    mse = {(row["method"], row["setting"]): row["mse"] for row in rows}
    assert list(mse)[:4] == [("autoencoder", "float32"), ("autoencoder", "float16"), ("autoencoder", "int8"), PCA_ROW]
    assert [row["bytes_per_image"] for row in rows[:6]] == [32, 16, 8, 32, 16, 8]
    assert [setting for method, setting in mse if method == "jpeg"] == ["quality=10", "quality=50", "quality=90"]
    assert mse["jpeg", "quality=90"] < mse["jpeg", "quality=50"] < mse["jpeg", "quality=10"]
    assert mse["autoencoder", "float32"] <= mse["autoencoder", "int8"]  # 8 bits lose, never gain
    mean_image_mse = np.mean((digits.x_val - digits.x_train.mean(axis=0)) ** 2)  # 0.074; the run: 0.020, PCA 0.025
    assert mse["autoencoder", "float32"] < 0.5 * mean_image_mse and rows[3]["mse"] < 0.5 * mean_image_mse


def test_denoise_command_scores_every_restorer_and_the_denoiser(command, saved_runs):
    report = _json(command("denoise", "RUN", "--noise", "gaussian", "--level", "0.3", "--denoiser", saved_runs[1]))
    assert set(report) == {"noisy", "autoencoder", "denoising_autoencoder", "median", "gaussian_filter"}
    assert report["denoising_autoencoder"]["psnr"] > report["noisy"]["psnr"]
    again = _json(command("denoise", "RUN", "--noise", "blur", "--level", "0.5", "--seed", "1"))
    assert set(again) == {"noisy", "autoencoder", "median", "gaussian_filter"}


def test_classify_command_gives_the_cross_validated_pipeline_per_feature_set(command):
    report = _json(command("classify", "RUN", "--labels", "100"))
    for name in ("pixels", "pca", "codes"):
        assert report[name] == report["per_classifier"][name]["cross_validated"]
        assert report[name] > 0.7  # ten classes: chance is 0.1; measured 0.89 to 0.91


def test_anomaly_command_scores_the_held_out_class(command, digits):
    report = _json(command("anomaly", "RUN", "--class", str(HELD_OUT)))
    assert report["n_anomalous"] == int(np.sum(digits.y_val == HELD_OUT))
    assert report["n_normal"] + report["n_anomalous"] == digits.n_val
    assert report["auc"] > 0.65  # unseen 1s are reconstructed worse than the rest; 0.79 measured, 0.5 is chance
    assert report["threshold"] > 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("anomaly", "RUN", "--class", "2"), "was trained without class 1, not 2"),
        (("denoise", "RUN", "--noise", "gaussian", "--level", "3"), "level must be a number between 0 and 1; got 3.0"),
        (("denoise", "RUN", "--noise", "rain", "--level", "0.3"), "--noise must be one of gaussian, salt_pepper,"),
        (("classify", "RUN", "--labels", "5"), "n_labels must be an integer of at least 10; got 5"),
        (("compress", "no/such/run"), "is not a saved run"),
    ],
)
def test_application_commands_fail_with_one_line(command, arguments, message):
    result = command(*arguments)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def context(saved_runs, shared_data_dir):
    from ae_core.runs.context import context_for, dataset_for
    from ae_core.runs.loading import load_run

    run = load_run(saved_runs[0])
    return context_for(run, dataset_for(run, shared_data_dir))


def test_compression_and_restoration_panels_give_figures_and_grids(context, digits):
    from ae_core.applications.compression import compression_grid, compression_report
    from ae_core.applications.restoration import strength_sweep
    from ae_core.figures.applications import rate_distortion_figure, sweep_figure

    compression = compression_report(context)
    figure = rate_distortion_figure(compression.rows)
    names = ["autoencoder", "pca", "JPEG", "JPEG with shared tables", "WebP"]
    assert [trace.name for trace in figure.data] == names
    code_bits = sorted(row.bits_per_pixel for row in compression.rows if row.method == "autoencoder")
    assert list(figure.data[0].x) == code_bits and code_bits[1:] == [1, 2, 4]  # 8, 16, 32 bytes for 64 pixels
    grid, labels = compression_grid(compression, "int8")
    assert len(labels) == 4 and labels[1] == "autoencoder int8 (8 B)" and labels[2] == "pca components=8 (8 B)"
    assert grid.shape[0] > 4 * 8 and grid.dtype == np.uint8  # four enlarged rows of 8x8 images
    rows = strength_sweep(context.run.model, digits.x_val[:50], "salt_pepper", levels=(0.1, 0.3))
    noisy = [row["psnr"] for row in rows if row["method"] == "noisy"]
    assert noisy[0] > noisy[1]  # stronger noise, lower PSNR
    assert len(sweep_figure(rows, "salt_pepper").data) == 4  # noisy, autoencoder and two filters


def test_anomaly_and_classification_panels_give_figures_and_grids(context, digits):
    from ae_core.applications.anomaly import anomaly_report, extremes, extremes_grid
    from ae_core.applications.classification import confusion, feature_sets
    from ae_core.figures.applications import accuracy_figure, error_histogram, roc_figure

    anomaly = anomaly_report(context)
    most, least = extremes(anomaly, 5)
    assert anomaly.errors[most].min() >= anomaly.errors[least].max()
    assert extremes_grid(anomaly, digits.x_val, 5).dtype == np.uint8
    assert len(error_histogram(anomaly).data) == 2 and roc_figure(anomaly).data[0].name.startswith("AUC")
    codes = (context.codes("training"), context.codes("validation"))
    features = feature_sets(fit_pca(digits.x_train, 8), digits.x_train, digits.x_val, *codes)
    assert features["pca"][0].shape == (digits.n_train, 8)
    matrix = confusion(features["codes"], digits.y_train, digits.y_val, "knn", 100, n_classes=10)
    assert matrix.shape == (10, 10) and matrix.sum() == digits.n_val
    table = [{"features": "codes", "classifier": "knn", "n_labels": n, "accuracy": 0.5} for n in (10, 100)]
    assert list(accuracy_figure(table).data[0].x) == [10, 100]


def test_each_label_count_is_fitted_once_so_the_count_shown_first_is_not_fitted_again(context, digits):
    from ae_core.applications.classification import LABEL_COUNTS, classification_report, label_counts_of

    assert label_counts_of(digits.y_train) == (10, 100, 1000, digits.n_train)
    assert label_counts_of(digits.y_train, (100, 5000, None)) == (100, digits.n_train)
    first = classification_report(context, (100,), seed=2)
    progress = []
    every = classification_report(context, LABEL_COUNTS, 2, lambda done, total: progress.append((done, total)))
    assert every.label_counts == (10, 100, 1000, digits.n_train)
    fits = 3 * len(CLASSIFIERS)  # feature sets x classifiers per label count
    assert progress[0] == (1, 3 * fits) and progress[-1] == (3 * fits, 3 * fits), "100 labels were kept, not refitted"
    assert [row for row in every.rows if row["n_labels"] == 100] == first.rows
