"""The rollout policy's compiled side (``minigo.rollout``): pattern and flag features on drawn boards, the
candidate set, and policy-guided playouts replayed through ``Position.play``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigo import rollout
from minigo.coords import from_gtp
from minigo.go import BLACK, WHITE, Position, Rules, board_from_string, random_playout, replay
from minigo.rollout import (
    ATARI,
    CAPTURE_MANY,
    CAPTURE_ONE,
    CAPTURES_LAST,
    DIST2_LAST,
    EMPTY_STATE,
    MAX_ACTIVE,
    NEAR_LAST,
    NUM_FEATURES,
    NUM_PATTERNS,
    OFF_BOARD,
    OPPONENT,
    OWN,
    PATTERN_ID,
    SAVES_ATARI,
    SELF_ATARI,
    candidate_features,
    pattern_code,
    policy_playout,
)

FLAGS = {CAPTURE_ONE, CAPTURE_MANY, SAVES_ATARI, SELF_ATARI, ATARI, NEAR_LAST, DIST2_LAST, CAPTURES_LAST}


def v(position: Position, vertex: str) -> int:
    return from_gtp(vertex, position.size)


def features_at(position: Position, vertex: str) -> list[int]:
    """The active features of one candidate (pattern first), or a failure if it is no candidate."""
    points, active = candidate_features(position)
    point = v(position, vertex)
    where = np.flatnonzero(points == point)
    assert len(where) == 1, f"{vertex} is not a candidate"
    row = active[where[0]]
    return [int(f) for f in row if f >= 0]


def flags_at(position: Position, vertex: str) -> set[int]:
    return set(features_at(position, vertex)[1:])


def pattern_of(*states: int) -> int:
    return int(PATTERN_ID[pattern_code(states)])


def play_all(position: Position, *vertices: str) -> Position:
    for vertex in vertices:
        position = position.play(v(position, vertex))
    return position


# -- layout -----------------------------------------------------------------------------------------

def test_layout_constants_fit_together():
    assert NUM_PATTERNS == 8740  # Burnside: (4**8 + 2 * 4**2 + 4**4 + 4 * 4**5) / 8
    assert NUM_FEATURES == NUM_PATTERNS + len(rollout.FLAG_NAMES)
    assert PATTERN_ID.shape == (4**8,)
    assert PATTERN_ID.min() == 0 and PATTERN_ID.max() == NUM_PATTERNS - 1
    assert sorted(FLAGS) == list(range(NUM_PATTERNS, NUM_FEATURES))


def test_feature_names_are_readable():
    assert rollout.feature_names(np.array([7, CAPTURE_ONE, NEAR_LAST, -1, -1, -1])) == [
        "pattern:7", "capture_one", "near_last"]


# -- the 3x3 pattern --------------------------------------------------------------------------------

NEIGHBOURHOOD = """
    . . . . .
    . X O . .
    . . . X .
    . O . . .
    . . . . .
