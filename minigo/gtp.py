"""A GTP v2 engine around any Player: read commands on one stream, answer on another.

``serve(player, rules, stdin, stdout)`` runs the protocol loop until ``quit`` or end of input; ``minigo gtp
--player SPEC`` (``selfplay/cli.py``) wires it to the process's stdin and stdout. The client side, which
drives GNU Go, lives in ``minigo.gtp_client``.

The protocol (GTP v2; GNU Go is the reference):

- every command gets ``=[id] text`` or ``?[id] reason``, then an empty line, and the output is flushed;
- the optional id is the number the command started with; comments (``#`` to the end of the line) and
  blank lines get no answer; tabs become spaces; other control characters are dropped;
- bad input (unknown command, bad colour or vertex, illegal move, ``komi nan``, ``boardsize 0``) gets
  ``? reason`` and the engine carries on; an exception inside a handler gets ``? internal error: ...`` and
  its traceback goes to the log (stderr), never to the answer stream.

The game is a stack of immutable Positions: ``play`` and ``genmove`` push, ``undo`` pops. Colours need not
alternate; ``genmove COLOR`` asks the player for ``COLOR`` whoever is to move, and plays the answer on the
board unless it is ``resign``. ``final_score`` and ``final_status_list`` count the game as GNU Go does, dead
stones removed (``minigo.scoring``), as far as the player can tell: its value net's ownership map, else its
rollout policy's playouts; a player with neither counts the board as it stands. ``showboard`` and the game
record keep the rules' Tromp-Taylor result of the board as it stands.

Analysis, for players that have it (``minigo.mcts.MCTSPlayer``; others answer ``? not available for this
player``): ``gogui-analyze_commands`` lists GoGui gfx commands, ``minigo-policy_heatmap [COLOR]`` (the priors)
``minigo-visits_heatmap [COLOR]`` (one search's visit counts, value and principal variation) and
``minigo-ownership [COLOR]`` (the value net's map of who owns each point at the end, when it has that head), and
``lz-analyze [COLOR] [INTERVAL]`` writes Leela Zero's ``info move D4 visits 120 winrate 5400 prior 1200 order 0
pv D4 E5 ...`` lines while one search runs (every INTERVAL centiseconds, flushed as they come), so that Sabaki
and Lizzie show what the bot thinks. As in Leela Zero, in a session (``run``) the analysis goes on until the next
input line arrives (or ``ANALYSIS_PLAYOUTS`` simulations), which ends the answer; ``handle`` alone, with no
input to watch, searches the player's budget per move.

(Over 600 lines because it is one command table: each GTP command is a short method of ``Engine``, and the
analysis commands share its game stack.)
"""

from __future__ import annotations

import logging
import math
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

import numpy as np

from minigo import __version__, coords, sgf
from minigo.clock import GameClock
from minigo.go import BLACK, WHITE, IllegalMove, Position, Rules, color_name, format_result
from minigo.players import RESIGN, Player
from minigo.record import GameRecord, Move
from minigo.scoring import final_owners, score_without_dead, status

if TYPE_CHECKING:
    from minigo.mcts import SearchResult

__all__ = ["ENGINE_NAME", "Engine", "GTPFailure", "serve"]

logger = logging.getLogger(__name__)

ENGINE_NAME = "minigo"
PROTOCOL_VERSION = "2"
ANALYSIS_PLAYOUTS = 200_000
"""The most simulations one ``lz-analyze`` runs in a session (minutes of search; bounds the tree's memory)."""

# ASCII control characters other than HT (tabs become spaces) and LF (the line ends there anyway).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_COLORS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}


class GTPFailure(Exception):
    """A command that cannot be carried out; the message is the text of the ``?`` answer."""


def clean_line(raw: str) -> str:
    """A raw input line as GTP says to read it: control characters dropped, tabs as spaces, the comment
    removed, surrounding whitespace stripped. Empty means: no command, no answer."""
    line = _CONTROL.sub("", raw.replace("\n", "")).replace("\t", " ")
    return line.split("#", 1)[0].strip()


