"""The task farm on a Ray cluster: the same contract as ``selfplay.farm.Farm``, with Ray actors for processes.

``RayFarm(work, workers, name=..., replay_lost=..., max_restarts=...)`` starts ``workers`` actors (one CPU each,
plus ``resources`` such as ``{"gnugo": 1}`` for work that runs GNU Go, so that it lands on nodes that have it).
Each actor runs the same generator ``work(worker, tasks)`` a local worker process runs, fed one task per call, so
what the work builds (networks, a GNU Go process) lives from one task to the next. ``run``, ``stop``, ``close``
and ``restarts`` behave as the local farm's:

- **One answer per task dealt.** An actor that dies mid-task (its node lost, its process killed) is replaced by a
  new actor with the same worker id; its task is dealt again (``replay_lost``) or answered with ``Lost``. A work
  that raises is reported with its traceback, logged here, and its actor replaced. We replace actors ourselves
  rather than through Ray's ``max_restarts``: the farm must count restarts and choose between replay and ``Lost``.
- **Nothing assumes a shared disk.** The work and every task go through ``selfplay.shipping.ship`` before they
  leave: files they name travel through Ray's object store by content, put once per digest.
- **Only the parent writes.** An actor captures its log records and returns them with each answer; the parent
  hands them to its own handlers, so the run has one log, as with local workers.
- **Workers die with their parent.** Ray ties an actor's life to the driver that created it: a driver killed with
  SIGKILL takes its actors with it (and a local cluster it started).

Where the cluster comes from (``connect``): an address (``auto``, ``host:port``, or ``RAY_ADDRESS``) joins a
cluster started with ``ray start --head`` on one machine and ``ray start --address=HEAD:6379`` on the others;
none starts a local one with ``num_cpus`` = the workers (and a ``gnugo`` resource when GNU Go is installed here).
Every node needs the same minigo installed (``pip install -e '.[ray]'``): code is not shipped, only data.
"""

from __future__ import annotations

import itertools
import logging
import logging.handlers
import os
import shutil
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from selfplay.farm import EXIT_SECONDS, FarmWorker, Lost, Work
from selfplay.shipping import FileRef, ship

__all__ = ["RayFarm", "cluster_cpus", "connect"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

STOP_CHECK_SECONDS = 0.5
"""How often a worker's ``stopping()`` asks the parent's stop flag (a remote call) at most."""


def connect(address: str = "", num_cpus: int | None = None) -> None:
    """Join the cluster at ``address`` (or ``RAY_ADDRESS``), or start a local one with ``num_cpus``; once per
    process (later calls do nothing)."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS", "")
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
                               "configure_logging": False}
    if address:
        ray.init(address=address, **options)
        return
    cpus = max(num_cpus or 0, len(os.sched_getaffinity(0)))  # a later farm may want every core
    resources = {"gnugo": float(cpus)} if shutil.which("gnugo") or os.access("/usr/games/gnugo", os.X_OK) else {}
    # Actors import minigo as this process does (the driver's import path, e.g. a checkout that is not installed).
    path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    env = {"PYTHONPATH": path} | {k: os.environ[k] for k in ("MINIGO_CACHE",) if k in os.environ}
    ray.init(num_cpus=cpus, resources=resources, runtime_env={"env_vars": env}, **options)


def cluster_cpus() -> int:
    """The CPUs of the cluster this process is connected to."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


@ray.remote(num_cpus=0)
class _StopFlag:
    """The farm's stop signal, shared by its actors (a multiprocessing Event cannot cross machines)."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


class _RemoteStop:
    """``is_set()`` over a ``_StopFlag`` actor, asked at most every ``STOP_CHECK_SECONDS`` (work checks it often)."""

    def __init__(self, flag: Any) -> None:
        self._flag = flag
        self._checked = 0.0
        self._set = False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._set and now - self._checked >= STOP_CHECK_SECONDS:
            self._checked = now
            try:
                self._set = bool(ray.get(self._flag.is_set.remote(), timeout=5))
            except Exception:  # noqa: BLE001 - the flag's actor is gone with the farm: stop
                self._set = True
        return self._set


class _Records(logging.Handler):
    """Keeps the actor's log records, formatted so that they pickle, until the next answer carries them home."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # ``handle`` holds the handler's own lock here: the work's threads (a GTP client's readers) log too
        self.records.append(logging.handlers.QueueHandler(None).prepare(record))  # type: ignore[arg-type]

    def take(self) -> list[logging.LogRecord]:
        with self.lock:  # type: ignore[union-attr]
            out, self.records = self.records, []
        return out


