"""One GNU Go self-play game of the expert-games generator (``selfplay.expert_games``), and what it leaves.

GNU Go plays both sides at one level under this project's rules. A game opens with 0..3 random moves (uniform
count, drawn from the game's seed), each uniform over the legal moves off the first line that do not fill the
mover's own eye, commented ``random opening`` in the SGF so that training can skip them. Then GNU Go plays
until two passes in a row, a resignation, or the move cap. Every GNU Go move is replayed through
:class:`minigo.go.Position`; a move our rules refuse drops the game (``illegal``). The result is our
Tromp-Taylor score (``B+R`` / ``W+R`` on resignation); GNU Go's ``final_score`` goes into the root comment,
which also records the game's index, level, seed and opening (``parse_root`` reads it back).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from minigo.coords import from_gtp, to_gtp
from minigo.go import BLACK, IllegalMove, Position, Rules, color_name
from minigo.gtp_client import EngineDied, GTPError
from minigo.record import GameRecord, Move

__all__ = ["DROP_REASONS", "DUPLICATE", "ENGINE_FAILURE", "ILLEGAL", "OPENING_COMMENT", "ExpertOutcome", "ExpertTask",
           "GTPSender", "Stopped", "game_key", "parse_root", "play_expert_game", "random_opening_move",
           "result_score"]

logger = logging.getLogger(__name__)

OPENING_COMMENT = "random opening"
"""The SGF comment on each random opening move; training skips moves that carry it."""

# why a game was dropped
DUPLICATE = "duplicate"
ILLEGAL = "illegal"
ENGINE_FAILURE = "engine failure"
DROP_REASONS = (DUPLICATE, ILLEGAL, ENGINE_FAILURE)

_ROOT_COMMENT = re.compile(
    r"minigo expert-games: game (?P<index>\d+), level (?P<level>\d+), seed (?P<seed>\d+), "
    r"(?P<opening>\d+) random opening moves?(?:; GNU Go final_score (?P<gnugo>[^;\s]*))?(?:; (?P<seconds>[\d.]+) s)?"
)


@dataclass(frozen=True)
class ExpertTask:
    """A game for a worker to play."""

    index: int
    """Game index in the run; the file is ``games/{index:06d}.sgf``."""
    level: int
    """GNU Go level for both colours."""
    seed: int
    """The game's seed (``game_seed(run_seed, index, attempt)``)."""


@dataclass
class ExpertOutcome:
    """What a worker sends back for a task: a finished game, or why it was dropped."""

    worker: int
    """The worker that played it."""
    task: ExpertTask
    """The task it answers."""
    record: GameRecord | None
    """The finished game, None when dropped."""
    dropped: str = ""
    """Empty for a finished game, else one of ``DROP_REASONS``."""
    detail: str = ""
    """Why it was dropped, in one line."""
    gnugo_result: str = ""
    """GNU Go's ``final_score`` of the final position ("" after a resignation or when it refused)."""
    seconds: float = 0.0
    """Wall-clock seconds the game took."""


class GTPSender(Protocol):
    """What a game needs from a GTP engine: ``send`` one command, get the answer (``GTPEngine`` does)."""

    def send(self, command: str, timeout: float | None = None) -> str: ...


class Stopped(Exception):
    """The run is stopping: the game in progress is abandoned."""


def random_opening_move(position: Position, rng: np.random.Generator) -> int | None:
    """A uniform choice among the legal moves off the first line that do not fill the mover's own eye;
    None when there is none."""
    size = position.size
    mask = position.sensible_moves()[: size * size].reshape(size, size).copy()  # (size, size) bool
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = False
    points = np.flatnonzero(mask)
    if points.size == 0:
        return None
    return int(points[rng.integers(points.size)])


def result_score(result: str) -> float | None:
    """``B+3.5`` -> 3.5, ``W+0.5`` -> -0.5, ``0`` -> 0.0; None for resignations and anything else."""
    text = result.strip().upper()
    if text in ("0", "DRAW", "JIGO"):
        return 0.0
    match = re.fullmatch(r"([BW])\+([0-9.]+)", text)
    if match is None:
        return None
    score = float(match.group(2))
    return score if match.group(1) == "B" else -score


