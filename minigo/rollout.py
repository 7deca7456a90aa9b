"""The fast rollout policy's compiled side: local-pattern features of candidate moves and whole playouts.

The rollout policy (AlphaGo's "linear softmax over small local patterns") scores a candidate move ``p`` for
the player to move as the sum of the weights of its active binary features; a playout samples each move from
``softmax(logits / temperature)`` over the sensible moves. The weights are trained in ``models`` (torch,
``RolloutPolicy``) and arrive here as a plain numpy vector, so playouts run entirely in numba without torch.

Feature layout (every index is for the player to move, never for a fixed colour):

- ``0 .. NUM_PATTERNS-1``: the 3x3 pattern around ``p``. Each of the 8 neighbours is one of
  ``EMPTY_STATE = 0``, ``OWN = 1``, ``OPPONENT = 2``, ``OFF_BOARD = 3``; in the fixed order ``NEIGHBOUR_OFFSETS``
  (row-major around the centre: NW, N, NE, W, E, SW, S, SE) neighbour ``k`` contributes ``state * 4**k`` to a raw
  code in ``0 .. 4**8-1``. Raw codes are reduced under the 8 symmetries of the square (canonical form: the
  smallest raw code among the 8 images) and the canonical codes are numbered densely in increasing order:
  ``PATTERN_ID[raw code]`` is the feature index. There are 8,740 classes (Burnside), many of them unreachable
  (off-board cells that do not form an edge); those simply keep weight 0.
- ``NUM_PATTERNS + f`` for the flags ``f`` of ``FLAG_NAMES``, each judged on the exact board after the move:

  0. ``capture_one``: the move captures exactly one stone;
  1. ``capture_many``: it captures two or more stones;
  2. ``saves_atari``: an own group next to ``p`` was in atari and the merged group has >= 2 liberties after the
     move (captures included);
  3. ``self_atari``: the own group has exactly one liberty after the move and the move captures nothing;
  4. ``atari``: an opponent group next to ``p`` is left with exactly one liberty;
  5. ``near_last``: ``p`` is in the 8-neighbourhood of the last move (not a pass);
  6. ``dist2_last``: ``p`` is at Manhattan distance 2 from the last move, outside its 8-neighbourhood;
  7. ``captures_last``: the move captures the group of the stone just played.

``NUM_FEATURES = NUM_PATTERNS + NUM_FLAGS``; a candidate's active features are listed pattern first, then flags
in increasing order, padded with ``-1`` to ``MAX_ACTIVE = 6`` (pattern, one capture flag, saves_atari, atari,
one distance flag, captures_last: self_atari excludes captures and saves). A weight vector has
``NUM_FEATURES + 1`` entries (``models.nets.RolloutPolicy``: the last one belongs to the padding and is ignored).

Sensible moves are those of ``Position.sensible_moves()`` without the pass: legal (not occupied, not suicide,
not the ko point, not a positional-superko repeat when the rules say so) and not filling one of the mover's own
single-point eyes. A playout passes only when no sensible move is left. Scores are Black's area minus White's
minus komi (Tromp-Taylor), as in ``minigo.go.random_playout``.

Speed: per move the playout relabels the groups once and reads each candidate's pattern, eye test and "touches a
stone" bit from one table lookup of an incrementally kept 3x3 code; only candidates next to stones get the
liberty analysis. ``bench/rollout.py`` measures it (complete 9x9 rollouts per second on one core).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from minigo import kernels
from minigo.go import PlayoutResult, Position, tables
from minigo.kernels import NBR, hash_table, ko_after, next_random, place, same_board, table_insert

__all__ = [
    "NEIGHBOUR_OFFSETS", "EMPTY_STATE", "OWN", "OPPONENT", "OFF_BOARD", "PATTERN_ID", "NUM_PATTERNS", "FLAG_NAMES",
    "NUM_FLAGS", "NUM_FEATURES", "MAX_ACTIVE", "CAPTURE_ONE", "CAPTURE_MANY", "SAVES_ATARI", "SELF_ATARI", "ATARI",
    "NEAR_LAST", "DIST2_LAST", "CAPTURES_LAST", "pattern_code", "feature_names", "candidate_features",
    "policy_playout",
]

NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
"""(row, col) offsets of the 8 neighbours in pattern order: neighbour ``k`` is the base-4 digit ``k``."""
EMPTY_STATE, OWN, OPPONENT, OFF_BOARD = 0, 1, 2, 3


def _symmetric_pattern_ids() -> tuple[np.ndarray, int]:
    """``PATTERN_ID`` (int32 ``(4**8,)``: raw code -> dense class index) and the number of classes."""
    codes = np.arange(4**8, dtype=np.int64)
    shifts = 2 * np.arange(8, dtype=np.int64)
    digits = (codes[:, None] >> shifts) & 3  # (65536, 8): state of neighbour k
    where = {offset: k for k, offset in enumerate(NEIGHBOUR_OFFSETS)}
    canonical = codes.copy()
    for swap in (False, True):
        for sr in (1, -1):
            for sc in (1, -1):
                # The image of a pattern puts the state of neighbour k at the transformed offset.
                target = np.empty(8, dtype=np.int64)
                for k, (dr, dc) in enumerate(NEIGHBOUR_OFFSETS):
                    r, c = (dc, dr) if swap else (dr, dc)
                    target[k] = where[(sr * r, sc * c)]
                image = (digits << (2 * target)).sum(axis=1)
                canonical = np.minimum(canonical, image)
    classes, dense = np.unique(canonical, return_inverse=True)
    return dense.astype(np.int32).reshape(-1), len(classes)


PATTERN_ID, NUM_PATTERNS = _symmetric_pattern_ids()
PATTERN_ID.flags.writeable = False

FLAG_NAMES = ("capture_one", "capture_many", "saves_atari", "self_atari", "atari", "near_last", "dist2_last",
              "captures_last")
NUM_FLAGS = len(FLAG_NAMES)
CAPTURE_ONE, CAPTURE_MANY, SAVES_ATARI, SELF_ATARI, ATARI, NEAR_LAST, DIST2_LAST, CAPTURES_LAST = (
    NUM_PATTERNS + f for f in range(NUM_FLAGS))
NUM_FEATURES = NUM_PATTERNS + NUM_FLAGS
MAX_ACTIVE = 6


def pattern_code(states: tuple[int, ...] | list[int]) -> int:
    """The raw code of 8 neighbour states given in ``NEIGHBOUR_OFFSETS`` order; ``PATTERN_ID[code]`` is its index."""
    if len(states) != 8 or any(s not in (EMPTY_STATE, OWN, OPPONENT, OFF_BOARD) for s in states):
        raise ValueError(f"expected 8 neighbour states in 0..3, got {states!r}")
    return sum(int(s) << (2 * k) for k, s in enumerate(states))


def feature_names(active: np.ndarray) -> list[str]:
    """Readable names of one candidate's active features (``pattern:<index>`` or a flag name), padding dropped."""
    names = []
    for f in np.asarray(active).tolist():
        if f < 0:
            continue
        names.append(f"pattern:{f}" if f < NUM_PATTERNS else FLAG_NAMES[f - NUM_PATTERNS])
    return names


