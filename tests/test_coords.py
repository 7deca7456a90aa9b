import pytest

from minigo import coords


def test_gtp_a1_is_bottom_left_and_letters_skip_i():
    assert coords.from_gtp("A1", 9) == 8 * 9
    assert coords.from_gtp("J9", 9) == 8
    assert coords.to_gtp(8, 9) == "J9"
    assert coords.to_gtp(0, 19) == "A19"


def test_gtp_is_case_insensitive_and_knows_pass():
    assert coords.from_gtp("d4", 9) == coords.from_gtp("D4", 9)
    assert coords.from_gtp("PASS", 9) == 81
    assert coords.to_gtp(81, 9) == "pass"


@pytest.mark.parametrize("vertex", ["I5", "K9", "A0", "A10", "Z1", "", "4D", "D-1"])
def test_gtp_vertex_off_board_or_malformed_is_an_error_naming_it(vertex):
    with pytest.raises(ValueError, match="vertex"):
        coords.from_gtp(vertex, 9)


def test_sgf_aa_is_top_left_and_empty_or_tt_is_pass():
    assert coords.from_sgf("aa", 9) == 0
    assert coords.from_sgf("ba", 9) == 1
    assert coords.from_sgf("ab", 9) == 9
    assert coords.from_sgf("", 9) == 81
    assert coords.from_sgf("tt", 19) == 361
    assert coords.to_sgf(81, 9) == ""


@pytest.mark.parametrize("text", ["rs", "j", "A1", "aaa"])
def test_sgf_point_off_board_or_malformed_is_an_error(text):
    with pytest.raises(ValueError, match="SGF point"):
        coords.from_sgf(text, 9)


@pytest.mark.parametrize("size", [1, 2, 5, 9, 13, 19])
def test_every_point_round_trips_through_every_notation(size):
    for point in range(size * size + 1):
        assert coords.from_gtp(coords.to_gtp(point, size), size) == point
        assert coords.from_sgf(coords.to_sgf(point, size), size) == point
        if point < size * size:
            assert coords.to_flat(*coords.from_flat(point, size), size) == point


@pytest.mark.parametrize("size", [0, 20, -1, 9.0, True])
def test_unsupported_board_size_is_an_error_naming_it(size):
    with pytest.raises(ValueError, match="board size"):
        coords.check_size(size)
