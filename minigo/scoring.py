"""Dead stones and the score with them removed: what a GUI's "count the game" shows, on top of the rules.

The rules score by Tromp-Taylor (``Position.score``): every stone on the board is alive. A game a person passes
out early still has dead stones on it, and then GNU Go (which reads them out) and every GUI count it otherwise.
This module works from an *ownership map*: for each point, who will own it when the game is played out, from
Black's view in [-1, 1]. The value net's ownership head gives one; so do playouts from the position
(:func:`playout_ownership`: the rollout policy's, or uniform ones, compiled, tens of milliseconds for 128 on
9x9). A chain whose points the map gives to the opponent (mean below ``-DEAD``, from its own colour's view)
is dead; removing the dead and counting area again gives :func:`score_without_dead`. A live chain is listed as
in seki when every empty point it touches lies in a small region shared with the opponent (no eye, no
territory: the few liberties of a seki).

Where the map comes from is :func:`final_owners`, shared by ``minigo gtp``'s ``final_status_list`` and
``final_score`` and the window's end-of-game count: the player's own map, else its rollout policy's playouts, else
the board as it stands (nothing dead). The game record keeps the Tromp-Taylor result of the board as it stands, as
the rules say.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from minigo.go import BLACK, EMPTY, WHITE, Position, random_playout

__all__ = [
    "DEAD", "FinalOwners", "chains", "dead_chains", "final_owners", "ownership_of", "playout_ownership",
    "score_without_dead", "seki_chains", "status", "without",
]

DEAD = 0.2
"""A chain is dead when its points' mean ownership, from its own colour's view, is below ``-DEAD``: the map gives
it to the opponent, by more than random playouts' noise (their means over 128 games are within about 0.1)."""


def chains(position: Position) -> list[list[int]]:
    """The chains (connected stones of one colour) of the board, each as its points in board order."""
    size, board = position.size, position.board
    seen = np.zeros(board.shape, dtype=bool)
    found = []
    for start in np.flatnonzero(board).tolist():
        if seen[start]:
            continue
        seen[start] = True
        chain, stack = [], [start]
        while stack:
            point = stack.pop()
            chain.append(point)
            row, col = divmod(point, size)
            for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
                other = r * size + c
                if 0 <= r < size and 0 <= c < size and not seen[other] and board[other] == board[point]:
                    seen[other] = True
                    stack.append(other)
        found.append(sorted(chain))
    return found


def playout_ownership(position: Position, rng: np.random.Generator, playouts: int = 128,
                      weights: np.ndarray | None = None) -> np.ndarray:
    """Each point's mean Tromp-Taylor owner at the end of ``playouts`` games played out from the board as it stands
    (passes forgotten, so a finished game is played on) by the rollout policy with ``weights``
    (``minigo.rollout``), or uniformly at random without them; ``(size*size,)`` in [-1, 1] from Black's view.
    Uniform playouts are a rough map: they find a stone deep in the opponent's area, but kill eyeless walls too
    often to be trusted with less."""
    from minigo.rollout import policy_playout

    board = position.board
    start = Position.empty(rules=position.rules).with_setup(
        black=np.flatnonzero(board == BLACK).tolist(), white=np.flatnonzero(board == WHITE).tolist(),
        to_play=position.to_play)
    total = np.zeros(position.size * position.size)
    for _ in range(playouts):
        final = (random_playout(start, rng) if weights is None else policy_playout(start, weights, rng)).board
        total += Position.empty(rules=position.rules).with_setup(
            black=np.flatnonzero(final == BLACK).tolist(), white=np.flatnonzero(final == WHITE).tolist()).ownership()
    return total / playouts


def dead_chains(position: Position, owners: np.ndarray) -> list[list[int]]:
    """The chains ``owners`` (Black's view, in [-1, 1]) gives to the opponent."""
    board = position.board
    return [chain for chain in chains(position)
            if float(np.mean(owners[chain])) * int(board[chain[0]]) < -DEAD]


def without(position: Position, dead: Sequence[Sequence[int]]) -> Position:
    """The board with the chains ``dead`` taken off (a new game from it, same rules and side to move): the board
    a count with the dead removed scores, and whose ``territory()`` it marks."""
    removed = {p for chain in dead for p in chain}
    board = position.board
    return Position.empty(rules=position.rules).with_setup(
        black=[p for p in np.flatnonzero(board == BLACK).tolist() if p not in removed],
        white=[p for p in np.flatnonzero(board == WHITE).tolist() if p not in removed], to_play=position.to_play)


def score_without_dead(position: Position, owners: np.ndarray) -> float:
    """Black's area minus White's minus komi once the dead chains are taken off the board."""
    return without(position, dead_chains(position, owners)).score()


