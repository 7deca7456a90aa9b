"""What a bot thought, read off any player without knowing its kind: the heat map, line and value the window
shows with A, the ownership map it shows with O, and the dead stones it sees when the game ends. No pygame.

Duck-typed, so that any player can offer it: ``player.last_search`` after ``play()`` with ``visits`` and
``prior`` (per point, the pass last, or aligned with a ``moves`` array), ``pv`` (points) and ``value`` (for the
player to move at the root, in [-1, 1]), as ``minigo.mcts.SearchResult`` has; else the priors of
``player.evaluator.evaluate([position])`` (a policy network) and its greedy line. Who owns what:
``player.ownership(position)``, ``(size*size,)`` in [-1, 1] from Black's view, or None (as
``minigo.mcts.MCTSPlayer`` offers it from a value net with an ownership head), read by ``ownership_of``, which
lives in ``minigo.scoring`` beside the end-of-game count that uses it too. The count (``count_game``) takes off
the stones that map calls dead, or a rollout policy's playouts do, in the order GTP's ``final_score`` prefers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from minigo.go import IllegalMove, Position, color_name, format_result
from minigo.scoring import dead_chains, final_owners, ownership_of, without

__all__ = [
    "Analysis", "FinalCount", "analyse", "analysis_from_search", "analysis_from_evaluator", "can_analyse",
    "count_game", "ownership_of", "ownership_summary",
]


@dataclass(frozen=True)
class Analysis:
    """What a bot thought about ``position`` (where it was to move)."""

    position: Position
    source: str
    """``visits`` (a search's visit counts) or ``prior`` (a policy's probabilities)."""
    heat: np.ndarray
    """``(size*size+1,)`` float, the pass last: each move's share of the visits or of the prior; sums to 1."""
    pv: tuple[int, ...]
    """The principal variation from ``position``, its first move first (may be empty)."""
    value: float | None
    """The bot's value for the player to move at ``position``, in [-1, 1]; None when it has no estimate."""
    playouts: int | None = None

    def top(self, count: int = 3) -> list[tuple[int, float]]:
        """The ``count`` moves with the largest share, as (point, share), largest first."""
        order = np.argsort(-self.heat, kind="stable")[:count]
        return [(int(i), float(self.heat[i])) for i in order if self.heat[i] > 0]


def _per_point(values: object, moves: object, n: int) -> np.ndarray | None:
    """A per-move array as ``(n+1,)``: as it is when it has that length, else scattered over ``moves``."""
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if moves is not None:
        moves = np.asarray(moves, dtype=np.int64).reshape(-1)
        if len(moves) == len(array) and (len(array) != n + 1 or not np.array_equal(moves, np.arange(n + 1))):
            out = np.zeros(n + 1)
            out[moves] = array
            return out
    return array if len(array) == n + 1 else None


