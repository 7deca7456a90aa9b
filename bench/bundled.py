"""The bundled model's ladder against GNU Go: its MCTS at about a second a move against levels 10, 5 and 1, and the
raw RL and SL policies against level 1 — 9x9, komi 7.5, area scoring, colours alternating — printed beside the
issue's target (≥ 90% against level 10; the rest reported).

Every match is ``selfplay.matches.run_match``, exactly as ``minigo eval`` plays it, in its own folder under
``--out``, so the script resumes: rerun it and only games without an SGF are played; larger ``--games`` /
``--others`` extend the matches. The matches grow together in rounds (each round adds ``--chunk`` games to the
level-10 match and the same share of the others), so a run cut short still has every figure, with wider
intervals. Pairs of games start from 4-move expert openings, one with each colour, so that players without noise
(GNU Go, a greedy policy) still play distinct games; the table counts them.

The setting, so that a reader can reproduce it: ``--workers`` games side by side (default: one per core), each
player on one thread. ``--player`` is any player spec; the default is the bot that ``minigo play`` and ``minigo gtp``
play without ``--player`` (``mcts:bundled,seconds=1``).

Run::

    .venv/bin/python bench/bundled.py [--player SPEC] [--rl SPEC] [--sl SPEC] [--games 200] [--others 100]
                                     [--chunk 20] [--workers N] [--only gnugo10,gnugo5,gnugo1,rl,sl]
                                     [--seed 11] [--out runs/bundled] [--json PATH]

Exit status 0 whatever the figures; 2 for a bad argument, a player that cannot be built or GNU Go missing (it
says how to install it), or a match folder that holds another match; 130 after Ctrl-C (finished games are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/selfplay.py would shadow the selfplay package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from selfplay import match_table  # noqa: E402
from selfplay.cli import DEFAULT_BOT  # noqa: E402
from selfplay.farm import worker_count  # noqa: E402
from selfplay.match_results import MatchResult  # noqa: E402
from selfplay.matches import MatchConfig, MatchError, check_players, run_match  # noqa: E402
from selfplay.move_timing import thinking_time  # noqa: E402

DEFAULT_PLAYER = DEFAULT_BOT
"""What ``minigo play`` and ``minigo gtp`` play without ``--player``: the bundled MCTS, a second a move."""
LEVEL10_TARGET = 0.90


@dataclass(frozen=True)
class Rung:
    """One match: A (the searching player, or a raw policy) against a GNU Go level."""

    key: str
    a: str
    """Which of the ladder's players is A: ``player``, ``rl`` or ``sl``."""
    level: int
    main: bool = False
    """The headline match (``--games``; the others get ``--others``)."""
    target: float | None = None


RUNGS = (
    Rung("gnugo10", "player", 10, main=True, target=LEVEL10_TARGET),
    Rung("gnugo5", "player", 5),
    Rung("gnugo1", "player", 1),
    Rung("rl", "rl", 1),
    Rung("sl", "sl", 1),
)


def bundled_sl_spec() -> str:
    """``policy:PATH`` of the bundled SL policy (``policy:bundled`` is the RL one), relative to here when inside."""
    from models.bundled import bundled_run
    from models.run_layout import RunLayout

    path = Path(RunLayout(bundled_run()).sl_policy)
    try:
        path = Path(os.path.relpath(path))
    except ValueError:  # another drive (Windows)
        pass
    return f"policy:{path.as_posix()}"


