"""The ``minigo`` command: argparse front end for every subcommand; the only module that reads argv.

Every error a user can cause ends in one line on stderr naming the problem and what was expected, and exit
status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from minigo import __version__
from minigo.coords import MAX_SIZE, MIN_SIZE

if TYPE_CHECKING:
    from selfplay.farm import FarmConfig


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


DEFAULT_BOT = "mcts:bundled,seconds=1"
"""Who ``minigo play`` and ``minigo gtp`` play without ``--player``: the bundled model, about a second a move."""


def _default_player(command: str) -> str:
    """``DEFAULT_BOT`` when the bundled model is installed; else ``random``, saying so once on stderr."""
    from models.bundled import bundled_run
    from models.checkpoint import CheckpointError

    try:
        bundled_run()
    except CheckpointError as exc:
        print(f"minigo {command}: playing random ({exc})", file=sys.stderr)
        return "random"
    return DEFAULT_BOT


def _check_bundled_size(spec: str, size: int) -> None:
    """A spec naming the bundled model on another board is one line saying what it plays and how to train another."""
    from minigo.players import PlayerSpec, PlayerSpecError
    from models.bundled import BUNDLED_SIZE, bundled_run, is_bundled
    from models.checkpoint import CheckpointError

    try:
        bundled = is_bundled(PlayerSpec.parse(spec).arg)
    except PlayerSpecError:
        return  # building the player says what is wrong with the spec
    if bundled and size != BUNDLED_SIZE:
        try:
            bundled_run(size)
        except CheckpointError as exc:
            raise UsageError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``minigo CMD: --flag 'x' is not ...``, exit status 2 (argparse's
    own prints the usage first, which buries the reason)."""

    def error(self, message: str) -> NoReturn:
        named = re.fullmatch(r"argument ([^\s:/]+)(?:/\S+)?: (.*)", message, flags=re.DOTALL)
        if named is not None and named.group(2).startswith("'"):
            message = f"{named.group(1)} {named.group(2)}"  # a type's message already says what was expected
        self.exit(2, f"{self.prog}: {message}\n")


