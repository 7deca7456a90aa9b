"""The pygame window: play against any Player, watch two players, review an SGF, and see what the bot thought.

This is the only module of the project that imports pygame. It has three layers, each testable on its own:

- pure helpers: board geometry (``compute_layout``, ``point_to_pixel``, ``pixel_to_point``), star and handicap
  points, Tromp-Taylor ``territory``, the bot's ``Analysis`` read off any player, the user's games folder;
- ``GameView``: the game as the window sees it, without pygame: the line of positions and a cursor into it,
  which seats are human, the status line, the overlay toggle, the result, and the bot's background thread.
  Its actions (``play_point``, ``pass_move``, ``undo``, ``resign``, ``new_game``, ``save``,
  ``toggle_overlay``...) are what clicks and keys call; ``poll()`` collects the bot's move and starts the next
  search;
- ``App`` and ``draw``: events to actions, and the picture (wooden board, stones, overlay, side panel).
  ``App.step()`` runs one frame: queued events, ``poll``, draw.

The bot always thinks in a daemon thread, so the window stays responsive. A search whose answer is no longer
wanted (after an undo, a new game, or closing) is cancelled: its answer is thrown away, and closing the window
never waits more than a moment for it.

Keys: click to play, P pass, U (or Backspace) undo, R resign, N new game, S save SGF, A show what the bot
thought, O show who it expects to own each point, Left/Right/Home/End browse the game, Space pause when watching
two bots.

What the bot thought (``Analysis``), duck-typed so that any player can offer it: ``player.last_search`` after
``play()`` with ``visits`` and ``prior`` (per point, the pass last, or aligned with a ``moves`` array),
``pv`` (points) and ``value`` (for the player to move at the root, in [-1, 1]), as ``minigo.mcts.SearchResult``
has; else the priors of ``player.evaluator.evaluate([position])`` (a policy network) and its greedy line.
Who owns what (O): ``player.ownership(position)``, ``(size*size,)`` in [-1, 1] from Black's view, or None (as
``minigo.mcts.MCTSPlayer`` offers it from a value net with an ownership head), drawn as KaTrain draws territory.
"""

from __future__ import annotations

import datetime
import functools
import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402 - after the environment variable that silences its banner

from minigo import coords, sgf  # noqa: E402
from minigo.go import BLACK, EMPTY, WHITE, IllegalMove, Position, Rules, color_name  # noqa: E402
from minigo.players import RESIGN, Player  # noqa: E402
from minigo.record import GameRecord, Move  # noqa: E402

__all__ = [
    "Palette", "PALETTE", "Proportions", "PROPORTIONS", "BoardGeometry", "Button", "Layout", "compute_layout",
    "point_to_pixel", "pixel_to_point", "star_points", "handicap_points", "max_handicap", "territory", "Analysis",
    "analyse", "analysis_from_search", "analysis_from_evaluator", "ownership_of", "ownership_summary", "user_games_dir",
    "display_problem", "DisplayError", "GameView", "App", "draw", "open_window", "run_window", "screenshot",
]

NO_DISPLAY = "no display: set DISPLAY (or run `minigo gtp --player SPEC` inside Sabaki or GoGui)"


# ------------------------------------------------------------------------------------------------ constants

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """The window's colours."""

    background: RGB = (28, 31, 38)
    wood: RGB = (222, 178, 98)
    grid: RGB = (52, 36, 20)
    panel: RGB = (38, 42, 51)
    panel_line: RGB = (58, 63, 75)
    text: RGB = (236, 236, 230)
    dim: RGB = (150, 157, 170)
    accent: RGB = (240, 180, 80)
    good: RGB = (120, 205, 130)
    bad: RGB = (236, 110, 90)
    button: RGB = (58, 64, 78)
    button_hover: RGB = (76, 84, 102)
    button_on: RGB = (176, 128, 52)
    button_off_text: RGB = (104, 110, 122)
    last_move: RGB = (222, 54, 40)
    heat_cold: RGB = (70, 140, 255)
    heat_warm: RGB = (90, 220, 130)
    heat_hot: RGB = (255, 214, 60)
    heat_max: RGB = (240, 72, 48)


PALETTE = Palette()


@dataclass(frozen=True)
class Proportions:
    """Sizes, in pixels or as fractions of the grid spacing."""

    window: tuple[int, int] = (1040, 720)
    """The window's size when it opens."""
    min_window: tuple[int, int] = (560, 420)
    tall_window: int = 600
    """The window height from which the panel has room for a fourth row of buttons (Ownership; O works anyway)."""
    panel_fraction: float = 0.32
    panel_min: int = 270
    panel_max: int = 380
    margin: float = 1.2
    """From the board's edge to the first line, in spacings (room for a stone and the coordinates)."""
    board_pad: int = 12
    """Pixels between the window's edge and the wooden board."""
    stone: float = 0.48
    """Stone radius, in spacings."""
    heat: float = 0.40
    """Heat-map disc radius, in spacings."""
    territory: float = 0.30
    """Side of a territory mark, in spacings."""
    ownership: float = 0.52
    """Side of an ownership square for a sure owner (|ownership| 1; the side is proportional), in spacings."""
    ownership_min: float = 0.15
    """No ownership square where |ownership| is below this."""


PROPORTIONS = Proportions()


# ------------------------------------------------------------------------------------------------ geometry

@dataclass(frozen=True)
class BoardGeometry:
    """Where the board is drawn: ``x0, y0`` the pixel centre of the top-left point, ``spacing`` between lines,
    ``rect`` the wooden board ``(left, top, width, height)``."""

    size: int
    x0: float
    y0: float
    spacing: float
    rect: tuple[int, int, int, int]

    @property
    def stone_radius(self) -> int:
        return max(3, int(self.spacing * PROPORTIONS.stone))


def point_to_pixel(geometry: BoardGeometry, point: int) -> tuple[int, int]:
    """The pixel centre of a point (flat index, row 0 at the top)."""
    row, col = coords.from_flat(point, geometry.size)
    return round(geometry.x0 + col * geometry.spacing), round(geometry.y0 + row * geometry.spacing)


def pixel_to_point(geometry: BoardGeometry, x: float, y: float) -> int | None:
    """The point whose intersection is nearest ``(x, y)``, or None when that is off the board or more than half
    a spacing away along either axis."""
    col = round((x - geometry.x0) / geometry.spacing)
    row = round((y - geometry.y0) / geometry.spacing)
    if not (0 <= row < geometry.size and 0 <= col < geometry.size):
        return None
    if abs(x - geometry.x0 - col * geometry.spacing) > geometry.spacing / 2:
        return None
    if abs(y - geometry.y0 - row * geometry.spacing) > geometry.spacing / 2:
        return None
    return row * geometry.size + col


@dataclass(frozen=True)
class Button:
    """A panel button: the action it runs, its label, its key, and its ``(left, top, width, height)``."""

    action: str
    label: str
    key: str
    rect: tuple[int, int, int, int]

    def contains(self, x: float, y: float) -> bool:
        left, top, width, height = self.rect
        return left <= x < left + width and top <= y < top + height


BUTTONS = (("pass", "Pass", "P"), ("undo", "Undo", "U"), ("resign", "Resign", "R"), ("new", "New game", "N"),
           ("save", "Save SGF", "S"), ("overlay", "Thinking", "A"), ("ownership", "Ownership", "O"))
WATCH_BUTTONS = (("pause", "Pause", "Space"),) + BUTTONS[1:2] + (("back", "Back", "\u2190"),) + BUTTONS[3:]


@dataclass(frozen=True)
class Layout:
    """The whole window: the board, the side panel ``(left, top, width, height)`` and its buttons."""

    width: int
    height: int
    board: BoardGeometry
    panel: tuple[int, int, int, int]
    buttons: tuple[Button, ...]

    def button_at(self, x: float, y: float) -> Button | None:
        return next((button for button in self.buttons if button.contains(x, y)), None)