"""


def test_pattern_index_of_a_drawn_neighbourhood():
    pos = board_from_string(NEIGHBOURHOOD)
    # C3's neighbours in NEIGHBOUR_OFFSETS order: NW, N, NE, W, E, SW, S, SE.
    expected = pattern_of(OWN, OPPONENT, EMPTY_STATE, EMPTY_STATE, OWN, OPPONENT, EMPTY_STATE, EMPTY_STATE)
    assert features_at(pos, "C3")[0] == expected


def test_pattern_swaps_own_and_opponent_when_white_is_to_move():
    pos = board_from_string(NEIGHBOURHOOD, to_play=WHITE)
    expected = pattern_of(OPPONENT, OWN, EMPTY_STATE, EMPTY_STATE, OPPONENT, OWN, EMPTY_STATE, EMPTY_STATE)
    assert features_at(pos, "C3")[0] == expected
    assert expected != features_at(board_from_string(NEIGHBOURHOOD), "C3")[0]


def test_pattern_marks_points_off_the_edge_and_corner():
    pos = board_from_string("""
        . X . . .
        . . O . .
        . . . . .
        O . . . .
        . X . . .
    """)
    # C5 on the top edge: NW, N, NE off the board; W is X, SW empty, S is O.
    assert features_at(pos, "C5")[0] == pattern_of(OFF_BOARD, OFF_BOARD, OFF_BOARD, OWN, EMPTY_STATE, EMPTY_STATE,
                                                   OPPONENT, EMPTY_STATE)
    # A1 in the corner: only N (O), NE (empty) and E (X) are on the board.
    assert features_at(pos, "A1")[0] == pattern_of(OFF_BOARD, OPPONENT, EMPTY_STATE, OFF_BOARD, OWN, OFF_BOARD,
                                                   OFF_BOARD, OFF_BOARD)


def test_rotated_and_mirrored_neighbourhoods_share_a_pattern():
    base = board_from_string(NEIGHBOURHOOD)
    grid = base.board.reshape(5, 5)
    ids = set()
    for k in range(4):
        for flip in (False, True):
            image = np.rot90(grid, k)
            image = np.fliplr(image) if flip else image
            pos = Position.empty(5).with_setup(black=np.flatnonzero(image.ravel() == BLACK),
                                               white=np.flatnonzero(image.ravel() == WHITE))
            ids.add(features_at(pos, "C3")[0])  # the centre stays the centre
    assert len(ids) == 1


def test_different_neighbourhoods_get_different_patterns():
    a = pattern_of(OWN, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE)
    b = pattern_of(EMPTY_STATE, OWN, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE)
    c = pattern_of(OPPONENT, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE, EMPTY_STATE,
                   EMPTY_STATE)
    assert len({a, b, c}) == 3


def test_pattern_code_refuses_bad_states():
    with pytest.raises(ValueError, match="8 neighbour states"):
        pattern_code((0, 1, 2))
    with pytest.raises(ValueError, match="8 neighbour states"):
        pattern_code((0, 1, 2, 3, 4, 0, 0, 0))


# -- flags ------------------------------------------------------------------------------------------

def test_capturing_one_stone_sets_capture_one():
    pos = board_from_string("""
        . . . . .
        . . X . .
        . X O . .
        . . X . .
        . . . . .
    """)
    assert flags_at(pos, "D3") == {CAPTURE_ONE}
    assert flags_at(pos, "D4") == set()


def test_capturing_two_stones_sets_capture_many():
    pos = board_from_string("""
        . . . . .
        . X X . .
        X O O . .
        . X X . .
        . . . . .
    """)
    assert flags_at(pos, "D3") == {CAPTURE_MANY}


def test_extending_a_group_in_atari_to_safety_saves_it():
    pos = board_from_string("""
        . . . . .
        . O . . .
        O X O . .
        . . . . .
        . . . . .
    """)
    assert flags_at(pos, "B2") == {SAVES_ATARI}


def test_extending_into_a_single_liberty_is_self_atari_not_a_save():
    pos = board_from_string("""
        . . . . .
        . O . . .
        O X O . .
        O . O . .
        . . . . .
    """)
    assert flags_at(pos, "B2") == {SELF_ATARI}


def test_a_lone_stone_with_one_liberty_is_self_atari():
    pos = board_from_string("""
        . . . . .
        . . O . .
        . O . O .
        . . . . .
        . . . . .
    """)
    assert flags_at(pos, "C3") == {SELF_ATARI}
    assert SELF_ATARI not in flags_at(pos, "C2")


def test_capturing_into_a_ko_is_no_self_atari():
    pos = board_from_string("""
        . . . . .
        . . . . .
        . X O . .
        X O . O .
        . X O . .
    """)
    assert flags_at(pos, "C2") == {CAPTURE_ONE, ATARI}  # C1 drops to one liberty
    after = pos.play(v(pos, "C2"))
    assert after.ko == v(pos, "B2")
    assert v(pos, "B2") not in candidate_features(after)[0]


def test_capture_that_frees_a_second_liberty_away_from_the_move_saves_the_group():
    pos = board_from_string("""
        . . . . .
        . . . . .
        O O O . .
        X X X O .
        . O O X .
    """)
    # Black A1 takes B1 and C1: B1 touches the move, C1 only touches C2 of the merged group, so it takes the
    # exact count to see the two liberties.
    assert flags_at(pos, "A1") == {CAPTURE_MANY, SAVES_ATARI}


def test_capture_that_leaves_the_merged_group_one_liberty_neither_saves_nor_self_ataris():
    pos = board_from_string("""
        . . . . .
        . . . . .
        O O . . .
        X X O . .
        . O X . .
    """)
    assert flags_at(pos, "A1") == {CAPTURE_ONE}


def test_atari_on_an_opponent_group_sets_atari():
    pos = board_from_string("""
        . . . . .
        . . X . .
        . X O . .
        . . . . .
        . . . . .
    """)
    assert flags_at(pos, "D3") == {ATARI}
    assert flags_at(pos, "C2") == {ATARI}
    assert flags_at(pos, "D4") == set()


def test_points_near_the_last_move_get_distance_flags():
    pos = Position.empty(9).play(from_gtp("E5", 9))
    assert NEAR_LAST in flags_at(pos, "D4") and NEAR_LAST in flags_at(pos, "E6")
    for vertex in ("E3", "E7", "C5", "G5"):
        assert flags_at(pos, vertex) == {DIST2_LAST}
    assert flags_at(pos, "D3") == set()  # Manhattan 3
    assert flags_at(pos, "A1") == set()


def test_no_distance_flags_at_the_start_or_after_a_pass():
    start = Position.empty(9)
    after_pass = start.play(from_gtp("E5", 9)).play(start.pass_point)
    for pos in (start, after_pass):
        points, active = candidate_features(pos)
        assert not np.isin(active, [NEAR_LAST, DIST2_LAST]).any()


def test_capturing_the_stone_just_played_sets_captures_last():
    pos = board_from_string("""
        . . . . .
        . . X . .
        . X . X .
        . . . . .
        . . . . .
    """, to_play=WHITE)
    pos = pos.play(v(pos, "C3"))  # a white stone with one liberty, C2
    assert flags_at(pos, "C2") == {CAPTURE_ONE, NEAR_LAST, CAPTURES_LAST}


def test_capturing_another_group_does_not_set_captures_last():
    pos = board_from_string("""
        . . . . .
        . . X . .
        . X O X .
        . . . . .
        O . . . .
    """, to_play=WHITE)
    pos = pos.play(v(pos, "E1"))
    assert flags_at(pos, "C2") == {CAPTURE_ONE}


# -- the candidate set ------------------------------------------------------------------------------

def test_own_eyes_suicides_and_the_ko_point_are_no_candidates():
    pos = board_from_string("""
        . X . . .
        X X . . .
        . . . O .
        . . O . O
        . . . O .
    """)
    black = set(candidate_features(pos)[0].tolist())
    assert v(pos, "A5") not in black  # own eye
    assert v(pos, "D2") not in black  # suicide
    assert v(pos, "C4") in black and v(pos, "B3") in black
    white = set(candidate_features(pos.with_to_play(WHITE))[0].tolist())
    assert v(pos, "D2") not in white  # own eye
    assert v(pos, "A5") not in white  # suicide
    assert v(pos, "C4") in white


# Each side takes two stones in turn; White E4 would bring back the starting board (see test_go.py).
FOUR_MOVE_CYCLE = """
    X . X . X
    X O X X O
    X X O X O
    O O O O .
    O X . O X
