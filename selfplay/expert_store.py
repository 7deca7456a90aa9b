"""The folder of an expert-games run: the games on disk (``GameStore``), its card, and bundles of its games.

- ``GameStore`` knows every game in ``OUT/games/{i:06d}.sgf`` (read back from their root comments), writes new
  ones atomically, drops a game whose move sequence repeats one on disk (``duplicate``), and keeps
  ``OUT/dropped.json``: every drop with its seed, so that a resumed run plays each index's next seed. Only
  the parent process uses it.
- ``write_card`` writes ``OUT/CARD.md``: command, GNU Go version, rules, schedule, games per level with mean
  seconds per game, dropped games by reason, score disagreements.
- :func:`pack_games` writes all games of a folder, sorted by index, as one gzip'd SGF collection;
  :func:`unpack_games` writes a bundle back to per-game files, so a later session can resume from a bundle.
  ``dropped.json`` does not travel in a bundle: a run resumed from one replays the dropped seeds once (they
  drop again, deterministically, and the index moves on to the seed that was kept).
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import json
import logging
import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minigo.atomic import write_atomic
from minigo.gtp_client import find_gnugo
from minigo.record import GameRecord
from minigo.sgf import SGFError, parse_collection, save
from selfplay.expert_game import (
    DUPLICATE,
    ENGINE_FAILURE,
    ILLEGAL,
    OPENING_COMMENT,
    ExpertOutcome,
    game_key,
    parse_root,
    result_score,
)
from selfplay.game_runs import indexed_games

__all__ = ["CARD_NAME", "DROPPED_NAME", "GAMES_FOLDER", "RUN_NAME", "SEEDS_PER_INDEX", "GameStore", "StoredGame",
           "gnugo_version", "pack_games", "unpack_games", "write_card"]

logger = logging.getLogger(__name__)

GAMES_FOLDER = "games"
CARD_NAME = "CARD.md"
DROPPED_NAME = "dropped.json"
RUN_NAME = "run.json"
_NOT_REPLAYED = (DUPLICATE, ILLEGAL)  # deterministic given the seed: the index moves on to its next seed
SEEDS_PER_INDEX = 8
"""Seeds an index may use up on duplicate or illegal games before it is left empty. GNU Go at level 10 nearly
always answers a position the same way, so a game with no or one random opening move often repeats an earlier
one: with 4 seeds, 14 of the 5,000 indices of the 9x9 schedule (7 of them at level 10) used them all up."""


@dataclass(frozen=True)
class StoredGame:
    """What the store remembers of a game on disk (from its root comment)."""

    level: int
    seed: int
    opening: int
    result: str
    gnugo_result: str
    seconds: float | None


def _stored(record: GameRecord, fallback_level: int = -1) -> StoredGame:
    info = parse_root(record.comment) or {}
    seconds = info.get("seconds")
    return StoredGame(
        level=int(info.get("level") or fallback_level), seed=int(info.get("seed") or -1),
        opening=int(info.get("opening") or 0), result=record.result,
        gnugo_result="" if info.get("gnugo") in (None, "-") else str(info["gnugo"]),
        seconds=float(seconds) if seconds else None,
    )


def _disagrees(result: str, gnugo_result: str) -> bool:
    ours, theirs = result_score(result), result_score(gnugo_result)
    return ours is not None and theirs is not None and ours != theirs


class GameStore:
    """The games of a run folder: what is on disk, what was dropped, and the writing of new games.

    Only the parent process uses it. Loading reads every game file (for the move-sequence digests that
    catch duplicates, and for the card); a file that cannot be read is logged and its index played again.
    """

    def __init__(self, out: Path, size: int) -> None:
        self.out = Path(out)
        self.size = size
        self.games_dir = self.out / GAMES_FOLDER
        self.games: dict[int, StoredGame] = {}
        self.keys: dict[str, int] = {}
        self.dropped: list[dict[str, Any]] = []
        self._attempts: Counter[int] = Counter()
        self.session_dropped: Counter[str] = Counter()
        self.session_seconds: dict[int, list[float]] = {}
        self._load()

    def _load(self) -> None:
        for index, path in indexed_games(self.games_dir, 6):
            try:
                records = parse_collection(path.read_bytes().decode("utf-8"))
            except (SGFError, UnicodeDecodeError, OSError) as exc:
                logger.warning("%s cannot be read, its game will be played again: %s", path, exc)
                continue
            record = records[0]
            self.games[index] = _stored(record)
            self.keys.setdefault(game_key(record), index)
        path = self.out / DROPPED_NAME
        if path.is_file():
            try:
                self.dropped = list(json.loads(path.read_text(encoding="utf-8"))["dropped"])
            except (ValueError, KeyError, TypeError, OSError) as exc:
                logger.warning("%s cannot be read, starting a new list of dropped games: %s", path, exc)
        self._attempts = Counter(int(entry.get("index", -1)) for entry in self.dropped
                                 if isinstance(entry, dict) and entry.get("reason") in _NOT_REPLAYED)

    def attempts(self, index: int) -> int:
        """Seeds of ``index`` used up so far: its games dropped for a reason that would recur (duplicate,
        illegal). The next game of the index is played with ``game_seed(run_seed, index, attempts)``."""
        return self._attempts.get(index, 0)

    @property
    def skipped(self) -> set[int]:
        """Indices that used up their ``SEEDS_PER_INDEX`` seeds: never played again."""
        return {index for index, used in self._attempts.items() if used >= SEEDS_PER_INDEX and index not in self.games}

    def pending(self, total: int) -> list[int]:
        """Indices below ``total`` still to play, in order."""
        return [index for index in range(total) if not self.handled(index)]

    def handled(self, index: int) -> bool:
        """Whether game ``index`` is written or skipped for good."""
        return index in self.games or index in self.skipped

    def path(self, index: int) -> Path:
        return self.games_dir / f"{index:06d}.sgf"

    def add(self, outcome: ExpertOutcome) -> str:
        """Write a finished game, or record why it was dropped; returns ``written`` or the drop reason."""
        task = outcome.task
        reason, detail = outcome.dropped, outcome.detail
        record = outcome.record
        if not reason and record is not None:
            key = game_key(record)
            twin = self.keys.get(key)
            if twin is None:
                self.games_dir.mkdir(parents=True, exist_ok=True)
                save(record, self.path(task.index))
                self.keys[key] = task.index
                stored = _stored(record, task.level)
                self.games[task.index] = stored
                self.session_seconds.setdefault(task.level, []).append(outcome.seconds)
                if _disagrees(record.result, outcome.gnugo_result):
                    logger.info("game %d (level %d): our score %s, GNU Go final_score %s", task.index, task.level,
                                record.result, outcome.gnugo_result)
                logger.debug("game %d (level %d): %s, %d moves, %.1f s", task.index, task.level, record.result,
                             len(record.moves), outcome.seconds)
                return "written"
            reason, detail = DUPLICATE, f"same moves as game {twin}"
        elif not reason:
            reason, detail = ENGINE_FAILURE, "no game came back"
        logger.warning("game %d (level %d) dropped (%s): %s", task.index, task.level, reason, detail)
        self.session_dropped[reason] += 1
        self.dropped.append({"index": task.index, "level": task.level, "seed": task.seed, "reason": reason,
                             "detail": detail})
        if reason in _NOT_REPLAYED:
            self._attempts[task.index] += 1
        text = json.dumps({"dropped": self.dropped}, indent=1) + "\n"
        self.out.mkdir(parents=True, exist_ok=True)
        write_atomic(self.out / DROPPED_NAME, text.encode("utf-8"))
        return reason

    def level_counts(self) -> Counter[int]:
        """Games on disk per level."""
        return Counter(game.level for game in self.games.values())

    def dropped_counts(self) -> Counter[str]:
        """Dropped games per reason, over every session of the run."""
        return Counter(str(entry.get("reason")) for entry in self.dropped)

    def disagreements(self) -> int:
        """Games on disk whose result differs from GNU Go's ``final_score``."""
        return sum(_disagrees(game.result, game.gnugo_result) for game in self.games.values())

    def postfix(self) -> str:
        """By-level counts for the progress bar: ``L1 12 L2 11 ... dropped 1``."""
        counts = self.level_counts()
        text = " ".join(f"L{level} {count}" for level, count in sorted(counts.items()))
        dropped = sum(self.session_dropped.values())
        return f"{text} dropped {dropped}" if dropped else text


