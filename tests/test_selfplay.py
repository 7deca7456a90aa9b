"""Self-play workers, stage 2 (REINFORCE against a pool) and stage 3 (value data and training) on 5x5."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import threading
import time

import numpy as np
import pytest
import torch

from minigo.go import BLACK, WHITE, Rules
from models import checkpoint
from models.features import planes
from models.nets import NetConfig, build
from selfplay import rl, value, value_data
from selfplay.farm import FarmConfig
from selfplay.workers import SelfPlayGame, SelfPlayTask, WorkerPool, play_lockstep, split_tasks

RULES = Rules(size=5)


def lowest(positions):
    """A stub policy: all probability on the lowest legal point (the pass when nothing else is legal)."""
    out = np.zeros((len(positions), 26))
    for i, p in enumerate(positions):
        legal = np.flatnonzero(p.legal_moves())
        out[i, legal[0]] = 1.0
    return out


def highest(positions):
    out = np.zeros((len(positions), 26))
    for i, p in enumerate(positions):
        legal = np.flatnonzero(p.legal_moves()[:-1])
        out[i, legal[-1] if len(legal) else 25] = 1.0
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder with a tiny random-weight 5x5 SL policy."""
    path = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    config = NetConfig(board_size=5, filters=8, blocks=1)
    checkpoint.save(path / "checkpoints" / "sl_policy.safetensors", build(config), config, stage="sl")
    return path


def test_lockstep_games_follow_the_value_data_schedule(rng):
    tasks = [SelfPlayTask(i, random_move_at=u, before="low", after="high") for i, u in enumerate([1, 3, 6])]
    games = play_lockstep(tasks, {"low": lowest, "high": highest}, RULES, rng)
    for task, game in zip(tasks, games, strict=True):
        positions = game.positions(RULES)
        for number, (position, move) in enumerate(zip(positions, game.moves, strict=False), start=1):
            if number < task.random_move_at:
                assert move == np.flatnonzero(position.legal_moves())[0]
            elif number > task.random_move_at:
                legal = np.flatnonzero(position.legal_moves()[:-1])
                assert move == (legal[-1] if len(legal) else 25)
        assert positions[-1].is_game_over


def test_value_data_keeps_exactly_the_position_after_the_random_move(rng):
    [game] = play_lockstep([SelfPlayTask(0, random_move_at=4, before="low", after="high")],
                           {"low": lowest, "high": highest}, RULES, rng)
    data = value_data.examples_of(game, RULES, "alphago", 1)
    positions = game.positions(RULES)
    assert len(data) == 1 and data.first.tolist() == [True] and data.move_number.tolist() == [4]
    assert np.array_equal(data.planes[0], planes(positions[4]).astype(np.uint8))
    assert positions[4].move_number == 4 and positions[4].to_play == BLACK
    assert data.z[0] == np.sign(game.score)
    every = value_data.examples_of(game, RULES, "alphago", "all")
    assert len(every) == len(game.moves) - 4
    assert every.first.sum() == 1


def test_outcome_is_from_the_view_of_the_player_to_move():
    game = SelfPlayGame(0, moves=[12, 13, 7], score=3.5, black="sl", white="sl", random_move_at=2)
    assert value_data.examples_of(game, RULES, "raw", "all").z.tolist() == [1.0]  # Black to move at s_3; Black won
    game = SelfPlayGame(0, moves=[12, 13, 7], score=3.5, black="sl", white="sl", random_move_at=1)
    # White to move after move 1 (White lost), Black after move 2
    assert value_data.examples_of(game, RULES, "raw", "all").z.tolist() == [-1.0, 1.0]


def test_game_that_ends_before_its_random_move_gives_no_position():
    game = SelfPlayGame(0, moves=[25, 25], score=-7.5, black="sl", white="sl", random_move_at=5)
    assert len(value_data.examples_of(game, RULES, "raw", 1)) == 0


@pytest.mark.parametrize("spacing", ["even", "random"])
def test_k_positions_per_game_start_at_s_u_plus_1_and_stay_inside_the_game(spacing):
    rng = np.random.default_rng(5)
    for u, last, count in [(3, 40, 5), (10, 12, 5), (7, 7, 3), (1, 60, 2), (20, 90, 8)]:
        chosen = value_data.chosen_positions(u, last, count, spacing, rng)
        assert chosen[0] == u and chosen == sorted(set(chosen))
        assert len(chosen) == min(count, last - u + 1) and chosen[-1] <= last
        if spacing == "even" and last > u:
            assert chosen[-1] == last  # the decided ending is among them
    assert value_data.chosen_positions(3, 9, "all", "even", rng) == list(range(3, 10))


