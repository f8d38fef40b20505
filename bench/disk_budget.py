"""The runs folder's disk budget and its hostile files, measured.

1. Quota: one workspace saves a 1024-1024 dense digits run (about 27 MB each) again and again under the default
   limits, until a save is refused; prints what it saved and the refusal.
2. Total: eight workspaces save such runs at once, each until refused, into a folder whose total is --total-mib;
   a watcher sums the runs folder every 20 ms. Prints the largest sum seen against the total.
3. Hostile files: a 500 MB run.json (valid JSON: batch losses) and a 1000 MiB preview.npz (on disk, and one of
   about 1 MB that unpacks to 1000 MiB), each listed and loaded in a fresh process; prints the time and the peak
   memory (resident, over the process's before the call) against the reference, the same file parsed as the lab
   parsed it before (json.loads; read_plain_npz under the data limits). Memory: the process's peak resident size
   during the call (VmHWM, reset just before it) over its resident size just before it.

    PYTHONPATH=. .venv/bin/python bench/disk_budget.py
"""

import argparse
import io
import json
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

PROBE = """
import sys, time
from pathlib import Path
from ae_core.data.readers import read_plain_npz
from ae_core.data.sources import DataFile
from ae_core.runs.listing import list_runs
from ae_core.runs.loading import load_run
kind, folder = sys.argv[1], Path(sys.argv[2])
calls = {
    "list": lambda: list_runs(folder.parent),
    "load": lambda: load_run(folder),
    "json.loads": lambda: __import__("json").loads((folder / "run.json").read_bytes()),
    "read_plain_npz": lambda: read_plain_npz(DataFile("preview.npz", folder / "preview.npz"), {"images"}),
}
def status(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))
# The peak is reset first: importing TensorFlow peaks above where it settles.
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = status("VmRSS")
start = time.perf_counter()
try:
    result = calls[kind]()
    outcome = "skipped: " + result.skipped[0][:90] if kind == "list" and result.skipped else "accepted"
except Exception as error:
    outcome = "refused: " + str(error)[:90]
seconds = time.perf_counter() - start
grown = status("VmHWM") - before
print(f"{seconds:.4f}\\t{grown / 1024:.1f}\\t{outcome}")
"""


def _small_run():
    from ae_core.data import load_dataset
    from ae_core.runs.run import train_run
    from ae_core.settings.model_config import ModelConfig
    from ae_core.settings.train_config import TrainConfig

    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(1024, 1024))
    return train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=1, batch_size=64), name="r")


def quota(run, root: Path) -> None:
    from ae_core.runs.disk_budget import saved_run_sizes
    from ae_core.runs.saving import save_run
    from ae_core.settings import limits
    from ae_core.units import human_size

    runs_dir, owner, saved = root / "quota", "a" * 32, 0
    while True:
        try:
            save_run(replace(run, name=f"mine-{saved}"), runs_dir, owner=owner)
        except ValueError as error:
            refusal = str(error)
            break
        saved += 1
    used = sum(size.size for size in saved_run_sizes(runs_dir) if size.owner == owner)
    print(f"quota: saved {saved} runs, {human_size(used)} of {human_size(limits.current().max_workspace_runs_bytes)}")
    print(f"refused: {refusal}")


