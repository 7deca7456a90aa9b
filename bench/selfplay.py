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
        [--scheme match|value] [--farm local,ray]

``--farm local,ray`` measures the task farm instead (issue 21): self-play games/s with 1 worker and with one per
core on each backend named, in the same run, the scaling from 1 worker to all, each backend against the local
farm, and for Ray its start time (``ray.init`` of a local cluster; the first round, actors' start included) and
its idle memory (the resident memory of the cluster's processes, before and after the farm's actors start).

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
from selfplay.farm import BACKENDS, FarmConfig, FarmUnavailable  # noqa: E402
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


def selfplay_rate(policy: str, workers: int, games_per_worker: int, rounds: int, scheme: str = "match",
                  farm: FarmConfig | None = None, warmed: list[float] | None = None) -> tuple[float, float, float]:
    """(positions/s, games/s, mean moves per game) of policy-only self-play on ``workers`` processes: ``match``
    games (stage 2: the policy on both sides) or ``value`` games (stage 3: the policy as SL to move U-1, a
    random move U, the policy as RL to the end). ``farm``: where the workers run; ``warmed`` gets the seconds
    from the pool's creation to the end of its warm-up round (workers' start and first games)."""
    rules = Rules(size=9)
    u_max = (3 * 81) // 4

    def tasks_for(first: int, count: int) -> list:
        if scheme == "value":
            return value_tasks(first, count, u_max, seed=1)
        return match_tasks(first, count, "p", "p")

    keys = {"p": policy, "sl": policy, "rl": policy}
    created = time.perf_counter()
    with WorkerPool(workers, farm=farm) as pool:
        pool.run(split_tasks(tasks_for(0, workers * 2), workers, keys, rules, seed=1))
        if warmed is not None:
            warmed.append(time.perf_counter() - created)
        moves, games, started = 0, 0, time.perf_counter()
        for r in range(rounds):
            tasks = tasks_for((r + 1) * 10**6, workers * games_per_worker)
            for result in pool.run(split_tasks(tasks, workers, keys, rules, seed=1, first_task_id=100 + r)):
                moves += sum(len(g.moves) for g in result.games)
                games += len(result.games)
        seconds = time.perf_counter() - started
        return moves / seconds, games / seconds, moves / max(games, 1)


def _tree_rss_mib(root: int) -> tuple[float, int]:
    """(MiB resident, processes) of ``root``'s descendants (not ``root`` itself), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, count, stack = 0, 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        total, count = total + kib, count + 1
    return total / 1024, count


def farm_table(policy: str, backends: list[str], cores: int, games_per_worker: int, rounds: int,
               scheme: str) -> dict:
    """Games/s of each backend with 1 worker and with ``cores``, and Ray's start time and idle memory."""
    figures: dict = {"cores": cores, "games_per_worker": games_per_worker, "rounds": rounds, "scheme": scheme}
    if "ray" in backends:
        from selfplay.ray_farm import connect

        started = time.perf_counter()
        connect(num_cpus=cores)
        figures["ray_init_seconds"] = time.perf_counter() - started
        figures["ray_idle_mib"], figures["ray_processes"] = _tree_rss_mib(os.getpid())
    for backend in backends:
        for workers in sorted({1, cores}):
            warmed: list[float] = []
            _, games, length = selfplay_rate(policy, workers, games_per_worker, rounds, scheme,
                                             FarmConfig(backend), warmed)
            figures[f"{backend}_{workers}"] = {"games_per_second": games, "moves_per_game": length,
                                               "warm_up_seconds": warmed[0]}
    if "ray" in backends:
        with WorkerPool(cores, farm=FarmConfig("ray")):
            time.sleep(10)  # actors start, import torch and wait for work
            figures["ray_idle_with_actors_mib"], _ = _tree_rss_mib(os.getpid())
    return figures


def print_farm_table(figures: dict, backends: list[str]) -> None:
    cores = figures["cores"]
    print(f"self-play {figures['scheme']} games, {figures['games_per_worker']} games per worker in lockstep, "
          f"{figures['rounds']} rounds, {cores} cores")
    print(f"{'farm':6} {'workers':>7} {'games/s':>8} {'vs local':>9} {'warm-up s':>10}")
    for backend in backends:
        for workers in sorted({1, cores}):
            row = figures[f"{backend}_{workers}"]
            local = figures.get(f"local_{workers}")
            versus = f"{row['games_per_second'] / local['games_per_second']:.2f}x" if local else "-"
            print(f"{backend:6} {workers:7d} {row['games_per_second']:8.2f} {versus:>9} {row['warm_up_seconds']:10.1f}")
        if cores > 1:
            scaling = figures[f"{backend}_{cores}"]["games_per_second"] / figures[f"{backend}_1"]["games_per_second"]
            target = " (target >= 1.6x)" if backend == "ray" else ""
            print(f"{backend}: 1 -> {cores} workers {scaling:.2f}x{target}")
    if "ray" in backends:
        versus = figures[f"ray_{cores}"]["games_per_second"] / figures[f"local_{cores}"]["games_per_second"] \
            if "local" in backends else float("nan")
        print(f"ray / local at {cores} workers: {versus:.2f}x (target >= 0.90x)")
        print(f"ray start: ray.init {figures['ray_init_seconds']:.1f} s (a local cluster); idle memory "
              f"{figures['ray_idle_mib']:.0f} MiB in {figures['ray_processes']} processes before the farm, "
              f"{figures['ray_idle_with_actors_mib']:.0f} MiB with {cores} idle actors")


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
    ap.add_argument("--farm", help=f"measure the task farm's backends instead ({','.join(BACKENDS)}): games/s "
                    "with 1 worker and one per core")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(cores)
    backends = [b for b in (args.farm or "").split(",") if b]
    if unknown := [b for b in backends if b not in BACKENDS]:
        print(f"bench/selfplay.py: unknown farm {unknown[0]!r}; expected a list of {', '.join(BACKENDS)}",
              file=sys.stderr)
        return 2
    if "ray" in backends:
        try:
            FarmConfig("ray").check()
        except FarmUnavailable as exc:
            print(f"bench/selfplay.py: {exc}", file=sys.stderr)
            return 2
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
        if backends:
            figures = farm_table(policy, backends, cores, args.games_per_worker or args.batch, args.rounds,
                                 args.scheme)
            print_farm_table(figures, backends)
            if args.json:
                args.json.write_text(json.dumps(figures, indent=1))
            return 0
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
