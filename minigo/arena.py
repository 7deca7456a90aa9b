"""One game between two players, start to finish: ``play_game(black, white, rules) -> GameRecord``.

Nothing concurrent here (evaluation runs games in worker processes around this). The game ends after two
consecutive passes, a resignation (``B+R`` / ``W+R``), or the move cap; it is scored by Tromp-Taylor area
with komi. A player that answers an illegal move loses the game (``B+F`` / ``W+F``: forfeit) and the record
says why in its comment, so a buggy player never produces an unscorable game.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from minigo.go import BLACK, Position, Rules, color_name
from minigo.players import RESIGN, Player
from minigo.record import GameRecord, Move

OPENING = "opening"
"""The SGF comment on the moves of a given opening (``play_game(opening=...)``), played for both players."""


def play_game(black: Player, white: Player, rules: Rules, *, black_name: str | None = None,
              white_name: str | None = None, opening: Sequence[int] = ()) -> GameRecord:
    """Play one game; both players are ``reset`` first. ``opening``: moves (points, Black first) played before
    either player is asked, commented ``opening`` in the record. Engine failures (a dead GNU Go) propagate."""
    black.reset(rules)
    white.reset(rules)
    position = Position.empty(rules=rules)
    moves: list[Move] = []
    for point in opening:
        moves.append(Move(position.to_play, point, OPENING))
        position = position.play(point)
    result = ""
    comment = ""
    while not position.is_game_over:
        player = black if position.to_play == BLACK else white
        move = player.play(position)
        if move == RESIGN:
            result = f"{'W' if position.to_play == BLACK else 'B'}+R"
            break
        if not position.is_legal(move):
            winner = "W" if position.to_play == BLACK else "B"
            result = f"{winner}+F"
            comment = f"{color_name(position.to_play)} forfeits: illegal move {move}"
            break
        moves.append(Move(position.to_play, move))
        position = position.play(move)
    if not result:
        result = position.result()
    return GameRecord(size=rules.size, komi=rules.komi, ko=rules.ko, moves=moves, result=result,
                      black=black_name or getattr(black, "name", "black"),
                      white=white_name or getattr(white, "name", "white"),
                      date=datetime.date.today().isoformat(), rules="Chinese", comment=comment)


def winner(record: GameRecord) -> int:
    """BLACK, WHITE, or 0 for a draw (or an unknown result)."""
    if record.result.startswith("B+"):
        return BLACK
    if record.result.startswith("W+"):
        return -BLACK
    return 0
