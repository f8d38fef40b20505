import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ortho_group
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from ae_core.figures.latent import latent_figure
from ae_core.latent.alignment import align_epoch_maps, align_to
from ae_core.latent.code_variance import code_variance, unused_dimensions
from ae_core.latent.decoding import mean_code_near, pca_inverse
from ae_core.latent.export import latent_csv
from ae_core.latent.maps import latent_map
from ae_core.latent.neighbours import nearest_neighbours
from ae_core.latent.projection import TRUST_SAMPLE, project
from ae_core.latent.sampling import sample_indices

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digit_codes(digits):
    """Codes (n_val, 8) and (n_train, 8) of the digits from a small dense autoencoder trained for 10 epochs."""
    from ae_core.models.architectures import build_autoencoder, encode
    from ae_core.settings.model_config import ModelConfig

    model = build_autoencoder(ModelConfig("dense", latent_dim=8, hidden_units=(64,)), digits.image_shape, seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(digits.x_train, digits.x_train, epochs=10, batch_size=64, verbose=0)
    return encode(model, digits.x_val), encode(model, digits.x_train)


def test_pca_map_matches_scikit_learn(digit_codes):
    codes = digit_codes[0]
    projection = project(codes, "pca", dims=3)
    reference = PCA(n_components=3).fit(codes)
    assert projection.method == "pca" and projection.coords.shape == (len(codes), 3)
    np.testing.assert_allclose(projection.coords, reference.transform(codes), atol=1e-4)
    np.testing.assert_allclose(projection.explained_variance_ratio, reference.explained_variance_ratio_, rtol=1e-4)


def test_a_code_no_wider_than_the_map_is_drawn_as_it_is(digit_codes):
    codes = digit_codes[0][:, :2]
    projection = project(codes, "tsne")
    assert projection.method == "identity" and projection.params == {}
    np.testing.assert_array_equal(projection.coords, codes)


def test_tsne_is_deterministic_per_seed_and_reports_progress(digit_codes):
    codes = digit_codes[0]
    progress = []
    first = project(
        codes,
        "tsne",
        seed=1,
        perplexity=20,
        iterations=100,
        callback=lambda iteration, coords: progress.append((iteration, coords.shape)),
    )
    again = project(codes, "tsne", seed=1, perplexity=20, iterations=100)
    other = project(codes, "tsne", seed=2, perplexity=20, iterations=100)
    assert first.coords.shape == (len(codes), 2) and first.params == {"perplexity": 20, "iterations": 100}
    np.testing.assert_array_equal(first.coords, again.coords)
    assert not np.allclose(first.coords, other.coords)
    assert [iteration for iteration, _ in progress] == [50, 100, 150, 200, 250, 300, 350]  # 250 exaggerated + 100
    assert {shape for _, shape in progress} == {(len(codes), 2)}
    assert first.trustworthiness > project(codes, "pca").trustworthiness  # t-SNE keeps neighbours better


def test_tsne_draws_3d_maps(digit_codes):
    projection = project(digit_codes[0], "tsne", dims=3, iterations=50)
    assert projection.coords.shape == (len(digit_codes[0]), 3) and np.isfinite(projection.coords).all()


def test_umap_is_deterministic_per_seed_and_warms_up_once(digit_codes):
    from ae_core.latent.projection import warm_up_umap

    warm_up_umap()
    assert warm_up_umap() == 0.0
    codes = digit_codes[0]
    first = project(codes, "umap", seed=3, n_neighbors=10, min_dist=0.2)
    again = project(codes, "umap", seed=3, n_neighbors=10, min_dist=0.2)
    assert first.coords.shape == (len(codes), 2) and first.params == {"n_neighbors": 10, "min_dist": 0.2}
    np.testing.assert_array_equal(first.coords, again.coords)


def test_trustworthiness_is_scikit_learns_on_a_bounded_subsample():
    codes = np.random.default_rng(0).normal(size=(TRUST_SAMPLE + 300, 6)).astype(np.float32)
    small = project(codes[:500], "pca")
    assert small.trust_sample == 500 and small.trust_neighbours == 10
    assert small.trustworthiness == pytest.approx(trustworthiness(codes[:500], small.coords, n_neighbors=10))
    large = project(codes, "pca")
    assert large.trust_sample == TRUST_SAMPLE
    assert large.trustworthiness == pytest.approx(trustworthiness(codes, large.coords, n_neighbors=10), abs=0.02)


def test_pca_inverse_round_trips_map_points(digit_codes):
    codes = digit_codes[0]
    projection = project(codes, "pca")
    decoded = pca_inverse(projection, projection.coords)  # (n, latent_dim)
    assert decoded.shape == codes.shape
    np.testing.assert_allclose(PCA(n_components=2).fit(codes).transform(decoded), projection.coords, atol=1e-3)
    flat = projection.pca_mean + projection.coords @ projection.pca_components  # codes that lie in the map's plane
    np.testing.assert_allclose(pca_inverse(project(flat, "pca"), project(flat, "pca").coords), flat, atol=1e-4)
    assert pca_inverse(projection, projection.coords[0]).shape == (codes.shape[1],)
    with pytest.raises(ValueError, match="mean_code_near"):
        pca_inverse(project(codes, "tsne", iterations=10), projection.coords[0])


def test_mean_code_near_averages_the_nearest_map_points(digit_codes):
    codes = digit_codes[0]
    coords = project(codes, "pca").coords
    np.testing.assert_allclose(mean_code_near(coords, codes, coords[7], k=1), codes[7])
    nearest = np.argsort(np.linalg.norm(coords - coords[7], axis=1))[:5]
    np.testing.assert_allclose(mean_code_near(coords, codes, coords[7], k=5), codes[nearest].mean(axis=0), rtol=1e-5)


def test_a_rotated_map_aligns_back_onto_the_original(digit_codes):
    original = project(digit_codes[0], "pca").coords
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirrored = (original @ rotation) * [1, -1] + [5.0, -3.0]
    np.testing.assert_allclose(align_to(original, mirrored), original, atol=1e-3)


def test_epoch_maps_align_onto_the_last_epoch(digit_codes):
    codes = digit_codes[0]
    turned = codes @ ortho_group.rvs(codes.shape[1], random_state=0).astype(np.float32)  # same map, other axes
    maps = align_epoch_maps(np.stack([turned, codes * 0.5, codes]))
    assert maps.shape == (3, len(codes), 2)
    np.testing.assert_allclose(maps[0], maps[2], atol=1e-3)
    np.testing.assert_allclose(maps[1], maps[2] * 0.5, atol=1e-3)  # PCA maps are centred
    with pytest.raises(ValueError, match="no map over training"):
        align_epoch_maps(np.zeros((0, 0, 8)))


def test_unused_dimensions_flags_constant_and_near_constant_ones(digit_codes):
    codes = digit_codes[0].copy()
    codes[:, 2] = 0.7
    codes[:, 5] = codes[:, 5] * 1e-3
    variance = code_variance(codes)
    assert variance.shape == (8,) and variance[2] == 0
    np.testing.assert_allclose(variance, np.var(codes.astype(np.float64), axis=0), rtol=1e-5)
    assert unused_dimensions(codes).tolist() == [2, 5]
    assert unused_dimensions(digit_codes[0]).tolist() == []


def test_sample_takes_validation_first_then_training():
    everything = sample_indices(300, 200, limit=1000)
    assert not everything.sampled and everything.description == "all 300 validation and all 200 training images"
    assert everything.splits[:300].tolist() == ["validation"] * 300 and everything.indices[300:].tolist() == list(
        range(200)
    )
    partial = sample_indices(300, 200, limit=350, seed=4)
    assert partial.sampled and (partial.splits == "training").sum() == 50 and "seed 4" in partial.description
    np.testing.assert_array_equal(partial.indices, sample_indices(300, 200, limit=350, seed=4).indices)
    assert len(np.unique(partial.indices[300:])) == 50 and partial.indices[300:].max() < 200
    only_some = sample_indices(300, 0, limit=100)
    assert set(only_some.splits) == {"validation"} and len(only_some.indices) == 100
    with pytest.raises(ValueError, match="limit must be an integer >= 1"):
        sample_indices(10, 10, limit=0)


def test_latent_map_keeps_images_labels_and_codes_together(digits, digit_codes):
    val_codes, train_codes = digit_codes
    result = latent_map(
        {"validation": val_codes, "training": train_codes},
        {"validation": digits.y_val, "training": digits.y_train},
        "pca",
        samples=500,
        seed=1,
    )
    rows = result.sample.splits == "training"
    assert len(result.codes) == 500 and rows.sum() == 500 - digits.n_val
    np.testing.assert_array_equal(result.codes[rows], train_codes[result.sample.indices[rows]])
    np.testing.assert_array_equal(result.labels[rows], digits.y_train[result.sample.indices[rows]])
    np.testing.assert_array_equal(result.labels[~rows], digits.y_val)


def test_neighbours_in_latent_and_pixel_space(digits, digit_codes):
    images = digits.x_val[:100].copy()
    codes = digit_codes[0][:100].copy()
    images[40], codes[40] = images[3], codes[3]  # an exact duplicate of image 3
    neighbours = nearest_neighbours(codes, images, index=3, k=5)
    assert neighbours.latent[0] == 40 and neighbours.pixel[0] == 40 and 3 not in neighbours.latent
    assert neighbours.latent_distances[0] == 0 and np.all(np.diff(neighbours.pixel_distances) >= 0)
    expected = np.argsort(np.linalg.norm(images.reshape(100, -1) - images[3].reshape(-1), axis=1))[1:6]
    assert set(neighbours.pixel.tolist()) == set(expected.tolist()) and neighbours.overlap >= 1


def test_figure_has_one_trace_per_class_with_row_indices(digits, digit_codes):
    coords = project(digit_codes[0], "pca").coords
    figure = latent_figure(coords, digits.y_val, digits.class_names)
    assert [trace.name for trace in figure.data] == list(digits.class_names)
    assert {trace.type for trace in figure.data} == {"scattergl"}
    rows = np.concatenate([trace.customdata for trace in figure.data])
    assert sorted(rows.tolist()) == list(range(len(coords)))
    first = figure.data[1]
    np.testing.assert_allclose(first.x, coords[first.customdata, 0])
    assert np.all(digits.y_val[first.customdata] == 1)
    three = latent_figure(project(digit_codes[0], "pca", dims=3).coords, None, dims=3)
    assert len(three.data) == 1 and three.data[0].type == "scatter3d"


def test_csv_has_the_documented_columns(digit_codes):
    codes = digit_codes[0][:4]
    coords = np.arange(12, dtype=np.float32).reshape(4, 3)
    text = latent_csv(np.array([5, 6, 0, 1]), np.array(["validation"] * 2 + ["training"] * 2), None, coords, codes)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["index", "split", "label", "x", "y", "z", *(f"code_{i}" for i in range(8))]
    assert rows[1][:6] == ["5", "validation", "", "0", "1", "2"] and rows[4][:2] == ["1", "training"]
    np.testing.assert_allclose(np.array(rows[1][6:], float), codes[0], rtol=1e-5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"method": "lda"}, "method must be one of pca, tsne, umap"),
        ({"method": "tsne", "perplexity": 500}, "perplexity must be a number between 1 and"),
        ({"method": "pca", "perplexity": 5}, "pca takes no parameters; got perplexity"),
        ({"method": "pca", "dims": 4}, "dims must be 2 or 3"),
    ],
)
def test_bad_arguments_say_what_was_expected(digit_codes, arguments, message):
    with pytest.raises(ValueError, match=message):
        project(digit_codes[0], **arguments)


