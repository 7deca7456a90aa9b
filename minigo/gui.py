"""The pygame window: play against any Player, watch two players, review an SGF, and see what the bot thought.

This is the only module of the project that imports pygame: ``App`` turns events into ``GameView`` actions and
``draw`` paints a frame (wooden board, stones, overlays, side panel); ``App.step()`` runs one frame: queued
events, ``poll``, draw. The layers below it need no pygame and are tested on their own:

- ``minigo.gui_geometry``: where things are in pixels (``compute_layout``, ``point_to_pixel``,
  ``pixel_to_point``, the buttons);
- ``minigo.gui_analysis``: what the bot thought (``Analysis``), who it expects to own each point, and the
  end-of-game count with the dead taken off (``FinalCount``), read off any player;
- ``minigo.gui_view``: ``GameView``, the game as the window sees it, with the bot's search in a background thread,
  and the window's environment (``display_problem``, the games folder);
- ``minigo.go``: the rules' facts the window uses (star and handicap points, ``Position.territory()``);
- ``minigo.scoring``: the end-of-game count, with the stones a bot's ownership map or rollout playouts call dead
  taken off (the order ``minigo gtp``'s ``final_score`` uses; the record keeps the Tromp-Taylor result).

It is over 600 lines on purpose: all of pygame (sprites, board, panel, event loop) stays in this one file, the
only one to read or replace if the toolkit changes.

Keys: click to play, P pass, U (or Backspace) undo, R resign, N new game, S save SGF, A show what the bot
thought, O show who it expects to own each point, Left/Right/Home/End browse the game, Space pause when watching
two bots. Who owns what (O) is drawn as KaTrain draws territory.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402 - after the environment variable that silences its banner

from minigo import coords  # noqa: E402
from minigo.go import BLACK, EMPTY, WHITE, Position, color_name, star_points  # noqa: E402
from minigo.gui_analysis import Analysis, can_analyse, ownership_summary  # noqa: E402
from minigo.gui_geometry import (  # noqa: E402
    PROPORTIONS,
    BoardGeometry,
    Button,
    Layout,
    compute_layout,
    pixel_to_point,
    point_to_pixel,
)
from minigo.gui_view import NO_DISPLAY, DisplayError, GameView  # noqa: E402

__all__ = ["Palette", "PALETTE", "App", "draw", "open_window", "run_window", "screenshot"]


# ------------------------------------------------------------------------------------------------ colours

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


def _draw_stones(surface: pygame.Surface, geometry: BoardGeometry, board: np.ndarray,
                 dead: Collection[int] = ()) -> None:
    """The stones with their shadows; those on the points in ``dead`` faded, without a shadow (taken off by the
    end-of-game count, but still there by the rules)."""
    radius = geometry.stone_radius
    shadow = _shadow(radius)
    points = np.flatnonzero(board).tolist()
    dx, dy = 0.10 * radius, 0.16 * radius
    for point in points:
        if point not in dead:
            x, y = point_to_pixel(geometry, point)
            _blit_center(surface, shadow, x + dx, y + dy)
    for point in points:
        x, y = point_to_pixel(geometry, point)
        color = int(board[point])
        _blit_center(surface, _ghost(radius, color, 140) if point in dead else _stone(radius, color), x, y)


def _draw_last_move(surface: pygame.Surface, geometry: BoardGeometry, position: Position) -> None:
    point = position.last_move
    if point is None or point == position.pass_point or position.board[point] == EMPTY:
        return
    x, y = point_to_pixel(geometry, point)
    radius = geometry.stone_radius
    colour = (250, 250, 250) if position.board[point] == BLACK else (30, 30, 30)
    pygame.draw.circle(surface, colour, (x, y), max(3, radius * 0.36), width=max(2, round(radius / 11)))
    pygame.draw.circle(surface, PALETTE.last_move, (x, y), max(2, radius * 0.14))


def _draw_territory(surface: pygame.Surface, geometry: BoardGeometry, owner: np.ndarray) -> None:
    """A small square of the owner's colour on each point of ``owner`` (``(size*size,)``, BLACK, WHITE or 0):
    the territory as it counts (``Position.territory()``, of the board with the dead taken off at the end)."""
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


def _draw_pv(surface: pygame.Surface, geometry: BoardGeometry, position: Position, pv: Sequence[int],
             heat: np.ndarray | None = None) -> None:
    """The principal variation as numbered translucent stones, the side to move first. ``heat``: the heat map
    under them (``_draw_heat`` leaves their points out); a ghost on a point of 1% or more says its share in small
    type below its number, where the board has room (a spacing of 40 pixels), so that neither hides the other."""
    radius = geometry.stone_radius
    color = position.to_play
    s = geometry.spacing
    size = int(max(10, s * 0.40))
    share_size = int(max(9, s * 0.22))
    for number, point in enumerate(pv, start=1):
        x, y = point_to_pixel(geometry, point)
        _blit_center(surface, _ghost(radius, color, 175), x, y)
        ink = (250, 250, 250) if color == BLACK else (20, 20, 20)
        share = float(heat[point]) if heat is not None and s >= 40 else 0.0
        if share >= 0.01:
            _text(surface, str(number), size, ink, bold=True, center=(x, y - 0.12 * s))
            _text(surface, f"{round(100 * share)}%", share_size, ink, bold=True, center=(x, y + 0.22 * s))
        else:
            _text(surface, str(number), size, ink, bold=True, center=(x, y))
        color = -color


def _analysis_on_board(view: GameView, shown: tuple[Analysis, tuple[int, ...]]) -> bool:
    """Whether the heat map and the line belong on the board: not once the game is over, nor when the bot's move
    was a pass (its share of a policy's prior is often 0%, and the board's candidates are what it did not play)."""
    analysis, played = shown
    return not view.game_over and not (played and played[0] == analysis.position.pass_point)


def _draw_panel(surface: pygame.Surface, view: GameView, layout: Layout, mouse: tuple[int, int] | None,
                shown: tuple[Analysis, tuple[int, ...]] | None) -> None:
    """The side panel, top to bottom: the title and the rules, the players, the move, the bot's win estimate,
    what it thought (A) and who owns what (O), the result or the status line, and the buttons at the bottom.
    Each section is drawn at ``(x, y)`` in a column ``inner`` pixels wide and returns the ``y`` below it."""
    left, top, width, height = layout.panel
    pygame.draw.rect(surface, PALETTE.panel, layout.panel)
    pygame.draw.line(surface, PALETTE.panel_line, (left, top), (left, top + height), 1)
    pad = 18
    x = left + pad
    inner = width - 2 * pad
    y = _panel_title(surface, view, x, top + 14, inner)
    y = _panel_players(surface, view, x, y, inner)
    y = _panel_move(surface, view, x, y)
    y = _panel_estimate(surface, view, x, y, inner)
    y = _panel_thinking(surface, view, x, y, inner, shown)
    if view.ownership_overlay:  # only while shown: most players have no map, and the panel has little room
        y = _panel_ownership(surface, view, x, y, inner)
    y = _panel_result(surface, view, x, y + 6, inner)
    _panel_status(surface, view, layout, x, y, inner)
    _panel_buttons(surface, view, layout, x, mouse)


def _panel_title(surface: pygame.Surface, view: GameView, x: int, y: int, inner: int) -> int:
    """``minigo``, and the game's size, komi and handicap beside it (below it in a narrow panel)."""
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
    return y + 44


