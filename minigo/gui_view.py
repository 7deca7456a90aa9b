"""The game as the window sees it, without pygame: ``GameView``, the bot's background search, and the window's
environment (is there a display, where are games saved).

``GameView`` holds the line of positions and a cursor into it, which seats are human, the status line, the
overlay toggles, the result, and the bot's thread. Its actions (``play_point``, ``pass_move``, ``undo``,
``resign``, ``new_game``, ``save``, ``toggle_overlay``, ``toggle_ownership``, ``browse``...) are what clicks and
keys in ``minigo.gui`` call; ``poll()`` collects the bot's move and starts the next search; ``final_count()``
is the count of a game ended by two passes, the dead taken off. Tests drive it directly, without a window.

The bot always thinks in a daemon thread (``_BotJob``), so the window stays responsive. A search whose answer is
no longer wanted (after an undo, a new game, or closing) is cancelled: its answer is thrown away, and closing
never waits more than a moment for it. What the bot thought is read off it by ``minigo.gui_analysis``.

The module is over 600 lines (about 680) because ``GameView`` is one state machine (every action moves the same
line, cursor, result and bot job) that reads best in one place.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from minigo import coords, sgf
from minigo.go import BLACK, WHITE, IllegalMove, Position, Rules, color_name, handicap_points
from minigo.gui_analysis import (
    Analysis,
    FinalCount,
    analyse,
    analysis_from_evaluator,
    can_analyse,
    count_game,
    ownership_of,
)
from minigo.players import RESIGN, Player
from minigo.record import GameRecord, Move

__all__ = ["NO_DISPLAY", "DisplayError", "display_problem", "user_games_dir", "GameView"]


# ------------------------------------------------------------------------------------------------ environment

NO_DISPLAY = "no display: set DISPLAY (or run `minigo gtp --player SPEC` inside Sabaki or GoGui)"


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
        self._count: FinalCount | None = None  # the end-of-game count of the last finished line, kept
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
        count = self.final_count()
        said = result
        if count is not None and count.dead:
            said = f"{count.result} counted, {result} by the rules"
        self.status = f"Game over ({reason}): {said}." + (f" Saved {_shown_path(where)}" if where else "")

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

    def final_count(self) -> FinalCount | None:
        """The count of a game that ended on the board (two passes, or the move cap) while its end is shown: the
        dead stones taken off as ``minigo gtp``'s ``final_score`` takes them (``gui_analysis.count_game``: a bot's
        ownership map, else its rollout policy's playouts, else nothing dead). None otherwise, and while a
        cancelled search still runs (the player's network is busy); made once per final position, then kept."""
        position = self.position
        if not (self.game_over and position.is_game_over):
            return None
        if self._count is not None and self._count.position is position:
            return self._count
        if self.job is not None or self._stale:
            return None
        self._count = count_game(position, self.players)
        return self._count

    def redraw_key(self) -> tuple:
        """Everything about the game that its picture depends on, besides the window's size and the mouse: while
        it stays equal, an idle window need not be drawn again."""
        return (id(self.position), self.cursor, len(self.line), self.status, self.thinking_text(), self.overlay,
                self.paused, self.result, self.bot_error, self.job is None, len(self._analyses),
                self.ownership_overlay, len(self._ownerships), id(self.players[BLACK]), bool(self._stale))

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
