"""Read and write SGF FF[4] game records (Go only, square boards up to 19x19).

Reading parses the whole collection (one or more game trees, with variations) and keeps, for each game,
its *main line*: the first child at every branch. Every message of :class:`SGFError` says where the
problem is: the game tree (1-based), the node on its line of play (0 is the root) and, where there is
one, the property, e.g. ``game 1, node 12, B[rs]: point is off the 9x9 board``. Syntax errors also give
the line and column. Each game is replayed through the rules engine, so an illegal move (occupied point,
suicide, ko) is reported at its node too.

What is read:

- ``SZ`` (default 19, as FF[4] says for Go; ``SZ[9:9]`` is accepted, a non-square board is not),
  ``KM`` (missing or empty means 0), ``HA``, ``RE``, ``PB``, ``PW``, ``DT``, ``RU`` (missing means
  ``""``, i.e. unknown), ``GM`` (must be 1 if present).
- Setup ``AB`` ``AW`` ``AE`` (point lists, compressed ``[aa:cc]`` rectangles too) and ``PL``, in any
  node before the first move (the node of the first move included). Setup after a move is refused:
  a game record has no place to keep it. ``PL`` after the first move is ignored, because every move
  already carries its colour.
- Moves ``B`` and ``W``; ``[]`` and (up to 19x19) ``[tt]`` are passes.
- ``C``: on the root it becomes ``GameRecord.comment``, on a move node ``Move.comment``; a comment on a
  node with no move is added to the previous move's comment (or to the game's, before any move).
- Everything else is ignored. The ko rule is not an SGF property: pass ``ko=`` to the readers.

Text values follow FF[4]: ``\\`` escapes the next character, a backslash before a line break removes
both (a soft line break), CR / LF / CRLF / LFCR become ``"\\n"``; other whitespace becomes a space, and
in simple text (names, result, date, rules) line breaks become spaces too.

Writing produces FF[4] with the root properties first, then one node per move, ten to a line.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minigo import __version__
from minigo.atomic import write_atomic
from minigo.coords import SGF_LETTERS, check_size, from_sgf, pass_point, to_sgf
from minigo.go import BLACK, KO_RULES, WHITE, IllegalMove
from minigo.record import GameRecord, Move

__all__ = ["SGFError", "load", "parse_collection", "read_sgf", "save", "write_sgf"]

DEFAULT_SIZE = 19  # FF[4]: SZ defaults to 19 for Go
MOVES_PER_LINE = 10
POINTS_PER_LINE = 10
_SHOWN_VALUE_CHARS = 20  # long values are cut in error messages


class SGFError(ValueError):
    """An SGF text that cannot be read; the message names the game, the node and the property."""


# -- syntax

_WHITESPACE = re.compile(r"\s*")
_IDENT = re.compile(r"[A-Za-z]+")
# An escaped character is consumed as a pair, so "\]" never closes a value. The two alternatives start
# with different characters, so matching is linear even on an unterminated value.
_VALUE = re.compile(r"\[((?:[^\\\]]|\\.)*)\]", re.DOTALL)
_ESCAPE_OR_BREAK = re.compile(r"\\(\r\n|\n\r|\r|\n)|\\(.)|(\r\n|\n\r|\r|\n)", re.DOTALL)
_OTHER_SPACE = re.compile(r"[\t\v\f]")


@dataclass
class _Node:
    """One parsed node: its number on its line of play and its properties, values unescaped."""

    number: int
    props: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Frame:
    """An open game tree: where its '(' is, the number of its next node, whether it is on the main line
    (the first child at every branch), and how many variations it has opened so far."""

    opened: int
    next_node: int
    on_main_line: bool
    children: int = 0


def _line_col(text: str, pos: int) -> str:
    # LF and CRLF files count LFs; old Mac files have only CRs
    newline = "\n" if "\n" in text else "\r"
    line = text.count(newline, 0, pos) + 1
    col = pos - text.rfind(newline, 0, pos)
    return f"line {line}, column {col}"


def _show(ident: str, value: str) -> str:
    """A property as it might appear in the file, cut short for a message."""
    if len(value) > _SHOWN_VALUE_CHARS:
        value = value[:_SHOWN_VALUE_CHARS] + "..."
    return f"{ident}[{value}]"


def _where(game: int, node: int | None = None, prop: str | None = None) -> str:
    where = f"game {game}"
    if node is not None:
        where += f", node {node}"
    if prop is not None:
        where += f", {prop}"
    return where


def _unescape(raw: str) -> str:
    """Apply FF[4] escapes: drop soft line breaks, keep escaped characters, normalise line breaks."""

    def replace_one(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return ""
        if match.group(2) is not None:
            return match.group(2)
        return "\n"

    return _ESCAPE_OR_BREAK.sub(replace_one, raw)


class _Parser:
    """A collection parser that keeps the main line of each game tree.

    It uses an explicit stack rather than recursion, so no nesting depth can overflow Python's stack.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, game: int, node: int | None, message: str, pos: int | None = None) -> SGFError:
        at = self.pos if pos is None else pos
        return SGFError(f"{_where(game, node)}: {message} ({_line_col(self.text, at)})")

    def skip_whitespace(self) -> None:
        match = _WHITESPACE.match(self.text, self.pos)
        assert match is not None  # \s* always matches
        self.pos = match.end()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def collection(self) -> list[list[_Node]]:
        games: list[list[_Node]] = []
        while True:
            self.skip_whitespace()
            char = self.peek()
            if not char:
                break
            game = len(games) + 1
            if char != "(":
                if games:
                    message = f"text after the last game tree, expected '(' or the end, found {char!r}"
                else:
                    message = f"expected '(' to start a game tree, found {char!r}"
                raise self.error(game, None, message)
            games.append(self.game_tree(game))
        if not games:
            raise SGFError("game 1: no game tree found (an SGF collection starts with '(;')")
        return games

    def game_tree(self, game: int) -> list[_Node]:
        """Parse one game tree starting at '(' and return its main line."""
        main_line: list[_Node] = []
        stack: list[_Frame] = []

        def open_tree(next_node: int, on_main_line: bool) -> None:
            opened = self.pos
            self.pos += 1  # the '('
            self.skip_whitespace()
            if self.peek() != ";":
                found = self.peek()
                if found == ")":
                    raise self.error(game, next_node, "empty game tree '()': a tree needs at least one node")
                what = repr(found) if found else "the end of the text"
                raise self.error(game, next_node, f"expected ';' to start a node, found {what}")
            stack.append(_Frame(opened, next_node, on_main_line))

        open_tree(0, True)
        while stack:
            frame = stack[-1]
            self.skip_whitespace()
            char = self.peek()
            if char == ";":
                if frame.children:
                    raise self.error(game, frame.next_node, "a node after variations: expected '(' or ')'")
                node = self.node(game, frame.next_node)
                frame.next_node += 1
                if frame.on_main_line:
                    main_line.append(node)
            elif char == "(":
                frame.children += 1
                open_tree(frame.next_node, frame.on_main_line and frame.children == 1)
            elif char == ")":
                self.pos += 1
                stack.pop()
            elif not char:
                message = "missing ')' to close the game tree opened here"
                raise self.error(game, frame.next_node - 1, message, pos=frame.opened)
            else:  # only reachable after a variation closed: report the node it hangs from
                message = f"unexpected {char!r}: expected '(' or ')'"
                raise self.error(game, frame.next_node - 1, message)
        return main_line

    def node(self, game: int, number: int) -> _Node:
        """Parse one node starting at ';'."""
        self.pos += 1  # the ';'
        node = _Node(number)
        while True:
            self.skip_whitespace()
            char = self.peek()
            if char in ("", ";", "(", ")"):
                return node
            if char == "[":
                raise self.error(game, number, "a property value '[' with no property identifier before it")
            match = _IDENT.match(self.text, self.pos)
            if match is None:
                raise self.error(game, number, f"unexpected {char!r}: expected a property identifier")
            written = match.group()
            # FF[3] allowed lowercase letters inside identifiers (AddBlack = AB); readers skip them.
            ident = "".join(letter for letter in written if "A" <= letter <= "Z")
            if not ident:
                raise self.error(game, number, f"property identifier {written!r} has no uppercase letter")
            self.pos = match.end()
            values = self.values(game, number, ident)
            node.props.setdefault(ident, []).extend(values)

    def values(self, game: int, number: int, ident: str) -> list[str]:
        values: list[str] = []
        while True:
            self.skip_whitespace()
            if self.peek() != "[":
                if not values:
                    raise self.error(game, number, f"property {ident} has no value: expected '['")
                return values
            match = _VALUE.match(self.text, self.pos)
            if match is None:
                raise self.error(game, number, f"value of {ident} is never closed with ']'")
            values.append(_unescape(match.group(1)))
            self.pos = match.end()


