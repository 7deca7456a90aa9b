"""The losses, checked against hand-worked numbers (the lecture notes' REINFORCE example)."""

from __future__ import annotations

import torch

from models.losses import policy_cross_entropy, reinforce_loss, value_mse


def test_reinforce_reproduces_the_lecture_notes_worked_example():
    # 1-D walk, logistic policy P(R|x) = sigmoid(w x + b), w = b = 0 (uniform). One trajectory
    # [(0,R), (.3,R), (1.6,L), (.2,R), (1.3,R)] with reward -1 per step: returns-to-go -5, -4, -3, -2, -1.
    # The notes work out g = sum_t R_t grad log pi(a_t|x_t) = (0.95, -4.5).
    theta = torch.zeros(2, requires_grad=True)  # (w, b)
    xs = torch.tensor([0.0, 0.3, 1.6, 0.2, 1.3])
    right = torch.tensor([True, True, False, True, True])
    returns = torch.tensor([-5.0, -4.0, -3.0, -2.0, -1.0])
    logit = theta[0] * xs + theta[1]
    log_probs = torch.where(right, torch.nn.functional.logsigmoid(logit), torch.nn.functional.logsigmoid(-logit))
    reinforce_loss(log_probs, returns).backward()
    g = -theta.grad
    assert torch.allclose(g, torch.tensor([0.95, -4.5]))


def test_baseline_shifts_the_returns_without_carrying_gradient():
    theta = torch.zeros(1, requires_grad=True)
    log_probs = torch.nn.functional.logsigmoid(theta.expand(3) + torch.tensor([0.0, 1.0, 2.0]))
    baseline = torch.tensor([0.5, 0.5, 0.5], requires_grad=True)
    loss = reinforce_loss(log_probs, torch.tensor([1.0, 1.0, 1.0]), baseline, normaliser=3)
    loss.backward()
    assert baseline.grad is None
    expected = -(0.5 * torch.sigmoid(-torch.tensor([0.0, 1.0, 2.0]))).sum() / 3
    assert torch.allclose(theta.grad, expected.unsqueeze(0))


def test_policy_cross_entropy_ignores_illegal_moves():
    logits = torch.tensor([[10.0, 0.0, 0.0]])
    legal = torch.tensor([[False, True, True]])
    loss = policy_cross_entropy(logits, legal, torch.tensor([1]))
    assert torch.isclose(loss, torch.log(torch.tensor(2.0)))


def test_value_mse():
    assert torch.isclose(value_mse(torch.tensor([0.5, -1.0]), torch.tensor([1.0, -1.0])), torch.tensor(0.125))
