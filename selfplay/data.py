"""Expert games: a GNU Go self-play generator, packed bundles of its games, and import of any SGF folder or archive.

**The generator** (``minigo expert-games``, :func:`run_expert_games`) plays GNU Go against itself over GTP,
both colours at the same level, under the rules this project plays by: Chinese (area) rules, positional
superko, ``--capture-all-dead``, komi 7.5 by default. Worker processes each keep one GNU Go process and reuse
it from game to game (``level L``, ``clear_board``, ``set_random_seed S``).

- Game ``i`` of a run has its own seed ``S`` (:func:`game_seed`, from the run seed and ``i``) and a level
  from the schedule (:func:`parse_levels`, :func:`level_schedule`): ``10:1000,1-9:4000`` means 1000 games at
  level 10 and 4000 spread evenly over levels 1..9. The schedule is a *stratified* shuffle: every level's
  games are spread evenly over the run, in a seeded random order, so any prefix of a run (a run stopped
  early) holds each level in its planned proportion, to within a game or two.
- A game opens with 0..3 random moves (uniform count, drawn from ``S``), each uniform over the legal moves
  off the first line that do not fill the mover's own eye, commented ``random opening`` in the SGF so that
  training can skip them. Then GNU Go plays both sides until two passes in a row, a resignation, or the
  move cap (``2 * size * size`` moves). Every GNU Go move is replayed through :class:`minigo.go.Position`;
  a move our rules refuse drops the game (``illegal``), and it is never written.
- The result is our Tromp-Taylor score of the final position (``B+R`` / ``W+R`` on resignation). GNU Go's own
  ``final_score`` is kept in the game's root comment; disagreements are counted and logged.
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
- ``OUT/CARD.md`` describes the set: command, GNU Go version, rules, schedule, games per level with mean
  seconds per game, dropped games by reason, score disagreements.

:func:`pack_games` writes all games of a folder, sorted by index, as one gzip'd SGF collection;
:func:`unpack_games` writes a bundle back to per-game files, so a later session can resume from a bundle.
``dropped.json`` does not travel in a bundle: a run resumed from one replays the dropped seeds once (they drop
again, deterministically, and the index moves on to the seed that was kept).

**Import** (:func:`load_games`) reads every game of a folder (recursive), an ``.sgf`` collection, an
``.sgf.gz``, or a ``.zip`` / ``.tar.gz`` / ``.tgz`` archive, and skips, counting each by reason, games of
another board size, handicap games, and files that cannot be read.

Only the parent process writes files and logs; workers (a ``selfplay.farm.Farm``) send each game and
each log record back as a message, and exit as soon as the parent dies.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gzip
import hashlib
import json
import logging
import math
import os
import re
import shlex
import signal
import subprocess
import tarfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from minigo.atomic import write_atomic
from minigo.coords import from_gtp, to_gtp
from minigo.go import BLACK, IllegalMove, Position, Rules, color_name
from minigo.gtp_client import EngineDied, GTPEngine, GTPError, find_gnugo
from minigo.record import GameRecord, Move
from minigo.sgf import SGFError, parse_collection, save
from selfplay.farm import Farm, FarmWorker, Lost

__all__ = [
    "DEFAULT_LEVELS", "OPENING_COMMENT", "ExpertGamesConfig", "GameOutcome", "GameStore", "GameTask",
    "GnuGoMissing", "RunSummary", "SkipCounts", "game_key", "game_seed", "gnugo_version", "level_schedule",
    "load_games", "pack_games", "parse_levels", "play_expert_game", "random_opening_move", "run_expert_games",
    "spread_levels", "unpack_games", "write_card",
]

logger = logging.getLogger(__name__)

DEFAULT_LEVELS = "10:1000,1-9:4000"
"""The default schedule (for every board size): 1000 games at level 10, 4000 spread over levels 1..9."""
OPENING_COMMENT = "random opening"
"""The SGF comment on each random opening move; training skips moves that carry it."""
MIN_LEVEL, MAX_LEVEL = 0, 10
MIN_SIZE, MAX_SIZE = 5, 19
GAMES_FOLDER = "games"
CARD_NAME = "CARD.md"
DROPPED_NAME = "dropped.json"
RUN_NAME = "run.json"
LOCK_NAME = ".lock"
INSTALL_HINT = "GNU Go not found: install it with `apt-get install gnugo` (it lands in /usr/games/gnugo)"

# why a game was dropped
DUPLICATE = "duplicate"
ILLEGAL = "illegal"
ENGINE_FAILURE = "engine failure"
DROP_REASONS = (DUPLICATE, ILLEGAL, ENGINE_FAILURE)
_NOT_REPLAYED = (DUPLICATE, ILLEGAL)  # deterministic given the seed: the index moves on to its next seed
SEEDS_PER_INDEX = 8
"""Seeds an index may use up on duplicate or illegal games before it is left empty. GNU Go at level 10 nearly
always answers a position the same way, so a game with no or one random opening move often repeats an earlier
one: with 4 seeds, 14 of the 5,000 indices of the 9x9 schedule (7 of them at level 10) used them all up."""

_GAME_FILE = re.compile(r"(\d{6,})\.sgf")
_ROOT_COMMENT = re.compile(
    r"minigo expert-games: game (?P<index>\d+), level (?P<level>\d+), seed (?P<seed>\d+), "
    r"(?P<opening>\d+) random opening moves?(?:; GNU Go final_score (?P<gnugo>[^;\s]*))?(?:; (?P<seconds>[\d.]+) s)?"
)
_LEVEL_ENTRY = re.compile(r"(\d+)(?:-(\d+))?:(\d+)")


class GnuGoMissing(FileNotFoundError):
    """GNU Go is not installed; the message says how to install it."""


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------------------------------------ schedule


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
    workers: int = field(default_factory=_default_workers)
    """Worker processes, each with its own GNU Go (default: the cores this process may use)."""
    seed: int = 0
    """Run seed: game ``i`` gets ``game_seed(seed, i)``; the schedule's shuffle is drawn from it too."""
    max_opening_moves: int = 3
    """Each game opens with a uniform 0..max random moves (off the edge, never filling an eye)."""
    move_timeout: float = 120.0
    """Seconds GNU Go may take over one command before it counts as failed (killed and restarted)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"size {self.size!r} is not supported: expected an integer from {MIN_SIZE} to {MAX_SIZE}")
        if isinstance(self.komi, bool) or not isinstance(self.komi, (int, float)) or not math.isfinite(self.komi):
            raise ValueError(f"komi {self.komi!r} is not a finite number")
        parse_levels(self.levels)
        if self.games is not None and (not isinstance(self.games, int) or self.games < 1):
            raise ValueError(f"games {self.games!r} is not a positive integer: expected 1 or more")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers {self.workers!r} is not a positive integer: expected 1 or more")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed {self.seed!r} is not a non-negative integer")
        if not isinstance(self.max_opening_moves, int) or self.max_opening_moves < 0:
            raise ValueError(f"max_opening_moves {self.max_opening_moves!r}: expected an integer 0 or more")
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


# ------------------------------------------------------------------------------------------------ one game


@dataclass(frozen=True)
class GameTask:
    """A game for a worker to play."""

    index: int
    """Game index in the run; the file is ``games/{index:06d}.sgf``."""
    level: int
    """GNU Go level for both colours."""
    seed: int
    """The game's seed (``game_seed(run_seed, index, attempt)``)."""


