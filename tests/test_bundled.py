"""The bundled model: ``mcts:bundled`` / ``policy:bundled`` name it anywhere, its files are checked against
SHA256SUMS, another board size is one line, and ``minigo gtp`` / ``play`` default to it when it is installed."""

from __future__ import annotations

import hashlib

import pytest
import torch

from minigo.go import Position
from minigo.players import PlayerSpecError
from minigo.rollout import NUM_FEATURES
from models import bundled, checkpoint
from models.nets import NetConfig, build
from models.run_layout import RunLayout
from selfplay import cli
from selfplay.player_kinds import make_player


@pytest.fixture
def tiny_bundle(tmp_path, monkeypatch):
    """A stand-in for models/bundled/9x9 with tiny random 9x9 nets and their checksums."""
    torch.manual_seed(0)
    layout = RunLayout(tmp_path / "9x9")
    policy = NetConfig(board_size=9, filters=8, blocks=1)
    value = NetConfig(kind="value", board_size=9, filters=8, blocks=1, ownership_head=True)
    for path, config in ((layout.sl_policy, policy), (layout.rl_policy, policy), (layout.value, value)):
        checkpoint.save(path, build(config), config)
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  checkpoints/{p.name}"
            for p in sorted(layout.checkpoints.glob("*.safetensors"))]
    (layout.root / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    monkeypatch.setattr(bundled, "BUNDLED_ROOT", layout.root)
    return layout


def test_bundled_names_the_shipped_nets_for_both_kinds(tiny_bundle):
    player = make_player("mcts:bundled,playouts=8,batch=4")
    assert player.board_size == 9 and player.config.mixing == bundled.BUNDLED_LAMBDA  # the measured winner
    assert player.ownership(Position.empty(9)).shape == (81,)  # the value net's map, whatever the mix
    assert make_player("mcts:bundled,playouts=8,lambda=0.5").config.mixing == 0.5
    position = Position.empty(9)
    assert position.is_legal(make_player("policy:bundled").play(position))


def test_a_damaged_bundled_file_is_one_line_naming_it_and_how_to_reinstall(tiny_bundle):
    with tiny_bundle.value.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(PlayerSpecError, match=r"value.safetensors is damaged .*reinstall minigo"):
        make_player("mcts:bundled")
    tiny_bundle.value.unlink()
    with pytest.raises(PlayerSpecError, match=r"value.safetensors is missing: reinstall"):
        make_player("policy:bundled")


def test_no_bundle_installed_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "BUNDLED_ROOT", tmp_path / "nothing")
    with pytest.raises(PlayerSpecError, match="no bundled model in this install"):
        make_player("mcts:bundled")


def test_the_bundled_model_on_another_board_is_one_line(tiny_bundle, capsys):
    assert cli.main(["gtp", "--player", "mcts:bundled", "--size", "13"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minigo gtp: the bundled model plays 9x9, not 13x13: train one for 13x13")
    assert len(err.splitlines()) == 1


def test_gtp_without_a_player_plays_the_bundled_model(tiny_bundle, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("name\ngogui-analyze_commands\nquit\n"))
    assert cli.main(["gtp"]) == 0
    out = capsys.readouterr().out
    assert "gfx/Ownership/minigo-ownership" in out  # the bundled MCTS player, with its value net's map


def test_without_a_bundle_the_default_is_random_and_says_how_to_get_a_real_one(tmp_path, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(bundled, "BUNDLED_ROOT", tmp_path / "nothing")
    monkeypatch.setattr(sys, "stdin", io.StringIO("genmove b\nquit\n"))
    assert cli.main(["gtp"]) == 0
    err = capsys.readouterr().err
    assert "playing random" in err and "minigo train --preset quick" in err


def test_a_run_becomes_a_bundle_that_the_players_accept(tmp_path, monkeypatch):
    from selfplay.bundle import main as bundle_main

    torch.manual_seed(1)
    run = RunLayout(tmp_path / "run")
    policy = NetConfig(board_size=9, filters=8, blocks=1)
    value = NetConfig(kind="value", board_size=9, filters=8, blocks=1, ownership_head=True)
    rollout_config = NetConfig(kind="rollout", board_size=9, rollout_features=NUM_FEATURES)
    for path, config in ((run.sl_policy, policy), (run.rl_policy, policy), (run.value, value),
                         (run.rollout, rollout_config)):
        checkpoint.save(path, build(config), config, stage=config.kind, metrics={"val_mse": 0.5})
    run.metrics.write_text('{"stage": "rl", "iteration": 10, "win_rate_vs_sl": 0.7}\n')
    out = tmp_path / "bundle"
    assert bundle_main([str(run.root), "--out", str(out)]) == 0
    card = (out / "CARD.md").read_text()
    assert "70.0% at iteration 10" in card and "ownership" in card
    (out / "CARD.md").write_text(card + "\nHow it was made: by hand.\n")
    assert bundle_main([str(run.root), "--out", str(out)]) == 0  # remade: the notes below the marker stay
    assert (out / "CARD.md").read_text().endswith("How it was made: by hand.\n")
    monkeypatch.setattr(bundled, "BUNDLED_ROOT", out)
    assert make_player("mcts:bundled,playouts=8,batch=4").board_size == 9
    assert bundle_main([str(tmp_path / "nothing"), "--out", str(out)]) == 2
