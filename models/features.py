"""Input planes for the networks, computed from a Position; versioned, with the 8 board symmetries.

Every plane is from the view of the player to move ("own" = the side to move). Two feature sets:

``alphago`` (version 1, 24 planes), in the spirit of AlphaGo's (Silver et al. 2016, Extended Data Table 2)
sized for small boards:

====  ==================================================================================
0     own stones
1     opponent stones
2     empty points
3     ones (a constant plane: lets convolutions see the board's edge through zero padding)
4     ones if Black is to move (komi makes the colours unequal)
5-8   the move played 1, 2, 3, 4 plies ago (one-hot; nothing for a pass)
9-12  own stones whose group has 1, 2, 3, 4+ liberties
13-16 opponent stones whose group has 1, 2, 3, 4+ liberties
17-19 a move here would capture 1, 2, 3+ stones
20-21 a move here would leave 1, 2+ of our stones in atari (self-atari size)
22    a move here is legal and does not fill one of our own single-point eyes ("sensible")
23    the ko point (the move is illegal now because it would retake a ko)
====  ==================================================================================

``raw`` (version 1, 5 planes): planes 0-4 above only (stones, empty, ones, colour): the paper's ablation.

The heavy planes come from one compiled pass over the board (``_tactical_planes``). The feature-set name and
version go into every checkpoint, so a network is never fed planes it was not trained on.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from minigo import kernels
from minigo.go import BLACK, Position, tables

N_RECENT = 4


@dataclass(frozen=True)
class FeatureSet:
    """A named, versioned way to turn a position into planes."""

    name: str
    version: int
    planes: int
    description: str


FEATURE_SETS = {
    "alphago": FeatureSet("alphago", 1, 24, "stones, history, liberties, captures, self-atari, sensible, ko"),
    "raw": FeatureSet("raw", 1, 5, "stones, empty, ones, colour to move"),
}


def get_feature_set(name: str) -> FeatureSet:
    """The feature set called ``name``; ``ValueError`` listing the known ones otherwise."""
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise ValueError(f"unknown feature set {name!r}: expected one of {', '.join(FEATURE_SETS)}") from None


def recent_moves(position: Position, count: int = N_RECENT) -> np.ndarray:
    """The last ``count`` moves, most recent first, ``(count,)`` int64; -1 where the game is shorter."""
    out = np.full(count, -1, dtype=np.int64)
    node = position
    for i in range(count):
        if node.parent is None or node.last_move is None:
            break
        out[i] = node.last_move
        node = node.parent
    return out


def planes(position: Position, feature_set: str = "alphago") -> np.ndarray:
    """The planes of ``position``: ``(planes, size, size)`` float32, from the view of the player to move."""
    fs = get_feature_set(feature_set)
    size = position.size
    out = np.zeros((fs.planes, size * size), dtype=np.float32)
    _stone_planes(position.board, position.to_play, out)
    if fs.name == "alphago":
        _history_planes(recent_moves(position), size * size, out)
        _tactical_planes(position.board, tables(size), position.to_play, position.ko, position.sensible_moves(), out)
    return out.reshape(fs.planes, size, size)


def batch_planes(positions: Sequence[Position], feature_set: str = "alphago") -> np.ndarray:
    """``planes`` of each position stacked: ``(B, planes, size, size)`` float32 (one board size per batch)."""
    return np.stack([planes(p, feature_set) for p in positions])


@njit(cache=True)
def _stone_planes(board, color, out):
    n = board.shape[0]
    for p in range(n):
        v = board[p]
        if v == color:
            out[0, p] = 1.0
        elif v == -color:
            out[1, p] = 1.0
        else:
            out[2, p] = 1.0
        out[3, p] = 1.0
        if color == BLACK:
            out[4, p] = 1.0


@njit(cache=True)
def _history_planes(recent, n, out):
    for i in range(recent.shape[0]):
        p = recent[i]
        if 0 <= p < n:
            out[5 + i, p] = 1.0


@njit(cache=True)
def _tactical_planes(board, tab, color, ko, sensible, out):
    """Liberties, capture size, self-atari size, sensible and ko planes (12..23 and 9..16)."""
    n = board.shape[0]
    gid, libs, ghash, lib_a, lib_b, stones, stack, libmark = kernels.label_arrays(n)
    kernels.label_groups(board, tab, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, 0)
    for p in range(n):
        g = gid[p]
        if g >= 0:
            level = min(libs[g], 4) - 1
            out[(9 if board[p] == color else 13) + level, p] = 1.0
    seen = np.empty(4, np.int32)
    found = np.empty(2, np.int32)
    for p in range(n):
        if sensible[p]:
            out[22, p] = 1.0
        if p == ko:
            out[23, p] = 1.0
        if board[p] != 0 or not sensible[p]:
            continue
        captured = 0
        own_size = 1
        n_seen = 0
        n_found = 0
        for k in range(kernels.NBR, kernels.NBR + 4):
            q = tab[p, k]
            if q < 0:
                break
            if board[q] == 0:
                n_found = _add_liberty(found, n_found, q, p)
                continue
            g = gid[q]
            dup = False
            for j in range(n_seen):
                if seen[j] == g:
                    dup = True
            if dup:
                continue
            seen[n_seen] = g
            n_seen += 1
            if board[q] == -color:
                if libs[g] == 1:
                    captured += stones[g]
            else:
                own_size += stones[g]
                if libs[g] >= 3:
                    n_found = 2  # p is at most one of them, so two or more are left: no self-atari
                else:
                    n_found = _add_liberty(found, n_found, lib_a[g], p)
                    if libs[g] == 2:
                        n_found = _add_liberty(found, n_found, lib_b[g], p)
        if captured > 0:
            out[17 + min(captured, 3) - 1, p] = 1.0
        elif n_found <= 1:
            out[20 + min(own_size, 2) - 1, p] = 1.0


@njit(cache=True)
def _add_liberty(found, n_found, q, played):
    """Count distinct liberties other than the point being played, up to two."""
    if q == played or n_found >= 2:
        return n_found
    for j in range(n_found):
        if found[j] == q:
            return n_found
    found[n_found] = q
    return n_found + 1


# -- symmetries ------------------------------------------------------------------------------------------

N_SYMMETRIES = 8


def transform(array: np.ndarray, k: int) -> np.ndarray:
    """Symmetry ``k`` (0-7) of the last two axes: ``k % 4`` quarter turns, then a transpose if ``k >= 4``."""
    out = np.rot90(array, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.swapaxes(out, -1, -2)
    return np.ascontiguousarray(out)


@functools.cache
def point_maps(size: int) -> np.ndarray:
    """``maps[k, p]``: where point ``p`` (or the pass, ``size*size``) goes under symmetry ``k``; ``(8, n+1)``."""
    n = size * size
    grid = np.arange(n).reshape(size, size)
    maps = np.empty((N_SYMMETRIES, n + 1), dtype=np.int64)
    for k in range(N_SYMMETRIES):
        moved = transform(grid, k).reshape(-1)  # moved[new point] = old point
        maps[k, moved] = np.arange(n)
        maps[k, n] = n
    return maps


@functools.cache
def inverse_symmetry(k: int) -> int:
    """The symmetry that undoes symmetry ``k``."""
    grid = np.arange(9).reshape(3, 3)
    for j in range(N_SYMMETRIES):
        if np.array_equal(transform(transform(grid, k), j), grid):
            return j
    raise AssertionError("the 8 symmetries form a group")
