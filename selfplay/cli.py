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


def make_any_player(spec: str):
    """``minigo.players.make_player``, with the kinds that need torch (``policy:``) registered when asked for."""
    from minigo.players import PlayerSpec, known_kinds, make_player

    if PlayerSpec.parse(spec).kind not in known_kinds():
        import models.evaluator  # noqa: F401 - registers policy:; imported only when needed, torch is slow to load
    return make_player(spec)


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


def _gtp(args: argparse.Namespace) -> None:
    import logging
    import math

    from minigo.coords import MAX_SIZE, MIN_SIZE
    from minigo.go import Rules
    from minigo.gtp import Engine
    from minigo.gtp_client import EngineDied, GTPError
    from minigo.players import PlayerSpecError

    try:
        size = int(args.size)
    except ValueError:
        size = None
    if size is None or not MIN_SIZE <= size <= MAX_SIZE:
        raise UsageError(f"--size {args.size!r} is not an integer from {MIN_SIZE} to {MAX_SIZE}")
    try:
        komi = float(args.komi)
    except ValueError:
        komi = math.nan
    if not math.isfinite(komi):
        raise UsageError(f"--komi {args.komi!r} is not a finite number")
    # stdout carries the protocol alone: everything else, tracebacks included, goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="minigo gtp: %(levelname)s: %(message)s")
    try:
        player = make_any_player(args.player)
    except (PlayerSpecError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot build player {args.player!r}: {exc}") from None
    try:
        engine = Engine(player, Rules(size=size, komi=komi, ko=args.ko))  # starts GNU Go, if that is the player
    except FileNotFoundError as exc:
        player.close()
        raise UsageError(str(exc)) from None
    except (EngineDied, GTPError, OSError) as exc:
        player.close()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot start player {args.player!r}: {reason}") from None
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # a stray non-UTF-8 byte must not end the session
    engine.run(sys.stdin, sys.stdout)


def _add_gtp(commands: argparse._SubParsersAction) -> None:
    gtp = commands.add_parser("gtp", help="play over GTP v2 on stdin/stdout (for Sabaki, GoGui, or another engine)",
                              description="A GTP v2 engine around one player, e.g. "
                                          "`minigo gtp --player random` or `minigo gtp --player gnugo:5`.")
    gtp.add_argument("--player", required=True, metavar="SPEC",
                     help="who chooses the moves: random[,seed=N] or gnugo[:LEVEL][,timeout=S]")
    gtp.add_argument("--size", default="9", help="initial board size, 1 to 19 (default %(default)s)")
    gtp.add_argument("--komi", default="7.5", help="initial komi (default %(default)s)")
    gtp.add_argument("--ko", choices=["positional", "simple"], default="positional",
                     help="ko rule (default %(default)s)")
    gtp.set_defaults(run=_gtp)


def _expert_games(args: argparse.Namespace) -> None:
    import logging
    import math

    from selfplay import data

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.pack or args.unpack:
        try:
            if args.pack:
                count = data.pack_games(args.out, args.pack)
                print(f"packed {count} games from {args.out} into {args.pack}")
            else:
                written, kept = data.unpack_games(args.unpack, args.out)
                print(f"unpacked {written} games from {args.unpack} into {args.out} ({kept} were already there)")
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc)) from None
        return

    def integer(flag: str, text: str | None) -> int | None:
        try:
            return None if text is None else int(text)
        except ValueError:
            raise UsageError(f"{flag} {text!r} is not an integer") from None

    try:
        komi = float(args.komi)
    except ValueError:
        komi = math.nan
    if not math.isfinite(komi):
        raise UsageError(f"--komi {args.komi!r} is not a finite number")
    fields = {"size": integer("--size", args.size), "komi": komi, "levels": args.levels,
              "games": integer("--games", args.games), "seed": integer("--seed", args.seed),
              "max_opening_moves": integer("--max-opening-moves", args.max_opening_moves)}
    if args.workers is not None:
        fields["workers"] = integer("--workers", args.workers)
    try:
        config = data.ExpertGamesConfig(out=args.out, **fields)
    except ValueError as exc:  # messages start with the field's name: name the flag instead
        name, _, rest = str(exc).partition(" ")
        raise UsageError(f"--{name.replace('_', '-')} {rest}") from None
    try:
        data.run_expert_games(config, progress=not args.no_progress)
    except (data.GnuGoMissing, RuntimeError) as exc:
        raise UsageError(str(exc)) from None