def format_answer(ok: bool, command_id: str, text: str) -> str:
    """``=id text`` or ``?id text`` and the empty line that ends every answer.

    An empty line inside the text would end the answer early, so blank lines are dropped, except that a
    text may start with a line break (``showboard`` puts the board below the ``=``, as GNU Go does).
    """
    first, *rest = text.split("\n")
    body = "".join("\n" + line.rstrip() for line in rest if line.strip())
    return f"{'=' if ok else '?'}{command_id} {first.rstrip()}{body}\n\n"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines)


class Engine:
    """The engine side of GTP for one Player: the game so far and a handler per command.

    ``handle(line)`` answers one input line (or returns None for a comment or a blank line); ``run(stdin,
    stdout)`` loops over a stream. The player is reset to ``rules`` on construction, so a player that
    cannot start (GNU Go missing) fails here, before any command is read.
    """

    def __init__(self, player: Player, rules: Rules, name: str = ENGINE_NAME) -> None:
        self.player = player
        self.name = name
        self.rules = rules
        self.line: list[Position] = [Position.empty(rules=rules)]
        """The game: the initial position first, the current one last; each is the ``parent`` of the next."""
        self.players: dict[int, str] = {}
        """The name of the player that ``genmove`` answered for, per colour (for printsgf's PB and PW)."""
        self.resigned: int | None = None
        """The colour whose ``genmove`` answered ``resign`` on the current position, else None."""
        self.clock: GameClock | None = None
        """The game clock from ``time_settings`` / ``time_left``; a player with a ``time_budget`` attribute (an
        MCTS player whose budget is time, not playouts) is given each move's share of it (``minigo.clock``)."""
        self.done = False
        """True once ``quit`` has been answered."""
        self.commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": self._protocol_version,
            "name": self._name,
            "version": self._version,
            "known_command": self._known_command,
            "list_commands": self._list_commands,
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "kgs-genmove_cleanup": self._genmove,  # Tromp-Taylor: every dead stone is captured anyway
            "undo": self._undo,
            "showboard": self._showboard,
            "final_score": self._final_score,
            "final_status_list": self._final_status_list,
            "loadsgf": self._loadsgf,
            "printsgf": self._printsgf,
            "time_settings": self._time_settings,
            "time_left": self._time_left,
            "is_legal": self._is_legal,
            "all_legal": self._all_legal,
            "list_stones": self._list_stones,
            "captures": self._captures,
            "gogui-analyze_commands": self._analyze_commands,
            "minigo-policy_heatmap": self._policy_heatmap,
            "minigo-visits_heatmap": self._visits_heatmap,
            "minigo-ownership": self._ownership_map,
            "lz-analyze": self._lz_analyze,
        }
        self.stream: TextIO | None = None
        """Where a streaming answer (``lz-analyze``) writes as it goes; ``run`` sets it to its output."""
        self._incoming: queue.Queue[str | None] | None = None
        """Input lines not yet handled (None: end of input); ``run`` fills it from a reader thread, so that an
        analysis can stop when the next command arrives."""
        self._answer_id = ""
        self._streamed = False
        player.reset(rules)

    @property
    def position(self) -> Position:
        """The current position."""
        return self.line[-1]

    # -- the loop ------------------------------------------------------------------------------------

    def run(self, stdin: TextIO, stdout: TextIO) -> None:
        """Answer commands from ``stdin`` on ``stdout`` until ``quit`` or end of input, then close the player."""
        self.stream = stdout
        incoming: queue.Queue[str | None] = queue.Queue()
        self._incoming = incoming

        def read() -> None:
            try:
                for raw in iter(stdin.readline, ""):
                    incoming.put(raw)
            finally:
                incoming.put(None)

        threading.Thread(target=read, name="gtp-input", daemon=True).start()
        try:
            for raw in iter(incoming.get, None):
                answer = self.handle(raw)
                if answer is not None:
                    stdout.write(answer)
                    stdout.flush()
                if self.done:
                    break
        except BrokenPipeError:
            logger.warning("the controller closed our output; stopping")
        finally:
            self.close()

    def close(self) -> None:
        """Close the player; an error there is logged, not raised, since the session is over anyway."""
        try:
            self.player.close()
        except Exception:
            logger.exception("closing player %s failed", getattr(self.player, "name", self.player))

    def handle(self, raw: str) -> str | None:
        """The answer to one input line, or None for a blank or comment line."""
        line = clean_line(raw)
        if not line:
            return None
        words = line.split()
        command_id = ""
        if words[0].isdigit():
            command_id, words = words[0], words[1:]
        if not words:
            return format_answer(False, command_id, "missing command after the id")
        name, args = words[0].lower(), words[1:]
        handler = self.commands.get(name)
        if handler is None:
            return format_answer(False, command_id, "unknown command")
        self._answer_id, self._streamed = command_id, False
        try:
            text = handler(args)
            return "\n\n" if self._streamed else format_answer(True, command_id, text)
        except GTPFailure as exc:
            if self._streamed:
                logger.warning("%r stopped: %s", line, exc)
                return "\n\n"  # the answer has begun with '=': end it
            return format_answer(False, command_id, _one_line(str(exc)))
        except Exception as exc:
            logger.exception("internal error in %r", line)
            if self._streamed:
                return "\n\n"
            # the first line names the failure; the rest (an engine's stderr tail) is in the logged traceback
            reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
            text = f"internal error: {type(exc).__name__}" + (f": {reason}" if reason else "")
            return format_answer(False, command_id, text)

    # -- argument parsing ----------------------------------------------------------------------------

    @staticmethod
    def _arity(args: list[str], low: int, high: int, usage: str) -> None:
        if not low <= len(args) <= high:
            raise GTPFailure(f"syntax error: expected {usage}")

    @staticmethod
    def _color(word: str) -> int:
        color = _COLORS.get(word.lower())
        if color is None:
            raise GTPFailure(f"invalid color {word!r}: expected black or white (b or w)")
        return color

    def _vertex(self, word: str) -> int:
        try:
            return coords.from_gtp(word, self.rules.size)
        except ValueError as exc:
            raise GTPFailure(str(exc)) from None  # it names the vertex and what was expected

    # -- the game ------------------------------------------------------------------------------------

    def _push(self, position: Position) -> None:
        self.line.append(position)
        self.resigned = None

    def _new_game(self, rules: Rules) -> None:
        """An empty board under ``rules``; the player is told a new game starts. A player that cannot play those
        rules (a network trained for 9x9 asked for 19x19) refuses first, and then nothing changes: GTP's
        ``unacceptable size``, as GoGui and Sabaki expect when an engine does not play their board."""
        try:
            self.player.reset(rules)
        except ValueError as exc:
            raise GTPFailure(f"unacceptable size ({exc})") from None
        self.rules = rules
        self.line = [Position.empty(rules=rules)]
        self.players = {}
        self.resigned = None
        if self.clock is not None:
            self.clock.left.clear()  # a new game starts with full clocks

    def _moves(self) -> list[Move]:
        """The moves of the game, in order, with their colours (which need not alternate)."""
        # Every position on the line was made by ``play(point, color)``, which leaves ``-color`` to move.
        return [Move(-position.to_play, position.last_move) for position in self.line[1:]
                if position.last_move is not None]

    def _record(self) -> GameRecord:
        root = self.line[0]
        black = tuple(np.flatnonzero(root.board == BLACK).tolist())
        white = tuple(np.flatnonzero(root.board == WHITE).tolist())
        result = ""
        if self.resigned is not None:
            result = f"{'W' if self.resigned == BLACK else 'B'}+R"
        elif self.position.is_game_over:
            result = self.position.result()
        return GameRecord(
            size=self.rules.size, komi=self.rules.komi, ko=self.rules.ko, moves=self._moves(), result=result,
            black=self.players.get(BLACK, ""), white=self.players.get(WHITE, ""),
            setup_black=black, setup_white=white,
            first_to_play=root.to_play if black or white or root.to_play != BLACK else None,
        )

    def _replay(self, rules: Rules) -> None:
        """Play the current game again under ``rules`` (a new komi), setup and moves kept."""
        root = self.line[0]
        start = Position.empty(rules=rules)
        if root.board.any() or root.to_play != BLACK:
            start = start.with_setup(black=np.flatnonzero(root.board == BLACK).tolist(),
                                     white=np.flatnonzero(root.board == WHITE).tolist(), to_play=root.to_play)
        line = [start]
        for move in self._moves():
            line.append(line[-1].play(move.point, color=move.color))
        self.rules = rules
        self.line = line

    # -- administrative commands ---------------------------------------------------------------------

    def _protocol_version(self, args: list[str]) -> str:
        return PROTOCOL_VERSION

    def _name(self, args: list[str]) -> str:
        return self.name

    def _version(self, args: list[str]) -> str:
        return f"{__version__} ({self.player.name})"

    def _known_command(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "known_command COMMAND")
        return "true" if args[0].lower() in self.commands else "false"

    def _list_commands(self, args: list[str]) -> str:
        return "\n".join(self.commands)

    def _quit(self, args: list[str]) -> str:
        self.done = True
        return ""

    # -- setting up the game -------------------------------------------------------------------------

    def _boardsize(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "boardsize SIZE")
        try:
            size = int(args[0])
        except ValueError:
            raise GTPFailure("boardsize not an integer") from None
        if not coords.MIN_SIZE <= size <= coords.MAX_SIZE:
            raise GTPFailure(f"unacceptable size: {size} (expected {coords.MIN_SIZE} to {coords.MAX_SIZE})")
        self._new_game(Rules(size=size, komi=self.rules.komi, ko=self.rules.ko))
        return ""

    def _clear_board(self, args: list[str]) -> str:
        self._new_game(self.rules)
        return ""

    def _komi(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "komi NUMBER")
        try:
            komi = float(args[0])
        except ValueError:
            raise GTPFailure(f"komi not a float: {args[0]!r}") from None
        if not math.isfinite(komi):
            raise GTPFailure(f"komi not a finite number: {args[0]!r}")
        if komi != self.rules.komi:
            rules = Rules(size=self.rules.size, komi=komi, ko=self.rules.ko)
            self._replay(rules)
            self.player.reset(rules)
        return ""

    def _time_settings(self, args: list[str]) -> str:
        usage = "time_settings MAIN_TIME BYO_YOMI_TIME BYO_YOMI_STONES (integers >= 0)"
        self._arity(args, 3, 3, usage)
        try:
            values = tuple(int(arg) for arg in args)
        except ValueError:
            raise GTPFailure(f"syntax error: expected {usage}") from None
        if min(values) < 0:
            raise GTPFailure(f"syntax error: expected {usage}")
        self.clock = GameClock(float(values[0]), float(values[1]), values[2])
        return ""

    def _time_left(self, args: list[str]) -> str:
        usage = "time_left COLOR SECONDS STONES"
        self._arity(args, 3, 3, usage)
        color = self._color(args[0])
        try:
            seconds, stones = float(args[1]), int(args[2])
        except ValueError:
            raise GTPFailure(f"syntax error: expected {usage}") from None
        if not math.isfinite(seconds) or stones < 0:
            raise GTPFailure(f"syntax error: expected {usage}")
        if self.clock is None:  # no time_settings: take the clock as this says it stands
            self.clock = GameClock(seconds if stones == 0 else 0.0, seconds if stones else 0.0, stones)
        self.clock.set_left(color, seconds, stones)
        return ""

    def _loadsgf(self, args: list[str]) -> str:
        self._arity(args, 1, 2, "loadsgf FILE [MOVE_NUMBER]")
        path = args[0]
        before = None
        if len(args) == 2:
            if not args[1].isdigit() or int(args[1]) < 1:
                raise GTPFailure(f"syntax error: move number {args[1]!r} is not a positive integer")
            before = int(args[1])
        try:
            record = sgf.load(path, ko=self.rules.ko)
        except OSError as exc:
            raise GTPFailure(f"cannot load file {path}: {exc.strerror or exc}") from None
        except sgf.SGFError as exc:
            raise GTPFailure(f"cannot load file: {exc}") from None
        positions = list(record.positions())  # read_sgf has replayed them, so they are legal
        # GTP: the position before move MOVE_NUMBER is played, i.e. after MOVE_NUMBER - 1 moves.
        keep = len(positions) if before is None else min(before, len(positions))
        self._new_game(record.game_rules)
        self.line = positions[:keep]
        self.players = {color: name for color, name in ((BLACK, record.black), (WHITE, record.white)) if name}
        return color_name(self.position.to_play)

    # -- moves ---------------------------------------------------------------------------------------

    def _play(self, args: list[str]) -> str:
        self._arity(args, 2, 2, "play COLOR VERTEX")
        color = self._color(args[0])
        point = self._vertex(args[1])
        try:
            self._push(self.position.play(point, color=color))
        except IllegalMove as exc:
            raise GTPFailure(f"illegal move ({exc})") from None
        return ""

    def _genmove(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "genmove COLOR")
        color = self._color(args[0])
        position = self.position
        timed = self.clock is not None and hasattr(self.player, "time_budget")
        if timed:
            self.player.time_budget = self.clock.budget(color, position.move_number, position.size)
        started = time.monotonic()
        try:
            move = self.player.play(position.with_to_play(color))
        finally:
            if timed:
                self.player.time_budget = None
        if self.clock is not None:
            self.clock.spent(color, time.monotonic() - started)
        self.players[color] = self.player.name
        if move == RESIGN:
            self.resigned = color
            return "resign"
        try:
            point = int(move)
            if not 0 <= point <= position.pass_point:
                raise IllegalMove(f"{color_name(color)} {move!r}: not a point of the {position.size}x"
                                  f"{position.size} board")
            after = position.play(point, color=color)
        except (IllegalMove, TypeError, ValueError) as exc:
            raise RuntimeError(f"player {self.player.name} chose an illegal move ({exc})") from None
        self._push(after)
        logger.debug("genmove %s: %s", color_name(color), coords.to_gtp(point, position.size))
        return coords.to_gtp(point, position.size)

    def _undo(self, args: list[str]) -> str:
        if len(self.line) == 1:
            raise GTPFailure("cannot undo")
        self.line.pop()
        self.resigned = None
        return ""

    # -- looking at the game -------------------------------------------------------------------------

    def _showboard(self, args: list[str]) -> str:
        rules = self.rules
        return f"\n{self.position}\nkomi {rules.komi:g}, {rules.ko} ko, Tromp-Taylor: {self.position.result()}"

    def _final_owners(self) -> np.ndarray:
        """Who owns each point at the end (Black's view, [-1, 1]), as the window's count has it too
        (``minigo.scoring.final_owners``): the player's ownership map when it has one; else its rollout policy's
        playouts from the board (seeded by the position, so a board always counts the same); else the board as it
        stands (Tromp-Taylor: nothing dead), since uniform playouts misjudge too much."""
        return final_owners(self.position, self.player).owners

    def _final_score(self, args: list[str]) -> str:
        """The score with the dead stones taken off, as GNU Go counts a game (``minigo.scoring``)."""
        return format_result(score_without_dead(self.position, self._final_owners()))

    def _final_status_list(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "final_status_list alive|dead|seki")
        which = args[0].lower()
        if which not in ("alive", "dead", "seki"):
            raise GTPFailure(f"invalid status {args[0]!r}: expected alive, dead or seki")
        size = self.rules.size
        listed = status(self.position, self._final_owners(), which)
        return "\n".join(" ".join(coords.to_gtp(p, size) for p in chain) for chain in listed)

    def _printsgf(self, args: list[str]) -> str:
        self._arity(args, 0, 1, "printsgf [FILE]")
        record = self._record()
        if not args:
            return sgf.write_sgf(record).rstrip("\n")
        try:
            sgf.save(record, args[0])
        except OSError as exc:
            raise GTPFailure(f"cannot save file {args[0]}: {exc.strerror or exc}") from None
        return ""

    def _is_legal(self, args: list[str]) -> str:
        self._arity(args, 2, 2, "is_legal COLOR VERTEX")
        color = self._color(args[0])
        point = self._vertex(args[1])
        return "1" if self.position.is_legal(point, color) else "0"

    def _all_legal(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "all_legal COLOR")
        color = self._color(args[0])
        points = np.flatnonzero(self.position.legal_moves(color)[:-1]).tolist()
        return " ".join(coords.to_gtp(p, self.rules.size) for p in points)

    def _list_stones(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "list_stones COLOR")
        color = self._color(args[0])
        points = np.flatnonzero(self.position.board == color).tolist()
        return " ".join(coords.to_gtp(p, self.rules.size) for p in points)

    def _captures(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "captures COLOR")
        by_black, by_white = self.position.captures
        return str(by_black if self._color(args[0]) == BLACK else by_white)

    # -- analysis: what the player thinks (GoGui heat maps, Leela Zero's lz-analyze for Sabaki and Lizzie) ----

    def _analyze_commands(self, args: list[str]) -> str:
        """GoGui's analyze menu: the heat maps this player can draw (none for players without a policy or search)."""
        entries = []
        if self._policy_source() is not None:
            entries.append("gfx/Policy heat map/minigo-policy_heatmap")
        if callable(getattr(self.player, "search", None)):
            entries.append("gfx/Visit counts/minigo-visits_heatmap")
        if self._ownership() is not None:
            entries.append("gfx/Ownership/minigo-ownership")
        return "\n".join(entries)

    def _ownership(self, position: Position | None = None) -> np.ndarray | None:
        """The player's ownership map of ``position`` (the current one by default), or None without one."""
        ownership = getattr(self.player, "ownership", None)
        return ownership(position or self.position) if callable(ownership) else None

    def _ownership_map(self, args: list[str]) -> str:
        """GoGui gfx: who the value net expects to own each point at the end, as INFLUENCE (+1 Black, -1 White),
        and the area and margin that map adds up to, as TEXT."""
        position = self._analysis_position(args, "minigo-ownership [COLOR]")
        owners = self._ownership(position)
        if owners is None:
            raise GTPFailure("not available for this player (it needs a value net with an ownership head)")
        size = position.size
        black, white = float(np.clip(owners, 0, 1).sum()), float(np.clip(-owners, 0, 1).sum())
        margin = black - white - self.rules.komi
        lines = ["INFLUENCE " + " ".join(f"{coords.to_gtp(p, size)} {owners[p]:.2f}" for p in range(size * size))]
        lines.append(f"TEXT expected area: Black {black:.1f}, White {white:.1f}, komi {self.rules.komi:g}: "
                     f"{'B' if margin > 0 else 'W'}+{abs(margin):.1f}")
        return "\n".join(lines)

    def _policy_source(self) -> Callable[[Position], np.ndarray] | None:
        """The player's priors for a position, ``(size*size+1,)``: its ``policy`` method, or its evaluator's."""
        policy = getattr(self.player, "policy", None)
        if callable(policy):
            return policy
        evaluator = getattr(self.player, "evaluator", None)
        if callable(getattr(evaluator, "evaluate", None)):
            return lambda position: np.asarray(evaluator.evaluate([position])[0][0], dtype=np.float64)
        return None

    def _analysis_position(self, args: list[str], usage: str) -> Position:
        self._arity(args, 0, 1, usage)
        return self.position.with_to_play(self._color(args[0])) if args else self.position

    def _policy_heatmap(self, args: list[str]) -> str:
        """GoGui gfx: the prior of every legal point as INFLUENCE (relative to the largest, signed + for Black and
        - for White to move) and as a LABEL in percent, and the pass's prior as TEXT."""
        policy = self._policy_source()
        if policy is None:
            raise GTPFailure("not available for this player")
        position = self._analysis_position(args, "minigo-policy_heatmap [COLOR]")
        prior = np.asarray(policy(position), dtype=np.float64)
        n = position.pass_point
        points = [p for p in np.argsort(-prior[:n]).tolist() if prior[p] > 0]
        return _gfx(position, {p: float(prior[p]) for p in points},
                    {p: f"{100 * prior[p]:.0f}" for p in points if prior[p] >= 0.005},
                    f"{color_name(position.to_play)} to play: policy prior, pass {100 * prior[n]:.1f}%")

    def _visits_heatmap(self, args: list[str]) -> str:
        """GoGui gfx: one search of the current position; visits as INFLUENCE (relative to the most visited)
        and LABEL, and the value, playouts and principal variation as TEXT."""
        search = getattr(self.player, "search", None)
        if not callable(search):
            raise GTPFailure("not available for this player")
        position = self._analysis_position(args, "minigo-visits_heatmap [COLOR]")
        result = search(position)
        n, size = position.pass_point, position.size
        visits = {int(m): int(v) for m, v in zip(result.moves, result.visits, strict=True) if v > 0 and m != n}
        pv = " ".join(coords.to_gtp(m, size) for m in result.pv)
        passes = int(result.visit_map()[n])
        return _gfx(position, {p: float(v) for p, v in visits.items()}, {p: str(v) for p, v in visits.items()},
                    f"{color_name(position.to_play)} to play: value {result.value:+.2f}, {result.playouts} playouts, "
                    f"pass {passes} visits, pv {pv}")

    def _lz_analyze(self, args: list[str]) -> str:
        """Leela Zero's ``lz-analyze [COLOR] [INTERVAL | interval INTERVAL]``: one search of the current position,
        writing an ``info move ...`` line every INTERVAL centiseconds and one at the end. In a session it runs
        until the next input line (at most ``ANALYSIS_PLAYOUTS`` simulations); without one, the player's budget."""
        search = getattr(self.player, "search", None)
        if not callable(search):
            raise GTPFailure("not available for this player")
        usage = "lz-analyze [COLOR] [INTERVAL | interval INTERVAL]"
        words = list(args)
        color = None
        if words and words[0].lower() in _COLORS:
            color = _COLORS[words.pop(0).lower()]
        if words and words[0].lower() == "interval":
            words.pop(0)
            if not words:
                raise GTPFailure(f"syntax error: expected {usage}")
        interval = 100
        if words:
            if len(words) > 1 or not words[0].isdigit():
                raise GTPFailure(f"syntax error: expected {usage}")
            interval = int(words[0])
        position = self.position if color is None else self.position.with_to_play(color)
        lines: list[str] = []

        def emit(result: SearchResult) -> None:
            line = lz_info(result)
            if not line or (lines and lines[-1] == line):
                return
            lines.append(line)
            if self.stream is not None:
                if not self._streamed:
                    self.stream.write(f"={self._answer_id} ")
                    self._streamed = True
                self.stream.write("\n" + line)
                self.stream.flush()

        budget = {}
        incoming = self._incoming
        if incoming is not None:
            budget = {"playouts": ANALYSIS_PLAYOUTS, "should_stop": lambda: not incoming.empty()}
        emit(search(position, on_progress=emit, progress_seconds=max(interval, 1) / 100, **budget))
        return "\n" + "\n".join(lines)


