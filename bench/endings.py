"""How player A's lost games ended: was each loss already lost when the opponent first passed?

A may pass only when passing does not lose on the board as it stands (Tromp-Taylor), so after the opponent's
first pass a player that is behind on the board plays on — to capture dead stones when it is really ahead, and
to no purpose when it is not. This audit reads the SGFs of match folders (``minigo eval --out``,
``bench/strength.py``) and, for every game A lost, takes the position right after the opponent's first pass:

- ``A ahead`` — A was ahead there on the board as it stands, so passing would have won: the pass rule failed
  (expected 0);
- ``A behind`` — A was behind on the board; GNU Go's ``final_score`` there (which removes dead stones) says
  whether A was really winning, i.e. whether playing on threw a won game away (``won lost``, expected 0);
- ``no pass`` — the opponent never passed before the end (a resignation or the move cap).

Also counted: A's wins after being behind on the board at the opponent's first pass (games that playing on won).
A is Black in even-numbered games and White in odd ones, as ``minigo eval`` plays them.

Run::

    .venv/bin/python bench/endings.py FOLDER [FOLDER ...] [--json PATH]

A FOLDER is a match folder (with match.json and games/) or a folder of them (``RUN/strength``). Without GNU Go
the ``won lost`` column reads ``-``. Exit status 0 whatever the figures; 2 for a folder that holds no match.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/selfplay.py would shadow the selfplay package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from minigo import sgf  # noqa: E402
from minigo.go import BLACK, WHITE  # noqa: E402
from minigo.gtp_client import GTPEngine, GTPError, find_gnugo  # noqa: E402
from selfplay.match_table import match_folders  # noqa: E402


@dataclass
class Endings:
    """One match folder's counts; margins are A's, in points, on the board as it stands."""

    folder: str
    a: str
    b: str
    games: int = 0
    a_lost: int = 0
    lost_ahead: int = 0
    """Losses where A was ahead on the board when the opponent first passed: the pass rule failed."""
    lost_behind: int = 0
    won_lost: int | None = None
    """Of ``lost_behind``, how many GNU Go scores as A winning there (None without GNU Go)."""
    lost_no_pass: int = 0
    won_from_behind: int = 0
    """A's wins where A was behind on the board when the opponent first passed."""


def first_opponent_pass(record: sgf.GameRecord, a_color: int) -> tuple[int, float] | None:
    """(moves played up to and including the opponent's first pass, A's Tromp-Taylor margin there), or None."""
    position = record.initial_position()
    for number, move in enumerate(record.moves, 1):
        position = position.play(move.point, move.color)
        if move.color == -a_color and move.point == position.pass_point:
            return number, position.score() * a_color
    return None


def gnugo_margin(engine: GTPEngine, path: Path, moves: int, a_color: int) -> float:
    """A's margin by GNU Go's ``final_score`` (dead stones removed) after the first ``moves`` moves of ``path``."""
    engine.send(f"loadsgf {path.resolve()} {moves + 1}")
    answer = engine.send("final_score").strip()
    if answer == "0":
        return 0.0
    winner, points = answer[0].upper(), float(answer[2:])
    return points if (winner == "B") == (a_color == BLACK) else -points


def audit(folder: Path, engine: GTPEngine | None) -> Endings:
    try:
        match = json.loads((folder / "match.json").read_text(encoding="utf-8"))
        a, b = match["a"], match["b"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / 'match.json'}: not the JSON minigo eval writes ({exc!r})") from None
    out = Endings(folder=str(folder), a=a, b=b, won_lost=None if engine is None else 0)
    for path in sorted((folder / "games").glob("*.sgf")):
        if not path.stem.isdigit():
            continue  # not one of minigo eval's numbered games, whose number gives A's colour
        record = sgf.load(path)
        if not record.result or record.result[0] not in "BW":
            continue  # unscored or drawn
        a_color = BLACK if int(path.stem) % 2 == 0 else WHITE
        a_won = (record.result[0] == "B") == (a_color == BLACK)
        out.games += 1
        seen = first_opponent_pass(record, a_color)
        if a_won:
            out.won_from_behind += seen is not None and seen[1] < 0
            continue
        out.a_lost += 1
        if seen is None:
            out.lost_no_pass += 1
        elif seen[1] > 0:
            out.lost_ahead += 1
        else:
            out.lost_behind += 1
            if engine is not None and gnugo_margin(engine, path, seen[0], a_color) > 0:
                out.won_lost += 1
    return out


def table(rows: list[Endings]) -> list[str]:
    lines = [f"{'match':<24} {'games':>5} {'A lost':>6} {'A ahead':>7} {'A behind':>8} {'won lost':>8} "
             f"{'no pass':>7} {'won from behind':>15}"]
    for r in rows:
        won_lost = "-" if r.won_lost is None else str(r.won_lost)
        lines.append(f"{Path(r.folder).name:<24} {r.games:>5} {r.a_lost:>6} {r.lost_ahead:>7} {r.lost_behind:>8} "
                     f"{won_lost:>8} {r.lost_no_pass:>7} {r.won_from_behind:>15}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="match folders, or folders of them (RUN/strength)")
    parser.add_argument("--json", metavar="PATH", help="also write the counts here")
    args = parser.parse_args()
    folders = match_folders(args.folders)
    if isinstance(folders, str):
        print(f"bench/endings.py: {folders}", file=sys.stderr)
        return 2
    engine = None
    if find_gnugo() is None:
        print("GNU Go not found (apt-get install gnugo): the 'won lost' column is not checked", flush=True)
    else:
        engine = GTPEngine.gnugo(level=10)
    try:
        rows = [audit(folder, engine) for folder in folders]
    except (OSError, ValueError, GTPError) as exc:
        print(f"bench/endings.py: {exc}", file=sys.stderr)
        return 2
    finally:
        if engine is not None:
            engine.close()
    print("\n".join(table(rows)))
    print("A ahead: lost although A was ahead on the board at the opponent's first pass (the pass rule failed); "
          "A behind: lost, A behind there; won lost: of those, GNU Go's final_score there says A was winning")
    if args.json:
        try:
            Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"bench/endings.py: cannot write --json {args.json!r}: {exc.strerror}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
