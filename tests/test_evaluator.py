"""Networks as evaluators and players: legal priors, greedy and sampled policy players, the policy: spec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minigo.go import BLACK, WHITE, Position, Rules
from minigo.players import PlayerSpecError
from models import checkpoint
from models.evaluator import NetEvaluator, PolicyPlayer
from models.nets import NetConfig, build
from selfplay.player_kinds import make_player as make_any_player


@pytest.fixture
def policy_file(tmp_path):
    torch.manual_seed(0)
    config = NetConfig(board_size=5, filters=8, blocks=1)
    return checkpoint.save(tmp_path / "checkpoints" / "sl_policy.safetensors", build(config), config, stage="sl")


def test_priors_cover_legal_moves_only_and_sum_to_one(policy_file):
    evaluator = NetEvaluator(checkpoint.load(policy_file))
    pos = Position.empty(5).play(12).play(13)
    priors, values = evaluator.evaluate([pos, Position.empty(5)])
    assert priors.shape == (2, 26) and values.shape == (2,)
    assert np.allclose(priors.sum(axis=1), 1)
    assert priors[0, 12] == 0 and priors[0, 13] == 0


def test_greedy_policy_player_is_deterministic_and_legal(policy_file):
    player = PolicyPlayer(NetEvaluator(checkpoint.load(policy_file)), temperature=0)
    player.reset(Rules(size=5))
    pos = Position.empty(5)
    moves = []
    while not pos.is_game_over and pos.move_number < 30:
        move = player.play(pos)
        assert pos.legal_moves()[move]
        moves.append(move)
        pos = pos.play(move)
    again = Position.empty(5)
    for move in moves:
        assert player.play(again) == move
        again = again.play(move)


def test_sampling_policy_player_follows_its_seed(policy_file):
    a = make_any_player(f"policy:{policy_file},temperature=1,seed=3")
    b = make_any_player(f"policy:{policy_file},temperature=1,seed=3")
    pos = Position.empty(5)
    assert [a.play(pos) for _ in range(5)] == [b.play(pos) for _ in range(5)]


def test_policy_spec_takes_a_run_folder(policy_file):
    run = policy_file.parent.parent
    player = make_any_player(f"policy:{run}")
    assert Position.empty(5).legal_moves()[player.play(Position.empty(5))]


def test_policy_player_refuses_another_board_size(policy_file):
    player = make_any_player(f"policy:{policy_file}")
    with pytest.raises(ValueError, match="trained for 5x5"):
        player.reset(Rules(size=9))


@pytest.mark.parametrize("spec,message", [
    ("policy", "needs a checkpoint"),
    ("policy:{f},temperature=-1", "temperature"),
    ("policy:{f},seed=x", "seed"),
    ("policy:{f},depth=3", "unknown option 'depth'"),
    ("policy:/nonexistent.safetensors", "no such checkpoint"),
])
def test_bad_policy_specs_are_one_clear_error(spec, message, policy_file):
    with pytest.raises(PlayerSpecError, match=message):
        make_any_player(spec.format(f=policy_file))


def test_value_checkpoint_is_not_a_policy(tmp_path):
    config = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    path = checkpoint.save(tmp_path / "v.safetensors", build(config), config)
    with pytest.raises(PlayerSpecError, match="a value network, expected a policy network"):
        make_any_player(f"policy:{path}")


class _PassLover:
    """An evaluator stub that puts 0.9 on the pass and spreads the rest over the legal points."""

    board_size = 5

    def evaluate(self, positions):
        out = np.zeros((len(positions), 26))
        for i, p in enumerate(positions):
            legal = p.legal_moves()
            out[i, :25] = np.where(legal[:25], 0.1 / max(legal[:25].sum(), 1), 0.0)
            out[i, 25] = 0.9
        return out, np.zeros(len(positions))


@pytest.mark.parametrize("temperature", [0, 1])
def test_policy_player_passes_only_when_nothing_sensible_is_left_or_passing_wins(temperature):
    from minigo.go import board_from_string

    player = PolicyPlayer(_PassLover(), temperature, np.random.default_rng(0))
    assert 25 not in [player.play(Position.empty(5)) for _ in range(20)]
    # Black to move, its only empty points are its own eyes: nothing sensible is left, so it passes.
    full = board_from_string("""
        .XXXX
        XXXXX
        XX.XX
        XXXXX
        XXXX.""")
    assert 25 in [player.play(full) for _ in range(20)]
    # White passed: with komi 0.5 the board as it stands wins for Black (15 to 10.5) and Black's pass ends the
    # game, won; with komi 7.5 it loses, so Black plays on.
    board = """
        ..XO.
        ..XO.
        ..XO.
        ..XO.
        ..XO."""
    won = board_from_string(board, to_play=WHITE, komi=0.5).play(25)
    lost = board_from_string(board, to_play=WHITE, komi=7.5).play(25)
    assert won.to_play == lost.to_play == BLACK and won.passes == 1
    assert 25 in [player.play(won) for _ in range(20)]
    assert 25 not in [player.play(lost) for _ in range(20)]
