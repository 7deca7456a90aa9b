"""Evaluation throughput: games/s of a ``minigo eval`` match with 1 and with 2 workers, and their ratio.

The match is ``gnugo:1`` against ``random`` on 9x9 (komi 7.5) by default, played by
``selfplay.matches.run_match`` exactly as ``minigo eval`` plays it: spawned worker processes, each with its
own GNU Go, SGFs written by the parent (into a temporary folder). Both worker counts play the same games (same
match seed), so the comparison is of throughput alone. Each round plays the match once with 1 worker and once
with 2, in alternating order from round to round so that load from elsewhere falls on both alike; games/s is
total games over total wall time per worker count, worker start-up included. The ratio is compared with the
issue's target of 1.7x (``PASS`` at or above). The load average before and after is printed, and the cores the
match actually obtained: CPU seconds of this process, its workers and their GNU Go processes over wall seconds
(our processes only alternate with GNU Go, so one worker uses about one core). On a busy machine the ratio is
bounded by the cores left free; CPU seconds per game shows whether the work per game stayed the same.

Run::

    .venv/bin/python bench/eval.py [--games 40] [--rounds 1] [--a gnugo:1] [--b random] [--size 9] [--json PATH]

Exit status 0 whatever the figures; 2 when GNU Go is missing (for a gnugo player) or a spec is bad.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/selfplay.py would shadow the selfplay package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from selfplay.matches import MatchConfig, MatchError, check_players, run_match  # noqa: E402

TARGET_RATIO = 1.7


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=40, help="games per match (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="matches per worker count (default %(default)s)")
    parser.add_argument("--a", default="gnugo:1", help="player A (default %(default)s)")
    parser.add_argument("--b", default="random", help="player B (default %(default)s)")
    parser.add_argument("--size", type=int, default=9, help="board size (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="match seed (default %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    base = MatchConfig(a=args.a, b=args.b, out=Path("unused"), games=args.games, size=args.size, workers=1,
                       seed=args.seed)
    try:
        check_players([args.a, args.b], base.rules)
    except MatchError as exc:
        print(f"bench/eval.py: {exc}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    totals = {1: [0, 0.0, 0.0], 2: [0, 0.0, 0.0]}  # workers -> [games, wall seconds, CPU seconds]
    rounds = []
    with tempfile.TemporaryDirectory(prefix="minigo-bench-eval-") as tmp:
        for number in range(args.rounds):
            order = (1, 2) if number % 2 == 0 else (2, 1)
            for workers in order:
                config = MatchConfig(a=args.a, b=args.b, out=Path(tmp) / f"r{number}w{workers}", games=args.games,
                                     size=args.size, workers=workers, seed=args.seed)
                cpu_start = _cpu_seconds()
                start = time.monotonic()
                result = run_match(config, progress=False)
                seconds = time.monotonic() - start
                cpu = _cpu_seconds() - cpu_start  # workers are joined and GNU Go reaped: their time is in
                totals[workers][0] += result.played_this_session
                totals[workers][1] += seconds
                totals[workers][2] += cpu
                rounds.append({"round": number, "workers": workers, "games": result.played_this_session,
                               "seconds": seconds, "cpu_seconds": cpu, "a_score": result.a_score,
                               "failed": len(result.failed)})
                print(f"round {number} workers {workers}: {result.played_this_session} games in {seconds:.1f} s "
                      f"({result.played_this_session / seconds:.2f} games/s, {cpu / seconds:.2f} cores used, "
                      f"{cpu / max(result.played_this_session, 1):.2f} CPU s/game); A scored {result.a_score:g}, "
                      f"failed {len(result.failed)}", flush=True)
    load_after = os.getloadavg()
    rate = {workers: games / seconds for workers, (games, seconds, _) in totals.items()}
    cores = {workers: cpu / seconds for workers, (_, seconds, cpu) in totals.items()}
    ratio = rate[2] / rate[1]
    print(f"{args.a} vs {args.b}, {args.size}x{args.size}, {args.games} games x {args.rounds} rounds per worker count")
    for workers in (1, 2):
        games, _, cpu = totals[workers]
        print(f"{workers} worker{'s' if workers > 1 else ' '}: {rate[workers]:.3f} games/s, {cores[workers]:.2f} cores "
              f"used, {cpu / max(games, 1):.2f} CPU s/game")
    print(f"ratio 2/1: {ratio:.2f}x (target >= {TARGET_RATIO}x: {'PASS' if ratio >= TARGET_RATIO else 'BELOW'})")
    print(f"cores: {os.cpu_count()}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    if args.json:
        figures = {"a": args.a, "b": args.b, "size": args.size, "games": args.games, "rounds": rounds,
                   "games_per_second": {str(k): v for k, v in rate.items()},
                   "cores_used": {str(k): v for k, v in cores.items()}, "ratio": ratio, "target": TARGET_RATIO,
                   "load_before": load_before, "load_after": load_after, "machine": platform.platform()}
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of every descendant reaped so far."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


if __name__ == "__main__":
    sys.exit(main())
