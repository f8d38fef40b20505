import io
import json

import numpy as np
import pytest
from PIL import Image

from ae_core.cli.commands import main
from ae_core.figures.images import grid_png
from ae_core.generation.judge import judge_for, nearest_distances, normalised_entropy
from ae_core.generation.paths import interpolate_codes, interpolate_images, manifold_grid, traverse
from ae_core.generation.report import generate_for_run
from ae_core.generation.samplers import GaussianSampler, MixtureSampler, NormalSampler, generate, make_sampler
from ae_core.models.architectures import decode, encode
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig


@pytest.fixture(scope="module")
def digits_run(digits):
    """A conv autoencoder with an 8-dimensional code, trained 3 epochs on digits."""
    return train_run(
        digits.x_train,
        digits.x_val,
        digits.name,
        ModelConfig(preset="conv", latent_dim=8),
        TrainConfig(epochs=3, batch_size=64),
    )


@pytest.fixture(scope="module")
def digits_codes(digits, digits_run):
    return encode(digits_run.model, digits.x_train)  # (1438, 8)


def test_gaussian_sampler_matches_the_codes_moments(digits_codes):
    sampler = GaussianSampler().fit(digits_codes)
    samples = sampler.sample(10_000, seed=1)
    spread = digits_codes.std(axis=0)
    np.testing.assert_allclose(samples.mean(axis=0), digits_codes.mean(axis=0), atol=0.05 * spread.max())
    covariance = np.cov(digits_codes, rowvar=False)
    np.testing.assert_allclose(np.cov(samples, rowvar=False), covariance, atol=0.05 * np.abs(covariance).max())


def test_temperature_scales_the_spread_around_the_mean(digits_codes):
    sampler = GaussianSampler().fit(digits_codes)
    cool, hot = sampler.sample(5000, seed=2, temperature=0.5), sampler.sample(5000, seed=2, temperature=1.0)
    np.testing.assert_allclose(cool - sampler.mean, 0.5 * (hot - sampler.mean), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["normal", "gaussian", "gmm"])
def test_a_seed_reproduces_the_samples(digits_codes, name):
    sampler = make_sampler(name, n_components=3).fit(digits_codes)
    first, again, other = sampler.sample(50, seed=7), sampler.sample(50, seed=7), sampler.sample(50, seed=8)
    assert first.shape == (50, 8) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_mixture_samples_lie_in_the_codes_range(digits_codes):
    sampler = MixtureSampler().fit(digits_codes)
    samples = sampler.sample(2000, seed=0)
    low, high = digits_codes.min(axis=0), digits_codes.max(axis=0)
    inside = (samples >= low) & (samples <= high)
    assert inside.mean() > 0.99
    assert (
        sampler.mixture.n_components in sampler.bic
        and min(sampler.bic.values()) == sampler.bic[sampler.mixture.n_components]
    )


def test_normal_sampler_ignores_the_codes_distribution(digits_codes):
    samples = NormalSampler().fit(digits_codes + 100.0).sample(10_000, seed=0)
    np.testing.assert_allclose(samples.mean(axis=0), 0.0, atol=0.05)
    np.testing.assert_allclose(samples.std(axis=0), 1.0, atol=0.05)


def test_n01_samples_of_a_run_need_only_its_code_size_not_its_training_codes(digits, digits_run, digits_codes):
    context = RunContext(digits_run, digits)
    report = generate_for_run(context, "normal", 16, seed=3, scored=False)
    assert not context.holds(("codes", "training")), "the training codes were not computed"
    np.testing.assert_array_equal(report.generation.codes, NormalSampler().fit(digits_codes).sample(16, seed=3))
    np.testing.assert_allclose(report.generation.images, decode(digits_run.model, report.generation.codes), atol=1e-6)
    with pytest.raises(ValueError, match="latent_dim must be an integer of at least 1; got 0"):
        NormalSampler(0)


def test_generate_decodes_one_image_per_code(digits_run, digits_codes):
    generation = generate(digits_run.model, GaussianSampler().fit(digits_codes), 20, seed=3)
    assert generation.images.shape == (20, 8, 8, 1) and generation.images.dtype == np.float32
    assert generation.images.min() >= 0.0 and generation.images.max() <= 1.0
    np.testing.assert_allclose(generation.images, decode(digits_run.model, generation.codes), atol=1e-6)
    with pytest.raises(ValueError, match="8"):
        generate(digits_run.model, NormalSampler().fit(np.zeros((4, 5))), 3)


