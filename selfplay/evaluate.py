"""Measure strength: A-vs-B matches with honest error bars, SPRT early stopping, and Bradley-Terry ladders.

**A match** (``minigo eval A B``, :func:`run_match`) plays ``games`` games between two player specs (any
``minigo.players`` spec; a bare checkpoint file or run folder stands for :func:`resolve_spec`'s player).

- Game ``i`` has A as Black when ``i`` is even, as White when it is odd, and its own seeds
  (:func:`game_seeds`, from ``np.random.SeedSequence([seed, i])``): every player with a ``reseed(seed)``
  method (random, GNU Go, a sampling policy) is reseeded before the game, so the same command plays the
  same games, in any number of workers, in any order. A player's own ``seed=`` option is overridden.
- Worker processes (a ``selfplay.farm.Farm``: spawned, gone as soon as the parent is) each build the two
  players once and play the game indices they are sent; games come back to the parent, which alone writes
  files: ``OUT/games/{i:05d}.sgf`` (atomically; PB and PW hold the specs, the root comment the game's seeds),
  ``OUT/match.json`` (what identifies the match) and ``OUT/result.json`` (the summary).
- **Resume**: a rerun of the same match in the same folder plays only the indices with no SGF; with a
  larger ``games`` it extends the match. A folder that holds another match (other specs, board, komi, ko
  rule or seed) is refused.
- **Failures**: a player that raises (a GNU Go that dies or times out: ``EngineDied`` / ``EngineTimeout``,
  or a bug in ours) loses that game to the record as *failed*: logged, listed in the summary, not scored.
  The worker closes and rebuilds both players and goes on; a worker process that dies is restarted. Only
  ``max(5, 2 * workers)`` failures in a row stop the match (the engine is broken, not unlucky). Failed
  games have no SGF, so a rerun tries them again.

**Statistics** (pure functions). A's *score* counts a win 1, a draw 1/2 (komi ``.0`` allows draws), a loss 0.

- :func:`wilson_interval`: the 95% Wilson score interval of the score rate. Draws make the per-game variance
  smaller than a win/loss coin's, so with draws the interval is a little conservative.
- :func:`elo_from_score`: the logistic Elo difference ``-400 log10(1/p - 1)``; its interval is the Wilson
  interval mapped through it (the map is monotone), so both say the same thing.
- :class:`SPRT`: Wald's sequential probability ratio test of H0 ``elo = elo0`` against H1 ``elo = elo1``, as
  Leela Zero gates networks (0 / 35 Elo there) and fishtest tests patches. We use the **binomial model**:
  each draw counts as half a win and half a loss, and the log-likelihood ratio is
  ``W' ln(s1/s0) + L' ln((1-s1)/(1-s0))`` with ``W' = wins + draws/2``, ``L' = losses + draws/2`` and
  ``s = 1 / (1 + 10^(-elo/400))``; it is exact when draws cannot happen (komi ``.5``). Bounds
  ``ln(beta/(1-alpha))`` and ``ln((1-beta)/alpha)``, alpha = beta = 0.05 by default. The test is applied to
  games in index order (the longest prefix of finished games), so its stopping point does not depend on
  which worker finished first; games that finish after the decision are saved but not counted.
- :func:`bradley_terry`: maximum-likelihood ratings from a table of pairwise scores (Newton's method on the
  log-strengths with one player anchored at 0), with standard errors from the inverse Fisher information.

**A ladder** (``minigo ladder``, :func:`run_ladder`) plays a match between every pair of players (run folders
expand to their policy checkpoints, sampled at a temperature so that two networks do not repeat one game),
each pair in ``OUT/pairs/<name>`` so that a rerun reuses every game already played and a ladder grows with
its run. Ratings are fitted by Bradley-Terry with one virtual drawn game per pair that played (so that a
player who won every game gets a large finite rating, not infinity), anchored at ``random`` when it plays,
else at the first player; the table goes to stdout and ``OUT/ladder.json``, the Elo-against-training-step
plot to ``OUT/ladder.png`` when matplotlib is installed (``pip install -e '.[plot]'``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import math
import os
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
from minigo.go import Rules
from minigo.players import Player, PlayerSpec, PlayerSpecError, known_kinds
from minigo.record import GameRecord
from minigo.sgf import SGFError, load, save
from selfplay.farm import Farm, FarmWorker, Lost

__all__ = [
    "SPRT", "GameOutcome", "GameSummary", "GameTask", "LadderConfig", "LadderEntry", "LadderResult", "MatchConfig",
    "MatchError", "MatchResult", "Ratings", "a_score", "bradley_terry", "check_players", "default_out",
    "elo_from_score", "format_ladder", "format_match", "game_seeds", "game_task", "ladder_entries", "pair_folder",
    "play_task", "resolve_spec", "run_ladder", "run_match", "score_from_elo", "serve", "summarize", "wilson_interval",
]

logger = logging.getLogger(__name__)

Z95 = 1.959963984540054
"""The two-sided 95% quantile of the standard normal."""
ELO_PER_NAT = 400.0 / math.log(10.0)
"""Elo points per unit of natural log-strength: ``elo = 400 log10(odds)``."""
GAMES_FOLDER = "games"
MATCH_FILE = "match.json"
RESULT_FILE = "result.json"
LOCK_FILE = ".lock"
_GAME_FILE = re.compile(r"(\d{5,})\.sgf")
_SEED_LIMIT = 2**31 - 1  # GNU Go's set_random_seed takes a C int


class MatchError(RuntimeError):
    """A match or ladder that cannot be played as asked; the message says why, in one line."""


# ------------------------------------------------------------------------------------------------ statistics


def wilson_interval(score: float, games: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the rate ``score / games`` (draws count half); (0, 1) with no games."""
    if games <= 0:
        return 0.0, 1.0
    p = score / games
    z2 = z * z
    denominator = 1.0 + z2 / games
    centre = (p + z2 / (2 * games)) / denominator
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / games + z2 / (4.0 * games * games)) / denominator
    # exact ends for clean sweeps (the formula gives them up to rounding)
    low = 0.0 if score <= 0 else max(0.0, centre - half)
    high = 1.0 if score >= games else min(1.0, centre + half)
    return low, high


