"""Generate from a saved run and score the result against its real validation images: what ``python -m ae_core
generate`` prints and writes, and what a page would show."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ae_core.generation.judge import CONFIDENCE, Scores, judge_for
from ae_core.generation.samplers import Generation, check_sample_args, generate, make_sampler
from ae_core.runs.context import RunContext


@dataclass(frozen=True)
class GenerationReport:
    """A batch generated from one run; scores and reference are None for an unlabeled dataset, which gives the
    judge no classes to learn. reference : the same scores for the run's real validation images."""

    sampler: str
    temperature: float
    generation: Generation
    scores: Scores | None
    reference: Scores | None

    def to_dict(self) -> dict:
        """Plain JSON types: sampler, n, seconds (to sample and decode), temperature, scores, reference."""
        return {
            "sampler": self.sampler,
            "n": len(self.generation.codes),
            "temperature": self.temperature,
            "seconds": round(self.generation.seconds, 4),
            "scores": None if self.scores is None else self.scores.to_dict(),
            "reference": None if self.reference is None else self.reference.to_dict(),
        }

    def summary_line(self, out: Path) -> str:
        """One line for the command line: what was written, how fast, how recognisable against real images."""
        generation = self.generation
        line = f"wrote {out}: {len(generation.codes)} images from {self.sampler} in {generation.seconds:.2f} s"
        if self.scores is None:
            return line
        return (
            f"{line}; {self.scores.confident_share:.0%} recognisable over classes of entropy "
            f"{self.scores.class_entropy:.2f} (real images: {self.reference.confident_share:.0%}, "
            f"{self.reference.class_entropy:.2f})"
        )

    def save_npz(self, path: str | Path) -> None:
        """Write ``images`` (n, height, width, channels) float32 in [0, 1] and ``codes`` (n, latent_dim) float32."""
        np.savez_compressed(
            path, images=self.generation.images.astype(np.float32), codes=self.generation.codes.astype(np.float32)
        )


def generate_for_run(
    context: RunContext,
    sampler_name: str,
    n: int,
    seed: int = 0,
    temperature: float = 1.0,
    n_components: int | None = None,
) -> GenerationReport:
    """Fit ``sampler_name`` on the run's training codes (once per run and settings), draw ``n`` codes, decode
    and score them. n_components : for "gmm", None to choose by BIC."""
    n, seed, temperature = check_sample_args(n, seed, temperature)  # before the fit, which can take seconds
    sampler = context.cached(
        ("sampler", sampler_name, n_components),
        lambda: make_sampler(sampler_name, n_components).fit(context.codes("training")),
    )
    generation = generate(context.run.model, sampler, n, seed, temperature)
    if context.labels("training") is None:
        return GenerationReport(sampler_name, temperature, generation, None, None)
    judge = judge_for(context.dataset)
    reference = context.cached(("judge_reference",), lambda: judge.score_images(context.images("validation")))
    return GenerationReport(sampler_name, temperature, generation, judge.score_images(generation.images), reference)


RECOGNISABLE = f"recognisable (confidence > {CONFIDENCE})"


def scores_table(batches: dict[str, Scores]) -> dict[str, list]:
    """Columns of a table with one row per batch (title -> its Scores): its title, recognisable share in [0, 1],
    class entropy in [0, 1] and mean distance to the nearest training image."""
    return {
        "images": list(batches),
        RECOGNISABLE: [scores.confident_share for scores in batches.values()],
        "class entropy (1 = all classes alike)": [round(scores.class_entropy, 3) for scores in batches.values()],
        "mean distance to nearest training image": [
            round(scores.mean_nearest_distance, 3) for scores in batches.values()
        ],
    }