def test_bad_sampler_arguments_say_what_was_expected(digits_codes):
    with pytest.raises(ValueError, match="sampler must be one of normal, gaussian, gmm; got 'gan'"):
        make_sampler("gan")
    with pytest.raises(ValueError, match=r"temperature must be a number in \(0, 10\]; got 0. 1 keeps the fitted"):
        GaussianSampler().fit(digits_codes).sample(5, temperature=0)
    with pytest.raises(ValueError, match="seed must be an integer between 0 and 4,294,967,295; got -1"):
        NormalSampler().fit(digits_codes).sample(5, seed=-1)
    with pytest.raises(ValueError, match="covariance_type must be one of full, diag; got 'tied'"):
        MixtureSampler(covariance_type="tied")
    with pytest.raises(ValueError, match="NaN"):
        GaussianSampler().fit(np.full((4, 2), np.nan))
    assert GaussianSampler().fit(digits_codes).sample(np.int64(4), seed=np.int64(1)).shape == (4, 8)


@pytest.mark.parametrize("name", ["normal", "gaussian", "gmm"])
def test_sampling_before_fitting_says_to_fit_first(name):
    with pytest.raises(ValueError, match=f"the {name} sampler is not fitted yet; call fit\\(codes\\)"):
        make_sampler(name).sample(3)


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_ends_exactly_at_the_two_codes(digits_codes, method):
    code_a, code_b = digits_codes[0], digits_codes[1]
    codes = interpolate_codes(code_a, code_b, 7, method)
    assert codes.shape == (7, 8)
    np.testing.assert_array_equal(codes[0], code_a)
    np.testing.assert_array_equal(codes[-1], code_b)
    middle_norm = np.linalg.norm(codes[3])
    expected = (np.linalg.norm(code_a) + np.linalg.norm(code_b)) / 2
    if method == "slerp":  # length interpolated linearly, not shortened by cutting the corner
        assert middle_norm == pytest.approx(expected, rel=1e-4)
    else:
        np.testing.assert_allclose(codes[3], (code_a + code_b) / 2, rtol=1e-5, atol=1e-6)


def test_interpolation_decodes_and_cross_fades(digits, digits_run, digits_codes):
    images, codes = digits.x_train[:2], digits_codes[:2]
    walk = interpolate_images(digits_run.model, images[0], images[1], codes[0], codes[1], steps=5, method="slerp")
    assert walk.decoded.shape == walk.crossfade.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(walk.crossfade[0], images[0])
    np.testing.assert_allclose(walk.crossfade[2], (images[0] + images[1]) / 2, atol=1e-6)
    np.testing.assert_allclose(walk.decoded[-1], decode(digits_run.model, codes[1:2])[0], atol=1e-6)


def test_traversal_has_one_row_per_dimension_centred_on_the_image(digits_run, digits_codes):
    rows = traverse(digits_run.model, digits_codes[0], digits_codes.std(axis=0), dims=[0, 3, 5], steps=7)
    assert rows.shape == (3, 7, 8, 8, 1)
    reconstruction = decode(digits_run.model, digits_codes[:1])[0]
    for row in rows:
        np.testing.assert_allclose(row[3], reconstruction, atol=1e-6)
    assert not np.allclose(rows[0, 0], rows[0, -1])
    with pytest.raises(ValueError, match=r"dims must be 1 or more code dimensions, each an integer between 0 and 7"):
        traverse(digits_run.model, digits_codes[0], digits_codes.std(axis=0), dims=[8])
    with pytest.raises(ValueError, match=r"extent must be a number in \(0, 10\]; got 0"):
        traverse(digits_run.model, digits_codes[0], digits_codes.std(axis=0), dims=[0], extent=0)