@functools.lru_cache(maxsize=16)
def compute_layout(width: int, height: int, size: int, watching: bool = False) -> Layout:
    """The layout of a ``width`` x ``height`` window showing a ``size`` x ``size`` board: a square board on the
    left, as large as fits, and the panel on the right."""
    p = PROPORTIONS
    width, height = max(width, p.min_window[0]), max(height, p.min_window[1])
    panel_width = int(min(p.panel_max, max(p.panel_min, width * p.panel_fraction)))
    side = min(height - 2 * p.board_pad, width - panel_width - 2 * p.board_pad)
    left = p.board_pad + (width - panel_width - 2 * p.board_pad - side) // 2
    top = (height - side) // 2
    spacing = side / (size - 1 + 2 * p.margin)
    x0 = left + p.margin * spacing
    y0 = top + p.margin * spacing
    board = BoardGeometry(size, x0, y0, spacing, (left, top, side, side))
    panel = (width - panel_width, 0, panel_width, height)
    pad = 16
    button_w = (panel_width - 3 * pad) // 2
    button_h = 36
    specs = [spec for spec in (WATCH_BUTTONS if watching else BUTTONS)
             if spec[0] != "ownership" or height >= p.tall_window]
    rows = (len(specs) + 1) // 2
    first_top = height - pad - rows * button_h - (rows - 1) * 10
    buttons = tuple(
        Button(action, label, key, (panel[0] + pad + (i % 2) * (button_w + pad), first_top + (i // 2) * (button_h + 10),
                                    button_w, button_h))
        for i, (action, label, key) in enumerate(specs))
    return Layout(width, height, board, panel, buttons)


# ------------------------------------------------------------------------------------------------ rules helpers

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
    """The hoshi drawn on the board: the handicap corners and centre (all nine from 15x15), or the centre of a
    small odd board."""
    if size >= 15:
        return handicap_points(size, 9)
    if size >= 7:
        return handicap_points(size, 5 if size % 2 == 1 else 4)
    return [(size // 2) * size + size // 2] if size % 2 == 1 and size >= 5 else []


def territory(position: Position) -> np.ndarray:
    """``(size*size,)`` int8: BLACK or WHITE on each empty point whose region reaches only that colour
    (Tromp-Taylor), 0 elsewhere. Stones plus these points make ``position.area()``."""
    return np.where(position.board == EMPTY, position.ownership(), 0).astype(np.int8)


# ------------------------------------------------------------------------------------------------ analysis

@dataclass(frozen=True)
class Analysis:
    """What a bot thought about ``position`` (where it was to move)."""

    position: Position
    source: str
    """``visits`` (a search's visit counts) or ``prior`` (a policy's probabilities)."""
    heat: np.ndarray
    """``(size*size+1,)`` float, the pass last: each move's share of the visits or of the prior; sums to 1."""
    pv: tuple[int, ...]
    """The principal variation from ``position``, its first move first (may be empty)."""
    value: float | None
    """The bot's value for the player to move at ``position``, in [-1, 1]; None when it has no estimate."""
    playouts: int | None = None

    def top(self, count: int = 3) -> list[tuple[int, float]]:
        """The ``count`` moves with the largest share, as (point, share), largest first."""
        order = np.argsort(-self.heat, kind="stable")[:count]
        return [(int(i), float(self.heat[i])) for i in order if self.heat[i] > 0]


def _per_point(values: object, moves: object, n: int) -> np.ndarray | None:
    """A per-move array as ``(n+1,)``: as it is when it has that length, else scattered over ``moves``."""
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if moves is not None:
        moves = np.asarray(moves, dtype=np.int64).reshape(-1)
        if len(moves) == len(array) and (len(array) != n + 1 or not np.array_equal(moves, np.arange(n + 1))):
            out = np.zeros(n + 1)
            out[moves] = array
            return out
    return array if len(array) == n + 1 else None


def _share(values: np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    total = values.sum()
    return values / total if total > 0 else None


def analysis_from_search(search: object, position: Position) -> Analysis | None:
    """An Analysis from a search result with ``visits`` / ``prior`` (per point, or aligned with ``moves``),
    ``pv`` and ``value``; None when it has neither visits nor priors."""
    n = position.pass_point
    moves = getattr(search, "moves", None)
    visits = _share(_per_point(getattr(search, "visits", None), moves, n))
    prior = _share(_per_point(getattr(search, "prior", None), moves, n))
    if visits is None and prior is None:
        return None
    value = getattr(search, "value", None)
    value = float(value) if value is not None and math.isfinite(float(value)) else None
    pv = tuple(int(m) for m in (getattr(search, "pv", None) or ()) if 0 <= int(m) <= n)
    playouts = getattr(search, "playouts", None)
    if visits is not None:
        return Analysis(position, "visits", visits, pv, value, int(playouts) if playouts is not None else None)
    return Analysis(position, "prior", prior, pv, value)


def analysis_from_evaluator(evaluator: object, position: Position, depth: int = 6) -> Analysis | None:
    """An Analysis from ``evaluator.evaluate([position])``: its priors as the heat map, its greedy line of
    ``depth`` moves as the principal variation, and its value unless the evaluator says it has no value net
    (a ``value`` attribute that is None)."""
    priors, values = evaluator.evaluate([position])  # type: ignore[attr-defined]
    heat = _share(np.asarray(priors[0], dtype=np.float64).reshape(-1))
    if heat is None or len(heat) != position.pass_point + 1:
        return None
    value = float(values[0]) if getattr(evaluator, "value", True) is not None else None
    pv: list[int] = []
    at, p = position, heat
    for _ in range(depth):
        move = int(np.argmax(p))
        pv.append(move)
        if move == at.pass_point:
            break
        try:
            at = at.play(move)
        except IllegalMove:
            break
        p = np.asarray(evaluator.evaluate([at])[0][0], dtype=np.float64)  # type: ignore[attr-defined]
    return Analysis(position, "prior", heat, tuple(pv), value if value is None or math.isfinite(value) else None)


def can_analyse(player: object) -> bool:
    """Whether ``player`` offers a search (``last_search``) or an evaluator to look into."""
    return hasattr(player, "last_search") or callable(getattr(getattr(player, "evaluator", None), "evaluate", None))


def analyse(player: object, position: Position) -> Analysis | None:
    """What ``player`` thought about ``position``, read right after its ``play(position)``: its ``last_search``
    when it has one, else its evaluator's priors; None when it offers neither."""
    search = getattr(player, "last_search", None)
    if search is not None:
        analysis = analysis_from_search(search, position)
        if analysis is not None:
            return analysis
    evaluator = getattr(player, "evaluator", None)
    if callable(getattr(evaluator, "evaluate", None)):
        return analysis_from_evaluator(evaluator, position)
    return None


def ownership_of(player: object, position: Position) -> np.ndarray | None:
    """``player.ownership(position)`` as ``(size*size,)`` float in [-1, 1] from Black's view (+1: Black will own
    the point); None when the player offers no map, answers None, or fails (a net for another board size)."""
    ownership = getattr(player, "ownership", None)
    try:
        owners = ownership(position) if callable(ownership) else None
    except Exception:  # noqa: BLE001 - a map that cannot be had is just not shown
        return None
    if owners is None:
        return None
    owners = np.asarray(owners, dtype=np.float64).reshape(-1)
    return np.clip(owners, -1, 1) if owners.size == position.size ** 2 and np.isfinite(owners).all() else None


def ownership_summary(owners: np.ndarray, komi: float) -> str:
    """The area and margin an ownership map adds up to, as ``minigo-ownership``'s TEXT line in GTP says it:
    Black's area is the sum of the positive values, White's of the negative ones, and White gets ``komi``."""
    black, white = float(np.clip(owners, 0, 1).sum()), float(np.clip(-owners, 0, 1).sum())
    margin = black - white - komi
    return (f"expected area: Black {black:.1f}, White {white:.1f}, komi {komi:g}: "
            f"{'B' if margin > 0 else 'W'}+{abs(margin):.1f}")


# ------------------------------------------------------------------------------------------------ environment

class DisplayError(RuntimeError):
    """No window can be opened; the message says what to do instead."""


def display_problem(environ: Mapping[str, str], platform: str) -> str | None:
    """Why no window can open here, judged from the environment alone, or None when it may: on Linux without
    ``SDL_VIDEODRIVER``, ``DISPLAY`` or ``WAYLAND_DISPLAY`` there is no display."""
    if environ.get("SDL_VIDEODRIVER"):
        return None
    if platform.startswith("linux") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return NO_DISPLAY
    return None


def user_games_dir(environ: Mapping[str, str], home: Path) -> Path:
    """Where every game played in the window is saved: ``$XDG_DATA_HOME/minigo/games``, or
    ``~/.local/share/minigo/games``."""
    base = environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return Path(base) / "minigo" / "games"


# ------------------------------------------------------------------------------------------------ the bot's thread

class _BotJob:
    """One ``player.play(position)`` in a daemon thread, then its analysis, and with ``ownership`` its ownership
    map of the position after its move (``after``). ``cancelled`` means that nobody wants the answer any more;
    the thread still runs to the end of the player's search."""

    def __init__(self, player: Player, position: Position, reset: Rules | None, ownership: bool = False) -> None:
        self.player = player
        self.position = position
        self.reset = reset
        self.want_ownership = ownership
        self.after: Position | None = None
        self.ownership: np.ndarray | None = None
        self.started = time.monotonic()
        self.cancelled = threading.Event()
        self.done = threading.Event()
        self.move: int | None = None
        self.analysis: Analysis | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, name="minigo-bot", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            if self.reset is not None:
                self.player.reset(self.reset)
            move = int(self.player.play(self.position))
            if not self.cancelled.is_set() and move != RESIGN:
                try:
                    self.analysis = analyse(self.player, self.position)
                except Exception:  # noqa: BLE001 - an analysis that fails is just not shown
                    self.analysis = None
                if self.want_ownership:  # one network call, here rather than in the window's thread
                    try:
                        self.after = self.position.play(move)
                        self.ownership = ownership_of(self.player, self.after)
                    except IllegalMove:
                        self.after = None  # _take says why
            self.move = move
        except Exception as exc:  # noqa: BLE001 - any failure of the bot ends in the status line
            text = str(exc).strip().splitlines()
            self.error = text[0] if text else type(exc).__name__
        finally:
            self.done.set()


# ------------------------------------------------------------------------------------------------ the game

_REASONS = {
    "occupied": "{v} is occupied",
    "suicide": "{v} would be suicide (no liberties left)",
    "ko": "{v} retakes the ko at once: play elsewhere first",
    "positional superko": "{v} repeats an earlier board (positional superko)",
}


def _shown_path(path: Path) -> str:
    """A path as the status line shows it: the home folder as ``~``."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):
        return str(path)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:40] or "player"


class GameView:
    """The game the window shows, without pygame.

    ``players`` maps BLACK and WHITE to a Player, or to None for a seat the person at the window plays.
    The game is a line of positions (``line``) with a ``cursor``: the board shows ``line[cursor]``; playing from
    an earlier position cuts the line there. The bot moves only at the end of the line, in a background thread.

    ``games_dir``: every game is saved there (atomically) when it ends, when a new one starts, when the window
    closes, and on ``save()``. ``save_path``: where ``save()`` writes instead, when given. ``bot_delay``: seconds
    between two bot moves (so that a person can follow two bots). ``swap_each_game``: the seats change sides at
    random for each new game (``--color random``).
    """

    def __init__(self, players: Mapping[int, Player | None], rules: Rules, *, games_dir: str | os.PathLike[str],
                 handicap: int = 0, record: GameRecord | None = None, start: Position | None = None,
                 save_path: str | os.PathLike[str] | None = None, bot_delay: float = 0.0, swap_each_game: bool = False,
                 rng: np.random.Generator | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.players: dict[int, Player | None] = {BLACK: players.get(BLACK), WHITE: players.get(WHITE)}
        self.rules = record.game_rules if record is not None else start.rules if start is not None else rules
        self.games_dir = Path(games_dir)
        self.save_path = Path(save_path) if save_path is not None else None
        self.bot_delay = bot_delay
        self.swap_each_game = swap_each_game
        self.rng = rng if rng is not None else np.random.default_rng()
        self.clock = clock
        self.base_handicap = handicap
        if handicap:
            handicap_points(self.rules.size, handicap)  # raises for a count the board does not take
        self.overlay = False
        self.ownership_overlay = False
        self.paused = False
        self.closed = False
        self.job: _BotJob | None = None
        self._stale: list[_BotJob] = []  # cancelled searches still running
        self._analyses: dict[int, Analysis] = {}  # by id() of the analysed position, which the line keeps alive
        self._ownerships: dict[int, tuple[Position, np.ndarray]] = {}  # likewise, with the position to check id()
        self._no_ownership: set[int] = set()  # id() of the players that answered None: asked no more
        self._legal: tuple[Position | None, np.ndarray | None] = (None, None)
        self._needs_reset = {id(p) for p in self.players.values() if p is not None}
        self._new_line(record=record, start=start)
        if record is not None:
            final = self.line[-1]
            if record.result or final.is_game_over:
                self.result = record.result or final.result()
                self.end_reason = "as recorded" if record.result else "two passes"
                self.status = f"Loaded game over: {self.result}. Browse with \u2190 \u2192, U to undo and play on."
            else:
                self.status = f"Loaded {len(record.moves)} moves. Browse with \u2190 \u2192; play on from here."
            self._dirty = False

    # -- state ---------------------------------------------------------------------------------------------

    def _new_line(self, record: GameRecord | None = None, start: Position | None = None) -> None:
        self.handicap = 0
        if record is not None:
            positions = list(record.positions())
            self.line = positions
            self.moves = list(record.moves)
            self.handicap = record.handicap
        else:
            if start is None:
                start = Position.empty(rules=self.rules)
                if self.base_handicap:
                    start = start.with_setup(black=handicap_points(self.rules.size, self.base_handicap),
                                             to_play=WHITE)
                    self.handicap = self.base_handicap
            self.line = [start]
            self.moves = []
        self.cursor = len(self.line) - 1
        self.result: str | None = None
        self.end_reason = ""
        self.bot_error: str | None = None
        self._analyses.clear()
        self._ownerships.clear()
        self._game_file: Path | None = None
        self._dirty = False
        self._last_bot_move = -math.inf
        self.status = self._turn_prompt()

    @property
    def position(self) -> Position:
        """The position on the board."""
        return self.line[self.cursor]

    @property
    def watching(self) -> bool:
        """No seat is human: two bots play and the person watches."""
        return all(p is not None for p in self.players.values())

    @property
    def at_end(self) -> bool:
        return self.cursor == len(self.line) - 1

    @property
    def game_over(self) -> bool:
        """The game has a result and the board shows its end."""
        return self.result is not None and self.at_end

    @property
    def thinking(self) -> bool:
        return self.job is not None

    def is_human(self, color: int) -> bool:
        return self.players[color] is None

    def human_to_play(self) -> bool:
        return self.is_human(self.position.to_play) and not self.game_over

    def name(self, color: int) -> str:
        player = self.players[color]
        if player is None:
            return "you"
        return str(getattr(player, "name", type(player).__name__))

    def legal_moves(self) -> np.ndarray:
        """The legal moves of the side to move on the board, cached per position."""
        position, mask = self._legal
        if position is not self.position or mask is None:
            mask = self.position.legal_moves()
            self._legal = (self.position, mask)
        return mask

    def _turn_prompt(self) -> str:
        color = self.line[self.cursor].to_play
        if self.players[color] is None:
            return f"Your move ({color_name(color)})."
        return ""

    # -- actions --------------------------------------------------------------------------------------------

    def play_point(self, point: int) -> bool:
        """The person plays ``point`` (or passes, with the pass point). An illegal move changes nothing and the
        status says why. Returns whether the move was played."""
        position = self.position
        if self.game_over:
            self.status = "The game is over: N for a new game, U to undo."
            return False
        if not self.is_human(position.to_play):
            who = color_name(position.to_play).capitalize()
            self.status = f"Wait: {who} is thinking\u2026" if self.at_end else f"It is {who}'s turn here."
            return False
        try:
            after = position.play(point)
        except IllegalMove as exc:
            reason = str(exc).rsplit(": ", 1)[-1]
            vertex = coords.to_gtp(point, position.size)
            self.status = "Illegal: " + _REASONS.get(reason, "{v}: " + reason).format(v=vertex) + "."
            return False
        self._cut()
        self._push(after, Move(position.to_play, point))
        mover = color_name(position.to_play).capitalize()
        if point == position.pass_point:
            self.status = f"{mover} passes." + ("" if after.is_game_over else " Two passes in a row end the game.")
        else:
            self.status = ""
        self._check_end()
        return True

    def pass_move(self) -> bool:
        return self.play_point(self.position.pass_point)

    def resign(self) -> bool:
        """The person to move resigns."""
        if self.game_over or not self.is_human(self.position.to_play):
            self.status = "Nothing to resign: " + ("the game is over." if self.game_over else "it is not your turn.")
            return False
        self._cut()
        loser = self.position.to_play
        self._finish(f"{'W' if loser == BLACK else 'B'}+R", f"{color_name(loser).capitalize()} resigned")
        return True

    def undo(self) -> bool:
        """Take back the last move, and the bot's reply too: back to the last position where a person is to move
        (one move back when watching). After a resignation, take back the resignation."""
        self._cancel()
        self.bot_error = None
        if self.result is not None and self.at_end and not self.line[-1].is_game_over:
            self.result, self.end_reason = None, ""  # a resignation is not a move
            self._dirty = True
            self.status = "Resignation taken back. " + self._turn_prompt()
            return True
        target = self.cursor - 1
        if not self.watching:
            while target > 0 and not self.is_human(self.line[target].to_play):
                target -= 1
            if not self.is_human(self.line[target].to_play):
                target = -1
        if target < 0:
            self.status = "Nothing to undo."
            return False
        del self.line[target + 1:]
        del self.moves[target:]
        self.cursor = target
        self.result, self.end_reason = None, ""
        self._dirty = True
        self.status = "Move taken back. " + self._turn_prompt()
        if self.watching:
            self.paused = True
            self.status = "Move taken back; paused (Space to go on)."
        return True

    def browse(self, step: int) -> None:
        """Show an earlier or later position of the line (the bot waits until the end is shown again)."""
        target = min(max(self.cursor + step, 0), len(self.line) - 1)
        if target == self.cursor:
            return
        self._cancel()
        self.cursor = target
        if self.at_end:
            self.status = self._turn_prompt() or ""
            if self.result is not None:
                self.status = f"Game over: {self.result}."
        else:
            self.status = (f"Move {self.position.move_number} of {self.line[-1].move_number}: \u2190 \u2192 to "
                           f"browse, play here to branch off.")

    def new_game(self) -> None:
        """Save the game so far and start again (the seats swap at random with ``swap_each_game``)."""
        self._autosave()
        self._cancel()
        if self.swap_each_game and self.rng.random() < 0.5:
            self.players = {BLACK: self.players[WHITE], WHITE: self.players[BLACK]}
        self._needs_reset = {id(p) for p in self.players.values() if p is not None}
        self.paused = False
        self._new_line()
        self.status = "New game. " + self._turn_prompt()

    def toggle_overlay(self) -> None:
        """Show or hide what the bot thought; says so when no player offers an analysis."""
        bots = [p for p in self.players.values() if p is not None]
        if not any(can_analyse(p) for p in bots):
            self.overlay = False
            self.status = "No analysis for this player."
            return
        self.overlay = not self.overlay
        if self.overlay and self.shown_analysis() is None:
            self.status = "Thinking shown after the bot's next move."

    def toggle_ownership(self) -> None:
        """Show or hide who the bot expects to own each point; says so when no player offers a map."""
        none = "No ownership map for this player (it needs a value net with an ownership head)."
        if not self._ownership_players():
            self.ownership_overlay = False
            self.status = none
            return
        self.ownership_overlay = not self.ownership_overlay
        if self.ownership_overlay and self.shown_ownership() is None:
            if self._ownership_players():
                self.status = "Ownership shown after the bot's next move."
            else:  # asked just now, and it has none
                self.ownership_overlay = False
                self.status = none

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.status = "Paused (Space to go on)." if self.paused else ""

    def save(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Write the game as SGF (to ``path``, else ``save_path``, else the games folder); returns where."""
        target = Path(path) if path is not None else self.save_path if self.save_path is not None else None
        if target is None:
            target = self._autosave_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            sgf.save(self.record(), target)
        except OSError as exc:
            self.status = f"Could not save {target}: {exc.strerror or exc}"
            return None
        if target == self._autosave_path():
            self._dirty = False
        else:
            self._autosave()
        self.status = f"Saved {_shown_path(target)}"
        return target

    def record(self) -> GameRecord:
        """The whole line as a game record (with its result when the game has ended)."""
        initial = self.line[0]
        black = tuple(np.flatnonzero(initial.board == BLACK).tolist())
        white = tuple(np.flatnonzero(initial.board == WHITE).tolist())
        first = initial.to_play if (black or white or initial.to_play != BLACK) else None
        comment = ""
        if self.result is not None and self.line[-1].is_game_over:
            b, w = self.line[-1].area()
            comment = f"Tromp-Taylor area: black {b}, white {w}, komi {self.rules.komi:g}"
        return GameRecord(size=self.rules.size, komi=self.rules.komi, ko=self.rules.ko, moves=list(self.moves),
                          result=self.result or "", black=self._record_name(BLACK), white=self._record_name(WHITE),
                          date=datetime.date.today().isoformat(), rules="Chinese", handicap=self.handicap,
                          setup_black=black, setup_white=white, first_to_play=first, comment=comment)

    def _record_name(self, color: int) -> str:
        return "human" if self.players[color] is None else self.name(color)

    # -- the line -------------------------------------------------------------------------------------------

    def _cut(self) -> None:
        """Play continues from the position shown: drop what followed it."""
        self._cancel()
        del self.line[self.cursor + 1:]
        del self.moves[self.cursor:]
        self.result, self.end_reason = None, ""

    def _push(self, position: Position, move: Move) -> None:
        self.line.append(position)
        self.moves.append(move)
        self.cursor = len(self.line) - 1
        self._dirty = True

    def _check_end(self) -> None:
        position = self.position
        if position.is_game_over:
            self._finish(position.result(), "two passes" if position.passes >= 2 else "move cap")

    def _finish(self, result: str, reason: str) -> None:
        self.result, self.end_reason = result, reason
        self._dirty = True
        where = self._autosave()
        self.status = f"Game over ({reason}): {result}." + (f" Saved {_shown_path(where)}" if where else "")

    def _autosave_path(self) -> Path:
        if self._game_file is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            stem = f"{stamp}-{_safe_name(self._record_name(BLACK))}-vs-{_safe_name(self._record_name(WHITE))}"
            path, number = self.games_dir / f"{stem}.sgf", 1
            while path.exists():
                number += 1
                path = self.games_dir / f"{stem}-{number}.sgf"
            self._game_file = path
        return self._game_file

    def _autosave(self) -> Path | None:
        """Save to the games folder when anything changed since the last save (and the game has a move)."""
        if not self._dirty or (not self.moves and self.result is None):
            return None
        path = self._autosave_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            sgf.save(self.record(), path)
        except OSError as exc:
            self.status = f"Could not save {path}: {exc.strerror or exc}"
            return None
        self._dirty = False
        return path

    # -- the bot ----------------------------------------------------------------------------------------------

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancelled.set()
            self._stale.append(self.job)
            self.job = None

    def poll(self) -> None:
        """Collect the bot's answer when it has come, and start the bot when it is to move."""
        self._stale = [job for job in self._stale if not job.done.is_set()]
        job = self.job
        if job is not None and job.done.is_set():
            self.job = None
            self._take(job)
        if self.closed or self.job is not None or self._stale or self.result is not None or not self.at_end:
            return
        color = self.position.to_play
        player = self.players[color]
        if player is None or self.bot_error is not None or self.paused:
            return
        if self.clock() - self._last_bot_move < self.bot_delay:
            return
        reset = None
        if id(player) in self._needs_reset:
            self._needs_reset.discard(id(player))
            reset = self.rules
        ownership = self.ownership_overlay and player in self._ownership_players()
        self.job = _BotJob(player, self.position, reset, ownership)

    def _take(self, job: _BotJob) -> None:
        position = job.position
        if job.cancelled.is_set() or position is not self.position:
            return
        who = f"{color_name(position.to_play).capitalize()} ({self.name(position.to_play)})"
        if job.error is not None:
            self.bot_error = job.error
            self.status = f"{who} failed: {job.error}. U to undo, N for a new game."
            return
        self._last_bot_move = self.clock()
        move = job.move
        assert move is not None
        if job.analysis is not None:
            self._analyses[id(position)] = job.analysis
        if move == RESIGN:
            loser = position.to_play
            self._finish(f"{'W' if loser == BLACK else 'B'}+R", f"{color_name(loser).capitalize()} resigned")
            return
        try:
            after = job.after if job.after is not None else position.play(move)
        except IllegalMove as exc:
            self.bot_error = str(exc)
            self.status = f"{who} answered an illegal move ({exc}). U to undo, N for a new game."
            return
        if job.ownership is not None:
            self._ownerships[id(after)] = (after, job.ownership)
        elif job.after is not None:
            self._no_ownership.add(id(job.player))
        self._push(after, Move(position.to_play, move))
        vertex = coords.to_gtp(move, position.size)
        if move == position.pass_point:
            self.status = f"{who} passes." + ("" if after.is_game_over or self.watching
                                              else " Pass too (P) to end the game, or play on.")
        else:
            self.status = "" if self.watching else f"{who} played {vertex}. " + self._turn_prompt()
        self._check_end()

    def thinking_text(self) -> str:
        """``White (gnugo:5) is thinking… 3s`` while the bot searches, else ''."""
        if self.job is not None:
            color = self.job.position.to_play
            seconds = int(time.monotonic() - self.job.started)
            return f"{color_name(color).capitalize()} ({self.name(color)}) is thinking\u2026 {seconds}s"
        if self._stale and self.result is None and self.at_end and not self.is_human(self.position.to_play):
            return "Waiting for the bot to finish its last search\u2026"
        return ""

    def close(self, timeout: float = 0.5) -> None:
        """Stop: cancel the search, save the game, close the players. Never waits long for a search: the bot's
        thread is a daemon, left to finish (or to die with the process)."""
        if self.closed:
            return
        self.closed = True
        self._cancel()
        self._autosave()
        deadline = time.monotonic() + timeout
        for job in self._stale:
            job.thread.join(max(0.0, deadline - time.monotonic()))
        closers = []
        for player in {id(p): p for p in self.players.values() if p is not None}.values():
            closer = threading.Thread(target=_quietly(player.close), name="minigo-close", daemon=True)
            closer.start()
            closers.append(closer)
        for closer in closers:
            closer.join(max(0.05, deadline + timeout - time.monotonic()))

    # -- what the bot thought -----------------------------------------------------------------------------------

    def shown_analysis(self) -> tuple[Analysis, tuple[int, ...]] | None:
        """The analysis the overlay shows on the board, with the moves played since it (the bot's own move):
        the one made at the shown position, else at the position before it. Computed on the spot for a bot
        with an evaluator that is idle, when none is kept for the shown position."""
        position = self.position
        analysis = self._analyses.get(id(position))
        if analysis is not None and analysis.position is position:
            return analysis, ()
        parent = self.line[self.cursor - 1] if self.cursor > 0 else None
        if parent is not None:
            analysis = self._analyses.get(id(parent))
            if analysis is not None and analysis.position is parent:
                return analysis, (self.moves[self.cursor - 1].point,)
        if self.job is None and not self._stale and not self.game_over:
            for player in (self.players[position.to_play], self.players[-position.to_play]):
                evaluator = getattr(player, "evaluator", None)
                if player is not None and callable(getattr(evaluator, "evaluate", None)):
                    try:
                        analysis = analysis_from_evaluator(evaluator, position)
                    except Exception:  # noqa: BLE001 - e.g. a network for another board size
                        analysis = None
                    if analysis is not None:
                        self._analyses[id(position)] = analysis
                        return analysis, ()
        return None

    def _ownership_players(self) -> list[Player]:
        """The bots that may have an ownership map: an ``ownership`` method that has not yet answered None."""
        return [p for p in self.players.values()
                if p is not None and callable(getattr(p, "ownership", None)) and id(p) not in self._no_ownership]

    def shown_ownership(self) -> np.ndarray | None:
        """The ownership map of the shown position, ``(size*size,)`` in [-1, 1] from Black's view: the one the
        bot's job made after its move, else asked once of an idle bot (the side to move first) and kept."""
        position = self.position
        kept = self._ownerships.get(id(position))
        if kept is not None and kept[0] is position:
            return kept[1]
        if self.job is not None or self._stale:
            return None  # the player's network is busy in the bot's thread
        for player in (self.players[position.to_play], self.players[-position.to_play]):
            if player is None or player not in self._ownership_players():
                continue
            owners = ownership_of(player, position)
            if owners is not None:
                self._ownerships[id(position)] = (position, owners)
                return owners
            self._no_ownership.add(id(player))
        return None

    def last_estimate(self) -> tuple[int, float, str] | None:
        """The latest bot estimate on the line up to the shown position: (its colour, its win probability,
        its name), or None."""
        for index in range(self.cursor - 1, -1, -1):
            position = self.line[index]
            analysis = self._analyses.get(id(position))
            if analysis is not None and analysis.position is position and analysis.value is not None:
                color = position.to_play
                if self.players[color] is None:
                    continue
                return color, (analysis.value + 1) / 2, self.name(color)
        return None


def _quietly(function: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            function()
        except Exception:  # noqa: BLE001 - closing a player that already failed
            pass
    return run


# ------------------------------------------------------------------------------------------------ drawing

@functools.lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> pygame.font.Font:
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.SysFont("dejavusans,freesans,helveticaneue,arial", max(8, size), bold=bold)


def _surface_from_rgba(rgba: np.ndarray) -> pygame.Surface:
    """A per-pixel-alpha surface from an ``(h, w, 4)`` uint8 array."""
    height, width = rgba.shape[:2]
    return pygame.image.frombytes(np.ascontiguousarray(rgba).tobytes(), (width, height), "RGBA")


@functools.lru_cache(maxsize=8)
def _wood(width: int, height: int) -> pygame.Surface:
    """A kaya-coloured board with a soft, nearly straight grain (deterministic)."""
    rng = np.random.default_rng(19)
    x = np.arange(width, dtype=np.float64)[:, None] / max(width, 1)
    y = np.arange(height, dtype=np.float64)[None, :] / max(height, 1)
    phase = rng.uniform(0, 2 * np.pi, 4)
    warp = 0.18 * np.sin(2 * np.pi * 0.45 * y + phase[0]) + 0.07 * np.sin(2 * np.pi * (1.3 * y + 0.8 * x) + phase[1])
    t = 9 * x + warp * (1 + 0.6 * np.sin(2 * np.pi * 1.5 * x + phase[2]))
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * t)  # the broad grain lines
    fine = 0.5 + 0.5 * np.sin(2 * np.pi * (47 * x + 0.6 * warp))  # the fine ones between them
    streaks = np.convolve(rng.normal(0, 1, width + 8), np.ones(3) / 3, mode="same")[4:width + 4][:, None]
    light = 1.0 + 0.04 * (0.5 - y) - 0.03 * (x - 0.5) ** 2
    shade = light * (1 - 0.06 * rings ** 6 - 0.022 * fine ** 3 - 0.012 * streaks)  # (w, h)
    base = np.array(PALETTE.wood, dtype=np.float64)
    rgb = np.clip(base[None, None, :] * shade[:, :, None], 0, 255).astype(np.uint8)  # (w, h, 3)
    return pygame.surfarray.make_surface(rgb)


@functools.lru_cache(maxsize=16)
def _stone(radius: int, color: int) -> pygame.Surface:
    """A shaded stone, lit from the upper left, anti-aliased, ``(2r+2)`` square."""
    side = 2 * radius + 2
    centre = side / 2
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5 - centre
    distance = np.hypot(xx, yy)
    alpha = np.clip(radius - distance + 0.5, 0, 1)
    glint = np.hypot(xx + 0.35 * radius, yy + 0.38 * radius) / (1.25 * radius)
    if color == BLACK:
        level = 16 + 78 * np.clip(1 - glint, 0, 1) ** 2.4
        rgb = np.stack([level, level * 1.02, level * 1.08], axis=-1)
    else:
        level = 252 - 52 * np.clip(glint, 0, 1.2) ** 2
        rim = np.clip(distance - (radius - 1.6), 0, 1)
        level = level - 60 * rim
        rgb = np.stack([level, level * 0.995, level * 0.975], axis=-1)
    rgba = np.concatenate([np.clip(rgb, 0, 255), 255 * alpha[..., None]], axis=-1).astype(np.uint8)
    return _surface_from_rgba(rgba)


@functools.lru_cache(maxsize=16)
def _shadow(radius: int) -> pygame.Surface:
    """A soft dark disc put under a stone, offset down and to the right."""
    side = 2 * radius + 8
    centre = side / 2
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5 - centre
    distance = np.hypot(xx, yy)
    alpha = np.clip((radius + 1.5 - distance) / (0.28 * radius + 2), 0, 1) * 0.42
    rgba = np.zeros((side, side, 4), dtype=np.uint8)
    rgba[..., :3] = (40, 25, 10)
    rgba[..., 3] = (255 * alpha).astype(np.uint8)
    return _surface_from_rgba(rgba)


@functools.lru_cache(maxsize=64)
def _ghost(radius: int, color: int, alpha: int) -> pygame.Surface:
    sprite = _stone(radius, color).copy()
    sprite.set_alpha(alpha)
    return sprite


def _blit_center(surface: pygame.Surface, sprite: pygame.Surface, x: float, y: float) -> None:
    surface.blit(sprite, sprite.get_rect(center=(round(x), round(y))))


def _text(surface: pygame.Surface, text: str, size: int, color: RGB, *, bold: bool = False,
          topleft: tuple[float, float] | None = None, center: tuple[float, float] | None = None,
          topright: tuple[float, float] | None = None) -> pygame.Rect:
    image = _font(size, bold).render(text, True, color)
    if center is not None:
        rect = image.get_rect(center=(round(center[0]), round(center[1])))
    elif topright is not None:
        rect = image.get_rect(topright=(round(topright[0]), round(topright[1])))
    else:
        rect = image.get_rect(topleft=(round(topleft[0]), round(topleft[1])) if topleft else (0, 0))
    surface.blit(image, rect)
    return rect


def _wrap(text: str, size: int, width: int, bold: bool = False) -> list[str]:
    font = _font(size, bold)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            while font.size(word)[0] > width and len(word) > 1:  # a long path: break it anywhere
                cut = max(1, next((i for i in range(len(word), 0, -1) if font.size(word[:i])[0] <= width), 1))
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            trial = f"{line} {word}".strip()
            if font.size(trial)[0] <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _heat_colour(level: float) -> RGB:
    """Cold blue for a small share of the best move's, through green and yellow, to red for the best."""
    stops = (PALETTE.heat_cold, PALETTE.heat_warm, PALETTE.heat_hot, PALETTE.heat_max)
    level = min(max(level, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(level), len(stops) - 2)
    t = level - i
    return tuple(round(a + (b - a) * t) for a, b in zip(stops[i], stops[i + 1], strict=True))  # type: ignore[return-value]


def _draw_board(surface: pygame.Surface, geometry: BoardGeometry) -> None:
    """The empty board with its drop shadow (drawn once per geometry, then blitted)."""
    left, top, side, _ = geometry.rect
    surface.blit(_board_layer(geometry), (left - 8, top - 8))


@functools.lru_cache(maxsize=4)
def _board_layer(geometry: BoardGeometry) -> pygame.Surface:
    """The wooden board, lines, star points and coordinates, with a soft shadow, on a transparent surface
    8 pixels larger than the board on every side."""
    left, top, side, _ = geometry.rect
    surface = pygame.Surface((side + 16, side + 16), pygame.SRCALPHA)
    for grow, alpha in ((6, 30), (3, 45), (1, 60)):
        pygame.draw.rect(surface, (0, 0, 0, alpha), (8 - grow + 3, 8 - grow + 5, side + 2 * grow, side + 2 * grow),
                         border_radius=6 + grow)
    surface.blit(_wood(side, side), (8, 8))
    pygame.draw.rect(surface, (172, 128, 60), (8, 8, side, side), width=1, border_radius=2)
    geometry = BoardGeometry(geometry.size, geometry.x0 - left + 8, geometry.y0 - top + 8, geometry.spacing,
                             (8, 8, side, side))
    size, s = geometry.size, geometry.spacing
    x0, y0 = geometry.x0, geometry.y0
    x1, y1 = x0 + (size - 1) * s, y0 + (size - 1) * s
    line = max(1, round(s / 40))
    for i in range(size):
        pygame.draw.line(surface, PALETTE.grid, (round(x0), round(y0 + i * s)), (round(x1), round(y0 + i * s)), line)
        pygame.draw.line(surface, PALETTE.grid, (round(x0 + i * s), round(y0)), (round(x0 + i * s), round(y1)), line)
    if size > 1:
        pygame.draw.rect(surface, PALETTE.grid, (round(x0) - 1, round(y0) - 1, round(x1) - round(x0) + 3,
                                                 round(y1) - round(y0) + 3), width=line + 1)
    hoshi = max(2.5, s * 0.085)
    for point in star_points(size):
        x, y = point_to_pixel(geometry, point)
        pygame.draw.circle(surface, PALETTE.grid, (x, y), hoshi)
    label = int(min(18, max(10, s * 0.30)))
    colour = (92, 64, 32)
    offset = PROPORTIONS.margin * s * 0.52
    for i in range(size):
        letter, number = coords.GTP_COLUMNS[i], str(size - i)
        x, y = x0 + i * s, y0 + i * s
        _text(surface, letter, label, colour, bold=True, center=(x, y0 - offset))
        _text(surface, letter, label, colour, bold=True, center=(x, y1 + offset))
        _text(surface, number, label, colour, bold=True, center=(x0 - offset, y))
        _text(surface, number, label, colour, bold=True, center=(x1 + offset, y))
    return surface


def _draw_stones(surface: pygame.Surface, geometry: BoardGeometry, board: np.ndarray) -> None:
    radius = geometry.stone_radius
    shadow = _shadow(radius)
    points = np.flatnonzero(board).tolist()
    dx, dy = 0.10 * radius, 0.16 * radius
    for point in points:
        x, y = point_to_pixel(geometry, point)
        _blit_center(surface, shadow, x + dx, y + dy)
    for point in points:
        x, y = point_to_pixel(geometry, point)
        _blit_center(surface, _stone(radius, int(board[point])), x, y)


def _draw_last_move(surface: pygame.Surface, geometry: BoardGeometry, position: Position) -> None:
    point = position.last_move
    if point is None or point == position.pass_point or position.board[point] == EMPTY:
        return
    x, y = point_to_pixel(geometry, point)
    radius = geometry.stone_radius
    colour = (250, 250, 250) if position.board[point] == BLACK else (30, 30, 30)
    pygame.draw.circle(surface, colour, (x, y), max(3, radius * 0.36), width=max(2, round(radius / 11)))
    pygame.draw.circle(surface, PALETTE.last_move, (x, y), max(2, radius * 0.14))


def _draw_territory(surface: pygame.Surface, geometry: BoardGeometry, position: Position) -> None:
    owner = territory(position)
    half = max(3, round(geometry.spacing * PROPORTIONS.territory / 2))
    for point in np.flatnonzero(owner).tolist():
        x, y = point_to_pixel(geometry, point)
        rect = pygame.Rect(x - half, y - half, 2 * half, 2 * half)
        if owner[point] == BLACK:
            pygame.draw.rect(surface, (22, 22, 26), rect, border_radius=2)
        else:
            pygame.draw.rect(surface, (250, 250, 246), rect, border_radius=2)
            pygame.draw.rect(surface, (90, 90, 90), rect, width=1, border_radius=2)


def _draw_ownership(surface: pygame.Surface, geometry: BoardGeometry, position: Position, owners: np.ndarray) -> None:
    """A translucent square on each point of the expected owner's colour, its side proportional to |ownership|:
    on empty points and on stones that the other colour is expected to own (probably dead)."""
    layer = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
    p = PROPORTIONS
    for point in np.flatnonzero(np.abs(owners) >= p.ownership_min).tolist():
        owner = BLACK if owners[point] > 0 else WHITE
        if position.board[point] == owner:
            continue  # its own stone: alive, nothing to say
        x, y = point_to_pixel(geometry, point)
        half = max(2, round(geometry.spacing * p.ownership * abs(owners[point]) / 2))
        rect = pygame.Rect(x - half, y - half, 2 * half, 2 * half)
        pygame.draw.rect(layer, (20, 20, 24, 200) if owner == BLACK else (250, 250, 246, 215), rect, border_radius=2)
        if owner == WHITE:
            pygame.draw.rect(layer, (60, 60, 60, 150), rect, width=1, border_radius=2)
    surface.blit(layer, (0, 0))


def _draw_heat(surface: pygame.Surface, geometry: BoardGeometry, position: Position, analysis: Analysis,
               skip: Sequence[int] = ()) -> None:
    """Translucent discs on the empty points, coloured and sized by share (relative to the best move's), with
    the share in percent on those of 1% or more; none on the points in ``skip`` (the ghost stones)."""
    heat = analysis.heat[:-1]
    best = heat.max() if heat.size else 0.0
    if best <= 0:
        return
    s = geometry.spacing
    radius = max(4, round(s * PROPORTIONS.heat))
    layer = pygame.Surface(surface.get_size(), pygame.SRCALPHA)
    labels = []
    for point in np.flatnonzero(heat > 0).tolist():
        if position.board[point] != EMPTY or point in skip:
            continue
        level = math.sqrt(heat[point] / best)
        x, y = point_to_pixel(geometry, point)
        colour = _heat_colour(level)
        pygame.draw.circle(layer, (*colour, round(90 + 130 * level)), (x, y), radius * (0.55 + 0.45 * level))
        if heat[point] >= 0.01:
            labels.append((x, y, heat[point]))
    surface.blit(layer, (0, 0))
    size = int(max(9, s * 0.27))
    percent = "%" if s >= 40 else ""  # told apart from the numbered ghost stones
    for x, y, share in labels:
        _text(surface, f"{round(100 * share)}{percent}", size, (24, 24, 28), bold=True, center=(x, y))


def _ghost_points(position: Position, pv: Sequence[int], most: int = 5) -> list[int]:
    """The start of ``pv`` that can be shown as ghost stones: up to a pass, an occupied point or a repeat."""
    points: list[int] = []
    for point in pv[:most]:
        if point == position.pass_point or position.board[point] != EMPTY or point in points:
            break
        points.append(point)
    return points


def _draw_pv(surface: pygame.Surface, geometry: BoardGeometry, position: Position, pv: Sequence[int]) -> None:
    """The principal variation as numbered translucent stones, the side to move first."""
    radius = geometry.stone_radius
    color = position.to_play
    size = int(max(10, geometry.spacing * 0.40))
    for number, point in enumerate(pv, start=1):
        x, y = point_to_pixel(geometry, point)
        _blit_center(surface, _ghost(radius, color, 175), x, y)
        ink = (250, 250, 250) if color == BLACK else (20, 20, 20)
        _text(surface, str(number), size, ink, bold=True, center=(x, y))
        color = -color


def _draw_panel(surface: pygame.Surface, view: GameView, layout: Layout, mouse: tuple[int, int] | None,
                shown: tuple[Analysis, tuple[int, ...]] | None) -> None:
    left, top, width, height = layout.panel
    pygame.draw.rect(surface, PALETTE.panel, layout.panel)
    pygame.draw.line(surface, PALETTE.panel_line, (left, top), (left, top + height), 1)
    pad = 18
    x = left + pad
    inner = width - 2 * pad
    y = top + 14
    title = _text(surface, "minigo", 26, PALETTE.text, bold=True, topleft=(x, y))
    rules = view.rules
    game = f"{rules.size}\u00d7{rules.size} \u00b7 komi {rules.komi:g}"
    if view.handicap:
        game += f" \u00b7 handicap {view.handicap}"
    if title.width + 12 + _font(14).size(game)[0] <= inner:
        _text(surface, game, 14, PALETTE.dim, topright=(x + inner, y + 9))
    else:  # a narrow panel: the game's rules on a line of their own
        y += 30
        _text(surface, game, 14, PALETTE.dim, topleft=(x, y))
    y += 44
    position = view.position
    for color in (BLACK, WHITE):
        row = pygame.Rect(x - 6, y - 4, inner + 12, 34)
        to_move = position.to_play == color and not view.game_over
        if to_move:
            pygame.draw.rect(surface, PALETTE.button, row, border_radius=6)
            pygame.draw.rect(surface, PALETTE.accent, (row.left, row.top, 4, row.height), border_radius=2)
        _blit_center(surface, _stone(10, color), x + 12, y + 13)
        label = color_name(color).capitalize()
        _text(surface, label, 17, PALETTE.text, bold=True, topleft=(x + 30, y + 3))
        captured = position.captures[0 if color == BLACK else 1]
        captures = _text(surface, f"captures {captured}", 14, PALETTE.dim, topright=(x + inner, y + 6))
        name = full = view.name(color)
        font = _font(15)
        while font.size(name)[0] > captures.left - 10 - (x + 92) and len(name) > 2:
            name = full[:len(name) - 2] + "\u2026"
        _text(surface, name, 15, PALETTE.accent if full == "you" else PALETTE.dim, topleft=(x + 92, y + 5))
        y += 38
    y += 4
    moves_text = f"Move {position.move_number}"
    if not view.at_end:
        moves_text += f" of {view.line[-1].move_number} (browsing)"
    last = position.last_move
    if last is not None:
        mover = "B" if position.to_play == WHITE else "W"
        moves_text += f" \u00b7 last {mover} {coords.to_gtp(last, position.size)}"
    _text(surface, moves_text, 15, PALETTE.text, topleft=(x, y))
    y += 30

    # the bot's estimate
    estimate = view.last_estimate()
    pygame.draw.line(surface, PALETTE.panel_line, (x, y), (x + inner, y))
    y += 10
    if estimate is not None:
        color, probability, _ = estimate
        _text(surface, f"{color_name(color).capitalize()} thinks it wins", 15, PALETTE.text, topleft=(x, y))
        _text(surface, f"{100 * probability:.0f}%", 17, PALETTE.accent, bold=True, topright=(x + inner, y - 1))
        y += 24
        black_share = probability if color == BLACK else 1 - probability
        bar = pygame.Rect(x, y, inner, 12)
        pygame.draw.rect(surface, (236, 236, 230), bar, border_radius=6)
        split = round(bar.width * black_share)
        if split > 0:
            pygame.draw.rect(surface, (18, 18, 22), (bar.left, bar.top, split, bar.height), border_radius=6)
        pygame.draw.rect(surface, PALETTE.panel_line, bar, width=1, border_radius=6)
        y += 22
    else:
        bots = [c for c in (BLACK, WHITE) if not view.is_human(c)]
        note = "No win estimate yet." if any(can_analyse(view.players[c]) for c in bots) else \
            "This player gives no win estimate."
        _text(surface, note, 15, PALETTE.dim, topleft=(x, y))
        y += 26

    # what it thought
    pygame.draw.line(surface, PALETTE.panel_line, (x, y), (x + inner, y))
    y += 10
    title = "Thinking (A): " + ("shown" if view.overlay else "hidden")
    _text(surface, title, 15, PALETTE.text if view.overlay else PALETTE.dim, bold=view.overlay, topleft=(x, y))
    y += 22
    if view.overlay and shown is not None:
        analysis, played = shown
        what = (f"visit share, {analysis.playouts} playouts" if analysis.source == "visits" and analysis.playouts
                else "visit share" if analysis.source == "visits" else "policy prior")
        mover = color_name(analysis.position.to_play)
        _text(surface, f"heat map: {mover}'s {what}", 14, PALETTE.dim, topleft=(x, y))
        y += 20
        size = analysis.position.size
        if played:
            share = analysis.heat[played[0]]
            part = "the visits" if analysis.source == "visits" else "the prior"
            _text(surface, f"it played {coords.to_gtp(played[0], size)}: {100 * share:.0f}% of {part}", 14,
                  PALETTE.text, topleft=(x, y))
            y += 19
        best = "  ".join(f"{coords.to_gtp(p, size)} {100 * share:.0f}%" for p, share in analysis.top(4))
        for line in _wrap("best: " + best, 14, inner):
            _text(surface, line, 14, PALETTE.text, topleft=(x, y))
            y += 19
        if analysis.pv:
            pv = " ".join(coords.to_gtp(p, size) for p in analysis.pv[:10])
            for line in _wrap(f"line: {pv}" + ("  (numbered on the board)" if len(analysis.pv) > len(played) else ""),
                              14, inner):
                _text(surface, line, 14, PALETTE.text, topleft=(x, y))
                y += 19
    if view.ownership_overlay:  # only while shown: most players have no map, and the panel has little room
        owners = view.shown_ownership()
        _text(surface, "Ownership (O): shown", 15, PALETTE.text, bold=True, topleft=(x, y))
        y += 22
        lines = _wrap(ownership_summary(owners, view.rules.komi) if owners is not None else
                      "after the bot's next move", 14, inner)
        for line in lines:
            _text(surface, line, 14, PALETTE.text if owners is not None else PALETTE.dim, topleft=(x, y))
            y += 19
    y += 6

    # result, or status
    pygame.draw.line(surface, PALETTE.panel_line, (x, y), (x + inner, y))
    y += 12
    if view.game_over:
        _text(surface, f"{view.result}", 34, PALETTE.accent, bold=True, topleft=(x, y))
        _text(surface, view.end_reason, 15, PALETTE.dim, topleft=(x + 4, y + 40))
        if view.position.is_game_over:
            black, white = view.position.area()
            komi = view.rules.komi
            _text(surface, f"Black {black}", 16, PALETTE.text, topright=(x + inner, y + 2))
            _text(surface, f"White {white} + {komi:g} = {white + komi:g}", 16, PALETTE.text,
                  topright=(x + inner, y + 22))
            _text(surface, "area: stones + territory", 13, PALETTE.dim, topright=(x + inner, y + 44))
        y += 68
    thinking = view.thinking_text()
    status = thinking or view.status
    if status:
        colour = PALETTE.bad if status.startswith("Illegal") or view.bot_error else \
            PALETTE.accent if thinking else PALETTE.text
        room = (min(button.rect[1] for button in layout.buttons) - 24 - y) // 20
        for line in _wrap(status, 15, inner)[:max(1, min(5, room))]:
            _text(surface, line, 15, colour, topleft=(x, y))
            y += 20

    # buttons, and a line of help above them
    first = min(button.rect[1] for button in layout.buttons)
    help_text = ("Space pause" if view.watching else "click to play") + " \u00b7 \u2190 \u2192 browse"
    _text(surface, help_text, 13, PALETTE.dim, topleft=(x, first - 24))
    for button in layout.buttons:
        enabled, active, label = _button_state(view, button)
        rect = pygame.Rect(button.rect)
        hover = mouse is not None and enabled and rect.collidepoint(mouse)
        fill = PALETTE.button_on if active else PALETTE.button_hover if hover else PALETTE.button
        pygame.draw.rect(surface, fill, rect, border_radius=7)
        ink = PALETTE.text if enabled else PALETTE.button_off_text
        shown = _text(surface, label, 15, ink, bold=True, topleft=(rect.left + 12, rect.centery - 9))
        if shown.right + 8 + _font(13).size(button.key)[0] <= rect.right - 10:  # the key, where it fits
            _text(surface, button.key, 13, ink if active else PALETTE.dim, topright=(rect.right - 10, rect.centery - 8))


def _button_state(view: GameView, button: Button) -> tuple[bool, bool, str]:
    """(enabled, lit, label) of a panel button."""
    human = view.human_to_play()
    if button.action in ("pass", "resign"):
        return human and not view.game_over, False, button.label
    if button.action == "undo":
        return view.cursor > 0 or view.result is not None, False, button.label
    if button.action == "overlay":
        return True, view.overlay, button.label
    if button.action == "ownership":
        return True, view.ownership_overlay, button.label
    if button.action == "pause":
        return view.result is None, view.paused, "Resume" if view.paused else "Pause"
    if button.action == "back":
        return view.cursor > 0, False, button.label
    return True, False, button.label


def draw(surface: pygame.Surface, view: GameView, *, hover: int | None = None,
         mouse: tuple[int, int] | None = None) -> Layout:
    """Draw the whole window for ``view`` on ``surface``; ``hover`` is the point under the mouse. Returns the
    layout used (to map clicks back)."""
    width, height = surface.get_size()
    layout = compute_layout(width, height, view.rules.size, view.watching)
    geometry = layout.board
    surface.fill(PALETTE.background)
    _draw_board(surface, geometry)
    position = view.position
    shown = view.shown_analysis() if view.overlay else None
    owners = view.shown_ownership() if view.ownership_overlay else None
    if view.game_over and position.is_game_over and owners is None:  # two passes: Tromp-Taylor territory
        _draw_territory(surface, geometry, position)
    ghosts: Sequence[int] = ()
    show_hover = hover is not None and view.human_to_play() and view.job is None and \
        0 <= hover < position.pass_point and bool(view.legal_moves()[hover])
    if shown is not None:
        analysis, played = shown
        if tuple(analysis.pv[:len(played)]) == played:
            ghosts = _ghost_points(position, analysis.pv[len(played):])
        _draw_heat(surface, geometry, position, analysis, skip=[*ghosts, hover] if show_hover else ghosts)
    _draw_stones(surface, geometry, position.board)
    if owners is not None:
        _draw_ownership(surface, geometry, position, owners)
    _draw_last_move(surface, geometry, position)
    if ghosts:
        _draw_pv(surface, geometry, position, ghosts)
    if show_hover:
        assert hover is not None
        x, y = point_to_pixel(geometry, hover)
        _blit_center(surface, _ghost(geometry.stone_radius, position.to_play, 120), x, y)
    _draw_panel(surface, view, layout, mouse, shown)
    return layout


# ------------------------------------------------------------------------------------------------ the window

_KEYS = {
    pygame.K_p: "pass", pygame.K_u: "undo", pygame.K_BACKSPACE: "undo", pygame.K_r: "resign", pygame.K_n: "new",
    pygame.K_s: "save", pygame.K_a: "overlay", pygame.K_o: "ownership", pygame.K_LEFT: "back",
    pygame.K_RIGHT: "forward", pygame.K_HOME: "first", pygame.K_END: "last", pygame.K_SPACE: "pause",
}


class App:
    """Events to ``GameView`` actions, and one frame at a time to the screen.

    ``surface``: draw there (tests); by default, on the display surface of the open window.
    """

    def __init__(self, view: GameView, surface: pygame.Surface | None = None) -> None:
        self.view = view
        self.surface = surface
        self.hover: int | None = None
        self.mouse: tuple[int, int] | None = None
        self.running = True
        self.layout: Layout | None = None
        self._drawn: tuple | None = None

    def _target(self) -> pygame.Surface:
        if self.surface is not None:
            return self.surface
        surface = pygame.display.get_surface()
        if surface is None:
            raise DisplayError("no window is open")
        return surface

    def _layout(self) -> Layout:
        width, height = self._target().get_size()
        return compute_layout(width, height, self.view.rules.size, self.view.watching)

    def act(self, action: str) -> None:
        """Run one named action: pass, undo, resign, new, save, overlay, ownership, back, forward, first, last,
        pause."""
        view = self.view
        if action == "pass":
            view.pass_move()
        elif action == "undo":
            view.undo()
        elif action == "resign":
            view.resign()
        elif action == "new":
            view.new_game()
        elif action == "save":
            view.save()
        elif action == "overlay":
            view.toggle_overlay()
        elif action == "ownership":
            view.toggle_ownership()
        elif action == "back":
            view.browse(-1)
        elif action == "forward":
            view.browse(1)
        elif action == "first":
            view.browse(-len(view.line))
        elif action == "last":
            view.browse(len(view.line))
        elif action == "pause":
            if view.watching:
                view.toggle_pause()

    def handle(self, event: pygame.event.Event) -> None:
        """One pygame event: quit, mouse motion and clicks, keys."""
        if event.type in (pygame.QUIT, pygame.WINDOWCLOSE):
            self.running = False
        elif event.type == pygame.MOUSEMOTION:
            self.mouse = tuple(event.pos)
            self.hover = pixel_to_point(self._layout().board, *event.pos)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            layout = self._layout()
            self.mouse = tuple(event.pos)
            button = layout.button_at(*event.pos)
            if button is not None:
                enabled, _, _ = _button_state(self.view, button)
                if enabled:
                    self.act(button.action)
                return
            point = pixel_to_point(layout.board, *event.pos)
            if point is not None:
                self.view.play_point(point)
        elif event.type == pygame.KEYDOWN:
            action = _KEYS.get(event.key)
            if action is not None:
                self.act(action)

    def step(self) -> bool:
        """One frame: handle queued events, let the bot move, draw. Returns False once the window is closed."""
        if pygame.display.get_init():
            for event in pygame.event.get():
                self.handle(event)
        if not self.running:
            self.close()
            return False
        self.view.poll()
        target = self._target()
        signature = self._signature(target)
        if signature != self._drawn:
            self.layout = draw(target, self.view, hover=self.hover, mouse=self.mouse)
            self._drawn = signature
            if self.surface is None:
                pygame.display.flip()
        return True

    def _signature(self, target: pygame.Surface) -> tuple:
        """Everything the picture depends on: an idle window is not redrawn."""
        view = self.view
        button = self._layout().button_at(*self.mouse) if self.mouse is not None else None
        return (target.get_size(), id(view.position), view.cursor, len(view.line), view.status, view.thinking_text(),
                view.overlay, view.paused, view.result, view.bot_error, view.job is None, len(view._analyses),
                view.ownership_overlay, len(view._ownerships), self.hover,
                button.action if button is not None else None, id(view.players[BLACK]))

    def close(self) -> None:
        """Stop the bot (without waiting for its search) and close the players."""
        self.running = False
        self.view.close()

    def run(self, fps: int = 30) -> None:
        """Frames until the window is closed."""
        clock = pygame.time.Clock()
        try:
            while self.step():
                clock.tick(fps)
        finally:
            self.close()


def open_window(size: tuple[int, int] = PROPORTIONS.window, title: str = "minigo") -> pygame.Surface:
    """Open the resizable window; ``DisplayError`` (one line) when there is no display to open it on."""
    try:
        pygame.display.init()
        pygame.font.init()
        surface = pygame.display.set_mode(size, pygame.RESIZABLE)
    except pygame.error as exc:
        raise DisplayError(f"{NO_DISPLAY} ({exc})") from None
    pygame.display.set_caption(title)
    return surface


def run_window(view: GameView, size: tuple[int, int] = PROPORTIONS.window) -> None:
    """Open the window and play until it is closed; the game is saved to the games folder on the way out."""
    try:
        open_window(size, title=f"minigo \u2014 {view.name(BLACK)} vs {view.name(WHITE)}")
        App(view).run()
    finally:
        view.close()
        pygame.display.quit()


def screenshot(view: GameView, path: str | os.PathLike[str], size: tuple[int, int] = PROPORTIONS.window, *,
               hover: int | None = None) -> pygame.Surface:
    """Draw ``view`` on an off-screen surface of ``size`` and save it as PNG; returns the surface."""
    if not pygame.font.get_init():
        pygame.font.init()
    surface = pygame.Surface(size)
    draw(surface, view, hover=hover)
    pygame.image.save(surface, os.fspath(path))
    return surface