def _code_table() -> np.ndarray:
    """What the kernels need to know of a raw code, packed in one int32 ``(4**8,)`` lookup: the pattern index
    ``<< 2``, bit 0 set when the centre is the mover's own single-point eye (``kernels.is_eye``, which reads only
    the 3x3 neighbourhood), bit 1 set when a stone touches the centre orthogonally (else no liberty flag can fire
    and the move is legal apart from ko, so the kernels skip the group analysis)."""
    codes = np.arange(4**8, dtype=np.int64)
    digits = (codes[:, None] >> (2 * np.arange(8, dtype=np.int64))) & 3
    orth = digits[:, [1, 3, 4, 6]]
    diag = digits[:, [0, 2, 5, 7]]
    bad = (diag == OPPONENT).sum(axis=1)
    eye = np.all((orth == OWN) | (orth == OFF_BOARD), axis=1) & np.where(
        np.any(diag == OFF_BOARD, axis=1), bad == 0, bad <= 1)
    touches = np.any((orth == OWN) | (orth == OPPONENT), axis=1)
    return (PATTERN_ID.astype(np.int32) << 2) | eye.astype(np.int32) | (touches.astype(np.int32) << 1)


_CODE_TABLE = _code_table()  # left writeable: numba unboxes read-only arrays through a slower path