def elo_from_score(p: float) -> float:
    """The logistic Elo difference that expects the score rate ``p``; +-inf at 1 and 0."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return -400.0 * math.log10(1.0 / p - 1.0)


def score_from_elo(elo: float) -> float:
    """The expected score rate of a player ``elo`` points stronger: ``1 / (1 + 10^(-elo/400))``."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


@dataclass(frozen=True)
class SPRT:
    """Wald's SPRT of H0 (A is ``elo0`` stronger) against H1 (A is ``elo1`` stronger), binomial model."""

    elo0: float
    """Elo difference under H0 (Leela Zero: 0)."""
    elo1: float
    """Elo difference under H1; above elo0 (Leela Zero: 35)."""
    alpha: float = 0.05
    """Chance of accepting H1 when H0 holds."""
    beta: float = 0.05
    """Chance of accepting H0 when H1 holds."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.elo0) and math.isfinite(self.elo1) and self.elo0 < self.elo1):
            raise ValueError(f"sprt {self.elo0:g},{self.elo1:g}: expected finite ELO0 < ELO1")
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise ValueError(f"sprt alpha {self.alpha:g}, beta {self.beta:g}: expected each in (0, 0.5)")

    @property
    def lower(self) -> float:
        """Accept H0 at or below this log-likelihood ratio: ``ln(beta / (1 - alpha))``."""
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        """Accept H1 at or above this log-likelihood ratio: ``ln((1 - beta) / alpha)``."""
        return math.log((1.0 - self.beta) / self.alpha)

    def llr(self, wins: float, draws: float, losses: float) -> float:
        """Log-likelihood ratio of H1 to H0 after A's ``wins``, ``draws`` and ``losses``; a draw is half of each."""
        s0, s1 = score_from_elo(self.elo0), score_from_elo(self.elo1)
        points, lost = wins + draws / 2.0, losses + draws / 2.0
        return points * math.log(s1 / s0) + lost * math.log((1.0 - s1) / (1.0 - s0))

    def decide(self, wins: float, draws: float, losses: float) -> str | None:
        """``"H1"`` or ``"H0"`` once the ratio crosses a bound, else None (keep playing)."""
        llr = self.llr(wins, draws, losses)
        if llr >= self.upper:
            return "H1"
        if llr <= self.lower:
            return "H0"
        return None

    def describe(self) -> str:
        return f"SPRT(elo0={self.elo0:g}, elo1={self.elo1:g}, alpha={self.alpha:g}, beta={self.beta:g}, binomial)"


@dataclass(frozen=True)
class Ratings:
    """Bradley-Terry ratings: Elo ``(P,)`` relative to the anchor (0) and their standard errors ``(P,)``."""

    elo: np.ndarray
    stderr: np.ndarray
    anchor: int

    def interval(self, index: int, z: float = Z95) -> tuple[float, float]:
        """The 95% interval of one player's rating (a point for the anchor, which is 0 by definition)."""
        half = z * float(self.stderr[index])
        return float(self.elo[index]) - half, float(self.elo[index]) + half


