"""The GTP engine: the checklist in ../shared/REFERENCE.md line by line, bad input, the command line, and a
whole game against GNU Go.

Most tests talk to a real ``minigo gtp --player random`` subprocess through our own GTP client (one process
for the module, each test starting from ``boardsize 9`` / ``clear_board``); the exact bytes of the protocol
are checked on a scripted session; handlers that need an odd player (one that resigns or crashes) run
in-process through ``Engine``.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from minigo import __version__, gtp_client, sgf
from minigo.coords import from_gtp
from minigo.go import BLACK, WHITE, IllegalMove, Position, Rules
from minigo.gtp import Engine, clean_line, format_answer, serve
from minigo.gtp_client import EngineDied, GTPEngine, GTPError, find_gnugo
from minigo.players import RESIGN, GnuGoPlayer
from minigo.record import GameRecord, Move
from selfplay import cli

ENGINE_ARGV = [sys.executable, "-m", "selfplay.cli", "gtp"]
needs_gnugo = pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")


def minigo_argv(*args: str) -> list[str]:
    return [*ENGINE_ARGV, *args]


@pytest.fixture(scope="module")
def gtp() -> Iterator[GTPEngine]:
    """One ``minigo gtp --player random`` process shared by the module's tests."""
    with GTPEngine(minigo_argv("--player", "random,seed=3"), name="minigo", timeout=60.0) as engine:
        yield engine


@pytest.fixture
def fresh(gtp: GTPEngine) -> GTPEngine:
    """The shared engine on an empty 9x9 board with komi 7.5."""
    gtp.send("boardsize 9")
    gtp.send("komi 7.5")
    gtp.send("clear_board")
    return gtp


