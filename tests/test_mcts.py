"""PUCT search with a uniform evaluator and uniformly random rollouts (no torch): tactics, legality, budgets,
tree reuse, pass and resign rules, noise and temperature, and the GTP analysis commands over the player."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from minigo import rollout
from minigo.arena import play_game, winner
from minigo.coords import from_gtp, to_gtp
from minigo.go import BLACK, WHITE, Position, Rules, board_from_string
from minigo.gtp import Engine, lz_info
from minigo.mcts import MCTS, MCTSPlayer, SearchConfig, UniformEvaluator, lower_bound, outcome
from minigo.players import RESIGN, RandomPlayer

ROLLOUTS_ONLY = SearchConfig(playouts=400, mixing=1.0)


def searcher(seed: int = 0, **fields) -> MCTS:
    config = SearchConfig(**{"mixing": 1.0, **fields})
    return MCTS(UniformEvaluator(), config, rng=np.random.default_rng(seed))


class FixedPrior:
    """Puts ``weight`` of the prior on one point (legal or not), the rest spread evenly over every other point."""

    def __init__(self, point: int, weight: float = 0.99) -> None:
        self.point = point
        self.weight = weight

    def evaluate(self, positions):
        n = positions[0].pass_point + 1
        priors = np.full((len(positions), n), (1 - self.weight) / (n - 1))
        priors[:, self.point] = self.weight
        return priors, np.zeros(len(positions))


def tree_edges(mcts: MCTS):
    """Every (position, move) edge of the search tree."""
    tree = mcts._tree
    for node, position in enumerate(tree.positions):
        span = tree.edges(node)
        for move in tree.links[span, 0].tolist():
            yield position, move


# --------------------------------------------------------------------------- tactics

CAPTURE = """
. . . . .
. X X . .
X O O . .
. X X . .
. . . . .
"""

SAVE = """
. . O . .
. O X O .
. O X O .
. . . . .
. . . . .
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finds_the_capture_of_a_group_in_atari(seed: int) -> None:
    position = board_from_string(CAPTURE, komi=0.5)
    result = searcher(seed, playouts=3200).play(position)
    assert to_gtp(result.move, 5) == "D3"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saves_its_own_group_in_atari(seed: int) -> None:
    position = board_from_string(SAVE, komi=0.5)
    result = searcher(seed, playouts=3200).play(position)
    assert to_gtp(result.move, 5) == "C2"


# --------------------------------------------------------------------------- legality

KO = """
. X O . .
X O . O .
. X O . .
. . . . .
. . . . .
"""


def test_never_takes_a_ko_back_even_when_the_prior_puts_099_on_it() -> None:
    position = board_from_string(KO).play(from_gtp("C4", 5))  # Black captures at C4: White may not retake at B4
    ko_point = from_gtp("B4", 5)
    assert not position.is_legal(ko_point)
    mcts = MCTS(FixedPrior(ko_point), SearchConfig(playouts=300, mixing=1.0), rng=np.random.default_rng(0))
    result = mcts.play(position)
    assert position.is_legal(result.move)
    assert ko_point not in result.moves.tolist()
    for node_position, move in tree_edges(mcts):  # superko-illegal children are never created anywhere
        assert node_position.is_legal(move)


@pytest.mark.parametrize("point", ["B5", "C5", "A5", "B4"])  # occupied (Black, White), suicide, ko
def test_never_returns_an_illegal_move_whatever_the_prior(point: str) -> None:
    position = board_from_string(KO).play(from_gtp("C4", 5))
    illegal = from_gtp(point, 5)
    assert not position.is_legal(illegal)
    mcts = MCTS(FixedPrior(illegal), SearchConfig(playouts=200, mixing=1.0), rng=np.random.default_rng(1))
    assert position.is_legal(mcts.play(position).move)


