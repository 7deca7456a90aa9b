"""Networks' shapes, and checkpoints: round trip, atomic writes and every refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from minigo.go import Position
from models import checkpoint
from models.checkpoint import CheckpointError
from models.features import batch_planes
from models.nets import NetConfig, PolicyNet, ValueNet, build, masked_log_softmax

TINY = NetConfig(kind="policy", board_size=5, filters=8, blocks=1)


@pytest.mark.parametrize("size", [5, 9, 13])
def test_policy_and_value_nets_fit_any_board_size(size):
    x = torch.from_numpy(batch_planes([Position.empty(size), Position.empty(size).play(0)]))
    policy = PolicyNet(NetConfig(board_size=size, filters=8, blocks=1)).eval()
    value = ValueNet(NetConfig(kind="value", board_size=size, filters=8, blocks=1)).eval()
    assert policy(x).shape == (2, size * size + 1)
    v = value(x)
    assert v.shape == (2,) and bool(((v >= -1) & (v <= 1)).all())


def test_masked_log_softmax_gives_illegal_moves_no_probability():
    logits = torch.tensor([[5.0, 1.0, 0.0]])
    legal = torch.tensor([[False, True, True]])
    p = masked_log_softmax(logits, legal).exp()
    assert p[0, 0] == 0 and torch.isclose(p.sum(), torch.tensor(1.0))


def test_net_config_refuses_bad_values():
    with pytest.raises(ValueError, match="net kind"):
        NetConfig(kind="critic")
    with pytest.raises(ValueError, match="board size 21"):
        NetConfig(board_size=21)
    with pytest.raises(ValueError, match="unknown feature set"):
        NetConfig(feature_set="nope")
    with pytest.raises(ValueError, match="filters"):
        NetConfig(filters=0)


def test_round_trip_rebuilds_the_same_net(tmp_path):
    torch.manual_seed(0)
    net = build(TINY)
    path = checkpoint.save(tmp_path / "sl.safetensors", net, TINY, stage="sl", step=7, parent="none",
                           metrics={"val_top1": 0.42})
    loaded = checkpoint.load(path, kind="policy", board_size=5, feature_set="alphago")
    assert loaded.config == TINY and loaded.step == 7 and loaded.stage == "sl"
    assert loaded.metrics == {"val_top1": pytest.approx(0.42)}
    x = torch.from_numpy(batch_planes([Position.empty(5).play(12)]))
    net.eval()
    assert torch.allclose(net(x), loaded.net(x))
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind


def test_truncated_file_is_refused_with_its_name(tmp_path):
    path = checkpoint.save(tmp_path / "a.safetensors", build(TINY), TINY)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="a.safetensors: .*(truncated|not a readable)"):
        checkpoint.load(path)


def test_non_finite_weights_are_refused_at_save_and_at_load(tmp_path):
    net = build(TINY)
    with torch.no_grad():
        net.point_head.weight.fill_(float("nan"))
    with pytest.raises(CheckpointError, match="not finite"):
        checkpoint.save(tmp_path / "nan.safetensors", net, TINY)
    assert not (tmp_path / "nan.safetensors").exists()
    # A NaN file written by something else is refused at load.
    good = checkpoint.save(tmp_path / "good.safetensors", build(TINY), TINY)
    meta = checkpoint.read_metadata(good)
    tensors = {k: v.clone() for k, v in build(TINY).state_dict().items()}
    tensors["point_head.weight"].fill_(float("inf"))
    (tmp_path / "inf.safetensors").write_bytes(st_save(tensors, metadata=meta))
    with pytest.raises(CheckpointError, match="point_head.weight is not finite"):
        checkpoint.load(tmp_path / "inf.safetensors")


def test_wrong_kind_size_or_feature_set_is_refused(tmp_path):
    path = checkpoint.save(tmp_path / "p.safetensors", build(TINY), TINY)
    with pytest.raises(CheckpointError, match="a policy network, expected a value network"):
        checkpoint.load(path, kind="value")
    with pytest.raises(CheckpointError, match="trained for 5x5, expected 9x9"):
        checkpoint.load(path, board_size=9)
    with pytest.raises(CheckpointError, match="feature set 'alphago', expected 'raw'"):
        checkpoint.load(path, feature_set="raw")


def test_other_files_are_refused(tmp_path):
    plain = tmp_path / "plain.safetensors"
    plain.write_bytes(st_save({"w": torch.zeros(2)}))
    with pytest.raises(CheckpointError, match="not a minigo checkpoint"):
        checkpoint.load(plain)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        checkpoint.load(junk)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        checkpoint.load(tmp_path / "missing.safetensors")


def test_feature_version_mismatch_is_refused(tmp_path):
    path = checkpoint.save(tmp_path / "p.safetensors", build(TINY), TINY)
    meta = checkpoint.read_metadata(path)
    meta["feature_version"] = "99"
    (tmp_path / "old.safetensors").write_bytes(st_save(dict(build(TINY).state_dict()), metadata=meta))
    with pytest.raises(CheckpointError, match="version 99"):
        checkpoint.load(tmp_path / "old.safetensors")


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    path = checkpoint.save(tmp_path / "p.safetensors", build(TINY), TINY)
    meta = checkpoint.read_metadata(path)
    meta["net_config"] = json.dumps({**TINY.to_dict(), "filters": 16})
    (tmp_path / "bad.safetensors").write_bytes(st_save(dict(build(TINY).state_dict()), metadata=meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.load(tmp_path / "bad.safetensors")


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = checkpoint.save(tmp_path / "p.safetensors", build(TINY), TINY, step=1)
    import os

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, build(TINY), TINY, step=2)
    monkeypatch.undo()
    assert checkpoint.load(path).step == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.safetensors"]


def test_optimizer_state_round_trips_without_pickle(tmp_path):
    torch.manual_seed(0)
    net = build(TINY)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.from_numpy(batch_planes([Position.empty(5)]))
    for _ in range(3):
        opt.zero_grad()
        net(x).sum().backward()
        opt.step()
    path = checkpoint.save_optimizer(tmp_path / "p.optim.safetensors", opt)
    fresh = torch.optim.Adam(net.parameters(), lr=1.0)
    checkpoint.load_optimizer(path, fresh)
    assert fresh.param_groups[0]["lr"] == 1e-3
    a, b = opt.state_dict()["state"][0], fresh.state_dict()["state"][0]
    assert torch.equal(a["exp_avg"], b["exp_avg"]) and float(a["step"]) == float(b["step"])
    assert checkpoint.optimizer_path(tmp_path / "sl.safetensors").name == "sl.optim.safetensors"
    assert np.isfinite(float(b["step"]))
