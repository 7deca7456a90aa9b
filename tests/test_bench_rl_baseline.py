"""bench/rl_baseline.py: the per-game gradient it measures is stage 2's, and it runs end to end on a tiny run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from minigo.go import Rules
from models import checkpoint
from models.losses import reinforce_loss
from models.nets import NetConfig, build, masked_log_softmax
from selfplay.rl import current_moves
from selfplay.workers import SelfPlayGame

RULES = Rules(size=5)
POLICY = NetConfig(board_size=5, filters=8, blocks=1)


def test_per_game_gradient_is_minus_the_stage_2_loss_gradient(bench_script):
    bench = bench_script("rl_baseline")
    torch.manual_seed(0)
    policy = build(POLICY).eval()
    game = SelfPlayGame(0, moves=[12, 6, 8, 16, 18, 25, 25], score=4.5, black="current", white="opponent")
    batch = current_moves([game], "current", RULES, "alphago")
    b = np.array([0.2, -0.4, 0.1, 0.3], np.float32)[:len(batch.z)]
    [ours] = bench.per_game_gradients(policy, [batch], [b])
    policy.zero_grad()
    logp = masked_log_softmax(policy(torch.from_numpy(batch.x).float()), torch.from_numpy(batch.legal))
    taken = logp.gather(1, torch.from_numpy(batch.moves)[:, None]).squeeze(1)
    reinforce_loss(taken, torch.from_numpy(batch.z), torch.from_numpy(b)).backward()
    stage2 = -torch.cat([p.grad.reshape(-1) for p in policy.parameters()]).numpy()
    assert np.allclose(ours, stage2, atol=1e-5)


def test_statistics_of_known_gradients(bench_script):
    bench = bench_script("rl_baseline")
    grads = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 2.0], [2.0, -2.0]])  # mean (2, 0)
    figures = bench.statistics(grads)
    assert figures["mean_sq_norm"] == 4.0 and figures["variance"] == (1 + 1 + 4 + 4) / 4
    # |mean|^2 carries the noise sigma^2 / n; the signal takes it off (sigma^2 estimated as variance * n / (n - 1))
    assert figures["signal"] == pytest.approx(4.0 - 2.5 / 3)
    assert figures["snr"] == pytest.approx(figures["signal"] / (2.5 / 4))


def test_bench_runs_on_a_tiny_run(bench_script, tmp_path, capsys):
    bench = bench_script("rl_baseline")
    torch.manual_seed(1)
    folder = tmp_path / "checkpoints"
    for name in ("sl_policy", "rl_policy"):
        checkpoint.save(folder / f"{name}.safetensors", build(POLICY), POLICY)
    value = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    checkpoint.save(folder / "rl_baseline.safetensors", build(value), value)
    assert bench.main([str(tmp_path), "--games", "6", "--json", str(tmp_path / "out.json")]) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert set(report["baselines"]) == {"none", "mean", "value (rl_baseline)"}
    assert all(f["variance"] > 0 for f in report["baselines"].values())
    assert "SNR of a 6-game batch" in capsys.readouterr().out
