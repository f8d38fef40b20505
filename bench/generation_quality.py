"""Generation quality: how many decoded samples an independent classifier recognises, and from how many classes,
for a VAE and the convolutional autoencoder on MNIST, with each sampler; real validation images are the reference.

Both models use the recommended settings of their preset at latent size 32
(ae_core.settings.recommended.recommended_settings).
Each sampler is fitted on the training codes; 1,000 samples are drawn and decoded in one call each. Prints a
markdown table. The Fréchet distance is on the judge's penultimate features, to the second half of the validation
images; the real row is as many images of the first half. "nearest / real" is each sample's distance to its nearest
training image over real validation images' median one (1: as near as unseen real images), its median over the batch.

    AE_DATA_DIR=../shared/data .venv/bin/python bench/generation_quality.py [--temperatures 1.0 0.8]
"""

import argparse
import time
from dataclasses import replace

from ae_core.data import load_dataset
from ae_core.generation.judge import judge_for
from ae_core.generation.samplers import SAMPLERS, generate, make_sampler
from ae_core.models.architectures import encode
from ae_core.runs.run import train_run
from ae_core.settings.recommended import recommended_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000, help="samples per sampler")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0])
    parser.add_argument("--presets", nargs="+", default=["vae", "conv"])
    parser.add_argument("--vae-loss", choices=("mse", "binary_crossentropy"), help="default: the recommended loss")
    parser.add_argument("--vae-architecture", choices=("dense", "conv"), help="default: the recommended one")
    args = parser.parse_args()
    dataset = load_dataset("mnist", allow_download=False)
    started = time.perf_counter()
    judge = judge_for(dataset)
    judge_seconds = time.perf_counter() - started
    real = judge.score_images(dataset.x_val)
    print(
        f"MNIST {dataset.n_train:,} train / {dataset.n_val:,} val, latent 32, {args.n:,} samples per row. Judge: "
        f"{judge.accuracy(dataset.x_val, dataset.y_val):.3f} validation accuracy, trained in {judge_seconds:.0f} s."
        "\n"
    )
    print(
        "| model | sampler | fit s | temperature | confident share | vs real | class entropy | Fréchet distance | "
        "nearest training L2 | nearest / real | sample + decode s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| real validation images | - | - | - | {real.confident_share:.3f} | 1.00x | {real.class_entropy:.3f} | "
        f"{judge.real_frechet_distance(args.n):.2f} | {real.mean_nearest_distance:.2f} | "
        f"{real.median_relative_distance:.2f} | - |"
    )
    for preset in args.presets:
        model_config, train_config = recommended_settings(dataset.name, dataset.image_shape, preset)
        model_config = replace(model_config, latent_dim=32)
        if preset == "vae":
            model_config = replace(
                model_config,
                loss=args.vae_loss or model_config.loss,
                architecture=args.vae_architecture or model_config.architecture,
            )
        run = train_run(dataset.x_train, dataset.x_val, dataset.name, model_config, train_config)
        codes = encode(run.model, dataset.x_train)  # (n_train, 32)
        architecture = "conv" if model_config.is_conv else "dense"
        title = (
            f"{preset} ({architecture}, {model_config.loss}, {train_config.epochs} epochs, "
            f"val MSE {run.metrics['val_mse']:.4f})"
        )
        for row in _sampler_rows(run.model, codes, judge, real.confident_share, args):
            print(f"| {title} | {row}")


def _sampler_rows(model, codes, judge, real_share: float, args) -> list[str]:
    """One table row (without its model column) per sampler fitted on ``codes`` and temperature."""
    rows = []
    for name in SAMPLERS:
        fit_started = time.perf_counter()
        sampler = make_sampler(name).fit(codes)
        fit_seconds = time.perf_counter() - fit_started
        label = f"gmm, {sampler.mixture.n_components} components by BIC" if name == "gmm" else name
        for temperature in args.temperatures:
            generation = generate(model, sampler, args.n, seed=0, temperature=temperature)
            scores = judge.score_images(generation.images)
            entropy = "-" if scores.class_entropy is None else f"{scores.class_entropy:.3f}"
            rows.append(
                f"{label} | {fit_seconds:.1f} | {temperature:g} | {scores.confident_share:.3f} | "
                f"{scores.confident_share / real_share:.2f}x | {entropy} | {scores.frechet_distance:.2f} | "
                f"{scores.mean_nearest_distance:.2f} | {scores.median_relative_distance:.2f} | "
                f"{generation.seconds:.3f} |"
            )
    return rows


if __name__ == "__main__":
    main()
