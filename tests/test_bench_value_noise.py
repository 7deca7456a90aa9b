"""bench/value_noise.py: the excess over the means' noise, by phase, for several nets on the same positions."""

from __future__ import annotations

import json

import numpy as np
import torch

from models import checkpoint
from models.nets import NetConfig, build


def test_excess_subtracts_the_means_own_noise(bench_script, tmp_path):
    bench = bench_script("value_noise")
    from minigo.go import Position

    config = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    net = build(config)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()  # v = 0 everywhere
    path = checkpoint.save(tmp_path / "value.safetensors", net, config)
    starts = [Position.empty(5), Position.empty(5).play(12)]
    z = np.array([[1, 1, -1, -1], [1, 1, 1, -1]], float)  # means 0 and 0.5
    floor_each = 4 * (1 - z.mean(axis=1) ** 2) / 3
    figures = bench.score_net(path, starts, z, floor_each)
    assert figures["mse"] == 1.0  # |v - z| = 1 for every single outcome
    assert figures["to_mean"] == (0 + 0.25) / 2
    assert np.isclose(figures["excess"], 0.125 - floor_each.mean() / 4)
    assert figures["phases"]["0-19"]["positions"] == 2


def test_bench_runs_on_a_tiny_run(bench_script, tmp_path):
    bench = bench_script("value_noise")
    torch.manual_seed(1)
    folder = tmp_path / "checkpoints"
    policy = NetConfig(board_size=5, filters=8, blocks=1)
    for name in ("sl_policy", "rl_policy"):
        checkpoint.save(folder / f"{name}.safetensors", build(policy), policy)
    value = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    a = checkpoint.save(tmp_path / "a.safetensors", build(value), value)
    b = checkpoint.save(tmp_path / "b.safetensors", build(value), value)
    args = [str(tmp_path), "--positions", "6", "--repeats", "3", "--value", str(a), "--value", str(b),
            "--json", str(tmp_path / "out.json"), "--cache", str(tmp_path / "positions.npz")]
    assert bench.main(args) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert [n["value"] for n in report["nets"]] == [str(a), str(b)] and report["floor"] >= 0
    # the cached positions give the very same figures (the nets scored later see what the first ones saw)
    again = args[:-4] + ["--json", str(tmp_path / "again.json"), "--cache", str(tmp_path / "positions.npz")]
    assert bench.main(again) == 0
    assert json.loads((tmp_path / "again.json").read_text()) == report
