"""Stage 4's strength figures: MCTS (λ = 0.5) of one run against the raw SL policy, against MCTS with λ = 0 and
with λ = 1, and against GNU Go levels 1, 5 and 10 — each printed beside its target.

Every match is ``selfplay.matches.run_match``, exactly as ``minigo eval`` plays it (A is Black in even games,
each game's seeds from ``(--seed, index)``), in its own folder under ``--out``, so the script resumes: rerun it
and only games without an SGF are played; a larger ``--games`` extends every match. The matches grow together
in rounds of ``--chunk`` games (a round-robin over the matches), so a run cut short still has every figure,
with wider intervals. Player A is ``mcts:RUN,playouts=N`` (λ = 0.5 is the default; ``--c-puct C`` adds
``,c_puct=C``, and the λ = 0 and λ = 1 opponents search with the same C); the SL policy plays greedy
(``policy:RUN``, the run's SL checkpoint), as the paper compared it. Give a match set with another ``--c-puct``
its own ``--out``: a match folder refuses games of another match.

Run::

    .venv/bin/python bench/strength.py RUN [--games 200] [--chunk 20] [--playouts 400] [--c-puct C] [--workers N]
                                           [--only sl,lambda0,lambda1,gnugo1,gnugo5,gnugo10] [--seed 11]
                                           [--out DIR] [--json PATH]

Targets (issue 6): ≥ 90% against the SL policy; > 50% against λ = 0 and λ = 1 (the paper found the mix best;
whatever this shows is the figure); GNU Go levels are reported without a target. The verdict ``MET`` needs the
win rate at or above the target, ``BELOW`` otherwise; with fewer games than asked it reads ``so far``. Beside
each rate: A's score as Black and as White (between near-equal players the colour can weigh more than the player)
and how many of the games are distinct move sequences (players without noise can repeat a game).
Exit status 0 whatever the figures; 2 for a bad argument, a run without the checkpoints MCTS needs, or a match
folder that holds another match; 130 after Ctrl-C (finished games are kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/selfplay.py would shadow the selfplay package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from selfplay import match_table  # noqa: E402
from selfplay.farm import worker_count  # noqa: E402
from selfplay.match_results import MatchResult  # noqa: E402
from selfplay.matches import MatchConfig, MatchError, check_players, run_match  # noqa: E402


@dataclass(frozen=True)
class Opponent:
    """One match of the table: B's spec is built from A's spec and the run."""

    key: str
    label: str
    target: float | None
    """A's win rate the issue asks for (None: report only)."""
    strict: bool = False
    """The target must be exceeded, not just reached (to "beat" is > 50%)."""

    def spec(self, run: str, mcts: str) -> str:
        if self.key == "sl":
            return f"policy:{run}"
        if self.key.startswith("lambda"):
            return f"{mcts},lambda={self.key[len('lambda'):]}"
        return f"gnugo:{self.key[len('gnugo'):]}"


OPPONENTS = (
    Opponent("sl", "SL policy (greedy)", 0.90),
    Opponent("lambda0", "MCTS λ=0 (value net only)", 0.50, strict=True),
    Opponent("lambda1", "MCTS λ=1 (rollouts only)", 0.50, strict=True),
    Opponent("gnugo1", "GNU Go level 1", None),
    Opponent("gnugo5", "GNU Go level 5", None),
    Opponent("gnugo10", "GNU Go level 10", None),
)


def mcts_spec(run: str, playouts: int, c_puct: float | None = None) -> str:
    """Player A's spec: the run's MCTS at ``playouts`` a move, with the player's default c_puct unless given."""
    spec = f"mcts:{run},playouts={playouts}"
    return spec if c_puct is None else f"{spec},c_puct={c_puct:g}"


def verdict(opponent: Opponent, result: MatchResult | None, planned: int) -> str:
    return match_table.verdict(result, planned, opponent.target, opponent.strict)


