import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ortho_group
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from ae_core.figures.latent import latent_figure
from ae_core.latent.alignment import align_epoch_maps, align_to
from ae_core.latent.code_variance import code_variance, unused_dimensions
from ae_core.latent.decoding import pca_inverse
from ae_core.latent.export import latent_csv
from ae_core.latent.maps import latent_map
from ae_core.latent.projection import CALLBACK_EVERY, EARLY_EXAGGERATION_ITERATIONS, TRUST_SAMPLE, project
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
    total = EARLY_EXAGGERATION_ITERATIONS + 100
    assert [iteration for iteration, _ in progress] == list(range(CALLBACK_EVERY, total + 1, CALLBACK_EVERY))
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
    with pytest.raises(ValueError, match="limit must be an integer of at least 1; got 0"):
        sample_indices(10, 10, limit=0)
    assert len(sample_indices(300, 200, limit=np.int64(350)).indices) == 350


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


def test_csv_is_written_to_six_significant_digits_with_an_empty_label_when_unlabeled():
    coords = np.array([[0.5, -1.25], [1e-7, 123456789.0]], np.float32)
    codes = np.array([[1 / 3, 2.0], [-0.0, 7e20]], np.float32)
    splits = np.array(["validation", "training"])
    labelled = latent_csv(np.array([5, 6]), splits, np.array([3, 7]), coords, codes)
    assert labelled == (
        "index,split,label,x,y,code_0,code_1\n"
        "5,validation,3,0.5,-1.25,0.333333,2\n"
        "6,training,7,1e-07,1.23457e+08,-0,7e+20\n"
    )
    unlabeled = latent_csv(np.array([5, 6]), splits, None, coords, codes)
    assert unlabeled.splitlines()[1] == "5,validation,,0.5,-1.25,0.333333,2"


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
        ({"method": "pca", "dims": 4}, "dims must be an integer between 2 and 3; got 4"),
        ({"method": "pca", "seed": -1}, "seed must be an integer between 0 and 4,294,967,295; got -1"),
        ({"method": "tsne", "iterations": 2.5}, "iterations must be an integer between 1 and 10,000; got 2.5"),
        ({"method": "umap", "n_neighbors": True}, "n_neighbors must be an integer between 2 and 358; got True"),
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
    training = "--dataset digits --model dense --latent-dim 6 --epochs 1".split()
    trained = run_cli("train", *training, "--out", str(run_dir), data_dir=shared_data_dir)
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "map.csv"
    mapping = "--method tsne --split all --samples 400 --perplexity 10".split()
    mapped = run_cli("latent", str(run_dir), *mapping, "--out", str(out), "--json", data_dir=shared_data_dir)
    assert mapped.returncode == 0, mapped.stderr
    report = json.loads(mapped.stdout)
    assert report["method"] == "tsne" and report["samples"] == 400
    written = pd.read_csv(out)
    map_codes, coords = written[[f"code_{i}" for i in range(6)]].to_numpy(), written[["x", "y"]].to_numpy()
    assert report["trustworthiness"] == pytest.approx(trustworthiness(map_codes, coords, n_neighbors=10), abs=1e-3)
    shuffled = np.random.default_rng(0).permutation(coords)  # a map that keeps no neighbourhood: about 0.5
    assert report["trustworthiness"] > trustworthiness(map_codes, shuffled, n_neighbors=10) + 0.3
    assert len(written) == 400 and list(written.columns)[:5] == ["index", "split", "label", "x", "y"]
    assert written["split"].tolist().index("training") == digits.n_val  # validation first
    last = written.iloc[-1]
    assert last["label"] == digits.y_train[last["index"]]
    code = encode(load_run(run_dir).model, digits.x_train[last["index"]][None])[0]
    np.testing.assert_allclose(map_codes[-1], code, rtol=1e-4, atol=1e-5)

    wrong = run_cli(
        "latent", str(run_dir), "--method", "pca", "--perplexity", "5", "--out", str(out), data_dir=shared_data_dir
    )
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert wrong.stderr.strip().splitlines()[-1] == "error: pca takes no parameters; got perplexity."
