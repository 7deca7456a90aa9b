"""The one loop that plays many games on a ``selfplay.farm.Farm``: matches (``selfplay.matches``) and GNU Go's
expert games (``selfplay.expert_games``) both run through :func:`run_games`.

What it does for them, once: a progress bar that logging writes around; a worker that died without answering
turned into a failed game (``lost``); a count of failures in a row that stops the run when the engine is broken
rather than unlucky; rounds (a game dropped in one round may come back in the next); and, when the run stops
(done, interrupted, or failed), the games that finish within ``grace`` seconds are still handed over. What
differs between them (what a task is, how a game is stored, what counts as a failure) is the caller's
``handle``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from selfplay.farm import FarmConfig, Lost, make_farm

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["TooManyFailures", "indexed_games", "run_games"]


class TooManyFailures(RuntimeError):
    """Games failed ``count`` times in a row (the last because of ``last``): the engine is broken, not unlucky."""

    def __init__(self, count: int, last: str) -> None:
        super().__init__(f"{count} games failed in a row; the last: {last}")
        self.count = count
        self.last = last


def indexed_games(folder: Path, digits: int) -> list[tuple[int, Path]]:
    """``(index, path)`` of every ``{index:0DIGITS}.sgf`` file in ``folder``, by index: the games a resumed run
    already has (a match names its games with 5 digits, expert games with 6)."""
    if not folder.is_dir():
        return []
    pattern = re.compile(rf"(\d{{{digits},}})\.sgf")
    found = [(int(m.group(1)), path) for path in folder.iterdir()
             if (m := pattern.fullmatch(path.name)) is not None and path.is_file()]
    return sorted(found)


def run_games(work: Callable[..., Iterator[R]], rounds: Iterable[Iterable[T]], *, workers: int, name: str,
              handle: Callable[[R, Any], bool], lost: Callable[[T, Lost], R], total: int, done: int = 0,
              desc: str | None = None, progress: bool = True, max_failures: int | None = None,
              last_failure: Callable[[], str] = lambda: "?", grace: float = 5.0,
              mininterval: float = 0.5, farm: FarmConfig | None = None,
              resources: dict[str, float] | None = None) -> None:
    """Play every task of every round on ``workers`` processes running ``work`` (a ``Farm`` work function).

    ``rounds`` yields the tasks of one round at a time (lazily: a round may depend on the last one's games).
    ``handle(outcome, bar)`` stores one game, updates the tqdm ``bar`` and returns whether the game failed;
    ``lost(task, lost)`` makes the outcome of a task whose worker died without answering. ``max_failures`` in a
    row (default ``max(5, 2 * workers)``) raise ``TooManyFailures`` naming ``last_failure()``. ``farm`` says where
    the workers run (``selfplay.farm.make_farm``), and ``resources`` what each needs there beyond a CPU.
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    limit = max_failures if max_failures is not None else max(5, 2 * workers)
    in_a_row = 0
    with logging_redirect_tqdm(), tqdm(total=total, initial=done, unit="game", desc=desc, disable=not progress,
                                       mininterval=mininterval, dynamic_ncols=True) as bar:
        pool = make_farm(work, workers, name=name, config=farm, resources=resources)
        try:
            for tasks in rounds:
                for task, outcome in pool.run(tasks):
                    if isinstance(outcome, Lost):
                        outcome = lost(task, outcome)
                    in_a_row = in_a_row + 1 if handle(outcome, bar) else 0
                    if in_a_row >= limit:
                        raise TooManyFailures(in_a_row, last_failure())
        finally:
            # A stopped run keeps the games that finish within the grace (workers abandon theirs between moves).
            for _, outcome in pool.stop(grace=grace):
                if getattr(outcome, "record", None) is not None:
                    with contextlib.suppress(Exception):
                        handle(outcome, bar)