def _typed(parse: Callable[[str], Any], expected: str) -> Callable[[str], Any]:
    """An argparse ``type=``: ``parse(text)``, or ``'TEXT' is not EXPECTED``."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}") from None

    convert.__name__ = expected  # argparse names the type in some messages
    return convert


def _integer_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise ValueError(text)
        return value

    return _typed(parse, f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _at_least_zero(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise ValueError(text)
    return value


BOARD_SIZE = _integer_in(MIN_SIZE, MAX_SIZE)
"""``--size``: a board size the rules support."""
KOMI = _typed(_finite, "a finite number")
"""``--komi``: any finite number."""
COUNT = _integer_in(1)
"""Games, workers: 1 or more."""
SEED = _integer_in(0)
"""Seeds: 0 or more."""
INTEGER = _typed(int, "an integer")
"""Any integer: the config it fills checks the range and names the flag."""
NON_NEGATIVE = _typed(_at_least_zero, "a number >= 0")
"""Temperatures."""


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

    from minigo.go import Rules
    from minigo.gtp import Engine
    from minigo.gtp_client import EngineDied, GTPError
    from minigo.players import PlayerSpecError
    from selfplay.player_kinds import make_player

    # stdout carries the protocol alone: everything else, tracebacks included, goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="minigo gtp: %(levelname)s: %(message)s")
    try:
        spec = args.player or _default_player("gtp")
        _check_bundled_size(spec, args.size)
        player = make_player(spec)
    except (PlayerSpecError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot build player {spec!r}: {exc}") from None
    try:
        engine = Engine(player, Rules(size=args.size, komi=args.komi, ko=args.ko))  # starts GNU Go, if it plays
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
    gtp.add_argument("--player", metavar="SPEC",
                     help="who chooses the moves: mcts:RUN, policy:RUN, random[,seed=N], gnugo[:LEVEL][,timeout=S] "
                          f"(default {DEFAULT_BOT}: the bundled 9x9 model, about a second a move)")
    gtp.add_argument("--size", type=BOARD_SIZE, default=9, help="initial board size, 1 to 19 (default %(default)s)")
    gtp.add_argument("--komi", type=KOMI, default=7.5, help="initial komi (default %(default)s)")
    gtp.add_argument("--ko", choices=["positional", "simple"], default="positional",
                     help="ko rule (default %(default)s)")
    gtp.set_defaults(run=_gtp)


# -- play in a window (minigo/gui.py) -------------------------------------------------------------------------


def _play(args: argparse.Namespace) -> None:
    import os
    import random
    from pathlib import Path

    from minigo import gui
    from minigo.go import BLACK, WHITE, Rules, handicap_points
    from minigo.gtp_client import EngineDied, GTPError
    from minigo.gui_view import DisplayError, GameView, display_problem, user_games_dir
    from minigo.players import PlayerSpecError
    from minigo.sgf import SGFError, load
    from selfplay.player_kinds import make_player

    problem = display_problem(os.environ, sys.platform)
    if problem:
        raise UsageError(problem)
    record, handicap = None, 0
    if args.sgf is not None:
        for flag, value in (("--size", args.size), ("--komi", args.komi), ("--handicap", args.handicap)):
            if value is not None:
                raise UsageError(f"{flag} comes from the SGF file: leave it out with --sgf")
        try:
            record = load(args.sgf, ko=args.ko)
        except OSError as exc:
            raise UsageError(f"cannot read {args.sgf}: {exc.strerror or exc}") from None
        except SGFError as exc:
            raise UsageError(str(exc)) from None
        rules = record.game_rules
    else:
        size = args.size or 9
        handicap = args.handicap or 0
        if handicap:
            try:
                handicap_points(size, handicap)
            except ValueError as exc:
                raise UsageError(f"--{exc}") from None
        komi = args.komi if args.komi is not None else 0.5 if handicap else 7.5
        rules = Rules(size=size, komi=komi, ko=args.ko)

    def build(spec: str):
        try:
            return make_player(spec)
        except (PlayerSpecError, ValueError) as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        except OSError as exc:
            raise UsageError(f"cannot build player {spec!r}: {exc}") from None

    spec = args.player or _default_player("play")
    for one in (spec, args.watch):
        if one is not None:
            _check_bundled_size(one, rules.size)
    bots = [build(spec)]
    try:
        if args.watch is not None:
            bots.append(build(args.watch))
        for bot in bots:
            bot.reset(rules)  # starts GNU Go, checks a network's board size
    except (UsageError, FileNotFoundError, ValueError, EngineDied, GTPError, OSError) as exc:
        for bot in bots:
            bot.close()
        if isinstance(exc, UsageError):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(reason if isinstance(exc, (FileNotFoundError, ValueError)) else
                         f"cannot start player {bot.name!r}: {reason}") from None
    you = {"black": BLACK, "white": WHITE}.get(args.color) or random.choice((BLACK, WHITE))
    seats = {-you: bots[0], you: bots[1] if len(bots) > 1 else None}
    games = user_games_dir(os.environ, Path.home())
    view = GameView(seats, rules, games_dir=games, handicap=handicap, record=record, save_path=args.save,
                    bot_delay=0.6 if args.watch else 0.0, swap_each_game=args.color == "random")
    try:
        gui.run_window(view)
    except DisplayError as exc:
        raise UsageError(str(exc)) from None
    print(f"games are saved in {games}")


def _add_play(commands: argparse._SubParsersAction) -> None:
    play = commands.add_parser(
        "play", help="play against a player in a window (or watch two players)",
        description="A pygame window: click to play; P pass, U undo (the bot's reply too), R resign, N new game, "
                    "S save SGF, A show what the bot thought (heat map and line), arrows browse the game. Every game "
                    "is also saved to $XDG_DATA_HOME/minigo/games (~/.local/share/minigo/games).")
    play.add_argument("--player", metavar="SPEC",
                      help="your opponent: mcts:RUN[,playouts=N], policy:RUN, random, gnugo[:LEVEL]... "
                           f"(default {DEFAULT_BOT}: the bundled 9x9 model, about a second a move)")
    play.add_argument("--color", choices=["black", "white", "random"], default="black",
                      help="your colour (random: drawn again for each new game) (default %(default)s)")
    play.add_argument("--size", type=BOARD_SIZE, help="board size, 1 to 19 (default 9)")
    play.add_argument("--komi", type=KOMI, help="komi (default 7.5, or 0.5 with a handicap)")
    play.add_argument("--handicap", type=_integer_in(0), help="fixed handicap stones for Black, 2 to 9 (White then "
                      "moves first)")
    play.add_argument("--ko", choices=["positional", "simple"], default="positional",
                      help="ko rule (default %(default)s)")
    play.add_argument("--sgf", metavar="FILE", help="open a game record to review or continue (its size and komi)")
    play.add_argument("--save", metavar="FILE", help="where S saves the game (default: the games folder)")
    play.add_argument("--watch", metavar="SPEC",
                      help="watch: this player takes your seat (the --color side) against --player")
    play.set_defaults(run=_play)


def _expert_games(args: argparse.Namespace) -> None:
    import logging

    from selfplay import expert_games, expert_store

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.pack or args.unpack:
        try:
            if args.pack:
                count = expert_store.pack_games(args.out, args.pack)
                print(f"packed {count} games from {args.out} into {args.pack}")
            else:
                written, kept = expert_store.unpack_games(args.unpack, args.out)
                print(f"unpacked {written} games from {args.unpack} into {args.out} ({kept} were already there)")
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc)) from None
        return

    fields = {"size": args.size, "komi": args.komi, "levels": args.levels, "games": args.games, "seed": args.seed,
              "max_opening_moves": args.max_opening_moves, "farm": _farm(args)}
    fields["workers"] = args.workers if args.workers is not None else _workers(fields["farm"])
    try:
        config = expert_games.ExpertGamesConfig(out=args.out, **fields)
    except ValueError as exc:  # messages start with the field's name: name the flag instead
        name, _, rest = str(exc).partition(" ")
        raise UsageError(f"--{name.replace('_', '-')} {rest}") from None
    try:
        expert_games.run_expert_games(config, progress=not args.no_progress)
    except (expert_games.GnuGoMissing, RuntimeError) as exc:
        raise UsageError(str(exc)) from None


def _add_expert_games(commands: argparse._SubParsersAction) -> None:
    expert = commands.add_parser(
        "expert-games", help="play GNU Go against itself into a folder of SGF games (resumable); pack/unpack them",
        description="Play GNU Go against itself (Chinese rules, positional superko, --capture-all-dead), one SGF "
                    "per game in OUT/games; rerun the same command to resume. With --pack or --unpack, move a "
                    "run's games to or from one .sgf.gz collection.")
    expert.add_argument("--out", required=True, metavar="DIR", help="run folder (games in DIR/games, DIR/CARD.md)")
    expert.add_argument("--size", type=INTEGER, default=9, help="board size, 5 to 19 (default %(default)s)")
    expert.add_argument("--komi", type=KOMI, default=7.5, help="komi (default %(default)s)")
    expert.add_argument("--levels", default="10:1000,1-9:4000", metavar="SCHEDULE",
                        help="GNU Go levels (0..10): LEVEL:COUNT or LOW-HIGH:COUNT, comma-separated "
                             "(default %(default)s)")
    expert.add_argument("--games", type=INTEGER, help="total games, sharing the levels in the schedule's proportions "
                                        "(default: the schedule's total)")
    expert.add_argument("--workers", type=INTEGER, help="worker processes, one GNU Go each (default: the number of "
                        "cores)")
    _add_farm_flags(expert)
    expert.add_argument("--seed", type=INTEGER, default=0, help="run seed: game seeds and the schedule's order "
                        "(default 0)")
    expert.add_argument("--max-opening-moves", type=INTEGER, default=3, metavar="N",
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
    from selfplay import pipeline
    from selfplay.run_folder import TrainingError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING if args.quiet else logging.INFO)  # RUN/log.txt still gets everything
    overrides = list(args.set or [])
    if args.device:
        overrides += [f"{stage}.device={args.device}" for stage in pipeline.STAGES]
    if args.farm:
        overrides.append(f"farm.backend={args.farm}")
    if args.farm_address:
        overrides.append(f"farm.address={args.farm_address}")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    try:
        config = pipeline.resolve(args.preset, overrides)
        run_dir = Path(args.run_dir or f"runs/{Path(args.preset).stem}")
        results = pipeline.train(config, run_dir, stages, force=args.force, progress=not args.quiet)
    except (pipeline.ConfigError, TrainingError, CheckpointError) as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, FileNotFoundError) as exc:  # bad data paths and the like, from the stages
        raise UsageError(str(exc).splitlines()[0]) from None
    except OSError as exc:  # a full disk, a read-only folder: every file written so far is whole (atomic writes)
        where = f" {exc.filename}" if exc.filename else ""
        raise UsageError(f"cannot write{where}: {exc.strerror or exc}; what was written before is intact, and "
                         f"running the same command again resumes") from None
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
    if "mcts" in results:
        for name, (rate, (low, high), games) in results["mcts"].win_rates.items():
            print(f"MCTS ({results['mcts'].player}) against {name}: {rate:.1%} [95% {low:.1%}, {high:.1%}] of {games}")
    print(f"report: {results['report']}")
    print(f"play it: minigo play --player mcts:{run_dir}   (or minigo gtp --player mcts:{run_dir} in a GUI)")


def _report(args: argparse.Namespace) -> None:
    from pathlib import Path

    from selfplay.report import write_report

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is not a run folder")
    path = write_report(run_dir)
    print(path.read_text(), end="")
    print(f"written to {path.parent}")


def _add_report(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="write a run's report: figures beside the paper's, learning curves")
    report.add_argument("run_dir", metavar="RUN", help="the run folder")
    report.set_defaults(run=_report)


def _add_train(commands: argparse._SubParsersAction) -> None:
    from selfplay import pipeline

    train = commands.add_parser("train", help="run the training pipeline: sl (+ rollout), rl, value, mcts")
    train.add_argument("--preset", default="quick",
                       help=f"{' | '.join(pipeline.preset_names())} | FILE.toml (default %(default)s)")
    train.add_argument("--run", dest="run_dir", metavar="DIR", help="run folder (default runs/PRESET)")
    train.add_argument("--stages", default="sl,rl,value,mcts",
                       help="comma-separated stages in order (default %(default)s)")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where to train (default: the preset's)")
    train.add_argument("--set", action="append", metavar="STAGE.FIELD=VALUE", help="override one config field")
    train.add_argument("--farm", choices=["local", "ray"],
                       help="where self-play workers run: this machine's processes, or a Ray cluster (pip install "
                            "'minigo[ray]'); as --set farm.backend=... (default: the preset's, local)")
    train.add_argument("--farm-address", metavar="ADDRESS",
                       help="with --farm ray: auto or HOST:PORT of a cluster started with `ray start --head` "
                            "(default: $RAY_ADDRESS, else a local Ray on this machine's cores)")
    train.add_argument("--force", action="store_true", help="reuse a run folder made by another preset or size")
    train.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")
    train.set_defaults(run=_train)


# -- measuring strength: eval and ladder (selfplay/matches.py, selfplay/ladder.py) ------------------------------


def _match_fields(args: argparse.Namespace) -> dict:
    """--size, --komi, --ko, --workers and --seed as MatchConfig / LadderConfig fields."""
    fields = {"size": args.size, "komi": args.komi, "ko": args.ko, "seed": args.seed,
              "openings": args.openings if args.size == 9 else 0,  # expert games are bundled for 9x9 only
              "farm": _farm(args)}
    fields["workers"] = args.workers if args.workers is not None else _workers(fields["farm"])
    return fields


def _farm(args: argparse.Namespace) -> FarmConfig:
    """--farm and --farm-address as a FarmConfig; one line when Ray is asked for and missing."""
    from selfplay.farm import FarmConfig, FarmUnavailable

    try:
        config = FarmConfig(args.farm, args.farm_address or "")
        config.check()
    except (ValueError, FarmUnavailable) as exc:
        raise UsageError(str(exc)) from None
    return config


def _workers(farm: FarmConfig) -> int:
    """The default worker count: this machine's cores, or the Ray cluster's CPUs."""
    from selfplay.farm import worker_count

    try:
        return worker_count(0, farm)
    except ConnectionError as exc:
        raise UsageError(f"cannot join the Ray cluster at {farm.address or 'RAY_ADDRESS'}: {exc}") from None


def _add_farm_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--farm", choices=["local", "ray"], default="local",
                        help="where the workers run: this machine's processes, or a Ray cluster (pip install "
                             "'minigo[ray]') (default %(default)s)")
    parser.add_argument("--farm-address", metavar="ADDRESS",
                        help="with --farm ray: auto or HOST:PORT of a cluster started with `ray start --head` "
                             "(default: $RAY_ADDRESS, else a local Ray on this machine's cores)")


def _flag_error(exc: ValueError) -> UsageError:
    """A config's ValueError (its message starts with the field's name) as a UsageError naming the flag."""
    name, _, rest = str(exc).partition(" ")
    return UsageError(f"--{name.replace('_', '-')} {rest}")


def _add_match_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=BOARD_SIZE, default=9, help="board size (default %(default)s)")
    parser.add_argument("--komi", type=KOMI, default=7.5, help="komi; .0 allows draws, which count half (default "
                        "%(default)s)")
    parser.add_argument("--ko", choices=["positional", "simple"], default="positional",
                        help="ko rule (default %(default)s)")
    parser.add_argument("--workers", type=COUNT, help="games played at once, one process each (default: the number "
                        "of cores)")
    _add_farm_flags(parser)
    parser.add_argument("--seed", type=SEED, default=0, help="match seed: game i's seeds come from (seed, i) "
                        "(default 0)")
    parser.add_argument("--openings", type=_integer_in(0, 20), default=4, metavar="K",
                        help="each pair of games starts from the first K moves of a bundled expert game, once with "
                             "each colour, so that deterministic players play different games; 0: from the empty "
                             "board; 9x9 only, where the expert games are bundled (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _eval(args: argparse.Namespace) -> None:
    import logging

    from selfplay import matches
    from selfplay.match_results import format_match
    from selfplay.stats import SPRT

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="minigo eval: %(message)s")
    fields = _match_fields(args)
    games = args.games
    sprt = None
    if args.sprt is not None:
        try:
            elo0, elo1 = (float(part) for part in args.sprt.split(","))
            sprt = SPRT(elo0, elo1)
        except ValueError:
            raise UsageError(f"--sprt {args.sprt!r} is not ELO0,ELO1 with ELO0 < ELO1 (e.g. 0,35)") from None
    a, b = matches.resolve_spec(args.a), matches.resolve_spec(args.b)
    out = args.out or matches.default_out(a, b, fields["size"], fields["komi"], fields["ko"], fields["seed"],
                                          openings=fields["openings"])
    try:
        config = matches.MatchConfig(a=a, b=b, out=out, games=games, sprt=sprt, **fields)
    except ValueError as exc:
        raise _flag_error(exc) from None
    try:
        result = matches.run_match(config, progress=not args.no_progress)
    except (matches.MatchError, OSError) as exc:
        raise UsageError(str(exc)) from None
    for line in format_match(result):
        print(line)
    print(f"games and {matches.RESULT_FILE} in {config.out}")


def _add_eval(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "eval", help="play A against B: win rate with a 95%% Wilson interval, Elo difference, optional SPRT",
        description="Play a match between two players, colours alternating, games in parallel worker processes; "
                    "each game's SGF (PB/PW: the specs) goes to OUT/games, the summary to OUT/result.json. The same "
                    "command plays the same games, and rerun resumes a half-finished match.")
    parser.add_argument("a", metavar="A", help="player spec: random, gnugo:LEVEL, policy:CKPT, mcts:RUN,playouts=N, "
                                               "or a checkpoint file or run folder (its strongest player)")
    parser.add_argument("b", metavar="B", help="the opponent, the same way")
    parser.add_argument("--games", type=COUNT, default=100, help="games to play; with --sprt, at most (default "
                        "%(default)s)")
    parser.add_argument("--out", metavar="DIR", help="match folder (default runs/evals/A_vs_B_SIZE_HASH)")
    parser.add_argument("--sprt", metavar="ELO0,ELO1",
                        help="stop once a sequential probability ratio test (alpha = beta = 0.05) decides between "
                             "A being ELO0 and ELO1 stronger (Leela Zero gates networks with 0,35)")
    _add_match_flags(parser)
    parser.set_defaults(run=_eval)


def _ladder(args: argparse.Namespace) -> None:
    import logging
    from pathlib import Path

    from models.run_layout import RunLayout
    from selfplay import ladder
    from selfplay.matches import MatchError

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="minigo ladder: %(message)s")
    fields = _match_fields(args)
    games, temperature = args.games_per_pair, args.temperature
    try:
        entries = ladder.ladder_entries(args.players, temperature)
    except MatchError as exc:
        raise UsageError(str(exc)) from None
    out = args.out
    if out is None:
        first = Path(args.players[0])
        out = first / "ladder" if RunLayout(first).is_run() else ladder.default_out(entries, fields["size"])
    try:
        config = ladder.LadderConfig(entries=tuple(entries), out=out, games_per_pair=games, **fields)
    except ValueError as exc:
        raise _flag_error(exc) from None
    try:
        result = ladder.run_ladder(config, progress=not args.no_progress)
    except (MatchError, OSError) as exc:
        raise UsageError(str(exc)) from None
    for line in ladder.format_ladder(result):
        print(line)
    print(f"played {result.played_this_session} new games; ratings in {config.out / 'ladder.json'}"
          + (f", plot in {result.plot}" if result.plot else ""))


def _add_ladder(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ladder", help="round robin among a run's checkpoints and other players; Bradley-Terry Elo ratings",
        description="Every pair of players plays a match (games already in OUT are reused, so a ladder grows with "
                    "its run); ratings are fitted by Bradley-Terry maximum likelihood with 95% intervals, printed, "
                    "written to OUT/ladder.json and plotted against training step in OUT/ladder.png.")
    parser.add_argument("players", nargs="+", metavar="DIR_OR_SPEC",
                        help="a run folder (its policy checkpoints) or a player spec (random, gnugo:1, ...)")
    parser.add_argument("--games-per-pair", type=COUNT, default=20, metavar="N", help="games per pair (default "
                        "%(default)s)")
    parser.add_argument("--out", metavar="DIR", help="ladder folder (default: FIRST_RUN/ladder)")
    parser.add_argument("--temperature", type=NON_NEGATIVE, default=1.0,
                        help="checkpoints from a run folder sample their moves at this temperature, so that two "
                             "networks do not replay one game (0: greedy) (default %(default)s)")
    _add_match_flags(parser)
    parser.set_defaults(run=_ladder)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minigo", description="A small-board Go program that learns like AlphaGo.")
    parser.add_argument("--version", action="version", version=f"minigo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    show = commands.add_parser("show", help="replay an SGF game and print the board and its Tromp-Taylor score")
    show.add_argument("sgf", help="an SGF file (the first game of a collection is shown)")
    show.add_argument("--move", type=int, help="show the position after this many moves (default: the end)")
    show.add_argument("--ko", choices=["positional", "simple"], default="positional",
                      help="ko rule (default %(default)s)")
    show.set_defaults(run=_show)
    _add_gtp(commands)
    _add_play(commands)
    _add_expert_games(commands)
    _add_train(commands)
    _add_eval(commands)
    _add_ladder(commands)
    _add_report(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before torch loads: idle OpenMP threads that spin make torch several times slower whenever anything else
    # (search, features, another process) shares the cores, which is always the case here.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad flag (one line already printed): a status, not an exit
        return int(exc.code or 0)
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
