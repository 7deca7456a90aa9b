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
board unless it is ``resign``. Scoring is Tromp-Taylor (area, no dead-stone removal), so
``final_status_list dead`` is always empty.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import TextIO

import numpy as np

from minigo import __version__, coords, sgf
from minigo.go import BLACK, WHITE, IllegalMove, Position, Rules, color_name
from minigo.players import RESIGN, Player
from minigo.record import GameRecord, Move

__all__ = ["ENGINE_NAME", "Engine", "GTPFailure", "serve"]

logger = logging.getLogger(__name__)

ENGINE_NAME = "minigo"
PROTOCOL_VERSION = "2"

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
        self.time_settings: tuple[int, int, int] | None = None
        """(main time, byo-yomi time, byo-yomi stones) from ``time_settings``; the players ignore time for now."""
        self.time_left: dict[int, tuple[float, int]] = {}
        """(seconds, stones) left per colour from ``time_left``."""
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
        }
        player.reset(rules)

    @property
    def position(self) -> Position:
        """The current position."""
        return self.line[-1]

    # -- the loop ------------------------------------------------------------------------------------

    def run(self, stdin: TextIO, stdout: TextIO) -> None:
        """Answer commands from ``stdin`` on ``stdout`` until ``quit`` or end of input, then close the player."""
        try:
            for raw in iter(stdin.readline, ""):
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
        try:
            return format_answer(True, command_id, handler(args))
        except GTPFailure as exc:
            return format_answer(False, command_id, _one_line(str(exc)))
        except Exception as exc:
            logger.exception("internal error in %r", line)
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
        """An empty board under ``rules``; the player is told a new game starts."""
        self.rules = rules
        self.line = [Position.empty(rules=rules)]
        self.players = {}
        self.resigned = None
        self.player.reset(rules)

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
        self.time_settings = (values[0], values[1], values[2])
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
        self.time_left[color] = (seconds, stones)
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
        move = self.player.play(position.with_to_play(color))
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

    def _final_score(self, args: list[str]) -> str:
        return self.position.result()

    def _final_status_list(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "final_status_list alive|dead|seki")
        status = args[0].lower()
        if status not in ("alive", "dead", "seki"):
            raise GTPFailure(f"invalid status {args[0]!r}: expected alive, dead or seki")
        if status != "alive":
            return ""  # Tromp-Taylor: every stone on the board counts as alive
        size = self.rules.size
        return "\n".join(" ".join(coords.to_gtp(p, size) for p in chain) for chain in _chains(self.position))

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

    def _analyze_commands(self, args: list[str]) -> str:
        return ""  # the policy and visit heat maps arrive with the networks and the search


def _chains(position: Position) -> list[list[int]]:
    """The chains (connected stones of one colour) of the board, each as its points in board order."""
    size, board = position.size, position.board
    seen = np.zeros(board.shape, dtype=bool)
    chains = []
    for start in np.flatnonzero(board).tolist():
        if seen[start]:
            continue
        seen[start] = True
        chain, stack = [], [start]
        while stack:
            point = stack.pop()
            chain.append(point)
            row, col = divmod(point, size)
            for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
                other = r * size + c
                if 0 <= r < size and 0 <= c < size and not seen[other] and board[other] == board[point]:
                    seen[other] = True
                    stack.append(other)
        chains.append(sorted(chain))
    return chains


def serve(player: Player, rules: Rules, stdin: TextIO, stdout: TextIO, name: str = ENGINE_NAME) -> None:
    """Run a GTP engine for ``player`` over the two streams until ``quit`` or end of input."""
    Engine(player, rules, name=name).run(stdin, stdout)
