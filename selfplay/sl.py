"""Stage 1: the supervised policy (imitate the expert's next move) and the fast rollout policy.

The SL policy is trained by cross-entropy over the legal moves (softmax restricted to them), with a random
board symmetry per example; the best epoch by validation top-1 accuracy is kept. The rollout policy, a
linear softmax over local patterns (``minigo.rollout``), is fit to the same expert moves.

Files written under ``run_dir`` (all atomically):

- ``checkpoints/sl_policy.safetensors``: the best SL policy so far (by validation top-1);
- ``checkpoints/resume/sl_EPOCH.safetensors`` (+ ``.optim.safetensors``): the last two finished epochs, from
  which an interrupted run resumes (the older one if the newer is damaged);
- ``checkpoints/rollout.safetensors``: the rollout policy;
- ``metrics.jsonl``: one JSON line per epoch (``stage``, ``epoch``, ``train_loss``, ``val_loss``, ``val_top1``...).
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from minigo.record import GameRecord
from models import checkpoint
from models.inference import PRECISIONS
from models.nets import NetConfig, build, masked_log_softmax
from models.run_layout import RunLayout
from selfplay.examples import Examples, augment, build_examples, split_by_game
from selfplay.resume import latest_resume_point, save_resume_point, truncate_metrics
from selfplay.rollout_training import train_rollout
from selfplay.run_folder import TrainingError, append_metrics, resolve_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SLConfig:
    """Stage 1 settings. Filled from a preset's ``[sl]`` table and ``--set sl.FIELD=VALUE``."""

    data: str = "bundled"
    """``bundled`` (the GNU Go games shipped with minigo) or a folder, archive or SGF file of games."""
    board_size: int = 9
    """Games of other sizes are skipped."""
    max_games: int = 0
    """Use at most this many games (0: all of them)."""
    validation: float = 0.1
    """Fraction of the games held out for validation (split by game)."""
    feature_set: str = "alphago"
    """Input planes: ``alphago`` (24 planes) or ``raw`` (5; the paper's ablation)."""
    filters: int = 64
    """Channels of the residual trunk."""
    blocks: int = 6
    """Residual blocks of the trunk."""
    epochs: int = 10
    """Passes over the training examples."""
    batch_size: int = 256
    """Examples per gradient step."""
    lr: float = 2e-3
    """Adam learning rate at the start; cosine-decayed to 5% of it over the run."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""
    symmetries: bool = True
    """Show each training example under a random one of the 8 board symmetries."""
    rollout_epochs: int = 3
    """Passes of the rollout policy over its examples (0: no rollout policy)."""
    rollout_positions: int = 60_000
    """At most this many training positions for the rollout policy."""
    rollout_lr: float = 0.05
    """Adam learning rate of the rollout policy's weights."""
    seed: int = 0
    """Seed of the split, the shuffles and the initial weights."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    precision: str = "fp32"
    """``fp32``, or ``bf16``: the forward pass and loss under bfloat16 autocast (weights, gradients and the optimizer
    stay float32), for GPUs with bf16 units and CPUs with AVX-512 BF16; ``bench/gpu.py`` measures its speed and how
    far its loss is from fp32's."""

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"sl.precision = {self.precision!r}: expected one of {', '.join(PRECISIONS)}")
        for name in ("epochs", "batch_size", "filters"):
            if getattr(self, name) < 1:
                raise ValueError(f"sl.{name} = {getattr(self, name)!r} must be at least 1")
        if not 0 < self.validation < 1:
            raise ValueError(f"sl.validation = {self.validation!r} must be between 0 and 1")
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise ValueError(f"sl.lr = {self.lr!r} must be a positive number")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"sl.device = {self.device!r}: expected auto, cpu or cuda")


@dataclass
class SLResult:
    policy: Path
    rollout: Path | None
    val_top1: float
    rollout_val_top1: float | None


def load_expert_games(config: SLConfig) -> list[GameRecord]:
    """The games named by ``config.data``, of ``config.board_size``, at most ``config.max_games``."""
    from selfplay import game_import

    path = game_import.bundled_games_path(config.board_size) if config.data == "bundled" else Path(config.data)
    games, skipped = game_import.load_games(path, size=config.board_size)
    if skipped.total:
        log.info("skipped %s", skipped)
    if config.max_games:
        games = games[: config.max_games]
    if len(games) < 2:
        raise TrainingError(f"{path}: {len(games)} usable {config.board_size}x{config.board_size} game(s), need at "
                            f"least 2 (skipped: {skipped})")
    return games


