"""Compiled inner loops of the rules: captures, liberties, legality, hashing, scoring, random playouts.

Everything here is a numba ``@njit(cache=True)`` function over flat numpy arrays; ``go.py`` wraps them in
a readable class. Conventions (the same as ``go.py``):

- ``board``: int8 array ``(size*size,)``, ``1`` black, ``-1`` white, ``0`` empty; point = ``row*size+col``.
- ``tables``: int64 ``(size*size, 10)``, one row per point: columns 0-3 its orthogonal neighbours (real
  ones first, padded with ``-1``), 4-7 its diagonal neighbours (the same), 8 and 9 the Zobrist keys of a
  black and a white stone there. One array rather than three because every argument of a compiled call
  costs time to unbox.
- A position's history is two parallel arrays, ``hashes`` (int64 Zobrist hashes of the stones) and
  ``boards`` (int8, one row per position), of which the first ``hlen`` rows belong to the game; row
  ``hlen-1`` is the current board. Passes add no row: positional superko compares boards, and a pass
  leaves the board as it was.
- ``ko``: the point the side to move may not play because it would retake a ko at once, or ``-1``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OK = 0
OCCUPIED = 1
SUICIDE = 2
KO = 3
SUPERKO = 4

NBR = 0
DIAG = 4
KEY = 8

_MULT = np.uint64(0x2545F4914F6CDD1D)
_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U27 = np.uint64(27)
_U33 = np.uint64(33)


def make_tables(size: int) -> np.ndarray:
    """The per-size table described in the module docstring. Zobrist keys are fixed per size (seeded),
    so hashes agree across processes and runs."""
    n = size * size
    tables = np.full((n, 10), -1, dtype=np.int64)
    for first, steps in ((NBR, ((-1, 0), (1, 0), (0, -1), (0, 1))), (DIAG, ((-1, -1), (-1, 1), (1, -1), (1, 1)))):
        for row in range(size):
            for col in range(size):
                k = first
                for dr, dc in steps:
                    r, c = row + dr, col + dc
                    if 0 <= r < size and 0 <= c < size:
                        tables[row * size + col, k] = r * size + c
                        k += 1
    rng = np.random.default_rng(0x9E3779B9 + size)
    keys = rng.integers(1, np.iinfo(np.uint64).max, size=(n, 2), dtype=np.uint64, endpoint=True)
    tables[:, KEY:KEY + 2] = keys.view(np.int64)
    return tables


@njit(cache=True)
def board_hash(board, tables):
    """Zobrist hash of the stones on ``board`` (the side to move is not part of it)."""
    h = 0
    for p in range(board.shape[0]):
        if board[p] == 1:
            h ^= tables[p, KEY]
        elif board[p] == -1:
            h ^= tables[p, KEY + 1]
    return h


@njit(cache=True)
def _flood(board, tables, start, stack, mark, stamp):
    """Collect the group at ``start`` into ``stack[:count]``; return (count, whether it has a liberty)."""
    color = board[start]
    stack[0] = start
    mark[start] = stamp
    count = 1
    i = 0
    has_liberty = False
    while i < count:
        p = stack[i]
        i += 1
        for k in range(NBR, NBR + 4):
            q = tables[p, k]
            if q < 0:
                break
            v = board[q]
            if v == 0:
                has_liberty = True
            elif v == color and mark[q] != stamp:
                mark[q] = stamp
                stack[count] = q
                count += 1
    return count, has_liberty


@njit(cache=True)
def place(board, tables, point, color, h, stack, mark, captured):
    """Put a stone on ``board`` in place and remove the opponent groups it leaves without liberties.

    Returns (new hash, stones captured, whether the own group has a liberty, own group size); the captured
    points are written to ``captured[:stones captured]`` so a caller can undo the move. ``mark`` has one
    entry per point plus a last one holding the flood counter, so marks never need clearing.
    """
    own_key = KEY if color == 1 else KEY + 1
    other_key = KEY + KEY + 1 - own_key
    board[point] = color
    h ^= tables[point, own_key]
    n_captured = 0
    counter = board.shape[0]
    stamp = mark[counter]
    for k in range(NBR, NBR + 4):
        q = tables[point, k]
        if q < 0:
            break
        if board[q] == -color:
            stamp += 1
            count, has_liberty = _flood(board, tables, q, stack, mark, stamp)
            if not has_liberty:
                for j in range(count):
                    s = stack[j]
                    board[s] = 0
                    h ^= tables[s, other_key]
                    captured[n_captured] = s
                    n_captured += 1
    stamp += 1
    own_size, own_liberty = _flood(board, tables, point, stack, mark, stamp)
    mark[counter] = stamp
    return h, n_captured, own_liberty, own_size


@njit(cache=True)
def same_board(a, b):
    for p in range(a.shape[0]):
        if a[p] != b[p]:
            return False
    return True


@njit(cache=True)
def hash_table(hashes, hlen, capacity):
    """An open-addressing table (int32 indices into ``hashes``, -1 empty) sized for ``capacity`` entries,
    holding the first ``hlen`` hashes; returns (table, mask)."""
    size = 64
    while size < 2 * capacity:
        size *= 2
    table = np.full(size, -1, np.int32)
    mask = size - 1
    for i in range(hlen):
        table_insert(table, mask, hashes[i], i)
    return table, mask


@njit(cache=True)
def table_insert(table, mask, h, index):
    slot = h & mask
    while table[slot] >= 0:
        slot = (slot + 1) & mask
    table[slot] = index


@njit(cache=True)
def ko_after(board, tables, point, n_captured, own_size, captured):
    """The ko point after a move: a lone stone that took one stone and has that point as its only liberty."""
    if n_captured != 1 or own_size != 1:
        return -1
    for k in range(NBR, NBR + 4):
        q = tables[point, k]
        if q < 0:
            break
        if board[q] == 0 and q != captured[0]:
            return -1
    return captured[0]


@njit(cache=True)
def play(boards, hashes, hlen, tables, point, color, ko, superko):
    """Play ``color`` at ``point`` (not a pass) on the position whose history is ``hashes/boards[:hlen]``.

    On success writes the new board to ``boards[hlen]`` and its hash to ``hashes[hlen]`` (the caller
    makes sure that row is free) and returns (OK, new ko point, stones captured). On failure writes
    nothing and returns (OCCUPIED | SUICIDE | KO | SUPERKO, -1, 0).
    """
    board = boards[hlen - 1]
    n = board.shape[0]
    if board[point] != 0:
        return OCCUPIED, -1, 0
    if point == ko:
        return KO, -1, 0
    new = boards[hlen]
    new[:] = board
    stack = np.empty(n, np.int32)
    mark = np.zeros(n + 1, np.int32)
    captured = np.empty(n, np.int32)
    h, n_captured, own_liberty, own_size = place(new, tables, point, color, hashes[hlen - 1], stack, mark,
                                                  captured)
    if not own_liberty:
        return SUICIDE, -1, 0
    if superko:
        for i in range(hlen):
            if hashes[i] == h and same_board(boards[i], new):
                return SUPERKO, -1, 0
    hashes[hlen] = h
    return OK, ko_after(new, tables, point, n_captured, own_size, captured), n_captured


@njit(cache=True)
def label_groups(board, tables, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, stamp):
    """Label every group; the arrays are ``(size*size,)``, ``gid`` indexed by point and the rest by group id.

    ``gid[p]``: the id of the group on ``p`` (0, 1, ... in order of each group's lowest point), ``-1`` if ``p`` is
    empty. For each group ``g``: ``libs[g]`` its exact liberty count, ``ghash[g]`` the XOR of its stones' Zobrist
    keys (what removing it does to the board hash), ``stones[g]`` its size in stones, and ``lib_a[g]``,
    ``lib_b[g]`` the first two liberties found, which are all of them when ``libs[g] <= 2`` (entries past
    ``libs[g]`` are left as they were). ``stack`` is scratch.

    Returns the new stamp; the number of groups is the new stamp minus ``stamp`` minus 1. ``libmark`` holds
    liberty marks ``stamp + g + 1``: a caller that passes each returned stamp to its next call never has to clear
    it (stale marks are all below the new stamp), and a fresh one starts zeroed with ``stamp`` 0.
    """
    n = board.shape[0]
    groups = 0
    for p in range(n):
        gid[p] = -1
    for p in range(n):
        if board[p] == 0 or gid[p] >= 0:
            continue
        g = groups
        groups += 1
        tag = stamp + g + 1
        color = board[p]
        key = KEY if color == 1 else KEY + 1
        stack[0] = p
        gid[p] = g
        count = 1
        i = 0
        liberties = 0
        h = 0
        while i < count:
            s = stack[i]
            i += 1
            h ^= tables[s, key]
            for k in range(NBR, NBR + 4):
                q = tables[s, k]
                if q < 0:
                    break
                v = board[q]
                if v == 0:
                    if libmark[q] != tag:
                        libmark[q] = tag
                        if liberties == 0:
                            lib_a[g] = q
                        elif liberties == 1:
                            lib_b[g] = q
                        liberties += 1
                elif v == color and gid[q] < 0:
                    gid[q] = g
                    stack[count] = q
                    count += 1
        libs[g] = liberties
        ghash[g] = h
        stones[g] = count
    return stamp + groups + 1


@njit(cache=True)
def label_arrays(n):
    """Fresh ``label_groups`` arrays for ``n`` points: (gid, libs, ghash, lib_a, lib_b, stones, stack, libmark)."""
    return (np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int64), np.empty(n, np.int32),
            np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32), np.zeros(n, np.int64))


@njit(cache=True)
def liberty_counts(board, tables):
    """Liberties of the group on each point, ``(size*size,)`` int32; 0 on empty points."""
    n = board.shape[0]
    gid, libs, ghash, lib_a, lib_b, stones, stack, libmark = label_arrays(n)
    label_groups(board, tables, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, 0)
    out = np.zeros(n, np.int32)
    for p in range(n):
        if gid[p] >= 0:
            out[p] = libs[gid[p]]
    return out


@njit(cache=True)
def is_eye(board, tables, point, color):
    """True if ``point`` is empty and a single-point eye of ``color``: every neighbour ours, and at most one
    opponent diagonal in the centre (none on the edge)."""
    if board[point] != 0:
        return False
    for k in range(NBR, NBR + 4):
        q = tables[point, k]
        if q < 0:
            break
        if board[q] != color:
            return False
    bad = 0
    off_board = False
    for k in range(DIAG, DIAG + 4):
        q = tables[point, k]
        if q < 0:
            off_board = True
            break
        if board[q] == -color:
            bad += 1
    if off_board:
        return bad == 0
    return bad <= 1


@njit(cache=True)
def legal_mask(boards, hashes, hlen, tables, color, ko, superko, skip_eyes):
    """The legal moves of ``color`` as a bool mask ``(size*size+1,)``; the pass (last entry) is always legal.

    With ``skip_eyes`` the moves that fill one of ``color``'s own single-point eyes are left out too.
    """
    board = boards[hlen - 1]
    n = board.shape[0]
    out = np.empty(n + 1, np.bool_)
    gid, libs, ghash, lib_a, lib_b, stones, stack, libmark = label_arrays(n)
    label_groups(board, tables, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, 0)
    key = KEY if color == 1 else KEY + 1
    h0 = hashes[hlen - 1]
    caps = np.empty(4, np.int32)
    scratch = np.empty(n, np.int8)
    table, table_mask = hash_table(hashes, hlen if superko else 0, hlen)
    for p in range(n):
        out[p] = False
        if board[p] != 0 or p == ko:
            continue
        if skip_eyes and is_eye(board, tables, p, color):
            continue
        has_liberty = False
        n_caps = 0
        h = h0 ^ tables[p, key]
        for k in range(NBR, NBR + 4):
            q = tables[p, k]
            if q < 0:
                break
            v = board[q]
            if v == 0:
                has_liberty = True
            elif v == color:
                if libs[gid[q]] > 1:
                    has_liberty = True
            elif libs[gid[q]] == 1:
                g = gid[q]
                seen = False
                for j in range(n_caps):
                    if caps[j] == g:
                        seen = True
                if not seen:
                    caps[n_caps] = g
                    n_caps += 1
                    h ^= ghash[g]
        if not has_liberty and n_caps == 0:
            continue
        if superko:
            repeated = False
            slot = h & table_mask
            while table[slot] >= 0:
                i = table[slot]
                if hashes[i] == h:
                    # A hash hit is confirmed against the real board before the move is refused.
                    for s in range(n):
                        scratch[s] = board[s]
                        for j in range(n_caps):
                            if gid[s] == caps[j]:
                                scratch[s] = 0
                    scratch[p] = color
                    if same_board(scratch, boards[i]):
                        repeated = True
                        break
                slot = (slot + 1) & table_mask
            if repeated:
                continue
        out[p] = True
    out[n] = True
    return out


@njit(cache=True)
def owners(board, tables):
    """Tromp-Taylor owner of every point, ``(n,)`` int8 from Black's view: +1 a black stone or an empty point
    reaching only black, -1 the same for white, 0 an empty point reaching both (or neither)."""
    n = board.shape[0]
    out = np.zeros(n, np.int8)
    mark = np.zeros(n, np.int32)
    stack = np.empty(n, np.int32)
    for p in range(n):
        if board[p] != 0:
            out[p] = board[p]
        elif mark[p] == 0:
            mark[p] = 1
            stack[0] = p
            count = 1
            i = 0
            reaches_black = False
            reaches_white = False
            while i < count:
                s = stack[i]
                i += 1
                for k in range(NBR, NBR + 4):
                    q = tables[s, k]
                    if q < 0:
                        break
                    v = board[q]
                    if v == 1:
                        reaches_black = True
                    elif v == -1:
                        reaches_white = True
                    elif mark[q] == 0:
                        mark[q] = 1
                        stack[count] = q
                        count += 1
            owner = 0
            if reaches_black and not reaches_white:
                owner = 1
            elif reaches_white and not reaches_black:
                owner = -1
            for j in range(count):
                out[stack[j]] = owner
    return out


@njit(cache=True)
def area(board, tables):
    """Tromp-Taylor area: (black stones + empty points reaching only black, the same for white)."""
    own = owners(board, tables)
    black = 0
    white = 0
    for p in range(own.shape[0]):
        if own[p] == 1:
            black += 1
        elif own[p] == -1:
            white += 1
    return black, white


@njit(cache=True)
def next_random(state):
    """xorshift64*: returns (new state, 31 random bits as int64)."""
    state ^= state >> _U12
    state ^= state << _U25
    state ^= state >> _U27
    return state, np.int64((state * _MULT) >> _U33)


@njit(cache=True)
def playout_history(boards, hashes, hlen, moves_left, superko):
    """The superko history a playout extends: every board of the game so far, room for ``moves_left`` more,
    and an open-addressing table of their hashes so each candidate move is checked in O(1).

    Returns (hashes, boards, table, table mask, length); without ``superko`` nothing is recorded (length 0).
    """
    n = boards.shape[1]
    capacity = hlen + max(moves_left, 0) + 1
    hist_hash = np.empty(capacity, np.int64)
    hist_board = np.empty((capacity if superko else 0, n), np.int8)
    length = hlen if superko else 0
    table, table_mask = hash_table(hashes, length, capacity)
    for i in range(length):
        hist_hash[i] = hashes[i]
        hist_board[i] = boards[i]
    return hist_hash, hist_board, table, table_mask, length


@njit(cache=True)
def random_playout(boards, hashes, hlen, tables, color, ko, passes, move_number, move_cap, superko, seed):
    """Play uniformly random legal moves that never fill the mover's own single-point eye, passing only when
    no such move is left, until two consecutive passes or ``move_cap`` moves in all.

    Starts from ``boards[hlen-1]`` with ``color`` to move; returns (final board, the points played in order
    with ``size*size`` for a pass, black area, white area).
    """
    board = boards[hlen - 1].copy()
    n = board.shape[0]
    hist_hash, hist_board, table, table_mask, length = playout_history(boards, hashes, hlen, move_cap - move_number,
                                                                       superko)
    h = hashes[hlen - 1]

    empties = np.empty(n, np.int32)
    where = np.full(n, -1, np.int32)  # index of each empty point in ``empties``
    n_empty = 0
    for p in range(n):
        if board[p] == 0:
            where[p] = n_empty
            empties[n_empty] = p
            n_empty += 1

    stack = np.empty(n, np.int32)
    mark = np.zeros(n + 1, np.int32)
    captured = np.empty(n, np.int32)
    sequence = np.empty(max(move_cap - move_number, 0), np.int32)
    state = np.uint64(seed) | np.uint64(1)
    played = 0
    h_new = h
    n_captured = 0
    own_size = 0
    while passes < 2 and move_number < move_cap:
        window = n_empty
        chosen = -1
        while window > 0:
            state, r = next_random(state)
            idx = r % window
            p = empties[idx]
            legal = p != ko and not is_eye(board, tables, p, color)
            if legal:
                h_new, n_captured, own_liberty, own_size = place(board, tables, p, color, h, stack, mark,
                                                                  captured)
                if not own_liberty:
                    legal = False
                    board[p] = 0  # a suicide captured nothing, so only the stone itself goes
                elif superko:
                    slot = h_new & table_mask
                    while table[slot] >= 0:
                        j = table[slot]
                        if hist_hash[j] == h_new and same_board(hist_board[j], board):
                            legal = False
                            break
                        slot = (slot + 1) & table_mask
                    if not legal:
                        board[p] = 0
                        for j in range(n_captured):
                            board[captured[j]] = -color
            if legal:
                chosen = p
                break
            # Move the rejected point out of the window; the empties set itself is unchanged.
            window -= 1
            other = empties[window]
            empties[idx] = other
            where[other] = idx
            empties[window] = p
            where[p] = window
        if chosen < 0:
            passes += 1
            ko = -1
            sequence[played] = n
        else:
            passes = 0
            h = h_new
            sequence[played] = chosen
            # Update the empty-point list: the stone's point leaves, captured points come back.
            i = where[chosen]
            n_empty -= 1
            last = empties[n_empty]
            empties[i] = last
            where[last] = i
            where[chosen] = -1
            for j in range(n_captured):
                s = captured[j]
                where[s] = n_empty
                empties[n_empty] = s
                n_empty += 1
            ko = ko_after(board, tables, chosen, n_captured, own_size, captured)
            if superko:
                hist_hash[length] = h
                hist_board[length] = board
                table_insert(table, table_mask, h, length)
                length += 1
        color = -color
        move_number += 1
        played += 1
    black, white = area(board, tables)
    return board, sequence[:played], black, white
