"""The rules of Go: positions, moves, legality, ko and positional superko, passes, Tromp-Taylor scoring.

Terms, defined once for the whole project:

- a *point* is a flat index ``row * size + col``, row 0 at the top (``minigo.coords`` converts);
- the pass move is ``pass_point(size) == size * size``;
- colours are ``BLACK = 1``, ``WHITE = -1`` (``EMPTY = 0`` on the board), so the other side is ``-color``;
- rules are area scoring (Tromp-Taylor: stones plus empty regions that reach only one colour) with komi;
  suicide is illegal; the ko rule is positional superko (a move may not recreate any earlier board,
  whoever is to move) or simple ko (no immediate retake of a single stone);
- a game ends after two consecutive passes or at the move cap of ``2 * size * size`` moves. Resignation
  is a game result (``B+R``), not a move, and lives in game records.

``Position`` is immutable: ``play`` returns a new position or raises ``IllegalMove`` with the reason. The
hot loops are compiled (``minigo.kernels``); positions of one game share their history buffers, so a move
costs one compiled call and no copying of the game so far.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from minigo import coords, kernels
from minigo.checks import finite
from minigo.coords import check_size, pass_point

BLACK = 1
WHITE = -1
EMPTY = 0
KO_RULES = ("positional", "simple")

__all__ = [
    "BLACK", "WHITE", "EMPTY", "IllegalMove", "Rules", "Position", "PlayoutResult", "board_from_string", "tables",
    "color_name", "pass_point", "random_playout", "max_handicap", "handicap_points", "star_points",
]

_REASONS = {
    kernels.OCCUPIED: "occupied",
    kernels.SUICIDE: "suicide",
    kernels.KO: "ko",
    kernels.SUPERKO: "positional superko",
}


class IllegalMove(ValueError):
    """A move the rules forbid; the message names the move and the reason (``white D4: ko``)."""


def color_name(color: int) -> str:
    """``black`` or ``white``."""
    if color == BLACK:
        return "black"
    if color == WHITE:
        return "white"
    raise ValueError(f"colour {color!r} is not BLACK (1) or WHITE (-1)")


@dataclass(frozen=True)
class Rules:
    """The rules a game is played under."""

    size: int = 9
    """Board size: the board is ``size`` x ``size``, 1 to 19."""
    komi: float = 7.5
    """Points given to White at scoring."""
    ko: str = "positional"
    """``positional`` (superko: no earlier board may recur) or ``simple`` (no immediate retake)."""

    def __post_init__(self) -> None:
        check_size(self.size)
        finite("komi", self.komi)
        if self.ko not in KO_RULES:
            raise ValueError(f"ko rule {self.ko!r} is not one of {', '.join(KO_RULES)}")

    @property
    def move_cap(self) -> int:
        """Moves (passes included) after which a game ends even without two passes: ``2 * size * size``."""
        return 2 * self.size * self.size

    @property
    def superko(self) -> bool:
        return self.ko == "positional"


@functools.cache
def tables(size: int) -> np.ndarray:
    """Neighbours, diagonals and Zobrist keys of every point (``kernels.make_tables``), built once per size."""
    # Left writeable: numba unboxes read-only arrays through a much slower path.
    return kernels.make_tables(size)


class _History:
    """Boards and hashes of one line of play, shared by its positions and appended to in place.

    A position owns the first ``hlen`` rows. A child is appended in place when its parent is the newest
    position of the buffer; a second child of the same parent (a search trying another move) gets a copy.
    """

    __slots__ = ("hashes", "boards", "frozen", "length")

    def __init__(self, capacity: int, n: int) -> None:
        self.hashes = np.zeros(capacity, dtype=np.int64)
        self.boards = np.zeros((capacity, n), dtype=np.int8)
        # Positions hand out rows of this read-only view: rows are written once, by the compiled kernel
        # through ``boards``, before any position sees them.
        self.frozen = self.boards.view()
        self.frozen.flags.writeable = False
        self.length = 0

    def fork(self, hlen: int, room: int) -> _History:
        """A new buffer holding our first ``hlen`` rows, with room for ``room`` more."""
        capacity = hlen + max(room, 1)
        other = _History(capacity, self.boards.shape[1])
        other.hashes[:hlen] = self.hashes[:hlen]
        other.boards[:hlen] = self.boards[:hlen]
        other.length = hlen
        return other


class Position:
    """A board position with everything the rules need: side to move, ko, passes, history, captures.

    Attributes (read-only):
        rules: the Rules of the game.
        board: int8 array ``(size*size,)``: 1 black, -1 white, 0 empty; row 0 at the top.
        to_play: BLACK or WHITE, the side to move.
        ko: the point the side to move may not play at once (simple-ko retake), or -1.
        passes: consecutive passes just played (0, 1, 2...).
        move_number: moves played since the start, passes included.
        captures: (stones captured by Black, stones captured by White).
        last_move: the point of the last move (the pass point for a pass), or None.
        parent: the position before the last move, or None at the start.
    """

    __slots__ = ("rules", "board", "to_play", "ko", "passes", "move_number", "captures", "last_move", "parent",
                 "_hist", "_hlen")

    rules: Rules
    board: np.ndarray
    to_play: int
    ko: int
    passes: int
    move_number: int
    captures: tuple[int, int]
    last_move: int | None
    parent: Position | None

    @classmethod
    def empty(cls, size: int = 9, komi: float = 7.5, ko: str = "positional", *, rules: Rules | None = None) -> Position:
        """The empty board, Black to move. Pass ``rules`` or the three fields it holds."""
        rules = Rules(size=size, komi=komi, ko=ko) if rules is None else rules
        n = rules.size * rules.size
        hist = _History(16, n)
        hist.length = 1  # row 0: the empty board, hash 0
        return cls._make(rules, hist.frozen[0], BLACK, -1, 0, 0, (0, 0), None, None, hist, 1)

    @classmethod
    def _make(cls, rules, board, to_play, ko, passes, move_number, captures, last_move, parent, hist, hlen):
        self = object.__new__(cls)
        self.rules = rules
        self.board = board
        self.to_play = to_play
        self.ko = ko
        self.passes = passes
        self.move_number = move_number
        self.captures = captures
        self.last_move = last_move
        self.parent = parent
        self._hist = hist
        self._hlen = hlen
        return self

    # -- the basics ----------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self.rules.size

    @property
    def komi(self) -> float:
        return self.rules.komi

    @property
    def pass_point(self) -> int:
        """The pass move's index, ``size * size``."""
        return self.rules.size * self.rules.size

    @property
    def hash(self) -> int:
        """Zobrist hash of the stones on the board (not of the side to move), as used for superko."""
        return int(self._hist.hashes[self._hlen - 1]) & 0xFFFF_FFFF_FFFF_FFFF

    @property
    def is_game_over(self) -> bool:
        """Two consecutive passes, or the move cap reached."""
        return self.passes >= 2 or self.move_number >= self.rules.move_cap

    def history_boards(self) -> np.ndarray:
        """Every distinct board of the game so far, oldest first: ``(k, size*size)`` int8, read-only view."""
        return self._hist.frozen[: self._hlen]

    def _name(self, point: int, color: int) -> str:
        where = coords.to_gtp(point, self.size) if 0 <= point <= self.pass_point else str(point)
        return f"{color_name(color)} {where}"

    # -- moves ---------------------------------------------------------------------------------------

    def play(self, point: int, color: int | None = None) -> Position:
        """The position after ``color`` (default: the side to move) plays ``point`` or passes.

        Colours need not alternate (GTP and SGF allow the same side twice); the ko point binds only the side
        to move. Raises ``IllegalMove`` naming the move and the reason: off the board, occupied, suicide, ko,
        positional superko.
        """
        if color is None:
            color = self.to_play
        elif color != BLACK and color != WHITE:
            raise ValueError(f"colour {color!r} is not BLACK (1) or WHITE (-1)")
        n = self.pass_point
        if point == n:
            return Position._make(self.rules, self.board, -color, -1, self.passes + 1, self.move_number + 1,
                                  self.captures, n, self, self._hist, self._hlen)
        if not 0 <= point < n:
            raise IllegalMove(f"{color_name(color)} {point}: off the {self.size}x{self.size} board")
        hist, hlen = self._hist, self._hlen
        if hist.length != hlen:
            hist = hist.fork(hlen, 8)  # a branch (a search trying another move) rarely goes far
        elif hlen == hist.hashes.shape[0]:
            hist = hist.fork(hlen, max(hlen, 16))  # the line of play grows: doubling keeps appends O(1)
        status, ko, n_captured = kernels.play(hist.boards, hist.hashes, hlen, tables(self.size), point, color,
                                              self.ko if color == self.to_play else -1, self.rules.superko)
        if status != kernels.OK:
            raise IllegalMove(f"{self._name(point, color)}: {_REASONS[status]}")
        hist.length = hlen + 1
        if n_captured:
            by_black, by_white = self.captures
            captures = (by_black + n_captured, by_white) if color == BLACK else (by_black, by_white + n_captured)
        else:
            captures = self.captures
        return Position._make(self.rules, hist.frozen[hlen], -color, ko, 0, self.move_number + 1, captures,
                              point, self, hist, hlen + 1)

    def with_to_play(self, color: int) -> Position:
        """This position with ``color`` to move and the game so far kept (history, superko, parent, passes).

        GTP may ask either colour for a move at any time. The ko point binds only the side to move, so it is
        dropped when the other side is given the move, as ``play(point, color)`` would.
        """
        color_name(color)
        if color == self.to_play:
            return self
        return Position._make(self.rules, self.board, color, -1, self.passes, self.move_number, self.captures,
                              self.last_move, self.parent, self._hist, self._hlen)

    def legal_moves(self, color: int | None = None) -> np.ndarray:
        """Bool mask ``(size*size + 1,)`` of the legal moves of ``color`` (default: the side to move);
        the last entry, the pass, is always True."""
        return self._mask(color, skip_eyes=False)

    def sensible_moves(self, color: int | None = None) -> np.ndarray:
        """``legal_moves`` without the moves that fill one of the mover's own single-point eyes."""
        return self._mask(color, skip_eyes=True)

    def pass_allowed(self) -> bool:
        """Whether a bot should pass here: nothing sensible is left, or the opponent just passed and the board
        as it stands wins for the side to move (the pass ends the game, won).

        Any other pass lets the opponent end the game on the board as it stands, which loses, or gains nothing:
        self-play and the policy player follow this rule, and MCTS a stricter one of its own.
        """
        if not self.sensible_moves()[:-1].any():
            return True
        return self.passes >= 1 and self.score() * self.to_play > 0

    def _mask(self, color: int | None, skip_eyes: bool) -> np.ndarray:
        if color is None:
            color = self.to_play
        return kernels.legal_mask(self._hist.boards, self._hist.hashes, self._hlen, tables(self.size), color,
                                  self.ko if color == self.to_play else -1, self.rules.superko, skip_eyes)

    def is_legal(self, point: int, color: int | None = None) -> bool:
        """Whether ``color`` (default: the side to move) may play ``point`` (the pass is always legal)."""
        if not 0 <= point <= self.pass_point:
            return False
        return bool(self.legal_moves(color)[point])

    def with_setup(self, black: Iterable[int] = (), white: Iterable[int] = (), empty: Iterable[int] = (),
                   to_play: int | None = None) -> Position:
        """A new game starting from this board with stones added or removed (SGF AB/AW/AE, handicap).

        Stones are placed as given, without captures. The history restarts at the new board, the ko is
        cleared, and the move number and captures are kept.
        """
        board = self.board.copy()
        n = self.pass_point
        for value, points in ((BLACK, black), (WHITE, white), (EMPTY, empty)):
            for point in points:
                if not 0 <= point < n:
                    raise ValueError(f"setup point {point} is off the {self.size}x{self.size} board")
                board[point] = value
        if to_play is None:
            to_play = self.to_play
        color_name(to_play)
        hist = _History(16, n)
        hist.boards[0] = board
        hist.hashes[0] = kernels.board_hash(board, tables(self.size))
        hist.length = 1
        return Position._make(self.rules, hist.frozen[0], to_play, -1, 0, self.move_number, self.captures, None,
                              None, hist, 1)

    def liberties(self) -> np.ndarray:
        """Liberties of the group on each point, ``(size*size,)`` int32 (0 on empty points)."""
        return kernels.liberty_counts(self.board, tables(self.size))

    # -- scoring -------------------------------------------------------------------------------------

    def area(self) -> tuple[int, int]:
        """Tromp-Taylor area (Black, White): stones plus empty points that reach only that colour."""
        black, white = kernels.area(self.board, tables(self.size))
        return int(black), int(white)

    def ownership(self) -> np.ndarray:
        """Tromp-Taylor owner of every point as the board stands, ``(size*size,)`` int8 from Black's view: BLACK
        for a black stone or an empty point reaching only black, WHITE likewise, 0 for a neutral point (dame,
        seki liberties). No dead stones are removed; summing it gives ``area()``'s difference."""
        return kernels.owners(self.board, tables(self.size))

    def territory(self) -> np.ndarray:
        """``(size*size,)`` int8: BLACK or WHITE on each empty point whose region reaches only that colour
        (Tromp-Taylor), 0 elsewhere (stones, neutral points). Stones plus these points make ``area()``."""
        return np.where(self.board == EMPTY, self.ownership(), 0).astype(np.int8)

    def score(self) -> float:
        """Black's area minus White's, minus komi: > 0 means Black wins. No dead stones are removed."""
        black, white = self.area()
        return black - white - self.komi

    def result(self) -> str:
        """The result by area scoring: ``B+3.5``, ``W+0.5``, or ``0`` for a draw."""
        return format_result(self.score())

    # -- display -------------------------------------------------------------------------------------

    def __str__(self) -> str:
        size = self.size
        letters = coords.GTP_COLUMNS[:size]
        lines = ["   " + " ".join(letters)]
        for row in range(size):
            cells = []
            for col in range(size):
                point = row * size + col
                value = self.board[point]
                cells.append("X" if value == BLACK else "O" if value == WHITE else ".")
            lines.append(f"{size - row:2d} " + " ".join(cells))
        lines.append(f"{color_name(self.to_play)} to play, move {self.move_number}, "
                     f"captures B {self.captures[0]} W {self.captures[1]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Position(size={self.size}, komi={self.komi}, to_play={color_name(self.to_play)}, "
                f"move_number={self.move_number})")


