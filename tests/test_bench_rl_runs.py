"""bench/rl_runs.py: stage-2 runs per baseline, their checks read back, pooled over seeds, and bad input refused."""

from __future__ import annotations

import json

import pytest

from models import checkpoint
from models.nets import NetConfig, build


def fake_run(folder, rates: dict[int, float], eval_games: int = 100) -> None:
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(f"[rl]\neval_games = {eval_games}\n")
    lines = []
    for iteration in range(1, max(rates) + 1):
        record = {"stage": "rl", "iteration": iteration, "win_rate": 0.5}
        if iteration in rates:
            record["win_rate_vs_sl"] = rates[iteration]
        lines.append(json.dumps(record))
    lines.insert(1, "not json")
    (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def test_checks_pool_over_seeds(bench_script, tmp_path, capsys):
    bench = bench_script("rl_runs")
    fake_run(tmp_path / "none-s0", {10: 0.60, 20: 0.70})
    fake_run(tmp_path / "none-s1", {10: 0.50, 20: 0.66, 30: 0.9})  # 30 is not in every seed: left out
    fake_run(tmp_path / "value-s0", {10: 0.70, 20: 0.80}, eval_games=300)
    fake_run(tmp_path / "value-s1", {10: 0.50, 20: 0.80})
    assert [c.iteration for c in bench.checks(tmp_path / "none-s1")] == [10, 20, 30]
    assert bench.main(["--sl", str(tmp_path), "--out", str(tmp_path), "--baselines", "none,value", "--seeds", "0,1",
                       "--no-train", "--json", str(tmp_path / "t.json")]) == 0
    table = json.loads((tmp_path / "t.json").read_text())["table"]
    assert [r["iteration"] for r in table["none"]] == [10, 20]
    assert table["none"][0]["win_rate"] == pytest.approx(0.55) and table["none"][0]["games"] == 200
    # pooled by games: (0.7 * 300 + 0.5 * 100) / 400
    assert table["value"][0]["win_rate"] == pytest.approx(0.65) and table["value"][0]["seeds"] == [0.7, 0.5]
    low, high = table["value"][1]["low"], table["value"][1]["high"]
    assert low < 0.8 < high
    out = capsys.readouterr().out
    assert "+10.0 pp vs none" in out and "+12.0 pp vs none" in out


def test_plot_is_drawn(bench_script, tmp_path):
    pytest.importorskip("matplotlib")
    bench = bench_script("rl_runs")
    fake_run(tmp_path / "none-s0", {10: 0.6, 20: 0.7})
    fake_run(tmp_path / "mean-s0", {10: 0.65, 20: 0.72})
    png = tmp_path / "plot.png"
    assert bench.main(["--sl", str(tmp_path), "--out", str(tmp_path), "--baselines", "none,mean", "--seeds", "0",
                       "--no-train", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--baselines", "none,average"], "unknown average"),
    (["--seeds", "0,x"], "comma-separated list of integers"),
    (["--seeds", ","], "--seeds is empty"),
    ([], "no SL policy"),
])
def test_bad_input_is_one_line_and_exit_2(bench_script, tmp_path, capsys, argv, message):
    bench = bench_script("rl_runs")
    with pytest.raises(SystemExit) as stop:
        bench.main(["--sl", str(tmp_path / "nowhere"), "--out", str(tmp_path), *argv])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_no_runs_to_read(bench_script, tmp_path, capsys):
    bench = bench_script("rl_runs")
    assert bench.main(["--sl", str(tmp_path), "--out", str(tmp_path), "--no-train"]) == 2
    assert "no stage-2 checks" in capsys.readouterr().err


@pytest.mark.slow
def test_trains_and_resumes_a_tiny_run(bench_script, tmp_path, capsys):
    bench = bench_script("rl_runs")
    net = NetConfig(board_size=9, filters=8, blocks=1)
    sl = tmp_path / "sl.safetensors"
    checkpoint.save(sl, build(net), net, stage="sl")
    argv = ["--sl", str(sl), "--out", str(tmp_path / "runs"), "--preset", "quick", "--baselines", "none,mean",
            "--seeds", "3", "--set", "rl.iterations=2", "--set", "rl.games_per_iteration=4", "--set",
            "rl.eval_every=1", "--set", "rl.eval_games=4", "--set", "rl.workers=1"]
    assert bench.main(argv) == 0
    first = capsys.readouterr().out
    assert "baseline mean   iteration    2:" in first and "of 4" in first
    config = (tmp_path / "runs" / "mean-s3" / "config.toml").read_text()
    assert 'baseline = "mean"' in config and "seed = 3" in config
    assert bench.main(argv) == 0  # done runs are read, not played again
    assert capsys.readouterr().out.splitlines()[-4:] == first.splitlines()[-4:]