def test_value_examples_are_drawn_the_same_way_on_every_run():
    game = SelfPlayGame(4, moves=[12, 13, 7, 8, 6, 11, 17, 16, 18], score=3.5, black="sl", white="sl",
                        random_move_at=2)
    a = value_data.examples_of(game, RULES, "raw", 3, "random", seed=9)
    b = value_data.examples_of(game, RULES, "raw", 3, "random", seed=9)
    assert a.move_number.tolist() == b.move_number.tolist() and len(a) == 3


def test_opponents_are_drawn_uniformly_from_the_pool_and_reproducibly():
    pool = ["sl", "a", "b", "c"]
    draws = [rl.draw_opponent(pool, 7, i) for i in range(4000)]
    counts = np.array([draws.count(p) for p in pool])
    assert np.all(np.abs(counts - 1000) < 120)
    assert draws[:50] == [rl.draw_opponent(pool, 7, i) for i in range(50)]


def test_match_tasks_alternate_colours():
    tasks = rl.match_tasks(10, 4, "current", "opponent")
    assert [t.black for t in tasks] == ["current", "opponent", "current", "opponent"]
    assert [t.index for t in tasks] == [10, 11, 12, 13]


def test_current_moves_are_the_current_policy_moves_with_their_outcome():
    game = SelfPlayGame(0, moves=[12, 13, 7, 25, 25], score=-2.5, black="opponent", white="current")
    batch = rl.current_moves([game], "current", RULES, "alphago")
    assert list(batch.moves) == [13, 25]
    assert list(batch.z) == [1.0, 1.0]  # White won, and White is the current policy


def _moves(results):
    return [[g.moves for g in r.games] for r in results]


def test_ray_workers_play_the_same_games_as_local_ones(run_dir, ray_cluster):
    policy = str(run_dir / "checkpoints" / "sl_policy.safetensors")
    tasks = split_tasks(rl.match_tasks(0, 8, "a", "b"), 2, {"a": policy, "b": policy}, RULES, seed=0,
                        games_per_task=3)
    with WorkerPool(2) as pool:
        local = pool.run(tasks)
    with WorkerPool(2, farm=FarmConfig("ray")) as pool:
        remote = pool.run(tasks)
    assert [r.task_id for r in remote] == [0, 1, 2] and _moves(remote) == _moves(local)
    assert [[g.score for g in r.games] for r in remote] == [[g.score for g in r.games] for r in local]


def test_a_sigkilled_ray_actors_games_come_back_once_and_unchanged(run_dir, ray_cluster):
    policy = str(run_dir / "checkpoints" / "sl_policy.safetensors")
    tasks = split_tasks(rl.match_tasks(0, 12, "a", "b"), 2, {"a": policy, "b": policy}, RULES, seed=3,
                        games_per_task=2)
    with WorkerPool(2) as pool:
        reference = pool.run(tasks)
    with WorkerPool(2, farm=FarmConfig("ray")) as pool:
        victim = pool.pids()[0]
        killer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        killer.start()
        results = pool.run(tasks)
        killer.join()
        assert pool.restarts >= 1 and victim not in pool.pids()
    assert sorted(g.index for r in results for g in r.games) == list(range(12))  # each game exactly once
    assert _moves(results) == _moves(reference)


def test_worker_pool_finishes_every_task_when_a_worker_is_killed(run_dir):
    policy = str(run_dir / "checkpoints" / "sl_policy.safetensors")
    tasks = split_tasks(rl.match_tasks(0, 8, "a", "b"), 2, {"a": policy, "b": policy}, RULES, seed=3)
    with WorkerPool(2) as pool:
        reference = pool.run(tasks)
    with WorkerPool(2) as pool:
        victim = pool.processes()[0]

        def kill_soon():
            time.sleep(0.3)
            victim.kill()

        killer = threading.Thread(target=kill_soon)
        killer.start()
        results = pool.run(tasks)
        killer.join()
        assert pool.restarts >= 1
    assert [[g.moves for g in r.games] for r in results] == [[g.moves for g in r.games] for r in reference]