def test_a_game_with_an_adversarial_prior_stays_legal() -> None:
    player = MCTSPlayer(FixedPrior(12), SearchConfig(playouts=48, mixing=1.0, batch_size=8),
                        rng=np.random.default_rng(3))
    record = play_game(player, RandomPlayer(np.random.default_rng(4)), Rules(size=5))
    assert "F" not in record.result  # nobody forfeited by an illegal move


def test_only_the_pass_is_left_on_a_1x1_board() -> None:
    position = Position.empty(1)
    result = searcher(playouts=20).play(position)
    assert result.move == position.pass_point


# --------------------------------------------------------------------------- budgets and batching


@pytest.mark.parametrize(("playouts", "batch"), [(100, 1), (100, 7), (100, 16), (5, 16)])
def test_visit_counts_sum_to_the_playouts(playouts: int, batch: int) -> None:
    result = searcher(playouts=playouts, batch_size=batch).search(Position.empty(5))
    assert result.playouts == playouts
    assert result.visits.sum() == playouts
    assert len(result.moves) == 26 and np.isclose(result.prior.sum(), 1)


def test_a_seconds_budget_ends_the_search() -> None:
    result = searcher(playouts=None, seconds=0.05).search(Position.empty(5))
    assert result.playouts >= 1 and result.visits.sum() == result.playouts


def test_leaf_value_mixes_the_evaluator_and_the_rollouts() -> None:
    class Confident(UniformEvaluator):
        def evaluate(self, positions):
            priors, _ = super().evaluate(positions)
            return priors, np.full(len(positions), 0.8)  # every position looks won for its player to move

    position = Position.empty(5)
    value_only = MCTS(Confident(), SearchConfig(playouts=50, mixing=0.0)).search(position)
    # A move visited once was a leaf one ply below the root: won for the opponent, so its Q is -0.8.
    assert (value_only.visits == 1).any() and np.allclose(value_only.q[value_only.visits == 1], -0.8)
    mixed = MCTS(Confident(), SearchConfig(playouts=50, mixing=0.5), rng=np.random.default_rng(0)).search(position)
    # (1 - 0.5) * -0.8 + 0.5 * z, z = +-1: each leaf value is -0.9 or +0.1
    once = mixed.q[mixed.visits == 1]
    assert once.size and np.all(np.isclose(once, -0.9) | np.isclose(once, 0.1))


def test_lambda_can_rise_with_the_leaf_s_move_number() -> None:
    class Confident(UniformEvaluator):
        def evaluate(self, positions):
            priors, _ = super().evaluate(positions)
            return priors, np.full(len(positions), 0.8)

    config = SearchConfig(playouts=60, mixing=0.0, mixing_end=1.0, mixing_moves=2)
    assert [config.mixing_at(m) for m in (0, 1, 2, 9)] == [0.0, 0.5, 1.0, 1.0]
    result = MCTS(Confident(), config, rng=np.random.default_rng(0)).search(Position.empty(5))
    # one ply below the root a leaf is at move 1: lambda 0.5, so (1 - 0.5) * -0.8 + 0.5 * z is -0.9 or +0.1
    once = result.q[result.visits == 1]
    assert once.size and np.all(np.isclose(once, -0.9) | np.isclose(once, 0.1))
    # a schedule that stays put is the fixed lambda, rollout for rollout
    for fixed in (0.0, 1.0):
        a = MCTS(Confident(), SearchConfig(playouts=60, mixing=fixed), rng=np.random.default_rng(3))
        b = MCTS(Confident(), SearchConfig(playouts=60, mixing=fixed, mixing_end=fixed), rng=np.random.default_rng(3))
        first, second = a.search(Position.empty(5)), b.search(Position.empty(5))
        assert np.array_equal(first.visits, second.visits) and np.allclose(first.q, second.q)


def test_rollout_threads_give_the_same_kind_of_answer() -> None:
    position = board_from_string(CAPTURE, komi=0.5)
    result = searcher(0, playouts=3200, rollout_threads=2).play(position)
    assert to_gtp(result.move, 5) == "D3"
    assert result.visits.sum() == 3200


