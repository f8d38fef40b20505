"""Latent-map speed and faithfulness: scikit-learn's TSNE with its defaults vs openTSNE with 250 iterations after
early exaggeration (as ``ae_core.latent.project`` runs it), PCA of 10,000 codes, and UMAP's first call in a
process (numba compiling) vs a later one. Prints a markdown table.

Codes: 32-dim codes of MNIST's 10,000 shared test images from a conv model with a latent size of 32 trained here
for a few epochs on the first 8,000 (or from a saved run given with --run). t-SNE maps the first 5,000 codes; both
maps are scored by ``map_trustworthiness`` on the same 2,000-code subsample.

    AE_DATA_DIR=../shared/data .venv/bin/python bench/latent_speed.py [--run runs/NAME] [--epochs 3]
        [--warm-up]  # call warm_up_umap() first, as the app does at start-up, and time it
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.manifold import TSNE

from ae_core.data import load_dataset
from ae_core.latent.projection import map_trustworthiness, project, warm_up_umap
from ae_core.models.architectures import build_autoencoder, encode
from ae_core.settings.model_config import ModelConfig

TSNE_CODES = 5000


def mnist_codes(run_dir: str | None, epochs: int, seed: int) -> tuple[np.ndarray, str]:
    """Codes (10000, latent_dim) of all 10,000 images, training images first, and where they came from."""
    dataset = load_dataset("mnist", allow_download=False)
    images = np.concatenate([dataset.x_train, dataset.x_val])
    if run_dir:
        from ae_core.runs.loading import load_run

        return encode(load_run(run_dir).model, images), f"run {run_dir}"
    model = build_autoencoder(ModelConfig("conv", latent_dim=32), dataset.image_shape, seed=seed)
    model.compile(optimizer="adam", loss="mse")
    model.fit(dataset.x_train, dataset.x_train, epochs=epochs, batch_size=64, verbose=0)
    return encode(model, images), f"conv latent-32, {epochs} epochs on {dataset.n_train:,} images"


def timed(function):
    """(function's value, wall seconds, CPU seconds of all this process's threads): the machine may be shared, and
    CPU time is what one map costs whatever else runs."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a saved MNIST run to take codes from instead of training one")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warm-up", action="store_true", help="run warm_up_umap() before the first UMAP map")
    args = parser.parse_args()

    codes, origin = mnist_codes(args.run, args.epochs, args.seed)
    tsne_codes = codes[:TSNE_CODES]
    rows = []  # (name, codes, wall seconds, CPU seconds, trustworthiness)
    reference, *seconds = timed(lambda: TSNE(random_state=args.seed).fit_transform(tsne_codes))
    rows.append(
        (
            "t-SNE, scikit-learn TSNE() defaults",
            TSNE_CODES,
            *seconds,
            map_trustworthiness(tsne_codes, reference, args.seed)[0],
        )
    )
    ours, *seconds = timed(lambda: project(tsne_codes, "tsne", seed=args.seed))  # includes its trustworthiness
    rows.append(("t-SNE, openTSNE, 250 + 250 iterations", TSNE_CODES, *seconds, ours.trustworthiness))
    pca_runs = [timed(lambda: project(codes, "pca", seed=args.seed).seconds) for _ in range(5)]
    pca = project(codes, "pca", seed=args.seed)
    rows.append(
        (
            "PCA (median of 5, map only)",
            len(codes),
            statistics.median(run[0] for run in pca_runs),
            float("nan"),
            pca.trustworthiness,
        )
    )
    if args.warm_up:
        rows.append(("UMAP warm_up_umap()", 300, *timed(warm_up_umap)[1:], float("nan")))
    for label in ("UMAP first call", "UMAP later call"):
        umap, *seconds = timed(lambda: project(tsne_codes, "umap", seed=args.seed))
        rows.append((label, TSNE_CODES, *seconds, umap.trustworthiness))

    print(f"codes: {origin}; {codes.shape[1]} dimensions\n")
    print("| map | codes | wall s | CPU s | trustworthiness (k=10, 2,000-code subsample) |")
    print("|---|---:|---:|---:|---:|")
    for name, count, wall, cpu, trust in rows:
        cpu, trust = ("" if np.isnan(value) else format(value, spec) for value, spec in ((cpu, ".2f"), (trust, ".4f")))
        print(f"| {name} | {count:,} | {wall:.2f} | {cpu} | {trust} |")
    print(
        f"\nopenTSNE / scikit-learn: wall {rows[1][2] / rows[0][2]:.2f}x, CPU {rows[1][3] / rows[0][3]:.2f}x; "
        f"trustworthiness difference {rows[1][4] - rows[0][4]:+.4f}"
    )


if __name__ == "__main__":
    main()
