"""The lesson's steps timed as a fresh server runs them, and the convolutional run's training against step 3's claim.

Walk: in one process started as a server starts (its training workers launched, the digits judge trained) and with
no run trained (the example runs off), each step in turn does what its "Run this step" does on the server: it asks
the shared trainings for the runs it needs (a run an earlier step trained is ready at once), waits for them, and runs
its experiment. Then step 3 again on fresh registries, ``--repeats`` times with the lesson's training and with the
conv preset's own (40 epochs on digits) in turn. Each time is printed with its ratio to step 2's (the textbook
model), the reference measured in the same walk, since absolute times depend on what else the machine runs; the
browser adds its drawing on top (tests/browser/test_lesson_in_browser.py).

Trainings: for each seed, the textbook run and the convolutional run with the lesson's training and with each
other number of epochs asked for (at the preset's learning rate), each trained alone: seconds to train, ratio to
the textbook run's seconds, and the validation error against PCA's with as many numbers (step 3's claim), with the
measures of steps 4 to 7 for the lesson's own training (step 7's second run, trained without 0s, at the same seed).

Usage: PYTHONPATH=. .venv/bin/python bench/lesson_steps.py [--repeats 2] [--seeds 0 1 2] [--epochs 25 40]
Prints markdown tables headed by the command that produced them.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from ae_core.data import load_dataset
from ae_core.generation.judge import judge_for
from ae_core.lesson.experiments import (
    CONV_TRAINING,
    CONVOLUTIONAL,
    DATASET,
    EXPERIMENTS,
    STEP_RUNS,
    TEXTBOOK,
    WITHOUT_ZEROS,
    run_step,
)
from ae_core.lesson.shared_runs import SharedTrainings
from ae_core.lesson.steps import STEPS
from ae_core.runs.context import context_for
from ae_core.runs.run import train_run, training_images
from ae_core.training import executors
from ae_core.training.jobs import DONE

JOIN_TIMEOUT_S = 600


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the trainings compared")
    parser.add_argument("--repeats", type=int, default=2, help="times step 3 is run again with each training")
    parser.add_argument(
        "--epochs", type=int, nargs="+", default=[25, 40], help="other epochs of the convolutional run to compare"
    )
    return parser.parse_args()


def load_average() -> float:
    return os.getloadavg()[0]


def timed_step(shared: SharedTrainings, dataset, number: int, lesson_runs: tuple) -> dict:
    """Step ``number`` as its Run this step does it, on ``lesson_runs``: its seconds and the load around them."""
    load_before, started = load_average(), time.perf_counter()
    jobs = {
        lesson_run.name: shared.request(dataset, *lesson_run.settings(dataset), lesson_run.excluded_class)
        for lesson_run in lesson_runs
    }
    for job in jobs.values():
        if not job.join(JOIN_TIMEOUT_S) or job.snapshot().status != DONE:
            sys.exit(f"step {number}'s training did not finish: {job.snapshot().message}")
    run_step(number, dataset, {name: job.snapshot().run for name, job in jobs.items()})
    return {"seconds": time.perf_counter() - started, "load": (load_before, load_average())}


def walk(dataset, repeats: int) -> list[dict]:
    """Each step's seconds from its Run this step to its result, walked in order with no run trained before, on a
    process started as a server starts (its training workers launched, the judge trained); then step 3 ``repeats``
    times more on fresh registries, with the lesson's training and with the preset's in turn."""
    executors.executor()
    judge_for(dataset)
    shared = SharedTrainings()
    timed = [
        {"label": f"{step.number}. {step.title}", **timed_step(shared, dataset, step.number, STEP_RUNS[step.number])}
        for step in STEPS
    ]
    preset_run = replace(CONVOLUTIONAL, training={})
    for _ in range(repeats):
        for label, lesson_run in (("the lesson's training", CONVOLUTIONAL), ("the preset's training", preset_run)):
            timed.append({"label": f"3 again, {label}", **timed_step(SharedTrainings(), dataset, 3, (lesson_run,))})
    return timed


def trained(dataset, lesson_run, seed: int, **training):
    """``lesson_run`` trained alone at ``seed`` with ``training``'s fields on top of its own; (run, seconds)."""
    model_config, train_config = lesson_run.settings(dataset)
    train_config = replace(train_config, seed=seed, **training)
    x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, lesson_run.excluded_class)
    started = time.perf_counter()
    run = train_run(
        x_train,
        dataset.x_val,
        dataset.name,
        model_config,
        train_config,
        split=dataset.split.to_dict(),
        excluded_class=lesson_run.excluded_class,
    )
    return run, time.perf_counter() - started