def test_policy_rollouts_run_on_threads_too() -> None:
    weights = np.random.default_rng(0).normal(size=rollout.NUM_FEATURES + 1)
    config = SearchConfig(playouts=32, mixing=1.0, batch_size=8, rollout_threads=2)
    mcts = MCTS(UniformEvaluator(), config, rollout_weights=weights, rng=np.random.default_rng(0))
    result = mcts.search(Position.empty(5))
    assert result.visits.sum() == 32 and np.all(np.abs(result.q) <= 1)
    mcts.close()


def test_terminal_leaves_get_the_exact_result() -> None:
    # White has passed and Black leads: Black's pass ends the game, won, whatever the evaluator or rollouts say.
    position = board_from_string(SETTLED, to_play=WHITE, komi=0.5).play(25)
    result = MCTS(FixedPrior(25), SearchConfig(playouts=100, mixing=0.0)).search(position)
    pass_index = result.moves.tolist().index(position.pass_point)
    assert result.visits[pass_index] > 0 and result.q[pass_index] == 1.0


def test_at_the_move_cap_every_child_is_scored_exactly() -> None:
    rng = np.random.default_rng(0)
    position = Position.empty(5)
    while position.move_number < position.rules.move_cap - 1:
        choices = np.flatnonzero(position.legal_moves()[:-1])
        position = position.play(int(rng.choice(choices)) if len(choices) else position.pass_point)
    assert not position.is_game_over
    result = searcher(playouts=300, batch_size=16).search(position)  # more new terminal children than a batch
    assert result.visits.sum() == 300
    for move, q, visits in zip(result.moves, result.q, result.visits, strict=True):
        if visits:
            assert q == -outcome(position.play(int(move)))


# --------------------------------------------------------------------------- tree reuse


def test_tree_reuse_keeps_the_childs_statistics() -> None:
    mcts = searcher(playouts=400)
    position = Position.empty(5)
    first = mcts.search(position)
    move = first.pv[0]
    child_visits = int(first.visits[first.moves.tolist().index(move)])
    assert child_visits > 1
    after = mcts.search(position.play(move), playouts=50)
    # The child's own first visit evaluated it; the others went to its children, which are kept.
    assert after.visits.sum() == child_visits - 1 + 50


def test_tree_reuse_follows_two_moves_and_forgets_unrelated_positions() -> None:
    mcts = searcher(playouts=600)
    position = Position.empty(5)
    first = mcts.search(position)
    line = first.pv[:2]
    assert len(line) == 2
    reused = mcts.search(position.play(line[0]).play(line[1]), playouts=10)
    assert reused.visits.sum() > 10
    unrelated = mcts.search(Position.empty(5).play(0), playouts=10)
    assert unrelated.visits.sum() == 10


def test_the_player_reuses_its_tree_across_the_opponents_reply() -> None:
    player = MCTSPlayer(UniformEvaluator(), SearchConfig(playouts=300, mixing=1.0), rng=np.random.default_rng(5))
    player.reset(Rules(size=5))
    position = Position.empty(5)
    move = player.play(position)
    reply = player.last_search.pv[1]
    player.play(position.play(move).play(reply))
    assert player.last_search.visits.sum() > 300


# --------------------------------------------------------------------------- passing and resigning

SETTLED = """
. . X O .
. . X O .
. . X O .
. . X O .
. . X O .
"""  # Black's area 15, White's 10


def test_passes_after_the_opponents_pass_when_passing_wins() -> None:
    position = board_from_string(SETTLED, to_play=WHITE, komi=0.5).play(25)  # White passes; Black leads by 4.5
    result = MCTS(FixedPrior(0), SearchConfig(playouts=100, mixing=1.0)).play(position)
    assert result.move == position.pass_point and result.reason == "pass wins"


