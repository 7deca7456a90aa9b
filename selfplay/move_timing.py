"""How long a player thinks: its moves timed over real games against GNU Go, played side by side in spawned
processes as matches play them (``bench/bundled.py`` prints the figure beside its ladder)."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from minigo.arena import play_game
from minigo.go import Rules
from minigo.players import Player

__all__ = ["Timed", "thinking_time", "timed_game"]


class Timed:
    """A player whose every ``play`` is timed (seconds of wall clock), for the thinking-time figure."""

    def __init__(self, player: Player) -> None:
        self.player = player
        self.name = getattr(player, "name", "player")
        self.seconds: list[float] = []

    def reset(self, rules) -> None:
        self.player.reset(rules)

    def play(self, position) -> int:
        start = time.perf_counter()
        move = self.player.play(position)
        self.seconds.append(time.perf_counter() - start)
        return move

    def close(self) -> None:
        self.player.close()


def timed_game(spec: str, level: int, a_is_black: bool, seed: int) -> list[float]:
    """Play one game of ``spec`` against GNU Go ``level`` from the empty board; the seconds each of A's moves took."""
    from selfplay.player_kinds import make_player  # the kinds' table imports this package's modules

    a, gnugo = Timed(make_player(spec)), make_player(f"gnugo:{level}")
    for player in (a.player, gnugo):
        if callable(getattr(player, "reseed", None)):
            player.reseed(seed)
    try:
        black, white = (a, gnugo) if a_is_black else (gnugo, a)
        play_game(black, white, Rules(size=9, komi=7.5))
    finally:
        a.close()
        gnugo.close()
    return a.seconds


def thinking_time(spec: str, level: int, games: int, workers: int, seed: int) -> tuple[float, int]:
    """A's mean seconds a move, and the moves counted, over ``games`` games against GNU Go ``level``, ``workers``
    of them side by side (as the matches play); a game's first move, which loads the nets, is left out."""
    # spawned, as the match workers are: a forked child can inherit a lock held by one of the parent's threads
    with ProcessPoolExecutor(max_workers=min(workers, games), mp_context=multiprocessing.get_context("spawn")) as pool:
        timings = list(pool.map(timed_game, [spec] * games, [level] * games, [i % 2 == 0 for i in range(games)],
                                [seed + i for i in range(games)]))
    seconds = [t for game in timings for t in game[1:]]
    return (sum(seconds) / len(seconds) if seconds else float("nan")), len(seconds)
