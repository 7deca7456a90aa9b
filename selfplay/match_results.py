"""What a match is worth: one line per finished game (``GameSummary``) and the match's summary (``MatchResult``),
with its intervals and Elo (``selfplay.stats``), as ``minigo eval`` prints it and writes ``OUT/result.json``."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from minigo.go import Rules
from minigo.record import GameRecord
from selfplay.stats import Z95, elo_from_score, wilson_interval

__all__ = ["GameSummary", "MatchResult", "a_score", "format_match", "json_safe", "summarize", "summary_of"]


@dataclass(frozen=True)
class GameSummary:
    """What a match needs to know of one finished game."""

    index: int
    a_is_black: bool
    a_score: float | None
    """1 win, 0.5 draw, 0 loss for A; None when the record has no result."""
    length: int
    """Moves played, passes included."""
    key: str
    """A digest of the move sequence, to count distinct games."""


def a_score(result: str, a_is_black: bool) -> float | None:
    """A's score from an SGF result: 1 for a win (by points, resignation or forfeit), 0.5 for a draw, 0 for a
    loss; None for no result (``""``, ``?``, ``Void``)."""
    result = result.strip().upper()
    if result in ("0", "DRAW") or result.startswith("0"):
        return 0.5
    if result.startswith("B+"):
        return 1.0 if a_is_black else 0.0
    if result.startswith("W+"):
        return 0.0 if a_is_black else 1.0
    return None


def summary_of(record: GameRecord, index: int, a_is_black: bool) -> GameSummary:
    key = hashlib.sha1(",".join(f"{m.color}:{m.point}" for m in record.moves).encode()).hexdigest()[:16]
    return GameSummary(index, a_is_black, a_score(record.result, a_is_black), len(record.moves), key)


@dataclass
class MatchResult:
    """The summary of a match, as printed and as written to ``OUT/result.json``."""

    a: str
    b: str
    size: int
    komi: float
    ko: str
    seed: int
    games: int
    """Games the match was asked for."""
    scored: int
    """Games that count: finished with a result (up to the SPRT's decision, when it stopped the match)."""
    a_wins: int
    a_losses: int
    draws: int
    a_score: float
    win_rate: float
    """A's score rate, draws counting half; NaN with no scored games."""
    wilson: tuple[float, float]
    elo: float
    elo_interval: tuple[float, float]
    a_black_games: int
    a_black_score: float
    a_white_games: int
    a_white_score: float
    black_rate: float
    """Black's score rate over all scored games, whoever played Black: komi shows here."""
    average_length: float
    distinct_games: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    """Games that could not be played: ``{"game": i, "error": "..."}``."""
    sprt: dict[str, Any] | None = None
    openings: int = 0
    """Opening moves each pair of games started from (0: none)."""
    pairs: int = 0
    """Pairs of games (one opening, both colours) with both games scored."""
    pair_interval: tuple[float, float] | None = None
    """95% interval of A's score rate over the pairs, the independent units of a match with openings."""
    played_this_session: int = 0
    seconds: float = 0.0
    """Wall-clock seconds of this session's playing (worker start-up included)."""
    out: str = ""

    @property
    def games_per_second(self) -> float:
        return self.played_this_session / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["games_per_second"] = self.games_per_second
        return json_safe(data)


def json_safe(value: Any) -> Any:
    """JSON has no inf or NaN: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def summarize(games: Sequence[GameSummary], *, a: str, b: str, rules: Rules, seed: int, planned: int,
              failed: Sequence[tuple[int, str]] = (), sprt: dict[str, Any] | None = None,
              openings: int = 0) -> MatchResult:
    """The match summary over ``games`` (those without a result count as failed). With ``openings``, games 2j and
    2j+1 share an opening, so the pairs are the independent trials: their interval is given too."""
    failed_list = [{"game": index, "error": error} for index, error in failed]
    scored = [g for g in games if g.a_score is not None]
    failed_list += [{"game": g.index, "error": "no result in the record"} for g in games if g.a_score is None]
    failed_list.sort(key=lambda item: item["game"])
    n = len(scored)
    total = sum(g.a_score for g in scored if g.a_score is not None)
    as_black = [g for g in scored if g.a_is_black]
    as_white = [g for g in scored if not g.a_is_black]
    black_points = sum((g.a_score if g.a_is_black else 1.0 - g.a_score) for g in scored if g.a_score is not None)
    low, high = wilson_interval(total, n)
    rate = total / n if n else math.nan
    pairs, pair_interval = 0, None
    if openings:
        by_pair: dict[int, list[float]] = {}
        for g in scored:
            by_pair.setdefault(g.index // 2, []).append(float(g.a_score))
        means = [sum(v) / 2 for v in by_pair.values() if len(v) == 2]
        pairs = len(means)
        if pairs >= 2:
            centre = sum(means) / pairs
            spread = math.sqrt(sum((m - centre) ** 2 for m in means) / (pairs - 1) / pairs)
            pair_interval = (max(0.0, centre - Z95 * spread), min(1.0, centre + Z95 * spread))
    return MatchResult(
        a=a, b=b, size=rules.size, komi=rules.komi, ko=rules.ko, seed=seed, games=planned, scored=n,
        a_wins=sum(1 for g in scored if g.a_score == 1.0), a_losses=sum(1 for g in scored if g.a_score == 0.0),
        draws=sum(1 for g in scored if g.a_score == 0.5), a_score=total, win_rate=rate, wilson=(low, high),
        elo=elo_from_score(rate) if n else math.nan,
        elo_interval=(elo_from_score(low), elo_from_score(high)) if n else (math.nan, math.nan),
        a_black_games=len(as_black), a_black_score=sum(g.a_score or 0.0 for g in as_black),
        a_white_games=len(as_white), a_white_score=sum(g.a_score or 0.0 for g in as_white),
        black_rate=black_points / n if n else math.nan,
        average_length=sum(g.length for g in scored) / n if n else math.nan,
        distinct_games=len({g.key for g in scored}), failed=failed_list, sprt=sprt, openings=openings,
        pairs=pairs, pair_interval=pair_interval)


def _signed(elo: float) -> str:
    if math.isnan(elo):
        return "n/a"
    if math.isinf(elo):
        return "+inf" if elo > 0 else "-inf"
    return f"{elo:+.0f}"


def _points(value: float) -> str:
    return f"{value:g}"


def format_match(result: MatchResult) -> list[str]:
    """The lines ``minigo eval`` prints."""
    lines = [f"A = {result.a}  B = {result.b}"]
    if result.scored == 0:
        lines.append("no games scored")
    else:
        low, high = result.wilson
        lines += [
            f"A wins {result.win_rate:.1%} [95% Wilson {low:.1%}, {high:.1%}] of {result.scored} (draws count half)",
            f"Elo difference {_signed(result.elo)} [{_signed(result.elo_interval[0])}, "
            f"{_signed(result.elo_interval[1])}]",
            f"A as Black: {_points(result.a_black_score)}/{result.a_black_games}, "
            f"A as White: {_points(result.a_white_score)}/{result.a_white_games}",
            f"Black scores {result.black_rate:.1%} of games (komi {result.komi:g})",
            f"average length {result.average_length:.1f} moves; distinct games {result.distinct_games} of "
            f"{result.scored}",
        ]
        if result.pair_interval is not None:
            pair_low, pair_high = result.pair_interval
            lines.append(f"{result.pairs} pairs of games from {result.openings}-move expert openings (one with each "
                         f"colour): A scores {result.win_rate:.1%} [95% over pairs {pair_low:.1%}, {pair_high:.1%}]")
        if result.distinct_games < result.scored:
            lines.append(f"warning: {result.scored - result.distinct_games} of {result.scored} games repeat an earlier "
                         "one (deterministic players?): the interval counts them as independent trials; play them "
                         "from expert openings (--openings 4) or let the players sample")
    lines.append(f"failed games: {len(result.failed)}" + (
        " (" + ", ".join(str(item["game"]) for item in result.failed[:10])
        + (", ..." if len(result.failed) > 10 else "") + ")" if result.failed else ""))
    if result.sprt is not None:
        s = result.sprt
        verdict = {"H1": f"H1 accepted: A is stronger by {s['elo1']:g} Elo or more",
                   "H0": f"H0 accepted: A is not {s['elo1']:g} Elo stronger (nearer {s['elo0']:g})",
                   None: "no decision yet: more games are needed"}[s["decision"]]
        lines.append(f"{s['test']}: LLR {s['llr']:.2f} in [{s['lower']:.2f}, {s['upper']:.2f}] after "
                     f"{s['games']} games: {verdict}")
    if result.played_this_session:
        lines.append(f"played {result.played_this_session} games in {result.seconds:.1f} s "
                     f"({result.games_per_second:.2f} games/s)")
    return lines
