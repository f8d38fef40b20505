"""Ten sessions each upload the largest image set the limits allow; does the server stay within its memory budget for
uploads, and does the memory come back once they close?

The upload is a .zip of 4,000 plain 256x256 PNGs in one class folder (about 1 MB), which decodes to 4,000 x 256 x
256 float32 pixels, 1,000 MiB: just under AE_MAX_DECODED_BYTES (1 GiB). Each session decodes it as the Data page
does (``ae_core.workspaces.upload_memory.decode_upload``) and holds what it got; then every session lets go, as the
server does with a closed tab's state after ``server.disconnectedSessionTTL``. Prints, after each upload, whether
it was held or refused (and why), how long that took, the budget's ledger and the process's resident memory (now
and its peak, from /proc), and the same once the sessions have let go.

    PYTHONPATH=. .venv/bin/python bench/upload_memory.py --sessions 10
"""

import argparse
import gc
import io
import time
import zipfile

import numpy as np
from PIL import Image

from ae_core.settings import limits
from ae_core.training.native_memory import release_free_memory
from ae_core.units import human_size
from ae_core.workspaces.upload_memory import SERVER_UPLOADS, decode_upload

IMAGES, SIDE = 4_000, 256


def largest_upload() -> list[tuple[str, bytes]]:
    """The uploader's (file name, content) pairs: one zip of IMAGES plain SIDE x SIDE grey PNGs."""
    png = io.BytesIO()
    Image.fromarray(np.full((SIDE, SIDE), 128, np.uint8)).save(png, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for index in range(IMAGES):
            zipped.writestr(f"plain/{index:05d}.png", png.getvalue())
    return [("plain.zip", archive.getvalue())]


def memory_mib() -> tuple[float, float]:
    """The process's resident memory now and at its peak, in MiB."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    files = largest_upload()
    budget = limits.current().max_upload_memory_bytes
    start_mib, _ = memory_mib()
    upload = f"{files[0][0]}, {human_size(len(files[0][1]))}"
    print(f"upload: {upload}; budget {human_size(budget)}; at start {start_mib:.0f} MiB")
    print("| session | upload | took | ledger | resident | peak resident |")
    print("|---|---|---|---|---|---|")
    held = []
    for session in range(1, args.sessions + 1):
        started = time.perf_counter()
        try:
            held.append(decode_upload(files))
            outcome = "held"
        except ValueError as refusal:
            outcome = "refused: " + str(refusal).split(". Upload fewer")[0]
        took = time.perf_counter() - started
        now, peak = memory_mib()
        used = human_size(SERVER_UPLOADS.used())
        print(f"| {session} | {outcome} | {took:.1f} s | {used} | {now:.0f} MiB | {peak:.0f} MiB |")
    held.clear()  # every session closed and released
    gc.collect()
    release_free_memory()
    now, peak = memory_mib()
    print(f"| all closed | | | {human_size(SERVER_UPLOADS.used())} | {now:.0f} MiB | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
