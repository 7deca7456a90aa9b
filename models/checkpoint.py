"""Self-describing checkpoints: one ``.safetensors`` file per network, its description inside it.

The safetensors header holds string metadata: the format version, the net's kind and ``NetConfig`` (JSON),
board size, feature set name and version, the stage and step that wrote it, its parent checkpoint, and key
metrics. ``load(path)`` rebuilds the network from that alone and refuses, with a one-line
``CheckpointError``, a file that is truncated or not a checkpoint, holds non-finite weights, or does not
fit what the caller expects (kind, board size, feature set). Nothing is ever unpickled.

Optimizer state for resuming lives next to the checkpoint (``NAME.optim.safetensors``): tensors in the file,
the rest (param groups, scalar state) as JSON in its metadata.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from minigo.atomic import write_atomic
from models.features import get_feature_set
from models.nets import NetConfig, build

FORMAT = "minigo-checkpoint"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""1: no value-net heads beyond the outcome; 2 adds ``score_head`` / ``ownership_head`` to the net config
(a version-1 file reads as a net without them)."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the reason."""


@dataclass
class Checkpoint:
    """A loaded network and what its file says about it."""

    net: torch.nn.Module
    config: NetConfig
    stage: str = ""
    step: int = 0
    parent: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    path: Path | None = None


def save(path: str | os.PathLike[str], net: torch.nn.Module, config: NetConfig, *, stage: str = "", step: int = 0,
         parent: str = "", metrics: dict[str, float] | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Write ``net`` and its description to ``path`` atomically; refuses non-finite weights.

    ``extra`` is any JSON-able state a stage needs to resume from this file (kept in the metadata)."""
    path = Path(path)
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in net.state_dict().items()}
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path}: not saved: weight {name} is not finite (NaN or inf)")
    fs = get_feature_set(config.feature_set)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": config.kind,
        "net_config": json.dumps(config.to_dict()),
        "board_size": str(config.board_size),
        "feature_set": fs.name,
        "feature_version": str(fs.version),
        "stage": stage,
        "step": str(int(step)),
        "parent": str(parent),
        "metrics": json.dumps({k: float(v) for k, v in (metrics or {}).items()}),
        "extra": json.dumps(extra or {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, st_save(tensors, metadata=metadata))
    return path


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The metadata of a checkpoint file, without loading its weights."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint file") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({_short(exc)})") from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a minigo checkpoint (no '{FORMAT}' metadata)")
    return metadata


def load(path: str | os.PathLike[str], *, kind: str | None = None, board_size: int | None = None,
         feature_set: str | None = None, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the network stored at ``path``; check it is of ``kind`` / ``board_size`` / ``feature_set``
    where those are given. The net is returned in eval mode on ``device``."""
    path = Path(path)
    metadata = read_metadata(path)
    try:
        version = int(metadata.get("format_version", "0"))
        config = NetConfig.from_dict(json.loads(metadata["net_config"]))
        step = int(metadata.get("step", "0"))
        metrics = json.loads(metadata.get("metrics", "{}"))
        extra = json.loads(metadata.get("extra", "{}"))
        feature_version = int(metadata.get("feature_version", "0"))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: its description is damaged ({_short(exc)})") from None
    if version not in READABLE_VERSIONS:
        raise CheckpointError(f"{path}: checkpoint format {version}, this minigo reads "
                              f"{' and '.join(map(str, READABLE_VERSIONS))}")
    if kind is not None and config.kind != kind:
        raise CheckpointError(f"{path}: a {config.kind} network, expected a {kind} network")
    if board_size is not None and config.board_size != board_size:
        raise CheckpointError(f"{path}: trained for {config.board_size}x{config.board_size}, "
                              f"expected {board_size}x{board_size}")
    if feature_set is not None and config.feature_set != feature_set:
        raise CheckpointError(f"{path}: uses feature set {config.feature_set!r}, expected {feature_set!r}")
    if config.kind != "rollout" and feature_version != get_feature_set(config.feature_set).version:
        raise CheckpointError(f"{path}: feature set {config.feature_set!r} version {feature_version}, this minigo "
                              f"computes version {get_feature_set(config.feature_set).version}")
    try:
        tensors = st_load(path.read_bytes())
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: weights unreadable, the file may be truncated ({_short(exc)})") from None
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path}: weight {name} is not finite (NaN or inf)")
    net = build(config)
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit its net config ({_short(exc)})") from None
    net.to(device).eval()
    return Checkpoint(net=net, config=config, stage=metadata.get("stage", ""), step=step,
                      parent=metadata.get("parent", ""), metrics=metrics, extra=extra,
                      created=metadata.get("created", ""), path=path)


def optimizer_path(checkpoint_path: str | os.PathLike[str]) -> Path:
    """Where the optimizer state of a checkpoint lives: ``NAME.optim.safetensors`` next to it."""
    path = Path(checkpoint_path)
    return path.with_name(path.name.removesuffix(".safetensors") + ".optim.safetensors")


def save_optimizer(path: str | os.PathLike[str], optimizer: torch.optim.Optimizer) -> Path:
    """Write an optimizer's state atomically, tensors as tensors and the rest as JSON."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            name = f"{index}.{key}"
            if isinstance(value, torch.Tensor):
                tensors[name] = value.detach().to("cpu").contiguous()
            else:
                scalars[name] = value
    metadata = {"format": FORMAT + "-optimizer", "param_groups": json.dumps(state["param_groups"]),
                "scalars": json.dumps(scalars)}
    path = Path(path)
    write_atomic(path, st_save(tensors, metadata=metadata))
    return path


def load_optimizer(path: str | os.PathLike[str], optimizer: torch.optim.Optimizer) -> None:
    """Restore state written by ``save_optimizer`` into ``optimizer`` (built over the same parameters)."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = st_load(path.read_bytes())
        groups = json.loads(metadata["param_groups"])
        scalars = json.loads(metadata["scalars"])
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such optimizer state file") from None
    except (SafetensorError, OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: optimizer state unreadable ({_short(exc)})") from None
    state: dict[int, dict[str, Any]] = {}
    for name, value in list(tensors.items()) + list(scalars.items()):
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: optimizer state does not fit this optimizer ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


__all__ = ["Checkpoint", "CheckpointError", "load", "load_optimizer", "optimizer_path", "read_metadata", "save",
           "save_optimizer"]