_END = object()


@dataclass(frozen=True)
class _Reply:
    answer: Any = None
    error: str = ""
    """The traceback of the exception that escaped the work; empty for an answer."""
    records: tuple[logging.LogRecord, ...] = ()


class _Actor:
    """One worker: the work's generator, advanced one task per ``answer`` call."""

    def __init__(self, work: Work, worker_id: int, stop_flag: Any, level: int) -> None:
        self._records = _Records()
        root = logging.getLogger()
        root.handlers = [self._records]
        root.setLevel(level)
        self._next: Any = _END
        self._generator = work(FarmWorker(worker_id, _RemoteStop(stop_flag)), self._tasks())

    def _tasks(self) -> Iterator[Any]:
        while True:
            task, self._next = self._next, _END
            if task is _END:
                return
            yield task

    def pid(self) -> int:
        return os.getpid()

    def answer(self, task: Any) -> _Reply:
        self._next = task
        try:
            answer = next(self._generator)
        except StopIteration:
            return _Reply(error="the work ended without answering its task", records=tuple(self._records.take()))
        except Exception:  # noqa: BLE001 - reported to the parent, which logs it and replaces this actor
            return _Reply(error=traceback.format_exc(), records=tuple(self._records.take()))
        return _Reply(answer, records=tuple(self._records.take()))

    def close(self) -> tuple[logging.LogRecord, ...]:
        """End the work (its ``finally`` runs: a GNU Go closes); the records it logged."""
        self._generator.close()
        return tuple(self._records.take())


