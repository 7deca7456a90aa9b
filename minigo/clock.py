"""Thinking time from a game clock: how long one move may take, given what GTP's ``time_settings`` and
``time_left`` say.

GTP's clock is Canadian byo-yomi: ``MAIN`` seconds of main time, then periods of ``BYO`` seconds for ``STONES``
moves each. ``time_left COLOR T N`` reports T seconds left, in main time when N is 0, else for the N stones left
in the current period. ``time_settings 0 B 0`` with B > 0 means no limit (GTP v2, section 6.2).

:func:`move_budget` spreads main time over the moves the bot still expects to play (about a 9x9 game's worth
at the start, never fewer than ``MIN_MOVES_LEFT``) plus a share of the byo-yomi period, and in byo-yomi gives
each stone an equal part of the period; a margin is always kept back for the controller's and the network's
lag. Leela Zero and KataGo budget in the same spirit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GameClock", "move_budget"]

MIN_MOVES_LEFT = 10
"""Main time is never spread over fewer moves: a game can last longer than expected."""
SAFETY = 0.9
"""Share of the computed time actually used."""
LAG = 0.2
"""Seconds kept back on every move for the transfer and the controller."""
MIN_BUDGET = 0.05
"""Even with no time left, one batch of simulations runs."""


def move_budget(main_left: float, byo_time: float, byo_stones: int, stones_left: int, move_number: int,
                size: int) -> float:
    """Seconds for the next move. ``main_left``: main time left (when ``stones_left`` is 0) or the time left in the
    current byo-yomi period (when it is above 0); ``byo_time`` / ``byo_stones``: the period, 0 / 0 without one."""
    if stones_left > 0:  # in byo-yomi: the period's time, shared by its stones
        share = main_left / stones_left
    else:
        expected = max(MIN_MOVES_LEFT, (size * size * 0.8 - move_number) / 2)  # our moves left, roughly
        share = main_left / expected
        if byo_stones > 0:
            share += byo_time / byo_stones  # the period is there once main time runs out: lean on it a little
    return max(MIN_BUDGET, share * SAFETY - LAG)


@dataclass
class GameClock:
    """The clock of one game as the GTP engine hears of it, for both colours."""

    main: float = 0.0
    """Main time, seconds."""
    byo_time: float = 0.0
    """Byo-yomi period, seconds (with ``byo_stones`` = 0 and ``byo_time`` > 0: no time limit)."""
    byo_stones: int = 0
    """Moves per byo-yomi period."""

    def __post_init__(self) -> None:
        self.left: dict[int, tuple[float, int]] = {}
        """Per colour: (seconds, stones) from the last ``time_left``, or counted down from the settings."""

    @property
    def unlimited(self) -> bool:
        return self.byo_stones == 0 and self.byo_time > 0 or (self.main == 0 and self.byo_time == 0)

    def set_left(self, color: int, seconds: float, stones: int) -> None:
        self.left[color] = (seconds, stones)

    def budget(self, color: int, move_number: int, size: int) -> float | None:
        """Seconds ``color``'s next move may take; None when the game has no time limit."""
        if self.unlimited:
            return None
        seconds, stones = self.left.get(color, (self.main, 0) if self.main > 0 else (self.byo_time, self.byo_stones))
        return move_budget(seconds, self.byo_time, self.byo_stones, stones, move_number, size)

    def spent(self, color: int, seconds: float) -> None:
        """Count ``seconds`` of ``color``'s thinking down from its clock (until the controller's next
        ``time_left`` says where it stands): main time first, then the byo-yomi period."""
        if self.unlimited:
            return
        left, stones = self.left.get(color, (self.main, 0) if self.main > 0 else (self.byo_time, self.byo_stones))
        left -= seconds
        if stones > 0:
            stones -= 1
            if stones == 0 or left <= 0:  # a new period starts
                left, stones = self.byo_time, self.byo_stones
        elif left <= 0 and self.byo_stones > 0:
            left, stones = self.byo_time, self.byo_stones
        self.left[color] = (max(left, 0.0), stones)