def run_script(script: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """A whole session: ``script`` on stdin, stdout and stderr captured."""
    return subprocess.run(minigo_argv("--player", "random,seed=1", *args), input=script.encode(),
                          capture_output=True, timeout=60)


class ScriptedPlayer:
    """A player that answers from a list (points, RESIGN) or raises what it is given."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.name = "scripted"
        self.seen: list[Position] = []
        self.resets: list[Rules] = []
        self.closed = False

    def reset(self, rules: Rules) -> None:
        self.resets.append(rules)

    def play(self, position: Position) -> int:
        self.seen.append(position)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer  # type: ignore[return-value]

    def close(self) -> None:
        self.closed = True


def answers(engine: Engine, *lines: str) -> list[str]:
    """The answers to ``lines``, comment and blank lines giving none."""
    return [answer for line in lines if (answer := engine.handle(line)) is not None]


# --------------------------------------------------------------------------- 1. the protocol itself


def test_session_bytes_ids_comments_blank_lines_tabs_and_control_characters() -> None:
    script = (
        "protocol_version\n"
        "# a comment line gets no answer\n"
        "\n"
        "   \n"
        "7 name\n"
        "8\tknown_command\tplay\n"  # tabs are spaces
        "9 play b d4 # a comment after a command\n"
        "10 pl\x01ay\x07 w\x1b e5\r\n"  # control characters dropped, CRLF too
        "11 frobnicate\n"
        "12 list_stones black\n"
        "quit\n"
        "name\n"  # never read: quit answers, then the engine exits
    )
    done = run_script(script)
    assert done.returncode == 0
    assert done.stdout.decode() == (
        "= 2\n\n"
        "=7 minigo\n\n"
        "=8 true\n\n"
        "=9 \n\n"
        "=10 \n\n"
        "?11 unknown command\n\n"
        "=12 D4\n\n"
        "= \n\n"
    )


def test_end_of_input_ends_the_session_cleanly() -> None:
    done = run_script("name\n")
    assert done.stdout.decode() == "= minigo\n\n"
    assert done.returncode == 0


def test_answers_are_flushed_one_by_one(gtp: GTPEngine) -> None:
    # The client waits for each answer before sending the next command: an unflushed answer would hang it.
    for _ in range(20):
        assert gtp.send("protocol_version", timeout=10) == "2"


def test_clean_line_and_format_answer() -> None:
    assert clean_line("1\tplay\x00 b\x7f D4 # note\r\n") == "1 play b D4"
    assert clean_line("# only a comment") == ""
    assert format_answer(True, "", "") == "= \n\n"
    assert format_answer(False, "3", "cannot undo") == "?3 cannot undo\n\n"
    # an empty line would end the answer early; a leading line break (showboard) is kept
    assert format_answer(True, "", "\na\n\nb\n") == "= \na\nb\n\n"


# --------------------------------------------------------------------------- 2. vertices


def test_a1_is_the_bottom_left_corner(fresh: GTPEngine) -> None:
    fresh.send("play b A1")
    rows = [line for line in fresh.send("showboard").split("\n") if line.strip()[:1].isdigit()]
    assert rows[-1].split()[:2] == ["1", "X"]
    assert fresh.send("list_stones black") == "A1"


def test_vertices_skip_i_and_are_case_insensitive(fresh: GTPEngine) -> None:
    fresh.send("play b h8")
    fresh.send("play w J9")  # J is the ninth column
    assert fresh.send("list_stones black") == "H8"
    assert fresh.send("list_stones white") == "J9"


@pytest.mark.parametrize("vertex", ["I5", "K9", "A0", "A10", "Z1", "D", "44", "pas"])
def test_bad_vertex_is_refused_with_a_reason(fresh: GTPEngine, vertex: str) -> None:
    with pytest.raises(GTPError, match=f"vertex '{vertex}'"):
        fresh.send(f"play b {vertex}")
    assert fresh.send("list_stones black") == ""
    assert fresh.send("protocol_version") == "2"  # still alive


def test_pass_is_accepted(fresh: GTPEngine) -> None:
    fresh.send("play b pass")
    fresh.send("play w PASS")
    assert fresh.send("list_stones black") == "" and fresh.send("list_stones white") == ""
    fresh.send("undo")
    fresh.send("undo")
    with pytest.raises(GTPError, match="cannot undo"):
        fresh.send("undo")


# --------------------------------------------------------------------------- 3. colours need not alternate


def test_same_colour_may_play_twice(fresh: GTPEngine) -> None:
    fresh.send("play b D4")
    fresh.send("play b E5")
    assert fresh.send("list_stones black") == "E5 D4"


def test_genmove_plays_the_colour_given_and_keeps_it_on_the_board(fresh: GTPEngine) -> None:
    fresh.send("play b D4")  # white to move, but black is asked
    move = fresh.send("genmove b")
    assert move not in ("pass", "resign", "D4")
    assert set(fresh.send("list_stones black").split()) == {"D4", move}
    assert fresh.send("list_stones white") == ""
    move = fresh.send("genmove white")
    assert fresh.send("list_stones white") == move


@pytest.mark.parametrize("color", ["b", "B", "black", "BLACK", "w", "White"])
def test_colour_spellings(fresh: GTPEngine, color: str) -> None:
    fresh.send(f"play {color} C3")
    expected = "black" if color.lower().startswith("b") else "white"
    assert fresh.send(f"list_stones {expected}") == "C3"


# --------------------------------------------------------------------------- 4. pass and resign


def test_genmove_passes_when_no_move_is_left(fresh: GTPEngine) -> None:
    fresh.send("boardsize 1")  # the only point would be suicide
    assert fresh.send("genmove b") == "pass"
    assert fresh.send("genmove w") == "pass"
    assert fresh.send("final_score") == "W+7.5"


def test_genmove_resign_is_answered_and_not_played() -> None:
    engine = Engine(ScriptedPlayer(RESIGN), Rules())
    assert answers(engine, "play b D4", "genmove w") == ["= \n\n", "= resign\n\n"]
    assert len(engine.line) == 2
    assert "RE[B+R]" in engine.handle("printsgf")  # type: ignore[operator]
    assert engine.handle("undo") == "= \n\n"
    assert "RE[" not in engine.handle("printsgf")  # type: ignore[operator]


def test_genmove_answer_of_the_player_is_asked_for_the_colour_given() -> None:
    player = ScriptedPlayer(from_gtp("E5", 9))
    engine = Engine(player, Rules())
    answers(engine, "play b D4", "genmove b")
    assert player.seen[0].to_play == BLACK
    assert engine.position.board[from_gtp("E5", 9)] == BLACK
    assert engine.position.to_play == WHITE


# --------------------------------------------------------------------------- 5. boardsize, clear_board, undo


@pytest.mark.parametrize("size", ["0", "26", "20", "-1", "nine", "9.0"])
def test_failed_boardsize_changes_nothing(fresh: GTPEngine, size: str) -> None:
    fresh.send("play b D4")
    with pytest.raises(GTPError, match="unacceptable size|not an integer"):
        fresh.send(f"boardsize {size}")
    assert fresh.send("list_stones black") == "D4"
    assert fresh.send("is_legal b J9") == "1"  # still 9x9
    with pytest.raises(GTPError):
        fresh.send("play b K10")


def test_boardsize_clears_the_board_and_sets_the_size(fresh: GTPEngine) -> None:
    fresh.send("play b D4")
    fresh.send("boardsize 9")
    assert fresh.send("list_stones black") == ""
    fresh.send("boardsize 13")
    fresh.send("play w N13")
    assert fresh.send("list_stones white") == "N13"
    fresh.send("clear_board")
    assert fresh.send("list_stones white") == ""
    with pytest.raises(GTPError, match="cannot undo"):
        fresh.send("undo")


def test_undo_back_to_the_empty_board_then_cannot_undo(fresh: GTPEngine) -> None:
    fresh.send("play b D4")
    fresh.send("play w C3")
    fresh.send("genmove b")
    for _ in range(3):
        fresh.send("undo")
    assert fresh.send("list_stones black") == "" and fresh.send("list_stones white") == ""
    with pytest.raises(GTPError, match="^minigo refused 'undo': cannot undo$"):
        fresh.send("undo")
    assert fresh.send("protocol_version") == "2"


def test_undo_restores_captures(fresh: GTPEngine) -> None:
    for move in ("b A2", "w A1", "b B1"):
        fresh.send(f"play {move}")
    assert fresh.send("captures black") == "1"
    fresh.send("undo")
    assert fresh.send("captures black") == "0"
    assert fresh.send("list_stones white") == "A1"


# --------------------------------------------------------------------------- 6. administrative commands


def test_protocol_version_name_and_version(fresh: GTPEngine) -> None:
    assert fresh.send("protocol_version") == "2"
    assert fresh.send("name") == "minigo"
    assert fresh.send("version").startswith(__version__)
    assert "random" in fresh.send("version")


def test_known_command_agrees_with_list_commands(fresh: GTPEngine) -> None:
    commands = fresh.send("list_commands").split("\n")
    required = {
        "protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
        "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score", "final_status_list",
        "loadsgf", "printsgf", "time_settings", "time_left", "kgs-genmove_cleanup", "is_legal", "all_legal",
        "list_stones", "captures", "gogui-analyze_commands",
    }
    assert required <= set(commands)
    assert len(commands) == len(set(commands))
    for command in commands:
        assert fresh.send(f"known_command {command}") == "true"
    for command in ("frobnicate", "genmov", "loadsgf2", "reg_genmove"):
        assert fresh.send(f"known_command {command}") == "false"


def test_gogui_analyze_commands_is_an_empty_list(fresh: GTPEngine) -> None:
    assert fresh.send("gogui-analyze_commands") == ""


def test_time_commands_are_accepted_and_checked(fresh: GTPEngine) -> None:
    assert fresh.send("time_settings 300 30 5") == ""
    assert fresh.send("time_left b 120 0") == ""
    assert fresh.send("time_left white 29.5 3") == ""
    for bad in ("time_settings 1 2", "time_settings a b c", "time_settings -1 0 0", "time_left x 1 1",
                "time_left b ten 0"):
        with pytest.raises(GTPError):
            fresh.send(bad)


# --------------------------------------------------------------------------- 7. scoring


def test_final_score_formats(fresh: GTPEngine) -> None:
    assert fresh.send("final_score") == "W+7.5"
    fresh.send("play b E5")
    assert fresh.send("final_score") == "B+73.5"
    fresh.send("komi 81")
    assert fresh.send("final_score") == "0"
    fresh.send("komi 80.5")
    assert fresh.send("final_score") == "B+0.5"


def test_komi_changes_the_score_of_the_game_in_progress(fresh: GTPEngine) -> None:
    fresh.send("play b E5")
    fresh.send("play w D4")
    fresh.send("komi 0")
    assert fresh.send("final_score") == "0"
    assert fresh.send("list_stones black") == "E5"  # the game is kept
    fresh.send("undo")
    assert fresh.send("final_score") == "B+81"


def test_final_status_list_without_an_ownership_map_counts_the_board_as_it_stands(fresh: GTPEngine) -> None:
    for move in ("b A1", "b A2", "w E5", "b J9"):
        fresh.send(f"play {move}")
    assert fresh.send("final_status_list dead") == ""
    assert fresh.send("final_status_list seki") == ""
    alive = fresh.send("final_status_list alive").split("\n")
    assert sorted(alive) == ["A2 A1", "E5", "J9"]  # one chain a line
    with pytest.raises(GTPError, match="invalid status"):
        fresh.send("final_status_list zombie")


# --------------------------------------------------------------------------- 8. bad input keeps the engine alive


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("frobnicate", "unknown command"),
        ("play X A4", "invalid color 'X'"),
        ("play b", "syntax error"),
        ("play b D4 D5", "syntax error"),
        ("genmove", "syntax error"),
        ("genmove purple", "invalid color"),
        ("komi abc", "komi not a float"),
        ("komi nan", "not a finite number"),
        ("komi inf", "not a finite number"),
        ("komi", "syntax error"),
        ("boardsize 0", "unacceptable size"),
        ("boardsize 26", "unacceptable size"),
        ("boardsize", "syntax error"),
        ("is_legal b I5", "vertex 'I5'"),
        ("list_stones green", "invalid color"),
        ("captures", "syntax error"),
    ],
)
def test_bad_input_gets_a_reason(fresh: GTPEngine, command: str, reason: str) -> None:
    fresh.send("play b D4")
    with pytest.raises(GTPError) as info:
        fresh.send(command)
    assert reason in info.value.message
    assert fresh.send("list_stones black") == "D4"
    assert fresh.send("final_score") == "B+73.5"  # komi unchanged too


def test_move_on_a_stone_is_an_illegal_move(fresh: GTPEngine) -> None:
    fresh.send("play b D4")
    for color in ("b", "w"):
        with pytest.raises(GTPError, match="illegal move .*occupied"):
            fresh.send(f"play {color} D4")
    assert fresh.send("is_legal w D4") == "0"


def test_suicide_is_an_illegal_move(fresh: GTPEngine) -> None:
    fresh.send("play b A2")
    fresh.send("play b B1")
    with pytest.raises(GTPError, match="illegal move .*suicide"):
        fresh.send("play w A1")


def test_retaking_a_ko_is_an_illegal_move(fresh: GTPEngine) -> None:
    # . X O .      rows 3..1, columns A..D
    # X O . O      black C2 takes B2; white B2 at once would retake
    # . X O .
    for move in ("b B3", "b A2", "b B1", "w C3", "w B2", "w D2", "w C1", "b C2"):
        fresh.send(f"play {move}")
    assert fresh.send("captures black") == "1"
    assert fresh.send("is_legal w B2") == "0"
    with pytest.raises(GTPError, match="illegal move .*ko"):
        fresh.send("play w B2")
    fresh.send("play w J9")  # a ko threat and an answer
    fresh.send("play b J1")
    fresh.send("play w B2")
    assert fresh.send("captures white") == "1"


def test_all_legal_and_is_legal(fresh: GTPEngine) -> None:
    fresh.send("boardsize 2")
    fresh.send("play b A1")
    assert fresh.send("all_legal w") == "A2 B2 B1"  # board order, top row first
    fresh.send("clear_board")
    fresh.send("play b A2")
    fresh.send("play b B1")
    assert fresh.send("all_legal w") == ""  # A1 and B2 would both be suicide
    assert fresh.send("is_legal w A1") == "0"
    assert fresh.send("is_legal b A1") == "1"
    assert fresh.send("is_legal w pass") == "1"


def test_exception_inside_a_handler_is_an_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    engine = Engine(ScriptedPlayer(RuntimeError("the network fell over"), from_gtp("E5", 9)), Rules())
    with caplog.at_level(logging.ERROR, logger="minigo.gtp"):
        answer = engine.handle("5 genmove b")
    assert answer == "?5 internal error: RuntimeError: the network fell over\n\n"
    assert "Traceback" in caplog.text and "the network fell over" in caplog.text
    assert engine.handle("genmove b") == "= E5\n\n"  # and it carries on


def test_illegal_move_from_the_player_is_an_internal_error_and_not_played() -> None:
    engine = Engine(ScriptedPlayer(from_gtp("D4", 9), 999, "E5"), Rules())
    engine.handle("play w D4")
    for _ in range(3):
        answer = engine.handle("genmove b")
        assert answer is not None and answer.startswith("? internal error:")
        assert "chose an illegal move" in answer
    assert len(engine.line) == 2


def test_traceback_goes_to_stderr_never_to_stdout() -> None:
    stdout = io.StringIO()
    player = ScriptedPlayer(ValueError("boom"))
    serve(player, Rules(), io.StringIO("genmove b\nname\n"), stdout)
    assert stdout.getvalue() == "? internal error: ValueError: boom\n\n= minigo\n\n"
    assert player.closed


# --------------------------------------------------------------------------- showboard, SGF in and out


def test_showboard_draws_the_board_below_the_status_line(fresh: GTPEngine) -> None:
    fresh.send("play b C3")
    board = fresh.send("showboard")
    lines = board.split("\n")
    assert lines[0].split() == list("ABCDEFGHJ")
    assert lines[7].split() == ["3", ".", ".", "X", ".", ".", ".", ".", ".", "."]
    assert "white to play" in board and "komi 7.5" in board


def test_printsgf_reads_back_to_the_same_game(fresh: GTPEngine, tmp_path: Path) -> None:
    for move in ("b D4", "b E5", "w pass", "w C3"):
        fresh.send(f"play {move}")
    fresh.send("genmove w")
    fresh.send("komi 6.5")
    record = sgf.read_sgf(fresh.send("printsgf"))
    assert record.size == 9 and record.komi == 6.5
    assert [m.color for m in record.moves] == [BLACK, BLACK, WHITE, WHITE, WHITE]
    assert record.moves[2].point == 81
    assert record.white.startswith("random") and record.black == ""
    assert fresh.send("printsgf " + str(tmp_path / "game.sgf")) == ""
    assert sgf.load(tmp_path / "game.sgf").moves == record.moves


def test_printsgf_of_a_finished_game_has_the_result(fresh: GTPEngine) -> None:
    fresh.send("play b E5")
    fresh.send("play w pass")
    fresh.send("play b pass")
    assert sgf.read_sgf(fresh.send("printsgf")).result == "B+73.5"


def test_loadsgf_whole_game_and_before_move_n(fresh: GTPEngine, tmp_path: Path) -> None:
    path = tmp_path / "game.sgf"
    path.write_text("(;FF[4]GM[1]SZ[7]KM[0.5]PB[Ann]AB[aa];W[dd];W[cc];B[ee])")
    assert fresh.send(f"loadsgf {path}") == "white"
    assert fresh.send("list_stones black") == "A7 E3"
    assert fresh.send("list_stones white") == "C5 D4"
    assert fresh.send("final_score") == "W+0.5"  # size and komi come from the file
    assert "KM[0.5]" in fresh.send("printsgf") and "PB[Ann]" in fresh.send("printsgf")
    assert fresh.send(f"loadsgf {path} 3") == "black"  # before move 3: two moves played
    assert fresh.send("list_stones white") == "C5 D4" and fresh.send("list_stones black") == "A7"
    assert fresh.send(f"loadsgf {path} 1") == "white"  # the setup only; white moves first
    assert fresh.send("list_stones white") == ""
    with pytest.raises(GTPError, match="cannot undo"):
        fresh.send("undo")
    fresh.send(f"loadsgf {path} 99")
    assert fresh.send("list_stones black") == "A7 E3"
    fresh.send("undo")
    assert fresh.send("list_stones black") == "A7"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "cannot load file"),
        ("(;FF[4]SZ[9];B[ee];W[ee])", "cannot load file: .*illegal move 2"),
        ("(;FF[4]SZ[9];B[rs])", "cannot load file: .*off the 9x9 board"),
        ("not sgf", "cannot load file"),
    ],
)
def test_loadsgf_failure_changes_nothing(fresh: GTPEngine, tmp_path: Path, text: str | None, reason: str) -> None:
    path = tmp_path / "bad.sgf"
    if text is not None:
        path.write_text(text)
    fresh.send("play b D4")
    with pytest.raises(GTPError, match=reason):
        fresh.send(f"loadsgf {path}")
    assert fresh.send("list_stones black") == "D4"


def test_loadsgf_bad_move_number(fresh: GTPEngine, tmp_path: Path) -> None:
    path = tmp_path / "game.sgf"
    path.write_text("(;SZ[9];B[ee])")
    for number in ("0", "-1", "x"):
        with pytest.raises(GTPError, match="move number"):
            fresh.send(f"loadsgf {path} {number}")


def test_komi_change_keeps_setup_and_colours(tmp_path: Path) -> None:
    path = tmp_path / "game.sgf"
    sgf.save(GameRecord(size=5, komi=0, setup_black=(0, 6), moves=[Move(WHITE, 12), Move(WHITE, 13)]), path)
    player = ScriptedPlayer()
    engine = Engine(player, Rules())
    assert answers(engine, f"loadsgf {path}", "komi 2.5") == ["= black\n\n", "= \n\n"]
    assert engine.rules == Rules(size=5, komi=2.5) and player.resets[-1] == engine.rules
    assert [(m.color, m.point) for m in engine._record().moves] == [(WHITE, 12), (WHITE, 13)]
    assert engine.position.board[0] == BLACK and engine.position.board[6] == BLACK


def test_kgs_genmove_cleanup_is_a_genmove(fresh: GTPEngine) -> None:
    move = fresh.send("kgs-genmove_cleanup b")
    assert fresh.send("list_stones black") == move


# --------------------------------------------------------------------------- the player's life cycle


def test_player_is_reset_on_new_games_and_closed_at_the_end() -> None:
    player = ScriptedPlayer()
    stdout = io.StringIO()
    serve(player, Rules(size=9), io.StringIO("komi 7.5\nkomi 6\nboardsize 7\nclear_board\nquit\n"), stdout)
    assert [(r.size, r.komi) for r in player.resets] == [(9, 7.5), (9, 6.0), (7, 6.0), (7, 6.0)]
    assert player.closed


def test_with_to_play_keeps_the_game_and_drops_the_ko() -> None:
    # . X O . .    black takes at the middle of row 2; white may not retake at once
    # X O . O .
    # . X O . .
    position = Position.empty(size=5)
    for color, point in ((BLACK, 1), (BLACK, 5), (BLACK, 11), (WHITE, 2), (WHITE, 6), (WHITE, 8), (WHITE, 12),
                         (BLACK, 7)):
        position = position.play(point, color=color)
    assert (position.to_play, position.ko) == (WHITE, 6)
    switched = position.with_to_play(BLACK)
    assert switched.to_play == BLACK and switched.ko == -1
    assert switched.parent is position.parent and switched.move_number == position.move_number
    assert np.array_equal(switched.board, position.board) and switched.hash == position.hash
    assert position.with_to_play(position.to_play) is position
    with pytest.raises(IllegalMove, match="ko"):
        position.play(position.ko)


# --------------------------------------------------------------------------- the command line


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
             stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = cli.main(["gtp", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--player", "alphago"], "minigo gtp: unknown player kind 'alphago'"),
        (["--player", "random,depth=3"], "minigo gtp: unknown option 'depth'"),
        (["--player", "gnugo:11"], "minigo gtp: GNU Go level '11'"),
        (["--player", "random", "--size", "20"], "minigo gtp: --size '20' is not an integer from 1 to 19"),
        (["--player", "random", "--size", "nine"], "minigo gtp: --size 'nine'"),
        (["--player", "random", "--komi", "nan"], "minigo gtp: --komi 'nan' is not a finite number"),
        (["--player", "random", "--komi", "lots"], "minigo gtp: --komi 'lots'"),
    ],
)
def test_bad_command_line_is_one_line_and_status_2(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], argv: list[str],
                                                   message: str) -> None:
    status, out, err = run_main(monkeypatch, capsys, *argv, stdin="name\n")
    assert status == 2
    assert out == ""  # nothing started
    assert err.startswith(message) and err.count("\n") == 1


def test_missing_gnugo_is_one_line_and_status_2(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gtp_client, "find_gnugo", lambda: None)
    status, out, err = run_main(monkeypatch, capsys, "--player", "gnugo:1", stdin="name\n")
    assert (status, out) == (2, "")
    assert "apt-get install gnugo" in err and err.count("\n") == 1


def test_unreachable_engine_is_one_line_and_status_2(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(self: GnuGoPlayer, rules: Rules) -> None:
        raise EngineDied("GNU Go closed its output while running 'boardsize 9' (exit status 1)\nlast words")

    monkeypatch.setattr(GnuGoPlayer, "reset", refuse)
    status, out, err = run_main(monkeypatch, capsys, "--player", "gnugo", stdin="name\n")
    assert (status, out) == (2, "")
    assert err == "minigo gtp: cannot start player 'gnugo': GNU Go closed its output while running " \
                  "'boardsize 9' (exit status 1)\n"


def test_command_line_options_set_the_rules(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_main(monkeypatch, capsys, "--player", "random", "--size", "5", "--komi", "-2",
                                "--ko", "simple", stdin="final_score\nplay b E5\nplay b F5\nshowboard\nquit\n")
    assert status == 0
    assert out.startswith("= B+2\n\n= \n\n? vertex 'F5' is off the 5x5 board: expected A1..E5 or pass\n\n= \n")
    assert "komi -2, simple ko" in out and out.endswith("\n\n= \n\n")


# --------------------------------------------------------------------------- the client and a killed engine


def test_client_reports_a_killed_engine() -> None:
    engine = GTPEngine(minigo_argv("--player", "random"), name="minigo", timeout=60.0)
    try:
        assert engine.send("name") == "minigo"
        os.kill(engine.pid, signal.SIGKILL)
        with pytest.raises(EngineDied, match="exit status -9") as info:
            engine.send("genmove b")
        assert "minigo" in str(info.value) and "genmove b" in str(info.value)
        assert not engine.alive
    finally:
        engine.close()
    assert engine.returncode == -signal.SIGKILL


# --------------------------------------------------------------------------- against GNU Go


def play_out(black: GTPEngine, white: GTPEngine, max_moves: int = 1000) -> tuple[int, str | None]:
    """Alternate genmove / play until two passes in a row or a resignation: (moves, who resigned)."""
    engines = {"black": black, "white": white}
    color, other, passes = "black", "white", 0
    for number in range(max_moves):
        move = engines[color].send(f"genmove {color}")
        if move.lower() == "resign":
            return number, color
        engines[other].send(f"play {color} {move}")
        passes = passes + 1 if move.lower() == "pass" else 0
        if passes == 2:
            return number + 1, None
        color, other = other, color
    raise AssertionError(f"no end after {max_moves} moves")


@pytest.mark.gnugo
@needs_gnugo
def test_full_game_against_gnugo_both_engines_agree_on_the_score() -> None:
    with GTPEngine(minigo_argv("--player", "random,seed=11"), name="minigo", timeout=60.0) as minigo, \
            GTPEngine.gnugo(level=1, size=9, komi=7.5) as gnugo:
        minigo.send("boardsize 9")
        minigo.send("clear_board")
        minigo.send("komi 7.5")
        moves, resigned = play_out(minigo, gnugo)
        assert moves > 20 and resigned is None
        for color in ("black", "white"):
            assert minigo.send(f"list_stones {color}") == gnugo.send(f"list_stones {color}")
        # GNU Go (--capture-all-dead) removes every dead stone before passing, and the random player passes
        # only when no move is left, so Tromp-Taylor and GNU Go's own count must agree.
        score = minigo.send("final_score")
        assert score == gnugo.send("final_score")
        assert score.startswith("W+")  # GNU Go wins
    assert minigo.returncode == 0  # close() sent quit and the engine exited cleanly


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_player_behind_the_engine_plays_either_colour_and_follows_undo() -> None:
    player = GnuGoPlayer(level=1, timeout=30.0)
    engine = Engine(player, Rules(size=9))
    try:
        assert answers(engine, "play b E5", "play b D4") == ["= \n\n", "= \n\n"]
        move = engine.handle("genmove b")  # black a third time
        assert move is not None and move.startswith("= ")
        vertex = move[2:].strip()
        assert vertex not in ("pass", "resign")
        assert player._engine is not None
        assert set(player._engine.send("list_stones black").split()) == {"E5", "D4", vertex}
        assert player._engine.send("list_stones white") == ""
        answers(engine, "undo", "undo", "play w D4")  # another branch: GNU Go must forget D4 as black
        move = engine.handle("genmove w")
        assert move is not None and move.startswith("= ")
        for color in ("black", "white"):
            ours = answers(engine, f"list_stones {color}")[0][2:].split()
            assert sorted(ours) == sorted(player._engine.send(f"list_stones {color}").split())
        assert "D4" in player._engine.send("list_stones white")
    finally:
        engine.close()


class CountingPlayer(ScriptedPlayer):
    """A player whose ownership map is the board's Tromp-Taylor count as it stands."""

    def ownership(self, position: Position) -> np.ndarray:
        return position.ownership().astype(np.float64)


def test_ownership_gfx_draws_each_point_s_owner_and_adds_up_the_area() -> None:
    engine = Engine(CountingPlayer(), Rules(size=5, komi=0.5))
    assert "gfx/Ownership/minigo-ownership" in answers(engine, "gogui-analyze_commands")[0]
    answers(engine, "play b C3", "play w A1")
    [answer] = answers(engine, "minigo-ownership")
    influence, text = answer.removeprefix("= ").strip().split("\n")
    values = dict(zip(influence.split()[1::2], map(float, influence.split()[2::2]), strict=True))
    assert len(values) == 25 and values["C3"] == 1.0 and values["A1"] == -1.0 and values["E5"] == 0.0
    assert text == "TEXT expected area: Black 1.0, White 1.0, komi 0.5: W+0.5"


def test_ownership_gfx_is_not_available_without_a_map(fresh: GTPEngine) -> None:
    with pytest.raises(GTPError, match="not available for this player"):
        fresh.send("minigo-ownership")


def test_a_size_the_player_cannot_play_is_unacceptable_and_changes_nothing(tmp_path: Path) -> None:
    import torch

    from models import checkpoint
    from models.nets import NetConfig, build
    from selfplay.player_kinds import make_player as make_any_player

    torch.manual_seed(0)
    config = NetConfig(board_size=9, filters=8, blocks=1)
    path = checkpoint.save(tmp_path / "policy.safetensors", build(config), config)
    engine = Engine(make_any_player(f"policy:{path}"), Rules(size=9))
    answers(engine, "play b E5")
    for command in ("boardsize 19", "boardsize 13"):
        [answer] = answers(engine, command)
        assert answer.startswith("? unacceptable size") and "trained for 9x9" in answer
    assert answers(engine, "list_stones black", "name") == ["= E5\n\n", "= minigo\n\n"]
    assert engine.rules.size == 9
    move = answers(engine, "genmove w")[0]
    assert move.startswith("= ") and move.strip() != "= resign"
    assert answers(engine, "boardsize 9", "list_stones black") == ["= \n\n", "= \n\n"]  # a size it plays: cleared


class HalvesPlayer(ScriptedPlayer):
    """A player whose ownership map gives the board's left four columns to Black and the rest to White."""

    def ownership(self, position: Position) -> np.ndarray:
        return np.where(np.arange(position.size ** 2) % position.size <= 3, 1.0, -1.0)


def test_final_status_list_and_final_score_take_the_dead_off_by_the_player_s_map() -> None:
    engine = Engine(HalvesPlayer(), Rules(size=9, komi=0.5))
    for row in range(1, 10):
        answers(engine, f"play b D{row}", f"play w E{row}")
    answers(engine, "play w B2", "play b H8")  # each deep in the other's half
    assert sorted(answers(engine, "final_status_list dead")[0][2:].split()) == ["B2", "H8"]
    assert answers(engine, "final_score") == ["= W+9.5\n\n"]  # Black 36, White 45: GNU Go's count
    assert "Tromp-Taylor: W+0.5" in answers(engine, "showboard")[0]  # the rules' result of the board as it stands
    alive = answers(engine, "final_status_list alive")[0]
    assert "B2" not in alive and "D1" in alive
