"""The task farm (``selfplay.farm``): every task answered once, a killed worker's task dealt again or reported lost,
a failing work logged with its traceback, workers' log records in the parent's log, and workers (of a bare farm and
of ``minigo eval``) that exit when their parent is killed in the middle of a long task."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from selfplay.farm import FarmConfig, FarmWorker, Lost, make_farm

logger = logging.getLogger(__name__)


@pytest.fixture(params=["local", "ray"])
def backend(request) -> str:
    """Each contract test runs on both farms: this machine's processes and Ray actors (a small local cluster)."""
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
    return request.param


def _farm(backend: str, work, workers: int, **options):
    return make_farm(work, workers, name=options.pop("name"), config=FarmConfig(backend), **options)


def _square(worker: FarmWorker, tasks: Iterator[int]) -> Iterator[tuple[int, int]]:
    for number in tasks:
        if number < 0:
            raise ValueError(f"no square for {number}")
        logger.warning("worker %d squares %d", worker.id, number)
        yield worker.id, number * number


def _nap(folder: str, worker: FarmWorker, tasks: Iterator[float]) -> Iterator[float]:
    """Sleep for each task, after leaving a file named by this process's pid: it is busy now."""
    for seconds in tasks:
        (Path(folder) / str(os.getpid())).touch()
        time.sleep(seconds)
        yield seconds


def test_every_task_is_answered_once_and_worker_logs_reach_the_parent(caplog, backend):
    with caplog.at_level(logging.WARNING), _farm(backend, _square, 2, name="square") as farm:
        answers = dict(farm.run(range(6)))
        again = dict(farm.run([7]))  # a farm runs more than once
    assert {task: square for task, (_, square) in answers.items()} == {n: n * n for n in range(6)}
    assert {worker for worker, _ in answers.values()} <= {0, 1}
    assert again[7][1] == 49 and farm.restarts == 0
    assert "worker 0 squares" in caplog.text or "worker 1 squares" in caplog.text


def test_a_work_that_raises_is_logged_with_its_traceback_and_the_worker_replaced(caplog, backend):
    with caplog.at_level(logging.WARNING), _farm(backend, _square, 1, name="square") as farm:
        answers = list(farm.run([-1, 3]))
    assert answers[0] == (-1, Lost(0, "worker 0 failed: ValueError: no square for -1"))
    assert answers[1] == (3, (0, 9))  # its replacement took the next task
    assert farm.restarts == 1
    assert "square worker 0 failed:\nTraceback" in caplog.text and "raise ValueError" in caplog.text


def _kill_first_busy_worker(folder: Path) -> threading.Thread:
    def kill() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = list(folder.iterdir())
            if busy:
                os.kill(int(busy[0].name), signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    return killer


@pytest.mark.parametrize("replay", [True, False])
def test_a_killed_workers_task_is_dealt_again_or_reported_lost(tmp_path, replay, backend):
    killer = _kill_first_busy_worker(tmp_path)
    with _farm(backend, functools.partial(_nap, str(tmp_path)), 2, name="nap", replay_lost=replay) as farm:
        answers = dict(farm.run([2.0, 2.5]))
    killer.join()
    assert farm.restarts == 1
    if replay:
        assert answers == {2.0: 2.0, 2.5: 2.5}
    else:
        [(task, lost)] = [(task, a) for task, a in answers.items() if isinstance(a, Lost)]
        assert answers[4.5 - task] == 4.5 - task  # the other task was answered
        died = f"exited with status {-signal.SIGKILL}" if backend == "local" else "died (ActorDiedError)"
        assert lost.reason == f"worker {lost.worker} {died}"


# ------------------------------------------------------------------------------------------------ orphans

BARE_FARM = """
import functools, sys
from selfplay.farm import FarmConfig, make_farm
from test_farm import _nap

if __name__ == "__main__":
    backend = sys.argv[2] if len(sys.argv) > 2 else "local"
    with make_farm(functools.partial(_nap, sys.argv[1]), 2, name="nap", config=FarmConfig(backend)) as farm:
        list(farm.run([600.0, 600.0]))
"""

SLOW_MATCH = """
import os, sys, time
from pathlib import Path
from minigo.players import PlayerKind, RandomPlayer
from selfplay import matches
from selfplay.player_kinds import register_kind

class Slow(RandomPlayer):
    def play(self, position):
        (Path(sys.argv[1]) / str(os.getpid())).touch()
        time.sleep(600)  # an MCTS move can take this long, as far as the test can tell
        return super().play(position)

register_kind("slow", PlayerKind(lambda spec: Slow(), (), "slow"))  # at import: the spawned workers run this too

if __name__ == "__main__":
    config = matches.MatchConfig(a="slow", b="random", out=Path(sys.argv[1]).parent / "match", games=4, size=5,
                                  workers=2)
    matches.run_match(config, progress=False, check=False)
"""


def _running(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (a zombie has exited: only its parent's wait for it is missing)."""
    running = []
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                running.append(pid)
    return running


@pytest.mark.parametrize("program,backend", [(BARE_FARM, "local"), (SLOW_MATCH, "local"), (BARE_FARM, "ray")],
                         ids=["farm", "minigo-eval", "ray-farm"])
def test_busy_workers_exit_when_their_parent_is_killed(tmp_path, program, backend, request):
    if backend == "ray":  # the parent starts its own local cluster; this only checks that Ray is here
        request.getfixturevalue("ray_cluster")
    script, busy, stderr = tmp_path / "parent.py", tmp_path / "busy", tmp_path / "stderr.txt"
    script.write_text(textwrap.dedent(program))
    busy.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}  # the bare farm imports _nap from here
    with open(stderr, "w") as err:
        parent = subprocess.Popen([sys.executable, str(script), str(busy), backend], stdout=subprocess.DEVNULL,
                                  stderr=err, env=env)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while len(workers) < 2 and parent.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = [int(path.name) for path in busy.iterdir()]
        assert len(workers) == 2, f"the workers did not start their tasks: {stderr.read_text()[-2000:]}"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        # the watchdog looks every 0.2 s (Ray: the raylet sees its driver gone); the rest is slack for a busy machine
        deadline = time.monotonic() + (10 if backend == "local" else 30)
        while _running(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(workers), f"workers {_running(workers)} outlived their killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in _running(workers):
            os.kill(pid, signal.SIGKILL)
