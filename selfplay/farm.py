"""The task farm behind every process pool of the project: N worker processes, tasks dealt one at a time.

Self-play (``selfplay.workers.WorkerPool``), GNU Go expert games (``selfplay.expert_games``) and matches
(``selfplay.matches``) all run on a :class:`Farm`. What differs between them is the *work*: a generator
function ``work(worker, tasks)`` that runs in each worker process, takes :class:`FarmWorker` and an iterator of
tasks, and yields exactly one answer per task, in order. Being a generator, it keeps what it built (networks
loaded from checkpoints, a GNU Go process, two players) from one task to the next, and releases it in its own
``finally`` when the tasks run out. Extra arguments are bound with ``functools.partial``; the work, its
arguments, the tasks and the answers must pickle.

In the parent, ``Farm.run(tasks)`` deals a task to each idle worker, taking the next one from ``tasks`` only when
a worker is free (so the caller can stop dealing from inside its iterable, e.g. once a test has decided), and
yields ``(task, answer)`` pairs as answers come back; ``Farm.stop(grace)`` ends the farm.

Workers are spawned, never forked: the parent runs threads (torch's intra-op pool, a trainer's background thread,
tqdm's monitor), and a forked child inherits their locks in whatever state they were, without the threads that
would release them; torch's thread pool in a forked child can hang. A spawned worker starts a fresh interpreter
and imports only what its work needs. Work that uses torch sets one thread per worker: N workers already share
the cores, and more threads per worker only add contention.

Guarantees:

- **One answer per task dealt**, given to the caller once. An answer from a worker that has since been written
  off is dropped.
- **A dead worker is replaced.** A worker that dies before answering (killed, crashed, or its work raised: the
  traceback is sent to the parent and logged there with the worker's id, and the worker exits non-zero) is
  logged, and a new process takes its id. Its task is dealt again to the replacement when the farm was made
  with ``replay_lost`` (tasks seeded so that a replay plays the same games); otherwise the caller gets a
  :class:`Lost` for it, and decides. ``max_restarts`` caps the replacements over the farm's life.
- **Workers never outlive the parent.** A watchdog thread in every worker checks the parent's pid every
  ``PARENT_CHECK_SECONDS`` and ends the process at once (``os._exit``: no clean-up that could block on a parent
  that is gone) when the parent has died, SIGKILL included, even in the middle of a minute-long task. A process
  the work started (GNU Go) sees its stdin close and exits too.
- **Ctrl-C is the parent's.** Workers ignore SIGINT, and so do the processes they start (GNU Go is never killed in
  the middle of an answer); the parent stops the farm: ``FarmWorker.stopping()`` turns true (work that can
  abandon a task midway should), answers that come within ``grace`` seconds are returned to the caller, and
  workers still running then are terminated.
- **Only the parent writes.** Answers come back as messages; the workers' log records go to the parent's handlers
  of the same logger, so every process writes to the one run log. (multiprocessing-logging, the library meant
  for this, wraps handlers for forked children only: its ``install_mp_handler`` refuses any other start method.
  The pipe here does what it does — format in the worker, handle in the parent — for spawned ones.)

Each worker has its own two pipes rather than queues shared by all: a pipe has no feeder thread that a worker
would wait on at exit (a worker never hangs flushing to a parent that stopped reading), a worker killed in the
middle of a message tears only its own channel, which is thrown away with it, and the parent sleeps until an
answer arrives or a process ends (its sentinel) instead of polling.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import logging.handlers
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

__all__ = ["BACKENDS", "EXIT_SECONDS", "PARENT_CHECK_SECONDS", "Farm", "FarmConfig", "FarmUnavailable", "FarmWorker",
           "Lost", "Work", "make_farm", "worker_count"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

PARENT_CHECK_SECONDS = 0.2
"""How often a worker's watchdog looks for its parent."""
EXIT_SECONDS = 5.0
"""How long an idle worker told to stop may take to exit (closing its GNU Go) before it is terminated."""


@dataclass(frozen=True)
class FarmWorker:
    """What a work function knows of the worker process it runs in."""

    id: int
    """0..N-1; a replacement keeps the id of the worker it replaces."""
    _stop: Any = field(repr=False)  # the farm's multiprocessing Event

    def stopping(self) -> bool:
        """True once the parent stops the farm; work that can abandon a task midway (between moves) should."""
        return bool(self._stop.is_set())


Work = Callable[[FarmWorker, Iterator[T]], Iterator[R]]
"""``work(worker, tasks)``: a generator that yields one answer per task it takes, in order."""


@dataclass(frozen=True)
class Lost:
    """In place of an answer: the task's worker died before answering (farms without ``replay_lost``)."""

    worker: int
    reason: str
    """``worker 1 exited with status -9``, ``worker 0 failed: ValueError: ...``."""


BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class FarmConfig:
    """Where workers run (the ``[farm]`` table of a run's configuration, ``--farm``): this machine's processes,
    or actors on a Ray cluster (``selfplay.ray_farm``)."""

    backend: str = "local"
    """``local`` (processes on this machine) or ``ray``."""
    address: str = ""
    """Ray only: ``auto``, ``host:port`` of a cluster's head, or empty: ``RAY_ADDRESS``, else a local Ray."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"farm.backend = {self.backend!r}: expected one of {', '.join(BACKENDS)}")
        if self.address and self.backend != "ray":
            raise ValueError(f"farm.address = {self.address!r} is for farm.backend = \"ray\"")

    def check(self) -> None:
        """Raise FarmUnavailable (one line: how to get it) when the backend cannot run here."""
        if self.backend == "ray":
            import importlib.util

            if importlib.util.find_spec("ray") is None:
                raise FarmUnavailable("farm backend ray needs Ray: pip install 'minigo[ray]' (or pip install ray)")


class FarmUnavailable(RuntimeError):
    """The chosen farm backend cannot run here; the message says how to install it."""


def make_farm(work: Work, workers: int, *, name: str, replay_lost: bool = False, max_restarts: int | None = None,
              config: FarmConfig | None = None, resources: dict[str, float] | None = None) -> Farm:
    """A farm of ``workers`` running ``work`` on ``config``'s backend (this machine's processes by default);
    ``resources`` (Ray only) are what each worker needs beyond a CPU, e.g. ``{"gnugo": 1}``."""
    config = config or FarmConfig()
    if config.backend == "local":
        return Farm(work, workers, name=name, replay_lost=replay_lost, max_restarts=max_restarts)
    config.check()
    from selfplay.ray_farm import RayFarm

    return RayFarm(work, workers, name=name, replay_lost=replay_lost,  # type: ignore[return-value]
                   max_restarts=max_restarts, address=config.address, resources=resources)


def worker_count(requested: int = 0, config: FarmConfig | None = None) -> int:
    """``requested`` workers, or with 0 one per core: this machine's, or the Ray cluster's."""
    if requested:
        return requested
    if config is not None and config.backend == "ray":
        config.check()
        from selfplay.ray_farm import cluster_cpus, connect

        connect(config.address)
        return cluster_cpus()
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# -- messages from a worker to the parent ---------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    ticket: int
    answer: Any


@dataclass(frozen=True)
class _Failed:
    error: str
    """The traceback of the exception that escaped the work."""


@dataclass(frozen=True)
class _Log:
    record: logging.LogRecord


# -- the worker process ------------------------------------------------------------------------------------


class _PipeHandler(logging.handlers.QueueHandler):
    """Sends each record to the parent; QueueHandler's ``prepare`` formats it first, so that it pickles."""

    def __init__(self, send: Callable[[object], None]) -> None:
        super().__init__(None)  # type: ignore[arg-type] - records go to ``send``, not to a queue
        self._send = send

    def enqueue(self, record: logging.LogRecord) -> None:
        self._send(_Log(record))


def _watch_parent(parent_pid: int) -> None:
    """Start a daemon thread that ends this process as soon as its parent is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        # An orphan: exit at once. A normal exit would run the work's clean-up and flush to pipes nobody reads.
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _worker_main(work: Work, worker_id: int, inbox: Connection, outbox: Connection, stop: Any, parent_pid: int,
                 level: int) -> None:
    """A worker process: run ``work`` over the tasks that come through ``inbox``, answers out through ``outbox``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # before the work starts any process, so that it inherits it
    _watch_parent(parent_pid)
    lock = threading.Lock()  # the work's own threads (a GTP client's readers) log too

    def send(message: object) -> None:
        with lock:
            outbox.send(message)

    root = logging.getLogger()
    root.handlers = [_PipeHandler(send)]
    root.setLevel(level)
    ticket: int | None = None  # the task being worked on

    def tasks() -> Iterator[Any]:
        nonlocal ticket
        while not stop.is_set():
            assert ticket is None, "the work took a task before answering the last one"
            try:
                if not inbox.poll(0.5):  # wake now and then to see ``stop``
                    continue
                message = inbox.recv()
            except (EOFError, OSError):
                os._exit(0)  # the parent is gone (it held the only other end)
            if message is None:
                return
            ticket, task = message
            yield task

    try:
        for answer in work(FarmWorker(worker_id, stop), tasks()):
            assert ticket is not None, "the work answered no task"
            send(_Answer(ticket, answer))
            ticket = None
    except Exception:  # noqa: BLE001 - reported to the parent, which logs it and replaces this worker
        with contextlib.suppress(OSError):
            send(_Failed(traceback.format_exc()))
        sys.exit(1)


