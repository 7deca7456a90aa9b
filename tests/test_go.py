"""The rules checklist of ../shared/REFERENCE.md, one behaviour per test, on drawn boards."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigo.coords import from_gtp
from minigo.go import (
    BLACK,
    KO_RULES,
    WHITE,
    IllegalMove,
    Position,
    Rules,
    board_from_string,
    handicap_points,
    max_handicap,
    random_playout,
    replay,
    star_points,
)


def v(position: Position, vertex: str) -> int:
    """A GTP vertex on this position's board."""
    return from_gtp(vertex, position.size)


def play_all(position: Position, *vertices: str) -> Position:
    for vertex in vertices:
        position = position.play(v(position, vertex))
    return position


# 1, 2 -- captures and liberties -----------------------------------------------------------------

def test_one_stone_capturing_two_separate_groups_removes_both():
    pos = board_from_string("""
        X O . O X
        . X . X .
        . . . . .
        . . . . .
        . . . . .
    """)
    after = pos.play(v(pos, "C5"))
    assert after.board[v(pos, "B5")] == 0 and after.board[v(pos, "D5")] == 0
    assert after.captures == (2, 0)


def test_liberty_touched_twice_by_one_group_counts_once():
    pos = board_from_string("""
        O O X . .
        . O X . .
        X X . . .
        . . . . .
        . . . . .
    """)
    assert pos.liberties()[v(pos, "A5")] == 1
    after = pos.play(v(pos, "A4"))
    assert after.captures == (3, 0)
    assert after.board[v(pos, "B4")] == 0


def test_merged_groups_get_the_union_of_their_liberties():
    pos = board_from_string("""
        . . . . .
        . . . . .
        . O . O .
        . . . . .
        . . . . .
    """, to_play=WHITE)
    after = pos.play(v(pos, "C3"))
    assert after.liberties()[v(pos, "C3")] == 8
    assert after.liberties()[v(pos, "B3")] == 8


# 3, 4 -- suicide and occupied points ----------------------------------------------------------

def test_single_stone_suicide_is_illegal():
    pos = board_from_string("""
        . X .
        X . X
        . X .
    """, to_play=WHITE)
    with pytest.raises(IllegalMove, match="white B2: suicide"):
        pos.play(v(pos, "B2"))
    assert not pos.legal_moves()[v(pos, "B2")]


def test_multi_stone_suicide_is_illegal():
    pos = board_from_string("""
        . X X .
        X O . X
        . X X .
        . . . .
    """, to_play=WHITE)
    with pytest.raises(IllegalMove, match="suicide"):
        pos.play(v(pos, "C3"))


def test_move_without_liberties_that_captures_is_legal_and_captures_first():
    pos = board_from_string("""
        . X O .
        X O . O
        . X O .
        . . . .
    """)
    after = pos.play(v(pos, "C3"))
    assert after.board[v(pos, "B3")] == 0
    assert after.board[v(pos, "C3")] == BLACK
    assert after.captures == (1, 0)


def test_playing_on_an_occupied_point_is_illegal():
    pos = Position.empty(5).play(12)
    with pytest.raises(IllegalMove, match="white C3: occupied"):
        pos.play(12)
    with pytest.raises(IllegalMove, match="occupied"):
        pos.play(12, color=BLACK)


# 5, 6, 7 -- ko ---------------------------------------------------------------------------------

KO_SHAPE = """
    . X O .
    X O . O
    . X O .
    . . . .
"""


@pytest.mark.parametrize("ko", ["positional", "simple"])
def test_immediate_ko_retake_is_illegal(ko):
    pos = board_from_string(KO_SHAPE, ko=ko).play(from_gtp("C3", 4))
    assert pos.ko == from_gtp("B3", 4)
    with pytest.raises(IllegalMove, match="white B3: ko"):
        pos.play(from_gtp("B3", 4))
    assert not pos.legal_moves()[from_gtp("B3", 4)]


@pytest.mark.parametrize("ko", ["positional", "simple"])
def test_ko_retake_is_legal_after_an_exchange_elsewhere(ko):
    pos = board_from_string(KO_SHAPE, ko=ko).play(from_gtp("C3", 4))
    pos = play_all(pos, "D1", "C1")  # white threat, black answer
    assert pos.ko == -1
    retaken = pos.play(from_gtp("B3", 4))
    assert retaken.board[from_gtp("C3", 4)] == 0


