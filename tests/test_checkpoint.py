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


def write_version_1(path, net: torch.nn.Module, config: NetConfig) -> None:
    """A checkpoint as minigo wrote it before value-net heads (format 1): no head fields in its net config."""
    fields = {k: v for k, v in config.to_dict().items() if k not in ("score_head", "ownership_head")}
    metadata = {"format": "minigo-checkpoint", "format_version": "1", "kind": config.kind,
                "net_config": json.dumps(fields), "board_size": str(config.board_size), "feature_set": "alphago",
                "feature_version": "1", "stage": "value", "step": "3", "parent": "", "metrics": "{}",
                "extra": "{}", "created": ""}
    path.write_bytes(st_save({k: v.contiguous() for k, v in net.state_dict().items()}, metadata=metadata))


def test_a_format_1_value_checkpoint_still_loads_as_a_net_without_heads(tmp_path):
    config = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    torch.manual_seed(1)
    net = build(config).eval()
    write_version_1(tmp_path / "value.safetensors", net, config)
    loaded = checkpoint.load(tmp_path / "value.safetensors", kind="value")
    assert loaded.config == config and not loaded.config.ownership_head and loaded.step == 3
    x = torch.from_numpy(batch_planes([Position.empty(5).play(12)]))
    assert torch.equal(loaded.net(x), net(x))


def test_heads_round_trip_and_an_unknown_format_is_refused(tmp_path):
    config = NetConfig(kind="value", board_size=5, filters=8, blocks=1, score_head=True, ownership_head=True)
    path = checkpoint.save(tmp_path / "value.safetensors", build(config), config)
    assert checkpoint.load(path, kind="value").config == config
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
    tensors = checkpoint.load(path).net.state_dict()
    metadata["format_version"] = "9"
    path.write_bytes(st_save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata))
    with pytest.raises(CheckpointError, match="checkpoint format 9, this minigo reads 1 and 2"):
        checkpoint.load(path)


def test_a_run_folder_with_a_format_1_value_net_plays(tmp_path):
    from minigo.arena import play_game
    from minigo.go import Rules
    from minigo.players import RandomPlayer
    from selfplay.player_kinds import make_player as make_any_player

    torch.manual_seed(2)
    checkpoint.save(tmp_path / "checkpoints" / "sl_policy.safetensors", build(TINY), TINY)
    config = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    write_version_1(tmp_path / "checkpoints" / "value.safetensors", build(config), config)
    player = make_any_player(f"mcts:{tmp_path},playouts=16,batch=4,seed=1")
    assert player.config.mixing == 0.5  # the value net is in use
    record = play_game(player, RandomPlayer(np.random.default_rng(0)), Rules(size=5))
    assert record.result and len(record.moves) > 4