def bradley_terry(scores: np.ndarray, games: np.ndarray, anchor: int = 0, prior_games: float = 0.0,
                  tol: float = 1e-10, max_iter: int = 200) -> Ratings:
    """Maximum-likelihood Bradley-Terry ratings.

    ``scores[i, j]``: the points player i scored against player j (a win 1, a draw 1/2), ``(P, P)``;
    ``games[i, j] == games[j, i]``: the games they played, ``(P, P)``. ``prior_games`` adds that many virtual
    games, drawn, to every pair that played, which keeps the ratings finite when a player won (or lost) all
    its games. The model: ``P(i beats j) = 1 / (1 + exp(theta_j - theta_i))``; Newton's method on theta with
    ``theta[anchor] = 0``, step-halving so that the log-likelihood never falls. Standard errors come from the
    inverse of the observed Fisher information (the negated Hessian without the anchor's row and column).
    Raises ValueError when no finite maximum exists (players not connected by games, or with no prior, a
    player who won or lost everything in a way that leaves the win graph not strongly connected).
    """
    scores = np.asarray(scores, dtype=np.float64).copy()
    games = np.asarray(games, dtype=np.float64).copy()
    count = scores.shape[0]
    if scores.shape != (count, count) or games.shape != (count, count):
        raise ValueError(f"scores {scores.shape} and games {games.shape} must both be (P, P)")
    if not 0 <= anchor < count:
        raise ValueError(f"anchor {anchor} is not a player index 0..{count - 1}")
    np.fill_diagonal(scores, 0.0)
    np.fill_diagonal(games, 0.0)
    if not np.allclose(games, games.T):
        raise ValueError("games must be symmetric: games[i, j] == games[j, i]")
    if np.any(scores < 0) or np.any(scores > games + 1e-9):
        raise ValueError("scores must lie between 0 and the games played")
    if prior_games > 0:
        played = games > 0
        scores += np.where(played, prior_games / 2.0, 0.0)
        games += np.where(played, prior_games, 0.0)
    if count == 1:
        return Ratings(np.zeros(1), np.zeros(1), anchor)
    # the maximum is finite iff every player can reach every other along "scored against" edges
    if not _strongly_connected(scores > 0):
        raise ValueError("no finite maximum-likelihood ratings: the players are not connected by games, or some "
                         "player won (or lost) every game it played against the rest; add a prior")
    free = np.array([i for i in range(count) if i != anchor])
    theta = np.zeros(count)

    def log_likelihood(t: np.ndarray) -> float:
        diff = t[:, None] - t[None, :]  # (P, P): theta_i - theta_j
        # sum over ordered pairs of s_ij * log sigma(theta_i - theta_j)
        return float(np.sum(scores * -np.logaddexp(0.0, -diff)))

    def gradient_hessian(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-(t[:, None] - t[None, :])))  # (P, P): P(i beats j)
        gradient = scores.sum(axis=1) - (games * p).sum(axis=1)  # (P,)
        weight = games * p * p.T  # (P, P): n_ij p_ij p_ji
        hessian = weight - np.diag(weight.sum(axis=1))  # (P, P), negative semidefinite
        return gradient, hessian

    current = log_likelihood(theta)
    for _ in range(max_iter):
        gradient, hessian = gradient_hessian(theta)
        step = np.linalg.solve(-hessian[np.ix_(free, free)], gradient[free])
        scale = 1.0
        while True:
            trial = theta.copy()
            trial[free] += scale * step
            value = log_likelihood(trial)
            if value >= current - 1e-12 or scale < 1e-8:
                break
            scale /= 2.0
        theta, current = trial, value
        if np.max(np.abs(scale * step)) < tol:
            break
    _, hessian = gradient_hessian(theta)
    covariance = np.linalg.inv(-hessian[np.ix_(free, free)])
    stderr = np.zeros(count)
    stderr[free] = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    return Ratings(theta * ELO_PER_NAT, stderr * ELO_PER_NAT, anchor)


def _strongly_connected(edges: np.ndarray) -> bool:
    """Whether the directed graph ``edges[i, j]`` (i -> j) reaches every node from every node."""
    count = edges.shape[0]

    def reach(adjacency: np.ndarray) -> int:
        seen = {0}
        stack = [0]
        while stack:
            node = stack.pop()
            for other in np.flatnonzero(adjacency[node]).tolist():
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        return len(seen)

    return reach(edges) == count and reach(edges.T) == count


# ------------------------------------------------------------------------------------------------ specs


_TORCH_KINDS = ("policy", "mcts")  # registered when selfplay.cli.make_any_player first needs them


def resolve_spec(text: str) -> str:
    """The player spec ``text`` stands for: a spec as given; a bare checkpoint file or run folder as the
    strongest player we can build from it. Until the MCTS player exists that is the policy, ``policy:PATH``
    (greedy); a run folder with a value network and the ``mcts`` kind available means ``mcts:RUN``."""
    text = text.strip()
    kind = text.partition(",")[0].partition(":")[0].strip().lower()
    if kind in known_kinds() or kind in _TORCH_KINDS:
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


def _slug(spec: str, limit: int = 40) -> str:
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


def _build(spec: str) -> Player:
    from selfplay.cli import make_any_player  # lazy: it imports torch for the kinds that need it

    return make_any_player(spec)


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
            player = _build(spec)
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
class GameTask:
    """Game ``index`` of a match: who is Black, and the seeds the two players get."""

    index: int
    a_is_black: bool
    seed_a: int
    seed_b: int


@dataclass
class GameOutcome:
    """What a worker sends back: the game, or why there is none (``error``)."""

    worker: int
    task: GameTask
    record: GameRecord | None
    error: str = ""
    seconds: float = 0.0


def game_seeds(match_seed: int, index: int) -> tuple[int, int]:
    """The seeds of game ``index`` for A and for B, each in 0..2**31-2, from SeedSequence([match_seed, index])."""
    state = np.random.SeedSequence([int(match_seed), int(index)]).generate_state(2, dtype=np.uint64)
    return int(state[0] % np.uint64(_SEED_LIMIT)), int(state[1] % np.uint64(_SEED_LIMIT))


def game_task(match_seed: int, index: int) -> GameTask:
    """Game ``index``: A plays Black in even games and White in odd ones, so colours alternate."""
    seed_a, seed_b = game_seeds(match_seed, index)
    return GameTask(index, index % 2 == 0, seed_a, seed_b)


