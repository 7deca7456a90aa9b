"""Measuring strength (selfplay.stats, .matches, .ladder): Wilson and Elo against hand-worked values, the SPRT,
Bradley-Terry on synthetic tables, colour alternation and seeds, a killed GNU Go, matches that resume and repeat,
ladders, the command line."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from minigo.go import Rules
from minigo.gtp_client import find_gnugo
from minigo.players import GnuGoPlayer, RandomPlayer
from minigo.record import GameRecord
from minigo.sgf import load, save
from selfplay import ladder, matches
from selfplay.cli import main
from selfplay.ladder import LadderConfig
from selfplay.match_results import GameSummary, a_score, format_match, summarize
from selfplay.matches import MatchConfig, MatchError, game_seeds, game_task, play_task, serve
from selfplay.stats import SPRT, bradley_terry, elo_from_score, score_from_elo, wilson_interval

needs_gnugo = pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
Z = 1.959963984540054

# ------------------------------------------------------------------------------------------------ statistics


def test_wilson_interval_matches_hand_worked_values():
    # 75 of 100, z = 1.96: centre (0.75 + z^2/200) / (1 + z^2/100) = 0.740749,
    # half-width z sqrt(0.75 * 0.25 / 100 + z^2 / 40000) / (1 + z^2/100) = 0.083796
    low, high = wilson_interval(75, 100)
    assert low == pytest.approx(0.656955, abs=1e-6) and high == pytest.approx(0.824548, abs=1e-6)
    # 50 of 100 is symmetric: half-width z sqrt(0.0025 + z^2/40000) / (1 + z^2/100) = 0.096168
    assert wilson_interval(50, 100) == pytest.approx((0.403832, 0.596168), abs=1e-6)
    # a clean sweep of 10: the upper end is exactly 1, the lower one z^2/10 / (1 + z^2/10) below it
    assert wilson_interval(10, 10) == (pytest.approx(1 - (Z * Z / 10) / (1 + Z * Z / 10)), 1.0)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.277533, abs=1e-6))
    # draws count half: 7 wins and 1 draw of 10 is a score of 7.5, p = 0.75, n = 10: centre
    # (0.75 + z^2/20) / (1 + z^2/10) = 0.680617, half-width z sqrt(0.01875 + z^2/400) / (1 + z^2/10) = 0.238435
    assert wilson_interval(7.5, 10) == pytest.approx((0.442181, 0.919052), abs=1e-6)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_elo_from_score_matches_hand_worked_values():
    assert elo_from_score(0.5) == 0.0
    assert elo_from_score(0.75) == pytest.approx(400 * math.log10(3))  # odds 3:1 -> +190.8
    assert elo_from_score(10 / 11) == pytest.approx(400.0)  # odds 10:1 is 400 Elo by definition
    assert elo_from_score(1 / 11) == pytest.approx(-400.0)
    assert elo_from_score(1.0) == math.inf and elo_from_score(0.0) == -math.inf
    assert score_from_elo(400.0) == pytest.approx(10 / 11)
    for elo in (-250.0, 0.0, 35.0, 700.0):
        assert elo_from_score(score_from_elo(elo)) == pytest.approx(elo)


def test_sprt_matches_hand_worked_log_likelihood_ratios():
    sprt = SPRT(0, 35)  # Leela Zero's gate
    s1 = 1 / (1 + 10 ** (-35 / 400))  # 0.550199
    assert sprt.llr(10, 0, 0) == pytest.approx(10 * math.log(s1 / 0.5))  # 0.9567
    assert sprt.llr(0, 0, 1) == pytest.approx(math.log((1 - s1) / 0.5))  # -0.1058
    assert sprt.llr(0, 2, 0) == pytest.approx(sprt.llr(1, 0, 1))  # a draw is half a win and half a loss
    assert (sprt.lower, sprt.upper) == (pytest.approx(math.log(0.05 / 0.95)), pytest.approx(math.log(0.95 / 0.05)))
    # 31 straight wins cross +2.944 (31 x 0.09567 = 2.966); 30 do not; 28 losses cross -2.944
    assert (sprt.decide(31, 0, 0), sprt.decide(30, 0, 0)) == ("H1", None)
    assert (sprt.decide(0, 0, 28), sprt.decide(0, 0, 27)) == ("H0", None)
    with pytest.raises(ValueError, match="ELO0 < ELO1"):
        SPRT(35, 0)


def test_a_score_reads_results_from_either_side():
    assert a_score("B+3.5", a_is_black=True) == 1.0 and a_score("B+3.5", a_is_black=False) == 0.0
    assert a_score("W+R", a_is_black=True) == 0.0 and a_score("W+F", a_is_black=False) == 1.0
    assert a_score("0", a_is_black=True) == 0.5
    assert a_score("", a_is_black=True) is None and a_score("Void", a_is_black=False) is None


def test_summarize_counts_colours_draws_and_failures():
    games = [GameSummary(0, True, 1.0, 40, "a"), GameSummary(1, False, 1.0, 50, "b"),
             GameSummary(2, True, 0.5, 30, "c"), GameSummary(3, False, 0.0, 60, "c"),
             GameSummary(4, True, None, 10, "d")]
    result = summarize(games, a="x", b="y", rules=Rules(size=5, komi=7.0), seed=3, planned=6,
                       failed=[(5, "EngineDied: gnugo exited")])
    assert (result.scored, result.a_wins, result.draws, result.a_losses, result.a_score) == (4, 2, 1, 1, 2.5)
    assert result.win_rate == 0.625 and result.wilson == wilson_interval(2.5, 4)
    assert (result.a_black_score, result.a_black_games, result.a_white_score, result.a_white_games) == (1.5, 2, 1, 2)
    # Black: won game 0 (A), drew game 2, won game 3 (B): 2.5 of 4
    assert result.black_rate == 0.625
    assert result.average_length == 45.0 and result.distinct_games == 3
    assert [f["game"] for f in result.failed] == [4, 5]
    text = "\n".join(format_match(result))
    assert "A wins 62.5% [95% Wilson" in text and "of 4 (draws count half)" in text
    assert "A as Black: 1.5/2, A as White: 1/2" in text and "failed games: 2 (4, 5)" in text


def test_bradley_terry_recovers_known_ratings_from_an_exact_table():
    truth = np.array([0.0, 150.0, -100.0, 400.0])
    n = 1000
    games = np.full((4, 4), n) - np.diag([n] * 4)
    scores = games * np.vectorize(score_from_elo)(truth[:, None] - truth[None, :])
    ratings = bradley_terry(scores, games)
    assert np.allclose(ratings.elo, truth, atol=1e-6)
    assert ratings.stderr[0] == 0 and np.all(ratings.stderr[1:] > 0)
    shifted = bradley_terry(scores, games, anchor=2)
    assert np.allclose(shifted.elo, truth + 100.0, atol=1e-6)


def test_bradley_terry_standard_error_matches_the_fisher_information():
    # two players, 100 games, 50 points each: information n p (1 - p) = 25, so 0.2 nats = 34.7 Elo
    ratings = bradley_terry(np.array([[0, 50], [50, 0]]), np.array([[0, 100], [100, 0]]))
    assert ratings.elo[1] == pytest.approx(0.0, abs=1e-9)
    assert ratings.stderr[1] == pytest.approx(0.2 * 400 / math.log(10))
    assert ratings.interval(1) == pytest.approx((-Z * ratings.stderr[1], Z * ratings.stderr[1]))


def test_bradley_terry_intervals_cover_ratings_behind_sampled_games():
    rng = np.random.default_rng(8)
    truth = np.array([0.0, 80.0, 200.0, -150.0, 350.0])
    count, n = len(truth), 200
    scores = np.zeros((count, count))
    games = np.zeros((count, count))
    for i in range(count):
        for j in range(i + 1, count):
            wins = rng.binomial(n, score_from_elo(truth[i] - truth[j]))
            scores[i, j], scores[j, i] = wins, n - wins
            games[i, j] = games[j, i] = n
    ratings = bradley_terry(scores, games)
    assert np.all(np.abs(ratings.elo - truth) <= 3 * np.maximum(ratings.stderr, 1e-9))


def test_bradley_terry_needs_a_prior_for_a_clean_sweep():
    scores = np.array([[0, 10, 10], [0, 0, 6], [0, 4, 0]])  # player 0 won all its 20 games
    games = np.array([[0, 10, 10], [10, 0, 10], [10, 10, 0]])
    with pytest.raises(ValueError, match="no finite maximum"):
        bradley_terry(scores, games)
    ratings = bradley_terry(scores, games, prior_games=1.0)
    assert np.all(np.isfinite(ratings.elo)) and ratings.elo[0] == max(ratings.elo)


# ------------------------------------------------------------------------------------------------ games


def test_colours_alternate_and_game_seeds_are_fixed_by_match_seed_and_index():
    tasks = [game_task(7, i) for i in range(6)]
    assert [t.a_is_black for t in tasks] == [True, False, True, False, True, False]
    assert [game_task(7, i) for i in range(6)] == tasks
    assert game_seeds(7, 0) != game_seeds(7, 1) and game_seeds(7, 0) != game_seeds(8, 0)
    assert all(0 <= seed < 2**31 - 1 for t in tasks for seed in (t.seed_a, t.seed_b))


def test_play_task_seats_players_by_colour_and_repeats_a_game_exactly():
    rules = Rules(size=5)
    task = game_task(1, 1)  # A is White
    first = play_task(RandomPlayer(name="A"), RandomPlayer(name="B"), task, rules, ("spec-a", "spec-b"))
    again = play_task(RandomPlayer(), RandomPlayer(), task, rules, ("spec-a", "spec-b"))
    assert (first.black, first.white) == ("spec-b", "spec-a")
    assert first.moves == again.moves and first.result == again.result
    assert "game 1" in first.comment and str(task.seed_a) in first.comment


class _KillsItsEngine:
    """A GNU Go player whose engine process is killed (SIGKILL) as it is asked for its third move.

    (An engine found dead *between* moves is restarted by GnuGoPlayer and told the game again; one that dies
    while it owes an answer costs the game.)"""

    def __init__(self, inner: GnuGoPlayer) -> None:
        self.inner = inner
        self.name = inner.name
        self.moves = 0

    def reseed(self, seed: int) -> None:
        self.inner.reseed(seed)

    def reset(self, rules: Rules) -> None:
        self.inner.reset(rules)

    def play(self, position):
        self.moves += 1
        if self.moves == 3:
            sync = self.inner._sync

            def sync_then_kill(position):
                engine = sync(position)
                engine._proc.kill()
                engine._proc.wait()
                return engine

            self.inner._sync = sync_then_kill  # type: ignore[method-assign]
        return self.inner.play(position)

    def close(self) -> None:
        self.inner.close()


@needs_gnugo
@pytest.mark.gnugo
def test_a_killed_gnugo_costs_its_game_only_and_the_worker_goes_on():
    built = []

    def build():
        gnugo = GnuGoPlayer(level=1, timeout=20.0)
        player = _KillsItsEngine(gnugo) if not built else gnugo
        built.append(gnugo)
        return player, RandomPlayer()

    outcomes = list(serve(build, [game_task(0, i) for i in range(3)], Rules(size=5), ("gnugo:1", "random")))
    assert [o.task.index for o in outcomes] == [0, 1, 2]
    assert outcomes[0].record is None and "EngineDied" in outcomes[0].error
    assert all(o.record is not None and o.record.result for o in outcomes[1:])
    assert len(built) == 2  # the players were rebuilt once, after the failure
    assert all(player._engine is None for player in built)  # and every engine was closed


# ------------------------------------------------------------------------------------------------ matches


def _sgf_games(out):
    return {path.name: load(path) for path in sorted((out / "games").glob("*.sgf"))}


def test_match_saves_alternating_games_and_resumes_only_the_missing_ones(tmp_path):
    config = MatchConfig(a="random", b="random,seed=9", out=tmp_path / "m", games=6, size=5, workers=2, seed=4)
    result = matches.run_match(config, progress=False)
    games = _sgf_games(config.out)
    assert sorted(games) == [f"{i:05d}.sgf" for i in range(6)]
    for i in range(6):
        record = games[f"{i:05d}.sgf"]
        expected = ("random", "random,seed=9") if i % 2 == 0 else ("random,seed=9", "random")
        assert (record.black, record.white) == expected
    assert result.played_this_session == 6 and result.scored == 6 and not result.failed
    assert result.a_score == sum(a_score(games[f"{i:05d}.sgf"].result, i % 2 == 0) for i in range(6))
    stored = json.loads((config.out / "result.json").read_text())
    assert stored["a_score"] == result.a_score and stored["seed"] == 4
    assert json.loads((config.out / "match.json").read_text())["b"] == "random,seed=9"

    # half-finished: two games lost; the same command plays those two, and plays them the same way
    (config.out / "games" / "00001.sgf").unlink()
    (config.out / "games" / "00004.sgf").unlink()
    resumed = matches.run_match(config, progress=False)
    assert resumed.played_this_session == 2 and resumed.scored == 6
    assert {name: r.moves for name, r in _sgf_games(config.out).items()} == {n: r.moves for n, r in games.items()}

    longer = matches.run_match(dataclasses.replace(config, games=8), progress=False)
    assert longer.played_this_session == 2 and longer.scored == 8

    with pytest.raises(MatchError, match="holds another match"):
        matches.run_match(dataclasses.replace(config, seed=5), progress=False)


def _write_game(out, config: MatchConfig, index: int, a_wins: bool) -> None:
    task = game_task(config.seed, index)
    black, white = (config.a, config.b) if task.a_is_black else (config.b, config.a)
    result = ("B+R" if task.a_is_black else "W+R") if a_wins else ("W+R" if task.a_is_black else "B+R")
    save(GameRecord(size=config.size, komi=config.komi, result=result, black=black, white=white),
         out / "games" / f"{index:05d}.sgf")


def test_sprt_decides_on_the_games_in_index_order(tmp_path):
    config = MatchConfig(a="random", b="random,seed=1", out=tmp_path / "s", games=50, size=5, workers=1,
                         sprt=SPRT(0, 100))
    (config.out / "games").mkdir(parents=True)
    for index in range(15):  # A won all: at 0.247 per win, the 12th crosses +2.944
        _write_game(config.out, config, index, a_wins=True)
    result = matches.run_match(config, progress=False)
    assert result.played_this_session == 0  # decided by the games already there: nothing to play
    assert result.scored == 12 and result.sprt is not None
    assert result.sprt["decision"] == "H1" and result.sprt["games"] == 12
    assert result.sprt["llr"] == pytest.approx(12 * math.log(score_from_elo(100) / 0.5))
    assert "H1 accepted" in "\n".join(format_match(result))


# ------------------------------------------------------------------------------------------------ ladders


def test_ladder_entries_expand_a_run_folder_into_its_policy_checkpoints(tmp_path):
    import torch

    from models import checkpoint
    from models.nets import NetConfig, build

    torch.manual_seed(0)
    run = tmp_path / "run"
    ckpts = run / "checkpoints"
    config = NetConfig(board_size=5, filters=4, blocks=1)
    net = build(config)
    for name, stage, step in [("rl_policy", "rl", 20), ("sl_policy", "sl", 3), ("sl_last", "sl", 3),
                              ("rl_pool/it_00010", "rl", 10), ("rl_pool/it_00020", "rl", 20)]:
        checkpoint.save(ckpts / f"{name}.safetensors", net, config, stage=stage, step=step)
    (ckpts / "sl_policy.optim.safetensors").write_bytes(b"not a checkpoint")
    value = NetConfig(board_size=5, filters=4, blocks=1, kind="value")
    checkpoint.save(ckpts / "value.safetensors", build(value), value, stage="value", step=5)
    entries = ladder.ladder_entries([str(run), "random", "gnugo:1", "random"], temperature=1.0)
    # training order; one per (stage, step), keeping the named file; no optimizer file, no value net
    assert [(e.label, e.stage, e.step) for e in entries[:3]] == [
        ("run/sl_policy", "sl", 3), ("run/rl_pool/it_00010", "rl", 10), ("run/rl_policy", "rl", 20)]
    assert entries[0].spec == f"policy:{ckpts / 'sl_policy.safetensors'},temperature=1"
    assert [e.spec for e in entries[3:]] == ["random", "gnugo:1"]
    # a bare checkpoint is its policy; a run folder with a value net is its search, without one its policy
    assert matches.resolve_spec(str(ckpts / "sl_policy.safetensors")) == f"policy:{ckpts / 'sl_policy.safetensors'}"
    assert matches.resolve_spec(str(run)) == f"mcts:{run}"
    (ckpts / "value.safetensors").unlink()
    assert matches.resolve_spec(str(run)) == f"policy:{run}"
    assert matches.resolve_spec("gnugo:3") == "gnugo:3"


def test_ladder_plays_every_pair_once_and_reuses_its_games(tmp_path):
    entries = ladder.ladder_entries(["random,seed=1", "random", "random,seed=2"])
    config = LadderConfig(entries=tuple(entries), out=tmp_path / "ladder", games_per_pair=2, size=5, workers=1)
    assert config.anchor() == 1  # random is rated 0
    result = ladder.run_ladder(config, progress=False)
    assert result.played_this_session == 6 and len(list((config.out / "pairs").iterdir())) == 3
    assert result.ratings.elo[1] == 0.0 and np.all(result.games.sum(axis=1) == 4)
    stored = json.loads((config.out / "ladder.json").read_text())
    assert stored["anchor"] == "random" and len(stored["players"]) == 3
    table = ladder.format_ladder(result)
    assert table[0].split() == ["#", "player", "step", "Elo", "95%", "interval", "games", "score"]
    assert any("anchor" in line for line in table[1:])
    again = ladder.run_ladder(config, progress=False)
    assert again.played_this_session == 0 and np.array_equal(again.scores, result.scores)


# ------------------------------------------------------------------------------------------------ command line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "alphago", "random"], "unknown player kind 'alphago'"),
        (["eval", "random", "runs/no-such-run"], "no such checkpoint file or run folder"),
        (["eval", "random", "random", "--games", "0"], "--games '0' is not an integer >= 1"),
        (["eval", "random", "random", "--workers", "0"], "--workers '0' is not an integer >= 1"),
        (["eval", "random", "random", "--sprt", "35,0"], "--sprt '35,0' is not ELO0,ELO1"),
        (["eval", "random", "random", "--sprt", "0"], "--sprt '0' is not ELO0,ELO1"),
        (["eval", "random", "random", "--komi", "x"], "--komi 'x' is not a finite number"),
        (["ladder", "random", "--out", "L"], "players: a ladder needs 2 or more"),
    ],
)
def test_bad_input_ends_in_one_line_and_exit_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "runs").exists()  # nothing written for a command that did not run


def test_out_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "taken").write_text("x")
    assert main(["eval", "random", "random", "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigo eval: --out") and "is a file" in err


def test_a_ladder_of_specs_alone_chooses_its_folder_and_reuses_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["ladder", "random,seed=1", "random,seed=2", "--games-per-pair", "2", "--size", "5", "--workers", "1",
            "--no-progress"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    folders = list((tmp_path / "runs" / "ladders").iterdir())
    assert len(folders) == 1 and "played 2 new games" in first
    assert main(["ladder", "random,seed=2", "random,seed=1", *argv[3:]]) == 0  # same players, any order
    assert "played 0 new games" in capsys.readouterr().out


def test_pairs_of_games_share_an_expert_opening_with_colours_swapped():
    tasks = [game_task(3, i, openings=4, size=9) for i in range(8)]
    for first, second in zip(tasks[::2], tasks[1::2], strict=True):
        assert first.opening == second.opening and len(first.opening) == 4
        assert first.a_is_black and not second.a_is_black
    assert len({t.opening for t in tasks}) >= 3  # pairs draw their own openings
    assert game_task(3, 5, openings=4, size=9) == tasks[5]  # and the same ones every time


def test_deterministic_players_play_distinct_games_from_openings_and_the_interval_is_over_pairs(tmp_path):
    import torch

    from models import checkpoint
    from models.nets import NetConfig, build

    torch.manual_seed(0)
    config = NetConfig(board_size=9, filters=8, blocks=1)
    specs = []
    for name in ("a", "b"):
        specs.append(f"policy:{checkpoint.save(tmp_path / f'{name}.safetensors', build(config), config)}")
    plain = MatchConfig(a=specs[0], b=specs[1], out=tmp_path / "plain", games=6, size=9, workers=1)
    result = matches.run_match(plain, progress=False)
    assert result.distinct_games <= 2  # two greedy nets replay the same two games
    assert any(line.startswith("warning: 4 of 6 games repeat") for line in format_match(result))
    paired = dataclasses.replace(plain, out=tmp_path / "paired", openings=4)
    result = matches.run_match(paired, progress=False)
    assert result.distinct_games >= 4 and result.pairs == 3 and result.pair_interval is not None
    record = load(tmp_path / "paired" / "games" / "00000.sgf")
    assert [m.comment for m in record.moves[:5]] == ["opening"] * 4 + [""]
    assert any("pairs of games from 4-move expert openings" in line for line in format_match(result))
