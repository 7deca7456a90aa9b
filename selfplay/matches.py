"""A-vs-B matches (``minigo eval``): honest error bars, SPRT early stopping, resumable folders.

A match (:func:`run_match`) plays ``games`` games between two player specs (any ``selfplay.player_kinds``
spec; a bare checkpoint file or run folder stands for :func:`resolve_spec`'s player).

- Game ``i`` has A as Black when ``i`` is even, as White when it is odd, and its own seeds
  (:func:`game_seeds`, from ``np.random.SeedSequence([seed, i])``): every player with a ``reseed(seed)``
  method (random, GNU Go, a sampling policy) is reseeded before the game, so the same command plays the
  same games, in any number of workers, in any order. A player's own ``seed=`` option is overridden.
- Worker processes (``selfplay.game_runs.run_games`` on a ``selfplay.farm.Farm``: spawned, gone as soon as the
  parent is) each build the two players once and play the game indices they are sent; games come back to the
  parent, which alone writes files: ``OUT/games/{i:05d}.sgf`` (atomically; PB and PW hold the specs, the root
  comment the game's seeds), ``OUT/match.json`` (what identifies the match) and ``OUT/result.json`` (the
  summary, ``selfplay.match_results``).
- **Resume**: a rerun of the same match in the same folder plays only the indices with no SGF; with a
  larger ``games`` it extends the match. A folder that holds another match (other specs, board, komi, ko
  rule or seed) is refused.
- **Failures**: a player that raises (a GNU Go that dies or times out: ``EngineDied`` / ``EngineTimeout``,
  or a bug in ours) loses that game to the record as *failed*: logged, listed in the summary, not scored.
  The worker closes and rebuilds both players and goes on; a worker process that dies is restarted. Only
  ``max(5, 2 * workers)`` failures in a row stop the match (the engine is broken, not unlucky). Failed
  games have no SGF, so a rerun tries them again.
- **SPRT** (``selfplay.stats.SPRT``): applied to games in index order (the longest prefix of finished games),
  so its stopping point does not depend on which worker finished first; games that finish after the
  decision are saved but not counted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigo.arena import play_game
from minigo.atomic import write_atomic
from minigo.checks import integer
from minigo.go import Rules
from minigo.players import Player, PlayerSpec, PlayerSpecError
from minigo.record import GameRecord
from minigo.sgf import SGFError, load, save
from selfplay.farm import FarmConfig, FarmWorker, worker_count
from selfplay.game_runs import TooManyFailures, indexed_games, run_games
from selfplay.match_results import GameSummary, MatchResult, summarize, summary_of
from selfplay.player_kinds import known_kinds, make_player
from selfplay.run_folder import folder_lock
from selfplay.shipping import FolderRef
from selfplay.stats import SPRT

__all__ = ["MatchConfig", "MatchError", "MatchOutcome", "MatchTask", "check_players", "default_out", "game_seeds",
           "game_task", "play_task", "resolve_spec", "run_match", "serve", "slug"]

logger = logging.getLogger(__name__)

GAMES_FOLDER = "games"
MATCH_FILE = "match.json"
RESULT_FILE = "result.json"
_SEED_LIMIT = 2**31 - 1  # GNU Go's set_random_seed takes a C int


class MatchError(RuntimeError):
    """A match or ladder that cannot be played as asked; the message says why, in one line."""


# ------------------------------------------------------------------------------------------------ specs


def resolve_spec(text: str) -> str:
    """The player spec ``text`` stands for: a spec as given; a bare checkpoint file or run folder as the
    strongest player we can build from it. Until the MCTS player exists that is the policy, ``policy:PATH``
    (greedy); a run folder with a value network and the ``mcts`` kind available means ``mcts:RUN``."""
    text = text.strip()
    kind = text.partition(",")[0].partition(":")[0].strip().lower()
    if kind in known_kinds():
        return text
    path = Path(text)
    if path.is_dir() and _has_value_net(path) and _mcts_available():
        return f"mcts:{text}"
    if path.is_dir() or (path.is_file() and path.suffix == ".safetensors"):
        return f"policy:{text}"
    return text


def _has_value_net(run: Path) -> bool:
    return any(run.glob("checkpoints/value*.safetensors"))


def _mcts_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("models.mcts_player") is not None


def slug(spec: str, limit: int = 40) -> str:
    """A file-name-safe short form of a spec for folder names: a path argument shortened to its file's stem
    (or folder's name), ``policy:runs/a/checkpoints/sl_policy.safetensors,temperature=1`` ->
    ``policy-sl_policy-temperature=1``. Folder names also carry a hash of the full specs."""
    try:
        parsed = PlayerSpec.parse(spec)
    except PlayerSpecError:
        parsed = None
    if parsed is None:
        short = spec
    else:
        arg = parsed.arg
        if arg is not None and ("/" in arg or arg.endswith(".safetensors")):
            arg = Path(arg).stem or Path(arg).name
        short = "-".join([parsed.kind, *([arg] if arg else []), *(f"{k}={v}" for k, v in parsed.options.items())])
    slug = re.sub(r"[^A-Za-z0-9.=_-]+", "-", short).strip("-")
    return slug[:limit].rstrip("-") or "player"


def _close(players: Iterable[Player] | None) -> None:
    for player in players or ():
        with contextlib.suppress(Exception):  # a dead engine may fail to close; it is gone either way
            player.close()


def check_players(specs: Sequence[str], rules: Rules) -> None:
    """Build each player, start its game under ``rules`` and close it, so that a bad spec, a missing GNU Go or a
    checkpoint for another board fails now, in one line, rather than in every game. Raises MatchError."""
    for spec in specs:
        player = None
        try:
            player = make_player(spec)
            player.reset(rules)
        except Exception as exc:  # noqa: BLE001 - whatever a player raises, the user gets one line
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if PlayerSpec.parse(spec).kind not in known_kinds() and ("/" in spec or spec.endswith(".safetensors")):
                reason = f"no such checkpoint file or run folder, nor a player kind ({', '.join(known_kinds())})"
            raise MatchError(f"player {spec!r}: {reason}") from None
        finally:
            _close([player] if player is not None else None)


# ------------------------------------------------------------------------------------------------ one game


@dataclass(frozen=True)
class MatchTask:
    """Game ``index`` of a match: who is Black, the seeds the two players get, and the opening played first."""

    index: int
    a_is_black: bool
    seed_a: int
    seed_b: int
    opening: tuple[int, ...] = ()


@dataclass
class MatchOutcome:
    """What a worker sends back: the game, or why there is none (``error``)."""

    worker: int
    task: MatchTask
    record: GameRecord | None
    error: str = ""
    seconds: float = 0.0


def game_seeds(match_seed: int, index: int) -> tuple[int, int]:
    """The seeds of game ``index`` for A and for B, each in 0..2**31-2, from SeedSequence([match_seed, index])."""
    state = np.random.SeedSequence([int(match_seed), int(index)]).generate_state(2, dtype=np.uint64)
    return int(state[0] % np.uint64(_SEED_LIMIT)), int(state[1] % np.uint64(_SEED_LIMIT))


@functools.cache
def expert_openings(size: int, moves: int) -> tuple[tuple[int, ...], ...]:
    """The distinct first ``moves`` moves (no pass among them) of the bundled expert games for ``size``, sorted: the
    openings a match with ``openings = moves`` draws from. A ValueError when no games are bundled for ``size``."""
    from selfplay.game_import import bundled_games_path, load_games

    games, _ = load_games(bundled_games_path(size), size=size)
    pass_point = size * size
    found = {tuple(m.point for m in game.moves[:moves]) for game in games if len(game.moves) > moves}
    return tuple(sorted(o for o in found if pass_point not in o))


def game_task(match_seed: int, index: int, openings: int = 0, size: int = 9) -> MatchTask:
    """Game ``index``: A plays Black in even games and White in odd ones, so colours alternate. With ``openings``
    = K, games 2j and 2j+1 start from the same first K moves of a bundled expert game, drawn for pair j, so that
    two deterministic players play different games, and each opening once with each colour."""
    seed_a, seed_b = game_seeds(match_seed, index)
    opening: tuple[int, ...] = ()
    if openings:
        choices = expert_openings(size, openings)
        opening = choices[int(np.random.default_rng([int(match_seed), index // 2, 1]).integers(len(choices)))]
    return MatchTask(index, index % 2 == 0, seed_a, seed_b, opening)


def play_task(a: Player, b: Player, task: MatchTask, rules: Rules, names: tuple[str, str]) -> GameRecord:
    """Play one game of a match: reseed both players (those that can be), seat them, play it out.

    ``names`` are A's and B's specs; they become PB / PW. Exceptions (a dead engine) propagate.
    """
    for player, seed in ((a, task.seed_a), (b, task.seed_b)):
        reseed = getattr(player, "reseed", None)
        if callable(reseed):
            reseed(seed)
    name_a, name_b = names
    if task.a_is_black:
        record = play_game(a, b, rules, black_name=name_a, white_name=name_b, opening=task.opening)
    else:
        record = play_game(b, a, rules, black_name=name_b, white_name=name_a, opening=task.opening)
    note = (f"minigo eval: game {task.index}; A = {name_a} ({'Black' if task.a_is_black else 'White'}), "
            f"B = {name_b}; seeds A {task.seed_a}, B {task.seed_b}")
    record.comment = f"{note}\n{record.comment}" if record.comment else note
    return record


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def serve(build: Callable[[], tuple[Player, Player]], tasks: Iterable[MatchTask], rules: Rules,
          names: tuple[str, str], worker: int = 0) -> Iterator[MatchOutcome]:
    """The body of a worker: play each task with the players ``build`` makes, yielding one outcome per task.

    The players are built once and reused; after any exception in a game (an engine that died or timed out,
    a player's bug) that game's outcome carries the error, both players are closed, and fresh ones are built
    for the next game. The players are closed when the tasks run out.
    """
    players: tuple[Player, Player] | None = None
    try:
        for task in tasks:
            start = time.monotonic()
            try:
                if players is None:
                    players = build()
                record = play_task(players[0], players[1], task, rules, names)
            except Exception as exc:  # noqa: BLE001 - any failure of a player costs that game only
                _close(players)
                players = None
                yield MatchOutcome(worker, task, None, _describe(exc), time.monotonic() - start)
                continue
            yield MatchOutcome(worker, task, record, "", time.monotonic() - start)
    finally:
        _close(players)


@dataclass(frozen=True)
class ShippedSpec:
    """A player spec and the run folder or checkpoint its argument names, which travels to workers by content on a
    cluster farm (``selfplay.shipping``); ``local()`` is the spec with the argument pointing at this machine's copy."""

    text: str
    files: FolderRef | None = None
    file: str = ""
    """When the argument is a checkpoint file: its name inside ``files`` (its folder, shipped with the rollout
    policy beside it)."""

    @classmethod
    def of(cls, text: str) -> ShippedSpec:
        try:
            spec = PlayerSpec.parse(text)
        except PlayerSpecError:
            return cls(text)
        path = Path(spec.arg) if spec.arg else None
        if path is None or spec.kind == "gnugo":
            return cls(text)
        if path.is_dir():
            return cls(text, FolderRef(str(path)))
        if path.is_file():
            return cls(text, FolderRef(str(path.parent), (path.name, "rollout.safetensors")), path.name)
        return cls(text)

    def local(self) -> str:
        if self.files is None:
            return self.text
        folder = self.files.local()
        if folder == self.files.path:  # not shipped: this machine has the files
            return self.text
        spec = PlayerSpec.parse(self.text)
        arg = str(Path(folder) / self.file) if self.file else folder
        return ",".join([f"{spec.kind}:{arg}", *(f"{k}={v}" for k, v in spec.options.items())])


def _match_worker(specs: tuple[str | ShippedSpec, str | ShippedSpec], rules: Rules, worker: FarmWorker,
                  tasks: Iterator[MatchTask]) -> Iterator[MatchOutcome]:
    """The work of a match worker (``selfplay.farm``): ``serve`` with players built from ``specs``."""
    texts = tuple(s.local() if isinstance(s, ShippedSpec) else s for s in specs)

    def build() -> tuple[Player, Player]:
        a = make_player(texts[0])
        try:
            b = make_player(texts[1])
        except BaseException:
            _close([a])
            raise
        if "torch" in sys.modules:
            # one thread per worker: the workers (and GNU Go) already share the cores between them
            sys.modules["torch"].set_num_threads(1)
        return a, b

    yield from serve(build, tasks, rules, (specs[0] if isinstance(specs[0], str) else specs[0].text,
                                           specs[1] if isinstance(specs[1], str) else specs[1].text), worker.id)


# ------------------------------------------------------------------------------------------------ a match


@dataclass(frozen=True)
class MatchConfig:
    """One A-vs-B match (``minigo eval``)."""

    a: str
    """Player A's spec (already resolved: see ``resolve_spec``)."""
    b: str
    """Player B's spec."""
    out: Path
    """Match folder: ``games/{i:05d}.sgf``, ``match.json``, ``result.json``."""
    games: int = 100
    """Games to play (or, with ``sprt``, at most)."""
    size: int = 9
    """Board size."""
    komi: float = 7.5
    """Komi; ``.0`` allows draws, which count half."""
    ko: str = "positional"
    """Ko rule: positional superko or simple ko."""
    workers: int = field(default_factory=worker_count)
    """Worker processes playing games at once (default: the cores this process may use)."""
    seed: int = 0
    """Match seed: game i's seeds are drawn from (seed, i)."""
    sprt: SPRT | None = None
    """Stop early once this test decides; None plays all the games."""
    openings: int = 0
    """Opening moves from the bundled expert games, one opening per pair of games (colours swapped); 0: none."""
    farm: FarmConfig = field(default_factory=FarmConfig)
    """Where the workers run (this machine's processes, or a Ray cluster); not part of the match's identity."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        integer("games", self.games, 1)
        integer("openings", self.openings, 0, 20)
        integer("workers", self.workers, 1)
        integer("seed", self.seed, 0)
        self.rules  # noqa: B018 - checks size, komi and ko, with their own messages
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"out {str(self.out)!r} is a file: expected a folder (new or holding this match)")

    @property
    def rules(self) -> Rules:
        return Rules(size=self.size, komi=float(self.komi), ko=self.ko)

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same match: a folder holds one."""
        identity = {"a": self.a, "b": self.b, "size": self.size, "komi": float(self.komi), "ko": self.ko,
                    "seed": self.seed}
        return identity | ({"openings": self.openings} if self.openings else {})


def default_out(a: str, b: str, size: int, komi: float, ko: str, seed: int, root: str = "runs/evals",
                openings: int = 0) -> Path:
    """``runs/evals/<A>_vs_<B>_<size>x<size>_<hash>``: one folder per match, so rerunning a command resumes it."""
    fields = {"a": a, "b": b, "size": size, "komi": float(komi), "ko": ko, "seed": seed}
    identity = json.dumps(fields | ({"openings": openings} if openings else {}), sort_keys=True)
    digest = hashlib.sha1(identity.encode()).hexdigest()[:6]
    return Path(root) / f"{slug(a)}_vs_{slug(b)}_{size}x{size}_{digest}"


def _check_identity(config: MatchConfig) -> None:
    path = config.out / MATCH_FILE
    if not path.exists():
        return
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MatchError(f"{path} is unreadable ({exc}); remove it or use another --out") from None
    for key, value in config.identity().items():
        if stored.get(key) != value:
            raise MatchError(f"{config.out} holds another match ({key} {stored.get(key)!r}, this one {value!r}); "
                             f"use another --out")


def _load_games(config: MatchConfig) -> dict[int, GameSummary]:
    """The games of this match already in ``OUT/games``, by index (indices beyond ``games`` are ignored)."""
    found: dict[int, GameSummary] = {}
    for index, path in indexed_games(config.out / GAMES_FOLDER, 5):
        if index >= config.games:
            continue
        task = game_task(config.seed, index, config.openings, config.size)
        try:
            record = load(path, ko=config.ko)
        except (OSError, SGFError, ValueError) as exc:
            logger.warning("%s is unreadable (%s); the game is played again", path, exc)
            continue
        black, white = (config.a, config.b) if task.a_is_black else (config.b, config.a)
        if (record.black, record.white, record.size, record.komi) != (black, white, config.size, float(config.komi)):
            raise MatchError(f"{path} is not game {index} of this match (PB {record.black!r}, PW {record.white!r}, "
                             f"SZ {record.size}, KM {record.komi:g}); use another --out")
        found[index] = summary_of(record, index, task.a_is_black)
    return found


class _Progress:
    """The running state of a match: finished and failed games, and the SPRT applied to the index-order prefix."""

    def __init__(self, config: MatchConfig, done: dict[int, GameSummary]) -> None:
        self.config = config
        self.done = dict(done)
        self.failed: dict[int, str] = {}
        self.decision: str | None = None
        self.decided_at: int | None = None  # games 0..decided_at-1 are the ones that count
        self._next = 0  # the SPRT has seen every index below this
        self._wdl = [0.0, 0.0, 0.0]
        self.advance()

    def add(self, outcome_index: int, summary: GameSummary | None, error: str = "") -> None:
        if summary is not None:
            self.done[outcome_index] = summary
        else:
            self.failed[outcome_index] = error
        self.advance()

    def advance(self) -> None:
        """Feed the SPRT the games in index order, up to the first one not finished yet."""
        sprt = self.config.sprt
        if sprt is None:
            return
        while self.decision is None and self._next < self.config.games:
            index = self._next
            if index in self.done:
                score = self.done[index].a_score
                if score is not None:
                    self._wdl[0 if score == 1.0 else 1 if score == 0.5 else 2] += 1
            elif index not in self.failed:
                return
            self._next += 1
            self.decision = sprt.decide(*self._wdl)
            if self.decision is not None:
                self.decided_at = self._next

    @property
    def finished(self) -> bool:
        return self.decision is not None

    def counted(self) -> list[GameSummary]:
        limit = self.decided_at if self.decided_at is not None else self.config.games
        return [self.done[i] for i in sorted(self.done) if i < limit]

    def counted_failures(self) -> list[tuple[int, str]]:
        limit = self.decided_at if self.decided_at is not None else self.config.games
        return [(i, self.failed[i]) for i in sorted(self.failed) if i < limit]

    def postfix(self) -> str:
        scores = [g.a_score for g in self.done.values() if g.a_score is not None]
        wins, draws = scores.count(1.0), scores.count(0.5)
        losses = len(scores) - wins - draws
        rate = (wins + draws / 2) / len(scores) if scores else 0.0
        text = f"A {wins}-{losses}" + (f"-{draws}" if draws else "") + f" ({rate:.1%})"
        if self.failed:
            text += f", failed {len(self.failed)}"
        return text

    def sprt_report(self) -> dict[str, Any] | None:
        sprt = self.config.sprt
        if sprt is None:
            return None
        games = self.counted()
        wins = sum(1 for g in games if g.a_score == 1.0)
        draws = sum(1 for g in games if g.a_score == 0.5)
        losses = sum(1 for g in games if g.a_score == 0.0)
        return {"test": sprt.describe(), "elo0": sprt.elo0, "elo1": sprt.elo1, "alpha": sprt.alpha,
                "beta": sprt.beta, "llr": sprt.llr(wins, draws, losses), "lower": sprt.lower, "upper": sprt.upper,
                "decision": self.decision, "games": len(games)}


def run_match(config: MatchConfig, progress: bool = True, *, check: bool = True, desc: str = "eval") -> MatchResult:
    """Play (or resume) the match ``config`` describes; see the module docstring.

    ``check`` builds each player once in this process first (``check_players``). Raises MatchError for a
    folder that holds another match, a bad player, or engines that fail game after game; KeyboardInterrupt
    after a clean stop (finished games are kept and ``result.json`` is written).
    """
    out = config.out
    _check_identity(config)  # before anything is built or written; again below, under the lock
    if check:
        check_players([config.a, config.b], config.rules)
    out.mkdir(parents=True, exist_ok=True)
    (out / GAMES_FOLDER).mkdir(exist_ok=True)
    with folder_lock(out, "minigo eval", MatchError):
        _check_identity(config)
        state = _Progress(config, _load_games(config))
        pending = [] if state.finished else [i for i in range(config.games) if i not in state.done]
        info = {**config.identity(), "games": config.games, "openings": config.openings,
                "sprt": None if config.sprt is None else dataclasses.asdict(config.sprt),
                "colours": "A is Black in even games, White in odd ones",
                "game_seeds": "numpy SeedSequence([seed, index]).generate_state(2, uint64) % (2**31 - 1): A's, B's"}
        write_atomic(out / MATCH_FILE, (json.dumps(info, indent=1) + "\n").encode("utf-8"))
        played = 0
        start = time.monotonic()
        try:
            if pending:
                played = _play(config, state, pending, progress, desc)
        finally:
            result = summarize(state.counted(), a=config.a, b=config.b, rules=config.rules, seed=config.seed,
                               openings=config.openings,
                               planned=config.games, failed=state.counted_failures(), sprt=state.sprt_report())
            result.played_this_session = played
            result.seconds = time.monotonic() - start if pending else 0.0
            result.out = str(out)
            write_atomic(out / RESULT_FILE, (json.dumps(result.to_json(), indent=1) + "\n").encode("utf-8"))
    return result


def _play(config: MatchConfig, state: _Progress, pending: list[int], progress: bool, desc: str) -> int:
    """Deal the pending game indices to worker processes, store what comes back; the number of games saved."""
    saved = 0

    def tasks() -> Iterator[MatchTask]:
        for index in pending:
            if state.finished:  # the SPRT has decided: no more games
                return
            yield game_task(config.seed, index, config.openings, config.size)

    def handle(outcome: MatchOutcome, bar: Any) -> bool:
        nonlocal saved
        index = outcome.task.index
        if outcome.record is not None:
            save(outcome.record, config.out / GAMES_FOLDER / f"{index:05d}.sgf")
            saved += 1
            state.add(index, summary_of(outcome.record, index, outcome.task.a_is_black))
        else:
            logger.warning("game %d failed, not scored (the match goes on): %s", index, outcome.error)
            state.add(index, None, outcome.error)
        bar.update(1)
        bar.set_postfix_str(state.postfix(), refresh=False)
        return outcome.record is None

    try:
        gnugo = any(spec.split(":", 1)[0].strip().lower() == "gnugo" for spec in (config.a, config.b))
        run_games(functools.partial(_match_worker, (ShippedSpec.of(config.a), ShippedSpec.of(config.b)), config.rules),
                  [tasks()], farm=config.farm, resources={"gnugo": 1} if gnugo else None,
                  workers=min(config.workers, len(pending)), name="eval", handle=handle,
                  lost=lambda task, lost: MatchOutcome(lost.worker, task, None, lost.reason),
                  total=config.games, done=len(state.done) + len(state.failed), desc=desc, progress=progress,
                  last_failure=lambda: state.failed[max(state.failed)] if state.failed else "?")
    except TooManyFailures as exc:
        raise MatchError(str(exc)) from None
    return saved
