"""Stopping a training run with SIGKILL at any moment, then resuming it, completes it with nothing lost and
nothing counted twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minigo import sgf
from minigo.go import Position
from minigo.players import RandomPlayer
from minigo.record import GameRecord, Move

PRESET = """
[sl]
data = "{data}"
board_size = 5
filters = 8
blocks = 1
epochs = 4
batch_size = 64
rollout_epochs = 1
rollout_positions = 500
device = "cpu"

[rl]
iterations = 5
games_per_iteration = 8
pool_every = 2
eval_every = 5
eval_games = 8
workers = 2
device = "cpu"

[value]
games = 48
games_per_shard = 16
epochs = 2
workers = 2
device = "cpu"

[mcts]
playouts = 16
games = 4
opponents = "random"
workers = 2
"""


def write_games(folder: Path, count: int) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for number in range(count):
        player, pos, moves = RandomPlayer(rng), Position.empty(5), []
        while not pos.is_game_over:
            point = player.play(pos)
            moves.append(Move(pos.to_play, point))
            pos = pos.play(point)
        sgf.save(GameRecord(size=5, komi=7.5, moves=moves, result=pos.result()), folder / f"{number}.sgf")


def metrics(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def train(run: Path, preset: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "selfplay.cli", "train", "--preset", str(preset), "--run", str(run),
                             "--quiet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def kill_at(process: subprocess.Popen, condition, timeout: float = 240) -> None:
    """SIGKILL the process group of ``process`` as soon as ``condition()`` holds."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if condition():
            os.killpg(process.pid, signal.SIGKILL)  # the whole group: the trainer and its workers
            process.wait()
            return
        time.sleep(0.05)
    raise AssertionError(f"the condition never held (exit {process.poll()}): {process.communicate()[1][-2000:]}")


def kill_when(process: subprocess.Popen, run: Path, condition, timeout: float = 240) -> None:
    kill_at(process, lambda: condition(metrics(run)), timeout)


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return out


@pytest.mark.slow
def test_sigkill_in_sl_and_in_rl_then_resume_completes_the_run_once(tmp_path):
    write_games(tmp_path / "games", 30)
    preset = tmp_path / "tiny.toml"
    preset.write_text(PRESET.format(data=tmp_path / "games"))
    run = tmp_path / "run"
    kill_when(train(run, preset), run, lambda m: any(r["stage"] == "sl" and r["epoch"] >= 2 for r in m))
    kill_when(train(run, preset), run, lambda m: any(r["stage"] == "rl" and r["iteration"] >= 2 for r in m))
    final = train(run, preset)
    out, err = final.communicate(timeout=600)
    assert final.returncode == 0, err[-3000:]
    records = metrics(run)
    assert [r["epoch"] for r in records if r["stage"] == "sl"] == [1, 2, 3, 4]
    assert [r["iteration"] for r in records if r["stage"] == "rl"] == [1, 2, 3, 4, 5]
    assert [r["epoch"] for r in records if r["stage"] == "value"] == [1, 2]
    assert [r["opponent"] for r in records if r["stage"] == "mcts"] == ["random"]
    shards = sorted((run / "data").glob("value_games_*.npz"))
    assert len(shards) == 3
    assert "MCTS" in out and (run / "report" / "summary.md").exists()
    assert not list(run.rglob("*.tmp")) and not list(run.rglob(".*.tmp"))  # nothing half-written left behind


VALUE_EPOCHS, VALUE_SHARDS, MCTS_GAMES = 30, 4, 8
LATER_STAGES = ("--stages", "value,mcts", "--set", "value.games=64", "--set", "value.games_per_shard=16",
                "--set", f"value.epochs={VALUE_EPOCHS}", "--set", "value.batch_size=8",
                # k positions per game and both heads, one of them shaping the trunk: every path of the stage
                "--set", "value.positions_per_game=3", "--set", "value.heads=score,ownership",
                "--set", "value.ownership_weight=1.5",
                "--set", f"mcts.games={MCTS_GAMES}")
