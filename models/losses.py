"""Loss functions of the three learning stages, as pure functions of tensors.

- ``policy_cross_entropy``: stage 1, the expert's move under a softmax restricted to the legal moves.
- ``reinforce_loss``: stage 2, REINFORCE with a baseline (Williams 1992; the lecture notes'
  ``g = sum_t (R_t - b(s_t)) grad log pi(a_t|s_t)``). Minimising the returned loss ascends the return: its
  gradient is ``-g / normaliser``.
- ``value_mse``: stage 3, TD(1) regression of the value on the game's outcome; ``ownership_loss`` and
  ``score_mse`` train the value net's optional heads on the same game's final board.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.nets import masked_log_softmax


def policy_cross_entropy(logits: torch.Tensor, legal: torch.Tensor, moves: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``moves`` ``(B,)`` under ``logits`` ``(B, A)`` restricted to ``legal`` ``(B, A)``."""
    return F.nll_loss(masked_log_softmax(logits, legal), moves)


def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor, baseline: torch.Tensor | None = None,
                   normaliser: float = 1.0) -> torch.Tensor:
    """``-sum_t (R_t - b_t) log pi(a_t|s_t) / normaliser``.

    ``log_probs`` ``(T,)`` are the log-probabilities of the actions taken (with gradient), ``returns`` ``(T,)``
    the returns from each step (z_t = +-1 from the mover's view in Go), ``baseline`` ``(T,)`` an estimate of
    the return that does not depend on the action (detached here so it only reduces variance).
    """
    advantage = returns if baseline is None else returns - baseline.detach()
    return -(advantage.detach() * log_probs).sum() / normaliser


def value_mse(predicted: torch.Tensor, outcomes: torch.Tensor) -> torch.Tensor:
    """Mean squared error between predicted values and outcomes, both in [-1, 1] for the player to move."""
    return F.mse_loss(predicted, outcomes)


def ownership_loss(logits: torch.Tensor, owners: torch.Tensor) -> torch.Tensor:
    """Mean per-point cross-entropy of the final owners ``(B, S*S)`` (+1 the player to move, -1 the opponent,
    0 neutral: half each) under the ownership head's logits, whose ``tanh`` is the expected owner
    (``tanh(y) = 2 sigmoid(2y) - 1``, so the head's probability that the player to move owns a point is
    ``sigmoid(2y)``). KataGo's ownership loss, averaged over points instead of summed."""
    return F.binary_cross_entropy_with_logits(2 * logits, (1 + owners) / 2)


def score_mse(predicted: torch.Tensor, margins: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the predicted final margin, both divided by size*size, for the player to move."""
    return F.mse_loss(predicted, margins)
