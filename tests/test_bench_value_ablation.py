"""bench/value_ablation.py: rows read like --set, share one set of games, and end in one table."""

from __future__ import annotations

import json

import pytest
import torch

from models import checkpoint
from models.nets import NetConfig, build
from selfplay.value import ValueConfig


def test_a_row_is_a_name_and_value_settings(bench_script):
    bench = bench_script("value_ablation")
    base = ValueConfig(games=100, epochs=3)
    name, config = bench.parse_row("k4-own:positions_per_game=4,heads=ownership,ownership_weight=1.5", base)
    assert name == "k4-own" and config.count == 4 and config.head_names == ("ownership",)
    assert config.ownership_weight == 1.5 and config.games == 100 and config.epochs == 3  # the rest from base
    with pytest.raises(Exception, match="value.heads"):
        bench.parse_row("bad:heads=wings", base)


def test_two_rows_train_on_the_same_games_and_make_one_table(bench_script, tmp_path):
    bench = bench_script("value_ablation")
    torch.manual_seed(0)
    policy = NetConfig(board_size=5, filters=8, blocks=1)
    for name in ("sl_policy", "rl_policy"):
        checkpoint.save(tmp_path / "checkpoints" / f"{name}.safetensors", build(policy), policy)
    rows = ["one:positions_per_game=1,heads=none,workers=1,u_max=8,games_per_shard=8,batch_size=8,device=\"cpu\"",
            "three:positions_per_game=3,heads=ownership,workers=1,u_max=8,games_per_shard=8,batch_size=8,"
            "device=\"cpu\""]
    args = [str(tmp_path), "--games", "16", "--epochs", "1", "--positions", "4", "--repeats", "2"]
    assert bench.main(args + [x for row in rows for x in ("--row", row)]) == 0
    table = json.loads((tmp_path / "ablation" / "table.json").read_text())
    assert [r["row"] for r in table] == ["one", "three"]
    assert all("excess" in r and r["val_mse"] >= 0 for r in table)
    assert sorted(p.name for p in (tmp_path / "data").glob("value_games_*.npz")) == ["value_games_00000.npz",
                                                                                      "value_games_00001.npz"]