@dataclass
class GameOutcome:
    """What a worker sends back for a task: a finished game, or why it was dropped."""

    worker: int
    """The worker that played it."""
    task: GameTask
    """The task it answers."""
    record: GameRecord | None
    """The finished game, None when dropped."""
    dropped: str = ""
    """Empty for a finished game, else one of ``DROP_REASONS``."""
    detail: str = ""
    """Why it was dropped, in one line."""
    gnugo_result: str = ""
    """GNU Go's ``final_score`` of the final position ("" after a resignation or when it refused)."""
    seconds: float = 0.0
    """Wall-clock seconds the game took."""


class GTPSender(Protocol):
    """What a game needs from a GTP engine: ``send`` one command, get the answer (``GTPEngine`` does)."""

    def send(self, command: str, timeout: float | None = None) -> str: ...


class _Stopped(Exception):
    """The run is stopping: the game in progress is abandoned."""


def random_opening_move(position: Position, rng: np.random.Generator) -> int | None:
    """A uniform choice among the legal moves off the first line that do not fill the mover's own eye;
    None when there is none."""
    size = position.size
    mask = position.sensible_moves()[: size * size].reshape(size, size).copy()  # (size, size) bool
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = False
    points = np.flatnonzero(mask)
    if points.size == 0:
        return None
    return int(points[rng.integers(points.size)])


