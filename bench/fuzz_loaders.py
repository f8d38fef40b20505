"""The long fuzzing run of docs/reliability.md: tests/test_fuzz.py with --examples inputs per property test and
parameter (600 by default: 20 x 600 = 12,000 inputs), under a hard cap on the process's address space, so that an
input making a loader allocate past it fails with MemoryError, Pillow's and zlib's C allocations included (the
tests' tracemalloc bound sees only Python's and numpy's). Prints Hypothesis's statistics per test; exits with
pytest's status.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/fuzz_loaders.py --examples 600
"""

import argparse
import os
import resource
import sys

import pytest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=600, help="inputs per property test and parameter")
    parser.add_argument(
        "--address-space-gib",
        type=float,
        default=3.0,
        help="hard cap on the process's virtual memory (RLIMIT_AS), in GiB",
    )
    args = parser.parse_args()
    os.environ["AE_FUZZ_EXAMPLES"] = str(args.examples)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # each BLAS thread reserves address space of its own
    cap = int(args.address_space_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return pytest.main(["tests/test_fuzz.py", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics"])


if __name__ == "__main__":
    sys.exit(main())