@functools.cache
def _neighbours8(size: int) -> np.ndarray:
    """int64 ``(size*size, 8)``: the neighbour of each point at each ``NEIGHBOUR_OFFSETS`` entry, -1 off the board."""
    out = np.full((size * size, 8), -1, dtype=np.int64)
    for row in range(size):
        for col in range(size):
            for k, (dr, dc) in enumerate(NEIGHBOUR_OFFSETS):
                r, c = row + dr, col + dc
                if 0 <= r < size and 0 <= c < size:
                    out[row * size + col, k] = r * size + c
    return out


# ------------------------------------------------------------------------------------------ compiled side
#
# Per move the playout relabels the groups (exact liberties, and the liberty points of groups with at most two)
# and scores every empty point. The 3x3 raw codes are kept per point incrementally, one array per side to move
# (``codes[0]``: Black to move, own = Black; ``codes[1]``: White to move), so the pattern, the eye test and the
# "touches a stone" shortcut cost one table lookup per candidate.


@njit(cache=True)
def _state(value, color):
    """Pattern state of a board value for ``color`` to move: 0 empty, 1 own, 2 opponent."""
    if value == 0:
        return 0
    return 1 if value == color else 2


@njit(cache=True)
def _init_codes(board, nbr8, codes):
    """Fill ``codes`` (int32 ``(2, n)``) with the raw 3x3 code of every point for each side to move."""
    n = board.shape[0]
    for p in range(n):
        black = 0
        white = 0
        for k in range(8):
            q = nbr8[p, k]
            if q < 0:
                black |= 3 << (2 * k)
                white |= 3 << (2 * k)
            else:
                black |= _state(board[q], 1) << (2 * k)
                white |= _state(board[q], -1) << (2 * k)
        codes[0, p] = black
        codes[1, p] = white


@njit(cache=True)
def _update_codes(nbr8, codes, q, before, after):
    """Point ``q`` changed from board value ``before`` to ``after``: fix the codes of its 8 neighbours."""
    d_black = _state(after, 1) - _state(before, 1)
    d_white = _state(after, -1) - _state(before, -1)
    for k in range(8):
        r = nbr8[q, k]
        if r >= 0:
            # Seen from r, q lies in the opposite direction, which is digit 7 - k in NEIGHBOUR_OFFSETS.
            shift = 2 * (7 - k)
            codes[0, r] += d_black << shift
            codes[1, r] += d_white << shift


@njit(cache=True)
def _flood_liberties(board, tables, p, color, gid, libs, lib_a, stack, mark):
    """Liberties (0, 1, or 2 meaning "2 or more") of the own group after ``color`` plays ``p``, captures included,
    by a flood over the merged group. The slow exact path, used only when a move captures and the quick count
    in ``_scan`` is not conclusive. ``mark`` follows ``kernels.place`` (its last entry is the counter)."""
    n = board.shape[0]
    stamp = mark[n] + 1
    mark[n] = stamp
    stack[0] = p
    mark[p] = stamp
    count = 1
    i = 0
    first = -1
    while i < count:
        s = stack[i]
        i += 1
        for k in range(NBR, NBR + 4):
            q = tables[s, k]
            if q < 0:
                break
            v = board[q]
            if v == color:
                if mark[q] != stamp:
                    mark[q] = stamp
                    stack[count] = q
                    count += 1
                continue
            # An empty point other than p is a liberty; so is a stone of an opponent group whose only liberty
            # is p, because the move captures it.
            freed = (v == 0 and q != p) or (v == -color and libs[gid[q]] == 1 and lib_a[gid[q]] == p)
            if freed and q != first:
                if first >= 0:
                    return 2
                first = q
    return 0 if first < 0 else 1