def _panel_players(surface: pygame.Surface, view: GameView, x: int, y: int, inner: int) -> int:
    """A row per colour: its stone, its name (shortened to fit), its captures; the side to move lit."""
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
    return y + 4


def _panel_move(surface: pygame.Surface, view: GameView, x: int, y: int) -> int:
    """``Move 12 of 30 (browsing) · last W D4``."""
    position = view.position
    moves_text = f"Move {position.move_number}"
    if not view.at_end:
        moves_text += f" of {view.line[-1].move_number} (browsing)"
    last = position.last_move
    if last is not None:
        mover = "B" if position.to_play == WHITE else "W"
        moves_text += f" \u00b7 last {mover} {coords.to_gtp(last, position.size)}"
    _text(surface, moves_text, 15, PALETTE.text, topleft=(x, y))
    return y + 30


def _panel_estimate(surface: pygame.Surface, view: GameView, x: int, y: int, inner: int) -> int:
    """The latest bot's win probability and a bar split at Black's share, or why there is none."""
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
    return y


def _panel_thinking(surface: pygame.Surface, view: GameView, x: int, y: int, inner: int,
                    shown: tuple[Analysis, tuple[int, ...]] | None) -> int:
    """Whether the overlay is on (A) and, when it shows an analysis, what the heat map is, the share of the move
    played, the best moves and the line."""
    pygame.draw.line(surface, PALETTE.panel_line, (x, y), (x + inner, y))
    y += 10
    title = "Thinking (A): " + ("shown" if view.overlay else "hidden")
    _text(surface, title, 15, PALETTE.text if view.overlay else PALETTE.dim, bold=view.overlay, topleft=(x, y))
    y += 22
    if not view.overlay or shown is None:
        return y
    if not _analysis_on_board(view, shown):  # nothing on the board, and no share of a move that was not played
        note = "Game over: browse back (\u2190) to see it." if view.game_over else \
            f"{color_name(shown[0].position.to_play).capitalize()} passed: no heat map for a pass."
        for line in _wrap(note, 14, inner):
            _text(surface, line, 14, PALETTE.dim, topleft=(x, y))
            y += 19
        return y
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
    return y


def _panel_ownership(surface: pygame.Surface, view: GameView, x: int, y: int, inner: int) -> int:
    """The area the shown ownership map adds up to (O), or when it will come."""
    owners = view.shown_ownership()
    _text(surface, "Ownership (O): shown", 15, PALETTE.text, bold=True, topleft=(x, y))
    y += 22
    lines = _wrap(ownership_summary(owners, view.rules.komi) if owners is not None else
                  "after the bot's next move", 14, inner)
    for line in lines:
        _text(surface, line, 14, PALETTE.text if owners is not None else PALETTE.dim, topleft=(x, y))
        y += 19
    return y