def play_task(a: Player, b: Player, task: GameTask, rules: Rules, names: tuple[str, str]) -> GameRecord:
    """Play one game of a match: reseed both players (those that can be), seat them, play it out.

    ``names`` are A's and B's specs; they become PB / PW. Exceptions (a dead engine) propagate.
    """
    for player, seed in ((a, task.seed_a), (b, task.seed_b)):
        reseed = getattr(player, "reseed", None)
        if callable(reseed):
            reseed(seed)
    name_a, name_b = names
    if task.a_is_black:
        record = play_game(a, b, rules, black_name=name_a, white_name=name_b)
    else:
        record = play_game(b, a, rules, black_name=name_b, white_name=name_a)
    note = (f"minigo eval: game {task.index}; A = {name_a} ({'Black' if task.a_is_black else 'White'}), "
            f"B = {name_b}; seeds A {task.seed_a}, B {task.seed_b}")
    record.comment = f"{note}\n{record.comment}" if record.comment else note
    return record


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def serve(build: Callable[[], tuple[Player, Player]], tasks: Iterable[GameTask], rules: Rules,
          names: tuple[str, str], worker: int = 0) -> Iterator[GameOutcome]:
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
                yield GameOutcome(worker, task, None, _describe(exc), time.monotonic() - start)
                continue
            yield GameOutcome(worker, task, record, "", time.monotonic() - start)
    finally:
        _close(players)


def _match_worker(specs: tuple[str, str], rules: Rules, worker: FarmWorker,
                  tasks: Iterator[GameTask]) -> Iterator[GameOutcome]:
    """The work of a match worker (``selfplay.farm``): ``serve`` with players built from ``specs``."""

    def build() -> tuple[Player, Player]:
        a = _build(specs[0])
        try:
            b = _build(specs[1])
        except BaseException:
            _close([a])
            raise
        if "torch" in sys.modules:
            # one thread per worker: the workers (and GNU Go) already share the cores between them
            sys.modules["torch"].set_num_threads(1)
        return a, b

    yield from serve(build, tasks, rules, specs, worker.id)


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class GameSummary:
    """What a match needs to know of one finished game."""

    index: int
    a_is_black: bool
    a_score: float | None
    """1 win, 0.5 draw, 0 loss for A; None when the record has no result."""
    length: int
    """Moves played, passes included."""
    key: str
    """A digest of the move sequence, to count distinct games."""


def a_score(result: str, a_is_black: bool) -> float | None:
    """A's score from an SGF result: 1 for a win (by points, resignation or forfeit), 0.5 for a draw, 0 for a
    loss; None for no result (``""``, ``?``, ``Void``)."""
    result = result.strip().upper()
    if result in ("0", "DRAW") or result.startswith("0"):
        return 0.5
    if result.startswith("B+"):
        return 1.0 if a_is_black else 0.0
    if result.startswith("W+"):
        return 0.0 if a_is_black else 1.0
    return None


def _summary_of(record: GameRecord, index: int, a_is_black: bool) -> GameSummary:
    key = hashlib.sha1(",".join(f"{m.color}:{m.point}" for m in record.moves).encode()).hexdigest()[:16]
    return GameSummary(index, a_is_black, a_score(record.result, a_is_black), len(record.moves), key)


@dataclass
class MatchResult:
    """The summary of a match, as printed and as written to ``OUT/result.json``."""

    a: str
    b: str
    size: int
    komi: float
    ko: str
    seed: int
    games: int
    """Games the match was asked for."""
    scored: int
    """Games that count: finished with a result (up to the SPRT's decision, when it stopped the match)."""
    a_wins: int
    a_losses: int
    draws: int
    a_score: float
    win_rate: float
    """A's score rate, draws counting half; NaN with no scored games."""
    wilson: tuple[float, float]
    elo: float
    elo_interval: tuple[float, float]
    a_black_games: int
    a_black_score: float
    a_white_games: int
    a_white_score: float
    black_rate: float
    """Black's score rate over all scored games, whoever played Black: komi shows here."""
    average_length: float
    distinct_games: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    """Games that could not be played: ``{"game": i, "error": "..."}``."""
    sprt: dict[str, Any] | None = None
    played_this_session: int = 0
    seconds: float = 0.0
    """Wall-clock seconds of this session's playing (worker start-up included)."""
    out: str = ""

    @property
    def games_per_second(self) -> float:
        return self.played_this_session / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["games_per_second"] = self.games_per_second
        return _json_safe(data)