# -- semantics

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"[0-9]{1,6}")
_SETUP = ("AB", "AW", "AE")


def _simple_text(value: str) -> str:
    """SimpleText: every whitespace character, line breaks included, becomes a space."""
    return _OTHER_SPACE.sub(" ", value).replace("\n", " ").strip()


def _text(value: str) -> str:
    """Text: line breaks stay, other whitespace becomes a space."""
    return _OTHER_SPACE.sub(" ", value)


class _Game:
    """Turns the main line of one game tree into a GameRecord, naming the node of every error."""

    def __init__(self, game: int, nodes: list[_Node], ko: str) -> None:
        self.game = game
        self.nodes = nodes
        self.ko = ko

    def error(self, node: _Node, ident: str | None, value: str | None, message: str) -> SGFError:
        prop = None if ident is None else (ident if value is None else _show(ident, value))
        return SGFError(f"{_where(self.game, node.number, prop)}: {message}")

    def single(self, node: _Node, ident: str) -> str:
        values = node.props[ident]
        if len(values) != 1:
            raise self.error(node, ident, None, f"{len(values)} values where one is expected")
        return values[0]

    def size(self) -> int:
        root = self.nodes[0]
        for node in self.nodes[1:]:
            if "SZ" in node.props:
                raise self.error(node, "SZ", node.props["SZ"][0], "the board size belongs in the root node")
        if "GM" in root.props:
            value = self.single(root, "GM")
            if value.strip() != "1":
                raise self.error(root, "GM", value, "not a game of Go (expected GM[1])")
        if "SZ" not in root.props:
            return DEFAULT_SIZE
        value = self.single(root, "SZ")
        parts = [part.strip() for part in value.split(":")]
        if len(parts) > 2 or not all(_INTEGER.fullmatch(part) for part in parts):
            raise self.error(root, "SZ", value, "expected a board size such as SZ[9] or SZ[9:9]")
        if len(parts) == 2 and parts[0] != parts[1] and int(parts[0]) != int(parts[1]):
            raise self.error(root, "SZ", value, "only square boards are supported")
        try:
            return check_size(int(parts[0]))
        except ValueError as exc:
            raise self.error(root, "SZ", value, str(exc)) from None

    def point(self, node: _Node, ident: str, value: str, size: int) -> int:
        """A move's point; pass_point(size) for a pass."""
        text = value.strip()
        try:
            return from_sgf(text, size)
        except ValueError:
            if len(text) == 2 and all(letter in SGF_LETTERS for letter in text):
                raise self.error(node, ident, value, f"point is off the {size}x{size} board") from None
            raise self.error(node, ident, value, "not a point: expected two lowercase letters") from None

    def points(self, node: _Node, ident: str, size: int) -> list[int]:
        """The points of a setup property, with compressed rectangles ``aa:cc`` expanded."""
        points: list[int] = []
        for value in node.props[ident]:
            corners = [self.point(node, ident, part, size) for part in value.split(":")]
            if len(corners) > 2 or pass_point(size) in corners:
                raise self.error(node, ident, value, "expected a point on the board or a rectangle aa:cc")
            (row1, col1), (row2, col2) = divmod(corners[0], size), divmod(corners[-1], size)
            for row in range(min(row1, row2), max(row1, row2) + 1):
                for col in range(min(col1, col2), max(col1, col2) + 1):
                    points.append(row * size + col)
        return points

    def color(self, node: _Node, ident: str) -> int:
        value = self.single(node, ident)
        color = value.strip().upper()
        if color not in ("B", "W"):
            raise self.error(node, ident, value, "expected B or W")
        return BLACK if color == "B" else WHITE

    def info(self, record: GameRecord) -> None:
        """Game-information properties, from the first node that holds each."""
        seen: set[str] = set()
        for node in self.nodes:
            for ident in ("KM", "HA", "RE", "PB", "PW", "DT", "RU"):
                if ident not in node.props or ident in seen:
                    continue
                seen.add(ident)
                value = self.single(node, ident)
                if ident == "KM":
                    record.komi = self.komi(node, value)
                elif ident == "HA":
                    if not _INTEGER.fullmatch(value.strip()):
                        raise self.error(node, ident, value, "expected a number of handicap stones")
                    record.handicap = int(value)
                else:
                    setattr(record, _INFO_FIELDS[ident], _simple_text(value))

    def komi(self, node: _Node, value: str) -> float:
        text = value.strip().replace(",", ".")  # some servers write a decimal comma
        if not text:
            return 0.0
        if not _NUMBER.fullmatch(text):
            raise self.error(node, "KM", value, "expected a number such as 7.5")
        komi = float(text)
        if not math.isfinite(komi):
            raise self.error(node, "KM", value, "expected a finite number")
        return komi

    def record(self) -> GameRecord:
        size = self.size()
        record = GameRecord(size=size, komi=0.0, ko=self.ko, rules="")
        self.info(record)
        # dicts as ordered sets: the setup keeps the file's order, so writing and reading give it back
        black: dict[int, None] = {}
        white: dict[int, None] = {}
        moves: list[tuple[int, int]] = []  # (colour, point)
        move_nodes: list[_Node] = []
        # comments gathered as lists and joined once at the end, so many comment nodes stay linear
        root_comments: list[str] = []
        move_comments: list[list[str]] = []
        setup_node: _Node | None = None
        for node in self.nodes:
            props = node.props
            setup = [ident for ident in _SETUP if ident in props]
            if setup and moves:
                ident = setup[0]
                message = f"setup after move {len(moves)} is not supported"
                raise self.error(node, ident, props[ident][0], message)
            if setup:
                self.setup(node, size, black, white)
                setup_node = node
            if "PL" in props:
                color = self.color(node, "PL")
                if not moves:
                    record.first_to_play = color
            if "B" in props and "W" in props:
                raise self.error(node, None, None, "a node with both a B and a W move")
            ident = "B" if "B" in props else "W" if "W" in props else None
            if ident is not None:
                point = self.point(node, ident, self.single(node, ident), size)
                moves.append((BLACK if ident == "B" else WHITE, point))
                move_nodes.append(node)
                move_comments.append([])
            if "C" in props:
                comment = _text("\n".join(props["C"]))
                # the root's comment is the game's; a later node without a move still talks about the
                # last move played
                in_game = node.number > 0 and bool(moves)
                (move_comments[-1] if in_game else root_comments).append(comment)
        record.comment = "\n".join(root_comments)
        record.setup_black = tuple(black)
        record.setup_white = tuple(white)
        record.moves = [
            Move(color, point, "\n".join(comments))
            for (color, point), comments in zip(moves, move_comments, strict=True)
        ]
        self.replay(record, move_nodes, setup_node)
        return record

    def setup(self, node: _Node, size: int, black: dict[int, None], white: dict[int, None]) -> None:
        added: dict[int, str] = {}
        for ident in _SETUP:
            if ident not in node.props:
                continue
            for point in self.points(node, ident, size):
                if added.get(point, ident) != ident:
                    where = to_sgf(point, size)
                    raise self.error(node, ident, where, f"point {where} is also in {added[point]}")
                added[point] = ident
                black.pop(point, None)
                white.pop(point, None)
                if ident == "AB":
                    black[point] = None
                elif ident == "AW":
                    white[point] = None

    def replay(self, record: GameRecord, move_nodes: list[_Node], setup_node: _Node | None) -> None:
        """Play the game through the rules engine; an illegal move becomes an error at its node."""
        played = 0  # positions yielded so far: the initial one, then one per move
        try:
            for _ in record.positions():
                played += 1
        except (IllegalMove, ValueError) as exc:
            reason = re.sub(r"^move \d+: ", "", str(exc))
            if played == 0:
                node = setup_node if setup_node is not None else self.nodes[0]
                raise self.error(node, None, None, f"the setup is not a legal position ({reason})") from None
            node = move_nodes[played - 1]
            ident = "B" if record.moves[played - 1].color == BLACK else "W"
            raise self.error(node, ident, node.props[ident][0], f"illegal move {played} ({reason})") from None


