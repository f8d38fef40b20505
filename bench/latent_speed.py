"""Latent-map speed and faithfulness, through the command line's own path.

t-SNE: ``python -m ae_core latent RUN --method tsne --split all --samples 5000 --json`` (the path the Latent space
page takes too: ``run_latent_map`` -> ``project``) against scikit-learn's ``TSNE()`` with its defaults on the same
5,000 codes, read back from the command's CSV; alternating reference, command, reference, command (--rounds), with
the median of each. The ratio uses the command's own "seconds" (the map alone; neither side counts loading
TensorFlow or the run). Both maps are scored by ``map_trustworthiness`` on the same 2,000-code subsample.
Then each option openTSNE offers, in this process on the same codes, one at a time, to show what each gave.

UMAP: two fresh processes with an empty numba cache folder, each mapping the same 5,000 codes twice: the first
process compiles and fills the cache, the second is a restarted server's first map.

    AE_DATA_DIR=../shared/data .venv/bin/python bench/latent_speed.py [--run runs/NAME] [--rounds 2]

Without --run, a conv model with a latent size of 32 is trained for 3 epochs on MNIST's 8,000 shared training
images (``python -m ae_core train``) into a temporary folder.
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.manifold import TSNE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ae_core.latent.projection import map_trustworthiness  # noqa: E402 - needs the project on sys.path first

TSNE_CODES = 5000


def ae_core_command(*args: str) -> dict:
    """Run ``python -m ae_core ARGS --json`` from the project root; its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "ae_core", *args, "--json"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ae_core {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def trained_run(folder: Path, data_dir: str, epochs: int, seed: int) -> str:
    run = folder / "mnist-conv"
    ae_core_command("train", "--dataset", "mnist", "--data-dir", data_dir, "--epochs", str(epochs), "--seed",
                    str(seed), "--out", str(run))  # fmt: skip
    return str(run)


def command_tsne(run: str, data_dir: str, out: Path, seed: int) -> tuple[dict, np.ndarray]:
    """The command's report and the codes (5000, latent_dim) it mapped, read back from its CSV."""
    report = ae_core_command("latent", run, "--method", "tsne", "--split", "all", "--samples", str(TSNE_CODES),
                             "--seed", str(seed), "--out", str(out), "--data-dir", data_dir)  # fmt: skip
    with out.open() as file:
        rows = list(csv.DictReader(file))
    names = [name for name in rows[0] if name.startswith("code_")]
    return report, np.array([[float(row[name]) for name in names] for row in rows], dtype=np.float32)


def timed(function):
    """(function's value, wall seconds, CPU seconds of all this process's threads): the machine may be shared, and
    CPU time is what one map costs whatever else runs."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - wall, time.process_time() - cpu


OPTIONS = {  # what each openTSNE option gives on its own, against openTSNE's defaults (250 + 500 iterations)
    "openTSNE defaults: exact neighbours, PCA start, 250 + 500 iterations, all cores": {},
    "one thread": {"n_jobs": 1},
    "approximate neighbours (Annoy), one thread": {"n_jobs": 1, "neighbors": "annoy"},
    "approximate neighbours (pynndescent, compiles with numba), one thread": {"n_jobs": 1, "neighbors": "pynndescent"},
    "125 + 125 iterations, one thread": {"n_jobs": 1, "early_exaggeration_iter": 125, "n_iter": 125},
    "100 + 100 iterations, one thread": {"n_jobs": 1, "early_exaggeration_iter": 100, "n_iter": 100},
    "75 + 100 iterations, one thread": {"n_jobs": 1, "early_exaggeration_iter": 75, "n_iter": 100},
    "50 + 75 iterations, one thread": {"n_jobs": 1, "early_exaggeration_iter": 50, "n_iter": 75},
    "2,000 embedded, 3,000 placed by transform, 75 + 100, one thread": {"sample": 2000},
}


def opentsne_option(codes: np.ndarray, seed: int, sample: int = 0, **options) -> np.ndarray:
    import openTSNE

    if not sample:
        return np.asarray(openTSNE.TSNE(random_state=seed, **options).fit(codes))
    fitted = openTSNE.TSNE(random_state=seed, n_jobs=1, early_exaggeration_iter=75, n_iter=100).fit(codes[:sample])
    return np.concatenate([np.asarray(fitted), np.asarray(fitted.transform(codes[sample:]))])


UMAP_SNIPPET = """
import json, sys
import numpy as np
from ae_core.latent.projection import project
codes = np.load(sys.argv[1])
print(json.dumps([project(codes, "umap").seconds for _ in range(2)]))
"""


def umap_after_restart(codes: np.ndarray, folder: Path) -> list[list[float]]:
    """[first, later] map seconds in each of two fresh processes sharing one numba cache folder, empty at first."""
    np.save(folder / "codes.npy", codes)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / "numba")}
    seconds = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", UMAP_SNIPPET, str(folder / "codes.npy")], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        seconds.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a saved MNIST run to take codes from instead of training one")
    parser.add_argument("--data-dir", default=os.environ.get("AE_DATA_DIR", ""))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="reference and command, alternated")
    parser.add_argument("--skip-options", action="store_true", help="leave out the table of openTSNE options")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        run = args.run or trained_run(folder, args.data_dir, args.epochs, args.seed)
        reference, ours = [], []
        for _ in range(args.rounds):
            report, codes = command_tsne(run, args.data_dir, folder / "map.csv", args.seed)
            reference.append(timed(lambda codes=codes: TSNE(random_state=args.seed).fit_transform(codes)))
            ours.append(report)
        print(f"codes: {run}; {len(codes):,} of {codes.shape[1]} dimensions; {os.cpu_count()} CPUs\n")
        sklearn_wall = statistics.median(wall for _, wall, _ in reference)
        sklearn_trust = map_trustworthiness(codes, reference[-1][0], args.seed)[0]
        command_wall = statistics.median(report["seconds"] for report in ours)
        print("| t-SNE of 5,000 codes | wall s (median) | trustworthiness |")
        print("|---|---:|---:|")
        print(f"| scikit-learn `TSNE()` defaults | {sklearn_wall:.2f} | {sklearn_trust:.4f} |")
        print(f"| `python -m ae_core latent --method tsne` | {command_wall:.2f} | {ours[-1]['trustworthiness']:.4f} |")
        print(
            f"\ncommand / scikit-learn: {command_wall / sklearn_wall:.2f}x (rounds: "
            + ", ".join(f"{o['seconds'] / r[1]:.2f}x" for o, r in zip(ours, reference))
            + f"); trustworthiness difference {ours[-1]['trustworthiness'] - sklearn_trust:+.4f}\n"
        )
        if not args.skip_options:
            print("| openTSNE option, same codes | wall s | CPU s | wall / scikit-learn | trustworthiness |")
            print("|---|---:|---:|---:|---:|")
            for name, options in OPTIONS.items():
                coords, wall, cpu = timed(lambda options=options: opentsne_option(codes, args.seed, **options))
                trust = map_trustworthiness(codes, coords, args.seed)[0]
                print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / sklearn_wall:.2f}x | {trust:.4f} |")
        first, restarted = umap_after_restart(codes, folder)
        print("\n| UMAP of 5,000 codes, numba cache folder empty at first | first map s | later map s |")
        print("|---|---:|---:|")
        print(f"| first process (compiles, fills the cache) | {first[0]:.2f} | {first[1]:.2f} |")
        print(f"| restarted process (reads the cache) | {restarted[0]:.2f} | {restarted[1]:.2f} |")
        print(f"\nrestarted first / later: {restarted[0] / restarted[1]:.2f}x")


if __name__ == "__main__":
    main()