def _result_score(result: str) -> float | None:
    """``B+3.5`` -> 3.5, ``W+0.5`` -> -0.5, ``0`` -> 0.0; None for resignations and anything else."""
    text = result.strip().upper()
    if text in ("0", "DRAW", "JIGO"):
        return 0.0
    match = re.fullmatch(r"([BW])\+([0-9.]+)", text)
    if match is None:
        return None
    score = float(match.group(2))
    return score if match.group(1) == "B" else -score


def _root_comment(task: GameTask, opening: int, gnugo_result: str, seconds: float) -> str:
    moves = "move" if opening == 1 else "moves"
    return (f"minigo expert-games: game {task.index}, level {task.level}, seed {task.seed}, "
            f"{opening} random opening {moves}; GNU Go final_score {gnugo_result or '-'}; {seconds:.1f} s")


def play_expert_game(engine: GTPSender, task: GameTask, rules: Rules, player: str, max_opening_moves: int = 3,
                     worker: int = 0, should_stop: Callable[[], bool] = lambda: False) -> GameOutcome:
    """Play one game of GNU Go against itself on ``engine`` (already set to ``rules``' board size and komi).

    Returns the finished game, or the reason it was dropped: ``illegal`` (a move one side's rules refused),
    ``engine failure`` (the engine died, timed out or refused a command). Raises ``_Stopped`` when
    ``should_stop()`` turns true between moves.
    """
    start = time.monotonic()
    size = rules.size
    rng = np.random.default_rng(task.seed)
    opening = int(rng.integers(0, max_opening_moves + 1))
    position = Position.empty(rules=rules)
    moves: list[Move] = []

    def dropped(reason: str, detail: str) -> GameOutcome:
        return GameOutcome(worker, task, None, reason, detail, seconds=time.monotonic() - start)

    command = ""
    try:
        for command in (f"level {task.level}", "clear_board", f"set_random_seed {task.seed}"):
            engine.send(command)
        for _ in range(opening):
            point = random_opening_move(position, rng)
            if point is None:
                break
            color = position.to_play
            command = f"play {color_name(color)} {to_gtp(point, size)}"
            try:
                engine.send(command)
            except GTPError as exc:
                return dropped(ILLEGAL, f"GNU Go refused our opening move {command!r}: {exc.message}")
            position = position.play(point)
            moves.append(Move(color, point, OPENING_COMMENT))
        resigned = 0
        while not position.is_game_over:
            if should_stop():
                raise _Stopped
            color = position.to_play
            command = f"genmove {color_name(color)}"
            answer = engine.send(command)
            if answer.strip().lower() == "resign":
                resigned = color
                break
            try:
                point = from_gtp(answer, size)
                position = position.play(point, color)
            except (ValueError, IllegalMove) as exc:  # IllegalMove is a ValueError too
                return dropped(ILLEGAL, f"move {len(moves) + 1}, GNU Go {command!r} answered {answer!r}: {exc}")
            moves.append(Move(color, point))
        gnugo_result = ""
        if not resigned:
            command = "final_score"
            try:
                gnugo_result = engine.send(command).strip()
            except GTPError as exc:
                logger.debug("GNU Go refused final_score: %s", exc)
    except GTPError as exc:
        return dropped(ENGINE_FAILURE, f"GNU Go refused {exc.command!r}: {exc.message}")
    except EngineDied as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return dropped(ENGINE_FAILURE, f"{first_line} (command {command!r})")
    result = ("W+R" if resigned == BLACK else "B+R") if resigned else position.result()
    seconds = time.monotonic() - start
    record = GameRecord(
        size=size, komi=rules.komi, ko=rules.ko, moves=moves, result=result, black=player, white=player,
        date=datetime.date.today().isoformat(), rules="Chinese",
        comment=_root_comment(task, sum(1 for m in moves if m.comment == OPENING_COMMENT), gnugo_result, seconds),
    )
    return GameOutcome(worker, task, record, gnugo_result=gnugo_result, seconds=seconds)


