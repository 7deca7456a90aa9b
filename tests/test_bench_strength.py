"""bench/strength.py: its verdicts and its refusals (the matches themselves are ``minigo eval``'s, tested there)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "strength.py"


def _result(rate: float, scored: int):
    from selfplay.match_results import MatchResult

    return MatchResult(a="a", b="b", size=9, komi=7.5, ko="positional", seed=0, games=scored, scored=scored,
                       a_wins=0, a_losses=0, draws=0,
                       a_score=rate * scored, win_rate=rate, wilson=(0.0, 1.0), elo=0.0, elo_interval=(0.0, 0.0),
                       a_black_games=0, a_black_score=0.0, a_white_games=0, a_white_score=0.0, black_rate=0.5,
                       average_length=50.0, distinct_games=scored)


def test_verdicts_follow_the_targets(bench_script):
    bench = bench_script("strength")
    sl, lambda0, gnugo = (next(o for o in bench.OPPONENTS if o.key == k) for k in ("sl", "lambda0", "gnugo5"))
    assert bench.verdict(sl, _result(0.90, 200), 200) == "MET"  # "at least 90%"
    assert bench.verdict(sl, _result(0.895, 200), 200) == "BELOW"
    assert bench.verdict(lambda0, _result(0.50, 200), 200) == "BELOW"  # to beat is more than half
    assert bench.verdict(lambda0, _result(0.55, 40), 200) == "MET so far"
    assert bench.verdict(gnugo, _result(0.3, 200), 200) == "reported"
    assert bench.verdict(sl, None, 200) == "not played"
    assert bench.verdict(sl, _result(math.nan, 0), 200) == "not played"


def test_opponent_specs(bench_script):
    bench = bench_script("strength")
    specs = {o.key: o.spec("runs/x", "mcts:runs/x,playouts=400") for o in bench.OPPONENTS}
    assert specs == {"sl": "policy:runs/x", "lambda0": "mcts:runs/x,playouts=400,lambda=0",
                     "lambda1": "mcts:runs/x,playouts=400,lambda=1", "gnugo1": "gnugo:1", "gnugo5": "gnugo:5",
                     "gnugo10": "gnugo:10"}


def test_c_puct_goes_to_a_and_its_lambda_opponents(bench_script):
    bench = bench_script("strength")
    assert bench.mcts_spec("runs/x", 400) == "mcts:runs/x,playouts=400"
    a = bench.mcts_spec("runs/x", 400, 2.0)
    assert a == "mcts:runs/x,playouts=400,c_puct=2"
    lambda0 = next(o for o in bench.OPPONENTS if o.key == "lambda0")
    assert lambda0.spec("runs/x", a) == "mcts:runs/x,playouts=400,c_puct=2,lambda=0"
    from minigo.players import PlayerSpec

    assert PlayerSpec.parse(lambda0.spec("runs/x", a)).options == {"playouts": "400", "c_puct": "2", "lambda": "0"}


@pytest.mark.parametrize("args, words", [
    (["--only", "sl,bogus"], "unknown match bogus"),
    (["--games", "0"], "--games 0 is not a positive integer"),
    (["--c-puct", "0"], "--c-puct 0 is not a positive number"),
    (["--c-puct", "nan"], "--c-puct nan is not a positive number"),
    (["--c-puct", "abc"], "argument --c-puct: invalid float value: 'abc'"),
    (["--games", "many"], "argument --games: invalid int value: 'many'"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, words):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and words in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_run_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "nope")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "does not exist" in done.stderr


def test_a_run_without_checkpoints_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--only", "sl"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_table_shows_colours_and_distinct_games(bench_script):
    bench = bench_script("strength")
    sl = next(o for o in bench.OPPONENTS if o.key == "sl")
    lambda1 = next(o for o in bench.OPPONENTS if o.key == "lambda1")
    result = _result(0.6, 10)
    result = type(result)(**{**result.__dict__, "a_black_games": 5, "a_black_score": 5.0, "a_white_games": 5,
                             "a_white_score": 1.0, "distinct_games": 8})
    lines = bench.table([(sl, result), (lambda1, None)], 200, "mcts:runs/x,playouts=400")
    assert lines[0] == "A = mcts:runs/x,playouts=400"
    assert "A as B" in lines[1] and "distinct" in lines[1]
    assert "5/5" in lines[2] and "1/5" in lines[2] and " 8 " in lines[2] and "MET so far" not in lines[2]
    assert lines[2].endswith("BELOW so far") and lines[3].endswith("not played")
