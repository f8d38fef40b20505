"""The latent map up close: cached maps, the nearest-neighbour search, the inspector, decoding a spot, the map over
training, code variance."""

import numpy as np
import pytest

from ae_core.data import load_dataset
from ae_core.figures.latent import epoch_figure, variance_figure
from ae_core.latent.alignment import align_epoch_maps
from ae_core.latent.decoding import DECODE_NEIGHBOURS, decode_at, mean_code_near, pca_inverse
from ae_core.latent.maps import map_key, run_map, training_maps
from ae_core.latent.nearest import nearest, nearest_others
from ae_core.latent.neighbours import inspect_row, mapped_images, nearest_neighbours
from ae_core.models.architectures import decode
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared.latent_view import parse_view, view_query

EPOCHS = 3


@pytest.fixture(scope="module")
def context():
    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=6, hidden_units=(32,))
    run = train_run(
        digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=EPOCHS, batch_size=64), name="inspect"
    )
    return RunContext(run, digits)


def test_a_map_is_computed_once_per_parameters(context):
    first = run_map(context, "pca", samples=500, seed=3)
    assert run_map(context, "pca", samples=500, seed=3) is first
    assert context.cached(map_key("pca", samples=500, seed=3), lambda: None) is first
    other = run_map(context, "pca", samples=400, seed=3)
    assert other is not first and len(other.codes) == 400


def test_mapped_images_follow_the_maps_rows(context):
    latent_map = run_map(context, "pca", samples=500, seed=1)
    images = mapped_images(context, latent_map)
    sample = latent_map.sample
    assert images.shape == (500, 8, 8, 1)
    for row in (0, 100, 358, 359, 499):
        split_images = context.images(sample.splits[row])
        np.testing.assert_array_equal(images[row], split_images[sample.indices[row]])


def test_the_inspector_shows_the_row_its_reconstruction_and_neighbours(context):
    latent_map = run_map(context, "pca")
    row = context.dataset.n_val + 5  # a training image
    seen = inspect_row(context, latent_map, row, k=6)
    assert (seen.split, seen.index, seen.label) == ("training", 5, int(context.dataset.y_train[5]))
    np.testing.assert_array_equal(seen.original, context.dataset.x_train[5])
    np.testing.assert_allclose(seen.reconstruction, context.reconstructions("training")[5])
    distances = np.linalg.norm(latent_map.codes - latent_map.codes[row], axis=1)
    distances[row] = np.inf
    np.testing.assert_array_equal(seen.neighbours.latent, np.argsort(distances, kind="stable")[:6])
    assert seen.latent_images.shape == seen.pixel_images.shape == (6, 8, 8, 1)
    np.testing.assert_array_equal(seen.pixel_images[0], mapped_images(context, latent_map)[seen.neighbours.pixel[0]])
    with pytest.raises(ValueError, match=f"row must be an integer between 0 and {len(latent_map.codes) - 1:,}; got"):
        inspect_row(context, latent_map, len(latent_map.codes))


def test_mean_code_near_averages_the_nearest_map_points(context):
    pca_map = run_map(context, "pca", samples=400)
    codes, coords = pca_map.codes, pca_map.projection.coords
    np.testing.assert_allclose(mean_code_near(coords, codes, coords[7], k=1), codes[7])
    closest = np.argsort(np.linalg.norm(coords - coords[7], axis=1))[:5]
    np.testing.assert_allclose(mean_code_near(coords, codes, coords[7], k=5), codes[closest].mean(axis=0), rtol=1e-5)
    with pytest.raises(ValueError, match=f"k must be an integer between 1 and {len(coords)}; got 0"):
        mean_code_near(coords, codes, coords[7], k=0)


def brute_force_nearest(queries, references, k):
    """The reference: every distance by numpy, sorted by distance and then index."""
    distances = np.linalg.norm(queries[:, None, :] - references[None, :, :], axis=2)  # (m, n)
    order = np.lexsort((np.broadcast_to(np.arange(len(references)), distances.shape), distances))[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)


def test_the_nearest_neighbour_search_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    references = rng.normal(size=(300, 12)).astype(np.float32)
    queries = rng.normal(size=(20, 12)).astype(np.float32)
    indices, distances = nearest(queries, references, 6)
    expected, expected_distances = brute_force_nearest(queries, references, 6)
    assert indices.dtype == np.int64 and distances.dtype == np.float32 and indices.shape == (20, 6)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-5)
    references[[50, 120, 7]] = references[200]  # copies: equal distances, which come in index order
    indices, distances = nearest(references[200:201], references, 6)
    assert indices[0, :4].tolist() == [7, 50, 120, 200] and np.all(distances[0, :4] == 0)
    np.testing.assert_array_equal(indices, brute_force_nearest(references[200:201], references, 6)[0])


