"""The applications' baselines at their best: classifiers chosen by cross-validation, a semi-supervised row, JPEG
with shared tables, WebP, and entropy-coded codes; real data (scikit-learn digits, MNIST from ../shared/data)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ae_core.applications.classification import accuracy_table
from ae_core.applications.classifiers import balanced_subset, cross_validated_pipeline, one_thread
from ae_core.applications.codecs import entropy_coded, jpeg_decoded, jpeg_files, jpeg_shared_tables, webp_round_trip
from ae_core.applications.compression_verdict import compression_verdict
from ae_core.applications.rate_distortion import Quantiser, RateDistortionRow
from ae_core.figures.applications import log_ticks, rate_distortion_figure
from ae_core.quality.pca_baseline import fit_pca
from ae_core.quality.scores import score_images

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mnist(shared_data_dir):
    from ae_core.data import load_dataset

    return load_dataset("mnist", data_dir=shared_data_dir, allow_download=False)


def test_the_cross_validated_pipeline_beats_or_equals_the_standardised_default_on_the_same_labels(mnist):
    flat_train, flat_val = mnist.x_train[:3000].reshape(3000, -1), mnist.x_val[:1000].reshape(1000, -1)
    features = {"pixels": (flat_train, flat_val)}
    y_train, y_val = mnist.y_train[:3000], mnist.y_val[:1000]
    with one_thread():  # as the panel and the command fit them: many threads crawl on a shared CPU
        candidates = ("logistic_regression", "cross_validated")
        rows = accuracy_table(features, y_train, y_val, (100, 300), classifiers=candidates)
    scores = {(row["classifier"], row["n_labels"]): row for row in rows}
    for n_labels in (100, 300):
        chosen, default = scores["cross_validated", n_labels], scores["logistic_regression", n_labels]
        assert chosen["accuracy"] >= default["accuracy"]  # the default is one of the candidates
        assert "cross-validation, repeated 2 times, on" in chosen["pipeline"]
    # a plain logistic regression on raw pixels, scikit-learn's defaults, on the same 300 labels
    from sklearn.linear_model import LogisticRegression

    subset = balanced_subset(y_train, 300)
    plain = LogisticRegression(max_iter=1000).fit(flat_train[subset], y_train[subset]).score(flat_val, y_val)
    assert scores["cross_validated", 300]["accuracy"] >= plain - 0.02, scores  # CV picks as well, up to its noise


def test_one_label_per_class_cannot_be_cross_validated_and_takes_scikit_learns_defaults(digits):
    subset = balanced_subset(digits.y_train, 10)
    pipeline, described = cross_validated_pipeline(digits.x_train[subset].reshape(10, -1), digits.y_train[subset])
    assert "scikit-learn's defaults" in described and pipeline.named_steps["scale"] == "passthrough"
    _, described = cross_validated_pipeline(digits.x_train.reshape(digits.n_train, -1)[:200], digits.y_train[:200])
    assert "5-fold cross-validation, repeated 2 times, on 200 labelled images" in described


def test_label_spreading_scores_a_row_and_gains_from_the_unlabelled_images(digits):
    features = {"pixels": (digits.x_train.reshape(digits.n_train, -1), digits.x_val.reshape(digits.n_val, -1))}
    rows = accuracy_table(features, digits.y_train, digits.y_val, (20,), classifiers=("knn", "label_spreading"))
    scores = {row["classifier"]: row for row in rows}
    assert "unlabelled" not in scores["knn"]["pipeline"]
    assert f"all {digits.n_train:,} training images" in scores["label_spreading"]["pipeline"]
    # two labels per class: the k-NN sees 20 images, label spreading all 1,437 through their neighbours
    assert scores["label_spreading"]["accuracy"] > scores["knn"]["accuracy"] + 0.05, scores


def test_shared_table_jpeg_streams_are_smaller_than_whole_files_and_decode_to_the_same_pixels(mnist_slice):
    images = mnist_slice[:60]
    for quality in (10, 50, 90):
        files, shared = jpeg_files(images, quality), jpeg_shared_tables(images, quality)
        assert shared.bytes_per_image < files.bytes_per_image - 50  # the tables (~500 bytes) counted once
        assert 200 < shared.shared_bytes < 1000 and np.array_equal(shared.decoded, files.decoded)
    # each image's own file, decoded one by one, gives the pixels of the decoding in one go
    pixels = np.round(images[:5, ..., 0] * 255).astype(np.uint8)
    one_by_one = []
    for image in pixels:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=30)
        one_by_one.append(np.asarray(Image.open(buffer)))
    in_one_go = np.round(jpeg_decoded(images[:5], 30) * 255).astype(np.uint8)
    assert np.array_equal(np.stack(one_by_one)[..., None], in_one_go)


def test_webp_bytes_grow_with_quality_and_its_error_shrinks(mnist_slice):
    images = mnist_slice[:60]
    results = [webp_round_trip(images, quality) for quality in (10, 50, 90)]
    sizes = [result.bytes_per_image for result in results]
    errors = [score_images(images, result.decoded).mse.mean() for result in results]
    assert sizes[0] < sizes[1] < sizes[2] and errors[0] > errors[1] > errors[2]
    with pytest.raises(ValueError, match="quality must be an integer between 1 and 95; got 0"):
        webp_round_trip(images, 0)


def test_entropy_coded_levels_round_trip_losslessly_in_at_most_their_fixed_width(digits):
    pca = fit_pca(digits.x_train, 8)
    coefficients = [pca.transform(images.reshape(len(images), -1)) for images in (digits.x_train, digits.x_val)]
    levels = Quantiser.fit(coefficients[0]).encode(coefficients[1])  # (360, 8) uint8
    size, restored = entropy_coded(levels)
    assert np.array_equal(restored, levels) and size < 8  # peaked levels take fewer than 8 bytes per image
    noise = np.random.default_rng(0).integers(0, 256, size=(360, 8), dtype=np.uint8)
    size, restored = entropy_coded(noise)
    assert np.array_equal(restored, noise) and size == 8  # incompressible: stored at its fixed width


def _row(method, setting, size, mse, precision=""):
    return RateDistortionRow(method, setting, size, mse, 20.0, 0.8, 784 / size, 8 * size / 784, precision)


def test_the_verdict_says_the_same_bytes_only_when_they_are_and_compares_codecs_at_equal_bytes():
    code = _row("autoencoder", "int8", 32.0, 0.010, "int8")
    coded = [_row("autoencoder", "int8+entropy", 30.0, 0.010, "int8+entropy")]
    small_pca = _row("pca", "components=16", 16.0, 0.020, "int8")
    verdict = compression_verdict([code, small_pca, *coded])
    assert "16 bytes, not the same bytes" in verdict and "the same bytes (" not in verdict
    assert "the same bytes (" in compression_verdict([code, _row("pca", "components=32", 32.0, 0.02, "int8")])
    webp = [_row("webp", "quality=10", 28.0, 0.005), _row("webp", "quality=50", 60.0, 0.001)]
    verdict = compression_verdict([code, small_pca, *coded, *webp])
    assert "WebP at quality=10 fits in 28 bytes, within the code's 30" in verdict and "WebP wins" in verdict
    shared = [_row("jpeg_shared_tables", "quality=10", 120.0, 0.005)]
    verdict = compression_verdict([code, small_pca, *coded, *shared])
    assert "JPEG with shared tables needs 120 bytes (quality=10), 4.0x the code's 30, to match its error" in verdict
    assert "so at equal bytes the code wins" in verdict
    shared.insert(0, _row("jpeg_shared_tables", "quality=5", 80.0, 0.020))
    verdict = compression_verdict([code, small_pca, *coded, *shared])
    assert "The smallest JPEG with shared tables file (quality=5) takes 80 bytes, 2.7x the code's 30" in verdict


def test_the_chart_has_bits_per_pixel_on_clean_log_ticks_and_each_pca_point_names_its_components():
    assert log_ticks([0.33, 5.2]) == [0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
    rows = [_row("pca", "components=12", size, 0.01, precision) for size, precision in ((48, "float32"), (12, "int8"))]
    figure = rate_distortion_figure([_row("autoencoder", "int8", 32.0, 0.01, "int8"), *rows])
    assert figure.layout.xaxis.title.text == "bits per pixel"
    assert list(figure.data[1].text) == ["12 comp. int8", "12 comp. float32"]
    assert list(figure.layout.xaxis.ticktext) == [f"{tick:g}" for tick in figure.layout.xaxis.tickvals]


@pytest.fixture(scope="module")
def saved_run(digits, tmp_path_factory):
    from ae_core.runs.run import train_run
    from ae_core.runs.saving import save_run
    from ae_core.settings.model_config import ModelConfig
    from ae_core.settings.train_config import TrainConfig

    config, training = ModelConfig("dense", latent_dim=8, hidden_units=(64, 32)), TrainConfig(epochs=10, batch_size=32)
    run = train_run(digits.x_train, digits.x_val, "digits", config, training, name="r", split=digits.split.to_dict())
    return str(save_run(run, tmp_path_factory.mktemp("runs")))


def _command(*arguments) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "ae_core", *arguments, "--json"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_classify_json_gives_each_cross_validated_pipeline_and_the_semi_supervised_codes(saved_run):
    report = _command("classify", saved_run, "--labels", "100")
    for name in ("pixels", "pca", "codes"):
        assert report[name] == report["per_classifier"][name]["cross_validated"] and 0.5 < report[name] <= 1
        assert "cross-validation, repeated 2 times, on 100 labelled images" in report["chosen"][name]
    assert report["codes_semi_supervised"] == report["per_classifier"]["codes"]["label_spreading"] > 0.5
    assert set(report["semi_supervised"]) == {"pixels", "pca", "codes"} and report["n_labels"] == 100


def test_compress_json_adds_shared_table_jpeg_webp_and_the_entropy_coded_code(saved_run, digits):
    report = _command("compress", saved_run)
    rows = {(row["method"], row["setting"], row["precision"]): row for row in report["rows"]}
    for method in ("jpeg", "jpeg_shared_tables", "webp"):
        assert [key[1] for key in rows if key[0] == method] == ["quality=10", "quality=50", "quality=90"]
    coded, fixed = rows["autoencoder", "int8+entropy", "int8+entropy"], rows["autoencoder", "int8", "int8"]
    assert coded["bytes_per_image"] <= fixed["bytes_per_image"] == 8 and coded["mse"] == fixed["mse"]
    assert ("pca", "components=8", "int8+entropy") in rows
    shared, whole = rows["jpeg_shared_tables", "quality=50", ""], rows["jpeg", "quality=50", ""]
    assert shared["bytes_per_image"] < whole["bytes_per_image"] and shared["shared_bytes"] > 0
    assert shared["mse"] == whole["mse"]  # the same pixels, fewer bytes
    assert all({"bytes_per_image", "mse", "psnr", "ssim"} <= set(row) for row in report["rows"])
    assert report["n_images"] == min(300, digits.n_val)
