"""The GTP client: answers parsed, failures reported, processes reaped.

Most tests drive a tiny fake engine (a Python script written to a temporary folder) so that every
corner of the protocol is exercised without GNU Go; tests marked ``gnugo`` talk to the real one.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from minigo.gtp_client import EngineDied, EngineTimeout, GTPEngine, GTPError, find_gnugo

FAKE_ENGINE = textwrap.dedent(
    r'''
    """A fake GTP engine with scripted answers."""
    import sys
    import time

    def answer(cid, ok, text):
        sys.stdout.write(("=" if ok else "?") + cid + (" " + text if text else " ") + "\n\n")
        sys.stdout.flush()

    sys.stderr.write("fake engine starting\n")
    sys.stderr.flush()
    for raw in sys.stdin:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cid = ""
        words = line.split()
        if words[0].isdigit():
            cid, words = words[0], words[1:]
        cmd, args = words[0], words[1:]
        if cmd == "echo":
            answer(cid, True, " ".join(args))
        elif cmd == "multi":
            sys.stdout.write("=" + cid + " first\nsecond line\n  third, indented\n\n")
            sys.stdout.flush()
        elif cmd == "board":  # like GNU Go's showboard: the text starts on the line after "="
            sys.stdout.write("=" + cid + " \n   A B\n 2 . . 2\n 1 X . 1\n   A B\n\n")
            sys.stdout.flush()
        elif cmd == "crlf":
            sys.stdout.write("=" + cid + " windows\r\n\r\n")
            sys.stdout.flush()
        elif cmd == "tabs":
            answer(cid, True, "a\tb")
        elif cmd == "slow":
            time.sleep(float(args[0]))
            answer(cid, True, "done")
        elif cmd == "half":  # starts an answer and never finishes it
            sys.stdout.write("= partial\n")
            sys.stdout.flush()
            time.sleep(60)
        elif cmd == "crash":
            sys.stderr.write("fatal: the engine fell over\n")
            sys.stderr.flush()
            sys.exit(3)
        elif cmd == "quit":
            answer(cid, True, "")
            break
        else:
            answer(cid, False, "unknown command")
    '''
)


@pytest.fixture
def fake_argv(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)
    return [sys.executable, str(script)]


@pytest.fixture
def fake(fake_argv: list[str]):
    engine = GTPEngine(fake_argv, name="fake", timeout=10.0)
    yield engine
    engine.close()
    assert engine.returncode is not None


# --------------------------------------------------------------------------- answers


def test_single_line_answer(fake: GTPEngine) -> None:
    assert fake.send("echo hello world") == "hello world"


def test_empty_answer(fake: GTPEngine) -> None:
    assert fake.send("echo") == ""


def test_answer_with_id(fake: GTPEngine) -> None:
    assert fake.send("17 echo D4") == "D4"
    assert fake.send("3 multi") == "first\nsecond line\n  third, indented"


def test_multi_line_answer(fake: GTPEngine) -> None:
    assert fake.send("multi") == "first\nsecond line\n  third, indented"
    assert fake.send("echo after") == "after"  # the stream stays in step


def test_answer_starting_on_next_line_keeps_board_layout(fake: GTPEngine) -> None:
    assert fake.send("board") == "   A B\n 2 . . 2\n 1 X . 1\n   A B"


def test_crlf_line_endings_and_tabs(fake: GTPEngine) -> None:
    assert fake.send("crlf") == "windows"
    assert fake.send("tabs") == "a b"


def test_many_commands_stay_in_step(fake: GTPEngine) -> None:
    for i in range(200):
        assert fake.send(f"{i} echo {i}") == str(i)


# --------------------------------------------------------------------------- failures


def test_failure_answer_raises_gtp_error_and_engine_lives_on(fake: GTPEngine) -> None:
    with pytest.raises(GTPError) as info:
        fake.send("frobnicate D4")
    assert info.value.command == "frobnicate D4"
    assert info.value.message == "unknown command"
    assert "frobnicate D4" in str(info.value) and "unknown command" in str(info.value)
    assert fake.alive
    assert fake.send("echo still here") == "still here"


def test_failure_answer_with_id(fake: GTPEngine) -> None:
    with pytest.raises(GTPError, match="unknown command"):
        fake.send("5 nope")


@pytest.mark.parametrize("command", ["play black D4\ngenmove white", "echo a\r", "\n"])
def test_command_with_newline_is_refused(fake: GTPEngine, command: str) -> None:
    with pytest.raises(ValueError, match="newline"):
        fake.send(command)
    assert fake.send("echo ok") == "ok"


def test_empty_command_is_refused(fake: GTPEngine) -> None:
    with pytest.raises(ValueError, match="empty"):
        fake.send("   ")


def test_killed_engine_raises_engine_died_on_next_send(fake: GTPEngine) -> None:
    assert fake.send("echo hi") == "hi"
    fake._proc.kill()
    fake._proc.wait()
    with pytest.raises(EngineDied) as info:
        fake.send("genmove black")
    assert not isinstance(info.value, EngineTimeout)
    message = str(info.value)
    assert "fake" in message and "genmove black" in message
    assert "exit status -9" in message  # SIGKILL
    assert "fake engine starting" in message  # the stderr tail
    assert not fake.alive
    with pytest.raises(EngineDied):  # and it stays dead
        fake.send("echo again")


def test_engine_that_exits_reports_status_and_stderr(fake: GTPEngine) -> None:
    with pytest.raises(EngineDied) as info:
        fake.send("crash")
    assert info.value.returncode == 3
    assert "exit status 3" in str(info.value)
    assert "fatal: the engine fell over" in str(info.value)
    assert "fatal: the engine fell over" in info.value.stderr_tail


def test_missing_program_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        GTPEngine([str(tmp_path / "no-such-engine")])


def test_empty_argv_is_refused() -> None:
    with pytest.raises(ValueError, match="argv"):
        GTPEngine([])


def test_silent_engine_times_out_and_is_killed() -> None:
    engine = GTPEngine([sys.executable, "-c", "import time; time.sleep(60)"], name="sleeper", timeout=0.5)
    start = time.monotonic()
    with pytest.raises(EngineTimeout) as info:
        engine.send("genmove black")
    assert time.monotonic() - start < 10
    assert isinstance(info.value, EngineDied)
    assert "sleeper" in str(info.value) and "0.5 s" in str(info.value)
    assert engine.returncode is not None  # killed and reaped
    assert not engine.alive
    engine.close()


def test_half_finished_answer_times_out(fake: GTPEngine) -> None:
    with pytest.raises(EngineTimeout):
        fake.send("half", timeout=0.5)
    assert fake.returncode is not None


def test_per_call_timeout_overrides_default(fake: GTPEngine) -> None:
    assert fake.send("slow 0.2", timeout=5) == "done"
    with pytest.raises(EngineTimeout):
        fake.send("slow 5", timeout=0.3)


# --------------------------------------------------------------------------- shutdown


def test_close_quits_and_reaps(fake_argv: list[str]) -> None:
    engine = GTPEngine(fake_argv, name="fake")
    assert engine.alive
    engine.close()
    assert not engine.alive
    assert engine.returncode == 0  # it answered quit and exited on its own
    engine.close()  # idempotent
    with pytest.raises(EngineDied, match="closed"):
        engine.send("echo x")


def test_close_kills_an_engine_that_ignores_quit() -> None:
    engine = GTPEngine([sys.executable, "-c", "import time; time.sleep(60)"], name="deaf", timeout=5)
    start = time.monotonic()
    engine.close()
    assert time.monotonic() - start < 15
    assert engine.returncode is not None
    assert not engine.alive


def test_close_after_death_is_quiet(fake: GTPEngine) -> None:
    fake._proc.kill()
    fake.close()
    fake.close()
    assert fake.returncode is not None


def test_context_manager_closes(fake_argv: list[str]) -> None:
    with GTPEngine(fake_argv) as engine:
        assert engine.send("echo in") == "in"
        proc = engine._proc
    assert proc.poll() is not None
    assert "stopped" in repr(engine)


def test_context_manager_closes_on_error(fake_argv: list[str]) -> None:
    with pytest.raises(GTPError), GTPEngine(fake_argv) as engine:
        engine.send("bogus")
    assert engine.returncode is not None


# --------------------------------------------------------------------------- GNU Go

needs_gnugo = pytest.mark.skipif(
    find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)"
)


def test_find_gnugo_returns_an_executable_or_none() -> None:
    path = find_gnugo()
    assert path is None or Path(path).is_file()


def test_gnugo_missing_raises_with_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import minigo.gtp_client as gtp_client

    monkeypatch.setattr(gtp_client, "find_gnugo", lambda: None)
    with pytest.raises(FileNotFoundError, match="apt-get install gnugo"):
        GTPEngine.gnugo()


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_session() -> None:
    with GTPEngine.gnugo(level=1, size=7, komi=6.5) as gg:
        assert gg.name == "GNU Go"
        assert gg.send("protocol_version") == "2"
        assert gg.send("1 name") == "GNU Go"
        assert gg.send("get_komi") == "6.5"
        commands = gg.send("list_commands").split("\n")
        assert {"all_legal", "list_stones", "play", "genmove", "showboard"} <= set(commands)
        assert gg.send("play black D4") == ""
        board = gg.send("showboard")
        assert board.count("\n") >= 8 and "X" in board
        assert gg.send("list_stones black") == "D4"
        with pytest.raises(GTPError, match="illegal move"):
            gg.send("play white D4")
        move = gg.send("genmove white")
        assert move.upper() == "PASS" or move[0].isalpha()
        sgf = gg.send("printsgf")
        assert sgf.startswith("(;") and "SZ[7]" in sgf
        proc = gg._proc
    assert proc.poll() is not None


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_simple_ko_flag() -> None:
    with GTPEngine.gnugo(level=1, size=5, superko=False) as gg:
        assert "--simple-ko" in gg.argv and "--positional-superko" not in gg.argv
        assert gg.send("query_boardsize") == "5"
