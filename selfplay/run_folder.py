"""What every stage shares about working in a run folder: its error, its metrics file, the device, the lock.

Paths come from ``models.run_layout.RunLayout``; this module holds the behaviour around them:

- ``TrainingError``: a stage cannot go on (a NaN loss, no data, a missing earlier stage); the message says why.
- ``require(path, stage, run)``: a checkpoint an earlier stage writes, or a ``TrainingError`` naming that stage.
- ``append_metrics(run, record)``: one JSON line more in ``RUN/metrics.jsonl``, rewritten atomically.
- ``resolve_device(name)``: ``auto``, ``cpu`` or ``cuda`` as a torch device.
- ``folder_lock(folder, what, error)``: holds ``FOLDER/.lock`` so that two processes never write one folder.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from minigo.atomic import write_atomic
from models.run_layout import RunLayout

if TYPE_CHECKING:
    import torch

__all__ = ["LOCK_FILE", "TrainingError", "append_metrics", "folder_lock", "require", "resolve_device"]

LOCK_FILE = ".lock"


class TrainingError(RuntimeError):
    """Training cannot go on (a NaN loss, no data); the message says why. Nothing bad is saved."""


def require(path: Path, stage: str, run_dir: str | os.PathLike[str]) -> Path:
    """``path`` if it exists, else a TrainingError naming the stage that makes it."""
    if not path.exists():
        raise TrainingError(f"{path} is missing: run stage {stage} first (minigo train --stages {stage} "
                            f"--run {run_dir})")
    return path


def append_metrics(run_dir: str | os.PathLike[str], record: dict) -> None:
    """Add one JSON line to ``RUN/metrics.jsonl`` (rewritten atomically, so a crash never half-writes)."""
    path = RunLayout(run_dir).metrics
    old = path.read_bytes() if path.exists() else b""
    write_atomic(path, old + (json.dumps(record) + "\n").encode())


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when torch sees it), ``cpu`` or ``cuda``; asking for a CUDA that is not there is an error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device cuda was asked for but torch sees no CUDA device")
    return torch.device(name)


@contextlib.contextmanager
def folder_lock(folder: Path, what: str, error: type[Exception] = RuntimeError) -> Iterator[None]:
    """Hold ``FOLDER/.lock`` (created with the folder) while the block runs; another process holding it already
    is ``error("another WHAT is using FOLDER ...")``. Without POSIX locks (not Linux or macOS) nothing is held."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(folder / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise error(f"another {what} is using {folder} (it holds {folder / LOCK_FILE})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
