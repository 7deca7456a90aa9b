"""Networks -> minigo's Evaluator protocol and Players (batched, no_grad, device-aware).

- ``NetEvaluator.evaluate(positions)`` gives priors ``(B, size*size+1)`` over the legal moves (zero elsewhere)
  and values ``(B,)`` in [-1, 1] for the player to move, from a policy net and an optional value net;
  ``ownership(position)`` the value net's ownership map, when it has that head. The nets run as fast inference
  copies (``models.inference``: batch norm folded into the convolutions, channels-last; fp32 by default, equal to
  the checkpoint's nets up to float rounding; ``precision="bf16"`` for bf16 autocast, 2-3.5x faster where the CPU
  has AVX512-BF16 or AMX, priors within ~0.01 of fp32 on a trained policy); the checkpoints' nets are not changed.
- ``PolicyPlayer``: plays the policy net's move, greedy at temperature 0, else sampled from
  ``p ** (1 / temperature)`` over the legal moves; ``policy_player_from_spec`` builds it for the player kind
  ``policy:CKPT[,temperature=T][,seed=N]`` (``selfplay.player_kinds``), so ``minigo`` itself stays free of torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from minigo import players
from minigo.go import Position, Rules
from minigo.players import PlayerSpec, PlayerSpecError
from models import checkpoint
from models.bundled import bundled_run, is_bundled
from models.features import batch_planes
from models.inference import inference_copy
from models.run_layout import RunLayout


class NetEvaluator:
    """Priors from a policy net, values from a value net (or 0 without one), for batches of positions.

    ``precision``: ``fp32`` (default; the checkpoints' results up to float rounding) or ``bf16`` (bf16 autocast:
    faster where the CPU has AVX512-BF16 or AMX, ~3 significant digits; see ``models.inference``). The nets are
    copied when the evaluator is built: weights changed in ``policy.net`` / ``value.net`` later are not seen.
    """

    def __init__(self, policy: checkpoint.Checkpoint, value: checkpoint.Checkpoint | None = None,
                 device: str | torch.device = "cpu", precision: str = "fp32") -> None:
        self.device = torch.device(device)
        self.policy = policy
        self.value = value
        self.precision = precision
        self.policy.net.to(self.device).eval()
        if self.value is not None:
            self.value.net.to(self.device).eval()
        # What evaluate() and ownership() run: batch norm folded, channels-last, inference mode (models.inference).
        self.policy_net = inference_copy(self.policy.net, precision)
        self.value_net = inference_copy(self.value.net, precision) if self.value is not None else None

    @property
    def board_size(self) -> int:
        return self.policy.config.board_size

    @torch.no_grad()
    def evaluate(self, positions: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
        """Priors ``(B, size*size+1)`` summing to 1 over legal moves, and values ``(B,)`` for the player to move."""
        for position in positions:
            if position.size != self.board_size:
                raise ValueError(f"{self.policy.path}: trained for {self.board_size}x{self.board_size}, "
                                 f"asked about a {position.size}x{position.size} board")
        x = torch.from_numpy(batch_planes(positions, self.policy.config.feature_set)).to(self.device)
        legal = torch.from_numpy(np.stack([p.legal_moves() for p in positions])).to(self.device)
        logits = self.policy_net(x).masked_fill(~legal, float("-inf"))
        priors = torch.softmax(logits, dim=1).cpu().numpy()
        if self.value is None:
            values = np.zeros(len(positions), dtype=np.float32)
        else:
            xv = x if self.value.config.feature_set == self.policy.config.feature_set else torch.from_numpy(
                batch_planes(positions, self.value.config.feature_set)).to(self.device)
            values = self.value_net(xv).cpu().numpy()
        return priors, values


    @property
    def has_ownership(self) -> bool:
        return self.value is not None and self.value.config.ownership_head

    @torch.no_grad()
    def ownership(self, position: Position) -> np.ndarray | None:
        """Each point's expected final Tromp-Taylor owner, ``(size*size,)`` in [-1, 1] from Black's view, from the
        value net's ownership head; None when the value net has none."""
        if not self.has_ownership:
            return None
        x = torch.from_numpy(batch_planes([position], self.value.config.feature_set)).to(self.device)
        logits = self.value_net.heads(x)["ownership_logit"][0]
        return torch.tanh(logits).cpu().numpy().astype(np.float64) * position.to_play


class PolicyPlayer:
    """Plays the policy network's choice: greedy at temperature 0, sampled otherwise.

    It passes only when ``Position.pass_allowed`` (nothing sensible left, or passing ends a won game), as
    self-play does: a policy trained on games that end in passes passes early and loses won games on komi.
    """

    def __init__(self, evaluator: NetEvaluator, temperature: float = 0.0, rng: np.random.Generator | None = None,
                 name: str = "policy") -> None:
        if not temperature >= 0 or not math.isfinite(temperature):
            raise ValueError(f"temperature {temperature!r} must be a finite number >= 0")
        self.evaluator = evaluator
        self.temperature = temperature
        self.rng = rng if rng is not None else np.random.default_rng()
        self.name = name

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, rules: Rules) -> None:
        if rules.size != self.evaluator.board_size:
            raise ValueError(f"{self.name}: trained for {self.evaluator.board_size}x{self.evaluator.board_size}, "
                             f"cannot play {rules.size}x{rules.size}")

    def play(self, position: Position) -> int:
        priors, _ = self.evaluator.evaluate([position])
        p = priors[0]
        if p[:-1].sum() > 0 and not position.pass_allowed():
            p = p.copy()
            p[-1] = 0.0
        if self.temperature == 0:
            return int(np.argmax(p))
        weights = np.where(p > 0, np.exp(np.log(np.maximum(p, 1e-30)) / self.temperature), 0.0)
        return int(self.rng.choice(len(p), p=weights / weights.sum()))

    def close(self) -> None:
        pass


def load_policy(path: str | Path, device: str | torch.device = "cpu") -> NetEvaluator:
    """An evaluator over the policy checkpoint at ``path`` (a run folder means its SL policy)."""
    path = Path(path)
    if not path.exists():
        raise checkpoint.CheckpointError(RunLayout(path).missing())
    if path.is_dir():
        path = RunLayout(path).sl_policy
    return NetEvaluator(checkpoint.load(path, kind="policy", device=device), device=device)


def policy_player_from_spec(spec: PlayerSpec) -> players.Player:
    """The ``policy:CKPT_OR_RUN[,temperature=T][,seed=N]`` player kind (``selfplay.player_kinds``);
    ``policy:bundled`` is the bundled model's RL policy (``models.bundled``)."""
    if spec.arg is None:
        raise PlayerSpecError(f"{spec.text!r}: policy needs a checkpoint or run folder, as policy:PATH")
    temperature = spec.number("temperature", 0) or 0.0
    seed = spec.number("seed", 0, 2**63 - 1, integer=True)
    try:
        # the bundled model's policy player is its RL policy, the stronger one to play against
        path = RunLayout(bundled_run()).rl_policy if is_bundled(spec.arg) else spec.arg
        evaluator = load_policy(path)
    except checkpoint.CheckpointError as exc:
        raise PlayerSpecError(str(exc)) from None
    return PolicyPlayer(evaluator, temperature, np.random.default_rng(seed), name=spec.text)

