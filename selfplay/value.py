"""Stage 3: the value network, fit by TD(1) regression on positions of self-play games.

The games are the paper's (Silver et al. 2016; ``selfplay.value_data``): the SL policy to move U-1, a random
move U, the RL policy to the end. The paper kept only s_{U+1} of each game, because the positions of one game
are so alike that training on all of them overfits (MSE 0.19 train / 0.37 test on whole games, 0.226 / 0.234
with one per game). At this project's scale the net underfits instead, so ``positions_per_game = k`` keeps
s_{U+1} and k - 1 later positions of the same game (``"all"``: every one, the overfitting comparison).

Besides the outcome the net can learn the final margin and the final owner of every point (``heads``), as
KataGo does. ``score_weight`` / ``ownership_weight`` set how much each shapes the shared trunk; at 0 the head
reads the trunk without sending gradient into it: it still learns (the ownership map is a feature of the
window and GTP) and the outcome head trains exactly as without it.

The ValueNet is trained with a random board symmetry per batch and a validation split by game; the best epoch
by validation MSE on s_{U+1} (comparable whatever ``positions_per_game``) is ``RUN/checkpoints/value.safetensors``.
After every epoch a resume point ``RUN/checkpoints/resume/value_EPOCH.safetensors`` (+ optimizer; the last two
kept) is written, so a stopped run trains only the epochs it had not finished and logs each epoch once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from minigo.atomic import write_atomic
from minigo.go import Rules
from models import checkpoint
from models.features import N_SYMMETRIES, transform
from models.losses import ownership_loss, score_mse, value_mse
from models.nets import NetConfig, build
from models.run_layout import RunLayout
from selfplay import value_data
from selfplay.farm import FarmConfig, worker_count
from selfplay.resume import latest_resume_point, save_resume_point, truncate_metrics
from selfplay.run_folder import TrainingError, append_metrics, require, resolve_device
from selfplay.samples import save_samples
from selfplay.value_data import ValueExamples, value_tasks
from selfplay.workers import WorkerPool, split_tasks

log = logging.getLogger(__name__)

HEADS = ("score", "ownership")

@dataclass(frozen=True)
class ValueConfig:
    """Stage 3 settings. Filled from a preset's ``[value]`` table and ``--set value.FIELD=VALUE``."""

    games: int = 20_000
    """Self-play games of the value-data scheme to draw positions from."""
    u_max: int | None = None
    """U is drawn from 1..u_max; unset: three quarters of the board's points (about a game's length)."""
    positions_per_game: int | str = 1
    """Positions kept per game: s_{U+1} and k - 1 later ones (``one`` = 1, the paper's scheme), or ``all``
    (every position from s_{U+1} on: the overfitting comparison)."""
    spacing: str = "even"
    """How the later positions are chosen: ``even`` (spread evenly to the game's end) or ``random``."""
    games_per_shard: int = 512
    """Games per data shard (the unit that a stopped run keeps)."""
    validation: float = 0.1
    """Fraction of the games held out for validation."""
    sample_games: int = 2
    """Games of each shard also written as SGF to ``RUN/games/value/`` (to look at; not used in training)."""
    filters: int | None = None
    """Channels of the value net's trunk (unset: as the SL policy)."""
    blocks: int | None = None
    """Residual blocks of the value net (unset: as the SL policy)."""
    init: str = "rl"
    """The value net's trunk starts as the RL policy's (``rl``) or from random weights (``scratch``): with
    thousands of positions rather than the paper's 30 million, the policy's features are most of what it knows."""
    heads: str = "ownership"
    """Heads beside the outcome, comma-separated: ``score`` (the final margin), ``ownership`` (each point's
    final owner; the window and GTP show it), or ``none``."""
    score_weight: float = 0.0
    """Weight of the score loss in the trunk's gradient (0: the score head learns on its own)."""
    ownership_weight: float = 0.0
    """Weight of the ownership loss in the trunk's gradient (0: the ownership head learns on its own)."""
    epochs: int = 10
    """Passes over the training positions."""
    batch_size: int = 256
    """Positions per gradient step."""
    lr: float = 1e-3
    """AdamW learning rate, cosine-decayed to 5%."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""
    workers: int = 0
    """Self-play workers (0: one per core of this machine, or of the Ray cluster with ``farm.backend = "ray"``)."""
    games_per_task: int = 0
    """Games a worker plays per task, in one lockstep batch (0: each shard split evenly, one task per worker); as
    ``rl.games_per_task``, changing it changes the games."""
    seed: int = 0
    """Seed of U, the random moves, the sampling and the positions kept."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""

    def __post_init__(self) -> None:
        for name in ("games", "games_per_shard", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"value.{name} = {getattr(self, name)!r} must be at least 1")
        if self.init not in ("rl", "scratch"):
            raise ValueError(f"value.init = {self.init!r}: expected rl or scratch")
        count = self.positions_per_game
        if not (count in ("one", "all") or (isinstance(count, int) and not isinstance(count, bool) and count >= 1)):
            raise ValueError(f"value.positions_per_game = {count!r}: expected a count of at least 1, one or all")
        if self.spacing not in value_data.SPACINGS:
            raise ValueError(f"value.spacing = {self.spacing!r}: expected one of {', '.join(value_data.SPACINGS)}")
        unknown = [h for h in self.head_names if h not in HEADS]
        if unknown or not self.heads.strip():
            raise ValueError(f"value.heads = {self.heads!r}: expected none or a comma-separated list of "
                             f"{', '.join(HEADS)}")
        for name in ("score_weight", "ownership_weight"):
            weight = getattr(self, name)
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"value.{name} = {weight!r} must be a number >= 0")
            if weight > 0 and name.removesuffix("_weight") not in self.head_names:
                raise ValueError(f"value.{name} = {weight!r} needs the {name.removesuffix('_weight')} head: add it "
                                 "to value.heads")
        if not 0 < self.validation < 1:
            raise ValueError(f"value.validation = {self.validation!r} must be between 0 and 1")
        if self.sample_games < 0:
            raise ValueError(f"value.sample_games = {self.sample_games} must be 0 or more")
        for name, low in (("u_max", 1), ("filters", 1), ("blocks", 0)):
            if getattr(self, name) is not None and getattr(self, name) < low:
                raise ValueError(f"value.{name} = {getattr(self, name)!r} must be at least {low} (or unset: automatic)")
        if self.workers < 0:
            raise ValueError(f"value.workers = {self.workers!r} must be 0 (one per core) or more")
        if self.games_per_task < 0:
            raise ValueError(f"value.games_per_task = {self.games_per_task!r} must be 0 (one task per worker) or more")
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise ValueError(f"value.lr = {self.lr!r} must be a positive number")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"value.device = {self.device!r}: expected auto, cpu or cuda")

    @property
    def head_names(self) -> tuple[str, ...]:
        """The extra heads asked for (empty for ``none``)."""
        names = tuple(h.strip() for h in self.heads.split(",") if h.strip())
        return () if names == ("none",) else names

    @property
    def count(self) -> int | str:
        """``positions_per_game`` as a count or ``"all"``."""
        return 1 if self.positions_per_game == "one" else self.positions_per_game


