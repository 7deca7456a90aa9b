"""Stage 2: REINFORCE with a baseline, the current policy against a pool of its past versions.

Letters as in the paper and the lecture notes: rho = the current policy's weights, z_t = +1 / -1 the outcome
from the view of the player who moved at step t, b(s_t) = the baseline. Each iteration:

1. draw an opponent uniformly from the pool (the SL policy first, then a snapshot of the current policy every
   ``pool_every`` iterations);
2. play ``games_per_iteration`` games, current vs opponent, colours alternating, both sampling their moves;
3. step along ``sum_games sum_t (z_t - b(s_t)) grad log pi(a_t|s_t) / games`` over the current policy's moves
   only (``models.losses.reinforce_loss``); the baseline is a value net trained alongside on the same
   positions by TD(1) regression (``value``), the batch's mean outcome (``mean``), or nothing (``none``).

By default the workers play iteration k+1 with the weights from before iteration k's update while the parent
trains on iteration k (one iteration of staleness, which keeps the cores busy); ``sync = true`` alternates
strictly. Logged per iteration: win rate against the drawn opponent, policy entropy, gradient norm, game
length; every ``eval_every`` iterations the win rate against the SL policy.

Files (under ``RUN/checkpoints``): ``rl_policy.safetensors`` after every iteration, and the resume points
``resume/rl_ITERATION.safetensors`` (+ optimizer, the pool in its metadata; the last two kept), so a stopped
run resumes at the next iteration; ``rl_weights/`` the weights each iteration's games were
played with; ``rl_pool/`` the snapshots that joined the pool; ``rl_baseline.safetensors``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from minigo.go import Rules
from models import checkpoint
from models.features import planes
from models.losses import reinforce_loss, value_mse
from models.nets import NetConfig, build, masked_log_softmax
from models.run_layout import RunLayout
from selfplay.farm import FarmConfig, worker_count
from selfplay.resume import latest_resume_point, save_resume_point, truncate_metrics
from selfplay.run_folder import TrainingError, append_metrics, require, resolve_device
from selfplay.samples import save_samples
from selfplay.workers import SelfPlayGame, SelfPlayTask, WorkerPool, sampling_mask, split_tasks

log = logging.getLogger(__name__)

BASELINES = ("value", "mean", "none")


@dataclass(frozen=True)
class RLConfig:
    """Stage 2 settings. Filled from a preset's ``[rl]`` table and ``--set rl.FIELD=VALUE``."""

    iterations: int = 100
    """Policy-gradient iterations."""
    games_per_iteration: int = 128
    """Games per iteration (the paper's minibatch of 128 games)."""
    pool_every: int = 10
    """The current policy joins the opponent pool every this many iterations (paper: 500)."""
    eval_every: int = 20
    """Play the SL policy every this many iterations (and at the end) to measure progress."""
    eval_games: int = 100
    """Games of each evaluation against the SL policy."""
    sample_games: int = 2
    """Games of each iteration also written as SGF to ``RUN/games/rl/`` (to look at; not used in training)."""
    lr: float = 1e-4
    """Adam learning rate of the policy."""
    baseline: str = "value"
    """``value`` (a value net trained alongside), ``mean`` (the batch's mean outcome) or ``none``."""
    baseline_lr: float = 1e-3
    """Adam learning rate of the baseline value net."""
    max_grad_norm: float = 5.0
    """Gradients are clipped to this norm (its size before clipping is logged)."""
    workers: int = 0
    """Self-play workers (0: one per core of this machine, or of the Ray cluster with ``farm.backend = "ray"``)."""
    games_per_task: int = 0
    """Games a worker plays per task, in one lockstep batch (0: the iteration's games split evenly, one task per
    worker). A cluster wants several tasks per worker for balance; a task's games are seeded by its first game,
    so changing this changes the games."""
    sync: bool = False
    """Alternate playing and training strictly instead of overlapping them (one iteration stale)."""
    seed: int = 0
    """Seed of the opponents drawn and of every game."""
    device: str = "auto"
    """Where the parent trains: ``auto`` (CUDA when present), ``cpu`` or ``cuda``."""

    def __post_init__(self) -> None:
        for name in ("iterations", "games_per_iteration", "pool_every", "eval_every", "eval_games"):
            if getattr(self, name) < 1:
                raise ValueError(f"rl.{name} = {getattr(self, name)!r} must be at least 1")
        if self.sample_games < 0:
            raise ValueError(f"rl.sample_games = {self.sample_games} must be 0 or more")
        if self.baseline not in BASELINES:
            raise ValueError(f"rl.baseline = {self.baseline!r}: expected one of {', '.join(BASELINES)}")
        for name in ("lr", "baseline_lr", "max_grad_norm"):
            value = getattr(self, name)
            if not value > 0 or not math.isfinite(value):
                raise ValueError(f"rl.{name} = {value!r} must be a positive number")
        if self.workers < 0:
            raise ValueError(f"rl.workers = {self.workers} must be 0 (one per core) or more")
        if self.games_per_task < 0:
            raise ValueError(f"rl.games_per_task = {self.games_per_task} must be 0 (one task per worker) or more")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"rl.device = {self.device!r}: expected auto, cpu or cuda")


