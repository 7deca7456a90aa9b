"""Training examples and stage 1: split by game, symmetries, a tiny run that learns, NaN stop, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from minigo.go import Position
from minigo.players import RandomPlayer
from minigo.record import GameRecord, Move
from models import checkpoint
from models.features import planes, point_maps, transform
from models.nets import NetConfig, build
from selfplay import sl
from selfplay.examples import RANDOM_OPENING, augment, build_examples, split_by_game
from selfplay.run_folder import TrainingError


def random_games(count: int, size: int = 5, seed: int = 0, opening: int = 0) -> list[GameRecord]:
    """Games of the random player (a stand-in expert: the plumbing is what is tested)."""
    rng = np.random.default_rng(seed)
    games = []
    for _ in range(count):
        player = RandomPlayer(rng)
        pos = Position.empty(size)
        moves = []
        while not pos.is_game_over:
            point = player.play(pos)
            moves.append(Move(pos.to_play, point, RANDOM_OPENING if len(moves) < opening else ""))
            pos = pos.play(point)
        games.append(GameRecord(size=size, komi=7.5, moves=moves, result=pos.result()))
    return games


def test_examples_skip_random_opening_moves():
    games = random_games(3, opening=2)
    examples = build_examples(games)
    assert len(examples) == sum(len(g.moves) - 2 for g in games)
    first = games[0]
    positions = list(first.positions())
    assert np.array_equal(examples.planes[0], planes(positions[2]).astype(np.uint8))
    assert examples.moves[0] == first.moves[2].point


def test_split_is_by_game(rng):
    examples = build_examples(random_games(10))
    train, val = split_by_game(examples, 0.2, rng)
    assert len(train) + len(val) == len(examples)
    assert not set(train.games) & set(val.games)
    assert len(set(val.games)) == 2


def test_augment_moves_planes_masks_and_moves_together():
    examples = build_examples(random_games(2, size=7))
    x, legal, moves = augment(examples.planes, examples.legal, examples.moves, np.random.default_rng(5))
    which = np.random.default_rng(5).integers(8, size=len(moves))  # the symmetries augment drew
    assert len(set(which)) == 8
    maps = point_maps(7)
    for i in range(len(moves)):
        k = which[i]
        assert np.array_equal(transform(examples.planes[i], k), x[i])
        assert moves[i] == maps[k, examples.moves[i]]
        assert legal[i, moves[i]]
        assert legal[i].sum() == examples.legal[i].sum()


def test_tiny_run_overfits_its_training_games(tmp_path):
    torch.manual_seed(0)
    games = random_games(12, size=5, seed=1)
    config = sl.SLConfig(board_size=5, filters=32, blocks=2, epochs=25, batch_size=32, lr=5e-3, weight_decay=0,
                         symmetries=False, rollout_epochs=0, validation=0.1)
    result = sl.run(config, tmp_path, games=games, progress=False)
    ckpt = checkpoint.load(result.policy, kind="policy", board_size=5)
    examples = build_examples(games)
    train, _ = split_by_game(examples, config.validation, np.random.default_rng(config.seed))
    assert 250 <= len(train) <= 600
    _, train_top1 = sl.evaluate(ckpt.net, train, 256, torch.device("cpu"))
    last = checkpoint.load(sorted((tmp_path / "checkpoints" / "resume").glob("sl_0*[0-9].safetensors"))[-1])
    _, last_top1 = sl.evaluate(last.net, train, 256, torch.device("cpu"))
    assert last_top1 > 0.9
    assert train_top1 > 0.2  # the best-by-validation epoch also learned something
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == list(range(1, 26))


def test_nan_loss_stops_training_and_saves_nothing(tmp_path, monkeypatch):
    games = random_games(4)
    monkeypatch.setattr(sl.F, "nll_loss", lambda *a, **k: torch.tensor(float("nan"), requires_grad=True))
    config = sl.SLConfig(board_size=5, filters=8, blocks=1, epochs=1, rollout_epochs=0)
    with pytest.raises(TrainingError, match="loss became nan"):
        sl.run(config, tmp_path, games=games, progress=False)
    assert not list((tmp_path / "checkpoints").glob("*.safetensors"))


def test_stopped_run_resumes_after_its_last_epoch(tmp_path):
    games = random_games(6)
    base = dict(board_size=5, filters=8, blocks=1, batch_size=64, rollout_epochs=0)
    sl.run(sl.SLConfig(epochs=2, **base), tmp_path, games=games, progress=False)
    sl.run(sl.SLConfig(epochs=3, **base), tmp_path, games=games, progress=False)
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]
    points = sorted((tmp_path / "checkpoints" / "resume").glob("sl_0*[0-9].safetensors"))
    assert [checkpoint.load(p).step for p in points] == [2, 3]  # the two newest are kept


def test_damaged_resume_point_falls_back_to_the_one_before(tmp_path, caplog):
    games = random_games(6)
    base = dict(board_size=5, filters=8, blocks=1, batch_size=64, rollout_epochs=0)
    sl.run(sl.SLConfig(epochs=2, **base), tmp_path, games=games, progress=False)
    newest = tmp_path / "checkpoints" / "resume" / "sl_000002.safetensors"
    newest.write_bytes(newest.read_bytes()[:200])  # truncated on disk
    with caplog.at_level("WARNING"):
        sl.run(sl.SLConfig(epochs=3, **base), tmp_path, games=games, progress=False)
    assert "cannot resume from" in caplog.text and "sl_000002.safetensors" in caplog.text
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]  # epoch 2 was done again, and counted once


def test_bf16_training_follows_the_fp32_loss_and_learns(tmp_path):
    games = random_games(12, size=5, seed=1)
    examples = build_examples(games)
    torch.manual_seed(0)
    net = build(NetConfig(board_size=5, filters=16, blocks=1)).eval()
    x = torch.from_numpy(examples.planes[:128]).float()
    legal, moves = torch.from_numpy(examples.legal[:128]), torch.from_numpy(examples.moves[:128])
    with torch.no_grad():
        fp32, bf16 = (float(sl.policy_loss(net, x, legal, moves, p)) for p in ("fp32", "bf16"))
    assert bf16 != fp32 and bf16 == pytest.approx(fp32, abs=0.02)  # autocast is on, and bf16 rounding is small
    base = dict(board_size=5, filters=16, blocks=1, epochs=6, batch_size=32, lr=5e-3, weight_decay=0,
                symmetries=False, rollout_epochs=0)
    losses = {}
    for precision in ("fp32", "bf16"):
        sl.run(sl.SLConfig(precision=precision, **base), tmp_path / precision, games=games, progress=False)
        lines = [json.loads(x) for x in (tmp_path / precision / "metrics.jsonl").read_text().splitlines()]
        losses[precision] = [r["train_loss"] for r in lines]
    assert losses["bf16"][-1] < losses["bf16"][0] - 0.3  # it learns ...
    assert losses["bf16"] == pytest.approx(losses["fp32"], abs=0.1)  # ... along fp32's curve


@pytest.mark.parametrize("field,value", [("epochs", 0), ("validation", 1.5), ("lr", -1.0), ("device", "tpu"),
                                         ("precision", "fp16")])
def test_bad_config_values_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"sl.{field}"):
        sl.SLConfig(**{field: value})