# ------------------------------------------------------------------------------------------------ the card


def gnugo_version(path: str | None = None) -> str:
    """``GNU Go 3.8``: the first line of ``gnugo --version`` ("GNU Go" when it cannot be run)."""
    path = path or find_gnugo()
    if path is None:
        return "GNU Go"
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "GNU Go"
    lines = output.strip().splitlines()
    return lines[0].strip() if lines else "GNU Go"


def write_card(out: str | os.PathLike[str], note: str = "", store: GameStore | None = None) -> Path:
    """Write (or rewrite) ``OUT/CARD.md`` from the games on disk (``store``, else read from ``OUT``),
    ``dropped.json`` and ``run.json``."""
    out = Path(out)
    run: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        run = json.loads((out / RUN_NAME).read_text(encoding="utf-8"))
    if store is None:
        store = GameStore(out, int(run.get("size", 9)))
    planned = {int(level): int(count) for level, count in run.get("level_counts", {}).items()}
    seconds: dict[int, list[float]] = {}
    for game in store.games.values():
        if game.seconds is not None:
            seconds.setdefault(game.level, []).append(game.seconds)
    counts = store.level_counts()
    openings = Counter(game.opening for game in store.games.values())
    results = Counter(game.result[:1] if game.result else "?" for game in store.games.values())
    resigned = sum(game.result.endswith("+R") for game in store.games.values())
    dropped = store.dropped_counts()
    size = run.get("size", "?")
    lines = [
        "# Expert games: GNU Go self-play",
        "",
        f"- command: `{run.get('command', 'unknown (no run.json: games unpacked from a bundle?)')}`",
        f"- engine: {run.get('gnugo_version') or gnugo_version()}, the same level for both colours, "
        "`--chinese-rules --positional-superko --capture-all-dead`",
        f"- board: {size}x{size}, komi {run.get('komi', '?')}, Chinese (area) rules, positional superko",
        "- result (RE): our Tromp-Taylor score of the final position; `B+R`/`W+R` when GNU Go resigned; "
        "GNU Go's own `final_score` is in each root comment",
        f"- openings: each game starts with 0..{run.get('max_opening_moves', 3)} random moves (uniform count; "
        f"uniform over legal moves off the first line that do not fill an eye), commented `{OPENING_COMMENT}`",
        f"- schedule: `{run.get('levels', '?')}`"
        + (f", {run['games']} games" if run.get("games") else "") + f", seed {run.get('seed', '?')}",
        f"- updated: {datetime.datetime.now().isoformat(timespec='seconds')}",
    ]
    if note:
        lines.append(f"- {note}")
    lines += ["", "| level | planned | on disk | mean s/game |", "|---:|---:|---:|---:|"]
    for level in sorted(set(planned) | set(counts)):
        times = seconds.get(level, [])
        mean = f"{sum(times) / len(times):.1f}" if times else "-"
        lines.append(f"| {level} | {planned.get(level, '-')} | {counts.get(level, 0)} | {mean} |")
    lines.append(f"| total | {sum(planned.values()) if planned else '-'} | {len(store.games)} | |")
    lines += [
        "",
        f"Wins: Black {results.get('B', 0)}, White {results.get('W', 0)}, draws {results.get('0', 0)}; "
        f"{resigned} ended by resignation.",
        "Games by number of random opening moves: "
        + ", ".join(f"{k}: {openings[k]}" for k in sorted(openings)) + ".",
        f"Our score and GNU Go's final_score disagree in {store.disagreements()} games.",
        f"Dropped, each replayed with its index's next seed (at most {SEEDS_PER_INDEX} seeds an index): "
        f"{dropped.get(DUPLICATE, 0)} duplicates (same moves as an earlier game), "
        f"{dropped.get(ILLEGAL, 0)} illegal (a move our rules refused), {dropped.get(ENGINE_FAILURE, 0)} engine "
        "failures (GNU Go died, timed out or refused a command; replayed with the same seed).",
        f"Indices left empty (every seed dropped): {len(store.skipped)}.",
        "",
    ]
    path = out / CARD_NAME
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "\n".join(lines).encode("utf-8"))
    return path