def test_neighbours_of_a_row_leave_the_row_out_but_not_its_copies():
    vectors = np.repeat(np.arange(5, dtype=np.float32)[:, None], 3, axis=0).reshape(15, 1)  # each value 3 times
    indices, distances = nearest_others(vectors, 4, 3)  # row 4 holds 1.0, as rows 3 and 5 do
    assert indices.tolist()[:2] == [3, 5] and distances.tolist() == [0.0, 0.0, 1.0]
    copies = np.zeros((6, 2), np.float32)  # more copies than neighbours asked for
    indices, distances = nearest_others(copies, 5, 2)
    assert 5 not in indices and len(indices) == 2 and np.all(distances == 0)


def test_neighbours_in_latent_and_pixel_space(context):
    images = context.images("validation")[:100].copy()
    codes = context.codes("validation")[:100].copy()
    images[40], codes[40] = images[3], codes[3]  # an exact duplicate of image 3
    neighbours = nearest_neighbours(codes, images, index=3, k=5)
    assert neighbours.latent[0] == 40 and neighbours.pixel[0] == 40 and 3 not in neighbours.latent
    assert neighbours.latent_distances[0] == 0 and np.all(np.diff(neighbours.pixel_distances) >= 0)
    pixel_distances = np.linalg.norm(images.reshape(100, -1) - images[3].reshape(-1), axis=1)
    pixel_distances[3] = np.inf
    np.testing.assert_array_equal(neighbours.pixel, np.argsort(pixel_distances, kind="stable")[:5])
    np.testing.assert_allclose(neighbours.pixel_distances, np.sort(pixel_distances)[:5], rtol=1e-5)
    assert neighbours.overlap >= 1
    with pytest.raises(ValueError, match="k must be an integer between 1 and 99; got 100"):
        nearest_neighbours(codes, images, index=3, k=100)


def test_a_pca_spot_decodes_exactly_and_a_tsne_spot_decodes_the_mean_of_its_neighbours(context):
    pca_map = run_map(context, "pca", samples=400)
    point = pca_map.projection.coords[10]
    image, exact = decode_at(context.run.model, pca_map, point)
    assert exact and image.shape == (8, 8, 1)
    np.testing.assert_allclose(
        image, decode(context.run.model, pca_inverse(pca_map.projection, point)[None])[0], atol=1e-6
    )
    tsne_map = run_map(context, "tsne", samples=400, iterations=50)
    spot = tsne_map.projection.coords[10]
    image, exact = decode_at(context.run.model, tsne_map, spot)
    nearest = np.argsort(np.linalg.norm(tsne_map.projection.coords - spot, axis=1))[:DECODE_NEIGHBOURS]
    expected = decode(context.run.model, tsne_map.codes[nearest].mean(axis=0, keepdims=True))[0]
    assert not exact
    np.testing.assert_allclose(image, expected, atol=1e-5)


def test_the_map_over_training_has_one_aligned_map_per_epoch_on_fixed_axes(context):
    maps, labels = training_maps(context)
    n_map = min(1000, context.dataset.n_val)
    assert maps.shape == (EPOCHS, n_map, 2)
    np.testing.assert_allclose(maps, align_epoch_maps(context.run.result.map_codes), atol=1e-5)
    np.testing.assert_array_equal(labels, context.dataset.y_val[:n_map])
    first, last = epoch_figure(maps, labels, 1), epoch_figure(maps, labels, EPOCHS)
    assert first.layout.xaxis.range == last.layout.xaxis.range and first.layout.yaxis.range == last.layout.yaxis.range
    low, high = first.layout.xaxis.range
    assert low < maps[..., 0].min() and high > maps[..., 0].max()
    assert first.layout.title.text == f"After epoch 1 of {EPOCHS}"


def test_the_variance_chart_greys_out_unused_dimensions():
    codes = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    codes[:, 2] = 0.5 + 1e-4 * codes[:, 2]  # nearly constant
    figure = variance_figure(codes)
    bars = {trace.name: list(trace.x) for trace in figure.data}
    assert bars == {"used": [0, 1, 3], "almost unused": [2]}
    np.testing.assert_allclose(figure.data[0].y, codes[:, [0, 1, 3]].var(axis=0), rtol=1e-4)


def test_a_link_gives_its_view_and_unreadable_or_out_of_range_values_fall_back():
    view = parse_view({"method": "umap", "n_neighbors": "500", "min_dist": "nan", "seed": "x", "points": "3,oops,12"})
    assert view["method"] == "umap" and view["n_neighbors"] == 100 and view["min_dist"] == 0.1 and view["seed"] == 0
    assert view["points"] == [3, 12]
    assert parse_view({"method": "spectral"})["method"] == "pca"
    assert view_query(view) == {
        "method": "umap",
        "dims": "2",
        "samples": "5000",
        "seed": "0",
        "n_neighbors": "100",
        "min_dist": "0.1",
        "points": "3,12",
    }
    assert parse_view(view_query(view)) == view
