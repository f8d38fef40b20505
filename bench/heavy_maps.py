"""What the heaviest latent map the Latent space page allows costs: t-SNE of MAX_HEAVY_MAP_IMAGES codes at the
largest iterations and perplexity (``ae_core.latent.maps``), against the page's default t-SNE map of as many codes,
both through ``run_map`` as the page calls it. The run: a Dense autoencoder trained 2 epochs on MNIST's 10,000 test
images (8,000 / 2,000). Prints wall and CPU seconds of each map.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/heavy_maps.py
"""

import time

from ae_core.data import load_dataset
from ae_core.latent.maps import MAX_HEAVY_MAP_IMAGES, MAX_TSNE_ITERATIONS, MAX_TSNE_PERPLEXITY, run_map
from ae_core.latent.projection import PARAM_DEFAULTS
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.settings import environment
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig


def main() -> None:
    mnist = load_dataset("mnist", data_dir=environment.current().data_dir, allow_download=False)
    model = ModelConfig(preset="dense", latent_dim=32, hidden_units=(256, 128))
    run = train_run(mnist.x_train, mnist.x_val, "mnist", model, TrainConfig(epochs=2, batch_size=256))
    context = RunContext(run, mnist)
    for split in ("validation", "training"):
        context.codes(split)  # computed once, outside the timings
    print(f"| t-SNE of {MAX_HEAVY_MAP_IMAGES:,} codes | iterations | perplexity | wall s | CPU s |")
    print("|---|---:|---:|---:|---:|")
    default = PARAM_DEFAULTS["tsne"]
    for what, iterations, perplexity in (
        ("the page's default", default["iterations"], default["perplexity"]),
        ("every maximum", MAX_TSNE_ITERATIONS, MAX_TSNE_PERPLEXITY),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        run_map(context, "tsne", 2, MAX_HEAVY_MAP_IMAGES, 0, perplexity=perplexity, iterations=iterations)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"| {what} | 75 + {iterations} | {perplexity:g} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