"""Stages value and mcts of PRESET, with enough shards, epochs and games that a kill lands inside each."""


def value_shards(run: Path) -> list[Path]:
    return sorted((run / "data").glob("value_games_*.npz"))


def mcts_games(run: Path) -> list[Path]:
    return sorted((run / "evals" / "mcts-vs-random" / "games").glob("*.sgf"))


@pytest.mark.slow
def test_sigkill_in_value_data_value_training_and_mcts_then_resume_equals_an_uninterrupted_run(tmp_path):
    import numpy as np

    write_games(tmp_path / "games", 30)
    preset = tmp_path / "tiny.toml"
    preset.write_text(PRESET.format(data=tmp_path / "games"))
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    finish(train(whole, preset, "--stages", "sl,rl"))
    shutil.copytree(whole, killed)  # both go on from the same finished sl and rl
    finish(train(whole, preset, *LATER_STAGES))

    def value_epochs(run: Path) -> list[int]:
        return [r["epoch"] for r in metrics(run) if r["stage"] == "value"]

    kill_at(train(killed, preset, *LATER_STAGES), lambda: len(value_shards(killed)) >= 1)
    assert 1 <= len(value_shards(killed)) < VALUE_SHARDS, "not stopped while making the value data"
    kill_when(train(killed, preset, *LATER_STAGES), killed, lambda m: any(r["stage"] == "value" for r in m))
    assert len(value_shards(killed)) == VALUE_SHARDS
    assert 1 <= max(value_epochs(killed)) < VALUE_EPOCHS, "not stopped while training the value net"
    kill_at(train(killed, preset, *LATER_STAGES), lambda: len(mcts_games(killed)) >= 1)
    assert value_epochs(killed) == list(range(1, VALUE_EPOCHS + 1))
    assert 1 <= len(mcts_games(killed)) < MCTS_GAMES, "not stopped while playing the MCTS match"
    assert "MCTS" in finish(train(killed, preset, *LATER_STAGES))

    for run in (whole, killed):
        records = metrics(run)
        assert value_epochs(run) == list(range(1, VALUE_EPOCHS + 1))  # every epoch, once
        assert [(r["opponent"], r["games"]) for r in records if r["stage"] == "mcts"] == [("random", MCTS_GAMES)]
        assert [p.name for p in mcts_games(run)] == [f"{i:05d}.sgf" for i in range(MCTS_GAMES)]  # no game twice
        result = json.loads((run / "evals" / "mcts-vs-random" / "result.json").read_text())
        assert result["games"] == MCTS_GAMES and not result["failed"]
        assert (run / "report" / "summary.md").exists()
        assert not list(run.rglob("*.tmp")) and not list(run.rglob(".*.tmp"))  # nothing half-written left behind
        seen: set[int] = set()
        for k, path in enumerate(value_shards(run)):
            with np.load(path) as shard:
                listed = shard["index"].tolist()
            ids = set(listed)
            assert len(ids) == len(listed)  # no game twice in a shard
            assert ids <= set(range(16 * k, 16 * (k + 1))) and not ids & seen  # each shard holds its own games
            seen |= ids
    # Each shard is seeded by its games, and the value net by its epoch: the stopped run made the same data and
    # trained the same net as the run that was never stopped.
    assert [p.name for p in value_shards(killed)] == [p.name for p in value_shards(whole)]
    for ours, theirs in zip(value_shards(killed), value_shards(whole), strict=True):
        with np.load(ours) as a, np.load(theirs) as b:
            for key in ("index", "moves", "random_move_at", "score"):
                assert np.array_equal(a[key], b[key]), f"{ours.name}: {key} differs from the uninterrupted run's"

    def mse(run: Path) -> list[float]:
        return [r[key] for r in metrics(run) if r["stage"] == "value"
                for key in ("train_mse", "val_mse", "val_mse_all", "val_score_mse", "val_ownership_loss")]

    assert mse(killed) == pytest.approx(mse(whole), rel=1e-5)
    # ... and so its MCTS player (seeded per game, like its opponent) played the very same games.
    for ours, theirs in zip(mcts_games(killed), mcts_games(whole), strict=True):
        assert sgf.load(ours).moves == sgf.load(theirs).moves, f"{ours.name} differs from the uninterrupted run's"