def game_key(record: GameRecord) -> str:
    """A digest of a game's move sequence (colours and points): equal for identical games."""
    sequence = np.array([(m.color, m.point) for m in record.moves], dtype=np.int16).reshape(-1, 2)
    return hashlib.sha1(f"{record.size}:".encode() + sequence.tobytes()).hexdigest()


# ------------------------------------------------------------------------------------------------ workers


def _start_gnugo(config: ExpertGamesConfig, level: int) -> GTPEngine:
    return GTPEngine.gnugo(level, size=config.size, komi=float(config.komi), superko=True,
                           timeout=config.move_timeout)


def _expert_worker(config: ExpertGamesConfig, version: str, worker: FarmWorker,
                   tasks: Iterator[GameTask]) -> Iterator[GameOutcome]:
    """The work of an expert-games worker (``selfplay.farm``): a ``GameOutcome`` for each ``GameTask``.

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
                    yield GameOutcome(worker.id, task, None, ENGINE_FAILURE, detail)
                    continue
            try:
                outcome = play_expert_game(engine, task, rules, f"{version} level {task.level}",
                                           config.max_opening_moves, worker.id, worker.stopping)
            except _Stopped:
                return
            if outcome.dropped == ENGINE_FAILURE:
                engine.close()
                engine = None
            yield outcome
    finally:
        if engine is not None:
            engine.close()


# ------------------------------------------------------------------------------------------------ the store


@dataclass(frozen=True)
class StoredGame:
    """What the store remembers of a game on disk (from its root comment)."""

    level: int
    seed: int
    opening: int
    result: str
    gnugo_result: str
    seconds: float | None


def _parse_root(comment: str) -> dict[str, str] | None:
    match = _ROOT_COMMENT.search(comment)
    return None if match is None else match.groupdict()


def _stored(record: GameRecord, fallback_level: int = -1) -> StoredGame:
    info = _parse_root(record.comment) or {}
    seconds = info.get("seconds")
    return StoredGame(
        level=int(info.get("level") or fallback_level), seed=int(info.get("seed") or -1),
        opening=int(info.get("opening") or 0), result=record.result,
        gnugo_result="" if info.get("gnugo") in (None, "-") else str(info["gnugo"]),
        seconds=float(seconds) if seconds else None,
    )


def _disagrees(result: str, gnugo_result: str) -> bool:
    ours, theirs = _result_score(result), _result_score(gnugo_result)
    return ours is not None and theirs is not None and ours != theirs


def _game_files(games_dir: Path) -> list[tuple[int, Path]]:
    """(index, path) of every game file in the folder, by index."""
    if not games_dir.is_dir():
        return []
    found = []
    for path in games_dir.iterdir():
        match = _GAME_FILE.fullmatch(path.name)
        if match is not None and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


class GameStore:
    """The games of a run folder: what is on disk, what was dropped, and the writing of new games.

    Only the parent process uses it. Loading reads every game file (for the move-sequence digests that
    catch duplicates, and for the card); a file that cannot be read is logged and its index played again.
    """

    def __init__(self, out: Path, size: int) -> None:
        self.out = Path(out)
        self.size = size
        self.games_dir = self.out / GAMES_FOLDER
        self.games: dict[int, StoredGame] = {}
        self.keys: dict[str, int] = {}
        self.dropped: list[dict[str, Any]] = []
        self._attempts: Counter[int] = Counter()
        self.session_dropped: Counter[str] = Counter()
        self.session_seconds: dict[int, list[float]] = {}
        self._load()

    def _load(self) -> None:
        for index, path in _game_files(self.games_dir):
            try:
                records = parse_collection(path.read_bytes().decode("utf-8"))
            except (SGFError, UnicodeDecodeError, OSError) as exc:
                logger.warning("%s cannot be read, its game will be played again: %s", path, exc)
                continue
            record = records[0]
            self.games[index] = _stored(record)
            self.keys.setdefault(game_key(record), index)
        path = self.out / DROPPED_NAME
        if path.is_file():
            try:
                self.dropped = list(json.loads(path.read_text(encoding="utf-8"))["dropped"])
            except (ValueError, KeyError, TypeError, OSError) as exc:
                logger.warning("%s cannot be read, starting a new list of dropped games: %s", path, exc)
        self._attempts = Counter(int(entry.get("index", -1)) for entry in self.dropped
                                 if isinstance(entry, dict) and entry.get("reason") in _NOT_REPLAYED)

    def attempts(self, index: int) -> int:
        """Seeds of ``index`` used up so far: its games dropped for a reason that would recur (duplicate,
        illegal). The next game of the index is played with ``game_seed(run_seed, index, attempts)``."""
        return self._attempts.get(index, 0)

    @property
    def skipped(self) -> set[int]:
        """Indices that used up their ``SEEDS_PER_INDEX`` seeds: never played again."""
        return {index for index, used in self._attempts.items() if used >= SEEDS_PER_INDEX and index not in self.games}

    def pending(self, total: int) -> list[int]:
        """Indices below ``total`` still to play, in order."""
        return [index for index in range(total) if not self.handled(index)]

    def handled(self, index: int) -> bool:
        """Whether game ``index`` is written or skipped for good."""
        return index in self.games or index in self.skipped

    def path(self, index: int) -> Path:
        return self.games_dir / f"{index:06d}.sgf"

    def add(self, outcome: GameOutcome) -> str:
        """Write a finished game, or record why it was dropped; returns ``written`` or the drop reason."""
        task = outcome.task
        reason, detail = outcome.dropped, outcome.detail
        record = outcome.record
        if not reason and record is not None:
            key = game_key(record)
            twin = self.keys.get(key)
            if twin is None:
                self.games_dir.mkdir(parents=True, exist_ok=True)
                save(record, self.path(task.index))
                self.keys[key] = task.index
                stored = _stored(record, task.level)
                self.games[task.index] = stored
                self.session_seconds.setdefault(task.level, []).append(outcome.seconds)
                if _disagrees(record.result, outcome.gnugo_result):
                    logger.info("game %d (level %d): our score %s, GNU Go final_score %s", task.index, task.level,
                                record.result, outcome.gnugo_result)
                logger.debug("game %d (level %d): %s, %d moves, %.1f s", task.index, task.level, record.result,
                             len(record.moves), outcome.seconds)
                return "written"
            reason, detail = DUPLICATE, f"same moves as game {twin}"
        elif not reason:
            reason, detail = ENGINE_FAILURE, "no game came back"
        logger.warning("game %d (level %d) dropped (%s): %s", task.index, task.level, reason, detail)
        self.session_dropped[reason] += 1
        self.dropped.append({"index": task.index, "level": task.level, "seed": task.seed, "reason": reason,
                             "detail": detail})
        if reason in _NOT_REPLAYED:
            self._attempts[task.index] += 1
        text = json.dumps({"dropped": self.dropped}, indent=1) + "\n"
        self.out.mkdir(parents=True, exist_ok=True)
        write_atomic(self.out / DROPPED_NAME, text.encode("utf-8"))
        return reason

    def level_counts(self) -> Counter[int]:
        """Games on disk per level."""
        return Counter(game.level for game in self.games.values())

    def dropped_counts(self) -> Counter[str]:
        """Dropped games per reason, over every session of the run."""
        return Counter(str(entry.get("reason")) for entry in self.dropped)

    def disagreements(self) -> int:
        """Games on disk whose result differs from GNU Go's ``final_score``."""
        return sum(_disagrees(game.result, game.gnugo_result) for game in self.games.values())

    def postfix(self) -> str:
        """By-level counts for the progress bar: ``L1 12 L2 11 ... dropped 1``."""
        counts = self.level_counts()
        text = " ".join(f"L{level} {count}" for level, count in sorted(counts.items()))
        dropped = sum(self.session_dropped.values())
        return f"{text} dropped {dropped}" if dropped else text


