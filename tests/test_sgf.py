"""SGF FF[4] reading and writing: the SGF checklist of REFERENCE.md, malformed input, fuzzing, GNU Go."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigo import coords
from minigo.go import BLACK, WHITE, Position
from minigo.record import GameRecord, Move
from minigo.sgf import SGFError, load, parse_collection, read_sgf, save, write_sgf

DATA = Path(__file__).parent / "data"


def stones(position: Position, color: int) -> set[int]:
    return {int(point) for point in np.flatnonzero(position.board == color)}


def random_game(size: int, seed: int, n_moves: int, komi: float = 7.5, setup: bool = False) -> GameRecord:
    """A game of random legal moves; now and then the same colour moves twice, and (with ``setup``)
    it starts from random setup stones with a chosen side to move."""
    rng = np.random.default_rng(seed)
    record = GameRecord(size=size, komi=komi)
    if setup:
        points = rng.permutation(size * size)[: rng.integers(0, size * size // 3 + 1)]
        split = int(rng.integers(0, len(points) + 1))
        record.setup_black = tuple(int(p) for p in points[:split])
        record.setup_white = tuple(int(p) for p in points[split:])
        record.first_to_play = [None, BLACK, WHITE][int(rng.integers(0, 3))]
    position = record.initial_position()
    for _ in range(n_moves):
        color = position.to_play if rng.random() < 0.9 else -position.to_play
        point = int(rng.choice(np.flatnonzero(position.legal_moves(color))))
        record.moves.append(Move(color, point))
        position = position.play(point, color=color)
    record.result = position.result()
    return record


# -- passes


def test_empty_value_reads_as_pass():
    record = read_sgf("(;SZ[9];B[];W[ee])")
    assert record.moves[0] == Move(BLACK, coords.pass_point(9))


def test_tt_reads_as_pass_on_9x9():
    record = read_sgf("(;SZ[9];B[tt])")
    assert record.moves[0].point == coords.pass_point(9)


def test_tt_reads_as_pass_on_19x19():
    record = read_sgf("(;SZ[19];B[tt])")
    assert record.moves[0].point == coords.pass_point(19)


def test_pass_is_written_as_empty_value():
    record = GameRecord(size=9, moves=[Move(BLACK, coords.pass_point(9)), Move(WHITE, 40)])
    text = write_sgf(record)
    assert ";B[];W[ee]" in text
    assert "tt" not in text


# -- root properties


def test_size_is_read():
    assert read_sgf("(;SZ[13])").size == 13


def test_size_with_both_sides_is_read():
    assert read_sgf("(;SZ[9:9])").size == 9


def test_missing_size_means_19():
    assert read_sgf("(;B[pd])").size == 19


def test_non_square_size_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 0, SZ\[9:13\]: only square"):
        read_sgf("(;SZ[9:13])")


@pytest.mark.parametrize("size", ["0", "20", "25", "nine", "-9", "9.5"])
def test_unsupported_size_is_an_error(size):
    with pytest.raises(SGFError, match=rf"game 1, node 0, SZ\[{re.escape(size)}\]"):
        read_sgf(f"(;SZ[{size}])")


def test_size_outside_the_root_is_an_error():
    with pytest.raises(SGFError, match=r"node 1, SZ\[9\]: the board size belongs in the root"):
        read_sgf("(;B[aa];SZ[9])")


def test_komi_is_read():
    assert read_sgf("(;SZ[9]KM[6.5])").komi == 6.5


def test_negative_and_integer_komi_are_read():
    assert read_sgf("(;KM[-3])").komi == -3.0


def test_missing_komi_is_zero():
    assert read_sgf("(;SZ[9])").komi == 0.0


@pytest.mark.parametrize("komi", ["abc", "nan", "inf", "1e5", "7.5.5"])
def test_bad_komi_is_an_error(komi):
    with pytest.raises(SGFError, match=rf"game 1, node 0, KM\[{re.escape(komi)}\]"):
        read_sgf(f"(;KM[{komi}])")


@pytest.mark.parametrize("result", ["B+R", "W+1.5", "0", "B+T"])
def test_result_is_read(result):
    assert read_sgf(f"(;RE[{result}])").result == result


def test_handicap_is_read():
    assert read_sgf("(;SZ[9]HA[2]AB[cc][gg])").handicap == 2


def test_bad_handicap_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 0, HA\[two\]"):
        read_sgf("(;HA[two])")


def test_names_date_and_rules_are_read():
    record = read_sgf("(;PB[Honinbo\nShusaku]PW[Gennan Inseki]DT[1846-09-11]RU[Japanese])")
    assert (record.black, record.white, record.date, record.rules) == (
        "Honinbo Shusaku",  # simple text: a line break becomes a space
        "Gennan Inseki",
        "1846-09-11",
        "Japanese",
    )


def test_game_other_than_go_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 0, GM\[2\]: not a game of Go"):
        read_sgf("(;GM[2])")


def test_unknown_properties_are_ignored():
    record = read_sgf("(;SZ[9]XX[whatever][more]GN[name];B[ee]TR[aa][bb]MN[3])")
    assert record.moves == [Move(BLACK, 40)]


# -- setup


def test_setup_stones_are_read():
    record = read_sgf("(;SZ[9]AB[aa][bb]AW[cc])")
    assert record.setup_black == (0, 10)
    assert record.setup_white == (20,)


def test_compressed_point_list_is_read():
    record = read_sgf("(;SZ[9]AB[aa:bc])")
    assert set(record.setup_black) == {0, 1, 9, 10, 18, 19}


def test_empty_setup_removes_a_stone():
    record = read_sgf("(;SZ[9]AB[aa][bb]AW[cc];AE[bb][cc])")
    assert record.setup_black == (0,)
    assert record.setup_white == ()


def test_setup_in_later_nodes_before_any_move_is_accumulated():
    record = read_sgf("(;SZ[9]AB[aa];AW[bb];AB[bb];W[ee])")
    assert record.setup_black == (0, 10)
    assert record.setup_white == ()
    assert record.moves == [Move(WHITE, 40)]


def test_setup_stones_are_on_the_initial_board():
    position = read_sgf("(;SZ[9]AB[cc][gg]AW[ee])").initial_position()
    assert stones(position, BLACK) == {20, 60}
    assert stones(position, WHITE) == {40}


def test_player_to_move_is_read():
    record = read_sgf("(;SZ[9]AB[cc]PL[B])")
    assert record.first_to_play == BLACK
    assert record.initial_position().to_play == BLACK


def test_black_move_after_handicap_means_black_moves_next():
    record = read_sgf("(;SZ[9]HA[2]AB[cc][gg];B[ee];W[dd])")
    assert record.initial_position().to_play == BLACK
    final = record.final_position()
    assert stones(final, BLACK) == {20, 60, 40}
    assert stones(final, WHITE) == {30}


def test_white_may_move_first():
    record = read_sgf("(;SZ[9];W[ee];B[dd])")
    assert [move.color for move in record.moves] == [WHITE, BLACK]
    assert stones(record.final_position(), WHITE) == {40}


def test_same_colour_may_move_twice():
    record = read_sgf("(;SZ[9];B[ee];B[dd];W[cc])")
    assert [move.color for move in record.moves] == [BLACK, BLACK, WHITE]
    final = record.final_position()
    assert stones(final, BLACK) == {40, 30}
    assert stones(final, WHITE) == {20}


def test_setup_after_a_move_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 2, AB\[cc\]: setup after move 1 is not supported"):
        read_sgf("(;SZ[9];B[aa];AB[cc])")


def test_setup_with_the_first_move_is_placed_before_it():
    record = read_sgf("(;SZ[9]AB[aa]W[bb])")
    assert record.setup_black == (0,)
    assert record.moves == [Move(WHITE, 10)]


def test_setup_point_in_both_colours_of_one_node_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 0, AW\[aa\]: point aa is also in AB"):
        read_sgf("(;SZ[9]AB[aa]AW[aa])")


@pytest.mark.parametrize("value", ["", "tt", "zz", "aa:", "aa:bb:cc"])
def test_setup_value_that_is_not_a_point_is_an_error(value):
    with pytest.raises(SGFError, match=r"game 1, node 0, AB\["):
        read_sgf(f"(;SZ[9]AB[{value}])")


def test_player_to_move_must_be_a_colour():
    with pytest.raises(SGFError, match=r"game 1, node 0, PL\[X\]: expected B or W"):
        read_sgf("(;PL[X])")


# -- text values


def test_escaped_bracket_in_comment_is_read():
    assert read_sgf(r"(;C[a [?\]: b])").comment == "a [?]: b"


def test_escaped_backslash_is_read():
    assert read_sgf(r"(;C[back\\slash\\])").comment == "back\\slash\\"


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n", "\n\r"])
def test_backslash_newline_is_removed(newline):
    assert read_sgf(f"(;C[soft\\{newline}break])").comment == "softbreak"


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n", "\n\r"])
def test_line_breaks_become_newline(newline):
    assert read_sgf(f"(;C[one{newline}two{newline}{newline}three])").comment == "one\ntwo\n\nthree"


def test_tab_in_comment_becomes_space():
    assert read_sgf("(;C[a\tb])").comment == "a b"


def test_root_comment_goes_to_the_record_and_move_comment_to_the_move():
    record = read_sgf("(;SZ[9]C[the game];B[ee]C[a good move];W[dd])")
    assert record.comment == "the game"
    assert record.moves == [Move(BLACK, 40, "a good move"), Move(WHITE, 30)]


def test_comment_on_a_node_without_a_move_joins_the_previous_move():
    record = read_sgf("(;SZ[9];B[ee]C[first];C[second];W[dd])")
    assert record.moves[0].comment == "first\nsecond"


# -- structure


def test_whitespace_between_tokens_is_ignored():
    record = read_sgf(" \n ( ; SZ [9] \n KM [6.5] ; B \t [ee] \r\n ; W [dd] ) \n ")
    assert (record.size, record.komi, record.moves) == (9, 6.5, [Move(BLACK, 40), Move(WHITE, 30)])


def test_whitespace_between_values_is_ignored():
    assert read_sgf("(;SZ[9]AB[aa] \n [bb])").setup_black == (0, 10)


def test_ff3_lowercase_letters_in_identifiers_are_skipped():
    record = read_sgf("(;SiZe[9]AddBlack[aa];Black[ee])")
    assert (record.size, record.setup_black, record.moves) == (9, (0,), [Move(BLACK, 40)])


def test_two_game_trees_are_two_games():
    games = parse_collection("(;X[])(;Y[a])")
    assert len(games) == 2


def test_collection_games_are_read_in_order():
    games = parse_collection("(;SZ[9];B[ee])\n(;SZ[13];W[aa])")
    assert [(game.size, game.moves) for game in games] == [(9, [Move(BLACK, 40)]), (13, [Move(WHITE, 0)])]


def test_read_sgf_returns_the_first_game():
    assert read_sgf("(;SZ[9])(;SZ[13])").size == 9


def test_variations_follow_the_main_line():
    text = "(;SZ[9];B[aa](;W[bb](;B[cc])(;B[dd]))(;W[ee](;B[ff])))"
    record = read_sgf(text)
    assert [move.point for move in record.moves] == [0, 10, 20]


def test_an_error_in_a_variation_off_the_main_line_is_ignored_unless_it_is_syntax():
    # B[zz] is off the board but not on the main line: only the main line is replayed
    assert len(read_sgf("(;SZ[9];B[aa](;W[bb])(;W[zz]))").moves) == 2
    with pytest.raises(SGFError, match=r"game 1, node 2: property identifier 'w'"):
        read_sgf("(;SZ[9];B[aa](;W[bb])(;w[cc]))")


def test_deep_nesting_does_not_overflow():
    depth = 20_000
    record = read_sgf("(;SZ[9]" + "(;C[x]" * depth + ")" * depth + ")")
    assert record.comment == "x\n" * (depth - 1) + "x"


# -- malformed input


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("()", r"game 1, node 0: empty game tree .*line 1, column 2"),
        ("(;[])", r"game 1, node 0: a property value .* no property identifier .*line 1, column 3"),
        ("(;a[])", r"game 1, node 0: property identifier 'a' has no uppercase letter .*line 1, column 3"),
        ("(;SZ[9];B[aa", r"game 1, node 1: value of B is never closed .*line 1, column 10"),
        ("(;SZ[9];B[aa]", r"game 1, node 1: missing '\)' .*line 1, column 1"),
        ("(;SZ[9])\n(;B[aa]", r"game 2, node 0: missing '\)' .*line 2, column 1"),
        ("(;SZ[9]) junk", r"game 2: text after the last game tree.*'j' .*line 1, column 10"),
        ("(;SZ[9];B)", r"game 1, node 1: property B has no value"),
        ("(;SZ[9];B[aa]1)", r"game 1, node 1: unexpected '1'"),
        ("(;B[aa](;W[bb]);W[cc])", r"game 1, node 1: a node after variations"),
        ("(;B[aa](;W[bb])x)", r"game 1, node 0: unexpected 'x'"),
        ("(;B[aa]())", r"game 1, node 1: empty game tree"),
        ("(B[aa])", r"game 1, node 0: expected ';' to start a node, found 'B'"),
        (";B[aa]", r"game 1: expected '\(' to start a game tree, found ';'"),
        ("", r"game 1: no game tree found"),
        ("  \n ", r"game 1: no game tree found"),
    ],
)
def test_malformed_input_is_an_error_naming_where(text, message):
    with pytest.raises(SGFError, match=message):
        parse_collection(text)


def test_sgf_error_is_a_value_error():
    assert issubclass(SGFError, ValueError)


def test_move_off_the_board_is_an_error_naming_the_node():
    with pytest.raises(SGFError, match=r"^game 1, node 3, B\[rs\]: point is off the 9x9 board$"):
        read_sgf("(;SZ[9];B[aa];W[bb];B[rs])")


def test_move_that_is_not_a_point_is_an_error_naming_the_node():
    with pytest.raises(SGFError, match=r"game 1, node 1, W\[A1\]: not a point"):
        read_sgf("(;SZ[9];W[A1])")


def test_move_onto_an_occupied_point_is_an_error_naming_the_node():
    with pytest.raises(SGFError, match=r"^game 1, node 3, B\[aa\]: illegal move 3 \(black A9: occupied\)$"):
        read_sgf("(;SZ[9];B[aa];W[bb];B[aa])")


def test_move_onto_a_setup_stone_is_an_error_naming_the_node():
    with pytest.raises(SGFError, match=r"game 1, node 1, W\[cc\]: illegal move 1 .*occupied"):
        read_sgf("(;SZ[9]AB[cc];W[cc])")


def test_suicide_is_an_error_naming_the_node():
    with pytest.raises(SGFError, match=r"game 1, node 1, W\[aa\]: illegal move 1 .*suicide"):
        read_sgf("(;SZ[9]AB[ba][ab];W[aa])")


def test_ko_retake_is_an_error_naming_the_node():
    # Black captures the white stone at ee by playing ef; White may not retake at ee at once
    text = "(;SZ[9]AB[ed][de][fe]AW[ee][df][ff][eg];B[ef];W[ee])"
    with pytest.raises(SGFError, match=r"^game 1, node 2, W\[ee\]: illegal move 2 \(white E5: ko\)$"):
        read_sgf(text)


def test_ko_rule_can_be_chosen():
    assert read_sgf("(;SZ[9])", ko="simple").ko == "simple"
    with pytest.raises(ValueError, match="ko rule"):
        read_sgf("(;SZ[9])", ko="none")


def test_node_with_both_colours_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 1: a node with both a B and a W move"):
        read_sgf("(;SZ[9];B[aa]W[bb])")


def test_move_with_two_values_is_an_error():
    with pytest.raises(SGFError, match=r"game 1, node 1, B: 2 values where one is expected"):
        read_sgf("(;SZ[9];B[aa][bb])")


def test_error_in_a_later_game_names_that_game():
    with pytest.raises(SGFError, match=r"^game 2, node 1, W\[zz\]"):
        parse_collection("(;SZ[9];B[aa])(;SZ[9];W[zz])")


# -- fuzzing

_SGF_ALPHABET = "();[]\\: \n\r\tABWCEHKLMPSZTaetb019"


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_random_text_raises_only_sgf_error(text):
    try:
        parse_collection(text)
    except SGFError:
        pass


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=_SGF_ALPHABET, max_size=200))
def test_random_sgf_like_text_raises_only_sgf_error(text):
    for candidate in (text, "(;" + text):  # the prefix gets more inputs past the first token
        try:
            parse_collection(candidate)
        except SGFError:
            pass


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_game_raises_only_sgf_error(data):
    text = write_sgf(random_game(9, seed=7, n_moves=30, setup=True))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()):
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + data.draw(st.sampled_from(_SGF_ALPHABET)) + text[at:]
    try:
        parse_collection(text)
    except SGFError:
        pass


# -- writing


def test_write_starts_with_the_ff4_root():
    text = write_sgf(GameRecord(size=9, komi=7.5))
    assert text.startswith("(;FF[4]GM[1]CA[UTF-8]AP[minigo:")
    assert "SZ[9]" in text and "KM[7.5]" in text and text.rstrip().endswith(")")


def test_write_escapes_comments():
    record = GameRecord(size=9, comment="a [?]: b \\", moves=[Move(BLACK, 40, "x]y")])
    text = write_sgf(record)
    assert r"C[a [?\]: b \\]" in text
    assert r";B[ee]C[x\]y]" in text


def test_write_omits_handicap_zero_and_empty_names():
    text = write_sgf(GameRecord(size=9, handicap=0, black="", white=""))
    assert "HA[" not in text and "PB[" not in text and "PW[" not in text


def test_write_keeps_lines_short():
    record = random_game(19, seed=3, n_moves=200)
    lines = write_sgf(record).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) >= 20


def test_round_trip_gives_the_same_game():
    record = GameRecord(
        size=9,
        komi=6.5,
        result="W+1.5",
        black="Alice",
        white="Bob",
        date="2024-01-02",
        rules="Chinese",
        handicap=2,
        setup_black=(20, 60),
        first_to_play=WHITE,
        comment="root\ncomment [with] \\ escapes",
        moves=[Move(WHITE, 40, "centre"), Move(BLACK, 81), Move(WHITE, 30), Move(WHITE, 31, "twice")],
    )
    assert read_sgf(write_sgf(record)) == record


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 19),
    seed=st.integers(0, 2**32 - 1),
    n_moves=st.integers(0, 80),
    komi=st.floats(-1000, 1000, allow_nan=False),
    setup=st.booleans(),
)
def test_round_trip_of_random_legal_games(size, seed, n_moves, komi, setup):
    record = random_game(size, seed, n_moves, komi=komi, setup=setup)
    again = read_sgf(write_sgf(record))
    assert again == record
    assert np.array_equal(again.final_position().board, record.final_position().board)


_NORMAL_TEXT = st.text(st.characters(blacklist_characters="\r\t\x0b\x0c", blacklist_categories=["Cs"]))


@settings(max_examples=200, deadline=None)
@given(root=_NORMAL_TEXT, move=_NORMAL_TEXT)
def test_round_trip_of_any_comment(root, move):
    record = GameRecord(size=9, comment=root, moves=[Move(BLACK, 40, move)])
    assert read_sgf(write_sgf(record)) == record


# -- files


def test_save_then_load_gives_the_same_game(tmp_path):
    record = random_game(9, seed=1, n_moves=40)
    save(record, tmp_path / "game.sgf")
    assert load(tmp_path / "game.sgf") == record


def test_save_leaves_no_temporary_files(tmp_path):
    for seed in range(3):
        save(random_game(9, seed=seed, n_moves=10), tmp_path / "game.sgf")
    assert os.listdir(tmp_path) == ["game.sgf"]


def test_saved_file_has_the_permissions_the_umask_gives(tmp_path):
    umask = os.umask(0o022)
    try:
        save(GameRecord(size=9), tmp_path / "game.sgf")
    finally:
        os.umask(umask)
    assert (tmp_path / "game.sgf").stat().st_mode & 0o777 == 0o644


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "game.sgf"
    old = random_game(9, seed=1, n_moves=5)
    save(old, path)

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save(random_game(9, seed=2, n_moves=5), path)
    assert os.listdir(tmp_path) == ["game.sgf"]
    assert load(path) == old


def test_load_reads_utf8(tmp_path):
    path = tmp_path / "game.sgf"
    path.write_bytes("(;SZ[9]PB[Gō Seigen])".encode())
    assert load(path).black == "Gō Seigen"


def test_load_falls_back_to_latin1(tmp_path):
    path = tmp_path / "game.sgf"
    path.write_bytes("(;SZ[9]PB[Müller])".encode("latin-1"))
    assert load(path).black == "Müller"


def test_load_honours_the_charset(tmp_path):
    path = tmp_path / "game.sgf"
    # in Shift-JIS the second byte of some characters is ']', so the text must be decoded before parsing
    path.write_bytes("(;CA[Shift_JIS]SZ[9]PB[本因坊秀策]C[ソ])".encode("shift_jis"))
    record = load(path)
    assert (record.black, record.comment) == ("本因坊秀策", "ソ")


def test_load_skips_a_byte_order_mark(tmp_path):
    path = tmp_path / "game.sgf"
    path.write_bytes(b"\xef\xbb\xbf(;SZ[9])")
    assert load(path).size == 9


def test_load_error_names_the_file(tmp_path):
    path = tmp_path / "bad.sgf"
    path.write_text("(;SZ[9];B[rs])")
    with pytest.raises(SGFError, match=rf"^{re.escape(str(path))}: game 1, node 1, B\[rs\]"):
        load(path)


def test_fixture_with_variations_and_setup_is_read():
    record = load(DATA / "handicap_with_variations.sgf")
    assert (record.size, record.komi, record.handicap, record.result) == (9, 0.5, 2, "W+R")
    assert record.setup_black == (coords.from_sgf("cg", 9), coords.from_sgf("gc", 9))
    assert [coords.to_sgf(move.point, 9) for move in record.moves] == ["ee", "ge", "", "cc", "dc"]
    assert [move.color for move in record.moves] == [WHITE, BLACK, WHITE, BLACK, WHITE]
    assert record.moves[0].comment == "White takes the centre."


# -- GNU Go


def _gnugo_binary() -> str | None:
    found = shutil.which("gnugo")
    if found:
        return found
    return "/usr/games/gnugo" if os.access("/usr/games/gnugo", os.X_OK) else None


GNUGO = _gnugo_binary()
needs_gnugo = pytest.mark.skipif(GNUGO is None, reason="GNU Go (gnugo) is not installed")


class _GnuGo:
    """The least GTP client that works: one command, one response (lines up to a blank line)."""

    def __init__(self, binary: str) -> None:
        self.process = subprocess.Popen(
            [binary, "--mode", "gtp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def send(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        lines: list[str] = []
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"GNU Go exited while answering {command!r}")
            line = line.rstrip("\r\n")
            if not line:
                if lines:
                    break
                continue
            lines.append(line)
        response = "\n".join(lines)
        if not response.startswith("="):
            raise AssertionError(f"GNU Go refused {command!r}: {response}")
        return response[1:].strip()

    def stones(self, color: str, size: int) -> set[int]:
        return {coords.from_gtp(vertex, size) for vertex in self.send(f"list_stones {color}").split()}

    def close(self) -> None:
        try:
            self.send("quit")
        except (RuntimeError, OSError):
            pass
        self.process.wait(timeout=10)


@pytest.fixture
def gnugo():
    assert GNUGO is not None
    engine = _GnuGo(GNUGO)
    yield engine
    engine.close()


def _captures_and_passes_game() -> GameRecord:
    # Black captures a white stone at the corner, both sides pass once, White moves twice in a row
    text = "(;SZ[9]KM[7.5];B[ba];W[aa];B[ab];W[ee];B[];W[dd];W[de];B[tt])"
    return read_sgf(text)


@pytest.mark.gnugo
@needs_gnugo
@pytest.mark.parametrize(
    "record",
    [
        pytest.param(_captures_and_passes_game, id="captures-and-passes"),
        pytest.param(lambda: random_game(9, seed=11, n_moves=70), id="random-9x9"),
        pytest.param(lambda: random_game(5, seed=12, n_moves=40), id="random-5x5"),
        pytest.param(lambda: random_game(19, seed=13, n_moves=150), id="random-19x19"),
        pytest.param(
            lambda: GameRecord(size=9, handicap=2, setup_black=(20, 60), moves=[Move(WHITE, 40)]),
            id="handicap",
        ),
    ],
)
def test_gnugo_loadsgf_reads_what_we_write(gnugo, tmp_path, record):
    game = record()
    path = tmp_path / "ours.sgf"
    save(game, path)
    gnugo.send(f"loadsgf {path}")
    final = game.final_position()
    assert gnugo.stones("black", game.size) == stones(final, BLACK)
    assert gnugo.stones("white", game.size) == stones(final, WHITE)


@pytest.mark.gnugo
@needs_gnugo
def test_we_read_what_gnugo_printsgf_writes(gnugo, tmp_path):
    gnugo.send("boardsize 9")
    gnugo.send("clear_board")
    gnugo.send("komi 6.5")
    for move in ["black B9", "white A9", "black A8", "white E5", "black pass", "white D4", "black C3"]:
        gnugo.send(f"play {move}")
    path = tmp_path / "gnugo.sgf"
    gnugo.send(f"printsgf {path}")
    record = load(path)
    final = record.final_position()
    assert record.size == 9
    assert stones(final, BLACK) == gnugo.stones("black", 9)
    assert stones(final, WHITE) == gnugo.stones("white", 9)
    assert coords.from_gtp("A9", 9) not in stones(final, WHITE)  # the captured stone is gone
