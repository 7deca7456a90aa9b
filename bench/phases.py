"""Where a match was won and lost, by game phase: A's margin as GNU Go estimates it along every game.

A match's win rate says who is stronger, not where. This reads the SGFs of match folders (``minigo eval --out``,
``bench/strength.py``, ``bench/bundled.py``) and, in every scored game, asks GNU Go (``estimate_score``, level 10)
for A's margin after the opening and at each move number of ``--at``; the game's own result is the margin at
the end. A phase's *swing* is how much A's margin changed across it, averaged over the games (with a 95%
interval); *lead lost* / *lead won* count the games in which A went from ahead to behind across the phase, or
the other way. Used for issue 18: in a match of the λ = 0.5 search against λ = 1 (rollouts only), the phases in
which the mix loses points are where the value net misleads the search.

A is Black in even-numbered games and White in odd ones, as ``minigo eval`` plays them; the opening is the moves
the match's SGFs mark ``opening`` (the paired expert openings), so both players start each phase from the same
kind of position. Margins are A's, in points (komi included).

Run::

    .venv/bin/python bench/phases.py FOLDER [FOLDER ...] [--at 20,40] [--level 10] [--json PATH]

A FOLDER is a match folder (with match.json and games/) or a folder of them. Exit status 0 whatever the figures;
2 for a folder that holds no match, a bad ``--at`` or GNU Go missing (it says how to install it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/selfplay.py would shadow the selfplay package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from minigo import sgf  # noqa: E402
from minigo.go import BLACK, WHITE  # noqa: E402
from minigo.gtp_client import GTPEngine, GTPError, find_gnugo  # noqa: E402
from selfplay.match_table import match_folders  # noqa: E402

OPENING_COMMENT = "opening"


def parse_margin(answer: str) -> float:
    """Black's margin in points from a GTP score (``B+2.5``, ``W+7.5 (upper bound: ...)``, ``0``)."""
    token = answer.strip().split()[0] if answer.strip() else ""
    if token == "0":
        return 0.0
    if len(token) < 3 or token[0].upper() not in "BW" or token[1] != "+":
        raise ValueError(f"not a score: {answer!r} (expected B+N, W+N or 0)")
    try:
        points = float(token[2:])
    except ValueError:
        raise ValueError(f"not a score: {answer!r} (expected B+N, W+N or 0; B+R has no margin)") from None
    return points if token[0].upper() == "B" else -points


def opening_length(record: sgf.GameRecord) -> int:
    """How many moves at the start of the game the match marked as its opening."""
    count = 0
    for move in record.moves:
        if move.comment.strip() != OPENING_COMMENT:
            break
        count += 1
    return count


@dataclass
class GameMargins:
    """One game: A's colour, the move numbers where A's margin was read, the margins there, and who won."""

    game: int
    a_color: int
    moves: list[int]
    """Move numbers (moves played so far) of the readings; the last one is the end of the game."""
    margins: list[float]
    """A's margin at each of ``moves``: GNU Go's estimate, the game's result at the end."""


def read_game(engine: GTPEngine, path: Path, at: list[int]) -> GameMargins | None:
    """A's margins along the game in ``path`` after its opening and at ``at``; None for a game without a scored result
    (unfinished, drawn or resigned: no margin at the end)."""
    record = sgf.load(path)
    try:
        final = parse_margin(record.result)
    except ValueError:
        return None
    a_color = BLACK if int(path.stem) % 2 == 0 else WHITE
    length = len(record.moves)
    checkpoints = [opening_length(record)] + [m for m in at if m > opening_length(record)]
    moves: list[int] = []
    margins: list[float] = []
    for m in checkpoints:
        if m >= length:
            break  # the game ended before this reading: its result stands for it
        engine.send(f"loadsgf {path.resolve()} {m + 1}")  # GNU Go loads the position before move m + 1
        moves.append(m)
        margins.append(parse_margin(engine.send("estimate_score")) * a_color)
    moves.append(length)
    margins.append(final * a_color)
    return GameMargins(game=int(path.stem), a_color=a_color, moves=moves, margins=margins)


@dataclass
class Phase:
    """One phase of a match: from move ``start`` to ``end`` (None: the end of the game)."""

    start: int | str
    end: int | None
    games: int = 0
    swing: float = 0.0
    """A's mean change of margin across the phase, in points."""
    low: float = 0.0
    high: float = 0.0
    """95% interval of ``swing`` (normal, over games)."""
    lead_lost: int = 0
    lead_won: int = 0
    a_ahead_after: float = 0.0
    """Share of the games in which A is ahead at the end of the phase."""


@dataclass
class MatchPhases:
    folder: str
    a: str
    b: str
    games: int = 0
    a_won: int = 0
    skipped: int = 0
    """Games without a scored result (resigned, drawn, unfinished)."""
    opening: str = ""
    phases: list[Phase] = field(default_factory=list)