def root_comment(task: ExpertTask, opening: int, gnugo_result: str, seconds: float) -> str:
    moves = "move" if opening == 1 else "moves"
    return (f"minigo expert-games: game {task.index}, level {task.level}, seed {task.seed}, "
            f"{opening} random opening {moves}; GNU Go final_score {gnugo_result or '-'}; {seconds:.1f} s")


def play_expert_game(engine: GTPSender, task: ExpertTask, rules: Rules, player: str, max_opening_moves: int = 3,
                     worker: int = 0, should_stop: Callable[[], bool] = lambda: False) -> ExpertOutcome:
    """Play one game of GNU Go against itself on ``engine`` (already set to ``rules``' board size and komi).

    Returns the finished game, or the reason it was dropped: ``illegal`` (a move one side's rules refused),
    ``engine failure`` (the engine died, timed out or refused a command). Raises ``Stopped`` when
    ``should_stop()`` turns true between moves.
    """
    start = time.monotonic()
    size = rules.size
    rng = np.random.default_rng(task.seed)
    opening = int(rng.integers(0, max_opening_moves + 1))
    position = Position.empty(rules=rules)
    moves: list[Move] = []

    def dropped(reason: str, detail: str) -> ExpertOutcome:
        return ExpertOutcome(worker, task, None, reason, detail, seconds=time.monotonic() - start)

    command = ""
    try:
        for command in (f"level {task.level}", "clear_board", f"set_random_seed {task.seed}"):
            engine.send(command)
        for _ in range(opening):
            point = random_opening_move(position, rng)
            if point is None:
                break
            color = position.to_play
            command = f"play {color_name(color)} {to_gtp(point, size)}"
            try:
                engine.send(command)
            except GTPError as exc:
                return dropped(ILLEGAL, f"GNU Go refused our opening move {command!r}: {exc.message}")
            position = position.play(point)
            moves.append(Move(color, point, OPENING_COMMENT))
        resigned = 0
        while not position.is_game_over:
            if should_stop():
                raise Stopped
            color = position.to_play
            command = f"genmove {color_name(color)}"
            answer = engine.send(command)
            if answer.strip().lower() == "resign":
                resigned = color
                break
            try:
                point = from_gtp(answer, size)
                position = position.play(point, color)
            except (ValueError, IllegalMove) as exc:  # IllegalMove is a ValueError too
                return dropped(ILLEGAL, f"move {len(moves) + 1}, GNU Go {command!r} answered {answer!r}: {exc}")
            moves.append(Move(color, point))
        gnugo_result = ""
        if not resigned:
            command = "final_score"
            try:
                gnugo_result = engine.send(command).strip()
            except GTPError as exc:
                logger.debug("GNU Go refused final_score: %s", exc)
    except GTPError as exc:
        return dropped(ENGINE_FAILURE, f"GNU Go refused {exc.command!r}: {exc.message}")
    except EngineDied as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return dropped(ENGINE_FAILURE, f"{first_line} (command {command!r})")
    result = ("W+R" if resigned == BLACK else "B+R") if resigned else position.result()
    seconds = time.monotonic() - start
    record = GameRecord(
        size=size, komi=rules.komi, ko=rules.ko, moves=moves, result=result, black=player, white=player,
        date=datetime.date.today().isoformat(), rules="Chinese",
        comment=root_comment(task, sum(1 for m in moves if m.comment == OPENING_COMMENT), gnugo_result, seconds),
    )
    return ExpertOutcome(worker, task, record, gnugo_result=gnugo_result, seconds=seconds)


def game_key(record: GameRecord) -> str:
    """A digest of a game's move sequence (colours and points): equal for identical games."""
    sequence = np.array([(m.color, m.point) for m in record.moves], dtype=np.int16).reshape(-1, 2)
    return hashlib.sha1(f"{record.size}:".encode() + sequence.tobytes()).hexdigest()


def parse_root(comment: str) -> dict[str, str] | None:
    """The fields ``root_comment`` wrote (index, level, seed, opening, gnugo, seconds), or None."""
    match = _ROOT_COMMENT.search(comment)
    return None if match is None else match.groupdict()