def test_capturing_two_stones_sets_no_ko():
    pos = board_from_string("""
        . O O X .
        O X X . .
        . . . . .
        . . . . .
        . . . . .
    """)
    after = pos.play(v(pos, "A5"))
    assert after.captures == (2, 0)
    assert after.ko == -1
    retake = after.play(v(pos, "B5"))  # not a ko: White may take back at once
    assert retake.captures == (2, 1)


def test_capture_by_a_stone_with_other_liberties_sets_no_ko():
    pos = board_from_string("""
        . X O . .
        X O . . .
        . X O . .
        . . . . .
        . . . . .
    """)
    after = pos.play(v(pos, "C4"))
    assert after.captures == (1, 0)
    assert after.ko == -1


def test_snapback_recapture_is_legal():
    pos = board_from_string("""
        . . O . .
        X X O . .
        O O . . .
        . . . . .
        . . . . .
    """, to_play=WHITE)
    pos = pos.play(v(pos, "A5"))  # throw-in
    pos = pos.play(v(pos, "B5"))  # black captures one stone
    assert pos.captures == (1, 0) and pos.ko == -1
    pos = pos.play(v(pos, "A5"))  # and loses three
    assert pos.captures == (1, 3)
    assert pos.board[v(pos, "B5")] == 0 and pos.board[v(pos, "B4")] == 0


# 8, 9 -- positional superko and hashing ----------------------------------------------------------

# On 2x2 (a b / c d): B a, W d, B b, W c (takes a b), B a, W b (takes a), then B a takes three stones and
# would recreate the board after the first move. That is no simple ko (three stones are taken).
CYCLE = ["A2", "B1", "B2", "A1", "A2", "B2"]


def test_positional_superko_forbids_recreating_an_earlier_board():
    pos = play_all(Position.empty(2, komi=0), *CYCLE)
    with pytest.raises(IllegalMove, match="black A2: positional superko"):
        pos.play(v(pos, "A2"))
    assert not pos.legal_moves()[v(pos, "A2")]


def test_simple_ko_rule_allows_the_same_cycle():
    pos = play_all(Position.empty(2, komi=0, ko="simple"), *CYCLE)
    after = pos.play(v(pos, "A2"))
    assert after.captures == (2 + 3, 2) or after.captures[0] >= 3
    assert list(after.board) == [BLACK, 0, 0, 0]


# Found by searching random 5x5 games: each side takes two stones in turn and the fourth move would bring
# back the board we started from. No single move is a simple-ko retake.
FOUR_MOVE_CYCLE = """
    X . X . X
    X O X X O
    X X O X O
    O O O O .
    O X . O X
"""


def test_positional_superko_forbids_a_four_move_cycle():
    start = board_from_string(FOUR_MOVE_CYCLE)
    pos = play_all(start, "E2", "E3", "E1")
    assert pos.ko == -1
    with pytest.raises(IllegalMove, match="white E4: positional superko"):
        pos.play(v(pos, "E4"))


def test_simple_ko_allows_the_four_move_cycle():
    start = board_from_string(FOUR_MOVE_CYCLE, ko="simple")
    pos = play_all(start, "E2", "E3", "E1", "E4")
    assert np.array_equal(pos.board, start.board)


def test_superko_compares_real_boards_after_a_hash_hit():
    pos = replay([0, 24], Rules(size=5, komi=0))
    colliding = pos.play(12)
    fresh = replay([0, 24], Rules(size=5, komi=0))
    # Forge a collision: give the empty board of move 0 the hash of the board after C3.
    fresh._hist.hashes[0] = colliding._hist.hashes[colliding._hlen - 1]
    assert fresh.legal_moves()[12]
    assert fresh.play(12).board[12] == BLACK


def test_same_stones_reached_in_different_orders_have_the_same_hash():
    a = replay([0, 24, 12, 6, 18])
    b = replay([18, 6, 12, 24, 0])
    assert np.array_equal(a.board, b.board)
    assert a.hash == b.hash
    drawn = Position.empty().with_setup(black=[0, 12, 18], white=[24, 6])
    assert drawn.hash == a.hash


def test_empty_board_hash_is_zero_and_stones_change_it():
    empty = Position.empty()
    assert empty.hash == 0
    assert empty.play(40).hash != 0


# 10 -- undo: positions are immutable, the parent is the position before ---------------------------

def snapshot(pos: Position):
    return (bytes(pos.board), pos.ko, pos.hash, pos.captures, pos.to_play, pos.passes, pos.move_number)