@dataclass
class ValueResult:
    value: Path
    val_mse: float
    train_mse: float


def make_games(config: ValueConfig, run_dir: Path, rules: Rules, checkpoints: dict[str, str],
               progress: bool, farm: FarmConfig | None = None) -> list[Path]:
    """Play (on ``farm``) and write the missing shards of value-data games; returns every shard path."""
    data_dir = RunLayout(run_dir).data
    u_max = config.u_max or max(1, (3 * rules.size * rules.size) // 4)
    paths = value_data.shard_paths(data_dir, config.games, config.games_per_shard)
    value_data.check_manifest(data_dir, {"seed": config.seed, "u_max": u_max, "games_per_shard": config.games_per_shard,
                                         "board_size": rules.size, "komi": rules.komi, "ko": rules.ko})
    missing = [k for k, p in enumerate(paths) if not p.exists()]
    if not missing:
        return paths
    workers = worker_count(config.workers, farm)
    bar = tqdm(total=config.games, initial=(len(paths) - len(missing)) * config.games_per_shard, desc="value data",
               unit="game", disable=not progress)
    with WorkerPool(workers, farm=farm) as pool:
        for k in missing:
            first = k * config.games_per_shard
            count = min(config.games_per_shard, config.games - first)
            tasks = split_tasks(value_tasks(first, count, u_max, config.seed), workers, checkpoints, rules,
                                config.seed, k * workers, config.games_per_task)
            games = [g for r in pool.run(tasks) for g in r.games]
            save_samples(games, RunLayout(run_dir).games("value"), f"shard_{k:05d}", rules,
                         {key: Path(path).stem for key, path in checkpoints.items()}, config.sample_games)
            value_data.save_games(paths[k], games)
            bar.update(count)
    bar.close()
    return paths


def net_config_for(config: ValueConfig, sl_config: NetConfig) -> NetConfig:
    return NetConfig(kind="value", board_size=sl_config.board_size, feature_set=sl_config.feature_set,
                     filters=config.filters or sl_config.filters,
                     blocks=sl_config.blocks if config.blocks is None else config.blocks,
                     score_head="score" in config.head_names, ownership_head="ownership" in config.head_names)


def initial_net(net_config: NetConfig, init: str, rl_path: Path) -> torch.nn.Module:
    """A fresh value net; with ``init == "rl"`` its trunk is a copy of the RL policy's (which must match it)."""
    net = build(net_config)
    if init == "rl":
        rl_net = checkpoint.load(rl_path, kind="policy")
        if (rl_net.config.filters, rl_net.config.blocks) != (net_config.filters, net_config.blocks):
            raise TrainingError(f"value.init = rl needs the value net's trunk to match the RL policy's "
                                f"({rl_net.config.filters} filters x {rl_net.config.blocks} blocks): leave "
                                f"value.filters and value.blocks unset, or set value.init = scratch")
        net.trunk.load_state_dict(rl_net.net.trunk.state_dict())
    return net


def batch_loss(net: torch.nn.Module, data: ValueExamples, index: np.ndarray, symmetry: int, config: ValueConfig,
               device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted loss of one batch under board symmetry ``symmetry``, and each head's own loss."""
    xb = torch.from_numpy(transform(data.planes[index], symmetry)).to(device, torch.float32)
    z = torch.from_numpy(data.z[index]).to(device)
    if not config.head_names:
        loss = value_mse(net(xb), z)
        return loss, {"value": loss}
    detach = tuple(h for h in config.head_names if getattr(config, f"{h}_weight") == 0)
    out = net.heads(xb, detach=detach)
    losses = {"value": value_mse(out["value"], z)}
    if net.config.score_head:
        losses["score"] = score_mse(out["score"], torch.from_numpy(data.score[index]).to(device))
    if net.config.ownership_head:
        size = net.config.board_size
        owners = transform(data.ownership[index].reshape(-1, size, size), symmetry).reshape(len(index), -1)
        losses["ownership"] = ownership_loss(out["ownership_logit"], torch.from_numpy(owners).to(device, torch.float32))
    # A detached head's loss only trains that head, so it enters at weight 1; an attached one at its weight.
    loss = losses["value"]
    for head in config.head_names:
        weight = getattr(config, f"{head}_weight")
        loss = loss + (weight if weight > 0 else 1.0) * losses[head]
    return loss, losses


def run(config: ValueConfig, run_dir: str | os.PathLike[str], progress: bool = True,
        farm: FarmConfig | None = None) -> ValueResult:
    """Make the value data (SL then random then RL) on ``farm`` and fit the value net into ``run_dir``."""
    run_dir = Path(run_dir)
    layout = RunLayout(run_dir)
    sl_path = require(layout.sl_policy, "sl", run_dir)
    rl_path = require(layout.rl_policy, "rl", run_dir)
    sl = checkpoint.load(sl_path, kind="policy")
    rules = Rules(size=sl.config.board_size)
    feature_set = sl.config.feature_set
    device = resolve_device(config.device)
    paths = make_games(config, run_dir, rules, {"sl": str(sl_path), "rl": str(rl_path)}, progress, farm)
    games = value_data.load_games(paths)
    with tqdm(total=len(games), desc="value examples", unit="game", disable=not progress) as bar:
        data = value_data.load_examples(games, rules, feature_set, config.count, config.spacing, config.seed,
                                        bar.update)
    rng = np.random.default_rng(config.seed)
    game_ids = np.unique(data.games)
    held = rng.choice(game_ids, size=max(1, round(len(game_ids) * config.validation)), replace=False)
    is_val = np.isin(data.games, held)
    train_idx, val_idx = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    log.info("value: %d training / %d validation positions from %d games", len(train_idx), len(val_idx),
             len(game_ids))

    net_config = net_config_for(config, sl.config)
    torch.manual_seed(config.seed)  # the same initial net every time: a resumed run equals an uninterrupted one
    net = initial_net(net_config, config.init, rl_path)
    net = net.to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(train_idx) / config.batch_size))
    total = steps_per_epoch * config.epochs
    best_path = layout.value
    # Resume points as in selfplay.sl: without them a run stopped in epoch k trained again from epoch 1 and
    # appended epochs 1..k to metrics.jsonl a second time.
    resume_dir = layout.resume
    start_epoch, best = 0, (math.inf, math.inf)
    point = latest_resume_point(resume_dir, "value", optimizer, kind="value")
    if point is not None:
        net.load_state_dict(point.net_state)
        start_epoch = point.step
        best = (float(point.state["best_val_mse"]), float(point.state["best_train_mse"]))
        log.info("value: resuming after epoch %d from %s (best validation MSE %.4f)", start_epoch, point.path,
                 best[0])
    truncate_metrics(run_dir, "value", "epoch", start_epoch)
    for epoch in range(start_epoch, config.epochs):
        started = time.time()
        net.train()
        # One generator per epoch (not one for the whole run), so a resumed epoch draws what it drew the first time.
        epoch_rng = np.random.default_rng([config.seed, epoch + 1])
        step = epoch * steps_per_epoch
        order = epoch_rng.permutation(train_idx)
        for start in range(0, len(order), config.batch_size):
            index = order[start:start + config.batch_size]
            k = int(epoch_rng.integers(N_SYMMETRIES))  # one symmetry per batch: cheap, and over an epoch all appear
            loss, _ = batch_loss(net, data, index, k, config, device)
            if not torch.isfinite(loss):
                raise TrainingError(f"value loss became {loss.item()} in epoch {epoch + 1}: stopped; the last good "
                                    f"value net is {best_path}")
            for group in optimizer.param_groups:
                group["lr"] = config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        train = evaluate(net, data, train_idx, device)
        val = evaluate(net, data, val_idx, device)
        record = {"stage": "value", "epoch": epoch + 1, "train_mse": train["mse_first"], "val_mse": val["mse_first"],
                  "train_mse_all": train["mse"], "val_mse_all": val["mse"],
                  **{f"val_{key}": val[key] for key in ("score_mse", "ownership_loss") if key in val},
                  "positions_per_game": config.count, "seconds": round(time.time() - started, 2)}
        log.info("value epoch %d: MSE on s_{U+1} train %.4f, validation %.4f; on every kept position %.4f / %.4f",
                 epoch + 1, train["mse_first"], val["mse_first"], train["mse"], val["mse"])
        if val["mse_first"] < best[0]:
            best = (val["mse_first"], train["mse_first"])
            checkpoint.save(best_path, net, net_config, stage="value", step=epoch + 1, parent=str(rl_path),
                            metrics={"val_mse": best[0], "train_mse": best[1]})
        # Metrics first, then the resume point: a stop between them redoes the epoch, and resuming drops its line.
        append_metrics(run_dir, record)
        save_resume_point(resume_dir, "value", epoch + 1, net, net_config, optimizer,
                          {"best_val_mse": best[0], "best_train_mse": best[1]}, stage="value")
    write_atomic(layout.value_state, json.dumps({"val_mse": best[0], "train_mse": best[1]}).encode())
    return ValueResult(best_path, best[0], best[1])