def test_manifold_grid_covers_a_two_dimensional_code(digits, digits_run):
    run = train_run(
        digits.x_train,
        digits.x_val,
        digits.name,
        ModelConfig(preset="dense", latent_dim=2),
        TrainConfig(epochs=1, batch_size=64),
    )
    codes = encode(run.model, digits.x_train)
    grid = manifold_grid(run.model, codes, size=6)
    assert grid.images.shape == (6, 6, 8, 8, 1)
    assert np.all(np.diff(grid.x_values) > 0) and np.all(np.diff(grid.y_values) < 0)
    assert grid.x_values[0] == pytest.approx(np.quantile(codes[:, 0], 0.05))
    prior = manifold_grid(run.model, size=5)
    np.testing.assert_allclose(prior.x_values[[0, 2, 4]], [-1.6449, 0.0, 1.6449], atol=1e-4)
    with pytest.raises(ValueError, match="2-dimensional code; this one has 8"):
        manifold_grid(digits_run.model)


def test_grid_png_tiles_the_images(digits):
    png = grid_png(digits.x_train[:10], cols=4, gap=2)
    image = Image.open(io.BytesIO(png))
    assert image.size == (4 * 8 + 3 * 2, 3 * 8 + 2 * 2) and image.mode == "L"
    pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels[:8, 10:18], np.round(digits.x_train[1, ..., 0] * 255).astype(np.uint8))


def test_the_judge_recognises_real_digits(digits):
    judge = judge_for(digits)
    assert judge is judge_for(digits)  # trained once per dataset and split
    assert judge.accuracy(digits.x_val, digits.y_val) > 0.9
    real = judge.score_images(digits.x_val)
    assert real.confident_share > 0.8 and real.class_entropy > 0.95
    noise = judge.score_images(np.random.default_rng(0).random((200, 8, 8, 1), dtype=np.float32))
    assert noise.confident_share < 0.1  # pure noise is no digit: measured 0.005
    assert noise.mean_nearest_distance > 2 * real.mean_nearest_distance


def test_nearest_distances_find_copies(digits):
    images = np.concatenate([digits.x_train[:3], digits.x_val[:3]])
    distances = nearest_distances(images, digits.x_train)
    brute = np.sqrt(((images[:, None] - digits.x_train[None]) ** 2).sum(axis=(2, 3, 4))).min(axis=1)
    np.testing.assert_allclose(distances, brute, rtol=1e-5)
    assert np.all(distances[:3] == 0) and np.all(distances[3:] > 0)


def test_normalised_entropy_is_one_for_uniform_and_zero_for_one_class():
    assert normalised_entropy(np.full(10, 7)) == pytest.approx(1.0)
    assert normalised_entropy(np.array([5, 0, 0, 0])) == 0.0
    assert normalised_entropy(np.zeros(10, dtype=int)) == 0.0


def test_command_line_generates_from_a_saved_run(digits, tmp_path, capsys):
    run = train_run(
        digits.x_train,
        digits.x_val,
        digits.name,
        ModelConfig(preset="conv", latent_dim=8),
        TrainConfig(epochs=1, batch_size=64),
        name="tiny",
        split=digits.split.to_dict(),
    )
    run_dir = save_run(run, tmp_path / "runs")
    out = tmp_path / "samples.npz"
    status = main(
        ["generate", str(run_dir), "--sampler", "gmm", "--n", "12", "--seed", "3", "--out", str(out), "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    with np.load(out, allow_pickle=False) as written:
        written_images = written["images"]
        assert written["images"].shape == (12, 8, 8, 1) and written["images"].dtype == np.float32
        assert written["codes"].shape == (12, 8) and written["codes"].dtype == np.float32
        assert 0.0 <= written["images"].min() and written["images"].max() <= 1.0
    assert report["sampler"] == "gmm" and report["n"] == 12 and report["seconds"] > 0
    judge = judge_for(digits)  # the same judge the command used: one per dataset and split in a process
    for name, images in (("scores", written_images), ("reference", digits.x_val)):  # what was written was scored
        expected = judge.score_images(images).to_dict()
        assert report[name]["class_histogram"] == expected["class_histogram"]
        assert [report[name][key] for key in ("confident_share", "class_entropy", "mean_nearest_distance")] == (
            pytest.approx([expected[key] for key in ("confident_share", "class_entropy", "mean_nearest_distance")])
        )
    assert sum(report["scores"]["class_histogram"]) == round(12 * report["scores"]["confident_share"])
    assert report["reference"]["confident_share"] > 0.8

    status = main(["generate", str(run_dir), "--sampler", "normal", "--n", "0", "--out", str(out)])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert error.startswith("error: n must be an integer between 1 and 10,000")
