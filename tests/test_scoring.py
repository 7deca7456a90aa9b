"""Dead stones and the score without them (minigo.scoring), on drawn boards, with GNU Go as the oracle."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from minigo.coords import from_gtp
from minigo.go import BLACK, board_from_string
from minigo.gtp_client import GTPEngine, find_gnugo
from minigo.rollout import NUM_FEATURES
from minigo.scoring import dead_chains, final_owners, playout_ownership, score_without_dead, seki_chains, status

# Black's wall on the fourth column owns the left, White's the right; a white stone at B2 is deep in Black's
# side and a black stone at H8 deep in White's: both are dead.
DEAD_INVADERS = """
    . . . X O . . . .
    . . . X O . . X .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . O . X O . . . .
    . . . X O . . . .
"""


def knowing_map(position):
    """What a value net's ownership head would say here: each side owns its half, the invaders' points too."""
    return np.where(np.arange(81) % 9 <= 3, 1.0, -1.0)  # columns A-D Black's, E-J White's, invaders included


def test_uniform_playouts_find_a_stone_deep_in_the_opponent_s_area():
    position = board_from_string(DEAD_INVADERS, komi=0.5)
    owners = playout_ownership(position, np.random.default_rng(0), playouts=128)
    assert owners[from_gtp("B2", 9)] > 0.2  # the white invader's point goes to Black
    assert [from_gtp("B2", 9)] in dead_chains(position, owners)
    assert np.all(owners[[from_gtp(f"D{r}", 9) for r in range(1, 10)]] > 0.2)  # Black's wall lives


def test_dead_chains_come_off_before_the_count():
    position = board_from_string(DEAD_INVADERS, komi=0.5)
    owners = knowing_map(position)
    dead = dead_chains(position, owners)
    assert sorted(p for chain in dead for p in chain) == sorted([from_gtp("B2", 9), from_gtp("H8", 9)])
    # Tromp-Taylor counts the invaders as alive, which leaves both sides' regions neutral: only the walls count
    assert position.score() == 10 - 10 - 0.5
    # removed, Black has columns A-D (36 points), White E-J (45): W+9.5, GNU Go's count too (below)
    assert score_without_dead(position, owners) == pytest.approx(36 - 45 - 0.5)


def test_a_map_decides_dead_alive_and_the_status_lists_cover_every_chain():
    position = board_from_string(DEAD_INVADERS, komi=0.5)
    owners = knowing_map(position)  # a map that knows better than the board as it stands
    dead = status(position, owners, "dead")
    alive = status(position, owners, "alive")
    assert [from_gtp("B2", 9)] in dead and [from_gtp("H8", 9)] in dead and len(dead) == 2
    assert sum(len(chain) for chain in alive + dead) == int((position.board != 0).sum())


def test_seki_liberties_shared_and_no_eyes_make_a_seki():
    # The inner black group and the white group around it share B5 and D5 and have no other liberty: seki. The
    # bottom black group owns the first row: alive with territory, not seki.
    position = board_from_string("""
        O . X . O
        O X X X O
        O O O O O
        X X X X X
        . . . . .
    """, komi=0)
    owners = position.ownership().astype(float)  # nothing dead
    seki = sorted(sorted(chain) for chain in seki_chains(position, owners))
    inner = sorted(from_gtp(v, 5) for v in ("C5", "B4", "C4", "D4"))
    white = sorted(from_gtp(v, 5) for v in ("A5", "A4", "A3", "B3", "C3", "D3", "E3", "E4", "E5"))
    assert seki == sorted([inner, white])
    assert status(position, owners, "alive") == [sorted(from_gtp(v, 5) for v in ("A2", "B2", "C2", "D2", "E2"))]


class MapPlayer:
    """Offers ``answer`` (a map, None, or an exception to raise) as its ownership map."""

    def __init__(self, answer):
        self.answer = answer

    def ownership(self, position):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def rollout_player():
    """An MCTS player's rollout policy and nothing else: all-zero weights, every sensible move alike."""
    return SimpleNamespace(mcts=SimpleNamespace(rollout_weights=np.zeros(NUM_FEATURES + 1)))


def test_final_owners_prefers_a_players_map_then_its_rollout_playouts_then_the_board():
    position = board_from_string(DEAD_INVADERS, komi=0.5)
    knowing = MapPlayer(knowing_map(position))
    owners, source, player = final_owners(position, None, rollout_player(), knowing)  # None: a person's seat
    assert source == "map" and player is knowing and np.array_equal(owners, knowing_map(position))
    for no_map in (MapPlayer(None), MapPlayer(RuntimeError("net for 19x19")), MapPlayer(np.zeros(25))):
        rollouts = rollout_player()
        owners, source, player = final_owners(position, no_map, rollouts)
        assert source == "playouts" and player is rollouts
        assert [from_gtp("B2", 9)] in dead_chains(position, owners)
    again = final_owners(position, rollout_player()).owners
    np.testing.assert_array_equal(again, final_owners(position, rollout_player()).owners)  # seeded by the board
    owners, source, player = final_owners(position, MapPlayer(None), None)
    assert source == "board" and player is None and dead_chains(position, owners) == []
    np.testing.assert_array_equal(owners, position.ownership())


@pytest.mark.gnugo
@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
def test_the_score_without_dead_stones_agrees_with_gnu_go():
    position = board_from_string(DEAD_INVADERS, komi=0.5)
    ours = score_without_dead(position, knowing_map(position))
    with GTPEngine.gnugo(1, size=9, komi=0.5) as engine:
        for point in np.flatnonzero(position.board).tolist():
            color = "black" if position.board[point] == BLACK else "white"
            row, col = divmod(point, 9)
            engine.send(f"play {color} {'ABCDEFGHJ'[col]}{9 - row}")
        theirs = engine.send("final_score")
    assert theirs == ("B+" if ours > 0 else "W+") + f"{abs(ours):g}"
