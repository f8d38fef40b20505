"""Heavy latent maps on a shared server: their settings bounded by what the server can do, and their turn in the queue
of maps. The Latent space page through AppTest, on a small dense autoencoder trained on digits."""

import re
import threading
import time

from ae_core.latent.maps import (
    MAX_HEAVY_MAP_IMAGES,
    MAX_TSNE_ITERATIONS,
    MAX_TSNE_PERPLEXITY,
    MAX_UMAP_NEIGHBOURS,
    is_heavy_map,
    run_map,
)
from pages.shared import keys, map_panel
from tests.test_page_latent import UMAP_COMPILE_TIMEOUT, digits_run, latent_page  # noqa: F401 - a fixture

BEYOND = {"method": "tsne", "samples": "20000", "iterations": "2000", "perplexity": "100"}


def test_a_link_asking_more_than_the_server_maps_is_bounded_to_what_it_can(digits_run):  # noqa: F811
    at = latent_page(digits_run, BEYOND, timeout=300)
    assert at.number_input(key=keys.LATENT_SAMPLES).value == MAX_HEAVY_MAP_IMAGES == 5_000
    assert at.number_input(key=keys.LATENT_ITERATIONS).value == MAX_TSNE_ITERATIONS == 500
    assert at.slider(key=keys.LATENT_PERPLEXITY).value == MAX_TSNE_PERPLEXITY == 50.0
    assert at.query_params["samples"] == "5000" and at.query_params["iterations"] == "500"
    note = next(caption.value for caption in at.caption if caption.value.startswith("The link's"))
    assert "perplexity='100': expected a number from 2 to 50, so 50.0 was used" in note
    assert "iterations='2000': expected a whole number from 50 to 500, so 500 was used" in note
    assert is_heavy_map("tsne", 2_001) and is_heavy_map("umap", 5_000)
    assert not is_heavy_map("tsne", 2_000) and not is_heavy_map("pca", 20_000)


def test_umap_neighbours_are_bounded_to_what_the_server_maps_with_in_the_widget_and_in_a_link(digits_run):  # noqa: F811
    at = latent_page(digits_run, {"method": "umap", "samples": "300", "n_neighbors": "200"}, UMAP_COMPILE_TIMEOUT)
    neighbours = at.slider(key=keys.LATENT_NEIGHBOURS)
    assert neighbours.max == MAX_UMAP_NEIGHBOURS == 100 and neighbours.value == 100
    note = next(caption.value for caption in at.caption if caption.value.startswith("The link's"))
    assert "n_neighbors='200': expected a whole number from 2 to 100, so 100 was used" in note
    assert at.query_params["n_neighbors"] == "100", "the address holds what was drawn"


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
    drawn, in_line = drawn_and_in_line(at)
    assert in_line >= 3, "the time in line is said apart"
    assert drawn == round(drawn_map(digits_run, iterations=50).projection.seconds, 1), "the map's own time"


def drawn_and_in_line(at) -> tuple[float, int]:
    """The seconds the map's caption says it took to draw, and those it says it waited in line."""
    caption = next(caption.value for caption in at.caption if caption.value.startswith("Mapped:"))
    said = re.search(r"Drawn in ([\d.]+) s after (\d+) s in line\.", caption)
    assert said, caption
    return float(said[1]), int(said[2])


def drawn_map(run, **params):
    """The t-SNE map the page drew on ``run`` with ``params`` (the page's defaults otherwise), held by its context."""
    return run_map(run.context, "tsne", **{"samples": MAX_HEAVY_MAP_IMAGES, "perplexity": 30.0, **params})


def test_a_map_that_gives_way_midway_says_how_long_it_drew_apart_from_its_time_in_line(digits_run, monkeypatch):  # noqa: F811
    monkeypatch.setattr(map_panel, "is_heavy_map", lambda method, samples: method == "tsne")
    queue = map_panel.map_queue()
    monkeypatch.setattr(queue, "fair_share_s", 0.0)  # a map gives way as soon as another waits
    took_turn = []

    def another_persons_map():
        deadline = time.monotonic() + 120
        while queue.place("another person's map").running == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the page's map holds the slot
        queue.enqueue("another person's map", person="another")
        took_turn.append(queue.wait_turn("another person's map", timeout_s=120))
        time.sleep(3.0)
        queue.release("another person's map")

    other = threading.Thread(target=another_persons_map)
    other.start()
    at = latent_page(digits_run, {"method": "tsne", "iterations": "500", "seed": "1"}, timeout=300)
    other.join()
    assert took_turn == [True], "the page's map gave way to the other one midway"
    drawn, in_line = drawn_and_in_line(at)
    projection = drawn_map(digits_run, iterations=500, seed=1).projection
    assert in_line >= 3
    assert drawn <= projection.seconds - 2.9, (
        f"{drawn} s drawing leaves out the turn given away ({projection.seconds:.1f} s in all)"
    )
