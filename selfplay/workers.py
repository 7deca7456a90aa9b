"""Parallel self-play: worker processes that play many games in lockstep so every network call is one batch.

The pure part is ``play_lockstep(tasks, policies, rng)``: games advance one move per step; at each step the
games are grouped by which policy moves next (``current``, ``opponent``, ``sl``, ``rl``, or ``uniform`` for a
uniformly random legal move), and each group is one batched forward pass; moves are sampled from the policy
(temperature 1). A finished game comes back as a compact ``SelfPlayGame``: its moves and result.

``WorkerPool`` runs ``play_lockstep`` in N workers (a ``selfplay.farm.Farm`` of spawned processes, one torch thread
each, or actors on a Ray cluster: ``selfplay.ray_farm``).
A task names the checkpoints to play with by path; a worker loads a checkpoint once and keeps it until a task
names another file, so the trainer delivers new weights by writing a new file. Each task's games are seeded from
the run seed and the task's first game index, so a task replayed after a crash plays the same games. A worker
that dies is logged with its id and restarted, and the task it had is given to its replacement: its unfinished
games are dropped and played again, never half-reported. Workers' log records go to the parent's handlers, so
every process writes to the one run log, and workers exit as soon as the parent dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

import numpy as np

from minigo.go import BLACK, Position, Rules
from selfplay.farm import FarmConfig, FarmWorker, make_farm
from selfplay.shipping import FileRef

log = logging.getLogger(__name__)

UNIFORM = "uniform"


@dataclass(frozen=True)
class SelfPlayTask:
    """One game to play: who moves when.

    ``black`` / ``white`` name the policy of each colour (keys of the policies given to the player). With
    ``random_move_at`` = U > 0 the value-data scheme applies instead (Silver et al. 2016): ``before`` plays
    moves 1..U-1 for both colours, move U is uniformly random, ``after`` plays the rest.
    """

    index: int
    black: str = "current"
    white: str = "opponent"
    random_move_at: int = 0
    before: str = "sl"
    after: str = "rl"

    def policy_for(self, move_number: int, color: int) -> str:
        """The policy that plays move ``move_number`` (1-based) for ``color``."""
        if self.random_move_at:
            if move_number < self.random_move_at:
                return self.before
            if move_number == self.random_move_at:
                return UNIFORM
            return self.after
        return self.black if color == BLACK else self.white


@dataclass
class SelfPlayGame:
    """A finished game in compact form: moves in order (colours alternate from Black), the result."""

    index: int
    moves: list[int]
    score: float
    """Tromp-Taylor score from Black's view, komi included: > 0 Black won."""
    black: str
    white: str
    random_move_at: int = 0

    @property
    def winner(self) -> int:
        return BLACK if self.score > 0 else -BLACK if self.score < 0 else 0

    def positions(self, rules: Rules) -> list[Position]:
        """Every position of the game, the empty board first and the final one last."""
        position = Position.empty(rules=rules)
        out = [position]
        for move in self.moves:
            position = position.play(move)
            out.append(position)
        return out


Evaluate = Callable[[Sequence[Position]], np.ndarray]
"""A policy for ``play_lockstep``: positions -> move probabilities ``(B, size*size+1)`` over legal moves."""


def play_lockstep(tasks: Sequence[SelfPlayTask], policies: dict[str, Evaluate], rules: Rules,
                  rng: np.random.Generator, free_pass: bool = False) -> list[SelfPlayGame]:
    """Play ``tasks`` to the end together; each step is one batched call per policy that has a move to make.

    Unless ``free_pass``, a policy passes only when no sensible move is left, or to end a game it wins after
    the opponent passed: otherwise two early passes end the game at once and White wins by komi, and a
    policy-gradient learner soon learns to pass (seen in a 9x9 run). Under area scoring with the eye rule
    this takes no correct play away.
    """
    positions = {task.index: Position.empty(rules=rules) for task in tasks}
    moves: dict[int, list[int]] = {task.index: [] for task in tasks}
    by_index = {task.index: task for task in tasks}
    active = [task.index for task in tasks]
    while active:
        groups: dict[str, list[int]] = {}
        for index in active:
            position = positions[index]
            groups.setdefault(by_index[index].policy_for(position.move_number + 1, position.to_play), []).append(index)
        for key, indices in groups.items():
            batch = [positions[i] for i in indices]
            if key == UNIFORM:
                chosen = [_uniform_move(p, rng) for p in batch]
            else:
                probabilities = policies[key](batch)
                chosen = [sample_move(row if free_pass else without_early_pass(row, p), rng)
                          for row, p in zip(probabilities, batch, strict=True)]
            for index, move in zip(indices, chosen, strict=True):
                positions[index] = positions[index].play(move)
                moves[index].append(move)
        active = [i for i in active if not positions[i].is_game_over]
    return [SelfPlayGame(t.index, moves[t.index], positions[t.index].score(), t.black, t.white, t.random_move_at)
            for t in tasks]


def sampling_mask(position: Position, free_pass: bool = False) -> np.ndarray:
    """The moves self-play samples from: the legal ones, without the pass unless ``Position.pass_allowed``.

    Stage 2 computes log pi over this same mask, so the gradient is that of the distribution that acted.
    """
    legal = position.legal_moves().copy()
    if not free_pass and legal[:-1].any() and not position.pass_allowed():
        legal[-1] = False
    return legal


