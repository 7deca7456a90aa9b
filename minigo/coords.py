"""The one table of coordinate conversions.

A *point* is a flat index ``row * size + col`` with row 0 at the **top** of the board and column 0 at
the left; ``pass_point(size) == size * size`` is the pass move. From a point:

- ``(row, col)``: ``divmod(point, size)``.
- GTP vertex: column letter from ``ABCDEFGHJKLMNOPQRST`` (no ``I``) and row number counted from the
  **bottom** (``A1`` is the bottom-left corner); ``pass`` is a pass. Parsing is case-insensitive.
- SGF point: two letters, column then row, ``aa`` the **top-left** corner; ``""`` is a pass, and so is
  ``tt`` on boards up to 19x19 (FF[3] convention, still written by many programs).

Every parser raises ``ValueError`` with a message naming the text and what was expected.
"""

from __future__ import annotations

from minigo.checks import integer

GTP_COLUMNS = "ABCDEFGHJKLMNOPQRST"
SGF_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_SIZE = 1
MAX_SIZE = 19


def check_size(size: int) -> int:
    """Return ``size`` if it is a supported board size (1..19), else raise ``ValueError`` naming it."""
    try:
        return integer("board size", size, MIN_SIZE, MAX_SIZE)
    except ValueError:
        raise ValueError(f"board size {size!r} is not supported: expected an integer from {MIN_SIZE} to "
                         f"{MAX_SIZE}") from None


def pass_point(size: int) -> int:
    """The pass move's index on a ``size`` x ``size`` board (one past the last point)."""
    return size * size


def to_flat(row: int, col: int, size: int) -> int:
    """(row, col), row 0 at the top, to a flat point."""
    if not (0 <= row < size and 0 <= col < size):
        raise ValueError(f"(row {row}, col {col}) is off a {size}x{size} board")
    return row * size + col


def from_flat(point: int, size: int) -> tuple[int, int]:
    """A flat point to (row, col), row 0 at the top. The pass move has no (row, col)."""
    if not 0 <= point < size * size:
        raise ValueError(f"point {point} is not on a {size}x{size} board (expected 0..{size * size - 1})")
    return divmod(point, size)


def to_gtp(point: int, size: int) -> str:
    """A flat point (or the pass move) to a GTP vertex such as ``D4`` or ``pass``."""
    if point == pass_point(size):
        return "pass"
    row, col = from_flat(point, size)
    return f"{GTP_COLUMNS[col]}{size - row}"


def from_gtp(vertex: str, size: int) -> int:
    """A GTP vertex (``d4``, ``D4``, ``pass``) to a flat point; ``ValueError`` if it is not on the board."""
    text = vertex.strip().upper()
    if text == "PASS":
        return pass_point(size)
    if len(text) < 2 or text[0] not in GTP_COLUMNS or not text[1:].isdigit():
        raise ValueError(f"vertex {vertex!r} is not a GTP vertex: expected a letter A-T (no I) and a number, or pass")
    col = GTP_COLUMNS.index(text[0])
    number = int(text[1:])
    if col >= size or not 1 <= number <= size:
        last = GTP_COLUMNS[size - 1]
        raise ValueError(f"vertex {vertex!r} is off the {size}x{size} board: expected A1..{last}{size} or pass")
    return (size - number) * size + col


def to_sgf(point: int, size: int) -> str:
    """A flat point to an SGF point (``dd``); the pass move is written as the empty string (FF[4])."""
    if point == pass_point(size):
        return ""
    row, col = from_flat(point, size)
    return SGF_LETTERS[col] + SGF_LETTERS[row]


def from_sgf(text: str, size: int) -> int:
    """An SGF point to a flat point; ``""`` and (up to 19x19) ``tt`` are passes."""
    if text == "" or (text == "tt" and size <= 19):
        return pass_point(size)
    if len(text) != 2 or text[0] not in SGF_LETTERS or text[1] not in SGF_LETTERS:
        raise ValueError(f"SGF point {text!r} is not two lowercase letters")
    col = SGF_LETTERS.index(text[0])
    row = SGF_LETTERS.index(text[1])
    if col >= size or row >= size:
        raise ValueError(f"SGF point {text!r} is off the {size}x{size} board")
    return row * size + col
