"""Feature planes on drawn boards, and the 8 symmetries."""

from __future__ import annotations

import numpy as np
import pytest

from minigo.coords import from_gtp
from minigo.go import BLACK, WHITE, Position, board_from_string
from models import features
from models.features import N_SYMMETRIES, inverse_symmetry, planes, point_maps, transform


def at(plane: np.ndarray, vertex: str) -> float:
    size = plane.shape[-1]
    return float(plane.reshape(-1)[from_gtp(vertex, size)])


def test_stone_planes_are_from_the_view_of_the_player_to_move():
    pos = board_from_string("""
        X . .
        . O .
        . . .
    """, to_play=WHITE)
    x = planes(pos)
    assert at(x[0], "B2") == 1 and at(x[1], "A3") == 1  # own = white, opponent = black
    assert at(x[2], "C1") == 1 and x[2].sum() == 7
    assert x[3].all() and not x[4].any()  # White to move
    assert planes(pos.play(from_gtp("C1", 3)))[4].all()  # now Black to move


def test_liberty_planes_count_one_two_three_and_four_plus():
    pos = board_from_string("""
        X O . . .
        . . . . .
        . . X . .
        . . . . .
        O O . . .
    """)
    x = planes(pos)
    assert at(x[9], "A5") == 1  # own (black) stone with one liberty, A4
    assert at(x[12], "C3") == 1  # own, four liberties
    assert at(x[14], "B5") == 1  # opponent, two liberties
    assert at(x[15], "A1") == 1 and at(x[15], "B1") == 1  # opponent group of two, three liberties
    assert x[9:17].sum() == 5  # one plane per stone


def test_capture_size_and_self_atari_planes():
    pos = board_from_string("""
        . O O X .
        O X X . .
        . O . . .
        . . . . .
        . . . . .
    """)
    x = planes(pos)
    # Black at A5 takes the two white stones B5 C5 (they have only A5 left).
    assert at(x[17 + 1], "A5") == 1 and at(x[17], "A5") == 0
    assert x[17:20].sum() == 1
    assert x[20:22].reshape(2, -1)[:, from_gtp("C3", 5)].sum() == 0


def test_self_atari_plane_gives_the_size_of_the_group_left_in_atari():
    pos = board_from_string("""
        . . . . .
        . O O O .
        O X X . .
        . O O O .
        . . . . .
    """)
    x = planes(pos)
    assert at(x[21], "D3") == 1  # B3 C3 D3 would be left with E3 only: three stones in atari
    assert at(x[20], "D3") == 0
    assert at(x[20], "A5") == 0 and at(x[21], "A5") == 0
    lone = board_from_string("""
        . O .
        . . O
        . . .
    """)
    assert at(planes(lone)[20], "A3") == 1  # a single stone left with one liberty (A2)
    assert at(planes(lone)[22], "C3") == 0  # C3 would be suicide: not even sensible


def test_ko_plane_marks_the_ko_point_and_sensible_plane_skips_own_eyes():
    pos = board_from_string("""
        . X O .
        X O . O
        . X O .
        . . . .
    """)
    after = pos.play(from_gtp("C3", 4))
    x = planes(after)
    assert at(x[23], "B3") == 1 and x[23].sum() == 1
    assert at(x[22], "B3") == 0  # the ko retake is not legal
    eye = board_from_string("""
        . X .
        X X X
        . . .
    """)
    assert at(planes(eye)[22], "A3") == 0 and at(planes(eye)[22], "B1") == 1


def test_history_planes_mark_the_last_moves_most_recent_first():
    pos = Position.empty(5)
    for vertex in ["C3", "D4", "B2", "pass", "E5"]:
        pos = pos.play(from_gtp(vertex, 5))
    x = planes(pos)
    assert at(x[5], "E5") == 1
    assert x[6].sum() == 0  # a pass leaves no mark
    assert at(x[7], "B2") == 1 and at(x[8], "D4") == 1


def test_raw_set_has_stones_empty_ones_and_colour_only():
    pos = Position.empty(9).play(40)
    raw = planes(pos, "raw")
    assert raw.shape == (5, 9, 9)
    assert np.array_equal(raw, planes(pos)[:5])


def test_unknown_feature_set_is_refused():
    with pytest.raises(ValueError, match="unknown feature set 'fancy'"):
        planes(Position.empty(9), "fancy")


def test_symmetries_are_eight_distinct_transforms_each_with_an_inverse():
    grid = np.arange(25).reshape(5, 5)
    images = {transform(grid, k).tobytes() for k in range(N_SYMMETRIES)}
    assert len(images) == 8
    for k in range(N_SYMMETRIES):
        assert np.array_equal(transform(transform(grid, k), inverse_symmetry(k)), grid)


def test_point_maps_follow_the_plane_transform():
    size = 7
    pos = Position.empty(size).play(from_gtp("B6", size)).play(from_gtp("F3", size))
    x = planes(pos)
    maps = point_maps(size)
    for k in range(N_SYMMETRIES):
        moved = transform(x, k)
        for vertex in ["B6", "F3"]:
            p = from_gtp(vertex, size)
            assert moved.reshape(len(x), -1)[:, maps[k, p]].tolist() == x.reshape(len(x), -1)[:, p].tolist()
        assert maps[k, size * size] == size * size


def test_features_of_a_transformed_position_are_the_transformed_features(rng):
    pos = Position.empty(7)
    for _ in range(30):
        legal = np.flatnonzero(pos.legal_moves()[:-1])
        pos = pos.play(int(rng.choice(legal)))
    maps = point_maps(7)
    for k in range(N_SYMMETRIES):
        black = maps[k, np.flatnonzero(pos.board == BLACK)]
        white = maps[k, np.flatnonzero(pos.board == WHITE)]
        moved = Position.empty(7).with_setup(black, white, to_play=pos.to_play)
        base = Position.empty(7).with_setup(np.flatnonzero(pos.board == BLACK), np.flatnonzero(pos.board == WHITE),
                                            to_play=pos.to_play)
        assert np.array_equal(planes(moved), transform(planes(base), k))


def test_feature_set_metadata():
    assert features.get_feature_set("alphago").planes == 24
    assert features.get_feature_set("raw").planes == 5