_INFO_FIELDS = {"RE": "result", "PB": "black", "PW": "white", "DT": "date", "RU": "rules"}


# -- reading


def parse_collection(text: str, ko: str = "positional") -> list[GameRecord]:
    """Every game tree of an SGF collection, each as the game record of its main line.

    ``ko`` is the ko rule to replay the games under (SGF has no property for it). Raises
    :class:`SGFError` for anything that is not a readable FF[4] Go collection.
    """
    if ko not in KO_RULES:
        raise ValueError(f"ko rule {ko!r} is not one of {', '.join(KO_RULES)}")
    if text.startswith("\ufeff"):  # a byte-order mark left by a decoder
        text = text[1:]
    trees = _Parser(text).collection()
    return [_Game(number, nodes, ko).record() for number, nodes in enumerate(trees, start=1)]


def read_sgf(text: str, ko: str = "positional") -> GameRecord:
    """The first game of an SGF text (its main line). Later games must still be well-formed."""
    return parse_collection(text, ko=ko)[0]


_CHARSET = re.compile(rb"(?<![A-Za-z])CA\s*\[([A-Za-z0-9_.:+-]{1,40})\]")


def _decode(data: bytes) -> str:
    """Decode SGF bytes: the CA[] charset if it names one Python knows, else UTF-8, else Latin-1."""
    match = _CHARSET.search(data)
    if match is not None:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except (LookupError, ValueError):  # unknown codec, or bytes it cannot decode
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def load(path: str | os.PathLike[str], ko: str = "positional") -> GameRecord:
    """Read the first game of an SGF file; an :class:`SGFError` message starts with the path."""
    data = Path(path).read_bytes()
    try:
        return read_sgf(_decode(data), ko=ko)
    except SGFError as exc:
        raise SGFError(f"{os.fspath(path)}: {exc}") from None


