"""What a lesson step shows once run."""

from dataclasses import dataclass, field


@dataclass
class StepResult:
    """What a step shows: ``headline``, the measured answer in a sentence or two; ``figures``, (Plotly figure,
    caption); ``pictures``, (uint8 image, caption); ``table``, rows of a small table; ``numbers``, the values the
    headline states, by name."""

    headline: str
    figures: list = field(default_factory=list)
    pictures: list = field(default_factory=list)
    table: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
