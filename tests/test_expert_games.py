"""Expert games (``selfplay.expert_games``, ``expert_game``, ``expert_store``, ``game_import``): the level
schedule, one game against a scripted engine, the store that writes games and drops duplicates, a real GNU Go
run (resume, pack/unpack), import of SGF folders and archives, and the command line's one-line errors."""

from __future__ import annotations

import gzip
import json
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from minigo.coords import from_gtp, to_sgf
from minigo.go import BLACK, WHITE, Position, Rules, board_from_string
from minigo.gtp_client import EngineDied, GTPError, find_gnugo
from minigo.record import GameRecord, Move
from minigo.sgf import load, write_sgf
from selfplay import cli, expert_game, expert_games, expert_store
from selfplay.expert_game import (
    DUPLICATE,
    ENGINE_FAILURE,
    ILLEGAL,
    OPENING_COMMENT,
    play_expert_game,
    random_opening_move,
)
from selfplay.expert_game import ExpertOutcome as GameOutcome
from selfplay.expert_game import ExpertTask as GameTask
from selfplay.expert_games import ExpertGamesConfig, game_seed, level_schedule, parse_levels, spread_levels
from selfplay.expert_store import GameStore
from selfplay.game_import import load_games

needs_gnugo = [
    pytest.mark.gnugo,
    pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)"),
]

# ----------------------------------------------------------------------------------------------- schedule


def test_default_levels_are_1000_at_level_10_and_4000_spread_over_1_to_9():
    counts = parse_levels(expert_games.DEFAULT_LEVELS)
    assert counts[10] == 1000
    assert [counts[level] for level in range(1, 10)] == [445] * 4 + [444] * 5
    assert sum(counts.values()) == 5000
    assert ExpertGamesConfig(out=Path("x")).schedule().shape == (5000,)


def test_a_level_named_twice_adds_up():
    assert parse_levels("3:2, 2-3:4") == {2: 2, 3: 4}


@pytest.mark.parametrize("text", ["", "10", "10:", "a:3", "1-:3", "11:5", "0-11:5", "5-2:3", "1:0", "-1:3"])
def test_malformed_levels_are_refused_naming_the_text(text):
    with pytest.raises(ValueError, match="levels"):
        parse_levels(text)


def test_games_spreads_the_levels_in_the_same_proportions():
    counts = spread_levels(parse_levels(expert_games.DEFAULT_LEVELS), 50)
    assert sum(counts.values()) == 50
    assert counts[10] == 10
    assert all(4 <= counts[level] <= 5 for level in range(1, 10))
    config = ExpertGamesConfig(out=Path("x"), games=7)
    assert len(config.schedule()) == 7


def test_schedule_is_deterministic_and_depends_on_the_seed():
    counts = parse_levels(expert_games.DEFAULT_LEVELS)
    first = level_schedule(counts, seed=0)
    np.testing.assert_array_equal(first, level_schedule(counts, seed=0))
    assert not np.array_equal(first, level_schedule(counts, seed=1))
    assert Counter(first.tolist()) == Counter(counts)


def test_every_prefix_of_the_schedule_holds_each_level_in_proportion():
    counts = parse_levels(expert_games.DEFAULT_LEVELS)
    total = sum(counts.values())
    schedule = level_schedule(counts, seed=3)
    for length in (10, 50, 137, 500, 1000, 2500, 4999):
        prefix = Counter(schedule[:length].tolist())
        for level, count in counts.items():
            assert abs(prefix[level] - length * count / total) <= 2.5, (length, level)
    assert len(set(schedule[:15].tolist())) >= 6  # shuffled, not in blocks


def test_game_seeds_are_deterministic_distinct_and_positive():
    seeds = [game_seed(0, index) for index in range(1000)]
    assert seeds == [game_seed(0, index) for index in range(1000)]
    assert len(set(seeds)) == 1000
    assert all(1 <= seed < 2**31 - 1 for seed in seeds)
    assert game_seed(1, 0) != game_seed(0, 0)


@pytest.mark.parametrize("field, value, message", [
    ("size", 4, "size 4"), ("size", 20, "size 20"), ("workers", 0, "workers 0"), ("games", 0, "games 0"),
    ("levels", "1:2,x", "levels"),
])
def test_config_refuses_bad_values_naming_them(field, value, message):
    with pytest.raises(ValueError, match=message):
        ExpertGamesConfig(out=Path("x"), **{field: value})


# ----------------------------------------------------------------------------------------------- one game