def test_never_passes_when_passing_loses_even_with_a_099_prior_on_the_pass() -> None:
    position = board_from_string(SETTLED, to_play=BLACK, komi=0.5).play(25)  # Black passed; White is behind
    assert outcome(position) < 0
    mcts = MCTS(FixedPrior(25), SearchConfig(playouts=200, mixing=1.0), rng=np.random.default_rng(0))
    result = mcts.play(position)
    assert result.move != position.pass_point and position.is_legal(result.move)
    assert result.visits[result.moves.tolist().index(25)] == 0  # the root's pass is never searched


EYES_ONLY = """
O . O . O
O O O O O
X X X X X
X . X . X
X X X X X
"""  # White's two-eyed group holds 10 points, Black's 15; White's only legal moves fill its own eyes


def test_passes_when_only_its_own_eyes_are_left_even_though_passing_loses() -> None:
    position = board_from_string(EYES_ONLY, to_play=BLACK, komi=0.5).play(25)  # Black passed; White is behind
    assert outcome(position) < 0 and position.legal_moves()[[1, 3]].all() and position.legal_moves().sum() == 3
    mcts = MCTS(FixedPrior(1), SearchConfig(playouts=200, mixing=1.0), rng=np.random.default_rng(0))
    result = mcts.play(position)
    assert result.move == position.pass_point and result.reason == "nothing else" and result.value == -1.0
    # Analysis searches the pass too (the eye fills lose the group; the pass loses only the game).
    analysis = mcts.search(position)
    assert analysis.visits[analysis.moves.tolist().index(25)] > 0


def test_a_losing_bot_with_eyes_to_fill_and_a_sensible_move_still_plays_on() -> None:
    # As above, with one more empty point in White's area: filling it is sensible, so the pass stays forbidden.
    board = EYES_ONLY.replace("O O O O O\nX", "O O . O O\nX", 1)
    position = board_from_string(board, to_play=BLACK, komi=0.5).play(25)
    assert outcome(position) < 0
    result = MCTS(FixedPrior(25), SearchConfig(playouts=200, mixing=1.0), rng=np.random.default_rng(0)).play(position)
    assert result.move != position.pass_point and result.reason == "search" and position.is_legal(result.move)


def test_passing_into_a_draw_is_allowed() -> None:
    # komi 5: 15 - 10 - 5 = 0. Passing after Black's pass draws, so the pass stays a candidate at the root.
    position = board_from_string(SETTLED, to_play=BLACK, komi=5).play(25)
    assert outcome(position) == 0
    result = MCTS(FixedPrior(25), SearchConfig(playouts=100, mixing=1.0), rng=np.random.default_rng(0)).play(position)
    assert result.reason == "search"
    assert result.visits[result.moves.tolist().index(25)] > 0


ALIVE = """
X X X X X
X . X . X
X X X X X
. . . . .
. . . . .
"""  # Black's two-eyed group holds 15 points; White can make 10 at most


def test_resigns_a_hopeless_position_only_when_asked() -> None:
    position = board_from_string(ALIVE, to_play=BLACK, komi=0.5).play(25)  # Black passed, White to move
    # Q is not quite -1: the tree also tries Black filling its own eyes, which a few rollouts then lose.
    hopeless = searcher(playouts=1000, resign_threshold=-0.8).play(position)
    assert hopeless.move == RESIGN and hopeless.reason == "resign" and hopeless.value < -0.8
    playing_on = searcher(playouts=200).play(position)
    assert playing_on.move != RESIGN and playing_on.move != position.pass_point
    assert position.is_legal(playing_on.move)


# --------------------------------------------------------------------------- self-play options


def test_dirichlet_noise_changes_the_search_not_the_reported_prior() -> None:
    mcts = searcher(playouts=64, dirichlet_alpha=0.3)
    result = mcts.search(Position.empty(5))
    assert np.allclose(result.prior, 1 / 26)
    tree_prior = mcts._tree.stats[mcts._tree.edges(0), 0]
    assert not np.allclose(tree_prior, 1 / 26) and np.isclose(tree_prior.sum(), 1)