def run(config: SLConfig, run_dir: str | os.PathLike[str], games: list[GameRecord] | None = None,
        progress: bool = True) -> SLResult:
    """Train the SL policy and the rollout policy into ``run_dir`` (resuming a run that was stopped)."""
    run_dir = Path(run_dir)
    layout = RunLayout(run_dir)
    layout.checkpoints.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    if games is None:
        games = load_expert_games(config)
    examples = build_examples(games, config.feature_set)
    train, val = split_by_game(examples, config.validation, rng)
    log.info("SL: %d games, %d train / %d validation examples, device %s", len(games), len(train), len(val), device)

    net_config = NetConfig(kind="policy", board_size=config.board_size, feature_set=config.feature_set,
                           filters=config.filters, blocks=config.blocks)
    net = build(net_config).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(train) / config.batch_size))
    total_steps = steps_per_epoch * config.epochs

    def learning_rate(step: int) -> float:
        """Cosine decay from ``lr`` to 5% of it over the whole run."""
        return config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))

    best_path = layout.sl_policy
    resume_dir = layout.resume
    start_epoch, best_top1 = 0, -1.0
    point = latest_resume_point(resume_dir, "sl", optimizer, kind="policy")
    if point is not None:
        net.load_state_dict(point.net_state)
        start_epoch, best_top1 = point.step, float(point.state["best_val_top1"])
        log.info("SL: resuming after epoch %d from %s (best validation top-1 %.3f)", start_epoch, point.path,
                 best_top1)
    truncate_metrics(run_dir, "sl", "epoch", start_epoch)

    for epoch in range(start_epoch, config.epochs):
        started = time.time()
        epoch_rng = np.random.default_rng([config.seed, epoch + 1])
        train_loss = _train_epoch(net, optimizer, learning_rate, epoch * steps_per_epoch, train, config, epoch_rng,
                                  device, epoch, progress)
        val_loss, val_top1 = evaluate(net, val, config.batch_size, device)
        record = {"stage": "sl", "epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss,
                  "val_top1": val_top1, "lr": learning_rate((epoch + 1) * steps_per_epoch),
                  "seconds": round(time.time() - started, 2), "train_examples": len(train), "val_examples": len(val)}
        log.info("SL epoch %d: train loss %.4f, validation loss %.4f, top-1 %.4f", epoch + 1, train_loss, val_loss,
                 val_top1)
        metrics = {"val_top1": val_top1, "val_loss": val_loss, "train_loss": train_loss}
        if val_top1 > best_top1:
            best_top1 = val_top1
            checkpoint.save(best_path, net, net_config, stage="sl", step=epoch + 1, metrics=metrics)
        # Metrics first: a stop before the resume point is written redoes the epoch, and resuming drops the
        # metric lines of epochs after the resume point, so no epoch is ever counted twice.
        append_metrics(run_dir, record)
        save_resume_point(resume_dir, "sl", epoch + 1, net, net_config, optimizer,
                          {"best_val_top1": best_top1}, stage="sl")

    rollout_path, rollout_top1 = None, None
    if config.rollout_epochs > 0:
        train_games = sorted(set(train.games.tolist()))
        val_games = sorted(set(val.games.tolist()))
        rollout_path, rollout_top1 = train_rollout(
            [games[i] for i in train_games], [games[i] for i in val_games], layout.rollout,
            board_size=config.board_size, positions=config.rollout_positions, epochs=config.rollout_epochs,
            lr=config.rollout_lr, rng=rng, progress=progress)
        append_metrics(run_dir, {"stage": "rollout", "val_top1": rollout_top1})
    return SLResult(best_path, rollout_path, best_top1, rollout_top1)


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def _tensors(x: np.ndarray, legal: np.ndarray, moves: np.ndarray, device: torch.device):
    return (torch.from_numpy(x).to(device, torch.float32, non_blocking=True),
            torch.from_numpy(legal).to(device), torch.from_numpy(moves).to(device))


def policy_loss(net: torch.nn.Module, x: torch.Tensor, legal: torch.Tensor, moves: torch.Tensor,
                precision: str = "fp32") -> torch.Tensor:
    """Mean cross-entropy of the expert's moves over the legal moves; the forward pass under bf16 autocast with
    ``precision="bf16"`` (the log-softmax and the loss in float32 either way)."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits = net(x)
    return F.nll_loss(masked_log_softmax(logits.float(), legal), moves)


def _train_epoch(net, optimizer, learning_rate, step: int, train: Examples, config: SLConfig,
                 rng: np.random.Generator, device: torch.device, epoch: int, progress: bool) -> float:
    net.train()
    total, count = 0.0, 0
    bar = tqdm(total=len(train), desc=f"sl epoch {epoch + 1}/{config.epochs}", unit="ex", disable=not progress,
               leave=False)
    for index in _batches(len(train), config.batch_size, rng):
        x, legal, moves = train.planes[index], train.legal[index], train.moves[index]
        if config.symmetries:
            x, legal, moves = augment(x, legal, moves, rng)
        x_t, legal_t, moves_t = _tensors(x, legal, moves, device)
        loss = policy_loss(net, x_t, legal_t, moves_t, config.precision)
        if not torch.isfinite(loss):
            raise TrainingError(f"SL loss became {loss.item()} in epoch {epoch + 1}: stopped, nothing saved for this "
                                f"epoch (try a lower sl.lr)")
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        total += loss.item() * len(index)
        count += len(index)
        bar.update(len(index))
        bar.set_postfix(loss=f"{total / count:.3f}")
    bar.close()
    return total / max(count, 1)


@torch.no_grad()
def evaluate(net, examples: Examples, batch_size: int, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy over the legal moves and top-1 accuracy (the most likely legal move is the expert's)."""
    net.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(examples), batch_size):
        sl = slice(start, start + batch_size)
        x_t, legal_t, moves_t = _tensors(examples.planes[sl], examples.legal[sl], examples.moves[sl], device)
        logp = masked_log_softmax(net(x_t), legal_t)
        total_loss += F.nll_loss(logp, moves_t, reduction="sum").item()
        correct += (logp.argmax(dim=1) == moves_t).sum().item()
    n = max(len(examples), 1)
    return total_loss / n, correct / n
