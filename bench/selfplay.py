"""Self-play throughput: policy-only self-play positions/s on all cores against the network's own forward rate.

Two figures, measured in the same run on the same cores with the same network and batch size:

- forward: ``net(x)`` on random ``(batch, planes, 9, 9)`` inputs, no_grad, run two ways: one process with torch
  using every core, and one single-thread process per core (summed); positions/s = batch * calls / seconds. The
  faster of the two is what the network alone can do here.
- self-play: ``WorkerPool`` with one worker per core (one torch thread each), each playing ``batch`` games in
  lockstep (``selfplay.workers.play_lockstep``: one batched forward per move step), moves sampled from the
  policy; positions/s = moves played / wall seconds (worker start-up excluded: a warm-up round runs first).

Target (issue 5): self-play >= 0.9x forward. The network is a random-weight 64-filter, 6-block PolicyNet unless
``--policy CKPT`` names one.

    python bench/selfplay.py [--batch 64] [--games-per-worker 64] [--rounds 2] [--policy CKPT] [--json PATH]
        [--scheme match|value]

``--scheme value`` plays stage 3's games instead (the SL policy to move U-1, a random move, the RL policy to the
end; here one network in both roles) and also prints games/s per core: the value stage's data rate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# Run as `python bench/selfplay.py`, this file's folder comes first on sys.path and its name would shadow the
# selfplay package (in the spawned workers too, which inherit sys.path).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
# As the minigo command does: idle OpenMP threads sleep instead of spinning (set before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from minigo.go import Rules  # noqa: E402
from models import checkpoint  # noqa: E402
from models.nets import NetConfig, build  # noqa: E402
from selfplay.rl import match_tasks  # noqa: E402
from selfplay.value_data import value_tasks  # noqa: E402
from selfplay.workers import WorkerPool, split_tasks  # noqa: E402


def forward_rate(net: torch.nn.Module, batch: int, planes: int, size: int, seconds: float) -> float:
    """Positions per second of ``net`` alone at ``batch``, torch on every core."""
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 2, (batch, planes, size, size)).astype(np.float32))
    net.eval()
    with torch.no_grad():
        for _ in range(3):
            net(x)
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            net(x)
            calls += 1
        return batch * calls / (time.perf_counter() - started)


def _forward_worker(args: tuple[str, int, float]) -> float:
    path, batch, seconds = args
    torch.set_num_threads(1)
    loaded = checkpoint.load(path, kind="policy")
    return forward_rate(loaded.net, batch, loaded.config.input_planes, loaded.config.board_size, seconds)


def forward_rate_processes(policy: str, processes: int, batch: int, seconds: float) -> float:
    """Positions per second of the network alone in ``processes`` processes of one thread each (summed)."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(processes) as pool:
        return float(sum(pool.map(_forward_worker, [(policy, batch, seconds)] * processes)))


def selfplay_rate(policy: str, workers: int, games_per_worker: int, rounds: int,
                  scheme: str = "match") -> tuple[float, float, float]:
    """(positions/s, games/s, mean moves per game) of policy-only self-play on ``workers`` processes: ``match``
    games (stage 2: the policy on both sides) or ``value`` games (stage 3: the policy as SL to move U-1, a
    random move U, the policy as RL to the end)."""
    rules = Rules(size=9)
    u_max = (3 * 81) // 4

    def tasks_for(first: int, count: int) -> list:
        if scheme == "value":
            return value_tasks(first, count, u_max, seed=1)
        return match_tasks(first, count, "p", "p")

    keys = {"p": policy, "sl": policy, "rl": policy}
    with WorkerPool(workers) as pool:
        pool.run(split_tasks(tasks_for(0, workers * 2), workers, keys, rules, seed=1))
        moves, games, started = 0, 0, time.perf_counter()
        for r in range(rounds):
            tasks = tasks_for((r + 1) * 10**6, workers * games_per_worker)
            for result in pool.run(split_tasks(tasks, workers, keys, rules, seed=1, first_task_id=100 + r)):
                moves += sum(len(g.moves) for g in result.games)
                games += len(result.games)
        seconds = time.perf_counter() - started
        return moves / seconds, games / seconds, moves / max(games, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64, help="forward batch size, and games per worker (default 64)")
    ap.add_argument("--rounds", type=int, default=2, help="self-play rounds of batch games per worker (default 2)")
    ap.add_argument("--games-per-worker", type=int, help="games each worker plays in lockstep (default: --batch; "
                    "stage 3's shards of 512 games deal 256 to each of 2 workers)")
    ap.add_argument("--scheme", choices=("match", "value"), default="match",
                    help="match: stage 2's games; value: stage 3's (SL to U-1, a random move, RL to the end)")
    ap.add_argument("--seconds", type=float, default=10.0, help="forward measurement time (default 10)")
    ap.add_argument("--policy", help="a policy checkpoint (default: random 64x6 weights)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(cores)
    with tempfile.TemporaryDirectory() as tmp:
        if args.policy:
            try:
                loaded = checkpoint.load(args.policy, kind="policy")
            except checkpoint.CheckpointError as exc:
                print(f"bench/selfplay.py: {exc}", file=sys.stderr)
                return 2
            net, config, policy = loaded.net, loaded.config, args.policy
        else:
            torch.manual_seed(0)
            config = NetConfig(board_size=9, filters=64, blocks=6)
            net = build(config)
            policy = str(checkpoint.save(Path(tmp) / "policy.safetensors", net, config))
        threaded = forward_rate(net, args.batch, config.input_planes, config.board_size, args.seconds)
        per_process = forward_rate_processes(policy, cores, args.batch, args.seconds)
        play, games_rate, length = selfplay_rate(policy, cores, args.games_per_worker or args.batch, args.rounds,
                                                 args.scheme)
        threaded_after = forward_rate(net, args.batch, config.input_planes, config.board_size, args.seconds / 2)
    # Compare with the better way of running the network alone on these cores, measured around the self-play.
    forward = max((threaded + threaded_after) / 2, per_process)
    ratio = play / forward
    print(f"{config.filters} filters x {config.blocks} blocks, {config.board_size}x{config.board_size}, batch "
          f"{args.batch}, {cores} cores, torch {torch.__version__}")
    print(f"network forward alone, one process x {cores} threads:  {(threaded + threaded_after) / 2:10,.0f} "
          f"positions/s (before {threaded:,.0f}, after {threaded_after:,.0f})")
    print(f"network forward alone, {cores} processes x 1 thread:   {per_process:10,.0f} positions/s")
    what = "stage-3 value-data games" if args.scheme == "value" else "policy-only self-play"
    print(f"{what} ({cores} workers x 1 thread):  {play:10,.0f} positions/s, {games_rate:.2f} games/s "
          f"({games_rate / cores:.2f} per core; {length:.1f} moves/game)")
    print(f"ratio self-play / the faster forward: {ratio:.2f}x (target >= 0.9x) {'PASS' if ratio >= 0.9 else 'BELOW'}")
    if args.json:
        args.json.write_text(json.dumps({"forward": forward, "forward_threaded": (threaded + threaded_after) / 2,
                                         "forward_processes": per_process, "selfplay": play, "ratio": ratio,
                                         "scheme": args.scheme, "games_per_second": games_rate,
                                         "batch": args.batch, "cores": cores, "moves_per_game": length}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