def test_temperature_samples_visited_moves() -> None:
    chosen = set()
    for seed in range(8):
        result = searcher(seed, playouts=64, temperature=1.0).play(Position.empty(5))
        assert result.visits[result.moves.tolist().index(result.move)] > 0
        chosen.add(result.move)
    assert len(chosen) > 1
    late = searcher(0, playouts=64, temperature=1.0, temperature_moves=0).play(Position.empty(5))
    assert late.move == late.moves[late.ranked()[0]]


@pytest.mark.parametrize(("field", "value"), [
    ("playouts", 0), ("seconds", -1.0), ("c_puct", -1.0), ("mixing", 1.5), ("batch_size", 0),
    ("virtual_loss", -1.0), ("resign_threshold", -2.0), ("dirichlet_alpha", 0.0), ("temperature", -1.0),
    ("rollout_threads", 0), ("mixing_end", 1.5), ("mixing_moves", 0), ("lcb", -1.0), ("lcb_min_visits", 0.0),
    ("lcb_min_visits", 1.5),
])
def test_bad_config_names_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        SearchConfig(**{field: value})


# --------------------------------------------------------------------------- strength


def test_beats_random_on_5x5() -> None:
    wins = 0
    games = 40
    for game in range(games):
        mcts = MCTSPlayer(UniformEvaluator(), SearchConfig(playouts=200, mixing=1.0), rng=np.random.default_rng(game))
        opponent = RandomPlayer(np.random.default_rng(1000 + game))
        color = BLACK if game % 2 == 0 else WHITE
        black, white = (mcts, opponent) if color == BLACK else (opponent, mcts)
        wins += winner(play_game(black, white, Rules(size=5))) == color
    assert wins >= 38


# --------------------------------------------------------------------------- what it thought, over GTP


@pytest.fixture
def engine() -> Engine:
    player = MCTSPlayer(UniformEvaluator(), SearchConfig(playouts=64, mixing=1.0), rng=np.random.default_rng(0))
    return Engine(player, Rules(size=5))


def answer(engine: Engine, line: str) -> str:
    text = engine.handle(line)
    assert text is not None and text.endswith("\n\n")
    return text


def test_analyze_commands_list_both_heat_maps(engine: Engine) -> None:
    assert answer(engine, "gogui-analyze_commands") == (
        "= gfx/Policy heat map/minigo-policy_heatmap\ngfx/Visit counts/minigo-visits_heatmap\n\n")
    for command in ("minigo-policy_heatmap", "minigo-visits_heatmap", "lz-analyze"):
        assert answer(engine, f"known_command {command}") == "= true\n\n"


def test_heat_maps_are_gogui_gfx(engine: Engine) -> None:
    answer(engine, "play b C3")
    policy = answer(engine, "minigo-policy_heatmap")
    assert policy.startswith("= INFLUENCE ") and "\nLABEL " in policy and "\nTEXT white to play" in policy
    assert " C3 " not in policy  # an occupied point has no prior
    visits = answer(engine, "minigo-visits_heatmap")
    labels = next(line for line in visits.splitlines() if line.startswith("LABEL "))
    counts = [int(x) for x in labels.split()[2::2]]
    assert sum(counts) <= 64 and "64 playouts" in visits
    influence = next(line for line in visits.splitlines() if line.startswith("= INFLUENCE "))
    assert all(-1 <= float(x) <= 0 for x in influence.split()[3::2])  # White to move: signed negative