def _panel_result(surface: pygame.Surface, view: GameView, x: int, y: int, inner: int) -> int:
    """Once the game is over: the result, why it ended, and after two passes each side's area. When a bot's map or
    playouts find dead stones, the result shown is the count with them taken off, and two lines say which result
    is which: that count, and the rules' (Tromp-Taylor, of every stone on the board), which the record keeps."""
    pygame.draw.line(surface, PALETTE.panel_line, (x, y), (x + inner, y))
    y += 12
    if view.game_over:
        count = view.final_count()
        counted = count if count is not None and count.dead else None
        headline = counted.result if counted else f"{view.result}"
        areas: list[str] = []
        if view.position.is_game_over:
            black, white = (counted.counted if counted else view.position).area()
            komi = view.rules.komi
            areas = [f"Black {black}", f"White {white} + {komi:g} = {white + komi:g}"]
            for row, line in enumerate(areas):
                _text(surface, line, 16, PALETTE.text, topright=(x + inner, y + 2 + 20 * row))
            _text(surface, "area: stones + territory", 13, PALETTE.dim, topright=(x + inner, y + 44))
        room = inner - max((_font(16).size(line)[0] for line in areas), default=0) - 12
        size = next((size for size in (34, 30, 26) if _font(size, True).size(headline)[0] <= room), 22)
        _text(surface, headline, size, PALETTE.accent, bold=True, topleft=(x, y + (34 - size) // 2))
        _text(surface, view.end_reason, 15, PALETTE.dim, topleft=(x + 4, y + 40))
        y += 68
        if counted is not None:
            stones = f"{counted.dead_stones} stone{'s' if counted.dead_stones != 1 else ''}"
            lines = [(f"count, dead stones removed: {counted.result}", PALETTE.text),
                     (f"rules (Tromp-Taylor, as recorded): {view.result}" if view.result == view.position.result()
                      else f"rules (Tromp-Taylor): {view.position.result()}; recorded: {view.result}", PALETTE.text),
                     (f"{counted.judged_by} judged {stones} dead", PALETTE.dim)]
        elif count is not None and count.source != "board":
            lines = [(f"nothing removed as dead (by {count.judged_by})", PALETTE.dim)]
        else:
            lines = []
        for text, colour in lines:
            for line in _wrap(text, 14, inner):
                _text(surface, line, 14, colour, topleft=(x, y))
                y += 19
        y += 4 if lines else 0
    return y


def _panel_status(surface: pygame.Surface, view: GameView, layout: Layout, x: int, y: int, inner: int) -> None:
    """The bot's thinking line, else the status line, in as many lines as fit above the buttons (1 to 5)."""
    thinking = view.thinking_text()
    status = thinking or view.status
    if status:
        colour = PALETTE.bad if status.startswith("Illegal") or view.bot_error else \
            PALETTE.accent if thinking else PALETTE.text
        room = (min(button.rect[1] for button in layout.buttons) - 24 - y) // 20
        for line in _wrap(status, 15, inner)[:max(1, min(5, room))]:
            _text(surface, line, 15, colour, topleft=(x, y))
            y += 20


def _panel_buttons(surface: pygame.Surface, view: GameView, layout: Layout, x: int,
                   mouse: tuple[int, int] | None) -> None:
    """The buttons, lit, hovered or greyed out, each with its key where it fits, and a line of help above."""
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
        drawn = _text(surface, label, 15, ink, bold=True, topleft=(rect.left + 12, rect.centery - 9))
        if drawn.right + 8 + _font(13).size(button.key)[0] <= rect.right - 10:  # the key, where it fits
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
    # two passes: the territory as it counts, the dead (by a bot's map or playouts; none without) taken off
    ended = view.game_over and position.is_game_over and owners is None
    count = view.final_count() if ended else None
    dead = {point for chain in count.dead for point in chain} if count is not None else set()
    ghosts: Sequence[int] = ()
    show_hover = hover is not None and view.human_to_play() and view.job is None and \
        0 <= hover < position.pass_point and bool(view.legal_moves()[hover])
    on_board = shown if shown is not None and _analysis_on_board(view, shown) else None
    if on_board is not None:
        analysis, played = on_board
        if tuple(analysis.pv[:len(played)]) == played:
            ghosts = _ghost_points(position, analysis.pv[len(played):])
        _draw_heat(surface, geometry, position, analysis, skip=[*ghosts, hover] if show_hover else ghosts)
    _draw_stones(surface, geometry, position.board, dead)
    if ended:  # on the empty points and on the dead stones, faded
        _draw_territory(surface, geometry, (count.counted if count is not None else position).territory())
    if owners is not None:
        _draw_ownership(surface, geometry, position, owners)
    _draw_last_move(surface, geometry, position)
    if ghosts:
        assert on_board is not None
        _draw_pv(surface, geometry, position, ghosts, on_board[0].heat)
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
        button = self._layout().button_at(*self.mouse) if self.mouse is not None else None
        return (target.get_size(), self.view.redraw_key(), self.hover, button.action if button is not None else None)

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
