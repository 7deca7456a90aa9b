"""A GTP v2 client: drive an external Go engine (GNU Go, or any GTP program) as a subprocess.

``GTPEngine(argv)`` starts the program with pipes on stdin and stdout; ``send("genmove black")``
writes one command and returns the engine's answer as text. A GTP v2 response starts with ``=``
(success) or ``?`` (failure), optionally followed by the command's numeric id, and ends with an
empty line; multi-line answers (``showboard``, ``list_commands``, ``printsgf``) are returned whole,
one string with ``\\n`` between lines.

Failures are exceptions a caller can act on:

- ``GTPError``: the engine answered ``? ...``; it is still running and can take more commands.
- ``EngineDied``: the process exited or closed its stdout; the message names the engine, its exit
  status and the last lines it wrote to stderr.
- ``EngineTimeout`` (an ``EngineDied``): no complete answer arrived in time; the process is killed.

A daemon thread reads stdout line by line into a queue, so ``send`` can wait with a timeout instead
of blocking forever; another keeps a bounded tail of stderr so the engine never blocks on a full
stderr pipe. ``close()`` (or leaving a ``with`` block) sends ``quit``, then terminates and finally
kills the process, and always reaps it, so no zombie is left behind.

``GTPEngine.gnugo(level=..., size=..., komi=...)`` starts GNU Go with Chinese (area) rules,
positional superko (or simple ko) and ``--capture-all-dead``, the rules this project plays by.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from types import TracebackType

logger = logging.getLogger(__name__)

GNUGO_FALLBACK = "/usr/games/gnugo"
STDERR_TAIL_LINES = 40
CLOSE_TIMEOUT = 2.0

_EOF = None  # sentinel the stdout reader puts on the queue when the engine closes stdout


def find_gnugo() -> str | None:
    """Path of the GNU Go executable: ``gnugo`` on PATH, else /usr/games/gnugo if executable, else None."""
    found = shutil.which("gnugo")
    if found:
        return found
    if os.path.isfile(GNUGO_FALLBACK) and os.access(GNUGO_FALLBACK, os.X_OK):
        return GNUGO_FALLBACK
    return None


class GTPError(RuntimeError):
    """The engine answered a command with ``? message``; the engine is still usable."""

    def __init__(self, command: str, message: str, engine: str = "engine") -> None:
        self.command = command
        self.message = message
        self.engine = engine
        super().__init__(f"{engine} refused {command!r}: {message}")


class EngineDied(RuntimeError):
    """The engine process exited or closed its stdout before answering."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr_tail: str = "") -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        super().__init__(message)


class EngineTimeout(EngineDied):
    """No complete answer arrived within the timeout; the engine has been killed."""


