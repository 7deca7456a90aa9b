"""Match results beside their targets, as the bench scripts print them (``bench/strength.py``,
``bench/bundled.py``): one row per match with A's win rate, its 95% Wilson interval, A's score with each colour,
how many games are distinct, the target and a verdict; and the match folders a bench reads (``bench/endings.py``,
``bench/phases.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selfplay.match_results import MatchResult

__all__ = ["Row", "chosen_keys", "format_table", "match_folders", "verdict"]


@dataclass(frozen=True)
class Row:
    """One match of a table."""

    label: str
    result: MatchResult | None
    """None: not played yet."""
    planned: int
    """Games the match is to have; fewer scored reads "so far"."""
    target: float | None = None
    """A's win rate asked for (None: reported without a target)."""
    strict: bool = False
    """The target must be exceeded, not just reached (to "beat" is > 50%)."""


def chosen_keys(only: str, known: Sequence[str]) -> list[str]:
    """The matches a bench's ``--only a,b`` names, in its order; ValueError (one line) for an unknown or empty list."""
    keys = [k.strip() for k in only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        raise ValueError(f"--only {only!r}: unknown match {', '.join(unknown) or '(none)'}; "
                         f"expected some of {', '.join(known)}")
    return keys


def verdict(result: MatchResult | None, planned: int, target: float | None = None, strict: bool = False) -> str:
    """``MET`` / ``BELOW`` (``so far`` while games are missing), ``reported`` without a target, or ``not played``."""
    if result is None or result.scored == 0:
        return "not played"
    if target is None:
        return "reported" if result.scored >= planned else "so far"
    met = result.win_rate > target if strict else result.win_rate >= target
    word = "MET" if met else "BELOW"
    return word if result.scored >= planned else f"{word} so far"


def format_table(rows: Sequence[Row]) -> list[str]:
    """A header line and one line per row."""
    width = max([28, *(len(row.label) for row in rows)])
    lines = [f"{'match':<{width}} {'games':>9} {'A wins':>7} {'95% Wilson':>17} {'A as B':>9} {'A as W':>9} "
             f"{'distinct':>8} {'target':>7}  verdict"]
    for row in rows:
        result = row.result
        target = "" if row.target is None else (">" if row.strict else ">=") + f"{row.target:.0%}"
        if result is None or result.scored == 0:
            lines.append(f"{row.label:<{width}} {0:>4}/{row.planned:<4} {'-':>7} {'-':>17} {'-':>9} {'-':>9} "
                         f"{'-':>8} {target:>7}  not played")
            continue
        low, high = result.wilson
        as_black = f"{result.a_black_score:g}/{result.a_black_games}"
        as_white = f"{result.a_white_score:g}/{result.a_white_games}"
        lines.append(f"{row.label:<{width}} {result.scored:>4}/{row.planned:<4} {result.win_rate:>7.1%} "
                     f"{f'[{low:.1%}, {high:.1%}]':>17} {as_black:>9} {as_white:>9} {result.distinct_games:>8} "
                     f"{target:>7}  {verdict(result, row.planned, row.target, row.strict)}")
    return lines


def match_folders(paths: Sequence[str]) -> list[Path] | str:
    """The match folders (``match.json`` and ``games/``) named or held one level down by ``paths`` (``RUN/strength``),
    or a one-line reason why one of them is neither."""
    folders: list[Path] = []
    for name in paths:
        path = Path(name)
        if (path / "match.json").is_file():
            folders.append(path)
            continue
        held = sorted(p.parent for p in path.glob("*/match.json"))
        if not held:
            return f"{name!r} is not a match folder: expected match.json and games/ in it or in its subfolders"
        folders.extend(held)
    return folders