def _add_expert_games(commands: argparse._SubParsersAction) -> None:
    expert = commands.add_parser(
        "expert-games", help="play GNU Go against itself into a folder of SGF games (resumable); pack/unpack them",
        description="Play GNU Go against itself (Chinese rules, positional superko, --capture-all-dead), one SGF "
                    "per game in OUT/games; rerun the same command to resume. With --pack or --unpack, move a "
                    "run's games to or from one .sgf.gz collection.")
    expert.add_argument("--out", required=True, metavar="DIR", help="run folder (games in DIR/games, DIR/CARD.md)")
    expert.add_argument("--size", default="9", help="board size, 5 to 19 (default %(default)s)")
    expert.add_argument("--komi", default="7.5", help="komi (default %(default)s)")
    expert.add_argument("--levels", default="10:1000,1-9:4000", metavar="SCHEDULE",
                        help="GNU Go levels (0..10): LEVEL:COUNT or LOW-HIGH:COUNT, comma-separated "
                             "(default %(default)s)")
    expert.add_argument("--games", help="total games, sharing the levels in the schedule's proportions "
                                        "(default: the schedule's total)")
    expert.add_argument("--workers", help="worker processes, one GNU Go each (default: the number of cores)")
    expert.add_argument("--seed", default="0", help="run seed: game seeds and the schedule's order (default 0)")
    expert.add_argument("--max-opening-moves", default="3", metavar="N",
                        help="each game opens with 0..N random moves (default %(default)s)")
    expert.add_argument("--no-progress", action="store_true", help="no progress bar")
    bundle = expert.add_mutually_exclusive_group()
    bundle.add_argument("--pack", metavar="FILE.sgf.gz", help="pack DIR/games into one gzip'd SGF collection")
    bundle.add_argument("--unpack", metavar="FILE.sgf.gz", help="write a packed collection back to DIR/games")
    expert.set_defaults(run=_expert_games)


def _train(args: argparse.Namespace) -> None:
    import logging
    from pathlib import Path

    from models.checkpoint import CheckpointError
    from selfplay import pipeline, sl

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    overrides = list(args.set or [])
    if args.device:
        overrides += [f"{stage}.device={args.device}" for stage in pipeline.STAGES]
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    try:
        config = pipeline.resolve(args.preset, overrides)
        run_dir = Path(args.run_dir or f"runs/{Path(args.preset).stem}")
        results = pipeline.train(config, run_dir, stages, force=args.force, progress=not args.quiet)
    except (pipeline.ConfigError, sl.TrainingError, CheckpointError) as exc:  # rl and value raise TrainingError too
        raise UsageError(str(exc)) from None
    except (ValueError, FileNotFoundError) as exc:  # bad data paths and the like, from the stages
        raise UsageError(str(exc).splitlines()[0]) from None
    if "sl" in results:
        r = results["sl"]
        print(f"SL policy: validation top-1 {r.val_top1:.1%} -> {r.policy}")
        if r.rollout is not None:
            print(f"rollout policy: validation top-1 {r.rollout_val_top1:.1%} -> {r.rollout}")
    if "rl" in results and results["rl"].win_rate_vs_sl is not None:
        print(f"RL policy: wins {results['rl'].win_rate_vs_sl:.1%} against the SL policy -> {results['rl'].policy}")
    if "value" in results:
        v = results["value"]
        print(f"value net: validation MSE {v.val_mse:.3f} (train {v.train_mse:.3f}) -> {v.value}")
    print(f"play it: minigo gtp --player policy:{run_dir}")


def _add_train(commands: argparse._SubParsersAction) -> None:
    from selfplay import pipeline

    train = commands.add_parser("train", help="run the training pipeline: sl (+ rollout), rl, value")
    train.add_argument("--preset", default="quick",
                       help=f"{' | '.join(pipeline.preset_names())} | FILE.toml (default %(default)s)")
    train.add_argument("--run", dest="run_dir", metavar="DIR", help="run folder (default runs/PRESET)")
    train.add_argument("--stages", default="sl,rl,value", help="comma-separated stages in order (default %(default)s)")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to train (default: the preset's)")
    train.add_argument("--set", action="append", metavar="STAGE.FIELD=VALUE", help="override one config field")
    train.add_argument("--force", action="store_true", help="reuse a run folder made by another preset or size")
    train.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")
    train.set_defaults(run=_train)


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
    _add_gtp(commands)
    _add_expert_games(commands)
    _add_train(commands)
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