def test_random_opening_moves_stay_off_the_edge_and_never_fill_an_eye(rng):
    position = board_from_string("""
        . . . . . . .
        . . X . . . .
        . X . X . . .
        . . X . . . .
        . . . . . . .
        . . . . . . .
        . . . . . . .
    """)
    eye = 2 * 7 + 2  # C5: black on all four sides
    chosen = {random_opening_move(position, rng) for _ in range(400)}
    assert eye not in chosen
    for point in chosen:
        row, col = divmod(point, 7)
        assert 1 <= row <= 5 and 1 <= col <= 5
        assert position.board[point] == 0
    assert len(chosen) == 25 - 4 - 1  # every other interior point is drawn


def test_no_opening_move_is_left_on_a_full_interior(rng):
    position = Position.empty(size=5).with_setup(black=[6, 8, 12, 16, 18], white=[7, 11, 13, 17], to_play=BLACK)
    assert random_opening_move(position, rng) is None


class ScriptedEngine:
    """A GTP engine that answers ``genmove`` from a script and records every command it gets."""

    def __init__(self, moves, final_score="", fail_on=None, refuse_play=False):
        self.moves = list(moves)
        self.final_score = final_score
        self.fail_on = fail_on
        self.refuse_play = refuse_play
        self.commands = []

    def send(self, command, timeout=None):
        self.commands.append(command)
        if self.fail_on is not None and command.startswith(self.fail_on):
            raise EngineDied("GNU Go closed its output")
        if command.startswith("play") and self.refuse_play:
            raise GTPError(command, "illegal move", "GNU Go")
        if command.startswith("genmove"):
            return self.moves.pop(0)
        if command == "final_score":
            return self.final_score
        return ""


RULES_5 = Rules(size=5, komi=0.5)


def _seed_with_opening(count: int, most: int = 3) -> int:
    """A game seed whose game draws ``count`` random opening moves."""
    for seed in range(1, 1000):
        if np.random.default_rng(seed).integers(0, most + 1) == count:
            return seed
    raise AssertionError("no seed found")


def test_a_game_is_played_to_two_passes_and_scored_by_our_rules():
    engine = ScriptedEngine(["C3", "PASS", "pass"], final_score="B+24.5")
    task = GameTask(index=4, level=7, seed=_seed_with_opening(0))
    outcome = play_expert_game(engine, task, RULES_5, "GNU Go 3.8 level 7")
    assert outcome.dropped == ""
    record = outcome.record
    assert [m.point for m in record.moves] == [from_gtp("C3", 5), 25, 25]
    assert record.result == "B+24.5" == record.final_position().result()
    assert record.black == record.white == "GNU Go 3.8 level 7"
    assert record.rules == "Chinese"
    assert "game 4, level 7" in record.comment and "0 random opening moves" in record.comment
    assert engine.commands[:3] == ["level 7", "clear_board", f"set_random_seed {task.seed}"]
    assert engine.commands[-1] == "final_score"


def test_random_opening_moves_are_played_on_both_boards_and_commented():
    task = GameTask(index=0, level=1, seed=_seed_with_opening(2))
    engine = ScriptedEngine(["pass", "pass"])
    record = play_expert_game(engine, task, RULES_5, "p").record
    assert [m.comment for m in record.moves] == [OPENING_COMMENT, OPENING_COMMENT, "", ""]
    assert [m.color for m in record.moves] == [BLACK, WHITE, BLACK, WHITE]
    plays = [command for command in engine.commands if command.startswith("play")]
    assert plays[0].startswith("play black") and plays[1].startswith("play white")
    assert "2 random opening moves" in record.comment


def test_a_resignation_is_the_result():
    engine = ScriptedEngine(["C3", "resign"])
    record = play_expert_game(engine, GameTask(0, 1, _seed_with_opening(0)), RULES_5, "p").record
    assert record.result == "B+R"  # White resigned
    assert "final_score" not in engine.commands


def test_a_move_our_rules_refuse_drops_the_game():
    engine = ScriptedEngine(["C3", "C3"])
    outcome = play_expert_game(engine, GameTask(0, 1, _seed_with_opening(0)), RULES_5, "p")
    assert outcome.record is None and outcome.dropped == ILLEGAL
    assert "occupied" in outcome.detail


def test_an_opening_move_gnugo_refuses_drops_the_game():
    engine = ScriptedEngine([], refuse_play=True)
    outcome = play_expert_game(engine, GameTask(0, 1, _seed_with_opening(1)), RULES_5, "p")
    assert outcome.dropped == ILLEGAL


def test_an_engine_that_dies_mid_game_drops_the_game():
    engine = ScriptedEngine(["C3"], fail_on="genmove white")
    outcome = play_expert_game(engine, GameTask(0, 1, _seed_with_opening(0)), RULES_5, "p")
    assert outcome.record is None and outcome.dropped == ENGINE_FAILURE
    assert "genmove white" in outcome.detail