SEKI_LIBERTIES = 2
"""The most points a shared empty region of a seki may have: a seki's liberties are few; a live chain in a
large neutral area is an unfinished game, not a seki."""


def _empty_regions(position: Position) -> np.ndarray:
    """Each empty point's region label (points connected through empty points), -1 on stones; ``(size*size,)``."""
    size, board = position.size, position.board
    label = np.full(board.shape, -1)
    count = 0
    for start in np.flatnonzero(board == EMPTY).tolist():
        if label[start] >= 0:
            continue
        label[start], stack = count, [start]
        while stack:
            row, col = divmod(stack.pop(), size)
            for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
                other = r * size + c
                if 0 <= r < size and 0 <= c < size and board[other] == EMPTY and label[other] < 0:
                    label[other] = count
                    stack.append(other)
        count += 1
    return label


def seki_chains(position: Position, owners: np.ndarray) -> list[list[int]]:
    """Live chains whose empty neighbours are all in small regions shared with the opponent (at most
    ``SEKI_LIBERTIES`` points each): no eye or territory of their own, and liberties neither side can fill."""
    dead = dead_chains(position, owners)
    alive = without(position, dead)
    board, area, size = alive.board, alive.ownership(), position.size
    regions = _empty_regions(alive)
    sizes = np.bincount(regions[regions >= 0]) if (regions >= 0).any() else np.zeros(0, int)
    dead_points = {p for chain in dead for p in chain}
    found = []
    for chain in chains(position):
        if chain[0] in dead_points:
            continue
        touched = set()
        for point in chain:
            row, col = divmod(point, size)
            for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
                if 0 <= r < size and 0 <= c < size and board[r * size + c] == EMPTY:
                    touched.add(r * size + c)
        if touched and all(area[q] == 0 and sizes[regions[q]] <= SEKI_LIBERTIES for q in touched):
            found.append(chain)
    return found


def status(position: Position, owners: np.ndarray, which: str) -> list[list[int]]:
    """GTP's ``final_status_list``: the chains that are ``alive``, ``dead`` or in ``seki``."""
    dead = dead_chains(position, owners)
    if which == "dead":
        return dead
    seki = seki_chains(position, owners)
    if which == "seki":
        return seki
    excluded = {chain[0] for chain in dead + seki}
    return [chain for chain in chains(position) if chain[0] not in excluded]


# ------------------------------------------------------------------------------------------------ whose map

def ownership_of(player: object, position: Position) -> np.ndarray | None:
    """``player.ownership(position)`` as ``(size*size,)`` float in [-1, 1] from Black's view (+1: Black will own
    the point); None when the player offers no map, answers None, or fails (a net for another board size)."""
    ownership = getattr(player, "ownership", None)
    try:
        owners = ownership(position) if callable(ownership) else None
    except Exception:  # noqa: BLE001 - a map that cannot be had is just not used
        return None
    if owners is None:
        return None
    owners = np.asarray(owners, dtype=np.float64).reshape(-1)
    return np.clip(owners, -1, 1) if owners.size == position.size ** 2 and np.isfinite(owners).all() else None


class FinalOwners(NamedTuple):
    """Who owns each point at the end, and where that came from (:func:`final_owners`)."""

    owners: np.ndarray
    """``(size*size,)`` float in [-1, 1] from Black's view."""
    source: str
    """``"map"`` (the player's ownership map), ``"playouts"`` (its rollout policy's) or ``"board"`` (nothing
    dead: the board as it stands)."""
    player: object | None
    """The player the map or the playouts came from; None for ``"board"``."""


def final_owners(position: Position, *players: object) -> FinalOwners:
    """Who owns each point when ``position`` is counted, in the order GTP's ``final_score`` and the window's count
    prefer: the first of ``players`` (None skipped) that gives an ownership map (``ownership_of``); else the first
    with a rollout policy (``player.mcts.rollout_weights``), played out from the board by :func:`playout_ownership`
    seeded by the position's hash, so that a board always counts the same; else the board as it stands
    (Tromp-Taylor: nothing dead), since uniform playouts misjudge too much to take stones off."""
    bots = [player for player in players if player is not None]
    for player in bots:
        owners = ownership_of(player, position)
        if owners is not None:
            return FinalOwners(owners, "map", player)
    for player in bots:
        weights = getattr(getattr(player, "mcts", None), "rollout_weights", None)
        if weights is not None:
            rng = np.random.default_rng(position.hash % 2**32)
            return FinalOwners(playout_ownership(position, rng, weights=weights), "playouts", player)
    return FinalOwners(position.ownership().astype(np.float64), "board", None)