@njit(cache=True)
def _scan(board, tables, view, code_table, gid, libs, lib_a, lib_b, stones, color, ko, last_move, cand, feat, stack,
          mark):
    """Find the moves of ``color`` that are legal up to superko and fill no own single-point eye, and their features.

    Writes the points in increasing order to ``cand[:m]`` and their active features to ``feat[:m]`` (-1 padded) and
    returns ``m``. ``view`` holds the raw 3x3 codes for ``color`` to move; ``gid``, ``libs``, ``lib_a``, ``lib_b`` and
    ``stones`` come from ``kernels.label_groups`` on this board. One call per move, not per candidate, because every
    array passed to a compiled call costs reference counting.
    """
    n = board.shape[0]
    size = int(math.sqrt(n) + 0.5)
    last_row = -1
    last_col = -1
    last_gid = -1
    if 0 <= last_move < n:
        last_row = last_move // size
        last_col = last_move % size
        if board[last_move] == -color:
            last_gid = gid[last_move]
    m = 0
    p = -1
    for row in range(size):
        for col in range(size):
            p += 1
            if board[p] != 0 or p == ko:
                continue
            info = code_table[view[p]]
            if info & 1:
                continue  # the mover's own single-point eye
            f = 1  # next free slot of feat[m]; slot 0 is the pattern
            captures_last = False
            if info & 2:
                # A stone touches p. Liberties after the move, counted up to 2 as a set of at most two distinct
                # points (lib1, lib2); captured groups are told apart by id (at most 3 distinct ones fit).
                lib1 = -1
                lib2 = -1
                big = False
                in_atari = False
                atari = False
                captured = 0
                cap0 = -1
                cap1 = -1
                cap2 = -1
                for k in range(NBR, NBR + 4):
                    q = tables[p, k]
                    if q < 0:
                        break
                    v = board[q]
                    new = -1  # a point that is a liberty after the move
                    if v == 0:
                        new = q
                    elif v == color:
                        g = gid[q]
                        if libs[g] >= 3:
                            big = True  # that group alone keeps at least 2 liberties besides p
                        elif libs[g] == 2:
                            new = lib_b[g] if lib_a[g] == p else lib_a[g]
                        else:
                            in_atari = True  # its only liberty is p
                    else:
                        g = gid[q]
                        if libs[g] == 1:
                            new = q  # captured: q empties and touches p
                            if g != cap0 and g != cap1 and g != cap2:
                                if cap0 < 0:
                                    cap0 = g
                                elif cap1 < 0:
                                    cap1 = g
                                else:
                                    cap2 = g
                                captured += stones[g]
                                if g == last_gid:
                                    captures_last = True
                        elif libs[g] == 2:
                            atari = True
                    if new >= 0:
                        if lib1 < 0:
                            lib1 = new
                        elif lib2 < 0 and new != lib1:
                            lib2 = new
                if big or lib2 >= 0:
                    liberties = 2
                elif captured > 0:
                    # Captured stones away from p may also touch the merged group: count exactly.
                    liberties = _flood_liberties(board, tables, p, color, gid, libs, lib_a, stack, mark)
                else:
                    liberties = 0 if lib1 < 0 else 1
                if liberties == 0:
                    continue  # suicide
                if captured == 1:
                    feat[m, f] = NUM_PATTERNS + 0
                    f += 1
                elif captured >= 2:
                    feat[m, f] = NUM_PATTERNS + 1
                    f += 1
                if in_atari and liberties >= 2:
                    feat[m, f] = NUM_PATTERNS + 2
                    f += 1
                if liberties == 1 and captured == 0:
                    feat[m, f] = NUM_PATTERNS + 3
                    f += 1
                if atari:
                    feat[m, f] = NUM_PATTERNS + 4
                    f += 1
            if last_row >= 0:
                dr = abs(row - last_row)
                dc = abs(col - last_col)
                if dr <= 1 and dc <= 1:
                    feat[m, f] = NUM_PATTERNS + 5
                    f += 1
                elif dr + dc == 2:
                    feat[m, f] = NUM_PATTERNS + 6
                    f += 1
            if captures_last:
                feat[m, f] = NUM_PATTERNS + 7
                f += 1
            feat[m, 0] = info >> 2
            for j in range(f, MAX_ACTIVE):
                feat[m, j] = -1
            cand[m] = p
            m += 1
    return m


@njit(cache=True)
def _try_place(board, tables, p, color, h, stack, mark, captured, table, table_mask, hist_hash, hist_board, superko):
    """Play ``color`` at ``p`` in place (the caller knows it is no suicide) unless it repeats an earlier board under
    positional superko; then the board is restored. Returns (played, new hash, stones captured, own group size)."""
    h_new, n_captured, own_liberty, own_size = place(board, tables, p, color, h, stack, mark, captured)
    if superko:
        slot = h_new & table_mask
        while table[slot] >= 0:
            j = table[slot]
            # A hash hit is confirmed against the real board before the move is refused.
            if hist_hash[j] == h_new and same_board(hist_board[j], board):
                board[p] = 0
                for i in range(n_captured):
                    board[captured[i]] = -color
                return False, h, 0, 0
            slot = (slot + 1) & table_mask
    return True, h_new, n_captured, own_size