# ------------------------------------------------------------------------------------------------ the card


def gnugo_version(path: str | None = None) -> str:
    """``GNU Go 3.8``: the first line of ``gnugo --version`` ("GNU Go" when it cannot be run)."""
    path = path or find_gnugo()
    if path is None:
        return "GNU Go"
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "GNU Go"
    lines = output.strip().splitlines()
    return lines[0].strip() if lines else "GNU Go"


def write_card(out: str | os.PathLike[str], note: str = "", store: GameStore | None = None) -> Path:
    """Write (or rewrite) ``OUT/CARD.md`` from the games on disk (``store``, else read from ``OUT``),
    ``dropped.json`` and ``run.json``."""
    out = Path(out)
    run: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        run = json.loads((out / RUN_NAME).read_text(encoding="utf-8"))
    if store is None:
        store = GameStore(out, int(run.get("size", 9)))
    planned = {int(level): int(count) for level, count in run.get("level_counts", {}).items()}
    seconds: dict[int, list[float]] = {}
    for game in store.games.values():
        if game.seconds is not None:
            seconds.setdefault(game.level, []).append(game.seconds)
    counts = store.level_counts()
    openings = Counter(game.opening for game in store.games.values())
    results = Counter(game.result[:1] if game.result else "?" for game in store.games.values())
    resigned = sum(game.result.endswith("+R") for game in store.games.values())
    dropped = store.dropped_counts()
    size = run.get("size", "?")
    lines = [
        "# Expert games: GNU Go self-play",
        "",
        f"- command: `{run.get('command', 'unknown (no run.json: games unpacked from a bundle?)')}`",
        f"- engine: {run.get('gnugo_version') or gnugo_version()}, the same level for both colours, "
        "`--chinese-rules --positional-superko --capture-all-dead`",
        f"- board: {size}x{size}, komi {run.get('komi', '?')}, Chinese (area) rules, positional superko",
        "- result (RE): our Tromp-Taylor score of the final position; `B+R`/`W+R` when GNU Go resigned; "
        "GNU Go's own `final_score` is in each root comment",
        f"- openings: each game starts with 0..{run.get('max_opening_moves', 3)} random moves (uniform count; "
        f"uniform over legal moves off the first line that do not fill an eye), commented `{OPENING_COMMENT}`",
        f"- schedule: `{run.get('levels', '?')}`"
        + (f", {run['games']} games" if run.get("games") else "") + f", seed {run.get('seed', '?')}",
        f"- updated: {datetime.datetime.now().isoformat(timespec='seconds')}",
    ]
    if note:
        lines.append(f"- {note}")
    lines += ["", "| level | planned | on disk | mean s/game |", "|---:|---:|---:|---:|"]
    for level in sorted(set(planned) | set(counts)):
        times = seconds.get(level, [])
        mean = f"{sum(times) / len(times):.1f}" if times else "-"
        lines.append(f"| {level} | {planned.get(level, '-')} | {counts.get(level, 0)} | {mean} |")
    lines.append(f"| total | {sum(planned.values()) if planned else '-'} | {len(store.games)} | |")
    lines += [
        "",
        f"Wins: Black {results.get('B', 0)}, White {results.get('W', 0)}, draws {results.get('0', 0)}; "
        f"{resigned} ended by resignation.",
        "Games by number of random opening moves: "
        + ", ".join(f"{k}: {openings[k]}" for k in sorted(openings)) + ".",
        f"Our score and GNU Go's final_score disagree in {store.disagreements()} games.",
        f"Dropped, each replayed with its index's next seed (at most {SEEDS_PER_INDEX} seeds an index): "
        f"{dropped.get(DUPLICATE, 0)} duplicates (same moves as an earlier game), "
        f"{dropped.get(ILLEGAL, 0)} illegal (a move our rules refused), {dropped.get(ENGINE_FAILURE, 0)} engine "
        "failures (GNU Go died, timed out or refused a command; replayed with the same seed).",
        f"Indices left empty (every seed dropped): {len(store.skipped)}.",
        "",
    ]
    path = out / CARD_NAME
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "\n".join(lines).encode("utf-8"))
    return path


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
def _folder_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.lock`` so that two runs never write to one folder."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(out / LOCK_NAME, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(f"another minigo expert-games is using {out} (it holds {out / LOCK_NAME})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    with _folder_lock(out), _sigterm_as_interrupt():
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
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    max_failures = max(5, 2 * config.workers)  # engine failures in a row before the run gives up
    failures_in_a_row = 0
    total = len(schedule)

    def task(index: int) -> GameTask:
        return GameTask(index, int(schedule[index]), game_seed(config.seed, index, store.attempts(index)))

    with logging_redirect_tqdm(), tqdm(total=total, initial=total - len(pending), unit="game", disable=not progress,
                                       mininterval=1.0, smoothing=0.05, dynamic_ncols=True) as bar:

        def handle(outcome: GameOutcome) -> None:
            nonlocal failures_in_a_row
            status = store.add(outcome)
            failures_in_a_row = failures_in_a_row + 1 if status == ENGINE_FAILURE else 0
            if store.handled(outcome.task.index):
                bar.update(1)
            bar.set_postfix_str(store.postfix(), refresh=False)
            written = sum(len(times) for times in store.session_seconds.values())
            if status == "written" and written % 100 == 0:
                means = ", ".join(f"L{level} {sum(t) / len(t):.1f}"
                                  for level, t in sorted(store.session_seconds.items()))
                logger.info("%d games written this session; mean s/game by level: %s", written, means)

        farm: Farm[GameTask, GameOutcome] = Farm(functools.partial(_expert_worker, config, version),
                                                 min(config.workers, len(pending)), name="expert-games")
        try:
            while pending:
                for dealt, outcome in farm.run(task(index) for index in pending):
                    if isinstance(outcome, Lost):  # the worker died without answering (GNU Go failures are answered)
                        outcome = GameOutcome(outcome.worker, dealt, None, ENGINE_FAILURE, outcome.reason)
                    handle(outcome)
                    if failures_in_a_row >= max_failures:
                        last = store.dropped[-1]["detail"] if store.dropped else "?"
                        raise RuntimeError(f"GNU Go failed {failures_in_a_row} games in a row; the last: {last}")
                pending = store.pending(total)
        finally:
            # Workers abandon their games between moves; a game that finished meanwhile is kept.
            for _, outcome in farm.stop(grace=30.0):
                if outcome.record is not None:
                    with contextlib.suppress(Exception):
                        handle(outcome)