def later_steps(dataset, run, seed: int) -> str:
    """What steps 4 to 7 measure on the convolutional ``run``, in a few words."""
    context = context_for(run, dataset)
    held_out = context_for(trained(dataset, WITHOUT_ZEROS, seed)[0], dataset)
    same = EXPERIMENTS[4](dataset, context).numbers["same_digit_share"]
    sampled = EXPERIMENTS[5](dataset, context).numbers["recognised"]
    walked = EXPERIMENTS[6](dataset, context).numbers["recognised"]
    wins = EXPERIMENTS[7](dataset, context, held_out).numbers["wins"]
    return (
        f"{same:.0%} same digit; fitted {sampled['gaussian']:.0%} vs noise {sampled['normal']:.0%}; code walk "
        f"{walked['code walk']:.0%} vs cross-fade {walked['cross-fade']:.0%}; wins: "
        + ", ".join(use for use, win in wins.items() if win)
    )


def trainings(dataset, seeds: list[int], epochs: list[int]) -> list[dict]:
    rows = []
    for seed in seeds:
        load_before = load_average()
        _, textbook_s = trained(dataset, TEXTBOOK, seed)
        cases = [("lesson", {})] + [
            (f"{count} epochs, learning rate 0.001", {"epochs": count, "learning_rate": 1e-3}) for count in epochs
        ]
        for label, training in cases:
            run, seconds = trained(dataset, CONVOLUTIONAL, seed, **training)
            rows.append(
                {
                    "seed": seed,
                    "case": label,
                    "seconds": seconds,
                    "textbook_s": textbook_s,
                    "ratio": run.metrics["val_mse"] / run.metrics["pca_val_mse"],
                    "later": later_steps(dataset, run, seed) if not training else "",
                    "load": (load_before, load_average()),
                }
            )
    return rows


def print_tables(args, timed: list[dict], rows: list[dict]) -> None:
    seeds, epochs = " ".join(map(str, args.seeds)), " ".join(map(str, args.epochs))
    print(
        f"`PYTHONPATH=. .venv/bin/python bench/{Path(__file__).name} --repeats {args.repeats} --seeds {seeds} "
        f"--epochs {epochs}`\n"
    )
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; the lesson's data: {DATASET}.\n")
    reference = timed[1]["seconds"]
    print("| step | seconds to its result | vs step 2 | load average (1 min) |")
    print("|---|---:|---:|---|")
    for one in timed:
        before, after = one["load"]
        print(
            f"| {one['label']} | {one['seconds']:.1f} s | {one['seconds'] / reference:.2f}x | "
            f"{before:.1f} → {after:.1f} |"
        )
    if args.repeats:
        lesson_s, preset_s = (
            statistics.median(one["seconds"] for one in timed if one["label"] == f"3 again, {label}")
            for label in ("the lesson's training", "the preset's training")
        )
        print(
            f"\nStep 3 again, median: {lesson_s:.1f} s with the lesson's training, {preset_s:.1f} s with the preset's: "
            f"{lesson_s / preset_s:.2f}x."
        )
    training = ", ".join(f"{name} {value:g}" for name, value in CONV_TRAINING.items())
    print(
        f"\nThe convolutional run ('lesson': {training}; batch and model as the conv preset's), each trained alone:\n"
    )
    print("| seed | training | seconds | vs the textbook run | error vs PCA's | steps 4 to 7 | load average (1 min) |")
    print("|---:|---|---:|---:|---:|---|---|")
    for row in rows:
        before, after = row["load"]
        print(
            f"| {row['seed']} | {row['case']} | {row['seconds']:.1f} s | {row['seconds'] / row['textbook_s']:.1f}x "
            f"(textbook {row['textbook_s']:.1f} s) | {row['ratio']:.3f}x | {row['later']} | {before:.1f} → "
            f"{after:.1f} |"
        )


def main() -> None:
    args = parse_args()
    dataset = load_dataset(DATASET)
    timed = walk(dataset, args.repeats)
    rows = trainings(dataset, args.seeds, args.epochs)
    print_tables(args, timed, rows)


if __name__ == "__main__":
    main()