class GTPEngine:
    """One external GTP engine running as a child process.

    ``argv`` is the command line (``["gnugo", "--mode", "gtp"]``); ``name`` is used in error messages
    (default: the program's base name); ``timeout`` is the default number of seconds ``send`` waits
    for a complete answer.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        timeout: float = 30.0,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("argv is empty: expected the engine's command line, ['gnugo', '--mode', 'gtp']")
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.timeout = float(timeout)
        self._lock = threading.Lock()
        self._closed = False
        self._eof = False
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        self._stdout_thread = threading.Thread(
            target=self._read_stdout, name=f"gtp-stdout-{self.name}", daemon=True
        )
        self._stderr_thread = threading.Thread(
            target=self._read_stderr, name=f"gtp-stderr-{self.name}", daemon=True
        )
        self._stdout_thread.start()
        self._stderr_thread.start()
        logger.debug("started %s (pid %d): %s", self.name, self._proc.pid, " ".join(self.argv))

    # ----------------------------------------------------------------- construction helpers

    @classmethod
    def gnugo(
        cls,
        level: int = 10,
        *,
        size: int = 9,
        komi: float = 7.5,
        superko: bool = True,
        extra_args: Sequence[str] = (),
        timeout: float = 30.0,
    ) -> GTPEngine:
        """Start GNU Go in GTP mode with area rules, positional superko (or simple ko) and
        ``--capture-all-dead``, then set up an empty ``size`` x ``size`` board with ``komi``.

        Raises ``FileNotFoundError`` when GNU Go is not installed.
        """
        path = find_gnugo()
        if path is None:
            raise FileNotFoundError(
                "GNU Go not found: install it with `apt-get install gnugo` (it lands in /usr/games/gnugo)"
            )
        argv = [
            path,
            "--mode",
            "gtp",
            "--level",
            str(int(level)),
            "--chinese-rules",
            "--positional-superko" if superko else "--simple-ko",
            "--capture-all-dead",
            *extra_args,
        ]
        engine = cls(argv, name="GNU Go", timeout=timeout)
        try:
            engine.send(f"boardsize {int(size)}")
            engine.send("clear_board")
            engine.send(f"komi {float(komi)}")
        except BaseException:
            engine.close()
            raise
        return engine

    # ----------------------------------------------------------------- reader threads

    def _read_stdout(self) -> None:
        stream = self._proc.stdout
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                self._lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        except (OSError, ValueError):  # pipe closed under us during close()
            pass
        finally:
            self._lines.put(_EOF)

    def _read_stderr(self) -> None:
        stream = self._proc.stderr
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self._stderr_tail.append(line)
                logger.debug("%s stderr: %s", self.name, line)
        except (OSError, ValueError):
            pass

    # ----------------------------------------------------------------- state

    @property
    def alive(self) -> bool:
        """True while the process runs and ``close()`` has not been called."""
        return not self._closed and self._proc.poll() is None

    @property
    def pid(self) -> int:
        """The engine's process id."""
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended, else None."""
        return self._proc.poll()

    def stderr_tail(self) -> str:
        """The last lines (at most ``STDERR_TAIL_LINES``) the engine wrote to stderr."""
        return "\n".join(self._stderr_tail)

    # ----------------------------------------------------------------- the protocol

    def send(self, command: str, timeout: float | None = None) -> str:
        """Send one GTP command and return the engine's answer (without ``=``, id and the final blank line).

        Raises ``ValueError`` for a command containing a newline, ``GTPError`` when the engine answers
        ``?``, ``EngineDied`` when it is gone and ``EngineTimeout`` when no complete answer arrives
        within ``timeout`` seconds (default: the engine's ``timeout``); the engine is then killed.
        """
        if "\n" in command or "\r" in command:
            raise ValueError(f"GTP command {command!r} contains a newline: send one command at a time")
        command = command.strip()
        if not command:
            raise ValueError("empty GTP command: the engine would not answer it")
        wait = self.timeout if timeout is None else float(timeout)
        with self._lock:
            if self._closed:
                raise EngineDied(f"{self.name} has been closed; cannot send {command!r}")
            self._write(command)
            ok, text = self._read_response(command, wait)
        if not ok:
            raise GTPError(command, text, self.name)
        return text

    def _write(self, command: str) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write((command + "\n").encode("utf-8"))
            stdin.flush()
        except (BrokenPipeError, ConnectionResetError, OSError, ValueError) as exc:
            raise self._died(command, f"could not write the command ({exc.__class__.__name__})") from None

    def _read_response(self, command: str, wait: float) -> tuple[bool, str]:
        deadline = time.monotonic() + wait
        lines: list[str] = []
        ok = True
        while True:
            if self._eof:
                raise self._died(command, "closed its output")
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=remaining) if remaining > 0 else self._lines.get_nowait()
            except queue.Empty:
                self._kill()
                raise EngineTimeout(
                    self._death_message(command, f"gave no complete answer within {wait:g} s and was killed"),
                    returncode=self._proc.returncode,
                    stderr_tail=self.stderr_tail(),
                ) from None
            if line is _EOF:
                self._eof = True
                continue
            line = line.replace("\t", " ")
            if not lines:
                if not line.strip():
                    continue  # blank lines before an answer carry nothing
                if line[0] not in "=?":
                    logger.warning("%s wrote a line that is not a GTP answer, ignored: %r", self.name, line)
                    continue
                ok = line[0] == "="
                lines.append(_strip_status(line))
            elif line.strip():
                lines.append(line)
            else:
                break
        if len(lines) > 1 and not lines[0]:
            lines = lines[1:]  # GNU Go's showboard starts on the line after "="
        return ok, "\n".join(lines).rstrip()

    # ----------------------------------------------------------------- failure and shutdown

    def _death_message(self, command: str, what: str) -> str:
        status = self._proc.poll()
        status_text = "still running" if status is None else f"exit status {status}"
        tail = self.stderr_tail()
        tail_text = f"; last stderr lines:\n{tail}" if tail else "; no stderr output"
        return f"{self.name} {what} while running {command!r} ({status_text}){tail_text}"

    def _died(self, command: str, what: str) -> EngineDied:
        # Give the process a moment to finish exiting so the status and stderr tail are meaningful.
        try:
            self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        self._stderr_thread.join(timeout=0.5)
        return EngineDied(
            self._death_message(command, what),
            returncode=self._proc.poll(),
            stderr_tail=self.stderr_tail(),
        )

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        try:
            self._proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that survives SIGKILL
            logger.error("%s (pid %d) did not exit after SIGKILL", self.name, self._proc.pid)
        self._stderr_thread.join(timeout=0.5)

    def close(self) -> None:
        """Send ``quit``, then terminate or kill the process if it lingers; safe to call more than once."""
        if self._closed:
            return
        if self._proc.poll() is None and not self._eof:
            try:
                self.send("quit", timeout=CLOSE_TIMEOUT)
            except (GTPError, EngineDied):
                pass
        with self._lock:
            self._closed = True
            proc = self._proc
            if proc.stdin is not None:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=CLOSE_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._kill()
            # Close each pipe only once its reader has seen end-of-file (closing a stream under a
            # blocked reader could hang); a pipe still held open by a grandchild is left to the GC.
            for thread, stream in ((self._stdout_thread, proc.stdout), (self._stderr_thread, proc.stderr)):
                thread.join(timeout=1.0)
                if stream is not None and not thread.is_alive():
                    try:
                        stream.close()
                    except OSError:
                        pass
        logger.debug("closed %s (exit status %s)", self.name, self._proc.returncode)

    def __enter__(self) -> GTPEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "alive" if self.alive else f"stopped ({self._proc.returncode})"
        return f"<GTPEngine {self.name} pid={self._proc.pid} {state}>"


def _strip_status(line: str) -> str:
    """The text of an answer's first line after ``=`` or ``?``, the optional numeric id and the spaces."""
    i = 1
    while i < len(line) and line[i].isdigit():
        i += 1
    return line[i:].strip()
