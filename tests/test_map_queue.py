"""Heavy latent maps on a shared server: their settings bounded by what the server can do, and their turn in the queue
of maps. The Latent space page through AppTest, on a small dense autoencoder trained on digits."""

import threading
import time

from ae_core.latent.maps import MAX_HEAVY_MAP_IMAGES, MAX_TSNE_ITERATIONS, MAX_TSNE_PERPLEXITY, is_heavy_map
from pages.shared import keys, map_panel
from tests.test_page_latent import digits_run, latent_page  # noqa: F401 - digits_run is a fixture

BEYOND = {"method": "tsne", "samples": "20000", "iterations": "2000", "perplexity": "100"}


def test_a_link_asking_more_than_the_server_maps_is_bounded_to_what_it_can(digits_run):  # noqa: F811
    at = latent_page(digits_run, BEYOND, timeout=300)
    assert at.number_input(key=keys.LATENT_SAMPLES).value == MAX_HEAVY_MAP_IMAGES == 5_000
    assert at.number_input(key=keys.LATENT_ITERATIONS).value == MAX_TSNE_ITERATIONS == 500
    assert at.slider(key=keys.LATENT_PERPLEXITY).value == MAX_TSNE_PERPLEXITY == 50.0
    assert at.query_params["samples"] == "5000" and at.query_params["iterations"] == "500"
    assert is_heavy_map("tsne", 2_001) and is_heavy_map("umap", 5_000)
    assert not is_heavy_map("tsne", 2_000) and not is_heavy_map("pca", 20_000)


def test_a_heavy_map_waits_for_its_turn_then_is_drawn(digits_run, monkeypatch):  # noqa: F811
    monkeypatch.setattr(map_panel, "is_heavy_map", lambda method, samples: method == "tsne")  # digits' 1,797 images
    queue = map_panel.map_queue()
    queue.enqueue("another person's map", person="another")
    assert queue.wait_turn("another person's map")
    threading.Timer(3.0, queue.release, args=("another person's map",)).start()
    started = time.monotonic()
    at = latent_page(digits_run, {"method": "tsne", "iterations": "50"}, timeout=300)
    assert time.monotonic() - started >= 3.0, "the map waited for the other one's turn"
    assert any("trustworthiness" in metric.label for metric in at.metric), "then it was drawn and scored"
    assert queue.place("another person's map").running == 0, "its slot is free again"