def format_result(score: float) -> str:
    """A score from Black's view as a result string: ``B+3.5``, ``W+0.5`` or ``0``."""
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"


# -- handicap and star points: facts of the board, as GTP and GNU Go place them ---------------------

def max_handicap(size: int) -> int:
    """The most fixed handicap stones GTP places on a ``size`` board: 9 on odd boards from 9x9, 4 on 7x7 and on
    even boards from 8x8, none below 7x7."""
    if size < 7:
        return 0
    return 4 if size == 7 or size % 2 == 0 else 9


def handicap_points(size: int, stones: int) -> list[int]:
    """GTP's fixed handicap placement (as GNU Go's ``fixed_handicap``): the corners on the 3-3 points (4-4 from
    13x13), then the centre and the sides. Raises ``ValueError`` for a count the board does not take."""
    most = max_handicap(size)
    if not 2 <= stones <= most:
        allowed = "none on this board" if most == 0 else f"0 or 2 to {most}"
        raise ValueError(f"handicap {stones} is not possible on {size}x{size}: expected {allowed}")
    edge = 2 if size < 13 else 3
    low, high, mid = edge, size - 1 - edge, size // 2

    def at(col: int, row: int) -> int:
        return row * size + col

    points = [at(low, high), at(high, low)]  # lower left, upper right (GTP's C3 G7 on 9x9)
    if stones >= 3:
        points.append(at(low, low))
    if stones >= 4:
        points.append(at(high, high))
    if stones >= 6:
        points += [at(low, mid), at(high, mid)]
    if stones >= 8:
        points += [at(mid, low), at(mid, high)]
    if stones % 2 == 1 and stones >= 5:
        points.append(at(mid, mid))
    return points


