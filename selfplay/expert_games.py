"""Expert games: GNU Go self-play (``minigo expert-games``, :func:`run_expert_games`), the data stage 1 learns from.

GNU Go plays itself over GTP, both colours at the same level, under the rules this project plays by: Chinese
(area) rules, positional superko, ``--capture-all-dead``, komi 7.5 by default. Worker processes each keep one
GNU Go process and reuse it from game to game (``level L``, ``clear_board``, ``set_random_seed S``); one game
is ``selfplay.expert_game.play_expert_game``, the run folder is ``selfplay.expert_store``, and the games run
through ``selfplay.game_runs.run_games``.

- Game ``i`` of a run has its own seed ``S`` (:func:`game_seed`, from the run seed and ``i``) and a level
  from the schedule (:func:`parse_levels`, :func:`level_schedule`): ``10:1000,1-9:4000`` means 1000 games at
  level 10 and 4000 spread evenly over levels 1..9. The schedule is a *stratified* shuffle: every level's
  games are spread evenly over the run, in a seeded random order, so any prefix of a run (a run stopped
  early) holds each level in its planned proportion, to within a game or two.
- Each finished game is written atomically to ``OUT/games/{i:06d}.sgf``. A game with the same move sequence
  as one already written is dropped (``duplicate``), and so is one with a move our rules refuse (``illegal``).
  Both are deterministic (same seed, same game), so the index is played again with its next seed
  (:func:`game_seed` with ``attempt`` 1, 2, ...; the level stays), up to ``SEEDS_PER_INDEX`` seeds: the run
  ends with its planned games per level on disk unless an index used up its seeds (the card counts those).
  Every drop is listed in ``OUT/dropped.json`` with its seed, which is how a resumed run knows the next one.
  A game lost to a GNU Go failure (the process died, timed out or refused a command: the worker restarts GNU
  Go) is replayed with the same seed.
- **Resumable**: the same command run again skips every index already written. A killed run loses only
  the games in flight. One run per folder at a time (a lock file enforces it).

Only the parent process writes files and logs; workers (a ``selfplay.farm.Farm``) send each game and
each log record back as a message, and exit as soon as the parent dies.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import re
import shlex
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigo.atomic import write_atomic
from minigo.checks import finite, integer
from minigo.go import Rules
from minigo.gtp_client import EngineDied, GTPEngine, GTPError, find_gnugo
from selfplay.expert_game import ENGINE_FAILURE, ExpertOutcome, ExpertTask, Stopped, play_expert_game
from selfplay.expert_store import RUN_NAME, SEEDS_PER_INDEX, GameStore, gnugo_version, write_card
from selfplay.farm import FarmConfig, FarmWorker, worker_count
from selfplay.game_runs import TooManyFailures, run_games
from selfplay.run_folder import folder_lock

__all__ = ["DEFAULT_LEVELS", "ExpertGamesConfig", "GnuGoMissing", "RunSummary", "game_seed", "level_schedule",
           "parse_levels", "run_expert_games", "spread_levels"]

logger = logging.getLogger(__name__)

DEFAULT_LEVELS = "10:1000,1-9:4000"
"""The default schedule (for every board size): 1000 games at level 10, 4000 spread over levels 1..9."""
MIN_LEVEL, MAX_LEVEL = 0, 10
MIN_SIZE, MAX_SIZE = 5, 19
INSTALL_HINT = "GNU Go not found: install it with `apt-get install gnugo` (it lands in /usr/games/gnugo)"

_LEVEL_ENTRY = re.compile(r"(\d+)(?:-(\d+))?:(\d+)")


class GnuGoMissing(FileNotFoundError):
    """GNU Go is not installed; the message says how to install it."""


def parse_levels(text: str) -> dict[int, int]:
    """A level schedule such as ``10:1000,1-9:4000`` as games per level, ``{10: 1000, 1: 445, ..., 9: 444}``.

    ``LOW-HIGH:COUNT`` spreads ``COUNT`` games evenly over the levels ``LOW..HIGH``; when it does not divide
    evenly the lower levels get one game more. A level named twice adds up. Raises ``ValueError`` naming the
    text and what was expected.
    """
    expected = "expected LEVEL:COUNT or LOW-HIGH:COUNT entries separated by commas, such as 10:1000,1-9:4000"
    counts: Counter[int] = Counter()
    entries = [entry.strip() for entry in str(text).split(",")]
    if not any(entries):
        raise ValueError(f"levels {text!r} is empty: {expected}")
    for entry in entries:
        match = _LEVEL_ENTRY.fullmatch(entry.replace(" ", ""))
        if match is None:
            raise ValueError(f"levels {text!r}: entry {entry!r} is malformed: {expected}")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        games = int(match.group(3))
        for level in (low, high):
            if not MIN_LEVEL <= level <= MAX_LEVEL:
                raise ValueError(f"levels {text!r}: level {level} is outside {MIN_LEVEL}..{MAX_LEVEL}")
        if high < low:
            raise ValueError(f"levels {text!r}: range {low}-{high} is empty: expected LOW <= HIGH")
        span = high - low + 1
        for offset in range(span):
            counts[low + offset] += games // span + (1 if offset < games % span else 0)
    result = {level: count for level, count in sorted(counts.items()) if count > 0}
    if not result:
        raise ValueError(f"levels {text!r} schedules no games: expected at least one COUNT above 0")
    return result


def spread_levels(counts: dict[int, int], games: int) -> dict[int, int]:
    """``games`` games shared among the levels in the proportions of ``counts`` (largest remainders)."""
    total = sum(counts.values())
    quotas = {level: games * count / total for level, count in counts.items()}
    result = {level: math.floor(quota) for level, quota in quotas.items()}
    left = games - sum(result.values())
    # the largest remainders get the games left over; ties go to the higher level (deterministic)
    for level in sorted(quotas, key=lambda lv: (result[lv] - quotas[lv], -lv))[:left]:
        result[level] += 1
    return {level: count for level, count in sorted(result.items()) if count > 0}


def level_schedule(counts: dict[int, int], seed: int) -> np.ndarray:
    """The level of every game of a run, ``(total,)`` int: a seeded, stratified shuffle of ``counts``.

    Level ``L`` with ``c`` games gets the keys ``(k + u_k) / c`` for ``k = 0..c-1`` and ``u_k`` uniform in
    [0, 1); the games are sorted by key. Any prefix of ``m`` games therefore holds ``m * c / total`` games
    of level ``L`` to within about one game per level, and the order is otherwise random.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5C4ED]))
    levels, keys = [], []
    for level, count in sorted(counts.items()):
        levels.append(np.full(count, level, dtype=np.int64))
        keys.append((np.arange(count) + rng.random(count)) / count)
    if not levels:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(np.concatenate(keys), kind="stable")
    return np.concatenate(levels)[order]