def test_lz_analyze_writes_leela_zero_info_lines(engine: Engine) -> None:
    text = answer(engine, "lz-analyze b 1")
    assert text.startswith("= \ninfo move ")
    last = text.strip().splitlines()[-1]
    entries = re.findall(r"info move (\S+) visits (\d+) winrate (\d+) prior (\d+) order (\d+) pv ([A-Za-z0-9 ]+?)"
                         r"(?= info|$)", last)
    assert entries and sum(int(e[1]) for e in entries) == 64
    assert [int(e[4]) for e in entries] == list(range(len(entries)))
    assert all(0 <= int(e[2]) <= 10000 and e[5].split()[0] == e[0] for e in entries)


def test_lz_analyze_streams_in_a_session_then_genmove_reuses_the_tree() -> None:
    player = MCTSPlayer(UniformEvaluator(), SearchConfig(playouts=200, mixing=1.0), rng=np.random.default_rng(0))
    engine = Engine(player, Rules(size=5))
    out = io.StringIO()
    engine.run(io.StringIO("1 lz-analyze 0\n2 genmove b\n3 lz-analyze w interval 50\nquit\n"), out)
    first, second, third, final = out.getvalue().split("\n\n")[:4]
    assert first.startswith("=1 \ninfo move ") and len(first.splitlines()) >= 2
    assert re.fullmatch(r"=2 [A-E][1-5]|=2 pass", second)
    assert third.startswith("=3 \ninfo move ")
    assert final == "= "


def test_lz_analyze_in_a_session_runs_until_the_next_command() -> None:
    import os
    import threading
    import time

    player = MCTSPlayer(UniformEvaluator(), SearchConfig(playouts=16, mixing=1.0), rng=np.random.default_rng(0))
    engine = Engine(player, Rules(size=5))
    read_end, write_end = os.pipe()
    commands = os.fdopen(write_end, "w")
    out = io.StringIO()
    session = threading.Thread(target=engine.run, args=(os.fdopen(read_end), out))
    session.start()
    commands.write("1 lz-analyze b 5\n")
    commands.flush()
    deadline = time.time() + 30
    while out.getvalue().count("\ninfo move") < 3 and time.time() < deadline:
        time.sleep(0.05)
    # the player's budget (16 playouts) is long spent, and the answer has not ended: still analysing
    assert out.getvalue().count("\ninfo move") >= 3 and "\n\n" not in out.getvalue()
    commands.write("2 name\nquit\n")
    commands.flush()
    session.join(timeout=30)
    assert not session.is_alive()
    analysis, name = out.getvalue().split("\n\n")[:2]
    assert analysis.startswith("=1 \ninfo move ") and name == "=2 minigo"
    last = analysis.splitlines()[-1]
    assert sum(int(v) for v in re.findall(r" visits (\d+)", last)) > 16
    commands.close()


def test_analysis_is_not_available_for_a_player_without_it() -> None:
    engine = Engine(RandomPlayer(), Rules(size=5))
    assert answer(engine, "gogui-analyze_commands") == "= \n\n"
    for command in ("minigo-policy_heatmap", "minigo-visits_heatmap", "lz-analyze"):
        assert answer(engine, command) == "? not available for this player\n\n"


def test_lz_analyze_rejects_bad_arguments(engine: Engine) -> None:
    assert answer(engine, "lz-analyze b x").startswith("? syntax error")
    assert answer(engine, "lz-analyze interval").startswith("? syntax error")


def test_lz_info_of_a_search_result() -> None:
    result = searcher(playouts=32).search(Position.empty(5))
    line = lz_info(result)
    assert line.count("info move ") == int((result.visits > 0).sum())
    assert "summary" not in result.summary() and result.summary().startswith(to_gtp(result.move, 5))


