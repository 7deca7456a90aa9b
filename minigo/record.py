"""Game records: what a finished (or loaded) game is, independent of any file format.

A record holds the rules, optional setup stones, and the moves in order. Colours are ``BLACK = 1`` and
``WHITE = -1``; points are flat indices (``minigo.coords``), the pass move is ``size * size``. Colours
need not alternate (SGF allows the same colour twice, and White may move first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from minigo.go import BLACK, IllegalMove, Position, Rules


@dataclass(frozen=True)
class Move:
    """One move of a game: ``color`` is BLACK or WHITE, ``point`` a flat index or the pass move."""

    color: int
    point: int
    comment: str = ""


@dataclass
class GameRecord:
    """A whole game: rules, setup, moves, result and the names around it.

    ``result`` is in SGF form (``B+3.5``, ``W+R``, ``0`` for a draw, ``""`` when unknown).
    """

    size: int = 9
    komi: float = 7.5
    ko: str = "positional"
    moves: list[Move] = field(default_factory=list)
    result: str = ""
    black: str = ""
    white: str = ""
    date: str = ""
    rules: str = "Chinese"
    handicap: int = 0
    setup_black: tuple[int, ...] = ()
    setup_white: tuple[int, ...] = ()
    first_to_play: int | None = None
    comment: str = ""

    @property
    def game_rules(self) -> Rules:
        return Rules(size=self.size, komi=self.komi, ko=self.ko)

    def initial_position(self) -> Position:
        """The position before the first move: setup stones placed, the right side to move."""
        position = Position.empty(rules=self.game_rules)
        to_play = self.first_to_play
        if to_play is None:
            if self.moves:
                to_play = self.moves[0].color
            elif self.setup_black and not self.setup_white:
                to_play = -BLACK  # handicap stones: White moves first
            else:
                to_play = BLACK
        if self.setup_black or self.setup_white or to_play != BLACK:
            position = position.with_setup(black=self.setup_black, white=self.setup_white, to_play=to_play)
        return position

    def positions(self) -> Iterator[Position]:
        """Every position of the game in order, the initial one first; ``IllegalMove`` names the move number."""
        position = self.initial_position()
        yield position
        for number, move in enumerate(self.moves, start=1):
            try:
                position = position.play(move.point, color=move.color)
            except IllegalMove as exc:
                raise IllegalMove(f"move {number}: {exc}") from None
            yield position

    def final_position(self) -> Position:
        """The position after the last move."""
        position = None
        for position in self.positions():  # noqa: B007 - we want the last one
            pass
        assert position is not None
        return position
