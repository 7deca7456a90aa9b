"""Stage 3: the value network, fit by TD(1) regression on positions sampled one per self-play game.

The data follow the paper (Silver et al. 2016): for each game draw U uniformly from 1..U_max; the SL policy
plays moves 1..U-1 (both colours, sampling), move U is a uniformly random legal move, and the RL policy plays
the rest of the game. Only s_{U+1}, the position after the random move, is kept, with the outcome z from
the view of the player to move there: one position per game, because the positions of one game are so
alike that training on all of them overfits (the paper: MSE 0.19 train / 0.37 test on whole games, 0.226 /
0.234 with one per game). ``positions_per_game = "all"`` keeps every position from s_{U+1} on instead, to
reproduce that gap.

Games are made by the self-play workers in chunks; each chunk is written at once as a shard
``RUN/data/value_XXXXX.npz`` (atomically), so a stopped run keeps its shards and makes only the missing ones.
The ValueNet is then trained by MSE with a random board symmetry per example and a validation split by game;
the best epoch by validation MSE is ``RUN/checkpoints/value.safetensors``. After every epoch a resume point
``RUN/checkpoints/resume/value_EPOCH.safetensors`` (+ optimizer; the last two kept) is written, so a stopped
run trains only the epochs it had not finished and logs each epoch once.
"""

from __future__ import annotations

import io
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
from models.features import N_SYMMETRIES, planes, transform
from models.losses import value_mse
from models.nets import NetConfig, build
from selfplay.resume import latest_resume_point, save_resume_point, truncate_metrics
from selfplay.rl import require, worker_count
from selfplay.samples import save_samples
from selfplay.sl import TrainingError, append_metrics, resolve_device
from selfplay.workers import GameTask, SelfPlayGame, WorkerPool, split_tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValueConfig:
    """Stage 3 settings. Filled from a preset's ``[value]`` table and ``--set value.FIELD=VALUE``."""

    games: int = 20_000
    """Self-play games to sample positions from (one position each by default)."""
    u_max: int = 0
    """U is drawn from 1..u_max; 0 means three quarters of the board's points (about a game's length)."""
    positions_per_game: str = "one"
    """``one`` (the paper's scheme) or ``all`` (every position from s_{U+1} on: the overfitting comparison)."""
    games_per_shard: int = 512
    """Games per data shard (the unit that a stopped run keeps)."""
    validation: float = 0.1
    """Fraction of the games held out for validation."""
    sample_games: int = 2
    """Games of each shard also written as SGF to ``RUN/games/value/`` (to look at; not used in training)."""
    filters: int = 0
    """Channels of the value net's trunk (0: as the SL policy)."""
    blocks: int = 0
    """Residual blocks of the value net (0: as the SL policy)."""
    init: str = "rl"
    """The value net's trunk starts as the RL policy's (``rl``) or from random weights (``scratch``): with
    thousands of positions rather than the paper's 30 million, the policy's features are most of what it knows."""
    epochs: int = 10
    """Passes over the training positions."""
    batch_size: int = 256
    """Positions per gradient step."""
    lr: float = 1e-3
    """AdamW learning rate, cosine-decayed to 5%."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""
    workers: int = 0
    """Self-play worker processes (0: one per core)."""
    seed: int = 0
    """Seed of U, the random moves and the sampling."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""

    def __post_init__(self) -> None:
        for name in ("games", "games_per_shard", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"value.{name} = {getattr(self, name)!r} must be at least 1")
        if self.init not in ("rl", "scratch"):
            raise ValueError(f"value.init = {self.init!r}: expected rl or scratch")
        if self.positions_per_game not in ("one", "all"):
            raise ValueError(f"value.positions_per_game = {self.positions_per_game!r}: expected one or all")
        if not 0 < self.validation < 1:
            raise ValueError(f"value.validation = {self.validation!r} must be between 0 and 1")
        if self.sample_games < 0:
            raise ValueError(f"value.sample_games = {self.sample_games} must be 0 or more")
        if self.u_max < 0 or self.filters < 0 or self.blocks < 0 or self.workers < 0:
            raise ValueError("value.u_max, value.filters, value.blocks and value.workers must be >= 0")
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise ValueError(f"value.lr = {self.lr!r} must be a positive number")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"value.device = {self.device!r}: expected auto, cpu or cuda")


@dataclass
class ValueResult:
    value: Path
    val_mse: float
    train_mse: float


