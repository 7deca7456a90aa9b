"""bench/phases.py: A's margin by game phase, on hand-made games and match folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minigo.gtp_client import GTPEngine, find_gnugo

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "phases.py"

# Black's wall on column E, White's on column F: 45 points to 36, so Black wins by 1.5 with komi 7.5.
WALLS = "".join(f";B[e{c}]{'C[opening]' if i < 2 else ''};W[f{c}]{'C[opening]' if i < 2 else ''}"
                for i, c in enumerate("abcdefghi"))


def test_scores_are_read_from_black_s_point_of_view(bench_script):
    phases = bench_script("phases")
    assert phases.parse_margin("B+2.5") == 2.5
    assert phases.parse_margin("W+7.0 (upper bound: 3.0, lower: 11.0)") == -7.0
    assert phases.parse_margin("0") == 0.0
    for bad in ("B+R", "", "Jigo", "W+"):
        with pytest.raises(ValueError, match="not a score"):
            phases.parse_margin(bad)


def test_the_opening_is_the_moves_marked_so(bench_script):
    from minigo import sgf

    phases = bench_script("phases")
    assert phases.opening_length(sgf.read_sgf(f"(;SZ[9]{WALLS})")) == 4
    assert phases.opening_length(sgf.read_sgf("(;SZ[9];B[ee];W[dd])")) == 0


def test_swings_and_lead_changes_per_phase(bench_script):
    phases = bench_script("phases")
    game = phases.GameMargins
    games = [
        game(0, 1, [4, 20, 40, 60], [1.0, -2.0, -3.0, 5.5]),   # lost the lead by 20, won it back after 40
        game(1, -1, [4, 20, 33], [0.5, 3.0, -1.5]),             # ended at move 33: counts in 20-40, not after
        game(2, 1, [4, 15], [-2.0, -9.5]),                       # ended at move 15, inside the first phase
    ]
    table = phases.phase_table(games, [20, 40])
    assert [(p.start, p.end, p.games) for p in table] == [("opening", 20, 3), (20, 40, 2), (40, None, 1)]
    first, middle, last = table
    assert first.swing == pytest.approx((-3.0 + 2.5 - 7.5) / 3)
    assert (first.lead_lost, first.lead_won, first.a_ahead_after) == (1, 0, pytest.approx(1 / 3))
    assert middle.swing == pytest.approx((-1.0 - 4.5) / 2) and middle.low < middle.swing < middle.high
    assert (middle.lead_lost, middle.lead_won, middle.a_ahead_after) == (1, 0, 0.0)
    assert (last.swing, last.lead_won, last.a_ahead_after) == (8.5, 1, 1.0)


def _match(folder: Path, games: list[tuple[str, str]]) -> Path:
    (folder / "games").mkdir(parents=True)
    (folder / "match.json").write_text(json.dumps({"a": "mcts:x", "b": "gnugo:10"}), encoding="utf-8")
    for index, (result, moves) in enumerate(games):
        (folder / "games" / f"{index:05d}.sgf").write_text(
            f"(;FF[4]GM[1]SZ[9]KM[7.5]RU[Chinese]RE[{result}]{moves})", encoding="utf-8")
    return folder


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
def test_gnugo_reads_the_margins_from_a_s_side(tmp_path, bench_script):
    phases = bench_script("phases")
    folder = _match(tmp_path / "m", [("B+1.5", WALLS + ";B[];W[]"), ("B+1.5", WALLS + ";B[];W[]"), ("B+R", WALLS)])
    with GTPEngine.gnugo(level=1) as engine:
        black = phases.read_game(engine, folder / "games" / "00000.sgf", [20])
        white = phases.read_game(engine, folder / "games" / "00001.sgf", [20])
        assert phases.read_game(engine, folder / "games" / "00002.sgf", [20]) is None  # resigned: no margin
        summary = phases.measure(folder, engine, [10])
    assert black.moves == [4, 20] and black.margins[-1] == 1.5
    assert white.moves == [4, 20] and white.margins[-1] == -1.5
    assert white.margins[0] == -black.margins[0]  # the same position, seen from the other side
    assert (summary.games, summary.a_won, summary.skipped) == (2, 1, 1)
    assert summary.opening == "4 moves" and [p.games for p in summary.phases] == [2, 2]


def test_bad_input_is_one_line(tmp_path):
    for args, expected in (([str(tmp_path)], "not a match folder"), ([str(tmp_path), "--at", "40,20"], "--at")):
        done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and expected in done.stderr
        assert "Traceback" not in done.stderr
