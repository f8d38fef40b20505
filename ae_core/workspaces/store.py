"""Workspaces on disk: ``root/TOKEN/`` holds ``runs/`` (the workspace's own runs, each a saved-run folder), ``upload/``
(its one upload, ``ae_core.workspaces.uploads``), ``opened``, an empty file whose modification time says when the
workspace was last opened, and ``lesson.json``, the lesson's steps this workspace has run (the Lesson page's).

The token is the key to the workspace: 32 random bytes from ``secrets``, URL-safe (43 characters). Whoever holds
it holds the workspace, so it is never written anywhere but the folder's name; a run saved to the shared runs folder
names its workspace by ``owner_id``, a hash of the token that cannot be turned back into it.
"""

import hashlib
import os
import re
import secrets
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
OPENED_FILE = "opened"
REMOVING_PREFIX = ".removing-"  # a workspace being removed is renamed first, so it is never opened half-gone


def new_token() -> str:
    """A fresh workspace token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def is_token(text: object) -> bool:
    """Whether ``text`` has the form of a workspace token (never a path: no "/", ".", or "..")."""
    return isinstance(text, str) and TOKEN_PATTERN.fullmatch(text) is not None


def owner_id(token: str) -> str:
    """The name a workspace signs its saved runs with: the first 32 hex digits of the token's SHA-256."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:32]


@dataclass(frozen=True)
class Workspace:
    """One workspace: ``folder`` is ``root/token``."""

    root: Path
    token: str

    @property
    def folder(self) -> Path:
        return self.root / self.token

    @property
    def runs_dir(self) -> Path:
        return self.folder / "runs"

    @property
    def upload_dir(self) -> Path:
        return self.folder / "upload"

    @property
    def owner(self) -> str:
        return owner_id(self.token)

    def touch(self) -> None:
        """Mark the workspace as opened now (it counts as in use for another expiry period)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / OPENED_FILE).touch()


def create_workspace(root: str | Path) -> Workspace:
    """A new, empty workspace under ``root`` with a fresh token, marked as opened now."""
    workspace = Workspace(Path(root), new_token())
    workspace.folder.mkdir(parents=True)
    workspace.touch()
    return workspace


def open_workspace(root: str | Path, token: object) -> Workspace | None:
    """The workspace of ``token`` under ``root``, marked as opened now; None when ``token`` is not a token or no such
    workspace is there (never made on this server, or removed after it expired)."""
    if not is_token(token):
        return None
    workspace = Workspace(Path(root), token)
    if not workspace.folder.is_dir() or workspace.folder.is_symlink():
        return None
    workspace.touch()
    return workspace


def last_opened(folder: Path) -> float:
    """When the workspace in ``folder`` was last opened (seconds since the epoch); its folder's time without a mark."""
    opened = folder / OPENED_FILE
    return (opened if opened.exists() else folder).stat().st_mtime


def remove_expired(root: str | Path, max_idle_s: float, now: float | None = None) -> int:
    """Remove every workspace under ``root`` nobody opened for ``max_idle_s`` seconds, with its runs and upload, and
    what removals killed midway left; return how many workspaces went. Other files and folders are left alone."""
    root, now = Path(root), time.time() if now is None else now
    if not root.is_dir():
        return 0
    removed = 0
    for folder in list(root.iterdir()):
        if folder.name.startswith(REMOVING_PREFIX) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            continue
        if not is_token(folder.name) or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            if now - last_opened(folder) < max_idle_s:
                continue
            retired = root / f"{REMOVING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
            os.rename(folder, retired)
        except FileNotFoundError:  # another process removed it meanwhile
            continue
        shutil.rmtree(retired, ignore_errors=True)
        removed += 1
    return removed