def test_ten_thousand_random_moves_then_undo_all_restores_the_start(rng):
    pos = Position.empty(19)
    snaps = []
    for _ in range(10_000):
        snaps.append(snapshot(pos))
        legal = np.flatnonzero(pos.legal_moves()[:-1])
        point = int(rng.choice(legal)) if len(legal) and rng.random() > 0.01 else pos.pass_point
        pos = pos.play(point)
    assert sum(pos.captures) > 100  # the walk really exercised captures
    for expected in reversed(snaps):
        pos = pos.parent
        assert snapshot(pos) == expected
    assert pos.parent is None


def test_branching_from_an_earlier_position_leaves_both_lines_intact(rng):
    root = replay([40, 41, 30, 31])
    line_a = root.play(50)
    line_b = root.play(49)  # a second child of the same parent
    line_a2 = line_a.play(51)
    assert line_a.board[50] == BLACK and line_a.board[49] == 0
    assert line_b.board[49] == BLACK and line_b.board[50] == 0
    assert line_a2.parent is line_a
    assert np.array_equal(line_a2.history_boards()[-2], line_a.board)
    assert len(line_b.history_boards()) == 6


# 11, 12 -- the end of the game --------------------------------------------------------------------

def test_two_consecutive_passes_end_the_game():
    pos = Position.empty(9)
    once = pos.play(pos.pass_point)
    assert once.passes == 1 and not once.is_game_over
    twice = once.play(pos.pass_point)
    assert twice.is_game_over


def test_a_move_after_one_pass_continues_the_game():
    pos = Position.empty(9).play(81).play(40)
    assert pos.passes == 0 and not pos.is_game_over
    assert not pos.play(81).is_game_over


def test_move_cap_ends_a_game_that_would_not_end():
    pos = Position.empty(2, komi=0, ko="simple")
    assert pos.rules.move_cap == 8
    for vertex in CYCLE + ["A2", "B1"]:  # under simple ko the 2x2 cycle never ends by itself
        assert not pos.is_game_over
        pos = pos.play(v(pos, vertex))
    assert pos.passes == 0
    assert pos.is_game_over


def test_pass_clears_ko_and_keeps_the_board():
    pos = board_from_string(KO_SHAPE).play(from_gtp("C3", 4))
    passed = pos.play(pos.pass_point)
    assert passed.ko == -1 and passed.board is pos.board and passed.to_play == BLACK


# 13 -- Tromp-Taylor scoring ------------------------------------------------------------------------

def test_empty_board_is_white_by_komi():
    pos = Position.empty(9, komi=7.5)
    assert pos.score() == -7.5
    assert pos.result() == "W+7.5"


def test_one_black_stone_is_black_by_the_whole_board_minus_komi():
    pos = Position.empty(9, komi=7.5).play(40)
    assert pos.score() == 81 - 7.5
    assert pos.result() == "B+73.5"


def test_empty_region_touching_both_colours_is_neutral():
    pos = board_from_string("""
        X X . O O
        X X . O O
        X X . O O
        X X . O O
        X X . O O
    """, komi=0)
    assert pos.area() == (10, 10)
    assert pos.result() == "0"


def test_seki_liberties_are_neutral():
    # The inner black group and the white group share B5 and D5 and nothing else: whoever fills one is
    # captured, so neither does (seki). Those two points touch both colours and count for nobody.
    pos = board_from_string("""
        O . X . O
        O X X X O
        O O O O O
        X X X X X
        . . . . .
    """, komi=0)
    assert pos.area() == (9 + 5, 9)
    assert pos.result() == "B+5"
    white_fills = pos.play(v(pos, "B5"), color=WHITE)
    assert white_fills.liberties()[v(pos, "A5")] == 1  # self-atari: Black would take the whole group


def test_no_dead_stones_are_removed():
    pos = board_from_string("""
        . . . . .
        . . . . .
        . . O . .
        . . . . .
        X . . . .
    """, komi=0)
    assert pos.area() == (1, 1)
    assert pos.result() == "0"


def test_results_are_formatted_like_sgf():
    assert board_from_string(". X .\n. . .\n. . .", komi=0.5).result() == "B+8.5"
    assert Position.empty(9, komi=0).result() == "0"
    assert Position.empty(9, komi=6).result() == "W+6"


def test_territory_with_the_stones_makes_the_tromp_taylor_area(rng):
    drawn = board_from_string("""
        . X O . .
        X X O . .
        . X O O .
        X X X O .
        . . X O .""")
    owner = drawn.territory()
    assert owner[0] == BLACK and owner[4] == WHITE and owner[20] == BLACK
    positions = [drawn] + [Position.empty(9).with_setup(*_split(random_playout(Position.empty(9), rng).board))
                           for _ in range(5)]
    for position in positions:
        owner = position.territory()
        black, white = position.area()
        assert black == int((position.board == BLACK).sum() + (owner == BLACK).sum())
        assert white == int((position.board == WHITE).sum() + (owner == WHITE).sum())


