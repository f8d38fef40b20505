"""The files of a saved run, found and opened with care: never through a link, never past their size limit.

A runs folder is shared, and whoever can write to it can plant a link in it (``x -> /etc``) or grow a file to any
size. A run folder or file that is a link is refused, not followed; a file over its limit is refused from its size
(one ``fstat``), before a byte is read. Messages name the run by its folder's name and the file by its own, never a
path on the server.
"""

import os
import stat
from pathlib import Path

from ae_core.settings import limits
from ae_core.units import human_size

AGAIN = "Train the run again, or remove its folder."


def link_refusal(name: str) -> str:
    """What a run folder that is a link is told: links in a runs folder are never followed."""
    return (
        f"{name} is a link, not a run folder saved here; links in a runs folder are never followed. Remove the "
        "link, or copy the run's folder in its place."
    )


def check_run_folder(folder: Path) -> None:
    """ValueError when ``folder`` is a link; FileNotFoundError when it is not a folder."""
    if folder.is_symlink():
        raise ValueError(link_refusal(folder.name))
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder.name} is not a saved run: expected a folder holding run.json and model.keras. It may have been "
            "deleted or renamed."
        )


def check_run_file(folder: Path, file_name: str) -> None:
    """FileNotFoundError when ``folder/file_name`` is missing, ValueError when it is a link or not a regular file."""
    try:
        status = os.lstat(folder / file_name)
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder.name}/{file_name} is missing. {AGAIN}") from None
    if not stat.S_ISREG(status.st_mode):
        kind = "a link" if stat.S_ISLNK(status.st_mode) else "not a regular file"
        raise ValueError(
            f"{folder.name}/{file_name} is {kind}; a saved run's files are plain files, and links are never "
            f"followed. {AGAIN}"
        )


def read_run_file(folder: Path, file_name: str, limit_name: str) -> bytes:
    """The bytes of ``folder/file_name``, opened without following a link (at the file or at its folder) and read
    only when its size is within the limit ``limit_name`` (a field of ``Limits``); FileNotFoundError when it is
    missing, ValueError when it is a link, not a regular file or over the limit."""
    if folder.is_symlink():
        raise ValueError(link_refusal(folder.name))
    try:
        descriptor = os.open(folder / file_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder.name}/{file_name} is missing. {AGAIN}") from None
    except OSError as error:  # ELOOP: the file is a link
        reason = "a link, which is never followed" if os.path.islink(folder / file_name) else error.strerror
        raise ValueError(f"{folder.name}/{file_name} could not be opened: {reason}. {AGAIN}") from None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block or never end
            raise ValueError(f"{folder.name}/{file_name} is not a regular file. {AGAIN}")
        _check_size(folder, file_name, status.st_size, limit_name)
        return file.read(status.st_size)


def _check_size(folder: Path, file_name: str, size: int, limit_name: str) -> None:
    limit = getattr(limits.current(), limit_name)
    if size > limit:
        raise ValueError(
            f"{folder.name}/{file_name} is {human_size(size)}; a saved run's {file_name} may be at most "
            f"{human_size(limit)} ({limits.Limits.variable(limit_name)}), far more than the lab writes, so it was not "
            f"read. {AGAIN}"
        )


OWNER_FILE = "owner"
OWNER_MOST_BYTES = 64  # an owner id is 32 hex digits (ae_core.workspaces.store.owner_id)


def run_owner(folder: str | Path) -> str | None:
    """The owner id saved with the run in ``folder`` (its ``owner`` file); None when no workspace owns it, and when
    the file is a link, not a plain file or not an owner id."""
    try:
        descriptor = os.open(Path(folder) / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # missing, or a link (ELOOP)
        return None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        text = file.read(OWNER_MOST_BYTES + 1)
    try:
        owner = text.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return owner if 0 < len(owner) <= OWNER_MOST_BYTES else None
