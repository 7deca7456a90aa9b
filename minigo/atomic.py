"""Atomic file writes: a temporary file in the same folder, flushed and fsynced, then renamed into place.

A reader (or a process that was killed mid-write) sees the old file or the new one, never a half-written
one; on any failure the temporary file is removed. Used for every file the project writes: SGF, checkpoints,
data shards, metrics.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    target = Path(path)
    handle, temporary = _create_temporary(target)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        # never leave a half-written temporary file behind, whatever stopped us
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(target.parent)


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new hidden file next to ``target``, opened for writing.

    Not ``tempfile.mkstemp``: its files are private (0600), and the renamed SGF should get the usual
    permissions the umask gives a new file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows opening a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
