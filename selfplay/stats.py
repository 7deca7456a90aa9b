"""Statistics of matches and ladders, as pure functions: score intervals, Elo, the SPRT and Bradley-Terry ratings.

A player's *score* counts a win 1, a draw 1/2 (komi ``.0`` allows draws), a loss 0.

- :func:`wilson_interval`: the 95% Wilson score interval of the score rate. Draws make the per-game variance
  smaller than a win/loss coin's, so with draws the interval is a little conservative.
- :func:`elo_from_score`: the logistic Elo difference ``-400 log10(1/p - 1)``; its interval is the Wilson
  interval mapped through it (the map is monotone), so both say the same thing.
- :class:`SPRT`: Wald's sequential probability ratio test of H0 ``elo = elo0`` against H1 ``elo = elo1``, as
  Leela Zero gates networks (0 / 35 Elo there) and fishtest tests patches. We use the **binomial model**:
  each draw counts as half a win and half a loss, and the log-likelihood ratio is
  ``W' ln(s1/s0) + L' ln((1-s1)/(1-s0))`` with ``W' = wins + draws/2``, ``L' = losses + draws/2`` and
  ``s = 1 / (1 + 10^(-elo/400))``; it is exact when draws cannot happen (komi ``.5``). Bounds
  ``ln(beta/(1-alpha))`` and ``ln((1-beta)/alpha)``, alpha = beta = 0.05 by default.
- :func:`bradley_terry`: maximum-likelihood ratings from a table of pairwise scores (Newton's method on the
  log-strengths with one player anchored at 0), with standard errors from the inverse Fisher information.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ELO_PER_NAT", "SPRT", "Z95", "Ratings", "bradley_terry", "elo_from_score", "score_from_elo",
           "wilson_interval"]

Z95 = 1.959963984540054
"""The two-sided 95% quantile of the standard normal."""
ELO_PER_NAT = 400.0 / math.log(10.0)
"""Elo points per unit of natural log-strength: ``elo = 400 log10(odds)``."""


def wilson_interval(score: float, games: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the rate ``score / games`` (draws count half); (0, 1) with no games."""
    if games <= 0:
        return 0.0, 1.0
    p = score / games
    z2 = z * z
    denominator = 1.0 + z2 / games
    centre = (p + z2 / (2 * games)) / denominator
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / games + z2 / (4.0 * games * games)) / denominator
    # exact ends for clean sweeps (the formula gives them up to rounding)
    low = 0.0 if score <= 0 else max(0.0, centre - half)
    high = 1.0 if score >= games else min(1.0, centre + half)
    return low, high


def elo_from_score(p: float) -> float:
    """The logistic Elo difference that expects the score rate ``p``; +-inf at 1 and 0."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return -400.0 * math.log10(1.0 / p - 1.0)


def score_from_elo(elo: float) -> float:
    """The expected score rate of a player ``elo`` points stronger: ``1 / (1 + 10^(-elo/400))``."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


@dataclass(frozen=True)
class SPRT:
    """Wald's SPRT of H0 (A is ``elo0`` stronger) against H1 (A is ``elo1`` stronger), binomial model."""

    elo0: float
    """Elo difference under H0 (Leela Zero: 0)."""
    elo1: float
    """Elo difference under H1; above elo0 (Leela Zero: 35)."""
    alpha: float = 0.05
    """Chance of accepting H1 when H0 holds."""
    beta: float = 0.05
    """Chance of accepting H0 when H1 holds."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.elo0) and math.isfinite(self.elo1) and self.elo0 < self.elo1):
            raise ValueError(f"sprt {self.elo0:g},{self.elo1:g}: expected finite ELO0 < ELO1")
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise ValueError(f"sprt alpha {self.alpha:g}, beta {self.beta:g}: expected each in (0, 0.5)")

    @property
    def lower(self) -> float:
        """Accept H0 at or below this log-likelihood ratio: ``ln(beta / (1 - alpha))``."""
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        """Accept H1 at or above this log-likelihood ratio: ``ln((1 - beta) / alpha)``."""
        return math.log((1.0 - self.beta) / self.alpha)

    def llr(self, wins: float, draws: float, losses: float) -> float:
        """Log-likelihood ratio of H1 to H0 after A's ``wins``, ``draws`` and ``losses``; a draw is half of each."""
        s0, s1 = score_from_elo(self.elo0), score_from_elo(self.elo1)
        points, lost = wins + draws / 2.0, losses + draws / 2.0
        return points * math.log(s1 / s0) + lost * math.log((1.0 - s1) / (1.0 - s0))

    def decide(self, wins: float, draws: float, losses: float) -> str | None:
        """``"H1"`` or ``"H0"`` once the ratio crosses a bound, else None (keep playing)."""
        llr = self.llr(wins, draws, losses)
        if llr >= self.upper:
            return "H1"
        if llr <= self.lower:
            return "H0"
        return None

    def describe(self) -> str:
        return f"SPRT(elo0={self.elo0:g}, elo1={self.elo1:g}, alpha={self.alpha:g}, beta={self.beta:g}, binomial)"


