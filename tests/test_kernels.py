"""``kernels.label_groups``, the one group labelling that legality, features and rollouts all read, against a
plain-Python flood fill."""

from __future__ import annotations

import numpy as np
import pytest

from minigo import kernels
from minigo.go import Position, tables


def reference_groups(board: np.ndarray, size: int) -> list[tuple[list[int], set[int]]]:
    """Each group's stones and liberty set, groups in order of their lowest point."""
    seen: set[int] = set()
    groups = []
    for p in range(size * size):
        if board[p] == 0 or p in seen:
            continue
        stones, libs, todo = [], set(), [p]
        seen.add(p)
        while todo:
            s = todo.pop()
            stones.append(s)
            r, c = divmod(s, size)
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < size and 0 <= cc < size:
                    q = rr * size + cc
                    if board[q] == 0:
                        libs.add(q)
                    elif board[q] == board[p] and q not in seen:
                        seen.add(q)
                        todo.append(q)
        groups.append((stones, libs))
    return groups


@pytest.mark.parametrize("size", [1, 5, 9])
def test_label_groups_matches_a_plain_flood_fill_with_libmark_never_cleared(size, rng):
    n = size * size
    tab = tables(size)
    gid, libs, ghash, lib_a, lib_b, stones, stack, libmark = kernels.label_arrays(n)
    stamp = 0
    pos = Position.empty(size)
    for _ in range(3 * n):
        board = pos.board
        new_stamp = kernels.label_groups(board, tab, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, stamp)
        groups = reference_groups(board, size)
        assert new_stamp == stamp + len(groups) + 1
        stamp = new_stamp
        assert np.all(gid[board == 0] == -1)
        for g, (members, liberties) in enumerate(groups):
            assert set(np.flatnonzero(gid == g)) == set(members)
            assert stones[g] == len(members)
            assert libs[g] == len(liberties)
            key = kernels.KEY if board[members[0]] == 1 else kernels.KEY + 1
            assert ghash[g] == np.bitwise_xor.reduce(tab[members, key])
            first_two = {int(lib_a[g]), int(lib_b[g])} if len(liberties) >= 2 else {int(lib_a[g])}
            assert len(first_two) == min(len(liberties), 2) and first_two <= liberties
        moves = np.flatnonzero(pos.sensible_moves()[:n])
        if pos.is_game_over or len(moves) == 0:
            break
        pos = pos.play(int(rng.choice(moves)))