def test_tiny_rl_run_logs_its_iterations_and_resumes(run_dir, tmp_path):
    base = dict(games_per_iteration=8, pool_every=1, eval_every=2, eval_games=8, workers=2, seed=1, device="cpu")
    rl.run(rl.RLConfig(iterations=2, **base), run_dir, progress=False)
    moved = shutil.copytree(run_dir, tmp_path / "moved")  # a run folder moved elsewhere resumes there, on its own pool
    pool, away = run_dir / "checkpoints" / "rl_pool", run_dir / "checkpoints" / "rl_pool.away"
    pool.rename(away)
    try:
        rl.run(rl.RLConfig(iterations=3, **base), moved, progress=False)
    finally:
        away.rename(pool)
    assert checkpoint.load(moved / "checkpoints" / "rl_policy.safetensors").step == 3
    result = rl.run(rl.RLConfig(iterations=3, **base), run_dir, progress=False)
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rl_lines = [x for x in lines if x["stage"] == "rl"]
    assert [x["iteration"] for x in rl_lines] == [1, 2, 3]
    assert "win_rate_vs_sl" in rl_lines[1] and "win_rate_vs_sl" in rl_lines[2]
    for key in ("win_rate", "entropy", "grad_norm", "game_length"):
        assert np.isfinite(rl_lines[-1][key])
    newest = sorted((run_dir / "checkpoints" / "resume").glob("rl_0*[0-9].safetensors"))[-1]
    state = checkpoint.load(newest)
    assert state.step == 3 and len(state.extra["pool"]) == 4  # the SL policy and three snapshots
    assert checkpoint.load(result.policy, kind="policy").step == 3


def test_the_opponent_pool_is_kept_relative_to_the_run_and_found_again(tmp_path):
    run = tmp_path / "run"
    pool_dir = run / "checkpoints" / "rl_pool"
    pool_dir.mkdir(parents=True)
    for path in (run / "checkpoints" / "sl_policy.safetensors", pool_dir / "it_00010.safetensors"):
        path.write_bytes(b"")
    pool = [str(run / "checkpoints" / "sl_policy.safetensors"), str(pool_dir / "it_00010.safetensors")]
    kept = rl.pool_to_state(pool, run)
    assert kept == ["checkpoints/sl_policy.safetensors", "checkpoints/rl_pool/it_00010.safetensors"]
    assert rl.pool_from_state(kept, run) == pool
    # an older resume point held paths relative to the working directory of a folder since renamed
    assert rl.pool_from_state(["runs/old-name/checkpoints/rl_pool/it_00010.safetensors"], run) == pool[1:]
    with pytest.raises(rl.TrainingError, match="lost it_00020.safetensors"):
        rl.pool_from_state(["checkpoints/rl_pool/it_00020.safetensors"], run)


def test_a_tiny_rl_run_trains_the_same_policy_twice_and_on_either_farm(run_dir, tmp_path, ray_cluster):
    base = dict(iterations=2, games_per_iteration=8, pool_every=1, eval_every=2, eval_games=8, workers=2, seed=1,
                device="cpu")
    trained = []
    for name, farm in (("local", None), ("again", None), ("ray", FarmConfig("ray"))):
        run = tmp_path / name
        (run / "checkpoints").mkdir(parents=True)
        shutil.copy(run_dir / "checkpoints" / "sl_policy.safetensors", run / "checkpoints")
        rl.run(rl.RLConfig(**base), run, progress=False, farm=farm)
        trained.append({name: checkpoint.load(run / "checkpoints" / f"{name}.safetensors").net.state_dict()
                        for name in ("rl_policy", "rl_baseline")})
    for other in trained[1:]:
        for net in ("rl_policy", "rl_baseline"):
            assert all(torch.equal(trained[0][net][k], other[net][k]) for k in trained[0][net]), net


def test_tiny_value_run_makes_shards_once_and_fits_the_value_net(run_dir):
    if not (run_dir / "checkpoints" / "rl_policy.safetensors").exists():
        pytest.skip("needs the RL test's run folder")
    config = value.ValueConfig(games=24, games_per_shard=12, epochs=2, workers=2, device="cpu", u_max=8)
    result = value.run(config, run_dir, progress=False)
    shards = sorted((run_dir / "data").glob("value_games_*.npz"))
    assert len(shards) == 2
    stamps = [s.stat().st_mtime_ns for s in shards]
    games = value_data.load_games(shards)
    assert sorted(g.index for g in games) == list(range(24))
    assert all(1 <= g.random_move_at <= 8 for g in games)
    value.run(config, run_dir, progress=False)
    assert [s.stat().st_mtime_ns for s in shards] == stamps  # no shard made twice
    # shards drawn from another seed would be mixed in silently: refused with one line naming the change
    from selfplay.run_folder import TrainingError

    with pytest.raises(TrainingError, match=r"other settings \(seed 0 -> 1\): use a new run folder"):
        value.run(dataclasses.replace(config, seed=1), run_dir, progress=False)
    assert [s.stat().st_mtime_ns for s in shards] == stamps
    loaded = checkpoint.load(result.value, kind="value")
    assert loaded.config.board_size == 5 and loaded.config.ownership_head and not loaded.config.score_head
    assert np.isfinite(result.val_mse)