# ----------------------------------------------------------------------------------------------- the store


def _game(points, level=1, index=0, seed=11, size=5):
    moves = [Move(BLACK if k % 2 == 0 else WHITE, point) for k, point in enumerate(points)]
    record = GameRecord(size=size, komi=0.5, moves=moves, result="B+0.5", black="g", white="g", rules="Chinese",
                        comment=expert_game.root_comment(GameTask(index, level, seed), 0, "B+0.5", 1.0))
    return GameOutcome(worker=0, task=GameTask(index, level, seed), record=record, seconds=1.0)


def test_identical_games_are_dropped_and_their_index_moves_to_its_next_seed(tmp_path):
    store = GameStore(tmp_path, 5)
    assert store.add(_game([12, 13, 25, 25], index=0)) == "written"
    assert store.add(_game([12, 13, 25, 25], index=3)) == DUPLICATE
    assert store.add(_game([12, 7, 25, 25], index=4)) == "written"
    assert sorted(p.name for p in (tmp_path / "games").iterdir()) == ["000000.sgf", "000004.sgf"]
    resumed = GameStore(tmp_path, 5)
    assert set(resumed.games) == {0, 4}
    assert resumed.attempts(3) == 1 and resumed.attempts(1) == 0
    assert resumed.pending(6) == [1, 2, 3, 5]  # index 3 is played again, with its next seed
    assert resumed.skipped == set()
    # a game identical to one written by an earlier session is caught too
    assert resumed.add(_game([12, 7, 25, 25], index=5)) == DUPLICATE
    assert resumed.dropped_counts() == Counter({DUPLICATE: 2})
    assert resumed.add(_game([6, 7, 25, 25], index=3, seed=99)) == "written"
    assert resumed.handled(3) and resumed.games[3].seed == 99


def test_an_index_is_left_empty_once_its_seeds_are_used_up(tmp_path):
    store = GameStore(tmp_path, 5)
    assert store.add(_game([12, 13, 25, 25], index=0)) == "written"
    for attempt in range(expert_store.SEEDS_PER_INDEX):
        assert not store.handled(1)
        assert store.add(_game([12, 13, 25, 25], index=1, seed=100 + attempt)) == DUPLICATE
    assert store.handled(1) and store.skipped == {1}
    assert GameStore(tmp_path, 5).skipped == {1}
    assert "Indices left empty (every seed dropped): 1." in expert_store.write_card(tmp_path).read_text()


def test_replacement_seeds_differ_and_keep_the_first_one():
    assert game_seed(0, 7) == game_seed(0, 7, 0)
    seeds = {game_seed(0, 7, k) for k in range(expert_store.SEEDS_PER_INDEX)}
    assert len(seeds) == expert_store.SEEDS_PER_INDEX and all(1 <= seed < 2**31 - 1 for seed in seeds)


def test_a_game_lost_to_the_engine_is_played_again_on_resume(tmp_path):
    store = GameStore(tmp_path, 5)
    lost = GameOutcome(0, GameTask(2, 1, 5), None, ENGINE_FAILURE, "GNU Go died")
    assert store.add(lost) == ENGINE_FAILURE
    resumed = GameStore(tmp_path, 5)
    assert not resumed.handled(2)
    assert resumed.dropped_counts()[ENGINE_FAILURE] == 1


def test_card_reports_levels_and_drops(tmp_path):
    store = GameStore(tmp_path, 5)
    store.add(_game([12], index=0, level=3))
    store.add(_game([12], index=1, level=3))
    card = expert_store.write_card(tmp_path).read_text()
    assert "| 3 | - | 1 |" in card
    assert "1 duplicates" in card


# ----------------------------------------------------------------------------------------------- GNU Go runs


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    if find_gnugo() is None:
        pytest.skip("GNU Go is not installed (apt-get install gnugo)")
    out = tmp_path_factory.mktemp("expert") / "run"
    config = ExpertGamesConfig(out=out, size=7, levels="1:6", workers=2, seed=5)
    summary = expert_games.run_expert_games(config, progress=False)
    return config, summary


