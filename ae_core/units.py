"""Quantities in words for messages: byte counts."""


def human_size(n_bytes: int) -> str:
    """A byte count for messages: "1 GiB", "9.766 KiB", "1,000 bytes"."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.4g} {unit}"
    return f"{n_bytes:,} bytes"
