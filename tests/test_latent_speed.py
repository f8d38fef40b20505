"""t-SNE's faster settings against scikit-learn's TSNE, UMAP's compile kept on disk, and the figures and numbers that
make the map answer a click: the clickable spots, the decoded spot's cross, the play button, the codes' spread."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE

from ae_core.figures.latent import SPOT_GRID, SPOT_NAME, SPOT_ROW, epoch_figure, latent_figure
from ae_core.latent.code_variance import code_spread
from ae_core.latent.maps import latent_map
from ae_core.latent.projection import map_trustworthiness, project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digit_pixels() -> tuple[np.ndarray, np.ndarray]:
    """1,797 sklearn digits as 64-number codes, and their labels."""
    digits = load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target


def test_tsne_keeps_scikit_learns_trustworthiness_within_a_hundredth(digit_pixels):
    codes, _ = digit_pixels
    ours = project(codes, "tsne")  # the page's and the command's defaults
    reference = TSNE(random_state=0).fit_transform(codes)
    reference_score = map_trustworthiness(codes, reference)[0]
    assert ours.trustworthiness >= reference_score - 0.01, (ours.trustworthiness, reference_score)
    assert ours.trustworthiness > project(codes, "pca").trustworthiness + 0.05  # it is a t-SNE map, not a PCA one


def test_the_live_callback_of_a_map_gets_the_mapped_images_labels(digit_pixels):
    codes, labels = digit_pixels
    calls = []
    result = latent_map(
        {"validation": codes[:300]},
        {"validation": labels[:300]},
        "tsne",
        samples=300,
        iterations=50,
        callback=lambda iteration, coords, shown: calls.append((iteration, coords.shape, shown)),
    )
    assert calls and all(shape == (300, 2) for _, shape, _ in calls)
    np.testing.assert_array_equal(calls[-1][2], result.labels)


UMAP_TWICE = """
import json, sys
import numpy as np
from ae_core.latent.projection import project
codes = np.random.default_rng(0).normal(size=(400, 8)).astype(np.float32)
print(json.dumps([project(codes, "umap").seconds for _ in range(2)]))
"""


def umap_process(cache: Path) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", UMAP_TWICE],
        cwd=ROOT,
        env={"NUMBA_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache.parent)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_umap_compiles_once_per_machine_not_once_per_process(tmp_path):
    cache = tmp_path / "numba"
    first_process = umap_process(cache)
    assert any(cache.rglob("*.nbi")), "numba wrote its index files to the cache folder"
    restarted = umap_process(cache)
    # A restarted process's first map reads the compiled code: far below the first process's compile.
    assert restarted[0] < 0.5 * first_process[0], (first_process, restarted)


def test_a_clickable_2d_map_has_clickable_spots_says_so_on_hover_and_marks_the_decoded_spot():
    coords = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    figure = latent_figure(coords, None, spot=np.array([0.5, -0.25]), clickable=True)
    spots = next(trace for trace in figure.data if trace.name == "spots")
    assert len(spots.x) == SPOT_GRID**2 and set(spots.customdata) == {SPOT_ROW}
    assert min(spots.x) == pytest.approx(coords[:, 0].min()) and max(spots.y) == pytest.approx(coords[:, 1].max())
    marker = next(trace for trace in figure.data if trace.name == SPOT_NAME)
    assert (marker.x[0], marker.y[0]) == (0.5, -0.25)
    assert figure.layout.dragmode == "pan", "Streamlit turns a click into a selection in pan mode only"
    assert figure.data[0].hovertemplate == "%{fullData.name}<br>image %{customdata}: click to see it<extra></extra>"
    unclickable = latent_figure(coords, None)  # a map whose page does nothing on a click: the map over training
    assert not any(trace.name == "spots" for trace in unclickable.data)
    assert unclickable.data[0].hovertemplate == "%{fullData.name}<br>image %{customdata}<extra></extra>"


def test_the_map_over_training_has_one_frame_per_epoch_and_a_play_button():
    maps = np.random.default_rng(1).normal(size=(4, 30, 2))
    labels = np.arange(30) % 3
    figure = epoch_figure(maps, labels, 2)
    assert [frame.name for frame in figure.frames] == ["1", "2", "3", "4"]
    members = np.flatnonzero(labels == 1)
    np.testing.assert_allclose(figure.frames[2].data[1].x, maps[2, members, 0])
    assert figure.layout.updatemenus[0].buttons[0].label == "Play"
    assert figure.layout.updatemenus[0].buttons[0].method == "animate"
    assert figure.layout.sliders[0].active == 1


def test_the_codes_spread_shows_a_collapse_that_a_map_hides():
    rng = np.random.default_rng(2)
    spread = rng.normal(size=(500, 8))
    line = rng.normal(size=(500, 1)) * np.arange(1, 9)  # every code on one line through the origin
    total, share = code_spread(spread)
    assert total == pytest.approx(spread.var(axis=0).sum()) and share < 0.3
    assert code_spread(line)[1] == pytest.approx(1.0)
    assert code_spread(np.ones((20, 8))) == (0.0, 1.0)
