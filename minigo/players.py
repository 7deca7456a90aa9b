"""Players: anything that chooses moves, built from one spec string used everywhere a player is named.

A spec is ``KIND[:ARG][,key=value...]``:

- ``random[,seed=N]``: uniform over the legal moves that do not fill its own single-point eye; passes only
  when nothing else is left.
- ``gnugo[:LEVEL][,timeout=S][,seed=N]``: GNU Go (default level 10) over GTP, with Chinese (area) rules, the
  game's ko rule and ``--capture-all-dead``, so that its games end with dead stones removed and Tromp-Taylor
  scoring is fair; ``seed`` makes its games repeatable.

The kinds that need torch (``policy:CKPT``, ``mcts:RUN``) are in ``selfplay.player_kinds``'s table, which adds
them to ``BASE_KINDS`` here; ``minigo`` itself never imports torch. A player answers ``play(position)`` with a
point, the pass (``position.pass_point``) or ``RESIGN``, always for ``position.to_play``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from minigo import coords
from minigo.go import BLACK, Position, Rules, color_name
from minigo.gtp_client import EngineDied, GTPEngine, GTPError

RESIGN = -1
"""What ``Player.play`` returns to resign. Resignation is a game result, never a move on the board."""


@runtime_checkable
class Player(Protocol):
    """Chooses moves. ``reset`` starts a new game; ``play`` answers for the side to move.

    Optional: ``reseed(seed: int)`` makes the player's later games follow ``seed`` (a match reseeds each
    player before every game, so that its games repeat); players without it are deterministic or unseeded.
    """

    name: str

    def reset(self, rules: Rules) -> None:
        """Forget the last game; the next positions follow ``rules``."""

    def play(self, position: Position) -> int:
        """A legal move for ``position.to_play``: a point, ``position.pass_point``, or ``RESIGN``."""

    def close(self) -> None:
        """Release processes and other resources; the player is not used after this."""


class PlayerSpecError(ValueError):
    """A spec string that names no known player, or an option it does not take."""


@dataclasses.dataclass(frozen=True)
class PlayerSpec:
    """A parsed spec: ``kind``, the optional ``arg`` after the colon, and the ``key=value`` options."""

    kind: str
    arg: str | None
    options: Mapping[str, str]
    text: str

    @classmethod
    def parse(cls, text: str) -> PlayerSpec:
        text = text.strip()
        head, *pairs = text.split(",")
        kind, _, arg = head.partition(":")
        kind = kind.strip().lower()
        if not kind:
            raise PlayerSpecError(f"player spec {text!r} is empty: expected KIND[:ARG][,key=value...]")
        options: dict[str, str] = {}
        for pair in pairs:
            key, eq, value = pair.partition("=")
            key = key.strip()
            if not eq or not key:
                raise PlayerSpecError(f"player spec {text!r}: {pair.strip()!r} is not key=value")
            options[key] = value.strip()
        return cls(kind, arg.strip() if arg.strip() else None, options, text)

    def number(self, key: str, low: float, high: float = math.inf, *, integer: bool = False, positive: bool = False,
               text: str | None = None, what: str | None = None) -> Any:
        """The option ``key`` (or ``text``, e.g. the argument) read as an int (``integer``) or a finite float from
        ``low`` to ``high`` (above 0 too with ``positive``); None when absent. Anything else is a
        ``PlayerSpecError`` naming ``what`` (default ``key``), the value and what was expected."""
        text = self.options.get(key) if text is None else text
        if text is None:
            return None
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high and (value > 0 or not positive)):
            kind = "an integer" if integer else "a number"
            bound = (lambda x: str(int(x)) if integer else f"{x:g}")  # noqa: E731
            expected = (f"a positive {kind.split()[-1]}" if positive and high == math.inf
                        else f"{kind} >= {bound(low)}" if high == math.inf else f"{kind} from {bound(low)} to "
                        f"{bound(high)}")
            raise PlayerSpecError(f"{what or key} {text!r} in {self.text!r} is not {expected}")
        return value


Factory = Callable[[PlayerSpec], Player]


@dataclasses.dataclass(frozen=True)
class PlayerKind:
    """One kind of player: how to build it from a parsed spec, the options it takes, and its usage line.

    ``factory`` is a function, or ``"module:function"`` imported at the first build: the kinds that need torch
    name their factory that way, so that a table of every kind loads nothing heavy."""

    factory: Factory | str
    keys: tuple[str, ...]
    usage: str

    def build(self, spec: PlayerSpec) -> Player:
        for key in spec.options:
            if key not in self.keys:
                allowed = ", ".join(self.keys) if self.keys else "none"
                raise PlayerSpecError(f"unknown option {key!r} for {spec.kind} in {spec.text!r}: expected {allowed} "
                                      f"(usage: {self.usage})")
        factory = self.factory
        if isinstance(factory, str):
            import importlib

            module, _, name = factory.partition(":")
            factory = getattr(importlib.import_module(module), name)
        return factory(spec)


def build_player(spec: str, kinds: Mapping[str, PlayerKind]) -> Player:
    """A player from a spec string, its kind looked up in ``kinds``; ``PlayerSpecError`` names an unknown kind
    or option."""
    parsed = PlayerSpec.parse(spec)
    if parsed.kind not in kinds:
        raise PlayerSpecError(f"unknown player kind {parsed.kind!r} in {spec!r}: expected one of "
                              f"{', '.join(sorted(kinds))}")
    return kinds[parsed.kind].build(parsed)


def known_kinds() -> dict[str, str]:
    """Each kind this package builds (``random``, ``gnugo``) with its usage line."""
    return {kind: entry.usage for kind, entry in BASE_KINDS.items()}


def make_player(spec: str) -> Player:
    """A ``random`` or ``gnugo`` player from a spec string (``selfplay.player_kinds`` knows every kind)."""
    return build_player(spec, BASE_KINDS)


# -- random -------------------------------------------------------------------------------------------

class RandomPlayer:
    """Uniform over the sensible legal moves (never fills its own single-point eye); passes when none is left."""

    def __init__(self, rng: np.random.Generator | None = None, name: str = "random") -> None:
        self.rng = rng if rng is not None else np.random.default_rng()
        self.name = name

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, rules: Rules) -> None:
        pass

    def play(self, position: Position) -> int:
        choices = np.flatnonzero(position.sensible_moves()[:-1])
        if len(choices) == 0:
            return position.pass_point
        return int(choices[self.rng.integers(len(choices))])

    def close(self) -> None:
        pass


def make_random(spec: PlayerSpec) -> Player:
    if spec.arg is not None:
        raise PlayerSpecError(f"random takes no argument, got {spec.arg!r} in {spec.text!r}")
    seed = spec.number("seed", 0, 2**63 - 1, integer=True)
    return RandomPlayer(np.random.default_rng(seed), name=spec.text)


# -- GNU Go -------------------------------------------------------------------------------------------

class GnuGoPlayer:
    """GNU Go over GTP. It is told the game's moves before each ``genmove`` (only the new ones when the game
    continues the one it knows; otherwise the board is cleared and the game replayed)."""

    def __init__(self, level: int = 10, timeout: float = 60.0, name: str | None = None,
                 seed: int | None = None) -> None:
        if not 0 <= level <= 10:
            raise ValueError(f"GNU Go level {level} is not from 0 to 10")
        self.level = level
        self.timeout = timeout
        self.seed = seed
        self.name = name or f"gnugo:{level}"
        self._engine: GTPEngine | None = None
        self._rules: Rules | None = None
        self._sent: list[tuple[int, int]] = []  # (color, point) the engine has been told, setup included

    def _start(self, rules: Rules) -> GTPEngine:
        if self._engine is None or not self._engine.alive or self._rules is None or self._rules.ko != rules.ko:
            self.close()
            self._engine = GTPEngine.gnugo(self.level, size=rules.size, komi=rules.komi, superko=rules.superko,
                                           timeout=self.timeout)
        else:
            self._engine.send(f"boardsize {rules.size}")
            self._engine.send("clear_board")
            self._engine.send(f"komi {rules.komi:g}")
        if self.seed is not None:
            # GNU Go breaks ties between equal moves at random; a seed per game makes its games repeatable.
            self._engine.send(f"set_random_seed {self.seed}")
        self._rules = rules
        self._sent = []
        return self._engine

    def reseed(self, seed: int) -> None:
        """GNU Go's random seed for the next game (sent at ``reset``): 0 to 2**31-1."""
        self.seed = int(seed)

    def reset(self, rules: Rules) -> None:
        self._start(rules)

    def play(self, position: Position) -> int:
        engine = self._sync(position)
        answer = engine.send(f"genmove {color_name(position.to_play)}").strip().lower()
        if answer == "resign":
            return RESIGN
        try:
            point = coords.from_gtp(answer, position.size)
        except ValueError:
            raise EngineDied(f"{self.name} answered genmove with {answer!r}, which is not a move") from None
        self._sent.append((position.to_play, point))
        return point

    def _sync(self, position: Position) -> GTPEngine:
        """Bring the engine to ``position``: its setup stones and moves, as (colour, point) plays."""
        wanted = _game_moves(position)
        if self._engine is None or not self._engine.alive or self._rules != position.rules:
            self._start(position.rules)
        elif wanted[: len(self._sent)] != self._sent:
            self._engine.send("clear_board")
            self._sent = []
        assert self._engine is not None
        for color, point in wanted[len(self._sent):]:
            try:
                self._engine.send(f"play {color_name(color)} {coords.to_gtp(point, position.size)}")
            except GTPError as exc:
                raise EngineDied(f"{self.name} refused the game's move: {exc}") from None
            self._sent.append((color, point))
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