def _split(board):
    return np.flatnonzero(board == BLACK).tolist(), np.flatnonzero(board == WHITE).tolist()


# 14 -- tiny boards --------------------------------------------------------------------------------

def test_one_by_one_board_only_passing_is_legal():
    pos = Position.empty(1)
    assert list(pos.legal_moves()) == [False, True]
    with pytest.raises(IllegalMove, match="suicide"):
        pos.play(0)


@pytest.mark.parametrize("size", [2, 3, 4])
def test_small_boards_play_whole_games(size, rng):
    pos = Position.empty(size)
    while not pos.is_game_over:
        moves = np.flatnonzero(pos.sensible_moves())
        pos = pos.play(int(rng.choice(moves)))
    assert pos.move_number > 0


# 15 -- the bulk legal-move mask ----------------------------------------------------------------------

def random_position(size: int, moves: int, rng: np.random.Generator, ko: str = "positional") -> Position:
    pos = Position.empty(size, ko=ko)
    for _ in range(moves):
        legal = np.flatnonzero(pos.legal_moves()[:-1])
        if len(legal) == 0:
            break
        pos = pos.play(int(rng.choice(legal)))
    return pos


@pytest.mark.parametrize("size", [5, 7, 9])
def test_legal_mask_equals_move_by_move_checks(size, rng):
    for moves in (0, 10, 40, 90):
        pos = random_position(size, moves, rng)
        for color in (BLACK, WHITE):
            mask = pos.legal_moves(color)
            for point in range(size * size + 1):
                try:
                    pos.play(point, color=color)
                    ok = True
                except IllegalMove:
                    ok = False
                assert mask[point] == ok, (str(pos), point, color)


def test_legal_mask_does_not_change_when_colours_are_swapped(rng):
    for moves in (5, 30, 60):
        pos = random_position(9, moves, rng)
        black = np.flatnonzero(pos.board == BLACK)
        white = np.flatnonzero(pos.board == WHITE)
        original = Position.empty(9).with_setup(black, white, to_play=BLACK)
        swapped = Position.empty(9).with_setup(white, black, to_play=WHITE)
        assert np.array_equal(original.legal_moves(), swapped.legal_moves())
        assert np.array_equal(original.legal_moves(WHITE), swapped.legal_moves(BLACK))


def test_sensible_moves_leave_out_own_eyes_only():
    pos = board_from_string("""
        . X . O .
        X X X O O
        . . . . .
        . . . . .
        . . . . .
    """)
    sensible = pos.sensible_moves()
    assert not sensible[v(pos, "A5")]  # black's own eye
    assert sensible[v(pos, "C5")]
    assert pos.legal_moves()[v(pos, "A5")]
    assert not pos.sensible_moves(WHITE)[v(pos, "E5")]  # white's own corner eye
    assert pos.legal_moves(WHITE)[v(pos, "E5")]


def test_false_eye_with_two_opponent_diagonals_is_sensible():
    pos = board_from_string("""
        . . . . .
        . O X O .
        . X . X .
        . O X O .
        . . . . .
    """)
    assert pos.sensible_moves()[v(pos, "C3")]


# handicap and star points (GTP's fixed_handicap) -------------------------------------------------

def test_handicap_points_match_gnugo_fixed_handicap():
    expected = {  # GNU Go 3.8: boardsize 9, fixed_handicap N
        2: "G7 C3", 3: "C7 G7 C3", 4: "C7 G7 C3 G3", 5: "C7 G7 E5 C3 G3", 6: "C7 G7 C5 G5 C3 G3",
        7: "C7 G7 C5 E5 G5 C3 G3", 8: "C7 E7 G7 C5 G5 C3 E3 G3", 9: "C7 E7 G7 C5 E5 G5 C3 E3 G3",
    }
    for stones, vertices in expected.items():
        assert sorted(handicap_points(9, stones)) == sorted(from_gtp(v, 9) for v in vertices.split())
    assert sorted(handicap_points(19, 3)) == sorted(from_gtp(v, 19) for v in "D16 Q16 D4".split())
    assert sorted(handicap_points(7, 4)) == sorted(from_gtp(v, 7) for v in "C5 E5 C3 E3".split())
    for size, stones in ((7, 5), (8, 5), (9, 1), (9, 10), (5, 2)):
        with pytest.raises(ValueError, match=f"handicap {stones} is not possible on {size}x{size}"):
            handicap_points(size, stones)


