"""SGF samples of self-play games, for a person to look at: ``RUN/games/<stage>/<name>.sgf``.

Stages 2 and 3 keep their games only as compact records in memory (and, for stage 3, as training positions),
so a few games of each iteration or shard are written as SGF: with the checkpoint behind each colour in PB/PW
and, for the value-data scheme, the random move marked. Written atomically by the parent; a sample rewritten
after a resume is the same game (seeded per game), so it is simply replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from minigo import sgf
from minigo.go import BLACK, WHITE, Rules, format_result
from minigo.record import GameRecord, Move
from selfplay.workers import SelfPlayGame


def to_record(game: SelfPlayGame, rules: Rules, names: dict[str, str]) -> GameRecord:
    """``game`` as a GameRecord; ``names`` maps the policy keys (``current``, ``sl``...) to what PB/PW say."""
    moves = []
    for number, point in enumerate(game.moves, start=1):
        comment = "random move (value-data scheme: the position after it is the one kept)" \
            if number == game.random_move_at else ""
        moves.append(Move(BLACK if number % 2 else WHITE, point, comment))
    if game.random_move_at:
        black = white = f"{names.get('sl', 'sl')} to move {game.random_move_at - 1}, then {names.get('rl', 'rl')}"
    else:
        black, white = names.get(game.black, game.black), names.get(game.white, game.white)
    return GameRecord(size=rules.size, komi=rules.komi, ko=rules.ko, moves=moves, result=format_result(game.score),
                      black=black, white=white, comment=f"self-play game {game.index}")


def save_samples(games: Sequence[SelfPlayGame], folder: Path, prefix: str, rules: Rules, names: dict[str, str],
                 count: int) -> list[Path]:
    """Write the first ``count`` of ``games`` as ``folder/<prefix>_<index>.sgf``; returns the paths written."""
    paths = []
    if count > 0:
        folder.mkdir(parents=True, exist_ok=True)
    for game in list(games)[:count]:
        path = folder / f"{prefix}_{game.index:07d}.sgf"
        sgf.save(to_record(game, rules, names), path)
        paths.append(path)
    return paths