def _game_moves(position: Position) -> list[tuple[int, int]]:
    """The game behind ``position`` as (colour, point) plays: the root's stones first, then every move."""
    line = []
    while position.parent is not None:
        line.append(position)
        position = position.parent
    plays = [(int(position.board[p]), p) for p in np.flatnonzero(position.board).tolist()]
    for child in reversed(line):
        point = child.last_move
        assert point is not None
        # GTP and SGF let a colour move twice, so the mover is read from the stone just placed (a move never
        # captures its own stone); that stays right when ``with_to_play`` has since handed the move to either
        # side. A pass leaves no stone: its mover is whoever is not to move after it.
        mover = int(child.board[point]) if point != child.pass_point else -child.to_play
        plays.append((mover, point))
    return plays


def make_gnugo(spec: PlayerSpec) -> Player:
    level = spec.number("level", 0, 10, integer=True, text=spec.arg, what="GNU Go level")
    timeout = spec.number("timeout", 0, positive=True)
    seed = spec.number("seed", 0, 2**31 - 1, integer=True)
    return GnuGoPlayer(10 if level is None else level, timeout or 60.0, name=spec.text, seed=seed)


BASE_KINDS: dict[str, PlayerKind] = {
    "random": PlayerKind(make_random, ("seed",), "random[,seed=N]"),
    "gnugo": PlayerKind(make_gnugo, ("timeout", "seed"), "gnugo[:LEVEL 0-10][,timeout=SECONDS][,seed=N]"),
}
"""The kinds that need nothing beyond this package; ``selfplay.player_kinds.KINDS`` adds the networks'."""

__all__ = ["BASE_KINDS", "BLACK", "RESIGN", "GnuGoPlayer", "Player", "PlayerKind", "PlayerSpec", "PlayerSpecError",
           "RandomPlayer", "build_player", "known_kinds", "make_gnugo", "make_player", "make_random"]