def table(rows: list[tuple[Opponent, MatchResult | None]], planned: int, a: str) -> list[str]:
    return [f"A = {a}", *match_table.format_table(
        [match_table.Row(o.label, r, planned, o.target, o.strict) for o, r in rows])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run folder with sl_policy, value and rollout checkpoints")
    parser.add_argument("--games", type=int, default=200, help="games per match (default %(default)s)")
    parser.add_argument("--chunk", type=int, default=20, help="games added to each match a round (default %(default)s)")
    parser.add_argument("--playouts", type=int, default=400, help="MCTS playouts a move (default %(default)s)")
    parser.add_argument("--c-puct", type=float, help="MCTS exploration constant (default: the player's, 2)")
    parser.add_argument("--workers", type=int, default=worker_count(),
                        help="worker processes (default: the cores this process may use)")
    parser.add_argument("--only", default=",".join(o.key for o in OPPONENTS),
                        help="matches to play, comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=11, help="match seed (default %(default)s)")
    parser.add_argument("--openings", type=int, default=4, choices=range(0, 21), metavar="K",
                        help="pairs of games start from K-move expert openings, one with each colour, so that "
                             "players without noise play different games (0: the empty board; default %(default)s)")
    parser.add_argument("--out", help="folder of the match folders (default RUN/strength)")
    parser.add_argument("--json", metavar="PATH", help="also write the table's figures here")

    def fail(message: str) -> int:
        print(f"bench/strength.py: {message}", file=sys.stderr)
        return 2

    def one_line_error(message: str) -> None:  # argparse's own errors print the whole usage first
        sys.exit(fail(f"{message} (see --help)"))

    parser.error = one_line_error  # type: ignore[method-assign]
    args = parser.parse_args()

    by_key = {o.key: o for o in OPPONENTS}
    try:
        keys = match_table.chosen_keys(args.only, list(by_key))
    except ValueError as exc:
        return fail(str(exc))
    for name in ("games", "chunk", "playouts", "workers"):
        if getattr(args, name) < 1:
            return fail(f"--{name} {getattr(args, name)} is not a positive integer")
    if args.c_puct is not None and not (args.c_puct > 0 and args.c_puct < float("inf")):
        return fail(f"--c-puct {args.c_puct:g} is not a positive number")
    run = args.run.rstrip("/")
    if not Path(run).is_dir():
        return fail(f"run folder {run!r} does not exist: expected a run with sl, value and rollout checkpoints")
    out = Path(args.out) if args.out else Path(run) / "strength"
    mcts = mcts_spec(run, args.playouts, args.c_puct)
    chosen = [by_key[k] for k in keys]

    def config(opponent: Opponent, games: int) -> MatchConfig:
        return MatchConfig(a=mcts, b=opponent.spec(run, mcts), out=out / f"mcts-vs-{opponent.key}", games=games,
                           workers=args.workers, seed=args.seed, openings=args.openings)

    playable: list[Opponent] = []
    for opponent in chosen:
        try:
            check_players([mcts, opponent.spec(run, mcts)], config(opponent, 1).rules)
        except MatchError as exc:
            if opponent.key.startswith("gnugo"):
                print(f"skipping {opponent.label}: {exc}", flush=True)
                continue
            return fail(str(exc))
        playable.append(opponent)

    results: dict[str, MatchResult] = {}
    start = time.monotonic()
    interrupted = False
    try:
        for target in range(min(args.chunk, args.games), args.games + args.chunk, args.chunk):
            target = min(target, args.games)
            for opponent in playable:
                result = run_match(config(opponent, target), progress=False, check=False)
                results[opponent.key] = result
                if result.played_this_session:
                    print(f"{opponent.label}: {result.scored}/{args.games} games, A {result.win_rate:.1%} "
                          f"({result.played_this_session} played in {result.seconds:.0f} s; "
                          f"{(time.monotonic() - start) / 60:.1f} min in all)", flush=True)
            if target == args.games:
                break
    except MatchError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        interrupted = True
    rows = [(o, results.get(o.key)) for o in chosen]
    print("\n".join(table(rows, args.games, mcts)))
    if args.json:
        figures = {"a": mcts, "games": args.games, "seed": args.seed, "matches": {
            o.key: None if r is None or r.scored == 0 else {"b": r.b, "scored": r.scored, "win_rate": r.win_rate,
                                           "wilson": list(r.wilson), "a_black": [r.a_black_score, r.a_black_games],
                                           "a_white": [r.a_white_score, r.a_white_games],
                                           "distinct_games": r.distinct_games, "target": o.target,
                                           "verdict": verdict(o, r, args.games), "out": r.out}
            for o, r in rows}}
        Path(args.json).write_text(json.dumps(figures, indent=1, allow_nan=False, default=str) + "\n",
                                   encoding="utf-8")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