def value_tasks(first: int, count: int, u_max: int, seed: int) -> list[GameTask]:
    """Games ``first .. first+count-1`` of the value-data scheme, each with its own U."""
    return [GameTask(i, black="sl", white="sl", before="sl", after="rl",
                     random_move_at=int(np.random.default_rng([seed, i]).integers(1, u_max + 1)))
            for i in range(first, first + count)]


def positions_of(game: SelfPlayGame, rules: Rules, feature_set: str, every: bool) -> tuple[list, list]:
    """Planes and outcomes (for the player to move) of s_{U+1} (and, with ``every``, all later positions)."""
    positions = game.positions(rules)
    u = game.random_move_at
    if len(game.moves) < u:  # the game ended before the random move: no s_{U+1}
        return [], []
    chosen = positions[u:-1] if every else [positions[u]]
    xs = [planes(p, feature_set).astype(np.uint8) for p in chosen]
    zs = [float(np.sign(game.score) * p.to_play) for p in chosen]
    return xs, zs


def make_data(config: ValueConfig, run_dir: Path, rules: Rules, feature_set: str, checkpoints: dict[str, str],
              progress: bool) -> list[Path]:
    """Write the missing shards of the value data; returns every shard path."""
    data_dir = run_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    u_max = config.u_max or max(1, (3 * rules.size * rules.size) // 4)
    shards = math.ceil(config.games / config.games_per_shard)
    paths = [data_dir / f"value_{config.positions_per_game}_{k:05d}.npz" for k in range(shards)]
    _check_manifest(data_dir / f"value_{config.positions_per_game}.json",
                    {"seed": config.seed, "u_max": u_max, "games_per_shard": config.games_per_shard,
                     "board_size": rules.size, "feature_set": feature_set})
    missing = [k for k, p in enumerate(paths) if not p.exists()]
    if not missing:
        return paths
    workers = worker_count(config.workers)
    bar = tqdm(total=config.games, initial=(shards - len(missing)) * config.games_per_shard, desc="value data",
               unit="game", disable=not progress)
    with WorkerPool(workers) as pool:
        for k in missing:
            first = k * config.games_per_shard
            count = min(config.games_per_shard, config.games - first)
            tasks = split_tasks(value_tasks(first, count, u_max, config.seed), workers, checkpoints, rules,
                                config.seed, k * workers)
            games = [g for r in pool.run(tasks) for g in r.games]
            xs, zs, ids = [], [], []
            for game in games:
                x, z = positions_of(game, rules, feature_set, config.positions_per_game == "all")
                xs += x
                zs += z
                ids += [game.index] * len(x)
            save_samples(games, run_dir / "games" / "value", f"shard_{k:05d}", rules,
                         {key: Path(path).stem for key, path in checkpoints.items()}, config.sample_games)
            buffer = io.BytesIO()
            np.savez_compressed(buffer, planes=np.stack(xs) if xs else np.zeros((0,), np.uint8),
                                z=np.asarray(zs, np.float32), games=np.asarray(ids, np.int64))
            write_atomic(paths[k], buffer.getvalue())
            bar.update(count)
    bar.close()
    return paths


def _check_manifest(path: Path, wanted: dict[str, object]) -> None:
    """Refuse shards made under other settings: shard k holds games k*games_per_shard.. drawn from the seed, so
    shards of another seed, U range, shard size, board or feature set would be mixed in silently. Shards from
    before manifests existed are taken as they are, and the manifest is written."""
    if path.is_file():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrainingError(f"{path} cannot be read ({exc}): delete it and the shards beside it, or use a new "
                                "run folder") from None
        changed = [f"{key} {found.get(key)!r} -> {value!r}" for key, value in wanted.items() if found.get(key) != value]
        if changed:
            raise TrainingError(f"{path.parent} holds value shards made with other settings ({', '.join(changed)}): "
                                "use a new run folder, or delete those shards to remake them")
        return
    write_atomic(path, (json.dumps(wanted, indent=1) + "\n").encode("utf-8"))


def load_shards(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, zs, ids = [], [], []
    for path in paths:
        with np.load(path) as shard:
            if len(shard["z"]):
                xs.append(shard["planes"])
                zs.append(shard["z"])
                ids.append(shard["games"])
    if not xs:
        raise TrainingError("the value data holds no positions (every game ended before its random move?)")
    return np.concatenate(xs), np.concatenate(zs), np.concatenate(ids)


def initial_net(net_config: NetConfig, init: str, rl_path: Path) -> torch.nn.Module:
    """A fresh value net; with ``init == "rl"`` its trunk is a copy of the RL policy's (which must match it)."""
    net = build(net_config)
    if init == "rl":
        rl_net = checkpoint.load(rl_path, kind="policy")
        if (rl_net.config.filters, rl_net.config.blocks) != (net_config.filters, net_config.blocks):
            raise TrainingError(f"value.init = rl needs the value net's trunk to match the RL policy's "
                                f"({rl_net.config.filters} filters x {rl_net.config.blocks} blocks): set "
                                f"value.filters and value.blocks to 0, or value.init = scratch")
        net.trunk.load_state_dict(rl_net.net.trunk.state_dict())
    return net


def run(config: ValueConfig, run_dir: str | os.PathLike[str], progress: bool = True) -> ValueResult:
    """Make the value data (SL then random then RL) and fit the value net into ``run_dir``."""
    run_dir = Path(run_dir)
    ckpt_dir = run_dir / "checkpoints"
    sl_path = require(ckpt_dir / "sl_policy.safetensors", "sl", run_dir)
    rl_path = require(ckpt_dir / "rl_policy.safetensors", "rl", run_dir)
    sl = checkpoint.load(sl_path, kind="policy")
    rules = Rules(size=sl.config.board_size)
    feature_set = sl.config.feature_set
    device = resolve_device(config.device)
    paths = make_data(config, run_dir, rules, feature_set, {"sl": str(sl_path), "rl": str(rl_path)}, progress)
    x, z, games = load_shards(paths)
    rng = np.random.default_rng(config.seed)
    game_ids = np.unique(games)
    held = rng.choice(game_ids, size=max(1, round(len(game_ids) * config.validation)), replace=False)
    is_val = np.isin(games, held)
    train_idx, val_idx = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    log.info("value: %d training / %d validation positions from %d games", len(train_idx), len(val_idx),
             len(game_ids))

    net_config = NetConfig(kind="value", board_size=rules.size, feature_set=feature_set,
                           filters=config.filters or sl.config.filters, blocks=config.blocks or sl.config.blocks)
    torch.manual_seed(config.seed)  # the same initial net every time: a resumed run equals an uninterrupted one
    net = initial_net(net_config, config.init, rl_path)
    net = net.to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(train_idx) / config.batch_size))
    total = steps_per_epoch * config.epochs
    best_path = ckpt_dir / "value.safetensors"
    # Resume points as in selfplay.sl: without them a run stopped in epoch k trained again from epoch 1 and
    # appended epochs 1..k to metrics.jsonl a second time.
    resume_dir = ckpt_dir / "resume"
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
            xb = torch.from_numpy(transform(x[index], k)).to(device, torch.float32)
            loss = value_mse(net(xb), torch.from_numpy(z[index]).to(device))
            if not torch.isfinite(loss):
                raise TrainingError(f"value loss became {loss.item()} in epoch {epoch + 1}: stopped; the last good "
                                    f"value net is {best_path}")
            for group in optimizer.param_groups:
                group["lr"] = config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        train_mse = _mse(net, x, z, train_idx, device)
        val_mse = _mse(net, x, z, val_idx, device)
        record = {"stage": "value", "epoch": epoch + 1, "train_mse": train_mse, "val_mse": val_mse,
                  "positions_per_game": config.positions_per_game, "seconds": round(time.time() - started, 2)}
        log.info("value epoch %d: train MSE %.4f, validation MSE %.4f", epoch + 1, train_mse, val_mse)
        if val_mse < best[0]:
            best = (val_mse, train_mse)
            checkpoint.save(best_path, net, net_config, stage="value", step=epoch + 1, parent=str(rl_path),
                            metrics={"val_mse": val_mse, "train_mse": train_mse})
        # Metrics first, then the resume point: a stop between them redoes the epoch, and resuming drops its line.
        append_metrics(run_dir, record)
        save_resume_point(resume_dir, "value", epoch + 1, net, net_config, optimizer,
                          {"best_val_mse": best[0], "best_train_mse": best[1]}, stage="value")
    write_atomic(ckpt_dir / "value_state.json", json.dumps({"val_mse": best[0], "train_mse": best[1]}).encode())
    return ValueResult(best_path, best[0], best[1])


@torch.no_grad()
def _mse(net, x: np.ndarray, z: np.ndarray, index: np.ndarray, device: torch.device, batch: int = 1024) -> float:
    net.eval()
    total = 0.0
    for start in range(0, len(index), batch):
        idx = index[start:start + batch]
        predicted = net(torch.from_numpy(x[idx]).to(device, torch.float32))
        total += float(((predicted - torch.from_numpy(z[idx]).to(device)) ** 2).sum())
    return total / max(len(index), 1)