"""


def test_a_positional_superko_repeat_is_no_candidate():
    pos = play_all(board_from_string(FOUR_MOVE_CYCLE), "E2", "E3", "E1")
    assert v(pos, "E4") not in candidate_features(pos)[0]
    simple = play_all(board_from_string(FOUR_MOVE_CYCLE, ko="simple"), "E2", "E3", "E1")
    assert v(simple, "E4") in candidate_features(simple)[0]


def test_one_by_one_board_has_no_candidates():
    points, active = candidate_features(Position.empty(1))
    assert points.shape == (0,) and active.shape == (0, MAX_ACTIVE)
    result = policy_playout(Position.empty(1), np.zeros(NUM_FEATURES + 1), np.random.default_rng(0))
    assert list(result.sequence) == [1, 1]


def drawn_positions(seed: int, count: int):
    """Positions from random games on several sizes and both ko rules, either side to move, some after a pass."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        size = (5, 7, 9)[i % 3]
        rules = Rules(size=size, komi=0.5, ko=("positional", "simple")[i % 2])
        start = Position.empty(rules=rules)
        moves = random_playout(start, rng).sequence
        cut = int(rng.integers(0, len(moves) + 1))
        pos = replay([int(m) for m in moves[:cut]], rules)
        if rng.random() < 0.15 and not pos.is_game_over:
            pos = pos.play(pos.pass_point)
        if rng.random() < 0.3:
            pos = pos.with_to_play(-pos.to_play)
        yield pos