@pytest.mark.gnugo
def test_a_tiny_run_writes_valid_games_that_replay_to_their_result(tiny_run):
    config, summary = tiny_run
    files = sorted((config.out / "games").glob("*.sgf"))
    # a duplicate is replayed with its index's next seed, so every index ends up with a game
    assert summary.written == len(files) == 6
    dropped = json.loads((config.out / "dropped.json").read_text())["dropped"] if summary.dropped else []
    assert len(dropped) == sum(summary.dropped.values())
    for path in files:
        index = int(path.stem)
        record = load(path)
        assert record.size == 7 and record.komi == 7.5 and record.rules == "Chinese"
        assert record.black == record.white and record.black.endswith("level 1")
        attempt = sum(1 for entry in dropped if entry["index"] == index and entry["reason"] != ENGINE_FAILURE)
        seed = game_seed(config.seed, index, attempt)
        assert f"game {index}, level 1, seed {seed}," in record.comment
        final = record.final_position()  # every move legal under our rules
        if not record.result.endswith("+R"):
            assert record.result == final.result()
            assert final.is_game_over
        opening = [move for move in record.moves if move.comment == OPENING_COMMENT]
        assert record.moves[: len(opening)] == opening  # the random moves come first
        assert f"{len(opening)} random opening move" in record.comment
        for move in opening:
            row, col = divmod(move.point, 7)
            assert 1 <= row <= 5 and 1 <= col <= 5
    card = (config.out / "CARD.md").read_text()
    assert "GNU Go 3.8" in card and "komi 7.5" in card and "| 1 | 6 |" in card


@pytest.mark.gnugo
def test_rerunning_the_same_command_plays_nothing_new(tiny_run):
    config, _ = tiny_run
    before = {path.name: path.stat().st_mtime_ns for path in (config.out / "games").iterdir()}
    summary = expert_games.run_expert_games(config, progress=False)
    assert summary.written == 0 and summary.dropped == {}
    assert {path.name: path.stat().st_mtime_ns for path in (config.out / "games").iterdir()} == before


@pytest.mark.gnugo
def test_pack_and_unpack_round_trip(tiny_run, tmp_path):
    config, _ = tiny_run
    bundle = tmp_path / "games.sgf.gz"
    count = expert_store.pack_games(config.out, bundle)
    files = sorted((config.out / "games").glob("*.sgf"))
    assert count == len(files)
    assert gzip.decompress(bundle.read_bytes()).decode() == "".join(path.read_text() for path in files)
    written, kept = expert_store.unpack_games(bundle, tmp_path / "copy")
    assert (written, kept) == (count, 0)
    for path in files:
        assert (tmp_path / "copy" / "games" / path.name).read_text() == path.read_text()
    assert expert_store.unpack_games(bundle, tmp_path / "copy") == (0, count)
    assert (tmp_path / "copy" / "CARD.md").exists()