class _Store(dict):
    """Digest -> shipped FileRef: what the object store holds for the farm's tasks. Entries no task of the last run
    used are dropped at the next run (their objects are freed once no task holds them), so a long training run
    does not keep every iteration's weights."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def __getitem__(self, digest: str) -> FileRef:
        self.used.add(digest)
        return super().__getitem__(digest)

    def forget_unused(self) -> None:
        for digest in [d for d in self if d not in self.used]:
            del self[digest]
        self.used = set()


@dataclass
class _Slot:
    id: int
    actor: Any
    task: Any = None
    call: Any = None
    """The ObjectRef of the pending ``answer`` call."""


class RayFarm(Generic[T, R]):
    """``workers`` Ray actors running ``work``; see the module docstring and ``selfplay.farm.Farm``."""

    def __init__(self, work: Work, workers: int, *, name: str, replay_lost: bool = False,
                 max_restarts: int | None = None, address: str = "", resources: dict[str, float] | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers {workers} must be at least 1")
        connect(address, workers)
        if workers > (available := cluster_cpus()):
            # an actor holds its CPU for the farm's life: one more than the cluster has would wait forever
            log.warning("%s: %d workers asked for, the Ray cluster has %d CPUs: running %d", name, workers, available,
                        available)
            workers = available
        self.name = name
        self.replay_lost = replay_lost
        self.max_restarts = max_restarts
        self.restarts = 0
        """Actors replaced so far."""
        self._work = ship(work, ray.put)  # its files stay in the store for the farm's life (replacements load them)
        self._shipped = _Store()
        self._resources = dict(resources or {})
        self._actor_class = ray.remote(num_cpus=1, resources=self._resources or None)(_Actor)
        self._stop_flag = _StopFlag.remote()
        self._stopped = False
        self._tickets = itertools.count()
        self._slots = [_Slot(i, self._start(i)) for i in range(workers)]

    def __enter__(self) -> RayFarm[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self) -> list[int]:
        """The actors' process ids, by worker id (for tests that kill one)."""
        return ray.get([slot.actor.pid.remote() for slot in self._slots])

    def run(self, tasks: Iterable[T]) -> Iterator[tuple[T, R | Lost]]:
        """As ``Farm.run``: deal ``tasks`` one per idle actor, yield ``(task, answer)`` as answers come back."""
        if self._stopped:
            raise RuntimeError(f"the {self.name} farm is stopped")
        source = iter(tasks)
        self._shipped.forget_unused()  # last run's weights: this run's tasks name new ones

        def deal_next(slot: _Slot) -> None:
            task = next(source, None)
            if task is not None:
                self._deal(slot, task)

        for slot in self._slots:
            if slot.task is None:
                deal_next(slot)
        while any(slot.task is not None for slot in self._slots):
            for slot, task, answer in self._collect(timeout=None):
                if isinstance(answer, Lost) and self.replay_lost:
                    self._deal(slot, task)
                    continue
                yield task, answer
                deal_next(slot)

    def stop(self, grace: float = 5.0) -> list[tuple[T, R]]:
        """As ``Farm.stop``: answers to tasks in flight that come within ``grace`` s; then the actors end."""
        if self._stopped:
            return []
        self._stopped = True
        answered: list[tuple[T, R]] = []
        try:
            self._stop_flag.set.remote()
            deadline = time.monotonic() + grace
            while any(s.task is not None for s in self._slots) and (left := deadline - time.monotonic()) > 0:
                for _, task, answer in self._collect(timeout=left, replace=False):
                    if not isinstance(answer, Lost):
                        answered.append((task, answer))
            closing = {slot.actor.close.remote(): slot for slot in self._slots if slot.task is None}
            ready, _ = ray.wait(list(closing), num_returns=len(closing), timeout=EXIT_SECONDS)
            for ref in ready:
                try:
                    self._log_records(ray.get(ref))
                except RayActorError:
                    pass
        finally:
            for slot in self._slots:
                ray.kill(slot.actor, no_restart=True)
            ray.kill(self._stop_flag, no_restart=True)
        return answered

    def close(self) -> None:
        """``stop`` without waiting for tasks in flight."""
        self.stop(grace=0.0)

    # -- internals -------------------------------------------------------------------------------------------

    def _start(self, worker: int) -> Any:
        return self._actor_class.options(name=None).remote(self._work, worker, self._stop_flag,
                                                           logging.getLogger().getEffectiveLevel())

    def _deal(self, slot: _Slot, task: T) -> None:
        slot.task = task
        slot.call = slot.actor.answer.remote(ship(task, ray.put, self._shipped))

    def _collect(self, timeout: float | None, replace: bool = True) -> list[tuple[_Slot, Any, Any]]:
        """Wait for one or more answers; the answers, and a ``Lost`` for each task whose actor died or raised."""
        busy = {slot.call: slot for slot in self._slots if slot.task is not None}
        ready, _ = ray.wait(list(busy), num_returns=1, timeout=timeout)
        ready += ray.wait([r for r in busy if r not in ready], num_returns=len(busy) - len(ready), timeout=0)[0]
        events: list[tuple[_Slot, Any, Any]] = []
        for ref in ready:
            slot = busy[ref]
            task, slot.task, slot.call = slot.task, None, None
            try:
                reply: _Reply = ray.get(ref, timeout=0)
            except (RayActorError, GetTimeoutError) as exc:
                why = f"died ({type(exc).__name__})"
            else:
                self._log_records(reply.records)
                if not reply.error:
                    events.append((slot, task, reply.answer))
                    continue
                log.error("%s worker %d failed:\n%s", self.name, slot.id, reply.error.rstrip())
                why = f"failed: {reply.error.rstrip().splitlines()[-1]}"
            if replace:
                self._replace(slot, why, task)
            events.append((slot, task, Lost(slot.id, f"worker {slot.id} {why}")))
        return events

    def _replace(self, slot: _Slot, why: str, task: Any) -> None:
        log.warning("%s worker %d %s; restarting it%s", self.name, slot.id, why,
                    " and dealing its task again" if self.replay_lost and task is not None else "")
        ray.kill(slot.actor, no_restart=True)
        self.restarts += 1
        if self.max_restarts is not None and self.restarts > self.max_restarts:
            raise RuntimeError(f"{self.name} workers failed {self.restarts} times; giving up (see the log)")
        slot.actor = self._start(slot.id)

    @staticmethod
    def _log_records(records: Iterable[logging.LogRecord]) -> None:
        for record in records:
            logging.getLogger(None if record.name == "root" else record.name).handle(record)