# -- the parent ------------------------------------------------------------------------------------------------


@dataclass
class _Slot:
    """The parent's handle on one worker: its process, its two pipes, the task it holds."""

    id: int
    process: BaseProcess
    tasks: Connection
    """Parent -> worker: ``(ticket, task)``, or None to finish."""
    answers: Connection
    """Worker -> parent: ``_Answer``, ``_Failed`` and ``_Log`` messages."""
    task: Any = None
    ticket: int = -1
    readable: bool = True
    """False once ``answers`` has reached its end (the worker has exited)."""


class Farm(Generic[T, R]):
    """N worker processes running ``work``; see the module docstring. Use as a context manager, or call ``stop``."""

    def __init__(self, work: Work, workers: int, *, name: str, replay_lost: bool = False,
                 max_restarts: int | None = None) -> None:
        """``name`` names the processes (``{name}-{id}``) and the farm in the log; ``replay_lost`` deals a task
        whose worker died again instead of answering it with ``Lost``; ``max_restarts`` (None: no cap) makes the
        replacement after that many a RuntimeError."""
        if workers < 1:
            raise ValueError(f"workers {workers} must be at least 1")
        self.name = name
        self.work = work
        self.replay_lost = replay_lost
        self.max_restarts = max_restarts
        self.restarts = 0
        """Workers replaced so far."""
        self._context = mp.get_context("spawn")
        self._stop = self._context.Event()
        self._tickets = itertools.count()
        self._stopped = False
        self._slots: list[_Slot] = []
        try:
            for worker in range(workers):
                self._slots.append(self._start(worker))
        except BaseException:
            self.stop(grace=0.0)
            raise

    def __enter__(self) -> Farm[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def processes(self) -> list[BaseProcess]:
        """The worker processes, by worker id (a replacement in its predecessor's place)."""
        return [slot.process for slot in self._slots]

    def pids(self) -> list[int]:
        """The workers' process ids, by worker id (as ``RayFarm.pids``: for tests that kill one)."""
        return [slot.process.pid for slot in self._slots]

    def run(self, tasks: Iterable[T]) -> Iterator[tuple[T, R | Lost]]:
        """Deal ``tasks`` (never None) to the workers, one each at a time, and yield ``(task, answer)`` as answers
        come back, in the order they come; ``answer`` is a ``Lost`` for a task whose worker died, unless the farm
        replays lost tasks. Ends when ``tasks`` is exhausted and every task dealt is answered; the farm can run
        again, one run at a time (runs from two threads must take turns)."""
        if self._stopped:
            raise RuntimeError(f"the {self.name} farm is stopped")
        source = iter(tasks)

        def deal_next(slot: _Slot) -> None:
            task = next(source, None)  # asked only now, after the caller has seen the answer before
            if task is not None:
                self._deal(slot, task)

        for slot in self._slots:
            if slot.task is None:
                deal_next(slot)
        while any(slot.task is not None for slot in self._slots):
            for slot, task, answer in self._collect():
                if isinstance(answer, Lost) and self.replay_lost:
                    self._deal(slot, task)  # to the replacement
                    continue
                yield task, answer
                deal_next(slot)

    def stop(self, grace: float = 5.0) -> list[tuple[T, R]]:
        """Stop the workers and free them; returns the answers to tasks in flight that came within ``grace`` s.

        Workers are told to stop (no task follows the one they hold, and ``FarmWorker.stopping()`` turns true);
        idle ones get ``EXIT_SECONDS`` to exit, and any worker still running after that is terminated. A second
        call does nothing.
        """
        if self._stopped:
            return []
        self._stopped = True
        self._stop.set()
        for slot in self._slots:
            with contextlib.suppress(OSError):
                slot.tasks.send(None)
        answered = self._drain(lambda: any(slot.task is not None for slot in self._slots), grace)
        for slot in self._slots:
            if slot.task is not None:  # still busy after the grace: its answer is not waited for
                slot.task = None
                slot.process.terminate()
        self._drain(lambda: any(slot.process.is_alive() for slot in self._slots), EXIT_SECONDS)
        for slot in self._slots:
            self._end(slot)
        return answered

    def close(self) -> None:
        """``stop`` without waiting for tasks in flight."""
        self.stop(grace=0.0)

    # -- internals -------------------------------------------------------------------------------------------

    def _start(self, worker: int) -> _Slot:
        task_reader, task_writer = self._context.Pipe(duplex=False)
        answer_reader, answer_writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_worker_main, name=f"{self.name}-{worker}", daemon=True,
            args=(self.work, worker, task_reader, answer_writer, self._stop, os.getpid(),
                  logging.getLogger().getEffectiveLevel()))
        process.start()
        # The worker has its own copies now. Without ours, each side sees end-of-file when the other is gone.
        task_reader.close()
        answer_writer.close()
        return _Slot(worker, process, task_writer, answer_reader)

    def _deal(self, slot: _Slot, task: T) -> None:
        slot.task, slot.ticket = task, next(self._tickets)
        with contextlib.suppress(OSError):  # a worker that has died: its sentinel will say so
            slot.tasks.send((slot.ticket, task))

    def _read(self, slot: _Slot) -> tuple[list[tuple[_Slot, Any, Any]], str | None]:
        """Everything ``slot``'s worker has sent so far: answers to its task (logs go to the log), and why the
        worker is gone, if it is."""
        answered: list[tuple[_Slot, Any, Any]] = []
        while slot.readable:
            try:
                if not slot.answers.poll():
                    break
                message = slot.answers.recv()
            except (EOFError, OSError):
                slot.readable = False
                return answered, f"exited with status {self._exit_code(slot)}"
            except Exception as exc:  # noqa: BLE001 - a message torn by a kill, or an answer that does not unpickle
                slot.readable = False
                return answered, f"sent a message that could not be read ({type(exc).__name__}: {exc})"
            if isinstance(message, _Log):
                record = message.record
                logging.getLogger(None if record.name == "root" else record.name).handle(record)
            elif isinstance(message, _Answer):
                if slot.task is not None and message.ticket == slot.ticket:
                    answered.append((slot, slot.task, message.answer))
                    slot.task = None
            elif isinstance(message, _Failed):
                log.error("%s worker %d failed:\n%s", self.name, slot.id, message.error.rstrip())
                slot.readable = False
                return answered, f"failed: {message.error.rstrip().splitlines()[-1]}"
        return answered, None

    def _collect(self) -> list[tuple[_Slot, Any, Any]]:
        """Wait for answers or deaths; the answers, and a ``Lost`` for each task whose worker died (replaced)."""
        slots = list(self._slots)
        ready = set(wait([s.answers for s in slots if s.readable] + [s.process.sentinel for s in slots]))
        events: list[tuple[_Slot, Any, Any]] = []
        for slot in slots:  # once each: a replacement's sentinel may reuse its predecessor's number
            ended = slot.process.sentinel in ready
            if not ended and slot.answers not in ready:
                continue
            answered, gone = self._read(slot)  # when it ended, what it sent first
            events += answered
            if gone is not None or ended:
                events += self._replace(slot, gone or f"exited with status {self._exit_code(slot)}")
        return events

    def _replace(self, slot: _Slot, why: str) -> list[tuple[_Slot, Any, Any]]:
        """Put a new worker in ``slot``; a ``Lost`` for the task the old one held, if any."""
        task = slot.task
        again = task is not None and self.replay_lost
        log.warning("%s worker %d %s; restarting it%s", self.name, slot.id, why,
                    " and dealing its task again" if again else "")
        self._end(slot)
        slot.task = None
        self.restarts += 1
        if self.max_restarts is not None and self.restarts > self.max_restarts:
            raise RuntimeError(f"{self.name} workers failed {self.restarts} times; giving up (see the log)")
        new = self._start(slot.id)
        slot.process, slot.tasks, slot.answers, slot.readable = new.process, new.tasks, new.answers, True
        return [] if task is None else [(slot, task, Lost(slot.id, f"worker {slot.id} {why}"))]

    def _drain(self, busy: Callable[[], bool], seconds: float) -> list[tuple[T, R]]:
        """Read what the workers send while ``busy()``, for at most ``seconds``; answers to tasks in flight come
        back, and a worker that ends loses its task (nothing is replaced: the farm is stopping)."""
        deadline = time.monotonic() + seconds
        answered: list[tuple[T, R]] = []
        while busy() and (left := deadline - time.monotonic()) > 0:
            slots = [s for s in self._slots if s.readable or s.process.is_alive()]
            ready = set(wait([s.answers for s in slots if s.readable] + [s.process.sentinel for s in slots], left))
            for slot in slots:
                ended = slot.process.sentinel in ready
                if ended or slot.answers in ready:
                    events, gone = self._read(slot)
                    answered += [(task, answer) for _, task, answer in events]
                    if gone is not None or ended:
                        slot.task = None
        return answered

    @staticmethod
    def _exit_code(slot: _Slot) -> int | None:
        slot.process.join(timeout=5.0)  # it has closed its pipe or its sentinel fired: the exit is under way
        return slot.process.exitcode

    @staticmethod
    def _end(slot: _Slot) -> None:
        """Make sure ``slot``'s process is gone, and close its pipes."""
        process = slot.process
        if process.is_alive():
            process.terminate()
            process.join(timeout=EXIT_SECONDS)
        if process.is_alive():
            process.kill()
            process.join(timeout=EXIT_SECONDS)
        slot.tasks.close()
        slot.answers.close()
        slot.readable = False
