"""What a lesson step shows once run."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)  # one result is one thing shown: compared and hashed by identity
class StepResult:
    """What a step shows: ``headline``, the measured answer in a sentence or two; ``figures``, (Plotly figure,
    caption); ``pictures``, (uint8 image, caption); ``table``, rows of a small table; ``numbers``, the values the
    headline states, by name; ``map_images``, when ``figures[0]`` is a latent map, the images of its rows (n, height,
    width, channels) in [0, 1], each shown beside the pointer over its point."""

    headline: str
    figures: list = field(default_factory=list)
    pictures: list = field(default_factory=list)
    table: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
    map_images: np.ndarray | None = None
