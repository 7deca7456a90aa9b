"""The ``mcts:`` player kind: ``minigo.mcts`` search over a run's networks.

``mcts:RUN_OR_CKPT[,playouts=N][,seconds=S][,lambda=L][,c_puct=C][,fpu=F][,lcb=Z][,batch=B][,resign=V]
[,threads=T][,seed=N][,device=D][,precision=P]`` is built by ``mcts_player_from_spec``, which
``selfplay.player_kinds``'s table names (imported only when a spec asks for ``mcts``), so ``minigo`` itself stays
free of torch.

- ``RUN_OR_CKPT``: ``bundled`` (the trained 9x9 model shipped in the package, ``models.bundled``), a run
  folder, whose ``checkpoints/`` give the priors (``sl_policy.safetensors``, as in the paper: the SL policy
  searched better than the RL one), the value net (``value.safetensors``, optional) and the
  rollout policy (``rollout.safetensors``, optional: uniformly random rollouts without it); or a policy checkpoint
  file, with the rollout policy taken from ``rollout.safetensors`` beside it when there is one, and no value net.
- ``playouts`` (default 400) and/or ``seconds`` per move (with ``seconds`` alone, time decides);
  ``lambda``: the leaf's mix ``(1 - lambda) * v + lambda * z_rollout``, default 0.5 with a value net and 1
  (rollouts only) without one (``mcts:bundled``: ``models.bundled.BUNDLED_LAMBDA``, the mix measured best on its
  nets); a ``lambda`` below 1 needs a value net. ``lambda_end`` / ``lambda_moves`` (60):
  lambda rises (or falls) linearly with the leaf's move number from ``lambda`` to ``lambda_end`` at move
  ``lambda_moves``, so a value net weak in decided endings can leave them to rollouts. ``c_puct`` (2), ``fpu``
  (first-play urgency reduction, 0), ``lcb`` (choose the move by the lower confidence bound of its Q, this many
  standard errors down, among moves with a tenth of the top visits; 0, off), ``batch`` (leaves per network call,
  16), ``resign`` (resign when the chosen move's Q, in [-1, 1], falls below it; off by default), ``threads``
  (rollout threads, default 1), ``seed``, ``device`` (``cpu``, ``cuda``...; default ``cpu``), ``precision``
  (``fp32``, the default: the trained nets' outputs to float rounding; ``bf16``: bf16 autocast, 2-3x faster on
  CPUs with AVX512-BF16 or AMX, priors within ~0.01 of fp32's).

The networks sit behind ``CachedEvaluator``: one ``NetEvaluator`` call per batch of leaves, with the answers kept
by position so that a position met again (a transposition, a search after ``undo``) costs no network call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from minigo import players
from minigo.go import Position
from minigo.mcts import Evaluator, MCTSPlayer, SearchConfig
from minigo.players import PlayerSpec, PlayerSpecError
from minigo.rollout import NUM_FEATURES
from models import checkpoint
from models.bundled import BUNDLED_LAMBDA, bundled_run, is_bundled
from models.evaluator import NetEvaluator
from models.features import recent_moves
from models.inference import PRECISIONS
from models.run_layout import RunLayout

__all__ = ["CachedEvaluator", "RunNets", "load_nets", "make_mcts_player"]


class CachedEvaluator:
    """An ``Evaluator`` that remembers answers: only positions it has not seen go to ``evaluator``, in one call.

    The key is what the input planes read: the board (its Zobrist hash), the side to move, the ko point and the
    last four moves. (The search renormalises priors over each node's own legal moves, so a position reached
    with another superko history still gets exactly its legal moves.) At ``capacity`` entries the oldest go.
    """

    def __init__(self, evaluator: Evaluator, capacity: int = 50_000) -> None:
        self.evaluator = evaluator
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._cache: dict[tuple, tuple[np.ndarray, float]] = {}

    @property
    def board_size(self) -> int | None:
        return getattr(self.evaluator, "board_size", None)

    def clear(self) -> None:
        self._cache.clear()
        self.hits = self.misses = 0

    @staticmethod
    def key(position: Position) -> tuple:
        return (position.hash, position.to_play, position.ko, *recent_moves(position).tolist())

    def ownership(self, position: Position) -> np.ndarray | None:
        """The wrapped evaluator's ownership map (not cached: one call per question), or None."""
        ownership = getattr(self.evaluator, "ownership", None)
        return ownership(position) if callable(ownership) else None

    def evaluate(self, positions: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
        """Priors ``(B, size*size+1)`` and values ``(B,)`` for the player to move, as ``evaluator`` gives them."""
        keys = [self.key(p) for p in positions]
        found = [self._cache.get(k) for k in keys]
        missing = [i for i, entry in enumerate(found) if entry is None]
        self.hits += len(positions) - len(missing)
        self.misses += len(missing)
        if missing:
            priors, values = self.evaluator.evaluate([positions[i] for i in missing])
            for row, i in enumerate(missing):
                entry = (np.array(priors[row], dtype=np.float32), float(values[row]))
                found[i] = entry
                if len(self._cache) >= self.capacity:
                    del self._cache[next(iter(self._cache))]
                self._cache[keys[i]] = entry
        out_priors = np.stack([entry[0] for entry in found])  # (B, n+1)
        out_values = np.array([entry[1] for entry in found], dtype=np.float32)
        return out_priors, out_values


class RunNets:
    """The networks a search uses: the policy for priors, an optional value net, optional rollout weights."""

    def __init__(self, policy: checkpoint.Checkpoint, value: checkpoint.Checkpoint | None,
                 rollout_weights: np.ndarray | None) -> None:
        self.policy = policy
        self.value = value
        self.rollout_weights = rollout_weights

    @property
    def board_size(self) -> int:
        return self.policy.config.board_size


def load_nets(path: str | Path, device: str | torch.device = "cpu") -> RunNets:
    """The networks of a run folder (or of a policy checkpoint file and the rollout policy beside it).

    Raises ``checkpoint.CheckpointError`` (one line, naming the file) for a missing or unusable checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise checkpoint.CheckpointError(RunLayout(path).missing())
    if path.is_dir():
        layout = RunLayout(path)
        policy_path, value_path, rollout_path = layout.sl_policy, layout.value, layout.rollout
        if not policy_path.exists():
            raise checkpoint.CheckpointError(f"{path}: not a run folder with an SL policy ({policy_path} is missing)")
    else:
        policy_path, value_path, rollout_path = path, None, path.parent / "rollout.safetensors"
    policy = checkpoint.load(policy_path, kind="policy", device=device)
    size = policy.config.board_size
    value = None
    if value_path is not None and value_path.exists():
        value = checkpoint.load(value_path, kind="value", board_size=size, device=device)
    weights = None
    if rollout_path.exists():
        rollout = checkpoint.load(rollout_path, kind="rollout")
        if rollout.config.rollout_features != NUM_FEATURES:
            raise checkpoint.CheckpointError(f"{rollout_path}: a rollout policy over {rollout.config.rollout_features} "
                                             f"features; this minigo's rollouts use {NUM_FEATURES}")
        weights = rollout.net.weights.detach().cpu().numpy().astype(np.float64)  # (NUM_FEATURES + 1,)
    return RunNets(policy, value, weights)


def make_mcts_player(nets: RunNets, config: SearchConfig, *, seed: int | None = None, name: str = "mcts",
                     device: str | torch.device = "cpu", precision: str = "fp32") -> MCTSPlayer:
    """An ``MCTSPlayer`` over ``nets``, its evaluator batched and cached (``precision``: ``fp32`` or ``bf16``)."""
    evaluator = CachedEvaluator(NetEvaluator(nets.policy, nets.value, device=device, precision=precision))
    return MCTSPlayer(evaluator, config, rollout_weights=nets.rollout_weights, rng=np.random.default_rng(seed),
                      name=name, board_size=nets.board_size)


def mcts_player_from_spec(spec: PlayerSpec) -> players.Player:
    """The ``mcts:`` player kind (``selfplay.player_kinds``): a search over the networks ``spec.arg`` names."""
    if spec.arg is None:
        raise PlayerSpecError(f"{spec.text!r}: mcts needs a run folder or policy checkpoint, as mcts:PATH")
    playouts = spec.number("playouts", 1, 10**9, integer=True)
    seconds = spec.number("seconds", 1e-3, 1e6)
    mixing = spec.number("lambda", 0, 1)
    mixing_end = spec.number("lambda_end", 0, 1)
    mixing_moves = spec.number("lambda_moves", 1, 10**6, integer=True)
    c_puct = spec.number("c_puct", 0, 1e6)
    fpu = spec.number("fpu", 0, 2)
    lcb = spec.number("lcb", 0, 100)
    batch = spec.number("batch", 1, 4096, integer=True)
    resign = spec.number("resign", -1, 1)
    threads = spec.number("threads", 1, 256, integer=True)
    seed = spec.number("seed", 0, 2**63 - 1, integer=True)
    device = spec.options.get("device", "cpu")
    precision = spec.options.get("precision", "fp32")
    if precision not in PRECISIONS:
        raise PlayerSpecError(f"precision {precision!r} in {spec.text!r}: expected one of {', '.join(PRECISIONS)}")
    try:
        torch.device(device)
    except (RuntimeError, ValueError):
        raise PlayerSpecError(f"device {device!r} in {spec.text!r} is not a torch device (cpu, cuda...)") from None
    try:
        nets = load_nets(bundled_run() if is_bundled(spec.arg) else spec.arg, device=device)
    except checkpoint.CheckpointError as exc:
        raise PlayerSpecError(str(exc)) from None
    if mixing is None:
        if nets.value is None:
            mixing = 1.0
        else:
            mixing = BUNDLED_LAMBDA if is_bundled(spec.arg) else 0.5
    elif mixing < 1 and nets.value is None:
        raise PlayerSpecError(f"lambda {mixing:g} in {spec.text!r} needs a value network, and {spec.arg} has none "
                              f"(use lambda=1: rollouts only)")
    if mixing_end is not None and mixing_end < 1 and nets.value is None:
        raise PlayerSpecError(f"lambda_end {mixing_end:g} in {spec.text!r} needs a value network, and {spec.arg} has "
                              "none")
    if mixing_moves is not None and mixing_end is None:
        raise PlayerSpecError(f"lambda_moves in {spec.text!r} needs lambda_end (the lambda it reaches)")
    if playouts is None and seconds is None:
        playouts = 400
    config = SearchConfig(playouts=None if playouts is None else int(playouts), seconds=seconds,
                          c_puct=SearchConfig.c_puct if c_puct is None else float(c_puct), mixing=float(mixing),
                          fpu_reduction=0.0 if fpu is None else float(fpu), lcb=0.0 if lcb is None else float(lcb),
                          mixing_end=None if mixing_end is None else float(mixing_end),
                          mixing_moves=60 if mixing_moves is None else int(mixing_moves),
                          batch_size=16 if batch is None else int(batch), resign_threshold=resign,
                          rollout_threads=1 if threads is None else int(threads))
    return make_mcts_player(nets, config, seed=None if seed is None else int(seed), name=spec.text, device=device,
                            precision=precision)