# -- writing


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("]", "\\]")


def _komi_text(komi: float) -> str:
    if not math.isfinite(komi):
        raise ValueError(f"komi {komi!r} cannot be written to SGF: expected a finite number")
    # positional, never 1e-05: FF[4] reals have no exponent; shortest digits that read back exactly
    return np.format_float_positional(float(komi), trim="-")


def _point_lines(ident: str, points: Iterable[int], size: int) -> list[str]:
    values = [f"[{to_sgf(point, size)}]" for point in points]
    return [
        (ident if start == 0 else " " * len(ident)) + "".join(values[start : start + POINTS_PER_LINE])
        for start in range(0, len(values), POINTS_PER_LINE)
    ]


def write_sgf(record: GameRecord) -> str:
    """The game as FF[4] text: root properties, then one node per move; passes are written ``B[]``."""
    size = check_size(record.size)
    header = f"(;FF[4]GM[1]CA[UTF-8]AP[minigo:{__version__}]SZ[{size}]KM[{_komi_text(record.komi)}]"
    info = [
        f"{ident}[{_escape(value)}]"
        for ident, value in (
            ("RU", record.rules),
            ("RE", record.result),
            ("PB", record.black),
            ("PW", record.white),
            ("DT", record.date),
        )
        if value
    ]
    if record.handicap > 0:
        info.append(f"HA[{int(record.handicap)}]")
    lines = [header]
    if info:
        lines.append("".join(info))
    lines += _point_lines("AB", record.setup_black, size)
    lines += _point_lines("AW", record.setup_white, size)
    if record.first_to_play is not None:
        lines.append(f"PL[{'B' if record.first_to_play == BLACK else 'W'}]")
    if record.comment:
        lines.append(f"C[{_escape(record.comment)}]")
    nodes = []
    for move in record.moves:
        if move.color not in (BLACK, WHITE):
            raise ValueError(f"move colour {move.color!r} is neither BLACK (1) nor WHITE (-1)")
        node = f";{'B' if move.color == BLACK else 'W'}[{to_sgf(move.point, size)}]"
        if move.comment:
            node += f"C[{_escape(move.comment)}]"
        nodes.append(node)
    for start in range(0, len(nodes), MOVES_PER_LINE):
        lines.append("".join(nodes[start : start + MOVES_PER_LINE]))
    return "\n".join(lines) + ")\n"


def save(record: GameRecord, path: str | os.PathLike[str]) -> None:
    """Write the game to ``path`` atomically (``minigo.atomic.write_atomic``): a reader sees the old file or
    the new one, never a half-written one."""
    write_atomic(path, write_sgf(record).encode("utf-8"))
