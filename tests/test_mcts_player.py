"""The ``mcts:`` player kind over a tiny random run folder (5x5, 8 filters, 1 block): loading, options, a game,
the position cache, reseeding."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from minigo import rollout
from minigo.arena import play_game
from minigo.go import Position, Rules
from minigo.mcts import MCTSPlayer, UniformEvaluator
from minigo.players import PlayerSpecError, RandomPlayer
from models import checkpoint
from models.mcts_player import CachedEvaluator
from models.nets import NetConfig, RolloutPolicy, build
from selfplay.player_kinds import make_player as make_any_player


def _save(path, config: NetConfig, net: torch.nn.Module | None = None):
    return checkpoint.save(path, net if net is not None else build(config), config)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder with a random SL policy, value net and rollout policy for 5x5."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("run")
    folder = root / "checkpoints"
    _save(folder / "sl_policy.safetensors", NetConfig(kind="policy", board_size=5, filters=8, blocks=1))
    _save(folder / "value.safetensors", NetConfig(kind="value", board_size=5, filters=8, blocks=1))
    config = NetConfig(kind="rollout", board_size=5, rollout_features=rollout.NUM_FEATURES)
    net = RolloutPolicy(config)
    with torch.no_grad():
        net.weights.normal_()
    _save(folder / "rollout.safetensors", config, net)
    return root


@pytest.fixture(scope="module")
def bare_policy(tmp_path_factory):
    """A policy checkpoint with nothing beside it."""
    path = tmp_path_factory.mktemp("bare") / "policy.safetensors"
    return _save(path, NetConfig(kind="policy", board_size=5, filters=8, blocks=1))


def test_mcts_plays_a_whole_game_from_a_run_folder(run) -> None:
    player = make_any_player(f"mcts:{run},playouts=24,batch=8,seed=1")
    assert isinstance(player, MCTSPlayer)
    assert player.config.mixing == 0.5 and player.mcts.rollout_weights is not None
    record = play_game(player, RandomPlayer(np.random.default_rng(2)), Rules(size=5))
    assert record.result and "F" not in record.result
    search = player.last_search
    assert search is not None and search.moves.size and 0 <= search.playouts <= 24
    assert player.evaluator.misses > 0


def test_a_policy_file_alone_means_rollouts_only_and_uniform_rollouts(bare_policy) -> None:
    player = make_any_player(f"mcts:{bare_policy},playouts=16")
    assert player.config.mixing == 1.0 and player.mcts.rollout_weights is None
    position = Position.empty(5)
    assert position.is_legal(player.play(position))


def test_options_reach_the_search_config(run) -> None:
    player = make_any_player(f"mcts:{run},playouts=10,seconds=2,lambda=0,c_puct=2.5,batch=4,resign=-0.9,threads=2")
    config = player.config
    assert (config.playouts, config.seconds, config.mixing, config.c_puct, config.batch_size, config.resign_threshold,
            config.rollout_threads) == (10, 2.0, 0.0, 2.5, 4, -0.9, 2)
    assert make_any_player(f"mcts:{run},seconds=1").config.playouts is None
    config = make_any_player(f"mcts:{run},lambda=0.25,lambda_end=1,lambda_moves=40").config
    assert (config.mixing, config.mixing_end, config.mixing_moves) == (0.25, 1.0, 40)
    config = make_any_player(f"mcts:{run},fpu=0.25,lcb=2").config
    assert (config.fpu_reduction, config.lcb) == (0.25, 2.0)
    assert make_any_player(f"mcts:{run}").mcts.evaluator.evaluator.precision == "fp32"
    fast = make_any_player(f"mcts:{run},playouts=16,precision=bf16")
    assert fast.mcts.evaluator.evaluator.precision == "bf16"
    assert Position.empty(5).is_legal(fast.play(Position.empty(5)))


@pytest.mark.parametrize(("spec", "message"), [
    ("mcts", "needs a run folder"),
    ("mcts:{run},playouts=0", "playouts '0'"),
    ("mcts:{run},lambda=2", "lambda '2'"),
    ("mcts:{run},c_puct=x", "c_puct 'x'"),
    ("mcts:{run},lcb=-1", "lcb '-1'"),
    ("mcts:{run},depth=3", "unknown option 'depth'"),
    ("mcts:{run},precision=fp16", "precision 'fp16'.*expected one of fp32, bf16"),
    ("mcts:{bare},lambda=0.5", "needs a value network"),
    ("mcts:{run},lambda_end=1.5", "lambda_end '1.5'"),
    ("mcts:{run},lambda_moves=30", "needs lambda_end"),
    ("mcts:{bare},lambda_end=0.5", "needs a value network"),
    ("mcts:/nonexistent/run", "no such checkpoint"),
    ("mcts:{empty}", "not a run folder"),
])
def test_bad_mcts_specs_are_one_clear_error(spec: str, message: str, run, bare_policy, tmp_path) -> None:
    with pytest.raises(PlayerSpecError, match=message):
        make_any_player(spec.format(run=run, bare=bare_policy, empty=tmp_path))


def test_the_player_refuses_another_board_size(run) -> None:
    with pytest.raises(ValueError, match="trained for 5x5"):
        make_any_player(f"mcts:{run},playouts=8").reset(Rules(size=9))


def test_reseed_makes_searches_repeat(run) -> None:
    player = make_any_player(f"mcts:{run},playouts=32,batch=8")
    position = Position.empty(5).play(12)
    results = []
    for _ in range(2):
        player.reset(Rules(size=5))
        player.reseed(7)
        player.play(position)
        results.append(player.last_search)
    assert np.array_equal(results[0].visits, results[1].visits) and results[0].move == results[1].move


def test_cached_evaluator_answers_repeats_without_the_network() -> None:
    class Counting(UniformEvaluator):
        calls = 0

        def evaluate(self, positions):
            Counting.calls += len(positions)
            return super().evaluate(positions)

    cached = CachedEvaluator(Counting(), capacity=2)
    a, b, c = Position.empty(5), Position.empty(5).play(0), Position.empty(5).play(1)
    first = cached.evaluate([a, b])
    again = cached.evaluate([b, a])
    assert Counting.calls == 2 and cached.hits == 2
    assert np.array_equal(first[0][0], again[0][1])
    cached.evaluate([c])  # evicts the oldest (a)
    cached.evaluate([a])
    assert Counting.calls == 4 and len(cached._cache) == 2


def test_minigo_gtp_serves_an_mcts_player_with_analysis(run) -> None:
    script = "1 genmove b\n2 gogui-analyze_commands\n3 lz-analyze w 5\n4 minigo-visits_heatmap\nquit\n"
    done = subprocess.run([sys.executable, "-m", "selfplay.cli", "gtp", "--size", "5", "--player",
                           f"mcts:{run},playouts=16,batch=4,seed=0"], input=script.encode(), capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    answers = done.stdout.decode().split("\n\n")
    assert answers[0].startswith("=1 ") and answers[1] == (
        "=2 gfx/Policy heat map/minigo-policy_heatmap\ngfx/Visit counts/minigo-visits_heatmap")
    assert answers[2].startswith("=3 \ninfo move ") and answers[3].startswith("=4 INFLUENCE ")


def test_a_value_net_with_an_ownership_head_gives_the_player_an_ownership_map(tmp_path) -> None:
    from models.features import batch_planes

    torch.manual_seed(4)
    folder = tmp_path / "checkpoints"
    _save(folder / "sl_policy.safetensors", NetConfig(kind="policy", board_size=5, filters=8, blocks=1))
    _save(folder / "value.safetensors", NetConfig(kind="value", board_size=5, filters=8, blocks=1,
                                                  ownership_head=True))
    player = make_any_player(f"mcts:{tmp_path},playouts=8,batch=4")
    net = checkpoint.load(folder / "value.safetensors", kind="value").net
    for position in (Position.empty(5), Position.empty(5).play(12)):  # Black to move, then White
        black_view = player.ownership(position)
        with torch.no_grad():
            mover_view = torch.tanh(net.heads(torch.from_numpy(batch_planes([position])))["ownership_logit"][0])
        assert black_view.shape == (25,) and np.all(np.abs(black_view) <= 1)
        # the head answers for the player to move; the map is Black's view whoever is to move
        assert np.allclose(black_view, position.to_play * mover_view.numpy(), atol=1e-6)


def test_a_value_net_without_an_ownership_head_gives_no_map(run) -> None:
    assert make_any_player(f"mcts:{run},playouts=8").ownership(Position.empty(5)) is None
