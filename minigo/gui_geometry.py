"""Where things are in the window, in pixels: the board's geometry, the side panel and its buttons. No pygame.

``compute_layout(width, height, size, watching)`` places a square board on the left, as large as fits, and the
panel on the right with its buttons at the bottom; ``point_to_pixel`` and ``pixel_to_point`` convert between a
point (flat index, row 0 at the top, as ``minigo.go`` defines it) and the pixel centre of its intersection, with
``(0, 0)`` the window's top-left corner and y growing downwards. ``minigo.gui`` draws and clicks with these.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from minigo import coords

__all__ = [
    "Proportions", "PROPORTIONS", "BoardGeometry", "Button", "BUTTONS", "WATCH_BUTTONS", "Layout", "compute_layout",
    "point_to_pixel", "pixel_to_point",
]


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


# ------------------------------------------------------------------------------------------------ the board

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
        """In pixels, at least 3."""
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


# ------------------------------------------------------------------------------------------------ the window

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
"""(action, label, key) of the buttons while a person plays, in reading order."""
WATCH_BUTTONS = (("pause", "Pause", "Space"),) + BUTTONS[1:2] + (("back", "Back", "\u2190"),) + BUTTONS[3:]
"""Likewise while two bots play: nobody to pass or resign for."""


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