def test_extra_heads_at_weight_zero_train_exactly_the_outcome_only_net(run_dir, tmp_path):
    if not (run_dir / "checkpoints" / "rl_policy.safetensors").exists():
        pytest.skip("needs the RL test's run folder")
    import shutil

    base = dict(games=24, games_per_shard=12, epochs=2, workers=1, device="cpu", u_max=8, positions_per_game=3,
                batch_size=16)
    nets = {}
    for heads in ("none", "score,ownership"):
        folder = tmp_path / heads.replace(",", "-")
        (folder / "checkpoints").mkdir(parents=True)
        for name in ("sl_policy.safetensors", "rl_policy.safetensors"):
            shutil.copy(run_dir / "checkpoints" / name, folder / "checkpoints" / name)
        shutil.copytree(run_dir / "data", folder / "data")  # the same games: only the training differs
        value.run(value.ValueConfig(heads=heads, **base), folder, progress=False)
        nets[heads] = checkpoint.load(folder / "checkpoints" / "value.safetensors", kind="value").net
    plain, with_heads = nets["none"].state_dict(), nets["score,ownership"].state_dict()
    assert set(plain) < set(with_heads)
    for name, tensor in plain.items():
        assert torch.equal(tensor, with_heads[name]), name
    # ... while at a positive weight the heads do shape the trunk
    folder = tmp_path / "weighted"
    shutil.copytree(tmp_path / "none", folder)
    shutil.rmtree(folder / "checkpoints" / "resume")
    value.run(value.ValueConfig(heads="ownership", ownership_weight=1.0, **base), folder, progress=False)
    weighted = checkpoint.load(folder / "checkpoints" / "value.safetensors", kind="value").net.state_dict()
    assert not torch.equal(weighted["trunk.stem.0.weight"], plain["trunk.stem.0.weight"])


def test_positive_head_weight_needs_its_head():
    with pytest.raises(ValueError, match="needs the score head"):
        value.ValueConfig(heads="ownership", score_weight=0.5)
    with pytest.raises(ValueError, match="expected none or a comma-separated list"):
        value.ValueConfig(heads="owner")


def test_later_stages_name_the_stage_they_need(tmp_path):
    from selfplay.run_folder import TrainingError

    with pytest.raises(TrainingError, match="sl_policy.safetensors is missing: run stage sl first"):
        rl.run(rl.RLConfig(iterations=1), tmp_path)
    with pytest.raises(TrainingError, match="run stage sl first"):
        value.run(value.ValueConfig(games=1), tmp_path)


def test_colours_used_in_games_are_the_ones_asked_for(rng):
    [game] = play_lockstep([SelfPlayTask(0, black="low", white="high")], {"low": lowest, "high": highest}, RULES, rng)
    positions = game.positions(RULES)
    assert positions[0].to_play == BLACK and positions[1].to_play == WHITE
    assert game.moves[0] == 0 and game.moves[1] == 24


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from selfplay.workers import WorkerPool\n"
        "if __name__ == '__main__':\n"
        "    pool = WorkerPool(2)\n"
        "    print(' '.join(str(p.pid) for p in pool.processes()), flush=True)\n"
        "    time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 30
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.5)
        alive = [pid for pid in alive if _running(pid)]
    states = {pid: open(f"/proc/{pid}/stat").read().split(")")[-1].split()[:2] for pid in alive}
    assert not alive, f"workers {alive} outlived their killed parent: {states}"


def _running(pid: int) -> bool:
    import os

    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
    except OSError:
        return os.path.exists(f"/proc/{pid}")


def passer(positions):
    """A stub policy that puts almost everything on the pass."""
    out = np.zeros((len(positions), 26))
    for i, p in enumerate(positions):
        legal = np.flatnonzero(p.legal_moves())
        out[i, legal] = 0.001
        out[i, 25] = 1.0
    return out