@njit(cache=True)
def _candidates(boards, hashes, hlen, tables, nbr8, code_table, color, ko, last_move, superko):
    """Points ``(m,)`` int32 and active features ``(m, MAX_ACTIVE)`` int32 (-1 padded) of every sensible move."""
    board = boards[hlen - 1].copy()
    n = board.shape[0]
    gid, libs, ghash, lib_a, lib_b, stones, stack, libmark = kernels.label_arrays(n)
    mark = np.zeros(n + 1, np.int32)
    captured = np.empty(n, np.int32)
    codes = np.empty((2, n), np.int32)
    _init_codes(board, nbr8, codes)
    view = codes[0] if color == 1 else codes[1]
    kernels.label_groups(board, tables, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, 0)
    table, table_mask = hash_table(hashes, hlen if superko else 0, hlen)
    points = np.empty(n, np.int32)
    active = np.empty((n, MAX_ACTIVE), np.int32)
    m = _scan(board, tables, view, code_table, gid, libs, lib_a, lib_b, stones, color, ko, last_move, points, active,
              stack, mark)
    if superko:
        # Keep the candidates that do not repeat an earlier board (trial moves, taken back at once).
        h = hashes[hlen - 1]
        kept = 0
        for i in range(m):
            p = points[i]
            played, _, n_captured, _ = _try_place(board, tables, p, color, h, stack, mark, captured, table,
                                                  table_mask, hashes, boards, True)
            if not played:
                continue
            board[p] = 0
            for j in range(n_captured):
                board[captured[j]] = -color
            points[kept] = p
            active[kept] = active[i]
            kept += 1
        m = kept
    return points[:m].copy(), active[:m].copy()


@njit(cache=True)
def _playout(boards, hashes, hlen, tables, nbr8, code_table, weights, color, ko, last_move, passes, move_number,
             move_cap, superko, seed, inv_temperature):
    """Play moves sampled from softmax(logits * inv_temperature) over the sensible moves (``inv_temperature < 0``:
    greedy, ties broken uniformly), passing only when none is left, until two consecutive passes or ``move_cap``
    moves in all. Returns (final board, points played with ``size*size`` for a pass, black area, white area)."""
    board = boards[hlen - 1].copy()
    n = board.shape[0]
    hist_hash, hist_board, table, table_mask, length = kernels.playout_history(boards, hashes, hlen,
                                                                               move_cap - move_number, superko)
    h = hashes[hlen - 1]

    gid, libs, ghash, lib_a, lib_b, stones, stack, libmark = kernels.label_arrays(n)
    mark = np.zeros(n + 1, np.int32)
    captured = np.empty(n, np.int32)
    codes = np.empty((2, n), np.int32)
    _init_codes(board, nbr8, codes)
    cand = np.empty(n, np.int32)
    feat = np.empty((n, MAX_ACTIVE), np.int32)
    logit = np.empty(n, np.float64)
    prob = np.empty(n, np.float64)
    greedy = inv_temperature < 0.0
    sequence = np.empty(max(move_cap - move_number, 0), np.int32)
    state = np.uint64(seed) | np.uint64(1)
    stamp = 0
    played = 0
    while passes < 2 and move_number < move_cap:
        stamp = kernels.label_groups(board, tables, gid, libs, ghash, lib_a, lib_b, stones, stack, libmark, stamp)
        view = codes[0] if color == 1 else codes[1]
        m = _scan(board, tables, view, code_table, gid, libs, lib_a, lib_b, stones, color, ko, last_move, cand, feat,
                  stack, mark)
        best = -np.inf
        for i in range(m):
            s = 0.0
            for j in range(MAX_ACTIVE):
                f = feat[i, j]
                if f < 0:
                    break
                s += weights[f]
            logit[i] = s
            if s > best:
                best = s
        chosen = -1
        h_new = h
        n_captured = 0
        own_size = 0
        while m > 0:
            total = 0.0
            for i in range(m):
                if greedy:
                    w = 1.0 if logit[i] == best else 0.0
                else:
                    w = math.exp((logit[i] - best) * inv_temperature)
                prob[i] = w
                total += w
            state, r = next_random(state)
            u = (r / 2147483648.0) * total
            pick = -1
            acc = 0.0
            for i in range(m):
                if prob[i] > 0.0:
                    pick = i  # the last candidate with weight, should rounding leave u past the end
                    acc += prob[i]
                    if u < acc:
                        break
            p = cand[pick]
            ok, h_new, n_captured, own_size = _try_place(board, tables, p, color, h, stack, mark, captured, table,
                                                         table_mask, hist_hash, hist_board, superko)
            if ok:
                chosen = p
                break
            # A superko repeat (rare): drop it and sample again from the rest.
            m -= 1
            cand[pick] = cand[m]
            logit[pick] = logit[m]
            best = -np.inf
            for i in range(m):
                if logit[i] > best:
                    best = logit[i]
        if chosen < 0:
            passes += 1
            ko = -1
            sequence[played] = n
            last_move = n
        else:
            passes = 0
            h = h_new
            sequence[played] = chosen
            _update_codes(nbr8, codes, chosen, 0, color)
            for j in range(n_captured):
                _update_codes(nbr8, codes, captured[j], -color, 0)
            ko = ko_after(board, tables, chosen, n_captured, own_size, captured)
            last_move = chosen
            if superko:
                hist_hash[length] = h
                hist_board[length] = board
                table_insert(table, table_mask, h, length)
                length += 1
        color = -color
        move_number += 1
        played += 1
    black, white = kernels.area(board, tables)
    return board, sequence[:played], black, white