def test_star_points_are_the_handicap_corners_and_centre():
    assert sorted(star_points(9)) == sorted(from_gtp(v, 9) for v in "C7 G7 E5 C3 G3".split())
    assert sorted(star_points(19)) == sorted(handicap_points(19, 9))
    assert sorted(star_points(13)) == sorted(from_gtp(v, 13) for v in "D10 K10 G7 D4 K4".split())
    assert star_points(5) == [from_gtp("C3", 5)] and star_points(4) == []
    # 7x7 takes at most 4 handicap stones, but its centre is marked (it used to crash the window)
    assert sorted(star_points(7)) == sorted(from_gtp(v, 7) for v in "C5 E5 D4 C3 E3".split())
    assert sorted(star_points(8)) == sorted(from_gtp(v, 8) for v in "C6 F6 C3 F3".split())
    assert [max_handicap(size) for size in (5, 7, 8, 9, 19)] == [0, 4, 4, 9, 9]


# bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 20, -3])
def test_board_size_outside_1_to_19_is_refused(size):
    with pytest.raises(ValueError, match=f"board size {size}"):
        Position.empty(size)


@pytest.mark.parametrize("komi", [math.nan, math.inf, "7.5"])
def test_non_finite_komi_is_refused(komi):
    with pytest.raises(ValueError, match="komi"):
        Rules(komi=komi)


def test_unknown_ko_rule_is_refused():
    with pytest.raises(ValueError, match="ko rule 'japanese'"):
        Rules(ko="japanese")


@pytest.mark.parametrize("point", [-1, 82, 1000])
def test_point_off_the_board_is_an_illegal_move(point):
    with pytest.raises(IllegalMove, match="off the 9x9 board"):
        Position.empty(9).play(point)


def test_bad_colour_is_refused():
    with pytest.raises(ValueError, match="colour 3"):
        Position.empty(9).play(0, color=3)


def test_drawing_that_is_not_square_is_refused():
    with pytest.raises(ValueError, match="row 2"):
        board_from_string("X . .\n. .\n. . .")


def test_board_is_read_only():
    pos = Position.empty(9)
    with pytest.raises(ValueError):
        pos.board[0] = 1


# random playouts --------------------------------------------------------------------------------

@pytest.mark.parametrize("size,ko", [(5, "positional"), (7, "simple"), (9, "positional"), (19, "positional")])
def test_random_playout_moves_replay_as_legal_sensible_moves(size, ko, rng):
    start = random_position(size, size, rng, ko=ko)
    for _ in range(5):
        result = random_playout(start, rng)
        pos = start
        for point in result.sequence:
            point = int(point)
            sensible = pos.sensible_moves()
            if point == pos.pass_point:
                assert not sensible[:-1].any(), "passed with a sensible move left"
            else:
                assert sensible[point], f"playout played {point} that is not sensible"
            pos = pos.play(point)
        assert pos.is_game_over
        assert np.array_equal(pos.board, result.board)
        assert pos.score() == result.score
        assert result.moves == len(result.sequence)


def test_random_playout_is_reproducible_from_the_rng():
    start = Position.empty(9)
    a = random_playout(start, np.random.default_rng(7))
    b = random_playout(start, np.random.default_rng(7))
    assert np.array_equal(a.sequence, b.sequence)
    assert a.score == b.score


def test_random_playout_from_a_finished_game_plays_nothing():
    pos = Position.empty(9).play(81).play(81)
    result = random_playout(pos, np.random.default_rng(0))
    assert result.moves == 0 and result.score == -7.5


# property: any line of play, branched anywhere, equals a fresh replay of its moves ------------------

def moves_of(pos: Position) -> list[int]:
    moves = []
    while pos.parent is not None:
        moves.append(pos.last_move)
        pos = pos.parent
    return moves[::-1]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([2, 3, 5, 7, 9]), ko=st.sampled_from(KO_RULES))
def test_branching_lines_equal_a_fresh_replay(seed, size, ko):
    rng = np.random.default_rng(seed)
    nodes = [Position.empty(size, ko=ko)]
    for _ in range(120):
        base = nodes[int(rng.integers(len(nodes)))] if rng.random() < 0.3 else nodes[-1]
        legal = np.flatnonzero(base.legal_moves())
        nodes.append(base.play(int(rng.choice(legal))))
    for pos in nodes[:: max(1, len(nodes) // 15)] + [nodes[-1]]:
        fresh = replay(moves_of(pos), pos.rules)
        assert snapshot(fresh) == snapshot(pos)
        assert np.array_equal(fresh.legal_moves(), pos.legal_moves())
        assert np.array_equal(fresh.history_boards(), pos.history_boards())