@dataclass(frozen=True)
class Ratings:
    """Bradley-Terry ratings: Elo ``(P,)`` relative to the anchor (0) and their standard errors ``(P,)``."""

    elo: np.ndarray
    stderr: np.ndarray
    anchor: int

    def interval(self, index: int, z: float = Z95) -> tuple[float, float]:
        """The 95% interval of one player's rating (a point for the anchor, which is 0 by definition)."""
        half = z * float(self.stderr[index])
        return float(self.elo[index]) - half, float(self.elo[index]) + half


def bradley_terry(scores: np.ndarray, games: np.ndarray, anchor: int = 0, prior_games: float = 0.0,
                  tol: float = 1e-10, max_iter: int = 200) -> Ratings:
    """Maximum-likelihood Bradley-Terry ratings.

    ``scores[i, j]``: the points player i scored against player j (a win 1, a draw 1/2), ``(P, P)``;
    ``games[i, j] == games[j, i]``: the games they played, ``(P, P)``. ``prior_games`` adds that many virtual
    games, drawn, to every pair that played, which keeps the ratings finite when a player won (or lost) all
    its games. The model: ``P(i beats j) = 1 / (1 + exp(theta_j - theta_i))``; Newton's method on theta with
    ``theta[anchor] = 0``, step-halving so that the log-likelihood never falls. Standard errors come from the
    inverse of the observed Fisher information (the negated Hessian without the anchor's row and column).
    Raises ValueError when no finite maximum exists (players not connected by games, or with no prior, a
    player who won or lost everything in a way that leaves the win graph not strongly connected).
    """
    scores = np.asarray(scores, dtype=np.float64).copy()
    games = np.asarray(games, dtype=np.float64).copy()
    count = scores.shape[0]
    if scores.shape != (count, count) or games.shape != (count, count):
        raise ValueError(f"scores {scores.shape} and games {games.shape} must both be (P, P)")
    if not 0 <= anchor < count:
        raise ValueError(f"anchor {anchor} is not a player index 0..{count - 1}")
    np.fill_diagonal(scores, 0.0)
    np.fill_diagonal(games, 0.0)
    if not np.allclose(games, games.T):
        raise ValueError("games must be symmetric: games[i, j] == games[j, i]")
    if np.any(scores < 0) or np.any(scores > games + 1e-9):
        raise ValueError("scores must lie between 0 and the games played")
    if prior_games > 0:
        played = games > 0
        scores += np.where(played, prior_games / 2.0, 0.0)
        games += np.where(played, prior_games, 0.0)
    if count == 1:
        return Ratings(np.zeros(1), np.zeros(1), anchor)
    # the maximum is finite iff every player can reach every other along "scored against" edges
    if not _strongly_connected(scores > 0):
        raise ValueError("no finite maximum-likelihood ratings: the players are not connected by games, or some "
                         "player won (or lost) every game it played against the rest; add a prior")
    free = np.array([i for i in range(count) if i != anchor])
    theta = np.zeros(count)

    def log_likelihood(t: np.ndarray) -> float:
        diff = t[:, None] - t[None, :]  # (P, P): theta_i - theta_j
        # sum over ordered pairs of s_ij * log sigma(theta_i - theta_j)
        return float(np.sum(scores * -np.logaddexp(0.0, -diff)))

    def gradient_hessian(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-(t[:, None] - t[None, :])))  # (P, P): P(i beats j)
        gradient = scores.sum(axis=1) - (games * p).sum(axis=1)  # (P,)
        weight = games * p * p.T  # (P, P): n_ij p_ij p_ji
        hessian = weight - np.diag(weight.sum(axis=1))  # (P, P), negative semidefinite
        return gradient, hessian

    current = log_likelihood(theta)
    for _ in range(max_iter):
        gradient, hessian = gradient_hessian(theta)
        step = np.linalg.solve(-hessian[np.ix_(free, free)], gradient[free])
        scale = 1.0
        while True:
            trial = theta.copy()
            trial[free] += scale * step
            value = log_likelihood(trial)
            if value >= current - 1e-12 or scale < 1e-8:
                break
            scale /= 2.0
        theta, current = trial, value
        if np.max(np.abs(scale * step)) < tol:
            break
    _, hessian = gradient_hessian(theta)
    covariance = np.linalg.inv(-hessian[np.ix_(free, free)])
    stderr = np.zeros(count)
    stderr[free] = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    return Ratings(theta * ELO_PER_NAT, stderr * ELO_PER_NAT, anchor)


def _strongly_connected(edges: np.ndarray) -> bool:
    """Whether the directed graph ``edges[i, j]`` (i -> j) reaches every node from every node."""
    count = edges.shape[0]

    def reach(adjacency: np.ndarray) -> int:
        seen = {0}
        stack = [0]
        while stack:
            node = stack.pop()
            for other in np.flatnonzero(adjacency[node]).tolist():
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        return len(seen)

    return reach(edges) == count and reach(edges.T) == count
