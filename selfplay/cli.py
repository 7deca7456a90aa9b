"""The ``minigo`` command: argparse front end for every subcommand; the only module that reads argv.

Every error a user can cause ends in one line on stderr naming the problem and what was expected, and exit
status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from minigo import __version__


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def _show(args: argparse.Namespace) -> None:
    from minigo.sgf import SGFError, load

    try:
        record = load(args.sgf, ko=args.ko)
    except OSError as exc:
        raise UsageError(f"cannot read {args.sgf}: {exc.strerror or exc}") from None
    except SGFError as exc:
        raise UsageError(str(exc)) from None
    positions = list(record.positions())
    move = len(positions) - 1 if args.move is None else args.move
    if not 0 <= move < len(positions):
        raise UsageError(f"--move {move} is not in the game: expected 0..{len(positions) - 1}")
    position = positions[move]
    print(position)
    black, white = position.area()
    print(f"Tromp-Taylor area: black {black}, white {white}, komi {position.komi:g}: {position.result()}")
    if record.result:
        print(f"recorded result: {record.result}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minigo", description="A small-board Go program that learns like AlphaGo.")
    parser.add_argument("--version", action="version", version=f"minigo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    show = commands.add_parser("show", help="replay an SGF game and print the board and its Tromp-Taylor score")
    show.add_argument("sgf", help="an SGF file (the first game of a collection is shown)")
    show.add_argument("--move", type=int, help="show the position after this many moves (default: the end)")
    show.add_argument("--ko", choices=["positional", "simple"], default="positional",
                      help="ko rule (default %(default)s)")
    show.set_defaults(run=_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        args.run(args)
    except UsageError as exc:
        print(f"minigo {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
