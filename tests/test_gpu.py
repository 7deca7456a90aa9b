"""The GPU path (issue 21): stage 1's training step, the inference copies and lockstep self-play on CUDA.

Marked ``gpu``: skipped where torch sees no CUDA device (the development VMs); run on a GPU machine with
``python -m pytest -m gpu``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minigo.go import Position, Rules
from models import checkpoint
from models.evaluator import NetEvaluator
from models.nets import NetConfig, build
from selfplay.rl import match_tasks
from selfplay.sl import policy_loss
from selfplay.workers import play_lockstep

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch sees none)")]


@pytest.fixture()
def policy(tmp_path):
    torch.manual_seed(0)
    config = NetConfig(board_size=9, filters=32, blocks=2)
    return checkpoint.save(tmp_path / "policy.safetensors", build(config), config, stage="sl")


def _batch(config: NetConfig, n: int = 64):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(0, 2, (n, config.input_planes, 9, 9)).astype(np.float32))
    legal = torch.ones(n, 82, dtype=torch.bool)
    moves = torch.from_numpy(rng.integers(0, 82, n))
    return x, legal, moves


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_training_step_on_cuda_matches_the_cpu(policy, precision):
    loaded = checkpoint.load(policy, kind="policy")
    x, legal, moves = _batch(loaded.config)
    expected = float(policy_loss(loaded.net.eval(), x, legal, moves, "fp32").detach())
    net = checkpoint.load(policy, kind="policy", device="cuda").net.eval()
    loss = policy_loss(net, x.cuda(), legal.cuda(), moves.cuda(), precision)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(expected, abs=1e-3 if precision == "fp32" else 0.03)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters() if p.requires_grad)


def test_the_inference_copy_on_cuda_agrees_with_the_cpu(policy):
    positions = [Position.empty(9)]
    for move in (40, 41, 30, 50):
        positions.append(positions[-1].play(move))
    cpu = NetEvaluator(checkpoint.load(policy, kind="policy")).evaluate(positions)[0]
    cuda = NetEvaluator(checkpoint.load(policy, kind="policy", device="cuda"), device="cuda").evaluate(positions)[0]
    assert np.allclose(cpu, cuda, atol=1e-4)
    assert (cpu.argmax(axis=1) == cuda.argmax(axis=1)).all()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_lockstep_self_play_on_cuda_plays_whole_legal_games(policy, precision):
    evaluator = NetEvaluator(checkpoint.load(policy, kind="policy", device="cuda"), device="cuda",
                             precision=precision)
    rules = Rules(size=9)
    games = play_lockstep(match_tasks(0, 64, "p", "p"), {"p": lambda ps: evaluator.evaluate(ps)[0]}, rules,
                          np.random.default_rng(0))
    assert sorted(g.index for g in games) == list(range(64))
    for game in games:
        position = Position.empty(rules=rules)
        for move in game.moves:
            assert position.legal_moves()[move]
            position = position.play(move)
        assert position.is_game_over
