"""Import of expert games: every game of a folder (recursive), an ``.sgf`` collection, an ``.sgf.gz``, or a
``.zip`` / ``.tar.gz`` / ``.tgz`` archive (:func:`load_games`), and the set bundled with the package
(:func:`bundled_games_path`). Games of another board size, handicap games and files that cannot be read are
skipped, each counted by reason (``SkipCounts``).
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from minigo.record import GameRecord
from minigo.sgf import SGFError, parse_collection

__all__ = ["BUNDLED_DIR", "SkipCounts", "bundled_games_path", "load_games"]

logger = logging.getLogger(__name__)


@dataclass
class SkipCounts:
    """Games and files ``load_games`` left out, by reason."""

    wrong_size: int = 0
    """Games on another board size."""
    handicap: int = 0
    """Games with handicap (``HA`` above 0) or setup stones."""
    unreadable: int = 0
    """Files (or archive members) that could not be read: SGF errors, bad encoding, broken compression.
    A collection with one bad game counts once, and none of its games is loaded."""

    @property
    def total(self) -> int:
        return self.wrong_size + self.handicap + self.unreadable

    def __str__(self) -> str:
        return (f"{self.wrong_size} of another size, {self.handicap} with handicap or setup stones, "
                f"{self.unreadable} unreadable files")


def _is_gzip_name(name: str) -> bool:
    return name.lower().endswith(".sgf.gz")


def _is_sgf_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(".sgf") or lower.endswith(".sgf.gz")


def _sources(path: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """(name, reader) of every SGF file in a folder or archive, in a stable order."""
    lower = path.name.lower()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() and _is_sgf_name(p.name)):
            yield str(file), file.read_bytes
    elif lower.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if _is_sgf_name(name) and not name.endswith("/"):
                    yield f"{path}:{name}", lambda name=name: archive.read(name)
    elif lower.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        with tarfile.open(path) as archive:
            for member in sorted(archive.getmembers(), key=lambda m: m.name):
                if member.isfile() and _is_sgf_name(member.name):
                    def read(member: tarfile.TarInfo = member) -> bytes:
                        handle = archive.extractfile(member)
                        return handle.read() if handle is not None else b""
                    yield f"{path}:{member.name}", read
    elif _is_sgf_name(lower):
        yield str(path), path.read_bytes
    else:
        raise ValueError(f"{path} is not an SGF file, a folder or an archive: expected a folder, .sgf, .sgf.gz, "
                         ".zip, .tar.gz or .tgz")


_CHARSET = re.compile(rb"(?<![A-Za-z])CA\s*\[([A-Za-z0-9_.:+-]{1,40})\]")


def _decode(data: bytes) -> str:
    """SGF bytes as text. A charset named by ``CA[]`` that Python knows must decode them (else
    ``UnicodeDecodeError``: a bad encoding); without one, UTF-8, else Latin-1 (the FF[4] default)."""
    match = _CHARSET.search(data)
    if match is not None:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except LookupError:  # a charset Python does not know: fall through to the defaults
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


BUNDLED_DIR = Path(__file__).parent / "bundled"


def bundled_games_path(size: int = 9) -> Path:
    """The expert games shipped inside the package for ``size`` (9x9 only), with their card beside them."""
    path = BUNDLED_DIR / f"gnugo-{size}x{size}.sgf.gz"
    if not path.exists():
        have = ", ".join(sorted(p.name for p in BUNDLED_DIR.glob("*.sgf.gz"))) or "none"
        raise ValueError(f"no bundled expert games for {size}x{size} (bundled: {have}); give a folder of SGF games "
                         f"with --set sl.data=PATH, or make some with minigo expert-games")
    return path


def load_games(path: str | os.PathLike[str], size: int = 9, ko: str = "positional") -> tuple[list[GameRecord],
                                                                                              SkipCounts]:
    """Every game of ``size`` x ``size`` without handicap in a folder (recursive), an SGF file (a collection),
    an ``.sgf.gz``, or a ``.zip`` / ``.tar.gz`` / ``.tgz`` archive, with the counts of what was skipped.

    Raises ``ValueError`` naming the path when it does not exist or holds no SGF file at all.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist: expected a folder or an archive of SGF files")
    skipped = SkipCounts()
    games: list[GameRecord] = []
    files = 0
    try:
        for name, read in _sources(path):
            files += 1
            try:
                data = read()
                if _is_gzip_name(name):
                    data = gzip.decompress(data)
                records = parse_collection(_decode(data), ko=ko)
            except (SGFError, UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile, tarfile.TarError,
                    ValueError) as exc:
                logger.debug("skipped unreadable %s: %s", name, exc)
                skipped.unreadable += 1
                continue
            for record in records:
                if record.size != size:
                    skipped.wrong_size += 1
                elif record.handicap > 0 or record.setup_black or record.setup_white:
                    skipped.handicap += 1
                else:
                    games.append(record)
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise ValueError(f"{path} cannot be read as an archive: {exc}") from None
    if files == 0:
        raise ValueError(f"{path} holds no SGF files (expected *.sgf or *.sgf.gz)")
    if skipped.total:
        logger.info("%s: %d games loaded; skipped %s", path, len(games), skipped)
    return games, skipped