def rounds(games: int, others: int, chunk: int) -> list[tuple[int, int]]:
    """The (main, other) game counts the matches reach round by round, ending at (games, others); the others grow
    in step, by whole pairs (an opening is played once with each colour)."""
    steps = max(1, -(-games // chunk))
    return [(min(games, chunk * i), min(others, 2 * -(-others * chunk * i // (2 * games))))
            for i in range(1, steps + 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--player", default=DEFAULT_PLAYER, help="the searching player (default %(default)s)")
    parser.add_argument("--rl", default="policy:bundled", help="the RL policy (default %(default)s)")
    parser.add_argument("--sl", help="the SL policy (default: the bundled one)")
    parser.add_argument("--games", type=int, default=200, help="games against level 10 (default %(default)s)")
    parser.add_argument("--others", type=int, default=100, help="games in each other match (default %(default)s)")
    parser.add_argument("--chunk", type=int, default=20,
                        help="level-10 games added a round (default %(default)s)")
    parser.add_argument("--workers", type=int, default=worker_count(),
                        help="games side by side, one process each (default: the cores this process may use)")
    parser.add_argument("--only", default=",".join(r.key for r in RUNGS),
                        help="matches to play, comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=11, help="match seed (default %(default)s)")
    parser.add_argument("--out", default="runs/bundled", help="folder of the match folders (default %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the table's figures here")
    parser.add_argument("--time-games", type=int, default=2, metavar="K",
                        help="first time A's moves over K games against level 10, side by side as the matches play "
                             "(0: skip; default %(default)s)")

    def fail(message: str) -> int:
        print(f"bench/bundled.py: {message}", file=sys.stderr)
        return 2

    def one_line_error(message: str) -> None:  # argparse's own errors print the whole usage first
        sys.exit(fail(f"{message} (see --help)"))

    parser.error = one_line_error  # type: ignore[method-assign]
    args = parser.parse_args()

    by_key = {r.key: r for r in RUNGS}
    try:
        keys = match_table.chosen_keys(args.only, list(by_key))
    except ValueError as exc:
        return fail(str(exc))
    for name in ("games", "others", "chunk", "workers"):
        if getattr(args, name) < 1:
            return fail(f"--{name} {getattr(args, name)} is not a positive integer")
    if args.time_games < 0:
        return fail(f"--time-games {args.time_games} is negative: expected games to time, or 0 to skip")
    chosen = [by_key[k] for k in keys]
    try:
        players = {"player": args.player, "rl": args.rl, "sl": args.sl or bundled_sl_spec()}
    except Exception as exc:  # noqa: BLE001 - a damaged bundle: its own one-line message
        return fail(str(exc))
    out = Path(args.out)

    def label(rung: Rung) -> str:
        name = {"player": "A", "rl": "RL policy", "sl": "SL policy"}[rung.a]
        return f"{name} vs GNU Go level {rung.level}"

    def config(rung: Rung, games: int) -> MatchConfig:
        return MatchConfig(a=players[rung.a], b=f"gnugo:{rung.level}", out=out / rung.key, games=games,
                           workers=args.workers, seed=args.seed, openings=4)

    try:
        for rung in chosen:
            check_players([players[rung.a], f"gnugo:{rung.level}"], config(rung, 1).rules)
    except (MatchError, ValueError) as exc:
        return fail(str(exc))

    results: dict[str, MatchResult] = {}
    start = time.monotonic()
    interrupted = False
    timing = None
    try:
        if args.time_games and any(r.a == "player" for r in chosen):
            mean, moves = thinking_time(players["player"], 10, args.time_games, args.workers, args.seed)
            timing = {"seconds_per_move": mean, "moves": moves, "games": args.time_games}
            print(f"A thinks {mean:.2f} s a move (mean of {moves} moves over {args.time_games} games against GNU Go "
                  f"level 10, {min(args.workers, args.time_games)} side by side)", flush=True)
        for main_games, other_games in rounds(args.games, args.others, args.chunk):
            for rung in chosen:
                games = main_games if rung.main else other_games
                if games < 1:
                    continue
                result = run_match(config(rung, games), progress=False, check=False)
                results[rung.key] = result
                if result.played_this_session:
                    print(f"{label(rung)}: {result.scored}/{args.games if rung.main else args.others} games, "
                          f"A {result.win_rate:.1%} ({result.played_this_session} played in {result.seconds:.0f} s; "
                          f"{(time.monotonic() - start) / 60:.1f} min in all)", flush=True)
    except MatchError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        interrupted = True
    rows = [match_table.Row(label(r), results.get(r.key), args.games if r.main else args.others, r.target)
            for r in chosen]
    print(f"A = {players['player']}; RL policy = {players['rl']}; SL policy = {players['sl']}")
    print(f"{args.workers} games side by side, one process each; 9x9, komi 7.5, area scoring, 4-move openings"
          + ("" if timing is None else f"; A {timing['seconds_per_move']:.2f} s a move"))
    print("\n".join(match_table.format_table(rows)))
    if args.json:
        figures = {"players": players, "workers": args.workers, "seed": args.seed, "timing": timing, "matches": {
            r.key: None if row.result is None or row.result.scored == 0 else {
                "a": row.result.a, "b": row.result.b, "scored": row.result.scored, "planned": row.planned,
                "win_rate": row.result.win_rate, "wilson": list(row.result.wilson),
                "a_black": [row.result.a_black_score, row.result.a_black_games],
                "a_white": [row.result.a_white_score, row.result.a_white_games],
                "distinct_games": row.result.distinct_games, "target": r.target,
                "verdict": match_table.verdict(row.result, row.planned, r.target), "out": row.result.out}
            for r, row in zip(chosen, rows, strict=True)}}
        Path(args.json).write_text(json.dumps(figures, indent=1, allow_nan=False, default=str) + "\n",
                                   encoding="utf-8")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