def test_self_play_passes_only_when_nothing_sensible_is_left_or_to_end_a_won_game(rng):
    [game] = play_lockstep([SelfPlayTask(0, black="p", white="p")], {"p": passer}, RULES, rng)
    positions = game.positions(RULES)
    for position, move in zip(positions, game.moves, strict=False):
        if move == 25:
            wins = position.passes >= 1 and position.score() * position.to_play > 0
            assert wins or not position.sensible_moves()[:-1].any()
    assert len(game.moves) > 10
    [free] = play_lockstep([SelfPlayTask(0, black="p", white="p")], {"p": passer}, RULES, rng, free_pass=True)
    assert free.moves == [25, 25]  # what a pass-happy policy does when nothing stops it: White wins by komi


def test_the_gradient_is_taken_over_the_moves_self_play_sampled_from(rng):
    [game] = play_lockstep([SelfPlayTask(0, black="current", white="p")], {"current": passer, "p": passer}, RULES, rng)
    batch = rl.current_moves([game], "current", RULES, "alphago")
    positions = [p for p in game.positions(RULES)[:-1] if p.to_play == BLACK]
    for position, mask, move in zip(positions, batch.legal, batch.moves, strict=True):
        assert mask[move]
        assert mask[25] == (not position.sensible_moves()[:-1].any()
                            or (position.passes >= 1 and position.score() * position.to_play > 0))
        assert (mask[:25] == position.legal_moves()[:25]).all()


def test_policy_update_keeps_the_batch_norm_statistics_the_games_were_played_with(run_dir, rng):
    sl = checkpoint.load(run_dir / "checkpoints" / "sl_policy.safetensors", kind="policy")
    policy = build(sl.config)
    policy.load_state_dict(sl.net.state_dict())
    games = play_lockstep([SelfPlayTask(i, black="current", white="current") for i in range(4)],
                          {"current": lowest}, RULES, rng)
    batch = rl.current_moves(games, "current", RULES, "alphago")
    before = {k: v.clone() for k, v in policy.state_dict().items() if "running" in k}
    baseline_config = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    baseline = build(baseline_config)
    config = rl.RLConfig(baseline="value")
    stats = rl._update(policy, torch.optim.Adam(policy.parameters(), 1e-3), baseline,
                       torch.optim.Adam(baseline.parameters(), 1e-3), batch, config, torch.device("cpu"))
    assert stats["grad_norm"] > 0
    after = policy.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_value_net_starts_from_the_rl_policy_trunk_or_from_scratch(run_dir):
    from selfplay.run_folder import TrainingError

    rl_path = run_dir / "checkpoints" / "sl_policy.safetensors"  # any policy checkpoint of the same shape
    policy = checkpoint.load(rl_path, kind="policy").net
    config = NetConfig(kind="value", board_size=5, filters=8, blocks=1)
    torch.manual_seed(1)
    warm = value.initial_net(config, "rl", rl_path)
    cold = value.initial_net(config, "scratch", rl_path)
    for name, tensor in policy.trunk.state_dict().items():
        assert torch.equal(warm.trunk.state_dict()[name], tensor)
    assert not all(torch.equal(cold.trunk.state_dict()[k], v) for k, v in policy.trunk.state_dict().items())
    with pytest.raises(TrainingError, match="value.init = rl needs the value net's trunk to match"):
        value.initial_net(NetConfig(kind="value", board_size=5, filters=16, blocks=1), "rl", rl_path)
    with pytest.raises(ValueError, match="expected rl or scratch"):
        value.ValueConfig(init="policy")


def test_self_play_samples_are_sgf_with_their_players_and_the_random_move(tmp_path, rng):
    from minigo import sgf
    from selfplay.samples import save_samples

    games = play_lockstep([SelfPlayTask(0, black="current", white="opponent"), SelfPlayTask(1, random_move_at=3)],
                          {"current": lowest, "opponent": highest, "sl": lowest, "rl": highest}, RULES, rng)
    paths = save_samples(games, tmp_path / "games", "it_00001", RULES,
                         {"current": "rl_policy", "opponent": "sl_policy", "sl": "sl_policy", "rl": "rl_policy"}, 2)
    assert [p.name for p in paths] == ["it_00001_0000000.sgf", "it_00001_0000001.sgf"]
    first, second = (sgf.load(p) for p in paths)
    assert (first.black, first.white) == ("rl_policy", "sl_policy")
    assert [m.point for m in first.moves] == games[0].moves
    from minigo.go import replay

    assert first.result == replay(games[0].moves, RULES).result()
    assert "random move" in second.moves[2].comment and not second.moves[1].comment