# ------------------------------------------------------------------------------------------------ bundles


def pack_games(out: str | os.PathLike[str], bundle: str | os.PathLike[str]) -> int:
    """Write every game of ``OUT/games`` (by index) to ``bundle`` as one gzip'd SGF collection, atomically;
    update the card; return the number of games packed."""
    out, bundle = Path(out), Path(bundle)
    files = _game_files(out / GAMES_FOLDER)
    if not files:
        raise ValueError(f"{out / GAMES_FOLDER} holds no games (expected files such as 000000.sgf)")
    parts = []
    for _, path in files:
        text = path.read_bytes()
        parts.append(text if text.endswith(b"\n") else text + b"\n")
    bundle.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(bundle, gzip.compress(b"".join(parts), mtime=0))
    write_card(out, note=f"packed {len(files)} games into `{bundle}`")
    return len(files)


def unpack_games(bundle: str | os.PathLike[str], out: str | os.PathLike[str]) -> tuple[int, int]:
    """Write the games of a bundle (``pack_games``) back to ``OUT/games/{index:06d}.sgf``; games already
    there are kept. Returns (written, already there). Raises ``ValueError`` for a bundle that cannot be read
    or whose games carry no ``game N`` in their root comment."""
    bundle, out = Path(bundle), Path(out)
    try:
        text = gzip.decompress(bundle.read_bytes()).decode("utf-8")
        records = parse_collection(text)
    except (OSError, EOFError, UnicodeDecodeError, SGFError) as exc:
        raise ValueError(f"{bundle} is not a readable bundle of SGF games: {exc}") from None
    games_dir = out / GAMES_FOLDER
    games_dir.mkdir(parents=True, exist_ok=True)
    written = kept = 0
    for number, record in enumerate(records, start=1):
        info = _parse_root(record.comment)
        if info is None:
            raise ValueError(f"{bundle}: game {number} has no 'minigo expert-games: game N' root comment")
        path = games_dir / f"{int(info['index']):06d}.sgf"
        if path.exists():
            kept += 1
            continue
        save(record, path)
        written += 1
    write_card(out, note=f"unpacked {written} games from `{bundle}` ({kept} were already there)")
    return written, kept