@torch.no_grad()
def evaluate(net, data: ValueExamples, index: np.ndarray, device: torch.device, batch: int = 1024) -> dict[str, float]:
    """Mean losses over ``index``: the value MSE on every example (``mse``) and on the s_{U+1} ones
    (``mse_first``), and each extra head's own loss."""
    net.eval()
    sums = {"mse": 0.0, "mse_first": 0.0, "score_mse": 0.0, "ownership_loss": 0.0}
    has = net.config.score_head or net.config.ownership_head
    for start in range(0, len(index), batch):
        idx = index[start:start + batch]
        x = torch.from_numpy(data.planes[idx]).to(device, torch.float32)
        out = net.heads(x) if has else {"value": net(x)}
        error = (out["value"] - torch.from_numpy(data.z[idx]).to(device)) ** 2
        sums["mse"] += float(error.sum())
        sums["mse_first"] += float(error[torch.from_numpy(data.first[idx]).to(device)].sum())
        if "score" in out:
            sums["score_mse"] += float(score_mse(out["score"], torch.from_numpy(data.score[idx]).to(device))) * len(idx)
        if "ownership_logit" in out:
            owners = torch.from_numpy(data.ownership[idx]).to(device, torch.float32)
            sums["ownership_loss"] += float(ownership_loss(out["ownership_logit"], owners)) * len(idx)
    firsts = max(int(data.first[index].sum()), 1)
    result = {"mse": sums["mse"] / max(len(index), 1), "mse_first": sums["mse_first"] / firsts}
    if net.config.score_head:
        result["score_mse"] = sums["score_mse"] / max(len(index), 1)
    if net.config.ownership_head:
        result["ownership_loss"] = sums["ownership_loss"] / max(len(index), 1)
    return result
