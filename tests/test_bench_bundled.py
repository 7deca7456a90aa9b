"""bench/bundled.py: its rounds, its refusals, and a small real ladder against GNU Go (the matches themselves are
``minigo eval``'s, tested there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minigo.gtp_client import find_gnugo

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bundled.py"
ROOT = SCRIPT.parents[1]


def test_rounds_grow_every_match_together_by_pairs(bench_script):
    ladder = bench_script("bundled")
    assert ladder.rounds(200, 100, 20) == [(20 * i, 10 * i) for i in range(1, 11)]
    steps = ladder.rounds(30, 100, 20)
    assert steps[-1] == (30, 100) and all(other % 2 == 0 for _, other in steps)
    assert ladder.rounds(4, 2, 20) == [(4, 2)]


def test_the_rungs_and_the_target(bench_script):
    ladder = bench_script("bundled")
    assert [(r.key, r.a, r.level) for r in ladder.RUNGS] == [
        ("gnugo10", "player", 10), ("gnugo5", "player", 5), ("gnugo1", "player", 1), ("rl", "rl", 1),
        ("sl", "sl", 1)]
    assert [r.key for r in ladder.RUNGS if r.target is not None] == ["gnugo10"] and ladder.LEVEL10_TARGET == 0.9
    assert ladder.bundled_sl_spec().endswith("sl_policy.safetensors")


@pytest.mark.parametrize("args, words", [
    (["--only", "sl,bogus"], "unknown match bogus"),
    (["--games", "0"], "--games 0 is not a positive integer"),
    (["--others", "-1"], "--others -1 is not a positive integer"),
    (["--games", "many"], "argument --games: invalid int value: 'many'"),
    (["--player", "mcts:bundled,bogus=1", "--only", "gnugo1"], "bogus"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, words):
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
def test_a_small_ladder_plays_prints_and_resumes(tmp_path):
    command = [sys.executable, str(SCRIPT), "--only", "rl,sl", "--games", "2", "--others", "2", "--workers", "2",
               "--out", str(tmp_path / "ladder"), "--json", str(tmp_path / "ladder.json")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "RL policy vs GNU Go level 1" in done.stdout and "SL policy vs GNU Go level 1" in done.stdout
    figures = json.loads((tmp_path / "ladder.json").read_text())
    assert figures["players"]["rl"] == "policy:bundled"
    for key in ("rl", "sl"):
        match = figures["matches"][key]
        assert match["scored"] == 2 and match["b"] == "gnugo:1" and match["verdict"] == "reported"
        assert len(list((tmp_path / "ladder" / key / "games").glob("*.sgf"))) == 2
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert again.returncode == 0 and "played in" not in again.stdout  # nothing left to play


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
def test_thinking_time_counts_a_moves_but_the_first():
    from selfplay.move_timing import thinking_time, timed_game

    seconds = timed_game("random", 1, True, 3)
    assert len(seconds) > 10 and all(0 <= s < 1 for s in seconds)
    mean, moves = thinking_time("random", 1, 2, 2, 3)
    assert 0 <= mean < 1 and moves > 20