def test_first_play_urgency_reduction_keeps_the_search_on_the_prior_s_moves() -> None:
    class Peaked(UniformEvaluator):
        """Half the prior on one point, the rest spread; every position looks even."""

        def evaluate(self, positions):
            priors, values = super().evaluate(positions)
            priors = priors * 0.5
            priors[:, 12] += 0.5
            return priors, np.zeros(len(positions))

    position = Position.empty(5)
    plain = MCTS(Peaked(), SearchConfig(playouts=120, mixing=0.0, c_puct=1.0)).search(position)
    reduced = MCTS(Peaked(), SearchConfig(playouts=120, mixing=0.0, c_puct=1.0, fpu_reduction=0.5)).search(position)
    # with Q = 0 for unvisited moves, every child looks as good as the visited ones and gets tried; with the
    # reduction, unvisited moves look worse than the parent's value and fewer are tried
    assert (reduced.visits > 0).sum() < (plain.visits > 0).sum()
    assert reduced.visits.sum() == plain.visits.sum() == 120
    same = MCTS(Peaked(), SearchConfig(playouts=120, mixing=0.0, c_puct=1.0, fpu_reduction=0.0)).search(position)
    assert np.array_equal(same.visits, plain.visits)  # 0 is the paper's search, unchanged


# --------------------------------------------------------------------------- lower-confidence-bound move choice


def test_lower_bound_is_wilson_s_on_the_win_rate_scale() -> None:
    # Wilson's 95% lower bound for 50 wins of 100 is 0.4038; on the [-1, 1] scale 2 * 0.4038 - 1
    assert lower_bound(np.array([0.0]), np.array([100]), 1.96)[0] == pytest.approx(-0.1924, abs=1e-3)
    # 10 wins of 10 is not certainty: 0.7225
    assert lower_bound(np.array([1.0]), np.array([10]), 1.96)[0] == pytest.approx(2 * 0.7225 - 1, abs=1e-3)
    bounds = lower_bound(np.array([0.3, 0.3, 0.3, 0.5]), np.array([10, 100, 1000, 0]), 2.0)
    assert bounds[0] < bounds[1] < bounds[2] < 0.3 and bounds[3] == -1.0
    assert lower_bound(np.array([0.3]), np.array([1000]), 0.0)[0] == pytest.approx(0.3)


def test_lcb_plays_the_move_with_the_best_lower_bound_among_the_well_visited() -> None:
    position = Position.empty(5)
    plain = searcher(3, playouts=300, c_puct=0.8).play(position)
    assert plain.move == plain.moves[plain.ranked()[0]]
    for z, fraction in ((2.0, 0.1), (0.5, 0.1), (0.5, 0.6)):
        chosen = searcher(3, playouts=300, c_puct=0.8, lcb=z, lcb_min_visits=fraction).play(position)
        assert np.array_equal(chosen.visits, plain.visits)  # the same tree: only the choice differs
        eligible = np.flatnonzero(plain.visits >= fraction * plain.visits.max())
        bounds = lower_bound(plain.q[eligible], plain.visits[eligible], z)
        assert chosen.move == plain.moves[eligible[np.argmax(bounds)]]
        assert chosen.pv[0] == chosen.move
    # on this tree the most visited move is not the best-valued one: a small z leaves it, a large z keeps it
    assert searcher(3, playouts=300, c_puct=0.8, lcb=0.5).play(position).move != plain.move
    assert searcher(3, playouts=300, c_puct=0.8, lcb=3.0).play(position).move == plain.move


def test_lcb_picks_a_less_visited_move_whose_value_is_clearly_higher() -> None:
    from minigo.mcts import _lcb_choice

    visits = np.array([400, 300, 60, 5])
    q = np.array([0.05, 0.45, 0.55, 0.99])
    candidates = np.arange(4)
    # move 1 is well visited and much better; move 2's Q is higher still but rests on too few visits for z = 2;
    # move 3 is under a tenth of the top's visits and is never chosen
    assert _lcb_choice(candidates, visits, q, 0, 2.0, 0.1) == 1
    assert _lcb_choice(candidates, visits, q, 0, 0.0, 0.1) == 2
    assert _lcb_choice(np.array([0, 2, 3]), visits, q, 0, 2.0, 0.1) == 2  # move 1 not allowed: the next bound