def without_early_pass(probabilities: np.ndarray, position: Position) -> np.ndarray:
    """``probabilities`` without the pass, unless ``Position.pass_allowed`` (or no other move has any probability)."""
    if probabilities[-1] == 0 or position.pass_allowed():
        return probabilities
    out = probabilities.copy()
    out[-1] = 0.0
    return out if out.sum() > 0 else probabilities


def _uniform_move(position: Position, rng: np.random.Generator) -> int:
    """A uniformly random legal move other than the pass (the pass when nothing else is legal)."""
    legal = np.flatnonzero(position.legal_moves()[:-1])
    return int(legal[rng.integers(len(legal))]) if len(legal) else position.pass_point


def sample_move(probabilities: np.ndarray, rng: np.random.Generator) -> int:
    """A move index drawn in proportion to ``probabilities`` (which need not sum to 1)."""
    cumulative = np.cumsum(probabilities)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"),
                   len(probabilities) - 1))


# -- worker processes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlayTask:
    """Work for one worker: games to play and the checkpoint file behind each policy key."""

    task_id: int
    games: tuple[SelfPlayTask, ...]
    checkpoints: dict[str, FileRef]
    """Policy key -> its checkpoint (by path on this machine; by content on a cluster: ``selfplay.shipping``)."""
    rules: Rules
    seed: int
    free_pass: bool = False


@dataclass
class TaskResult:
    task_id: int
    worker: int
    games: list[SelfPlayGame] = field(default_factory=list)
    seconds: float = 0.0


def policy_from_checkpoint(path: str, device: str = "cpu") -> Evaluate:
    from models import checkpoint
    from models.evaluator import NetEvaluator

    evaluator = NetEvaluator(checkpoint.load(path, kind="policy", device=device), device=device)
    return lambda positions: evaluator.evaluate(positions)[0]


def _play_tasks(worker: FarmWorker, tasks: Iterator[PlayTask]) -> Iterator[TaskResult]:
    """The work of a self-play worker (``selfplay.farm``): each task's games, played with its checkpoints."""
    import torch

    torch.set_num_threads(1)  # N workers share the cores; more threads per worker only adds contention
    loaded: dict[str, tuple[str, Evaluate]] = {}  # path -> (stamp, policy): a rewritten file is loaded again
    for task in tasks:
        started = time.time()
        policies: dict[str, Evaluate] = {}
        for key, ref in task.checkpoints.items():
            stamp = ref.stamp()
            if ref.path not in loaded or loaded[ref.path][0] != stamp:
                loaded[ref.path] = (stamp, policy_from_checkpoint(ref.local()))
            policies[key] = loaded[ref.path][1]
        rng = np.random.default_rng([task.seed, task.games[0].index if task.games else 0])
        games = play_lockstep(task.games, policies, task.rules, rng, task.free_pass)
        yield TaskResult(task.task_id, worker.id, games, time.time() - started)


class WorkerPool:
    """N self-play worker processes; ``run(tasks)`` returns every task's games, whatever workers die."""

    def __init__(self, workers: int, max_restarts: int = 20, farm: FarmConfig | None = None) -> None:
        """``farm``: where the workers run (this machine's processes by default, or a Ray cluster)."""
        # A lost task is dealt again: its games replay from the same seed, so none is half-reported.
        self._farm = make_farm(_play_tasks, workers, name="self-play", replay_lost=True, max_restarts=max_restarts,
                               config=farm)
        self.size = workers
        self._one_run = threading.Lock()

    @property
    def restarts(self) -> int:
        """Workers replaced so far (died, or their work raised)."""
        return self._farm.restarts

    def processes(self) -> list[BaseProcess]:
        """The worker processes (local farm only)."""
        return self._farm.processes()

    def pids(self) -> list[int]:
        """The workers' process ids (either farm), by worker id."""
        return self._farm.pids()

    def run(self, tasks: Sequence[PlayTask], on_result: Callable[[TaskResult], None] | None = None) -> list[TaskResult]:
        """Play ``tasks`` on the workers (one at a time each); results in task order. Runs asked for from two
        threads at once (a trainer's background games and its evaluation) take turns."""
        results: dict[int, TaskResult] = {}
        with self._one_run:  # a farm runs one run at a time: two would take each other's answers
            for task, result in self._farm.run(tasks):
                assert isinstance(result, TaskResult), "a replaying farm deals a lost task again, never reports it"
                results[task.task_id] = result
                if on_result is not None:
                    on_result(result)
        return [results[t.task_id] for t in tasks]

    def close(self) -> None:
        self._farm.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_tasks(games: Sequence[SelfPlayTask], workers: int, checkpoints: dict[str, str | Path], rules: Rules,
                seed: int, first_task_id: int = 0, games_per_task: int = 0) -> list[PlayTask]:
    """Deal ``games`` into tasks of contiguous slices, so each task's seed is fixed by its games: one task per
    worker, or with ``games_per_task`` tasks of that many games (a cluster deals more tasks than workers, for
    balance; each task's games are one lockstep batch)."""
    if games_per_task:
        chunks = [np.arange(start, min(start + games_per_task, len(games)))
                  for start in range(0, len(games), games_per_task)]
    else:
        chunks = [c for c in np.array_split(np.arange(len(games)), workers) if len(c)]
    refs = {key: FileRef(str(path)) for key, path in checkpoints.items()}
    return [PlayTask(first_task_id + i, tuple(games[j] for j in chunk), dict(refs), rules, seed)
            for i, chunk in enumerate(chunks)]