def star_points(size: int) -> list[int]:
    """The hoshi marked on a board: the handicap corners and centre (all nine from 15x15), or the centre of a
    small odd board."""
    if size >= 15:
        return handicap_points(size, 9)
    if size >= 7:
        corners = handicap_points(size, 4)
        centre = (size // 2) * size + size // 2
        # the centre too on odd boards (7x7 takes only 4 handicap stones, but its centre is still marked)
        return corners + [centre] if size % 2 == 1 else corners
    return [(size // 2) * size + size // 2] if size % 2 == 1 and size >= 5 else []


def board_from_string(text: str, to_play: int = BLACK, komi: float = 7.5, ko: str = "positional") -> Position:
    """A position drawn as text: one row per line, top row first, ``X`` black, ``O`` white, ``.`` or ``+``
    empty; spaces are ignored. The size is the number of rows, and every row must be that long."""
    rows = ["".join(line.split()) for line in text.strip().splitlines() if line.strip()]
    size = len(rows)
    check_size(size)
    black, white = [], []
    for row, line in enumerate(rows):
        if len(line) != size:
            raise ValueError(f"row {row + 1} of the drawing has {len(line)} points, expected {size}")
        for col, char in enumerate(line):
            if char in "Xx":
                black.append(row * size + col)
            elif char in "Oo":
                white.append(row * size + col)
            elif char not in ".+":
                raise ValueError(f"row {row + 1} of the drawing has {char!r}: expected X, O, . or +")
    return Position.empty(size, komi, ko).with_setup(black, white, to_play=to_play)


class PlayoutResult(NamedTuple):
    """The end of a random playout."""

    score: float
    """Black's area minus White's minus komi (Tromp-Taylor): > 0 means Black won."""
    moves: int
    """Moves played by the playout, passes included."""
    board: np.ndarray
    """The final board, ``(size*size,)`` int8."""
    sequence: np.ndarray
    """The points played, in order, ``(moves,)`` int32; ``size*size`` for a pass."""


def random_playout(position: Position, rng: np.random.Generator) -> PlayoutResult:
    """Play the game out with uniformly random legal moves that never fill the mover's own single-point eye
    (passing only when no such move is left), entirely in compiled code; score it by Tromp-Taylor."""
    seed = int(rng.integers(1, 2**63 - 1))
    board, sequence, black, white = kernels.random_playout(
        position._hist.boards, position._hist.hashes, position._hlen, tables(position.size), position.to_play,
        position.ko, position.passes, position.move_number, position.rules.move_cap, position.rules.superko, seed)
    return PlayoutResult(float(black - white) - position.komi, len(sequence), board, sequence)


def replay(moves: Sequence[int], rules: Rules | None = None) -> Position:
    """The position after playing ``moves`` (points, alternating colours) from the empty board."""
    position = Position.empty(rules=rules or Rules())
    for point in moves:
        position = position.play(point)
    return position