# ------------------------------------------------------------------------------------------- Python side


def candidate_features(position: Position) -> tuple[np.ndarray, np.ndarray]:
    """The sensible moves of the side to move (pass excluded) and their features, in one compiled call.

    Returns ``points`` int32 ``(m,)`` in increasing order and ``active`` int32 ``(m, MAX_ACTIVE)``: the feature
    indices of each candidate for the player to move, pattern first, padded with -1.
    """
    last = -1 if position.last_move is None else position.last_move
    return _candidates(position._hist.boards, position._hist.hashes, position._hlen, tables(position.size),
                       _neighbours8(position.size), _CODE_TABLE, position.to_play, position.ko, last,
                       position.rules.superko)


def _weight_vector(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights)
    if w.ndim != 1 or w.shape[0] not in (NUM_FEATURES, NUM_FEATURES + 1):
        raise ValueError(f"rollout weights have shape {w.shape}, expected ({NUM_FEATURES + 1},) (NUM_FEATURES + 1)")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError("rollout weights contain NaN or infinity")
    return w


def policy_playout(position: Position, weights: np.ndarray, rng: np.random.Generator,
                   temperature: float = 1.0) -> PlayoutResult:
    """Play the game out with the rollout policy, entirely in compiled code; score it by Tromp-Taylor.

    Each move is sampled from ``softmax(logits / temperature)`` over the sensible moves, where a move's logit is
    the sum of ``weights`` over its active features (``weights``: ``(NUM_FEATURES + 1,)`` float, the last entry
    unused). ``temperature = 0`` plays the highest logit, ties broken uniformly. Passes only when no sensible move
    is left; stops after two consecutive passes or at the move cap. Like ``go.random_playout``, one seed is drawn
    from ``rng`` and the kernel runs its own xorshift generator from it.
    """
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature {temperature!r} is not a number") from None
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature {temperature!r} is not a finite number >= 0")
    w = _weight_vector(weights)
    seed = int(rng.integers(1, 2**63 - 1))
    last = -1 if position.last_move is None else position.last_move
    inv_temperature = -1.0 if temperature == 0 else 1.0 / temperature
    board, sequence, black, white = _playout(
        position._hist.boards, position._hist.hashes, position._hlen, tables(position.size),
        _neighbours8(position.size), _CODE_TABLE, w, position.to_play, position.ko, last, position.passes,
        position.move_number, position.rules.move_cap, position.rules.superko, seed, inv_temperature)
    return PlayoutResult(float(black - white) - position.komi, len(sequence), board, sequence)
