"""The fast inference copy (models.inference): batch norm folded, channels-last, optional bf16 autocast.

fp32 must be the original net up to float rounding (measured: logits within 1e-6 here, 8e-6 on a trained policy
whose logits reach 25); bf16 must stay within the tolerances below on 200 positions of random games. The nets are
64 filters x 6 blocks, as played, with random batch norm statistics so that the folding has something to fold.
Measured under bf16 on these random nets: priors within 0.002; values, scores and ownership logits within 0.008;
the argmax changes only between near ties (leads under 1e-3). On a 64x6 SL policy early in training (not
available to the tests): priors within 0.011 on 800 positions, the argmax changed on 3 (leads under 0.002). The
tolerances leave about 2x over the trained net's figure.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minigo.go import Position
from models.checkpoint import Checkpoint
from models.evaluator import NetEvaluator
from models.features import batch_planes
from models.inference import fold_batch_norms, inference_copy
from models.nets import NetConfig, build

FP32_TOLERANCE = 1e-5
BF16_PRIORS = 0.02
"""Largest difference of a prior (probabilities over the legal moves) under bf16 autocast."""
BF16_VALUES = 0.02
"""Largest difference of a value (in [-1, 1]) or a score or ownership output under bf16 autocast."""
BF16_ARGMAX_LEAD = 0.02
"""The argmax must not change where the fp32 best move's prior leads the runner-up's by more than this."""


def random_net(kind: str, seed: int, **heads: bool) -> torch.nn.Module:
    """A 64x6 net in eval mode with random weights and random batch norm statistics and affine parameters."""
    torch.manual_seed(seed)
    net = build(NetConfig(kind=kind, board_size=9, filters=64, blocks=6, **heads)).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.5)
                module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.3)
    return net


@pytest.fixture(scope="module")
def positions() -> list[Position]:
    """200 positions of seeded random games (uniform over sensible moves), moves 0 to 79."""
    rng = np.random.default_rng(7)
    out = []
    while len(out) < 200:
        position = Position.empty(9, 7.5)
        stop = int(rng.integers(0, 80))
        while position.move_number < stop and not position.is_game_over:
            choices = np.flatnonzero(position.sensible_moves()[:-1])
            position = position.play(int(rng.choice(choices)) if len(choices) else position.pass_point)
        out.append(position)
    return out


@pytest.fixture(scope="module")
def planes(positions) -> torch.Tensor:
    return torch.from_numpy(batch_planes(positions, "alphago"))  # (200, 24, 9, 9)


@pytest.fixture(scope="module")
def legal(positions) -> torch.Tensor:
    return torch.from_numpy(np.stack([p.legal_moves() for p in positions]))  # (200, 82) bool


def priors_of(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits.float().masked_fill(~legal, float("-inf")), dim=1)


def test_folded_policy_equals_eager(planes):
    net = random_net("policy", 0)
    with torch.no_grad():
        expected = net(planes)
    torch.testing.assert_close(inference_copy(net)(planes), expected, atol=FP32_TOLERANCE, rtol=FP32_TOLERANCE)


def test_folded_value_net_equals_eager_in_forward_and_every_head(planes):
    net = random_net("value", 1, score_head=True, ownership_head=True)
    fast = inference_copy(net)
    with torch.no_grad():
        expected_value, expected_heads = net(planes), net.heads(planes)
    torch.testing.assert_close(fast(planes), expected_value, atol=FP32_TOLERANCE, rtol=FP32_TOLERANCE)
    heads = fast.heads(planes)
    assert set(heads) == {"value", "score", "ownership_logit"}
    for name, tensor in expected_heads.items():
        torch.testing.assert_close(heads[name], tensor, atol=FP32_TOLERANCE, rtol=FP32_TOLERANCE, msg=name)


def test_every_batch_norm_is_folded_into_a_convolution_with_bias():
    folded = fold_batch_norms(random_net("value", 2, ownership_head=True))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert all(m.bias is not None for m in folded.trunk.modules() if isinstance(m, torch.nn.Conv2d))


def test_the_original_net_is_left_as_it_was():
    net = random_net("policy", 3)
    before = {name: tensor.clone() for name, tensor in net.state_dict().items()}
    fast = inference_copy(net, "bf16")
    after = net.state_dict()
    assert list(after) == list(before)
    for name, tensor in before.items():
        assert torch.equal(after[name], tensor) and after[name].is_contiguous(), name
    assert not net.training and all(p.requires_grad for p in net.parameters())
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()) == 13
    assert fast.net is not net


def test_a_net_in_training_mode_is_refused():
    with pytest.raises(ValueError, match="eval mode"):
        inference_copy(random_net("policy", 4).train())


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision 'fp16'"):
        inference_copy(random_net("policy", 4), "fp16")


def test_bf16_policy_agrees_with_fp32_within_the_tolerance(planes, legal):
    net = random_net("policy", 1)  # a random net with clear preferences: every best move leads by > 0.02
    with torch.no_grad():
        expected = priors_of(net(planes), legal)
    best = expected.topk(2, dim=1).values
    assert bool((best[:, 0] - best[:, 1] > BF16_ARGMAX_LEAD).all())
    got = priors_of(inference_copy(net, "bf16")(planes), legal)
    assert float((got - expected).abs().max()) <= BF16_PRIORS
    assert torch.equal(got.argmax(1), expected.argmax(1))


def test_bf16_changes_the_argmax_only_between_near_ties(planes, legal):
    net = random_net("policy", 0)  # near-uniform priors: about one position in ten has its best two within 1e-4
    with torch.no_grad():
        expected = priors_of(net(planes), legal)
    got = priors_of(inference_copy(net, "bf16")(planes), legal)
    assert float((got - expected).abs().max()) <= BF16_PRIORS
    best = expected.topk(2, dim=1).values
    changed = got.argmax(1) != expected.argmax(1)
    assert bool((best[changed, 0] - best[changed, 1] <= BF16_ARGMAX_LEAD).all())


def test_bf16_value_net_agrees_with_fp32_within_the_tolerance(planes):
    net = random_net("value", 6, score_head=True, ownership_head=True)
    fast = inference_copy(net, "bf16")
    with torch.no_grad():
        expected = net.heads(planes)
    got = fast.heads(planes)
    for name, tensor in expected.items():
        assert got[name].dtype == torch.float32
        assert float((got[name] - tensor).abs().max()) <= BF16_VALUES, name
    assert float((fast(planes) - expected["value"]).abs().max()) <= BF16_VALUES


def checkpoints() -> tuple[Checkpoint, Checkpoint]:
    policy, value = random_net("policy", 7), random_net("value", 8, ownership_head=True)
    return Checkpoint(net=policy, config=policy.config), Checkpoint(net=value, config=value.config)


def test_evaluator_priors_and_values_agree_with_the_unfused_nets(positions, planes, legal):
    policy, value = checkpoints()
    priors, values = NetEvaluator(policy, value).evaluate(positions)
    with torch.no_grad():
        expected_priors = priors_of(policy.net(planes), legal).numpy()
        expected_values = value.net(planes).numpy()
    np.testing.assert_allclose(priors, expected_priors, atol=FP32_TOLERANCE, rtol=0)
    np.testing.assert_allclose(values, expected_values, atol=FP32_TOLERANCE, rtol=0)
    assert np.array_equal(priors.argmax(1), expected_priors.argmax(1))
    assert priors.dtype == np.float32 and values.dtype == np.float32


def test_evaluator_ownership_agrees_with_the_unfused_net(positions):
    policy, value = checkpoints()
    evaluator = NetEvaluator(policy, value)
    assert evaluator.has_ownership
    for position in positions[:20:5]:
        with torch.no_grad():
            logits = value.net.heads(torch.from_numpy(batch_planes([position], "alphago")))["ownership_logit"][0]
        expected = np.tanh(logits.numpy().astype(np.float64)) * position.to_play
        np.testing.assert_allclose(evaluator.ownership(position), expected, atol=FP32_TOLERANCE, rtol=0)


def test_bf16_evaluator_agrees_with_fp32_within_the_tolerance(positions):
    policy, value = checkpoints()
    priors, values = NetEvaluator(policy, value).evaluate(positions)
    priors_bf16, values_bf16 = NetEvaluator(policy, value, precision="bf16").evaluate(positions)
    assert np.abs(priors_bf16 - priors).max() <= BF16_PRIORS
    assert np.abs(values_bf16 - values).max() <= BF16_VALUES
    assert np.allclose(priors_bf16.sum(axis=1), 1, atol=1e-5)
    assert np.all(priors_bf16[~np.stack([p.legal_moves() for p in positions])] == 0)
