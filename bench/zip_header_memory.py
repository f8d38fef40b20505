"""Headers before bytes: a zip whose one member, named .png, is 1,000 MiB of zeros (a 1 MB archive), read as an
upload. The member is refused from its first bytes; prints the message, the time and tracemalloc's peak.

    PYTHONPATH=. .venv/bin/python bench/zip_header_memory.py
"""

import io
import time
import tracemalloc
import zipfile

from ae_core.data.common import DataFileError
from ae_core.data.image_members import zip_members
from ae_core.data.readers_images import read_images


def main() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as written:
        with written.open("a/zeros.png", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(1000):
                member.write(chunk)
    content = archive.getvalue()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        read_images(zip_members(content, "zeros.zip"), "zeros.zip", image_size=None, resize=True)
    except DataFileError as error:
        print(error)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    print(f"archive {len(content):,} bytes; refused in {seconds:.3f} s; traced peak {peak:.2f} MiB")


if __name__ == "__main__":
    main()