def _json_safe(value: Any) -> Any:
    """JSON has no inf or NaN: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def summarize(games: Sequence[GameSummary], *, a: str, b: str, rules: Rules, seed: int, planned: int,
              failed: Sequence[tuple[int, str]] = (), sprt: dict[str, Any] | None = None) -> MatchResult:
    """The match summary over ``games`` (those without a result count as failed)."""
    failed_list = [{"game": index, "error": error} for index, error in failed]
    scored = [g for g in games if g.a_score is not None]
    failed_list += [{"game": g.index, "error": "no result in the record"} for g in games if g.a_score is None]
    failed_list.sort(key=lambda item: item["game"])
    n = len(scored)
    total = sum(g.a_score for g in scored if g.a_score is not None)
    as_black = [g for g in scored if g.a_is_black]
    as_white = [g for g in scored if not g.a_is_black]
    black_points = sum((g.a_score if g.a_is_black else 1.0 - g.a_score) for g in scored if g.a_score is not None)
    low, high = wilson_interval(total, n)
    rate = total / n if n else math.nan
    return MatchResult(
        a=a, b=b, size=rules.size, komi=rules.komi, ko=rules.ko, seed=seed, games=planned, scored=n,
        a_wins=sum(1 for g in scored if g.a_score == 1.0), a_losses=sum(1 for g in scored if g.a_score == 0.0),
        draws=sum(1 for g in scored if g.a_score == 0.5), a_score=total, win_rate=rate, wilson=(low, high),
        elo=elo_from_score(rate) if n else math.nan,
        elo_interval=(elo_from_score(low), elo_from_score(high)) if n else (math.nan, math.nan),
        a_black_games=len(as_black), a_black_score=sum(g.a_score or 0.0 for g in as_black),
        a_white_games=len(as_white), a_white_score=sum(g.a_score or 0.0 for g in as_white),
        black_rate=black_points / n if n else math.nan,
        average_length=sum(g.length for g in scored) / n if n else math.nan,
        distinct_games=len({g.key for g in scored}), failed=failed_list, sprt=sprt)


def _signed(elo: float) -> str:
    if math.isnan(elo):
        return "n/a"
    if math.isinf(elo):
        return "+inf" if elo > 0 else "-inf"
    return f"{elo:+.0f}"


def _points(value: float) -> str:
    return f"{value:g}"


def format_match(result: MatchResult) -> list[str]:
    """The lines ``minigo eval`` prints."""
    lines = [f"A = {result.a}  B = {result.b}"]
    if result.scored == 0:
        lines.append("no games scored")
    else:
        low, high = result.wilson
        lines += [
            f"A wins {result.win_rate:.1%} [95% Wilson {low:.1%}, {high:.1%}] of {result.scored} (draws count half)",
            f"Elo difference {_signed(result.elo)} [{_signed(result.elo_interval[0])}, "
            f"{_signed(result.elo_interval[1])}]",
            f"A as Black: {_points(result.a_black_score)}/{result.a_black_games}, "
            f"A as White: {_points(result.a_white_score)}/{result.a_white_games}",
            f"Black scores {result.black_rate:.1%} of games (komi {result.komi:g})",
            f"average length {result.average_length:.1f} moves; distinct games {result.distinct_games} of "
            f"{result.scored}",
        ]
    lines.append(f"failed games: {len(result.failed)}" + (
        " (" + ", ".join(str(item["game"]) for item in result.failed[:10])
        + (", ..." if len(result.failed) > 10 else "") + ")" if result.failed else ""))
    if result.sprt is not None:
        s = result.sprt
        verdict = {"H1": f"H1 accepted: A is stronger by {s['elo1']:g} Elo or more",
                   "H0": f"H0 accepted: A is not {s['elo1']:g} Elo stronger (nearer {s['elo0']:g})",
                   None: "no decision yet: more games are needed"}[s["decision"]]
        lines.append(f"{s['test']}: LLR {s['llr']:.2f} in [{s['lower']:.2f}, {s['upper']:.2f}] after "
                     f"{s['games']} games: {verdict}")
    if result.played_this_session:
        lines.append(f"played {result.played_this_session} games in {result.seconds:.1f} s "
                     f"({result.games_per_second:.2f} games/s)")
    return lines


# ------------------------------------------------------------------------------------------------ a match


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


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
    workers: int = field(default_factory=_default_workers)
    """Worker processes playing games at once (default: the cores this process may use)."""
    seed: int = 0
    """Match seed: game i's seeds are drawn from (seed, i)."""
    sprt: SPRT | None = None
    """Stop early once this test decides; None plays all the games."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        if isinstance(self.games, bool) or not isinstance(self.games, int) or self.games < 1:
            raise ValueError(f"games {self.games!r} is not a positive integer: expected 1 or more")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers {self.workers!r} is not a positive integer: expected 1 or more")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed {self.seed!r} is not a non-negative integer")
        self.rules  # noqa: B018 - checks size, komi and ko, with their own messages
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"out {str(self.out)!r} is a file: expected a folder (new or holding this match)")

    @property
    def rules(self) -> Rules:
        return Rules(size=self.size, komi=float(self.komi), ko=self.ko)

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same match: a folder holds one."""
        return {"a": self.a, "b": self.b, "size": self.size, "komi": float(self.komi), "ko": self.ko,
                "seed": self.seed}


def default_out(a: str, b: str, size: int, komi: float, ko: str, seed: int, root: str = "runs/evals") -> Path:
    """``runs/evals/<A>_vs_<B>_<size>x<size>_<hash>``: one folder per match, so rerunning a command resumes it."""
    identity = json.dumps({"a": a, "b": b, "size": size, "komi": float(komi), "ko": ko, "seed": seed},
                          sort_keys=True)
    digest = hashlib.sha1(identity.encode()).hexdigest()[:6]
    return Path(root) / f"{_slug(a)}_vs_{_slug(b)}_{size}x{size}_{digest}"