# ------------------------------------------------------------------------------------------------ import


@dataclass
class SkipCounts:
    """Games and files ``load_games`` left out, by reason."""

    wrong_size: int = 0
    """Games on another board size."""
    handicap: int = 0
    """Games with handicap (``HA`` above 0) or setup stones."""
    unreadable: int = 0
    """Files (or archive members) that could not be read: SGF errors, bad encoding, broken compression.
    A collection with one bad game counts once, and none of its games is loaded."""

    @property
    def total(self) -> int:
        return self.wrong_size + self.handicap + self.unreadable

    def __str__(self) -> str:
        return (f"{self.wrong_size} of another size, {self.handicap} with handicap or setup stones, "
                f"{self.unreadable} unreadable files")


def _is_gzip_name(name: str) -> bool:
    return name.lower().endswith(".sgf.gz")


def _is_sgf_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(".sgf") or lower.endswith(".sgf.gz")


def _sources(path: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """(name, reader) of every SGF file in a folder or archive, in a stable order."""
    lower = path.name.lower()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() and _is_sgf_name(p.name)):
            yield str(file), file.read_bytes
    elif lower.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if _is_sgf_name(name) and not name.endswith("/"):
                    yield f"{path}:{name}", lambda name=name: archive.read(name)
    elif lower.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        with tarfile.open(path) as archive:
            for member in sorted(archive.getmembers(), key=lambda m: m.name):
                if member.isfile() and _is_sgf_name(member.name):
                    def read(member: tarfile.TarInfo = member) -> bytes:
                        handle = archive.extractfile(member)
                        return handle.read() if handle is not None else b""
                    yield f"{path}:{member.name}", read
    elif _is_sgf_name(lower):
        yield str(path), path.read_bytes
    else:
        raise ValueError(f"{path} is not an SGF file, a folder or an archive: expected a folder, .sgf, .sgf.gz, "
                         ".zip, .tar.gz or .tgz")