def run_cli(*arguments, data_dir):
    return subprocess.run(
        [sys.executable, "-m", "ae_core", *arguments, "--data-dir", str(data_dir)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_writes_the_map_of_a_saved_run(shared_data_dir, digits, tmp_path):
    from ae_core.models.architectures import encode
    from ae_core.runs.loading import load_run

    run_dir = tmp_path / "runs" / "tiny"
    trained = run_cli(
        "train",
        "--dataset",
        "digits",
        "--model",
        "dense",
        "--latent-dim",
        "6",
        "--epochs",
        "1",
        "--out",
        str(run_dir),
        data_dir=shared_data_dir,
    )
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "map.csv"
    mapped = run_cli(
        "latent",
        str(run_dir),
        "--method",
        "tsne",
        "--split",
        "all",
        "--samples",
        "400",
        "--perplexity",
        "10",
        "--out",
        str(out),
        "--json",
        data_dir=shared_data_dir,
    )
    assert mapped.returncode == 0, mapped.stderr
    report = json.loads(mapped.stdout)
    assert report["method"] == "tsne" and report["samples"] == 400 and 0.5 < report["trustworthiness"] <= 1
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 400 and list(rows[0])[:5] == ["index", "split", "label", "x", "y"]
    assert [row["split"] for row in rows].index("training") == digits.n_val  # validation first
    last = rows[-1]
    image = digits.x_train[int(last["index"])]
    assert int(last["label"]) == digits.y_train[int(last["index"])]
    code = encode(load_run(run_dir).model, image[None])[0]
    np.testing.assert_allclose([float(last[f"code_{i}"]) for i in range(6)], code, rtol=1e-4, atol=1e-5)

    wrong = run_cli(
        "latent", str(run_dir), "--method", "pca", "--perplexity", "5", "--out", str(out), data_dir=shared_data_dir
    )
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert wrong.stderr.strip().splitlines()[-1] == "error: pca takes no parameters; got perplexity."