@contextlib.contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.lock`` so that two matches never write to one folder at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(out / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise MatchError(f"another minigo eval is using {out} (it holds {out / LOCK_FILE})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    folder = config.out / GAMES_FOLDER
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = _GAME_FILE.fullmatch(path.name)
        if match is None or int(match.group(1)) >= config.games:
            continue
        index = int(match.group(1))
        task = game_task(config.seed, index)
        try:
            record = load(path, ko=config.ko)
        except (OSError, SGFError, ValueError) as exc:
            logger.warning("%s is unreadable (%s); the game is played again", path, exc)
            continue
        black, white = (config.a, config.b) if task.a_is_black else (config.b, config.a)
        if (record.black, record.white, record.size, record.komi) != (black, white, config.size, float(config.komi)):
            raise MatchError(f"{path} is not game {index} of this match (PB {record.black!r}, PW {record.white!r}, "
                             f"SZ {record.size}, KM {record.komi:g}); use another --out")
        found[index] = _summary_of(record, index, task.a_is_black)
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
    with _folder_lock(out):
        _check_identity(config)
        state = _Progress(config, _load_games(config))
        pending = [] if state.finished else [i for i in range(config.games) if i not in state.done]
        info = {**config.identity(), "games": config.games,
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
                               planned=config.games, failed=state.counted_failures(), sprt=state.sprt_report())
            result.played_this_session = played
            result.seconds = time.monotonic() - start if pending else 0.0
            result.out = str(out)
            write_atomic(out / RESULT_FILE, (json.dumps(result.to_json(), indent=1) + "\n").encode("utf-8"))
    return result


def _play(config: MatchConfig, state: _Progress, pending: list[int], progress: bool, desc: str) -> int:
    """Deal the pending game indices to worker processes, store what comes back; the number of games saved."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    max_failures = max(5, 2 * config.workers)  # failures in a row that mean a broken engine, not bad luck
    failures_in_a_row = 0
    saved = 0

    def tasks() -> Iterator[GameTask]:
        for index in pending:
            if state.finished:  # the SPRT has decided: no more games
                return
            yield game_task(config.seed, index)

    done_before = len(state.done) + len(state.failed)
    with logging_redirect_tqdm(), tqdm(total=config.games, initial=done_before, unit="game", desc=desc,
                                       disable=not progress, mininterval=0.5, dynamic_ncols=True) as bar:

        def handle(outcome: GameOutcome) -> None:
            nonlocal failures_in_a_row, saved
            index = outcome.task.index
            if outcome.record is not None:
                save(outcome.record, config.out / GAMES_FOLDER / f"{index:05d}.sgf")
                saved += 1
                failures_in_a_row = 0
                state.add(index, _summary_of(outcome.record, index, outcome.task.a_is_black))
            else:
                failures_in_a_row += 1
                logger.warning("game %d failed, not scored (the match goes on): %s", index, outcome.error)
                state.add(index, None, outcome.error)
            bar.update(1)
            bar.set_postfix_str(state.postfix(), refresh=False)

        farm: Farm[GameTask, GameOutcome] = Farm(functools.partial(_match_worker, (config.a, config.b), config.rules),
                                                 min(config.workers, len(pending)), name="eval")
        try:
            for task, outcome in farm.run(tasks()):
                if isinstance(outcome, Lost):  # the worker died without answering (a player's failure is answered)
                    outcome = GameOutcome(outcome.worker, task, None, outcome.reason)
                handle(outcome)
                if failures_in_a_row >= max_failures:
                    last = state.failed[max(state.failed)] if state.failed else "?"
                    raise MatchError(f"{failures_in_a_row} games failed in a row; the last: {last}")
        finally:
            # An interrupted match keeps the games that finish within the grace.
            for _, outcome in farm.stop(grace=5.0):
                if outcome.record is not None:
                    with contextlib.suppress(Exception):
                        handle(outcome)
    return saved


# ------------------------------------------------------------------------------------------------ ladders


@dataclass(frozen=True)
class LadderEntry:
    """One player of a ladder: its spec, a short label, and where it came from in training (if it did)."""

    spec: str
    label: str
    step: int | None = None
    stage: str = ""
    run: str = ""


_STAGE_ORDER = {"sl": 0, "rl": 1}  # training order, for sorting a run's checkpoints


def _run_checkpoints(run: Path, temperature: float) -> list[LadderEntry]:
    """A run's policy checkpoints: ``checkpoints/*.safetensors`` and the RL pool's snapshots
    (``checkpoints/rl_pool/``), one per (stage, step) (``sl_last`` is usually ``sl_policy``, ``rl_policy`` the
    pool's last snapshot), in training order; optimizer files and value or rollout nets are skipped."""
    from models.checkpoint import CheckpointError, read_metadata  # torch: only when a run folder is given

    folder = run / "checkpoints"
    # named checkpoints before pool snapshots, and a "last" copy after the "best" one, so duplicates keep the name
    files = sorted(folder.glob("*.safetensors"), key=lambda f: ("_last" in f.stem, f.name))
    files += sorted((folder / "rl_pool").glob("*.safetensors"))
    found: dict[tuple[str, int], LadderEntry] = {}
    for ckpt in files:
        if ckpt.name.endswith(".optim.safetensors"):
            continue
        try:
            metadata = read_metadata(ckpt)
        except CheckpointError as exc:
            logger.warning("skipping %s", exc)
            continue
        if metadata.get("kind") != "policy":
            continue
        stage, step = metadata.get("stage", ""), int(metadata.get("step", "0") or 0)
        spec = f"policy:{ckpt}" + (f",temperature={temperature:g}" if temperature > 0 else "")
        label = f"{run.name}/{ckpt.relative_to(folder).with_suffix('').as_posix()}"
        found.setdefault((stage, step), LadderEntry(spec, label, step, stage, str(run)))
    return sorted(found.values(), key=lambda e: (_STAGE_ORDER.get(e.stage, len(_STAGE_ORDER)), e.step or 0, e.label))


def ladder_entries(items: Sequence[str], temperature: float = 1.0) -> list[LadderEntry]:
    """Expand command-line items into ladder players: a run folder (one with ``checkpoints/``) gives its policy
    checkpoints (``_run_checkpoints``) as ``policy:CKPT,temperature=T``; anything else is a spec
    (``resolve_spec``). Duplicate specs are dropped.

    The checkpoints are sampled (``temperature`` > 0, as AlphaGo's policy networks were when they were matched)
    because two greedy networks would play the same two games over and over, and a win rate over copies of one
    game has no meaning.
    """
    entries: list[LadderEntry] = []
    for item in items:
        path = Path(item.strip())
        if path.is_dir() and (path / "checkpoints").is_dir():
            found = _run_checkpoints(path, temperature)
            if not found:
                raise MatchError(f"{path}: no policy checkpoints in {path / 'checkpoints'}")
            entries += found
        else:
            spec = resolve_spec(item)
            entries.append(LadderEntry(spec, spec))
    unique: dict[str, LadderEntry] = {}
    for entry in entries:
        unique.setdefault(entry.spec, entry)
    return list(unique.values())


@dataclass(frozen=True)
class LadderConfig:
    """A round robin (``minigo ladder``): every pair of players plays ``games_per_pair`` games."""

    entries: tuple[LadderEntry, ...]
    out: Path
    """Ladder folder: ``pairs/<pair>/`` (one match folder each), ``ladder.json``, ``ladder.png``."""
    games_per_pair: int = 20
    size: int = 9
    komi: float = 7.5
    ko: str = "positional"
    workers: int = field(default_factory=_default_workers)
    seed: int = 0
    """Every pair's match seed."""
    prior_games: float = 1.0
    """Virtual drawn games added to each pair that played, so that a clean sweep gives a finite rating."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "entries", tuple(self.entries))
        if len(self.entries) < 2:
            raise ValueError(f"players: a ladder needs 2 or more, got {len(self.entries)}")
        if isinstance(self.games_per_pair, bool) or not isinstance(self.games_per_pair, int) or self.games_per_pair < 1:
            raise ValueError(f"games_per_pair {self.games_per_pair!r} is not a positive integer")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers {self.workers!r} is not a positive integer: expected 1 or more")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed {self.seed!r} is not a non-negative integer")
        Rules(size=self.size, komi=float(self.komi), ko=self.ko)
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"out {str(self.out)!r} is a file: expected a folder")

    def anchor(self) -> int:
        """The player rated 0: ``random`` when it plays (a fixed, meaningful zero; the plain spec before
        ``random,seed=N``), else the first player."""
        kinds = [PlayerSpec.parse(entry.spec) for entry in self.entries]
        for wanted in (lambda s: s.text == "random", lambda s: s.kind == "random"):
            for index, spec in enumerate(kinds):
                if wanted(spec):
                    return index
        return 0


def pair_folder(a: str, b: str) -> str:
    """The folder name of a pair's match; the pair is ordered by spec, so it does not depend on player order."""
    digest = hashlib.sha1(f"{a}\n{b}".encode()).hexdigest()[:8]
    return f"{_slug(a, 30)}_vs_{_slug(b, 30)}_{digest}"


@dataclass
class LadderResult:
    """Ratings and the matches behind them."""

    entries: list[LadderEntry]
    ratings: Ratings
    scores: np.ndarray
    """``(P, P)``: points player i scored against j."""
    games: np.ndarray
    """``(P, P)``: games i and j played (scored ones)."""
    matches: list[MatchResult]
    plot: str | None = None
    played_this_session: int = 0

    def to_json(self) -> dict[str, Any]:
        players = []
        for i, entry in enumerate(self.entries):
            low, high = self.ratings.interval(i)
            played = float(self.games[i].sum())
            players.append({**dataclasses.asdict(entry), "elo": float(self.ratings.elo[i]),
                            "elo_interval": [low, high], "stderr": float(self.ratings.stderr[i]),
                            "games": int(played), "score": float(self.scores[i].sum()) / played if played else None})
        return _json_safe({"anchor": self.entries[self.ratings.anchor].spec, "players": players,
                           "pairs": [{"a": m.a, "b": m.b, "scored": m.scored, "a_score": m.a_score,
                                      "failed": len(m.failed), "folder": m.out} for m in self.matches],
                           "model": "Bradley-Terry maximum likelihood (Newton), 95% intervals from the inverse "
                                    "Fisher information, one virtual drawn game per pair",
                           "plot": self.plot})


def run_ladder(config: LadderConfig, progress: bool = True) -> LadderResult:
    """Play every missing game of the round robin, fit the ratings, write ``ladder.json`` (and the plot)."""
    config.out.mkdir(parents=True, exist_ok=True)
    rules = Rules(size=config.size, komi=float(config.komi), ko=config.ko)
    specs = [entry.spec for entry in config.entries]
    check_players(specs, rules)
    count = len(specs)
    index = {spec: i for i, spec in enumerate(specs)}
    scores = np.zeros((count, count))
    games = np.zeros((count, count))
    matches = []
    pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
    played = 0
    for number, (i, j) in enumerate(pairs, start=1):
        a, b = sorted((specs[i], specs[j]))
        match = MatchConfig(a=a, b=b, out=config.out / "pairs" / pair_folder(a, b), games=config.games_per_pair,
                            size=config.size, komi=config.komi, ko=config.ko, workers=config.workers,
                            seed=config.seed)
        result = run_match(match, progress, check=False, desc=f"pair {number}/{len(pairs)}")
        played += result.played_this_session
        matches.append(result)
        ia, ib = index[a], index[b]
        scores[ia, ib] += result.a_score
        scores[ib, ia] += result.scored - result.a_score
        games[ia, ib] += result.scored
        games[ib, ia] += result.scored
    try:
        ratings = bradley_terry(scores, games, anchor=config.anchor(), prior_games=config.prior_games)
    except ValueError as exc:
        raise MatchError(f"cannot fit ratings: {exc}") from None
    result = LadderResult(list(config.entries), ratings, scores, games, matches, played_this_session=played)
    result.plot = _plot(result, config.out / "ladder.png")
    write_atomic(config.out / "ladder.json", (json.dumps(result.to_json(), indent=1) + "\n").encode("utf-8"))
    return result


def format_ladder(result: LadderResult) -> list[str]:
    """The ratings as a table, strongest first."""
    anchor = result.entries[result.ratings.anchor].label
    rows = [("#", "player", "step", "Elo", "95% interval", "games", "score")]
    order = np.argsort(-result.ratings.elo, kind="stable")
    for rank, i in enumerate(order.tolist(), start=1):
        entry = result.entries[i]
        low, high = result.ratings.interval(i)
        played = int(result.games[i].sum())
        score = result.scores[i].sum() / played if played else math.nan
        interval = "anchor" if i == result.ratings.anchor else f"[{low:+.0f}, {high:+.0f}]"
        rows.append((str(rank), entry.label, "" if entry.step is None else str(entry.step),
                     f"{result.ratings.elo[i]:+.0f}", interval, str(played),
                     "n/a" if math.isnan(score) else f"{score:.1%}"))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) if k == 1 else cell.rjust(width) for k, (cell, width)
                       in enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.append(f"Elo relative to {anchor} (0); Bradley-Terry fit with one virtual draw per pair")
    return lines


def _plot(result: LadderResult, path: Path) -> str | None:
    """Elo against training step, one panel per training stage (SL steps are epochs, RL steps iterations), with
    95% error bars; players that are not checkpoints are horizontal lines. None without matplotlib (logged)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("no plot: matplotlib is not installed (pip install -e '.[plot]')")
        return None
    import io

    stages = sorted({e.stage for e in result.entries if e.step is not None},
                    key=lambda stage: (_STAGE_ORDER.get(stage, len(_STAGE_ORDER)), stage)) or [""]
    figure, panels = plt.subplots(1, len(stages), figsize=(4.5 * len(stages) + 2, 4.5), sharey=True, squeeze=False)
    for stage, axes in zip(stages, panels[0], strict=True):
        series: dict[str, list[int]] = {}
        for i, entry in enumerate(result.entries):
            if entry.step is not None and entry.stage == stage:
                series.setdefault(entry.run or entry.label, []).append(i)
        for run, members in series.items():
            members.sort(key=lambda i: result.entries[i].step or 0)
            axes.errorbar([result.entries[i].step for i in members], result.ratings.elo[members],
                          yerr=Z95 * result.ratings.stderr[members], marker="o", capsize=3, label=Path(run).name)
        for i, entry in enumerate(result.entries):
            if entry.step is None:
                axes.axhline(result.ratings.elo[i], linestyle="--", linewidth=1, color="grey")
                axes.annotate(entry.label, (0.01, result.ratings.elo[i]), xycoords=("axes fraction", "data"),
                              fontsize=8, color="grey", va="bottom")
        unit = {"sl": "epoch", "rl": "iteration"}.get(stage, "step")
        axes.set_xlabel(f"{stage} {unit}" if stage else "training step")
        axes.grid(alpha=0.3)
        if series:
            axes.legend(loc="lower right", fontsize=8)
    panels[0][0].set_ylabel(f"Elo (0 = {result.entries[result.ratings.anchor].label})")
    figure.suptitle("minigo ladder: Bradley-Terry Elo with 95% intervals")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    write_atomic(path, buffer.getvalue())
    return str(path)
