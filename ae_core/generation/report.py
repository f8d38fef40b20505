"""Generate from a saved run and score the result against its real validation images: what ``python -m ae_core
generate`` prints and writes, and what a page would show."""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ae_core.generation.judge import CONFIDENCE, Scores, judge_for
from ae_core.generation.samplers import Generation, NormalSampler, check_sample_args, generate, make_sampler
from ae_core.models.architectures import latent_dim_of
from ae_core.runs.context import RunContext


@dataclass(frozen=True)
class GenerationReport:
    """A batch generated from one run; scores and reference are None for an unlabeled dataset, which gives the
    judge no classes to learn. reference : the same scores for the run's real validation images, its
    frechet_distance that of as many real images as the batch holds (first half of the validation set) to the same
    reference as the batch's (second half)."""

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
            "frechet_distance": None if self.scores is None else self.scores.frechet_distance,
            "frechet_distance_real": None if self.reference is None else self.reference.frechet_distance,
        }

    def summary_line(self, out: Path) -> str:
        """One line for the command line: what was written, how fast, how recognisable against real images."""
        generation = self.generation
        line = f"wrote {out}: {len(generation.codes)} images from {self.sampler} in {generation.seconds:.2f} s"
        if self.scores is None:
            return line
        scores, real = self.scores, self.reference
        return (
            f"{line}; {scores.confident_share:.0%} recognisable, class entropy {_number(scores.class_entropy)}, "
            f"Fréchet distance {_number(scores.frechet_distance)} (real images: {real.confident_share:.0%}, "
            f"{_number(real.class_entropy)}, {_number(real.frechet_distance)})"
        )

    def save_npz(self, path: str | Path) -> None:
        """Write ``images`` (n, height, width, channels) float32 in [0, 1] and ``codes`` (n, latent_dim) float32."""
        np.savez_compressed(
            path, images=self.generation.images.astype(np.float32), codes=self.generation.codes.astype(np.float32)
        )


DEFAULT_VAE_SAMPLER, DEFAULT_FITTED_SAMPLER = "normal", "gmm"


def fitted_sampler(context: RunContext, sampler_name: str, n_components: int | None = None):
    """``sampler_name`` fitted on the run's training codes, once per run and settings (kept in ``context``); the
    codes and a mixture's choice by BIC take seconds, so a server fits the default sampler when a run finishes.
    N(0, I) needs only the code's size, so it never waits for the codes."""
    if sampler_name == "normal":
        return NormalSampler(latent_dim_of(context.run.model))
    return context.cached(
        ("sampler", sampler_name, n_components),
        lambda: make_sampler(sampler_name, n_components).fit(context.codes("training")),
    )


def default_sampler_name(context: RunContext) -> str:
    """The sampler the Generate page shows first: the prior for a VAE, else (beside N(0, I)) a mixture fitted to
    the training codes."""
    return DEFAULT_VAE_SAMPLER if context.run.model_config.preset == "vae" else DEFAULT_FITTED_SAMPLER


def generate_for_run(
    context: RunContext,
    sampler_name: str,
    n: int,
    seed: int = 0,
    temperature: float = 1.0,
    n_components: int | None = None,
    scored: bool = True,
) -> GenerationReport:
    """Fit ``sampler_name`` on the run's training codes (once per run and settings), draw ``n`` codes, decode
    and score them. n_components : for "gmm", None to choose by BIC. scored : False leaves the scores None, so no
    judge is trained or waited for."""
    n, seed, temperature = check_sample_args(n, seed, temperature)  # before the fit, which can take seconds
    generation = generate(context.run.model, fitted_sampler(context, sampler_name, n_components), n, seed, temperature)
    report = GenerationReport(sampler_name, temperature, generation, None, None)
    return scored_report(context, report) if scored else report


def scored_report(context: RunContext, report: GenerationReport) -> GenerationReport:
    """``report``'s images with the judge's scores, beside the same scores of the real validation images (the
    judge is trained on first need); unscored for an unlabeled dataset, which gives a judge no classes to learn."""
    if context.labels("training") is None:
        return report
    judge = judge_for(context.dataset)
    reference = context.cached(("judge_reference",), lambda: judge.score_images(context.images("validation")))
    # The real images' Fréchet distance is measured at the batch's size, since the distance shrinks as sets grow.
    reference = replace(reference, frechet_distance=judge.real_frechet_distance(len(report.generation.images)))
    return replace(report, scores=judge.score_images(report.generation.images), reference=reference)


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


RECOGNISABLE = f"recognisable (confidence > {CONFIDENCE})"
FRECHET = "Fréchet distance to real (lower is better)"
RELATIVE_DISTANCE = "distance to nearest training image (1 = as near as real unseen images)"


def scores_table(batches: dict[str, Scores]) -> dict[str, list]:
    """Columns of a table with one row per batch (title -> its Scores): its title, recognisable share in [0, 1],
    class entropy in [0, 1] (None when nothing was recognised), Fréchet distance to real images, and the median
    distance to the nearest training image over real validation images' typical one."""
    return {
        "images": list(batches),
        RECOGNISABLE: [scores.confident_share for scores in batches.values()],
        FRECHET: [_rounded(scores.frechet_distance) for scores in batches.values()],
        "class entropy (1 = all classes alike)": [_rounded(scores.class_entropy) for scores in batches.values()],
        RELATIVE_DISTANCE: [_rounded(scores.median_relative_distance) for scores in batches.values()],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