def lz_info(result: SearchResult) -> str:
    """A search result (``minigo.mcts.SearchResult``) in Leela Zero's analysis format, one line: per visited move,
    most visited first, ``info move D4 visits 120 winrate 5400 prior 1200 order 0 pv D4 E5``; winrate (Q) and
    prior in units of 1/100 %, winrate for the player to move."""
    parts = []
    for order, i in enumerate(result.ranked()):
        winrate = round(5000 * (1 + float(result.q[i])))
        prior = round(10000 * float(result.prior[i]))
        pv = " ".join(coords.to_gtp(m, result.size) for m in result.variations[i])
        parts.append(f"info move {coords.to_gtp(int(result.moves[i]), result.size)} visits {int(result.visits[i])} "
                     f"winrate {winrate} prior {prior} order {order} pv {pv}")
    return " ".join(parts)


def _gfx(position: Position, influence: dict[int, float], labels: dict[int, str], text: str) -> str:
    """GoGui's gfx answer: INFLUENCE (values scaled so the largest is 1, signed by the colour to move), LABEL, TEXT."""
    size = position.size
    lines = []
    if influence:
        top = max(influence.values())
        sign = 1 if position.to_play == BLACK else -1
        lines.append("INFLUENCE " + " ".join(f"{coords.to_gtp(p, size)} {sign * v / top:.3f}"
                                             for p, v in influence.items()))
    if labels:
        lines.append("LABEL " + " ".join(f"{coords.to_gtp(p, size)} {text}" for p, text in labels.items()))
    lines.append(f"TEXT {text}")
    return "\n".join(lines)


def serve(player: Player, rules: Rules, stdin: TextIO, stdout: TextIO, name: str = ENGINE_NAME) -> None:
    """Run a GTP engine for ``player`` over the two streams until ``quit`` or end of input."""
    Engine(player, rules, name=name).run(stdin, stdout)