# ------------------------------------------------------------------------------------------------ bundles


def pack_games(out: str | os.PathLike[str], bundle: str | os.PathLike[str]) -> int:
    """Write every game of ``OUT/games`` (by index) to ``bundle`` as one gzip'd SGF collection, atomically;
    update the card; return the number of games packed."""
    out, bundle = Path(out), Path(bundle)
    files = indexed_games(out / GAMES_FOLDER, 6)
    if not files:
        raise ValueError(f"{out / GAMES_FOLDER} holds no games (expected files such as 000000.sgf)")
    parts = []
    for _, path in files:
        text = path.read_bytes()
        parts.append(text if text.endswith(b"\n") else text + b"\n")
    bundle.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(bundle, gzip.compress(b"".join(parts), mtime=0))
    write_card(out, note=f"packed {len(files)} games into `{bundle}`")
    return len(files)


def unpack_games(bundle: str | os.PathLike[str], out: str | os.PathLike[str]) -> tuple[int, int]:
    """Write the games of a bundle (``pack_games``) back to ``OUT/games/{index:06d}.sgf``; games already
    there are kept. Returns (written, already there). Raises ``ValueError`` for a bundle that cannot be read
    or whose games carry no ``game N`` in their root comment."""
    bundle, out = Path(bundle), Path(out)
    try:
        text = gzip.decompress(bundle.read_bytes()).decode("utf-8")
        records = parse_collection(text)
    except (OSError, EOFError, UnicodeDecodeError, SGFError) as exc:
        raise ValueError(f"{bundle} is not a readable bundle of SGF games: {exc}") from None
    games_dir = out / GAMES_FOLDER
    games_dir.mkdir(parents=True, exist_ok=True)
    written = kept = 0
    for number, record in enumerate(records, start=1):
        info = parse_root(record.comment)
        if info is None:
            raise ValueError(f"{bundle}: game {number} has no 'minigo expert-games: game N' root comment")
        path = games_dir / f"{int(info['index']):06d}.sgf"
        if path.exists():
            kept += 1
            continue
        save(record, path)
        written += 1
    write_card(out, note=f"unpacked {written} games from `{bundle}` ({kept} were already there)")
    return written, kept
