"""Thinking time from GTP's clock: the per-move budget, the clock counted down, and an MCTS player that obeys it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from minigo.clock import LAG, MIN_BUDGET, MIN_MOVES_LEFT, SAFETY, GameClock, move_budget
from minigo.go import BLACK, WHITE, Position, Rules
from minigo.gtp import Engine
from minigo.mcts import MCTSPlayer, SearchConfig, UniformEvaluator


def test_main_time_is_spread_over_the_moves_still_expected():
    # 9x9 at the start: (81 * 0.8 - 0) / 2 = 32.4 of our moves left
    assert move_budget(324.0, 0, 0, 0, 0, 9) == pytest.approx(10.0 * SAFETY - LAG)
    # late in a game, never fewer than MIN_MOVES_LEFT moves
    assert move_budget(100.0, 0, 0, 0, 150, 9) == pytest.approx(100.0 / MIN_MOVES_LEFT * SAFETY - LAG)
    # byo-yomi to come lends a share of its period
    assert move_budget(100.0, 30, 5, 0, 150, 9) == pytest.approx((10.0 + 6.0) * SAFETY - LAG)


def test_byo_yomi_shares_the_period_between_its_stones_and_never_drops_to_zero():
    assert move_budget(30.0, 30, 5, 3, 80, 9) == pytest.approx(10.0 * SAFETY - LAG)
    assert move_budget(0.0, 30, 5, 1, 80, 9) == MIN_BUDGET


def test_clock_counts_down_and_starts_a_new_period():
    clock = GameClock(main=10.0, byo_time=20.0, byo_stones=2)
    clock.spent(BLACK, 4.0)
    assert clock.left[BLACK] == (6.0, 0)
    clock.spent(BLACK, 7.0)  # main time runs out: byo-yomi starts
    assert clock.left[BLACK] == (20.0, 2)
    clock.spent(BLACK, 5.0)
    assert clock.left[BLACK] == (15.0, 1)
    clock.spent(BLACK, 5.0)  # the period's stones are played: a fresh period
    assert clock.left[BLACK] == (20.0, 2)
    assert WHITE not in clock.left


def test_no_time_limit_gives_no_budget():
    assert GameClock(0.0, 5.0, 0).budget(BLACK, 0, 9) is None  # GTP: byo-yomi time without stones = no limit
    assert GameClock(0.0, 0.0, 0).budget(BLACK, 0, 9) is None


class TimedSearch(MCTSPlayer):
    def __init__(self) -> None:
        super().__init__(UniformEvaluator(), SearchConfig(playouts=None, seconds=30.0, mixing=1.0, batch_size=8),
                         rng=np.random.default_rng(0))


def test_the_engine_gives_an_mcts_player_its_share_of_the_clock():
    player = TimedSearch()
    player.mcts.search(Position.empty(5), playouts=8)  # compiled code warmed up: the timing is the search's own
    engine = Engine(player, Rules(size=5))
    assert engine.handle("time_settings 60 0 0").startswith("=")
    assert engine.handle("time_left b 2 0").startswith("=")  # 2 s left for all of Black's game: hurry
    started = time.monotonic()
    assert engine.handle("genmove b").startswith("= ")
    took = time.monotonic() - started
    assert took < 5.0  # its own config says 30 s a move; the clock said about 2 / 10 * 0.9 - 0.2
    assert engine.player.last_search.seconds < 1.0
    assert engine.player.time_budget is None  # set for one move only


def test_fixed_playouts_ignore_the_clock():
    player = MCTSPlayer(UniformEvaluator(), SearchConfig(playouts=40, mixing=1.0, batch_size=8),
                        rng=np.random.default_rng(0))
    engine = Engine(player, Rules(size=5))
    engine.handle("time_settings 1 0 0")
    engine.handle("genmove b")
    assert player.last_search.playouts == 40
