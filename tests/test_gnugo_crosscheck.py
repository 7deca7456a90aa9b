"""Cross-check the rules engine (``minigo.go``) against GNU Go 3.8, the reference implementation.

Random games are played move by move in both engines. After every move the stones must agree
(``list_stones``) and so must the set of legal points for *both* colours (``all_legal``, which in GNU Go
3.8 applies the same test as ``play``: occupied, suicide, simple ko and, with ``--positional-superko``,
any earlier whole-board position). GNU Go runs with ``--chinese-rules --positional-superko`` against our
default rules and with ``--simple-ko`` against ``ko="simple"``; suicide is forbidden in both.

The games are mostly uniformly random legal moves with an occasional pass, so small boards fill up, stones
are captured again and again, and kos arise; the statistics test checks that this really happened, so that
the cross-check cannot pass for a trivial reason. Longer runs are marked ``slow``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from minigo.coords import from_gtp, pass_point, to_gtp
from minigo.go import BLACK, WHITE, IllegalMove, Position
from minigo.gtp_client import GTPEngine, GTPError, find_gnugo

pytestmark = [
    pytest.mark.gnugo,
    pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)"),
]

KO_RULES = ("positional", "simple")
PASS_PROBABILITY = 0.03
COLOR_NAMES = {BLACK: "black", WHITE: "white"}

# (size, seeds): the fast set stays well under a minute on two cores; the slow set plays many more games.
FAST_GAMES = [(5, range(12)), (7, range(6)), (9, range(4))]
SLOW_GAMES = [(5, range(12, 200)), (7, range(6, 60)), (9, range(4, 30))]


def _cases(games: list[tuple[int, range]]) -> list[tuple[int, str, int]]:
    return [(size, ko, seed) for size, seeds in games for ko in KO_RULES for seed in seeds]


@dataclass
class GameStats:
    """What one cross-checked game exercised."""

    moves: int = 0
    passes: int = 0
    captured: int = 0  # stones removed from the board
    capturing_moves: int = 0
    suicide_bans: int = 0  # (colour, empty point) pairs illegal without capturing anything: suicide
    ko_bans: int = 0  # (colour, empty point) pairs illegal although the move would capture: (super)ko
    superko_bans: int = 0  # (colour, point) pairs legal under simple ko but banned by positional superko
    superko_examples: list[str] = field(default_factory=list)
    compared: int = 0  # legal sets compared (one per colour per position)


# --------------------------------------------------------------------------- helpers


@functools.cache
def _neighbours(size: int) -> tuple[tuple[int, ...], ...]:
    out = []
    for point in range(size * size):
        row, col = divmod(point, size)
        near = [(row + dr, col + dc) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
        out.append(tuple(r * size + c for r, c in near if 0 <= r < size and 0 <= c < size))
    return tuple(out)


def _liberties(board: np.ndarray, size: int, point: int) -> int:
    """Liberties of the group at ``point`` (a plain flood fill, independent of the engine under test)."""
    nbrs = _neighbours(size)
    color = board[point]
    seen, stack, libs = {point}, [point], set()
    while stack:
        p = stack.pop()
        for q in nbrs[p]:
            if board[q] == 0:
                libs.add(q)
            elif board[q] == color and q not in seen:
                seen.add(q)
                stack.append(q)
    return len(libs)


def _would_capture(board: np.ndarray, size: int, point: int, color: int) -> bool:
    return any(board[q] == -color and _liberties(board, size, q) == 1 for q in _neighbours(size)[point])


def draw(board: np.ndarray, size: int) -> str:
    """The board as text, GTP coordinates, X black, O white (row 0 at the top, as in ``showboard``)."""
    letters = "ABCDEFGHJKLMNOPQRST"[:size]
    lines = ["   " + " ".join(letters)]
    for row in range(size):
        row_values = board[row * size : (row + 1) * size]
        cells = ("X" if v == BLACK else "O" if v == WHITE else "." for v in row_values)
        lines.append(f"{size - row:2d} " + " ".join(cells))
    return "\n".join(lines)


def _vertices(text: str, size: int) -> set[int]:
    return {from_gtp(v, size) for v in text.split()}


def _ours(mask: np.ndarray, size: int) -> set[int]:
    return {int(p) for p in np.flatnonzero(mask[: size * size])}


def _names(points: set[int], size: int) -> str:
    return " ".join(to_gtp(p, size) for p in sorted(points)) or "-"


def _start_gnugo(size: int, ko: str) -> GTPEngine:
    return GTPEngine.gnugo(level=1, size=size, komi=7.5, superko=ko == "positional", timeout=30.0)


def _compare(
    gg: GTPEngine, pos: Position, context: str, stats: GameStats, shadow: Position | None = None
) -> None:
    """Assert that stones and both colours' legal points agree; count what the position exercised.

    ``shadow`` is the same game under simple ko, to count the bans that only positional superko makes.
    """
    size = pos.size
    for color in (BLACK, WHITE):
        name = COLOR_NAMES[color]
        theirs_stones = _vertices(gg.send(f"list_stones {name}"), size)
        ours_stones = {int(p) for p in np.flatnonzero(pos.board == color)}
        assert ours_stones == theirs_stones, (
            f"{context}\n{name} stones differ: only ours {_names(ours_stones - theirs_stones, size)}, "
            f"only GNU Go's {_names(theirs_stones - ours_stones, size)}"
        )
    for color in (BLACK, WHITE):
        name = COLOR_NAMES[color]
        mask = pos.legal_moves(color)
        assert mask.shape == (size * size + 1,) and mask[pass_point(size)]
        ours = _ours(mask, size)
        theirs = _vertices(gg.send(f"all_legal {name}"), size)
        assert ours == theirs, (
            f"{context}\nlegal {name} moves differ: legal only for us {_names(ours - theirs, size)}, "
            f"legal only for GNU Go {_names(theirs - ours, size)}"
        )
        stats.compared += 1
        if shadow is not None:
            superko_only = _ours(shadow.legal_moves(color), size) - ours
            stats.superko_bans += len(superko_only)
            if superko_only:
                stats.superko_examples.append(f"{name} {_names(superko_only, size)}\n{draw(pos.board, size)}")
        for point in np.flatnonzero(pos.board == 0):
            if int(point) not in ours:
                if _would_capture(pos.board, size, int(point), color):
                    stats.ko_bans += 1
                else:
                    stats.suicide_bans += 1


def crosscheck_game(size: int, ko: str, seed: int) -> GameStats:
    """Play one random game in both engines, comparing after every move; return what it exercised."""
    rng = np.random.default_rng([size, KO_RULES.index(ko), seed])
    pos = Position.empty(size=size, komi=7.5, ko=ko)
    # Under superko, the same game replayed with simple ko shows which bans only superko makes.
    shadow = Position.empty(size=size, komi=7.5, ko="simple") if ko == "positional" else None
    stats = GameStats()
    history: list[str] = []
    max_moves = 2 * size * size
    with _start_gnugo(size, ko) as gg:
        _compare(gg, pos, f"{size}x{size} ko={ko} seed={seed}: empty board", stats, shadow)
        while not pos.is_game_over and stats.moves < max_moves:
            legal = np.flatnonzero(pos.legal_moves()[: size * size])
            if len(legal) == 0 or rng.random() < PASS_PROBABILITY:
                point = pass_point(size)
            else:
                point = int(rng.choice(legal))
            move = f"{COLOR_NAMES[pos.to_play]} {to_gtp(point, size)}"
            context = f"{size}x{size} ko={ko} seed={seed}, move {stats.moves + 1} ({move})"
            before = pos
            try:
                pos = pos.play(point)
            except IllegalMove as exc:  # pragma: no cover - legal_moves said it was legal
                board = draw(before.board, size)
                pytest.fail(f"{context}: we refused it, though legal_moves allowed it: {exc}\n{board}")
            try:
                gg.send(f"play {move}")
            except GTPError as exc:  # pragma: no cover - all_legal agreed it was legal
                board = draw(before.board, size)
                pytest.fail(f"{context}: GNU Go refused it: {exc}\n{board}\nmoves: {', '.join(history)}")
            if shadow is not None:
                shadow = shadow.play(point)
            history.append(move)
            stats.moves += 1
            if point == pass_point(size):
                stats.passes += 1
            else:
                removed = int(np.count_nonzero(before.board)) + 1 - int(np.count_nonzero(pos.board))
                stats.captured += removed
                stats.capturing_moves += removed > 0
            context += (
                f".\nBefore the move:\n{draw(before.board, size)}\nAfter it:\n{draw(pos.board, size)}\n"
                f"moves: {', '.join(history)}"
            )
            _compare(gg, pos, context, stats, shadow)
    return stats


@functools.cache
def _cached_game(size: int, ko: str, seed: int) -> GameStats:
    # A game that disagrees raises; exceptions are not cached, so it fails every test that uses it.
    return crosscheck_game(size, ko, seed)


def _all(cases: list[tuple[int, str, int]]) -> Iterator[GameStats]:
    for case in cases:
        yield _cached_game(*case)


# --------------------------------------------------------------------------- targeted positions


def _play_both(gg: GTPEngine, pos: Position, moves: list[tuple[int, str]]) -> Position:
    for color, vertex in moves:
        pos = pos.play(from_gtp(vertex, pos.size), color)
        gg.send(f"play {COLOR_NAMES[color]} {vertex}")
    return pos


# Black B4 A3 B2, White C4 B3 D3 C2 on 5x5: White's B3 is in atari and Black's capture at C3 is a ko.
#    A B C D E
#  5 . . . . .
#  4 . X O . .
#  3 X O . O .
#  2 . X O . .
#  1 . . . . .
KO_SETUP = [
    (BLACK, "B4"), (WHITE, "C4"), (BLACK, "A3"), (WHITE, "B3"), (BLACK, "B2"), (WHITE, "D3"), (WHITE, "C2"),
]  # fmt: skip


@pytest.mark.parametrize("ko", KO_RULES)
def test_ko_retake_after_a_pass_agrees(ko: str) -> None:
    """Black takes the ko, White passes: the retake is still banned by superko, but allowed by simple ko."""
    size = 5
    with _start_gnugo(size, ko) as gg:
        pos = _play_both(gg, Position.empty(size=size, komi=7.5, ko=ko), KO_SETUP)
        pos = _play_both(gg, pos, [(BLACK, "C3")])
        stats = GameStats()
        _compare(gg, pos, "after the ko capture", stats)
        assert not pos.legal_moves(WHITE)[from_gtp("B3", size)]
        pos = _play_both(gg, pos, [(WHITE, "pass")])
        _compare(gg, pos, "after White's pass", stats)
        retake_legal = bool(pos.legal_moves(WHITE)[from_gtp("B3", size)])
        assert retake_legal == (ko == "simple")
        assert gg.send("is_legal white B3") == ("1" if ko == "simple" else "0")


def test_random_games_exercise_captures_and_bans() -> None:
    """The fast games really capture stones and meet suicide and ko bans (else the cross-check is vacuous)."""
    games = list(_all(_cases(FAST_GAMES)))
    assert sum(g.captured for g in games) >= 50
    assert sum(g.capturing_moves > 0 for g in games) >= len(games) // 2
    assert sum(g.suicide_bans for g in games) > 0
    assert sum(g.ko_bans for g in games) > 0
    # 5x5 seed 7 under superko meets a ban simple ko would not make: black E1 after move 25, White to move.
    assert sum(g.superko_bans for g in games) > 0
    assert sum(g.compared for g in games) == sum(2 * (g.moves + 1) for g in games)


# --------------------------------------------------------------------------- random games


@pytest.mark.parametrize(("size", "ko", "seed"), _cases(FAST_GAMES))
def test_random_game_agrees_with_gnugo(size: int, ko: str, seed: int) -> None:
    stats = _cached_game(size, ko, seed)
    assert stats.moves > 0


@pytest.mark.slow
@pytest.mark.parametrize(("size", "ko", "seed"), _cases(SLOW_GAMES))
def test_random_game_agrees_with_gnugo_long_run(size: int, ko: str, seed: int) -> None:
    stats = _cached_game(size, ko, seed)
    assert stats.moves > 0


@pytest.mark.slow
def test_long_run_exercises_positional_superko() -> None:
    """Across the long run, positional superko bans moves that simple ko allows, and both engines agree."""
    games = list(_all(_cases(SLOW_GAMES)))
    assert sum(g.superko_bans for g in games) >= 10
    assert sum(g.ko_bans for g in games) >= 100
