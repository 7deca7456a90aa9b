"""Players: spec strings, the random player's choices, and GNU Go kept in step with the game."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from minigo.coords import from_gtp, to_gtp
from minigo.go import BLACK, WHITE, Position, board_from_string
from minigo.gtp_client import find_gnugo
from minigo.players import (
    RESIGN,
    GnuGoPlayer,
    Player,
    PlayerSpec,
    PlayerSpecError,
    RandomPlayer,
    known_kinds,
    make_player,
)

needs_gnugo = pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")

# --------------------------------------------------------------------------- spec strings


def test_spec_parse_kind_arg_and_options() -> None:
    spec = PlayerSpec.parse(" GnuGo:5 , timeout = 3 ")
    assert (spec.kind, spec.arg, dict(spec.options)) == ("gnugo", "5", {"timeout": "3"})
    assert PlayerSpec.parse("random").arg is None
    assert PlayerSpec.parse("random:").arg is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "is empty"),
        (":3", "is empty"),
        ("alphago", "unknown player kind 'alphago'.*expected one of .*gnugo, .*random"),
        ("random,seed", "'seed' is not key=value"),
        ("random,=3", "'=3' is not key=value"),
        ("random,depth=3", "unknown option 'depth' for random.*expected seed"),
        ("random:3", "random takes no argument"),
        ("random,seed=-1", "seed '-1'.*is not an integer from 0"),
        ("random,seed=x", "seed 'x'"),
        ("gnugo:11", "GNU Go level '11'.*from 0 to 10"),
        ("gnugo:-1", "GNU Go level '-1'"),
        ("gnugo:five", "GNU Go level 'five'"),
        ("gnugo,timeout=0", "timeout '0'.*positive number"),
        ("gnugo,timeout=-2", "timeout '-2'"),
        ("gnugo,timeout=inf", "timeout 'inf'"),
        ("gnugo,timeout=nan", "timeout 'nan'"),
        ("gnugo,level=3", "unknown option 'level' for gnugo"),
    ],
)
def test_bad_spec_names_the_problem(spec: str, message: str) -> None:
    with pytest.raises(PlayerSpecError, match=message):
        make_player(spec)


def test_specs_build_players_without_starting_anything() -> None:
    random = make_player("random,seed=5")
    assert isinstance(random, RandomPlayer) and random.name == "random,seed=5"
    gnugo = make_player("gnugo:3,timeout=7.5")
    assert isinstance(gnugo, GnuGoPlayer)
    assert (gnugo.level, gnugo.timeout, gnugo.name) == (3, 7.5, "gnugo:3,timeout=7.5")
    assert gnugo._engine is None  # GNU Go starts at reset or at the first move
    assert make_player("gnugo").level == 10  # type: ignore[attr-defined]
    for player in (random, gnugo):
        assert isinstance(player, Player)
        player.close()


def test_known_kinds_have_usage_lines() -> None:
    kinds = known_kinds()
    assert {"random", "gnugo"} <= set(kinds)
    assert kinds["random"].startswith("random")


# --------------------------------------------------------------------------- the random player


def test_random_player_never_fills_its_own_eye() -> None:
    position = board_from_string("""
        . X .
        X X X
        . . .
    """)
    player = make_player("random,seed=1")
    chosen = {player.play(position) for _ in range(200)}
    assert chosen == {6, 7, 8}  # the bottom row; never the eyes at 0 and 2, never a pass


def test_random_player_passes_only_when_nothing_else_is_left() -> None:
    position = board_from_string("""
        . X .
        X X X
        . X .
    """)
    player = RandomPlayer(np.random.default_rng(0))
    assert player.play(position) == position.pass_point  # every empty point is its own eye
    assert player.play(position.with_to_play(WHITE)) == position.pass_point  # every empty point is suicide


def test_random_player_is_reproducible_with_a_seed() -> None:
    def game(seed: int) -> list[int]:
        player, position, moves = make_player(f"random,seed={seed}"), Position.empty(size=5), []
        while not position.is_game_over:
            move = player.play(position)
            moves.append(move)
            position = position.play(move)
        return moves

    assert game(4) == game(4)
    assert game(4) != game(5)


# --------------------------------------------------------------------------- GNU Go


@pytest.fixture
def gnugo() -> Iterator[GnuGoPlayer]:
    player = GnuGoPlayer(level=1, timeout=30.0, seed=1)  # seeded: the tests' own moves must not meet GNU Go's
    yield player
    player.close()


def stones(player: GnuGoPlayer, color: str) -> set[str]:
    assert player._engine is not None
    return set(player._engine.send(f"list_stones {color}").split())


def our_stones(position: Position, color: int) -> set[str]:
    return {to_gtp(p, position.size) for p in np.flatnonzero(position.board == color).tolist()}


def assert_same_board(player: GnuGoPlayer, position: Position) -> None:
    assert stones(player, "black") == our_stones(position, BLACK)
    assert stones(player, "white") == our_stones(position, WHITE)


def play(position: Position, *moves: str) -> Position:
    """``play(pos, "b E5", "w pass")``: moves with explicit colours, which need not alternate."""
    for move in moves:
        color, vertex = move.split()
        position = position.play(from_gtp(vertex, position.size), color=BLACK if color == "b" else WHITE)
    return position


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_is_told_moves_with_their_colours(gnugo: GnuGoPlayer) -> None:
    position = play(Position.empty(size=9), "b E5", "b D4", "w C3", "w C4", "w pass")
    assert position.to_play == BLACK
    move = gnugo.play(position)
    assert move != RESIGN and position.is_legal(move)
    assert_same_board(gnugo, position.play(move))


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_continuing_game_sends_only_new_moves(gnugo: GnuGoPlayer, monkeypatch: pytest.MonkeyPatch) -> None:
    position = play(Position.empty(size=9), "b E5")
    position = position.play(gnugo.play(position))
    assert gnugo._engine is not None
    sent: list[str] = []
    original = gnugo._engine.send
    monkeypatch.setattr(gnugo._engine, "send", lambda command, timeout=None: sent.append(command) or
                        original(command, timeout))
    position = play(position, "b C3")
    gnugo.play(position)
    assert sent == ["play black C3", "genmove white"]


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_follows_undo_and_branches(gnugo: GnuGoPlayer) -> None:
    position = play(Position.empty(size=9), "b E5", "w C3", "b G7")
    position = position.play(gnugo.play(position))
    branch = play(position.parent.parent, "b C7")  # type: ignore[union-attr]
    move = gnugo.play(branch)
    assert_same_board(gnugo, branch.play(move))
    back = branch.parent  # undo: a prefix of what GNU Go knows
    assert back is not None
    move = gnugo.play(back)
    assert_same_board(gnugo, back.play(move))


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_gets_setup_stones_and_a_colour_moving_out_of_turn(gnugo: GnuGoPlayer) -> None:
    position = board_from_string("""
        . . . . .
        . X . O .
        . . . . .
        . O . X .
        . . . . .
    """, komi=0.5)
    position = play(position, "w C3")
    move = gnugo.play(position.with_to_play(WHITE))  # white again
    assert_same_board(gnugo, position.play(move, color=WHITE))
    assert gnugo._engine is not None and gnugo._engine.send("query_boardsize") == "5"


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_reset_follows_size_and_komi(gnugo: GnuGoPlayer) -> None:
    gnugo.reset(Position.empty(size=7, komi=3.5).rules)
    assert gnugo._engine is not None
    assert gnugo._engine.send("query_boardsize") == "7"
    assert gnugo._engine.send("get_komi") == "3.5"
    position = Position.empty(size=9, komi=6.5)
    gnugo.play(position)  # a game under other rules than the last reset: GNU Go is set up again
    assert gnugo._engine.send("query_boardsize") == "9"
    assert gnugo._engine.send("get_komi") == "6.5"


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_restarts_after_the_engine_died(gnugo: GnuGoPlayer) -> None:
    position = play(Position.empty(size=9), "b E5")
    position = position.play(gnugo.play(position))
    assert gnugo._engine is not None
    os.kill(gnugo._engine.pid, signal.SIGKILL)
    gnugo._engine._proc.wait()
    position = play(position, "b C3")
    move = gnugo.play(position)  # a fresh GNU Go, told the whole game again
    assert_same_board(gnugo, position.play(move))


@pytest.mark.gnugo
@needs_gnugo
def test_gnugo_close_is_idempotent(gnugo: GnuGoPlayer) -> None:
    gnugo.reset(Position.empty(size=9).rules)
    engine = gnugo._engine
    assert engine is not None and engine.alive
    gnugo.close()
    gnugo.close()
    assert not engine.alive and engine.returncode is not None