def _share(values: np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    total = values.sum()
    return values / total if total > 0 else None


def analysis_from_search(search: object, position: Position) -> Analysis | None:
    """An Analysis from a search result with ``visits`` / ``prior`` (per point, or aligned with ``moves``),
    ``pv`` and ``value``; None when it has neither visits nor priors."""
    n = position.pass_point
    moves = getattr(search, "moves", None)
    visits = _share(_per_point(getattr(search, "visits", None), moves, n))
    prior = _share(_per_point(getattr(search, "prior", None), moves, n))
    if visits is None and prior is None:
        return None
    value = getattr(search, "value", None)
    value = float(value) if value is not None and math.isfinite(float(value)) else None
    pv = tuple(int(m) for m in (getattr(search, "pv", None) or ()) if 0 <= int(m) <= n)
    playouts = getattr(search, "playouts", None)
    if visits is not None:
        return Analysis(position, "visits", visits, pv, value, int(playouts) if playouts is not None else None)
    return Analysis(position, "prior", prior, pv, value)


def analysis_from_evaluator(evaluator: object, position: Position, depth: int = 6) -> Analysis | None:
    """An Analysis from ``evaluator.evaluate([position])``: its priors as the heat map, its greedy line of
    ``depth`` moves as the principal variation, and its value unless the evaluator says it has no value net
    (a ``value`` attribute that is None)."""
    priors, values = evaluator.evaluate([position])  # type: ignore[attr-defined]
    heat = _share(np.asarray(priors[0], dtype=np.float64).reshape(-1))
    if heat is None or len(heat) != position.pass_point + 1:
        return None
    value = float(values[0]) if getattr(evaluator, "value", True) is not None else None
    pv: list[int] = []
    at, p = position, heat
    for _ in range(depth):
        move = int(np.argmax(p))
        pv.append(move)
        if move == at.pass_point:
            break
        try:
            at = at.play(move)
        except IllegalMove:
            break
        p = np.asarray(evaluator.evaluate([at])[0][0], dtype=np.float64)  # type: ignore[attr-defined]
    return Analysis(position, "prior", heat, tuple(pv), value if value is None or math.isfinite(value) else None)


def can_analyse(player: object) -> bool:
    """Whether ``player`` offers a search (``last_search``) or an evaluator to look into."""
    return hasattr(player, "last_search") or callable(getattr(getattr(player, "evaluator", None), "evaluate", None))


def analyse(player: object, position: Position) -> Analysis | None:
    """What ``player`` thought about ``position``, read right after its ``play(position)``: its ``last_search``
    when it has one, else its evaluator's priors; None when it offers neither."""
    search = getattr(player, "last_search", None)
    if search is not None:
        analysis = analysis_from_search(search, position)
        if analysis is not None:
            return analysis
    evaluator = getattr(player, "evaluator", None)
    if callable(getattr(evaluator, "evaluate", None)):
        return analysis_from_evaluator(evaluator, position)
    return None


def ownership_summary(owners: np.ndarray, komi: float) -> str:
    """The area and margin an ownership map adds up to, as ``minigo-ownership``'s TEXT line in GTP says it:
    Black's area is the sum of the positive values, White's of the negative ones, and White gets ``komi``."""
    black, white = float(np.clip(owners, 0, 1).sum()), float(np.clip(-owners, 0, 1).sum())
    margin = black - white - komi
    return (f"expected area: Black {black:.1f}, White {white:.1f}, komi {komi:g}: "
            f"{'B' if margin > 0 else 'W'}+{abs(margin):.1f}")


@dataclass(frozen=True)
class FinalCount:
    """The count of a finished game with the dead stones taken off, beside the rules' (Tromp-Taylor) result of the
    board as it stands, which the game record keeps."""

    position: Position
    """The final board, every stone on it."""
    counted: Position
    """The board with the dead chains taken off: its ``area()``, ``territory()`` and ``score()`` are the count's."""
    dead: tuple[tuple[int, ...], ...]
    """The dead chains, each as its points; empty when nothing is dead."""
    source: str
    """Who judged: ``map`` (a player's ownership map), ``playouts`` (its rollout policy's) or ``board`` (no player
    can judge: nothing is removed, the count is the rules' result)."""
    judge: str = ""
    """The colour of the player that judged (``White``), '' for ``board``."""

    @property
    def result(self) -> str:
        """The count's result: ``W+9.5``."""
        return format_result(self.counted.score())

    @property
    def dead_stones(self) -> int:
        return sum(len(chain) for chain in self.dead)

    @property
    def judged_by(self) -> str:
        """``White's ownership map``, ``Black's rollout playouts``, or '' when nobody judged."""
        what = {"map": "ownership map", "playouts": "rollout playouts"}.get(self.source)
        return f"{self.judge}'s {what}" if what else ""


def count_game(position: Position, players: Mapping[int, object | None]) -> FinalCount:
    """The count of ``position`` (a finished game) as ``minigo gtp``'s ``final_score`` makes it
    (``minigo.scoring.final_owners``): the bots' ownership map (the side to move's first), else a rollout policy's
    playouts, else the board as it stands. ``players`` maps BLACK and WHITE to a player, or None for a person."""
    order = [position.to_play, -position.to_play]
    owners, source, judge = final_owners(position, *(players.get(color) for color in order))
    dead = dead_chains(position, owners) if source != "board" else []
    color = next((c for c in order if judge is not None and players.get(c) is judge), None)
    name = color_name(color).capitalize() if color is not None else ""
    return FinalCount(position, without(position, dead), tuple(tuple(chain) for chain in dead), source, name)