def phase_table(games: list[GameMargins], at: list[int]) -> list[Phase]:
    """Per phase (opening end → at[0] → at[1] … → end), A's mean swing and lead changes over ``games``.

    A game that ended inside a phase counts in that phase (from its last reading to its result) and not after."""
    bounds: list[int | None] = [*at, None]
    phases: list[Phase] = []
    for index, end in enumerate(bounds):
        start: int | str = "opening" if index == 0 else at[index - 1]
        swings: list[float] = []
        phase = Phase(start=start, end=end)
        ahead_after = 0
        for g in games:
            # the reading that opens this phase: the last one at or before its start (the opening's for phase 0)
            first = 0 if index == 0 else max((i for i, m in enumerate(g.moves) if m <= at[index - 1]), default=None)
            if first is None or first == len(g.moves) - 1:
                continue  # the game had ended before this phase
            last = first + 1
            while last < len(g.moves) - 1 and (end is None or g.moves[last] < end):
                last += 1
            before, after = g.margins[first], g.margins[last]
            swings.append(after - before)
            phase.lead_lost += before > 0 > after
            phase.lead_won += before < 0 < after
            ahead_after += after > 0
        phase.games = len(swings)
        if swings:
            mean = sum(swings) / len(swings)
            spread = math.sqrt(sum((s - mean) ** 2 for s in swings) / max(1, len(swings) - 1))
            half = 1.96 * spread / math.sqrt(len(swings))
            phase.swing, phase.low, phase.high = mean, mean - half, mean + half
            phase.a_ahead_after = ahead_after / len(swings)
        phases.append(phase)
    return phases


def measure(folder: Path, engine: GTPEngine, at: list[int]) -> MatchPhases:
    try:
        match = json.loads((folder / "match.json").read_text(encoding="utf-8"))
        a, b = match["a"], match["b"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / 'match.json'}: not the JSON minigo eval writes ({exc!r})") from None
    out = MatchPhases(folder=str(folder), a=a, b=b)
    games: list[GameMargins] = []
    openings: set[int] = set()
    for path in sorted((folder / "games").glob("*.sgf")):
        if not path.stem.isdigit():
            continue  # not one of minigo eval's numbered games, whose number gives A's colour
        game = read_game(engine, path, at)
        if game is None:
            out.skipped += 1
            continue
        games.append(game)
        openings.add(game.moves[0])
        out.a_won += game.margins[-1] > 0
    out.games = len(games)
    out.opening = ", ".join(str(m) for m in sorted(openings)) + " moves" if openings else "-"
    out.phases = phase_table(games, at)
    return out


def table(rows: list[MatchPhases]) -> list[str]:
    lines: list[str] = []
    for r in rows:
        lines.append(f"{Path(r.folder).name}: A = {r.a}, B = {r.b}; {r.games} scored games, A won {r.a_won}"
                     f"{f', {r.skipped} without a margin' if r.skipped else ''}; opening {r.opening}")
        lines.append(f"  {'phase':<14} {'games':>5} {'A swing':>8} {'95% interval':>17} {'lead lost':>9} "
                     f"{'lead won':>8} {'A ahead after':>13}")
        for p in r.phases:
            name = f"{p.start}-{'end' if p.end is None else p.end}"
            lines.append(f"  {name:<14} {p.games:>5} {p.swing:>+8.2f} {f'[{p.low:+.2f}, {p.high:+.2f}]':>17} "
                         f"{p.lead_lost:>9} {p.lead_won:>8} {p.a_ahead_after:>12.1%}")
    return lines


def parse_at(text: str) -> list[int]:
    try:
        at = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--at {text!r}: expected increasing move numbers, e.g. 20,40") from None
    if not at or any(m <= 0 for m in at) or at != sorted(set(at)):
        raise ValueError(f"--at {text!r}: expected increasing positive move numbers, e.g. 20,40")
    return at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="match folders, or folders of them (RUN/strength)")
    parser.add_argument("--at", default="20,40", help="move numbers where phases end (default %(default)s)")
    parser.add_argument("--level", type=int, default=10, help="GNU Go's level for its estimates (default 10)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    try:
        at = parse_at(args.at)
    except ValueError as exc:
        print(f"bench/phases.py: {exc}", file=sys.stderr)
        return 2
    folders = match_folders(args.folders)
    if isinstance(folders, str):
        print(f"bench/phases.py: {folders}", file=sys.stderr)
        return 2
    if find_gnugo() is None:
        print("bench/phases.py: GNU Go not found: it estimates the margins (apt-get install gnugo)", file=sys.stderr)
        return 2
    try:
        with GTPEngine.gnugo(level=args.level) as engine:
            rows = [measure(folder, engine, at) for folder in folders]
    except (OSError, ValueError, GTPError) as exc:
        print(f"bench/phases.py: {exc}", file=sys.stderr)
        return 2
    print("\n".join(table(rows)))
    print("A swing: A's mean change of margin across the phase (points; GNU Go's estimate_score, the game's result "
          "at the end); lead lost / won: games in which A went from ahead to behind / behind to ahead")
    if args.json:
        try:
            Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"bench/phases.py: cannot write --json {args.json!r}: {exc.strerror}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