_CHARSET = re.compile(rb"(?<![A-Za-z])CA\s*\[([A-Za-z0-9_.:+-]{1,40})\]")


def _decode(data: bytes) -> str:
    """SGF bytes as text. A charset named by ``CA[]`` that Python knows must decode them (else
    ``UnicodeDecodeError``: a bad encoding); without one, UTF-8, else Latin-1 (the FF[4] default)."""
    match = _CHARSET.search(data)
    if match is not None:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except LookupError:  # a charset Python does not know: fall through to the defaults
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


BUNDLED_DIR = Path(__file__).parent / "bundled"


def bundled_games_path(size: int = 9) -> Path:
    """The expert games shipped inside the package for ``size`` (9x9 only), with their card beside them."""
    path = BUNDLED_DIR / f"gnugo-{size}x{size}.sgf.gz"
    if not path.exists():
        have = ", ".join(sorted(p.name for p in BUNDLED_DIR.glob("*.sgf.gz"))) or "none"
        raise ValueError(f"no bundled expert games for {size}x{size} (bundled: {have}); give a folder of SGF games "
                         f"with --set sl.data=PATH, or make some with minigo expert-games")
    return path


def load_games(path: str | os.PathLike[str], size: int = 9, ko: str = "positional") -> tuple[list[GameRecord],
                                                                                              SkipCounts]:
    """Every game of ``size`` x ``size`` without handicap in a folder (recursive), an SGF file (a collection),
    an ``.sgf.gz``, or a ``.zip`` / ``.tar.gz`` / ``.tgz`` archive, with the counts of what was skipped.

    Raises ``ValueError`` naming the path when it does not exist or holds no SGF file at all.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist: expected a folder or an archive of SGF files")
    skipped = SkipCounts()
    games: list[GameRecord] = []
    files = 0
    try:
        for name, read in _sources(path):
            files += 1
            try:
                data = read()
                if _is_gzip_name(name):
                    data = gzip.decompress(data)
                records = parse_collection(_decode(data), ko=ko)
            except (SGFError, UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile, tarfile.TarError,
                    ValueError) as exc:
                logger.debug("skipped unreadable %s: %s", name, exc)
                skipped.unreadable += 1
                continue
            for record in records:
                if record.size != size:
                    skipped.wrong_size += 1
                elif record.handicap > 0 or record.setup_black or record.setup_white:
                    skipped.handicap += 1
                else:
                    games.append(record)
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise ValueError(f"{path} cannot be read as an archive: {exc}") from None
    if files == 0:
        raise ValueError(f"{path} holds no SGF files (expected *.sgf or *.sgf.gz)")
    if skipped.total:
        logger.info("%s: %d games loaded; skipped %s", path, len(games), skipped)
    return games, skipped


