"""bench/endings.py: how A's lost games ended, on hand-made match folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minigo.gtp_client import GTPEngine, find_gnugo

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "endings.py"

# Black's wall on column E, White's on column F: 45 points to 36, so Black wins by 1.5 with komi 7.5.
WALLS = "".join(f";B[e{c}];W[f{c}]" for c in "abcdefghi")


def _match(folder: Path, games: list[tuple[str, str]]) -> Path:
    """A match folder whose game i (A Black in even games) has ``(result, moves)``."""
    (folder / "games").mkdir(parents=True)
    (folder / "match.json").write_text(json.dumps({"a": "mcts:x", "b": "gnugo:10"}), encoding="utf-8")
    for index, (result, moves) in enumerate(games):
        (folder / "games" / f"{index:05d}.sgf").write_text(
            f"(;FF[4]GM[1]SZ[9]KM[7.5]RU[Chinese]RE[{result}]{moves})", encoding="utf-8")
    return folder


GAMES = [
    ("W+0.5", WALLS + ";B[];W[]"),              # 0, A Black: White passed with A ahead, yet A lost
    ("W+2.5", WALLS),                           # 1, A White: A won, no pass
    ("W+35.5", WALLS + ";B[];W[be];B[];W[]"),   # 2, A Black: behind on the board (White's dead stone at B5)
    ("B+R", WALLS),                             # 3, A White: lost with no pass
    ("W+0.5", WALLS + ";B[];W[be];B[];W[]"),    # 4, A Black, and the same position
    ("W+0.5", WALLS + ";B[];W[]"),              # 5, A White: Black passed with A behind and A won
]


def test_first_opponent_pass_gives_the_move_and_a_s_margin(bench_script):
    from minigo import sgf

    endings = bench_script("endings")
    record = sgf.read_sgf(f"(;SZ[9]KM[7.5]{WALLS};B[];W[be];B[];W[])")
    assert endings.first_opponent_pass(record, 1) == (22, 9 - 37 - 7.5)
    assert endings.first_opponent_pass(record, -1) == (19, 36 - 45 + 7.5)
    assert endings.first_opponent_pass(sgf.read_sgf(f"(;SZ[9]{WALLS})"), 1) is None


def test_losses_are_split_by_how_they_ended(tmp_path, bench_script):
    endings = bench_script("endings")
    counts = endings.audit(_match(tmp_path / "m", GAMES), engine=None)
    assert (counts.games, counts.a_lost) == (6, 4)
    assert (counts.lost_ahead, counts.lost_behind, counts.lost_no_pass) == (1, 2, 1)
    assert counts.won_from_behind == 1 and counts.won_lost is None


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
def test_gnugo_finds_the_won_game_that_playing_on_lost(tmp_path, bench_script):
    endings = bench_script("endings")
    with GTPEngine.gnugo(level=10) as engine:
        counts = endings.audit(_match(tmp_path / "m", GAMES), engine)
        # White's lone stone inside Black's area is dead: Black was winning by 1.5 when White passed.
        assert endings.gnugo_margin(engine, tmp_path / "m" / "games" / "00002.sgf", 22, 1) == 1.5
    assert counts.won_lost == 2


def test_a_folder_of_match_folders_and_a_bad_folder(tmp_path):
    _match(tmp_path / "strength" / "mcts-vs-a", GAMES[:2])
    _match(tmp_path / "strength" / "mcts-vs-b", GAMES[:1])
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "strength")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("mcts-vs-")]
    assert [row[:4] for row in rows] == [["mcts-vs-a", "2", "1", "1"], ["mcts-vs-b", "1", "1", "1"]]
    bad = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a match folder" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("match_json, words", [
    ("{", "not the JSON minigo eval writes"),
    ('{"a": "mcts:x"}', "not the JSON minigo eval writes"),
])
def test_a_broken_match_json_is_one_line_and_exit_2(tmp_path, match_json, words):
    folder = _match(tmp_path / "m", GAMES[:1])
    (folder / "match.json").write_text(match_json, encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and words in done.stderr, done.stderr


def test_an_unwritable_json_path_is_one_line_and_exit_2(tmp_path):
    folder = _match(tmp_path / "m", GAMES[:1])
    done = subprocess.run([sys.executable, str(SCRIPT), str(folder), "--json", str(tmp_path / "no" / "x.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot write --json" in done.stderr