@pytest.mark.gnugo
def test_gnugo_missing_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(expert_games, "find_gnugo", lambda: None)
    assert cli.main(["expert-games", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "apt-get install gnugo" in err


# ----------------------------------------------------------------------------------------------- import


def _sgf(size=9, moves=("dd", "ee"), extra=""):
    nodes = "".join(f";{'B' if k % 2 == 0 else 'W'}[{move}]" for k, move in enumerate(moves))
    return f"(;FF[4]GM[1]SZ[{size}]KM[7.5]{extra}{nodes})\n"


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "sgfs"
    (root / "deep" / "deeper").mkdir(parents=True)
    (root / "a.sgf").write_text(_sgf())
    (root / "deep" / "b.sgf").write_text(_sgf(moves=("cc",)) + _sgf(moves=("gg", "cc")))  # a collection
    (root / "deep" / "deeper" / "c.SGF").write_text(_sgf(size=19))
    (root / "handicap.sgf").write_text(_sgf(extra="HA[2]AB[cc][gg]", moves=()))
    (root / "setup.sgf").write_text(_sgf(extra="AB[ff]"))
    (root / "broken.sgf").write_text("(;FF[4]SZ[9];B[dd]")
    (root / "illegal.sgf").write_text(_sgf(moves=("dd", "dd")))
    (root / "encoding.sgf").write_bytes(_sgf(extra="CA[UTF-8]PB[\xe9]").encode("latin-1"))
    (root / "notes.txt").write_text("not a game")
    return root


def test_a_folder_is_read_recursively_and_skips_are_counted(tmp_path):
    games, skipped = load_games(_folder(tmp_path), size=9)
    assert len(games) == 3
    assert (skipped.wrong_size, skipped.handicap, skipped.unreadable) == (1, 2, 3)
    assert all(game.size == 9 for game in games)


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tgz"])
def test_archives_are_read_like_folders(tmp_path, kind):
    root = _folder(tmp_path)
    archive = tmp_path / f"games.{kind}"
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as out:
            for path in files:
                out.write(path, path.relative_to(root).as_posix())
    else:
        with tarfile.open(archive, "w:gz") as out:
            for path in files:
                out.add(path, path.relative_to(root).as_posix())
    games, skipped = load_games(archive)
    assert len(games) == 3 and (skipped.wrong_size, skipped.handicap, skipped.unreadable) == (1, 2, 3)


def test_a_collection_and_a_gzipped_collection_are_read(tmp_path):
    text = _sgf() + _sgf(size=7) + _sgf(moves=("aa",))
    plain = tmp_path / "all.sgf"
    plain.write_text(text)
    packed = tmp_path / "all.sgf.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        games, skipped = load_games(path)
        assert len(games) == 2 and skipped.wrong_size == 1
    games, _ = load_games(plain, size=7)
    assert len(games) == 1
    broken = tmp_path / "broken.sgf.gz"
    broken.write_bytes(b"not gzip")
    assert load_games(broken)[1].unreadable == 1


def test_a_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_games(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty.*no SGF files"):
        load_games(tmp_path / "empty")


def test_games_read_back_as_written(tmp_path):
    record = GameRecord(size=9, moves=[Move(BLACK, 40), Move(WHITE, 41, "hi")], result="W+R")
    (tmp_path / "one.sgf").write_text(write_sgf(record))
    games, _ = load_games(tmp_path)
    assert games[0].moves == record.moves and to_sgf(games[0].moves[0].point, 9) == "ee"


# ----------------------------------------------------------------------------------------------- command line


@pytest.mark.parametrize("flags, named", [
    (["--size", "4"], "--size 4"), (["--size", "20"], "--size 20"), (["--levels", "10:5,x"], "--levels"),
    (["--levels", "12:5"], "level 12"), (["--workers", "0"], "--workers 0"), (["--games", "0"], "--games 0"),
    (["--games", "many"], "--games 'many'"),
])
def test_bad_flags_are_one_line_and_exit_2(capsys, tmp_path, flags, named):
    assert cli.main(["expert-games", "--out", str(tmp_path / "run"), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err
    assert not (tmp_path / "run").exists()


def test_unpacking_something_that_is_not_a_bundle_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.sgf.gz"
    bad.write_bytes(gzip.compress(b"(;FF[4]SZ[9];B[dd])"))  # no "game N" root comment
    assert cli.main(["expert-games", "--out", str(tmp_path / "run"), "--unpack", str(bad)]) == 2
    assert "root comment" in capsys.readouterr().err


def test_bundled_games_load_replay_and_have_a_card():
    """The expert games shipped in the package: 9x9, komi 7.5, legal, results matching our scoring."""
    from selfplay.game_import import bundled_games_path, load_games

    path = bundled_games_path(9)
    card = path.with_suffix("").with_suffix(".md")
    assert card.exists(), f"{card} (how the bundled games were made) is missing"
    games, skipped = load_games(path, size=9)
    assert skipped.total == 0
    assert len(games) >= 5000  # the set: at least 5,000 games, 1,000 of them at level 10
    assert sum(g.black.endswith("level 10") for g in games) >= 1000
    assert len({expert_game.game_key(g) for g in games}) == len(games)
    assert {g.size for g in games} == {9} and {g.komi for g in games} == {7.5}
    levels = {g.black for g in games}
    assert any("level 10" in name for name in levels) and any("level 1" == name[-7:] for name in levels)
    for record in games[:: max(1, len(games) // 40)]:
        final = record.final_position()
        if not record.result.endswith("+R"):
            assert final.result() == record.result


@pytest.mark.gnugo
def test_duplicates_in_a_real_run_are_replayed_until_every_index_has_a_game(tmp_path):
    if find_gnugo() is None:
        pytest.skip("GNU Go is not installed (apt-get install gnugo)")
    # 5x5 at level 1 with no random opening: GNU Go repeats itself often (10 duplicates in 16 games with seed 1)
    config = ExpertGamesConfig(out=tmp_path / "run", size=5, levels="1:16", workers=2, seed=1, max_opening_moves=0)
    summary = expert_games.run_expert_games(config, progress=False)
    dropped = json.loads((config.out / "dropped.json").read_text())["dropped"]
    assert summary.dropped.get(DUPLICATE, 0) == len(dropped) > 0
    assert summary.written == summary.on_disk == 16
    keys = set()
    for index in range(16):
        record = load(config.out / "games" / f"{index:06d}.sgf")
        attempt = sum(1 for entry in dropped if entry["index"] == index)
        assert f"seed {game_seed(config.seed, index, attempt)}," in record.comment
        keys.add(expert_game.game_key(record))
    assert len(keys) == 16
    again = expert_games.run_expert_games(config, progress=False)
    assert again.written == 0 and again.dropped == {}