def total(run, root: Path, total_mib: int) -> None:
    import os

    from ae_core.runs.disk_budget import saved_run_sizes
    from ae_core.runs.saving import save_run
    from ae_core.units import human_size

    os.environ["AE_MAX_RUNS_DIR_BYTES"] = str(total_mib * 2**20)
    runs_dir, largest, done, counts = root / "total", [0], threading.Event(), {}
    runs_dir.mkdir()

    def watch() -> None:
        while not done.is_set():
            largest[0] = max(largest[0], sum(size.size for size in saved_run_sizes(runs_dir)))
            time.sleep(0.02)

    def save_until_refused(workspace: int) -> None:
        counts[workspace] = 0
        while True:
            try:
                save_run(replace(run, name=f"w{workspace}-{counts[workspace]}"), runs_dir, owner=f"{workspace:032d}")
            except ValueError:
                return
            counts[workspace] += 1

    watcher = threading.Thread(target=watch)
    watcher.start()
    savers = [threading.Thread(target=save_until_refused, args=(workspace,)) for workspace in range(8)]
    for saver in savers:
        saver.start()
    for saver in savers:
        saver.join()
    done.set()
    watcher.join()
    final = sum(size.size for size in saved_run_sizes(runs_dir))
    print(
        f"total: 8 workspaces saved {sum(counts.values())} runs at once; the folder held at most "
        f"{human_size(max(largest[0], final))} (final {human_size(final)}) of its total {human_size(total_mib * 2**20)}"
    )


def _probe(kind: str, folder: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, kind, str(folder)], capture_output=True, text=True, check=True)
    seconds, grown_mib, outcome = done.stdout.strip().split("\t")
    return f"| {kind} | {float(seconds):.3f} | {float(grown_mib):,.0f} | {outcome} |"


def _hostile_run_json(run, root: Path) -> Path:
    from ae_core.runs.saving import save_run

    folder = save_run(replace(run, name="big-json"), root / "json")
    summary = json.loads((folder / "run.json").read_text())
    head, tail = json.dumps({**summary, "batch_losses": "PAIRS"}).split('"PAIRS"')
    with open(folder / "run.json", "w") as file:  # [epoch, loss] pairs, as batch 1 once wrote, up to 500 MB
        file.write(head + "[")
        pairs, written = "[0.123456789, 0.0123456789012345], " * 10_000, 0
        while written < 500_000_000:
            file.write(pairs)
            written += len(pairs)
        file.write("[1.0, 0.01]]" + tail)
    return folder


def _hostile_preview(run, root: Path, name: str, method: int) -> Path:
    """A run whose preview.npz holds a timeline of 1000 MiB (reconstructions after 256,000 epochs), stored (1000
    MiB on disk) or deflated (about 1 MB)."""
    from ae_core.runs.saving import save_run

    folder = save_run(replace(run, name=name), root / name)
    images = run.result.preview_images  # (16, 8, 8, 1)
    header = {"descr": "<f4", "fortran_order": False, "shape": (1000 * 2**20 // images.nbytes, *images.shape)}
    with zipfile.ZipFile(folder / "preview.npz", "w", method) as archive:
        archive.writestr("images.npy", _npy_bytes(images))
        archive.writestr("codes.npy", _npy_bytes(run.result.preview_codes))
        with archive.open("timeline.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            for _ in range(1000):
                member.write(bytes(2**20))
    return folder


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def hostile(run, root: Path, reference: bool) -> None:
    cases = [
        ("run.json of 500 MB", _hostile_run_json(run, root), "json.loads"),
        ("preview.npz of 1000 MiB on disk", _hostile_preview(run, root, "big-preview", zipfile.ZIP_STORED), None),
        ("preview.npz unpacking to 1000 MiB", _hostile_preview(run, root, "deflated", zipfile.ZIP_DEFLATED), None),
    ]
    print("| file | call | seconds | peak memory growth, MiB | outcome |\n|---|---|---|---|---|")
    for title, folder, parse in cases:
        kinds = ["list", "load"] + ([parse or "read_plain_npz"] if reference else [])
        for kind in kinds:
            print(f"| {title} {_probe(kind, folder)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-mib", type=int, default=512, help="the runs folder's total for part 2")
    parser.add_argument("--no-reference", action="store_true", help="skip parsing the hostile files the old way")
    args = parser.parse_args()
    run = _small_run()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        quota(run, root)
        total(run, root, args.total_mib)
        hostile(run, root, not args.no_reference)


if __name__ == "__main__":
    main()