def oracle(pos: Position, point: int) -> tuple[int, set[int]]:
    """The features of ``point`` computed slowly from ``Position.play``: (pattern index, flags)."""
    size, n, color = pos.size, pos.pass_point, pos.to_play
    row, col = divmod(point, size)
    states = []
    for dr, dc in rollout.NEIGHBOUR_OFFSETS:
        r, c = row + dr, col + dc
        if not (0 <= r < size and 0 <= c < size):
            states.append(OFF_BOARD)
        else:
            value = pos.board[r * size + c] * color
            states.append(OWN if value == 1 else OPPONENT if value == -1 else EMPTY_STATE)
    after = pos.play(point)
    before, new = pos.board, after.board
    libs_before, libs_after = pos.liberties(), after.liberties()
    captured = int(np.sum((before == -color) & (new == 0)))
    neighbours = [(r * size + c) for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1))
                  if 0 <= r < size and 0 <= c < size]
    own = int(libs_after[point])
    flags = set()
    if captured == 1:
        flags.add(CAPTURE_ONE)
    elif captured >= 2:
        flags.add(CAPTURE_MANY)
    if own >= 2 and any(before[q] == color and libs_before[q] == 1 for q in neighbours):
        flags.add(SAVES_ATARI)
    if own == 1 and captured == 0:
        flags.add(SELF_ATARI)
    if any(new[q] == -color and libs_after[q] == 1 for q in neighbours):
        flags.add(ATARI)
    last = pos.last_move
    if last is not None and last < n:
        dr, dc = abs(row - last // size), abs(col - last % size)
        if max(dr, dc) <= 1:
            flags.add(NEAR_LAST)
        elif dr + dc == 2:
            flags.add(DIST2_LAST)
        if before[last] == -color and new[last] == 0:
            flags.add(CAPTURES_LAST)
    return int(PATTERN_ID[pattern_code(states)]), flags


def test_candidate_features_cover_exactly_the_sensible_moves():
    for pos in drawn_positions(1, 60):
        points, active = candidate_features(pos)
        sensible = np.flatnonzero(pos.sensible_moves()[:-1])
        assert np.array_equal(points, sensible), str(pos)
        assert active.shape == (len(points), MAX_ACTIVE) and active.dtype == np.int32
        assert points.dtype == np.int32


def test_features_agree_with_a_slow_oracle_built_on_position_play():
    checked = 0
    seen = set()
    for pos in drawn_positions(2, 90):
        points, active = candidate_features(pos)
        for point, row in zip(points.tolist(), active, strict=True):
            real = [int(f) for f in row if f >= 0]
            assert (row[len(real):] == -1).all()  # padding only at the end
            pattern, flags = oracle(pos, point)
            assert real[0] == pattern and set(real[1:]) == flags, f"{pos}\n{point}: {real} vs {pattern} {flags}"
            assert real[1:] == sorted(real[1:])
            seen |= flags
            checked += 1
    assert checked > 1000
    assert seen == FLAGS  # every flag was exercised


# -- policy playouts --------------------------------------------------------------------------------

def replay_checked(start: Position, result) -> Position:
    """Replay a playout through Position.play, checking each move is sensible (or a pass with nothing sensible)."""
    pos = start
    for point in result.sequence.tolist():
        sensible = pos.sensible_moves()
        if point == pos.pass_point:
            assert not sensible[:-1].any(), f"passed with sensible moves left\n{pos}"
        else:
            assert sensible[point], f"{point} is not sensible\n{pos}"
        pos = pos.play(point)
    return pos


@pytest.mark.parametrize("temperature", [1.0, 0.0, 0.3])
@pytest.mark.parametrize("weights_kind", ["zero", "random", "capture"])
def test_policy_playout_replays_as_legal_sensible_moves(weights_kind, temperature):
    rng = np.random.default_rng(7)
    weights = {"zero": np.zeros(NUM_FEATURES + 1), "random": rng.normal(size=NUM_FEATURES + 1),
               "capture": np.where(np.arange(NUM_FEATURES + 1) >= NUM_PATTERNS, 3.0, 0.0)}[weights_kind]
    starts = list(drawn_positions(3, 12)) + [Position.empty(2), Position.empty(3, ko="simple"),
                                             play_all(board_from_string(FOUR_MOVE_CYCLE), "E2", "E3", "E1")]
    for start in starts:
        for _ in range(3):
            result = policy_playout(start, weights, rng, temperature)
            end = replay_checked(start, result)
            assert end.is_game_over or start.is_game_over
            assert result.moves == len(result.sequence) == end.move_number - start.move_number
            assert np.array_equal(result.board, end.board)
            assert result.score == end.score()
            assert result.sequence.dtype == np.int32 and result.board.dtype == np.int8


def test_policy_playout_is_reproducible_from_the_rng():
    weights = np.random.default_rng(0).normal(size=NUM_FEATURES + 1)
    a = policy_playout(Position.empty(9), weights, np.random.default_rng(5))
    b = policy_playout(Position.empty(9), weights, np.random.default_rng(5))
    c = policy_playout(Position.empty(9), weights, np.random.default_rng(6))
    assert np.array_equal(a.sequence, b.sequence) and a.score == b.score
    assert not np.array_equal(a.sequence, c.sequence)


def test_policy_playout_from_a_finished_game_plays_nothing():
    pos = Position.empty(5).play(25).play(25)
    result = policy_playout(pos, np.zeros(NUM_FEATURES + 1), np.random.default_rng(0))
    assert result.moves == 0 and result.score == pos.score()


def test_float32_weights_and_weights_without_the_padding_entry_are_accepted():
    rng = np.random.default_rng(0)
    w32 = rng.normal(size=NUM_FEATURES + 1).astype(np.float32)
    a = policy_playout(Position.empty(7), w32, np.random.default_rng(1))
    b = policy_playout(Position.empty(7), w32[:-1], np.random.default_rng(1))
    assert np.array_equal(a.sequence, b.sequence)


@pytest.mark.parametrize("bad", [np.zeros(10), np.zeros((2, NUM_FEATURES + 1)),
                                 np.full(NUM_FEATURES + 1, np.nan)])
def test_bad_weights_are_refused(bad):
    with pytest.raises(ValueError, match="rollout weights"):
        policy_playout(Position.empty(5), bad, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan, "hot"])