def test_full_disk_while_training_is_one_line_and_keeps_what_was_written(tmp_path, monkeypatch, capsys):
    import errno

    from minigo import atomic
    from selfplay import cli

    write_games(tmp_path / "games", 12)
    preset = tmp_path / "tiny.toml"
    preset.write_text(PRESET.format(data=tmp_path / "games"))
    run = tmp_path / "run"
    assert cli.main(["train", "--preset", str(preset), "--run", str(run), "--stages", "sl", "--set", "sl.epochs=1",
                     "--set", "sl.rollout_epochs=0", "--quiet"]) == 0
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != "log.txt"}
    real = atomic.write_atomic
    calls = {"n": 0}

    def fills_up(path, data):
        calls["n"] += 1
        if calls["n"] > 2:  # config.toml and the first metrics line go through; then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    for module in ("minigo.atomic", "models.checkpoint", "selfplay.sl", "selfplay.pipeline", "selfplay.resume"):
        monkeypatch.setattr(f"{module}.write_atomic", fills_up, raising=False)
    code = cli.main(["train", "--preset", str(preset), "--run", str(run), "--stages", "sl", "--set", "sl.epochs=2",
                     "--set", "sl.rollout_epochs=0", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0]
    for path, data in before.items():
        if path.name not in ("config.toml", "metrics.jsonl"):
            assert path.read_bytes() == data, f"{path} changed"
    from models import checkpoint

    assert checkpoint.load(run / "checkpoints" / "sl_policy.safetensors").step == 1


@pytest.mark.slow
def test_sigkill_during_value_data_on_ray_then_resume_equals_the_local_farms_run(tmp_path, monkeypatch):
    """Issue 21's fault test at the run's level: the trainer (Ray's driver, which started its own local cluster) is
    killed while its actors make the value data; the resumed run, on Ray again, holds the very games the local
    farm makes without a stop."""
    import numpy as np

    pytest.importorskip("ray", reason="the Ray backend needs Ray (pip install -e '.[ray]')")
    monkeypatch.setenv("MINIGO_CACHE", str(tmp_path / "shipped"))  # the actors' copies of the shipped nets
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    write_games(tmp_path / "games", 30)
    preset = tmp_path / "tiny.toml"
    preset.write_text(PRESET.format(data=tmp_path / "games"))
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    finish(train(local, preset, "--stages", "sl,rl"))
    shutil.copytree(local, on_ray)
    value_only = ("--stages", "value", "--set", "value.games=64", "--set", "value.games_per_shard=16",
                  "--set", "value.epochs=1")
    finish(train(local, preset, *value_only))
    kill_at(train(on_ray, preset, *value_only, "--farm", "ray"), lambda: len(value_shards(on_ray)) >= 1,
            timeout=300)
    assert 1 <= len(value_shards(on_ray)) < VALUE_SHARDS, "not stopped while making the value data"
    finish(train(on_ray, preset, *value_only, "--farm", "ray"))
    assert [p.name for p in value_shards(on_ray)] == [p.name for p in value_shards(local)]
    for ours, theirs in zip(value_shards(on_ray), value_shards(local), strict=True):
        with np.load(ours) as a, np.load(theirs) as b:
            for key in ("index", "moves", "random_move_at", "score"):
                assert np.array_equal(a[key], b[key]), f"{ours.name}: {key} differs from the local farm's"
    assert [r["epoch"] for r in metrics(on_ray) if r["stage"] == "value"] == [1]
    assert not list(on_ray.rglob("*.tmp")) and not list(on_ray.rglob(".*.tmp"))