def game_seed(run_seed: int, index: int, attempt: int = 0) -> int:
    """The seed of game ``index`` of a run: seeds both our opening rng and GNU Go; in 1..2**31-2.

    ``attempt`` k > 0 is the index's k-th replacement seed, used after k duplicate or illegal games.
    """
    entropy = [int(run_seed), int(index)] + ([int(attempt)] if attempt else [])
    state = np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0]
    return 1 + int(state % np.uint64(2**31 - 2))


def _seed_of_index(seed: int, run_seed: int, index: int) -> bool:
    """Whether ``seed`` is one of the seeds of game ``index`` (nearly always the first: checked alone first)."""
    return seed == game_seed(run_seed, index) or any(
        seed == game_seed(run_seed, index, k) for k in range(1, SEEDS_PER_INDEX))


# ------------------------------------------------------------------------------------------------ config


@dataclass(frozen=True)
class ExpertGamesConfig:
    """Settings of one GNU Go self-play run (``minigo expert-games``)."""

    out: Path
    """Run folder: games in ``OUT/games/{index:06d}.sgf``, the card in ``OUT/CARD.md``."""
    size: int = 9
    """Board size, 5..19."""
    komi: float = 7.5
    """Komi given to White."""
    levels: str = DEFAULT_LEVELS
    """GNU Go levels: ``LEVEL:COUNT`` or ``LOW-HIGH:COUNT`` entries (levels 0..10), comma-separated."""
    games: int | None = None
    """Total number of games, sharing the levels in the schedule's proportions; None: the schedule's total."""
    workers: int = field(default_factory=worker_count)
    """Worker processes, each with its own GNU Go (default: the cores this process may use)."""
    seed: int = 0
    """Run seed: game ``i`` gets ``game_seed(seed, i)``; the schedule's shuffle is drawn from it too."""
    farm: FarmConfig = field(default_factory=FarmConfig)
    """Where the workers run; on a Ray cluster each asks for a ``gnugo`` resource, so it lands where GNU Go is."""
    max_opening_moves: int = 3
    """Each game opens with a uniform 0..max random moves (off the edge, never filling an eye)."""
    move_timeout: float = 120.0
    """Seconds GNU Go may take over one command before it counts as failed (killed and restarted)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        integer("size", self.size, MIN_SIZE, MAX_SIZE)
        finite("komi", self.komi)
        parse_levels(self.levels)
        if self.games is not None:
            integer("games", self.games, 1)
        integer("workers", self.workers, 1)
        integer("seed", self.seed, 0)
        integer("max_opening_moves", self.max_opening_moves, 0)
        if not self.move_timeout > 0:
            raise ValueError(f"move_timeout {self.move_timeout!r}: expected a number of seconds above 0")

    def level_counts(self) -> dict[int, int]:
        """Games per level after ``games`` is applied."""
        counts = parse_levels(self.levels)
        return counts if self.games is None else spread_levels(counts, self.games)

    def schedule(self) -> np.ndarray:
        """The level of every game index, ``(total,)``."""
        return level_schedule(self.level_counts(), self.seed)

    def command_line(self) -> str:
        """The ``minigo expert-games`` command that runs (or resumes) this run."""
        argv = ["minigo", "expert-games", "--size", str(self.size), "--komi", f"{self.komi:g}",
                "--levels", self.levels]
        if self.games is not None:
            argv += ["--games", str(self.games)]
        argv += ["--seed", str(self.seed), "--workers", str(self.workers)]
        if self.max_opening_moves != 3:
            argv += ["--max-opening-moves", str(self.max_opening_moves)]
        argv += ["--out", str(self.out)]
        return shlex.join(argv)


# ------------------------------------------------------------------------------------------------ workers


def _start_gnugo(config: ExpertGamesConfig, level: int) -> GTPEngine:
    return GTPEngine.gnugo(level, size=config.size, komi=float(config.komi), superko=True,
                           timeout=config.move_timeout)


def _expert_worker(config: ExpertGamesConfig, version: str, worker: FarmWorker,
                   tasks: Iterator[ExpertTask]) -> Iterator[ExpertOutcome]:
    """The work of an expert-games worker (``selfplay.farm``): a ``ExpertOutcome`` for each ``ExpertTask``.

    Both players are named ``{version} level {level}`` (``GNU Go 3.8 level 10``). One GNU Go serves all games;
    it is restarted after a failure. Ctrl-C is left to the parent, which stops the farm: the game in progress is
    abandoned between moves; GNU Go inherits the worker's ignored SIGINT, so it is never killed in the middle of
    an answer.
    """
    rules = Rules(size=config.size, komi=float(config.komi), ko="positional")
    engine: GTPEngine | None = None
    try:
        for task in tasks:
            if engine is None:
                try:
                    engine = _start_gnugo(config, task.level)
                except (EngineDied, GTPError, OSError) as exc:
                    detail = f"GNU Go did not start: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                    yield ExpertOutcome(worker.id, task, None, ENGINE_FAILURE, detail)
                    continue
            try:
                outcome = play_expert_game(engine, task, rules, f"{version} level {task.level}",
                                           config.max_opening_moves, worker.id, worker.stopping)
            except Stopped:
                return
            if outcome.dropped == ENGINE_FAILURE:
                engine.close()
                engine = None
            yield outcome
    finally:
        if engine is not None:
            engine.close()


# ------------------------------------------------------------------------------------------------ the run


@dataclass
class RunSummary:
    """What one session of a run did."""

    total: int
    """Games in the schedule."""
    on_disk: int
    """Games of the run folder on disk at the end."""
    written: int = 0
    """Games written by this session."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Games dropped by this session, per reason."""
    seconds_per_level: dict[int, float] = field(default_factory=dict)
    """Mean seconds per game this session, per level."""
    elapsed: float = 0.0
    """Wall-clock seconds of the session."""
    stopped: bool = False
    """Whether the session was interrupted (Ctrl-C, SIGTERM)."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, let SIGTERM stop the run the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_expert_games(config: ExpertGamesConfig, progress: bool = True) -> RunSummary:
    """Play (or resume) the run ``config`` describes; see the module docstring.

    Raises ``GnuGoMissing`` when GNU Go is not installed, ``RuntimeError`` when GNU Go fails game after
    game, and ``KeyboardInterrupt`` after a clean stop on Ctrl-C or SIGTERM (games finished are written,
    games in flight are lost, the card is updated).
    """
    path = find_gnugo()
    if path is None:
        raise GnuGoMissing(INSTALL_HINT)
    version = gnugo_version(path)
    out = config.out
    with folder_lock(out, "minigo expert-games"), _sigterm_as_interrupt():
        schedule = config.schedule()
        total = len(schedule)
        store = GameStore(out, config.size)
        mismatched = sum(1 for index, game in store.games.items() if index < total and (
            game.level != schedule[index] or not _seed_of_index(game.seed, config.seed, index)))
        if mismatched:
            logger.warning("%d games in %s were played under another schedule or seed than this command's "
                           "(different --levels, --games or --seed?); they are kept", mismatched, out)
        run_info = {
            "command": config.command_line(), "gnugo_version": version, "size": config.size, "komi": config.komi,
            "levels": config.levels, "games": config.games, "seed": config.seed,
            "max_opening_moves": config.max_opening_moves,
            "level_counts": {str(level): count for level, count in config.level_counts().items()},
        }
        write_atomic(out / RUN_NAME, (json.dumps(run_info, indent=1) + "\n").encode("utf-8"))
        pending = store.pending(total)
        summary = RunSummary(total=total, on_disk=len(store.games))
        logger.info("%s: %d games scheduled, %d done, %d to play with %d workers (%s)", out, total,
                    total - len(pending), len(pending), config.workers, version)
        start = time.monotonic()
        try:
            if pending:
                _play(config, store, schedule, pending, version, progress)
        except KeyboardInterrupt:
            summary.stopped = True
            logger.warning("stopped: games in flight are lost; run the same command again to resume")
            raise
        finally:
            summary.elapsed = time.monotonic() - start
            summary.on_disk = len(store.games)
            summary.written = sum(len(times) for times in store.session_seconds.values())
            summary.dropped = dict(store.session_dropped)
            summary.seconds_per_level = {level: sum(times) / len(times)
                                         for level, times in sorted(store.session_seconds.items())}
            write_card(out, store=store)
            _log_summary(summary, store)
    return summary


def _log_summary(summary: RunSummary, store: GameStore) -> None:
    rate = summary.written / summary.elapsed if summary.elapsed > 0 else 0.0
    per_level = ", ".join(f"L{level} {seconds:.1f} s" for level, seconds in summary.seconds_per_level.items())
    logger.info("this session: %d games written in %.0f s (%.3f games/s), dropped %s; %d of %d on disk; "
                "mean s/game: %s", summary.written, summary.elapsed, rate, summary.dropped or "none",
                summary.on_disk, summary.total, per_level or "-")


def _play(config: ExpertGamesConfig, store: GameStore, schedule: np.ndarray, pending: list[int], version: str,
          progress: bool) -> None:
    """Deal ``pending`` game indices to worker processes and store what comes back, in rounds: an index whose
    game was dropped as a duplicate or illegal comes back in the next round with its next seed (and one lost to
    GNU Go with the same seed), until every index is written or has used up its seeds."""
    total = len(schedule)

    def task(index: int) -> ExpertTask:
        return ExpertTask(index, int(schedule[index]), game_seed(config.seed, index, store.attempts(index)))

    def rounds() -> Iterator[Iterator[ExpertTask]]:
        todo = pending
        while todo:
            yield (task(index) for index in todo)
            todo = store.pending(total)

    def handle(outcome: ExpertOutcome, bar: Any) -> bool:
        status = store.add(outcome)
        if store.handled(outcome.task.index):
            bar.update(1)
        bar.set_postfix_str(store.postfix(), refresh=False)
        written = sum(len(times) for times in store.session_seconds.values())
        if status == "written" and written % 100 == 0:
            means = ", ".join(f"L{level} {sum(t) / len(t):.1f}" for level, t in sorted(store.session_seconds.items()))
            logger.info("%d games written this session; mean s/game by level: %s", written, means)
        return status == ENGINE_FAILURE

    try:
        run_games(functools.partial(_expert_worker, config, version), rounds(),
                  workers=min(config.workers, len(pending)), name="expert-games", handle=handle,
                  lost=lambda dealt, lost: ExpertOutcome(lost.worker, dealt, None, ENGINE_FAILURE, lost.reason),
                  total=total, done=total - len(pending), progress=progress, mininterval=1.0, grace=30.0,
                  last_failure=lambda: store.dropped[-1]["detail"] if store.dropped else "?",
                  farm=config.farm, resources={"gnugo": 1})
    except TooManyFailures as exc:
        raise RuntimeError(f"GNU Go failed {exc.count} games in a row; the last: {exc.last}") from None