@dataclass
class RLResult:
    policy: Path
    win_rate_vs_sl: float | None


@dataclass
class Batch:
    """The current policy's moves of a set of games, ready for the gradient."""

    x: np.ndarray  # (T, P, S, S) uint8
    legal: np.ndarray  # (T, S*S+1) bool
    moves: np.ndarray  # (T,) int64
    z: np.ndarray  # (T,) float32, +1 / -1 / 0 from the mover's view
    games: int


def current_moves(games: list[SelfPlayGame], key: str, rules: Rules, feature_set: str) -> Batch:
    """The positions where policy ``key`` moved, the move it chose, and the outcome from its view."""
    x, legal, moves, z = [], [], [], []
    for game in games:
        positions = game.positions(rules)
        for position, move in zip(positions[:-1], game.moves, strict=True):
            mover = game.black if position.to_play == 1 else game.white
            if mover != key:
                continue
            x.append(planes(position, feature_set).astype(np.uint8))
            mask = sampling_mask(position)
            mask[move] = True  # a pass sampled as the last resort (nothing else had probability)
            legal.append(mask)
            moves.append(move)
            z.append(float(np.sign(game.score) * position.to_play))
    size = rules.size
    if not x:
        return Batch(np.zeros((0, 1, size, size), np.uint8), np.zeros((0, size * size + 1), bool),
                     np.zeros(0, np.int64), np.zeros(0, np.float32), len(games))
    return Batch(np.stack(x), np.stack(legal), np.asarray(moves, np.int64), np.asarray(z, np.float32), len(games))


def match_tasks(first_index: int, games: int, a: str, b: str) -> list[SelfPlayTask]:
    """``games`` games of ``a`` against ``b``, ``a`` taking Black in the even ones."""
    return [SelfPlayTask(first_index + g, black=a if g % 2 == 0 else b, white=b if g % 2 == 0 else a)
            for g in range(games)]


def draw_opponent(pool: list[str], seed: int, iteration: int) -> str:
    """The opponent of ``iteration``: uniform over the pool, reproducible from the run seed."""
    return pool[int(np.random.default_rng([seed, iteration]).integers(len(pool)))]


def win_rate(games: list[SelfPlayGame], key: str) -> float:
    """Share of ``games`` won by policy ``key`` (draws count half)."""
    points = 0.0
    for game in games:
        mine = 1 if game.black == key else -1
        points += 1.0 if game.winner == mine else 0.5 if game.winner == 0 else 0.0
    return points / max(len(games), 1)