def test_bad_temperature_is_refused(bad):
    with pytest.raises(ValueError, match="temperature"):
        policy_playout(Position.empty(5), np.zeros(NUM_FEATURES + 1), np.random.default_rng(0), bad)


def test_zero_weights_play_like_the_uniform_random_playout():
    rng = np.random.default_rng(11)
    zero = np.zeros(NUM_FEATURES + 1)
    start = Position.empty(9)
    ours = [policy_playout(start, zero, rng).moves for _ in range(400)]
    uniform = [random_playout(start, rng).moves for _ in range(400)]
    # Both are ~110 moves with a spread of ~10; the standard error of each mean is ~0.5.
    assert abs(np.mean(ours) - np.mean(uniform)) < 4.0
    # The first move from the empty 5x5 board is uniform over its 25 points.
    first = np.bincount([policy_playout(Position.empty(5), zero, rng).sequence[0] for _ in range(2500)],
                        minlength=25)
    assert first.min() > 50 and first.max() < 160


ONE_CAPTURE = """
    . . . . .
    . . X . .
    . X O . .
    . . X . .
    . . . . .
"""


def capture_weights(value: float) -> np.ndarray:
    weights = np.zeros(NUM_FEATURES + 1)
    weights[CAPTURE_ONE] = value
    return weights


def test_a_huge_capture_weight_makes_the_playout_take_the_capture():
    pos = board_from_string(ONE_CAPTURE)
    rng = np.random.default_rng(3)
    firsts = {int(policy_playout(pos, capture_weights(50.0), rng).sequence[0]) for _ in range(200)}
    assert firsts == {v(pos, "D3")}


def test_temperature_scales_the_softmax():
    pos = board_from_string(ONE_CAPTURE)
    m = len(candidate_features(pos)[0])
    rng = np.random.default_rng(4)
    trials = 3000
    for temperature in (1.0, 2.0, 8.0):
        expected = math.exp(2.0 / temperature) / (math.exp(2.0 / temperature) + m - 1)
        hits = sum(policy_playout(pos, capture_weights(2.0), rng, temperature).sequence[0] == v(pos, "D3")
                   for _ in range(trials))
        sd = math.sqrt(expected * (1 - expected) / trials)
        assert abs(hits / trials - expected) < 5 * sd, (temperature, hits / trials, expected)


def test_temperature_zero_plays_the_highest_logit_and_breaks_ties_at_random():
    pos = board_from_string(ONE_CAPTURE)
    rng = np.random.default_rng(5)
    assert {int(policy_playout(pos, capture_weights(0.01), rng, 0.0).sequence[0]) for _ in range(50)} == {
        v(pos, "D3")}
    firsts = {int(policy_playout(pos, capture_weights(0.0), rng, 0).sequence[0]) for _ in range(200)}
    assert len(firsts) > 10


def test_playouts_never_repeat_a_board_under_positional_superko():
    # White to move; E4 would bring back the starting board. Weight E4's features so that it would win.
    simple = play_all(board_from_string(FOUR_MOVE_CYCLE, ko="simple"), "E2", "E3", "E1")
    weights = np.zeros(NUM_FEATURES + 1)
    weights[features_at(simple, "E4")] = 50.0
    rng = np.random.default_rng(6)
    assert policy_playout(simple, weights, rng, 0.0).sequence[0] == v(simple, "E4")
    pos = play_all(board_from_string(FOUR_MOVE_CYCLE), "E2", "E3", "E1")
    for temperature in (0.0, 1.0):  # the sampler proposes E4 first, is refused, and samples again
        for _ in range(25):
            result = policy_playout(pos, weights, rng, temperature)
            assert result.sequence[0] != v(pos, "E4")
            replay_checked(pos, result)
