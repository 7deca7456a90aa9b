"""Resume points: where a stopped stage picks up again, kept so that one damaged file never costs the run.

A resume point is a checkpoint ``DIR/PREFIX_{step:06d}.safetensors`` holding the net and the stage's state in
its metadata (``extra``), with the optimizer beside it. The two newest are kept. ``latest_resume_point`` tries
them newest first: a file that is truncated or otherwise unreadable is reported by name and the previous one
is used, so a crash while writing (or a damaged disk) costs at most a step.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from minigo.atomic import write_atomic
from models import checkpoint
from models.nets import NetConfig
from models.run_layout import RunLayout

log = logging.getLogger(__name__)
KEEP = 2


@dataclass
class ResumePoint:
    step: int
    state: dict[str, Any]
    net_state: dict[str, torch.Tensor]
    path: Path


def _points(folder: Path, prefix: str) -> list[Path]:
    """Resume-point nets (not their optimizers), oldest first."""
    return sorted(p for p in folder.glob(f"{prefix}_*.safetensors") if not p.name.endswith(".optim.safetensors"))


def save_resume_point(folder: Path, prefix: str, step: int, net: torch.nn.Module, config: NetConfig,
                      optimizer: torch.optim.Optimizer, state: dict[str, Any], stage: str) -> Path:
    """Write the resume point of ``step`` (optimizer first, so a net file always has its optimizer) and keep
    the newest ``KEEP``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}_{step:06d}.safetensors"
    checkpoint.save_optimizer(checkpoint.optimizer_path(path), optimizer)
    checkpoint.save(path, net, config, stage=stage, step=step, extra=state)
    for old in _points(folder, prefix)[:-KEEP]:
        old.unlink(missing_ok=True)
        checkpoint.optimizer_path(old).unlink(missing_ok=True)
    return path


def latest_resume_point(folder: Path, prefix: str, optimizer: torch.optim.Optimizer,
                        kind: str) -> ResumePoint | None:
    """The newest readable resume point (its optimizer state loaded into ``optimizer``), or None."""
    for path in reversed(_points(folder, prefix)):
        try:
            loaded = checkpoint.load(path, kind=kind)
            checkpoint.load_optimizer(checkpoint.optimizer_path(path), optimizer)
        except checkpoint.CheckpointError as exc:
            log.warning("cannot resume from %s (%s); trying the one before", path, exc)
            continue
        return ResumePoint(loaded.step, loaded.extra, loaded.net.state_dict(), path)
    return None


def truncate_metrics(run_dir: Path, stage: str, key: str, last: int) -> None:
    """Drop ``stage``'s metric lines whose ``key`` is beyond ``last`` (steps that will be done again)."""
    path = RunLayout(run_dir).metrics
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("stage") == stage and record.get(key, 0) > last:
            continue
        kept.append(line)
    write_atomic(path, ("\n".join(kept) + "\n" if kept else "").encode())


def drop_metrics(run_dir: Path, stage: str) -> None:
    """Drop every metric line of ``stage`` (a stage that logs its results again when it is rerun)."""
    path = RunLayout(run_dir).metrics
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if line.strip() and _stage_of(line) != stage]
    write_atomic(path, ("\n".join(kept) + "\n" if kept else "").encode())


def _stage_of(line: str) -> str | None:
    try:
        return json.loads(line).get("stage")
    except (json.JSONDecodeError, AttributeError):
        return None