def run(config: RLConfig, run_dir: str | os.PathLike[str], progress: bool = True,
        farm: FarmConfig | None = None) -> RLResult:
    """Train the RL policy into ``run_dir`` from its SL policy, resuming a stopped run; self-play on ``farm``."""
    run_dir = Path(run_dir)
    layout = RunLayout(run_dir)
    sl_path = require(layout.sl_policy, "sl", run_dir)
    device = resolve_device(config.device)
    sl = checkpoint.load(sl_path, kind="policy")
    net_config: NetConfig = sl.config
    rules = Rules(size=net_config.board_size)
    policy = build(net_config).to(device)
    policy.load_state_dict(sl.net.state_dict())
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    baseline_config = NetConfig(kind="value", board_size=net_config.board_size, feature_set=net_config.feature_set,
                                filters=max(16, net_config.filters // 2), blocks=max(1, net_config.blocks // 2))
    with torch.random.fork_rng(devices=[]):
        # the same initial baseline every time: two runs of one configuration train the same policy, whichever farm
        # plays their games (unseeded, b(s) started from other weights each run and the runs parted at iteration 1)
        torch.manual_seed(config.seed)
        baseline = build(baseline_config).to(device)
    baseline_optimizer = torch.optim.Adam(baseline.parameters(), lr=config.baseline_lr)

    policy_path = layout.rl_policy
    baseline_path = layout.rl_baseline
    resume_dir = layout.resume
    weights_dir = layout.rl_weights
    pool_dir = layout.rl_pool
    weights_dir.mkdir(parents=True, exist_ok=True)
    pool_dir.mkdir(parents=True, exist_ok=True)
    pool = [str(sl_path)]
    start = 0
    point = latest_resume_point(resume_dir, "rl", optimizer, kind="policy")
    if point is not None:
        policy.load_state_dict(point.net_state)
        start, pool = point.step, pool_from_state(point.state["pool"], run_dir)
        try:
            baseline.load_state_dict(checkpoint.load(baseline_path, kind="value").net.state_dict())
        except checkpoint.CheckpointError as exc:
            log.warning("RL baseline not restored (%s): it starts afresh", exc)
        log.info("RL: resuming after iteration %d from %s (pool of %d)", start, point.path, len(pool))
    truncate_metrics(run_dir, "rl", "iteration", start)
    if start >= config.iterations:
        return RLResult(policy_path, None)

    def weights_for(iteration: int) -> str:
        """Write the current weights as the ones iteration ``iteration``'s games are played with."""
        path = weights_dir / f"it_{iteration:05d}.safetensors"
        checkpoint.save(path, policy, net_config, stage="rl", step=iteration, parent=str(sl_path))
        for old in sorted(weights_dir.glob("it_*.safetensors"))[:-3]:
            old.unlink(missing_ok=True)
        return str(path)

    def tasks_for(iteration: int, weights: str) -> tuple[list, str]:
        opponent = draw_opponent(pool, config.seed, iteration)
        games = match_tasks(iteration * config.games_per_iteration, config.games_per_iteration, "current",
                            "opponent")
        return split_tasks(games, workers, {"current": weights, "opponent": opponent}, rules, config.seed,
                           iteration * workers, config.games_per_task), opponent

    workers = worker_count(config.workers, farm)
    last_vs_sl = None
    bar = tqdm(total=config.iterations, initial=start, desc="rl", unit="it", disable=not progress)
    with WorkerPool(workers, farm=farm) as pool_procs, concurrent.futures.ThreadPoolExecutor(1) as background:
        tasks, opponent = tasks_for(start, weights_for(start))
        future = background.submit(pool_procs.run, tasks)
        for iteration in range(start, config.iterations):
            started = time.time()
            games = [g for r in future.result() for g in r.games]
            this_opponent = opponent
            if not config.sync and iteration + 1 < config.iterations:
                # One iteration stale: the next games use the weights from before this update.
                tasks, opponent = tasks_for(iteration + 1, weights_for(iteration + 1))
                future = background.submit(pool_procs.run, tasks)
            batch = current_moves(games, "current", rules, net_config.feature_set)
            stats = _update(policy, optimizer, baseline, baseline_optimizer, batch, config, device)
            if not all(math.isfinite(v) for v in stats.values()):
                raise TrainingError(f"RL loss became NaN in iteration {iteration + 1}: stopped; the last good "
                                    f"policy is {policy_path}")
            done = iteration + 1
            if done % config.pool_every == 0:
                snapshot = pool_dir / f"it_{done:05d}.safetensors"
                checkpoint.save(snapshot, policy, net_config, stage="rl", step=done, parent=str(sl_path))
                pool.append(str(snapshot))
            names = {"current": f"rl_policy (iteration {done})", "opponent": Path(this_opponent).stem}
            save_samples(games, layout.games("rl"), f"it_{done:05d}", rules, names, config.sample_games)
            lengths = [len(g.moves) for g in games]
            record = {"stage": "rl", "iteration": done, "win_rate": win_rate(games, "current"),
                      "opponent": Path(this_opponent).name, "game_length": float(np.mean(lengths)),
                      "moves_trained": len(batch.moves), **stats, "seconds": round(time.time() - started, 2)}
            if config.sync and done < config.iterations:
                tasks, opponent = tasks_for(done, weights_for(done))
                future = background.submit(pool_procs.run, tasks)
            if done % config.eval_every == 0 or done == config.iterations:
                eval_weights = weights_dir / "eval.safetensors"
                checkpoint.save(eval_weights, policy, net_config, stage="rl", step=done)
                if not config.sync and done < config.iterations:
                    future.result()  # two matches at once would only split the cores
                eval_games = match_tasks(10**9 + done * config.eval_games, config.eval_games, "rl", "sl")
                results = pool_procs.run(split_tasks(eval_games, workers, {"rl": eval_weights, "sl": sl_path}, rules,
                                                     config.seed + 1, 10**6 + done * workers, config.games_per_task))
                last_vs_sl = win_rate([g for r in results for g in r.games], "rl")
                record["win_rate_vs_sl"] = last_vs_sl
                log.info("RL iteration %d: win rate against the SL policy %.3f over %d games", done, last_vs_sl,
                         config.eval_games)
            checkpoint.save(policy_path, policy, net_config, stage="rl", step=done, parent=str(sl_path),
                            metrics={k: v for k, v in record.items() if isinstance(v, float)})
            checkpoint.save(baseline_path, baseline, baseline_config, stage="rl-baseline", step=done)
            append_metrics(run_dir, record)  # before the resume point: see selfplay.sl
            save_resume_point(resume_dir, "rl", done, policy, net_config, optimizer,
                              {"pool": pool_to_state(pool, run_dir)}, stage="rl")
            bar.update(1)
            bar.set_postfix(win=f"{record['win_rate']:.2f}", H=f"{stats['entropy']:.2f}")
    bar.close()
    return RLResult(policy_path, last_vs_sl)


def pool_to_state(pool: list[str], run_dir: Path) -> list[str]:
    """The opponent pool as a resume point keeps it: paths inside the run folder relative to it, so a run folder
    that was moved or renamed still resumes."""
    root = run_dir.resolve()
    return [str(Path(p).resolve().relative_to(root)) if Path(p).resolve().is_relative_to(root) else p for p in pool]


def pool_from_state(entries: list[str], run_dir: Path) -> list[str]:
    """The pool from a resume point. Relative entries are inside ``run_dir``; points written before that held
    paths relative to the working directory, which are found again in the run folder by name when it moved.
    Raises TrainingError naming a pool member that is gone."""
    layout = RunLayout(run_dir)
    pool = []
    for entry in entries:
        name = Path(entry).name
        candidates = [run_dir / entry] if not Path(entry).is_absolute() else []
        candidates += [Path(entry), layout.rl_pool / name, layout.checkpoints / name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise TrainingError(f"{run_dir}: stage 2's opponent pool lost {name} (looked in {layout.rl_pool}); "
                                f"delete {layout.resume}/rl_* to start stage 2 afresh")
        pool.append(str(found))
    return pool


def _update(policy, optimizer, baseline, baseline_optimizer, batch: Batch, config: RLConfig,
            device: torch.device, chunk: int = 512) -> dict[str, float]:
    """One policy-gradient step over the batch (in chunks, gradients accumulated); returns its statistics.

    The policy stays in eval mode: its batch norms keep the statistics the games were played with, so the
    gradient is that of the policy that acted (train mode would normalise by this batch's statistics and
    overwrite the running ones with self-play's, changing the policy beyond the gradient step).
    """
    policy.eval()
    baseline.train()
    optimizer.zero_grad(set_to_none=True)
    baseline_optimizer.zero_grad(set_to_none=True)
    total_entropy, total_value_loss, n = 0.0, 0.0, len(batch.moves)
    mean_z = float(batch.z.mean()) if n else 0.0
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        x = torch.from_numpy(batch.x[sl]).to(device, torch.float32)
        legal = torch.from_numpy(batch.legal[sl]).to(device)
        moves = torch.from_numpy(batch.moves[sl]).to(device)
        z = torch.from_numpy(batch.z[sl]).to(device)
        logp = masked_log_softmax(policy(x), legal)
        taken = logp.gather(1, moves[:, None]).squeeze(1)
        if config.baseline == "value":
            predicted = baseline(x)
            b = predicted.detach()
            value_loss = value_mse(predicted, z) * (len(moves) / n)
            value_loss.backward()
            total_value_loss += value_loss.item()
        elif config.baseline == "mean":
            b = torch.full_like(z, mean_z)
        else:
            b = None
        reinforce_loss(taken, z, b, normaliser=batch.games).backward()
        p = logp.exp()
        total_entropy += -(torch.where(legal, p * logp, torch.zeros_like(p))).sum().item()
    grad_norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)) if n else 0.0
    if n:
        optimizer.step()
        if config.baseline == "value":
            baseline_optimizer.step()
    return {"entropy": total_entropy / max(n, 1), "grad_norm": grad_norm, "baseline_mse": total_value_loss}
