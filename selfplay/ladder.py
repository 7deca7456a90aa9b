"""Ladders (``minigo ladder``): a round robin of players, rated by Bradley-Terry, plotted against training.

:func:`run_ladder` plays a match (``selfplay.matches``) between every pair of players (run folders expand to
their policy checkpoints, sampled at a temperature so that two networks do not repeat one game), each pair in
``OUT/pairs/<name>`` so that a rerun reuses every game already played and a ladder grows with its run. Ratings
are fitted by Bradley-Terry (``selfplay.stats``) with one virtual drawn game per pair that played (so that a
player who won every game gets a large finite rating, not infinity), anchored at ``random`` when it plays,
else at the first player; the table goes to stdout and ``OUT/ladder.json``, the Elo-against-training-step plot
to ``OUT/ladder.png`` when matplotlib is installed (``pip install matplotlib``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigo.atomic import write_atomic
from minigo.checks import integer
from minigo.go import Rules
from minigo.players import PlayerSpec
from models.run_layout import RunLayout
from selfplay.farm import FarmConfig, worker_count
from selfplay.match_results import MatchResult, json_safe
from selfplay.matches import MatchConfig, MatchError, check_players, resolve_spec, run_match, slug
from selfplay.stats import Z95, Ratings, bradley_terry

__all__ = ["LadderConfig", "LadderEntry", "LadderResult", "default_out", "format_ladder", "ladder_entries",
           "pair_folder", "run_ladder"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LadderEntry:
    """One player of a ladder: its spec, a short label, and where it came from in training (if it did)."""

    spec: str
    label: str
    step: int | None = None
    stage: str = ""
    run: str = ""


_STAGE_ORDER = {"sl": 0, "rl": 1}  # training order, for sorting a run's checkpoints


def _run_checkpoints(run: Path, temperature: float) -> list[LadderEntry]:
    """A run's policy checkpoints: ``checkpoints/*.safetensors`` and the RL pool's snapshots
    (``checkpoints/rl_pool/``), one per (stage, step) (``sl_last`` is usually ``sl_policy``, ``rl_policy`` the
    pool's last snapshot), in training order; optimizer files and value or rollout nets are skipped."""
    from models.checkpoint import CheckpointError, read_metadata  # torch: only when a run folder is given

    layout = RunLayout(run)
    folder = layout.checkpoints
    # named checkpoints before pool snapshots, and a "last" copy after the "best" one, so duplicates keep the name
    files = sorted(folder.glob("*.safetensors"), key=lambda f: ("_last" in f.stem, f.name))
    files += sorted(layout.rl_pool.glob("*.safetensors"))
    found: dict[tuple[str, int], LadderEntry] = {}
    for ckpt in files:
        if ckpt.name.endswith(".optim.safetensors"):
            continue
        try:
            metadata = read_metadata(ckpt)
        except CheckpointError as exc:
            logger.warning("skipping %s", exc)
            continue
        if metadata.get("kind") != "policy":
            continue
        stage, step = metadata.get("stage", ""), int(metadata.get("step", "0") or 0)
        spec = f"policy:{ckpt}" + (f",temperature={temperature:g}" if temperature > 0 else "")
        label = f"{run.name}/{ckpt.relative_to(folder).with_suffix('').as_posix()}"
        found.setdefault((stage, step), LadderEntry(spec, label, step, stage, str(run)))
    return sorted(found.values(), key=lambda e: (_STAGE_ORDER.get(e.stage, len(_STAGE_ORDER)), e.step or 0, e.label))


def ladder_entries(items: Sequence[str], temperature: float = 1.0) -> list[LadderEntry]:
    """Expand command-line items into ladder players: a run folder (one with ``checkpoints/``) gives its policy
    checkpoints (``_run_checkpoints``) as ``policy:CKPT,temperature=T``; anything else is a spec
    (``resolve_spec``). Duplicate specs are dropped.

    The checkpoints are sampled (``temperature`` > 0, as AlphaGo's policy networks were when they were matched)
    because two greedy networks would play the same two games over and over, and a win rate over copies of one
    game has no meaning.
    """
    entries: list[LadderEntry] = []
    for item in items:
        path = Path(item.strip())
        if RunLayout(path).is_run():
            found = _run_checkpoints(path, temperature)
            if not found:
                raise MatchError(f"{path}: no policy checkpoints in {RunLayout(path).checkpoints}")
            entries += found
        else:
            spec = resolve_spec(item)
            entries.append(LadderEntry(spec, spec))
    unique: dict[str, LadderEntry] = {}
    for entry in entries:
        unique.setdefault(entry.spec, entry)
    return list(unique.values())


@dataclass(frozen=True)
class LadderConfig:
    """A round robin (``minigo ladder``): every pair of players plays ``games_per_pair`` games."""

    entries: tuple[LadderEntry, ...]
    out: Path
    """Ladder folder: ``pairs/<pair>/`` (one match folder each), ``ladder.json``, ``ladder.png``."""
    games_per_pair: int = 20
    size: int = 9
    komi: float = 7.5
    ko: str = "positional"
    workers: int = field(default_factory=worker_count)
    seed: int = 0
    """Every pair's match seed."""
    farm: FarmConfig = field(default_factory=FarmConfig)
    """Where the matches' workers run."""
    prior_games: float = 1.0
    """Virtual drawn games added to each pair that played, so that a clean sweep gives a finite rating."""
    openings: int = 0
    """Expert opening moves each pair of games starts from (``MatchConfig.openings``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "entries", tuple(self.entries))
        if len(self.entries) < 2:
            raise ValueError(f"players: a ladder needs 2 or more, got {len(self.entries)}")
        integer("games_per_pair", self.games_per_pair, 1)
        integer("workers", self.workers, 1)
        integer("seed", self.seed, 0)
        Rules(size=self.size, komi=float(self.komi), ko=self.ko)
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"out {str(self.out)!r} is a file: expected a folder")

    def anchor(self) -> int:
        """The player rated 0: ``random`` when it plays (a fixed, meaningful zero; the plain spec before
        ``random,seed=N``), else the first player."""
        kinds = [PlayerSpec.parse(entry.spec) for entry in self.entries]
        for wanted in (lambda s: s.text == "random", lambda s: s.kind == "random"):
            for index, spec in enumerate(kinds):
                if wanted(spec):
                    return index
        return 0


def default_out(entries: Sequence[LadderEntry], size: int, root: str = "runs/ladders") -> Path:
    """``runs/ladders/<first>_<count>_players_<size>x<size>_<hash>``: one folder per set of players (in any order),
    so rerunning a ladder of specs reuses its games, as a run's own ladder (``RUN/ladder``) does."""
    specs = sorted(entry.spec for entry in entries)
    digest = hashlib.sha1("\n".join([*specs, str(size)]).encode()).hexdigest()[:8]
    return Path(root) / f"{slug(specs[0], 24)}_{len(specs)}_players_{size}x{size}_{digest}"


def pair_folder(a: str, b: str) -> str:
    """The folder name of a pair's match; the pair is ordered by spec, so it does not depend on player order."""
    digest = hashlib.sha1(f"{a}\n{b}".encode()).hexdigest()[:8]
    return f"{slug(a, 30)}_vs_{slug(b, 30)}_{digest}"


@dataclass
class LadderResult:
    """Ratings and the matches behind them."""

    entries: list[LadderEntry]
    ratings: Ratings
    scores: np.ndarray
    """``(P, P)``: points player i scored against j."""
    games: np.ndarray
    """``(P, P)``: games i and j played (scored ones)."""
    matches: list[MatchResult]
    plot: str | None = None
    played_this_session: int = 0

    def to_json(self) -> dict[str, Any]:
        players = []
        for i, entry in enumerate(self.entries):
            low, high = self.ratings.interval(i)
            played = float(self.games[i].sum())
            players.append({**dataclasses.asdict(entry), "elo": float(self.ratings.elo[i]),
                            "elo_interval": [low, high], "stderr": float(self.ratings.stderr[i]),
                            "games": int(played), "score": float(self.scores[i].sum()) / played if played else None})
        return json_safe({"anchor": self.entries[self.ratings.anchor].spec, "players": players,
                           "pairs": [{"a": m.a, "b": m.b, "scored": m.scored, "a_score": m.a_score,
                                      "failed": len(m.failed), "folder": m.out} for m in self.matches],
                           "model": "Bradley-Terry maximum likelihood (Newton), 95% intervals from the inverse "
                                    "Fisher information, one virtual drawn game per pair",
                           "plot": self.plot})


def run_ladder(config: LadderConfig, progress: bool = True) -> LadderResult:
    """Play every missing game of the round robin, fit the ratings, write ``ladder.json`` (and the plot)."""
    config.out.mkdir(parents=True, exist_ok=True)
    rules = Rules(size=config.size, komi=float(config.komi), ko=config.ko)
    specs = [entry.spec for entry in config.entries]
    check_players(specs, rules)
    count = len(specs)
    index = {spec: i for i, spec in enumerate(specs)}
    scores = np.zeros((count, count))
    games = np.zeros((count, count))
    matches = []
    pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
    played = 0
    for number, (i, j) in enumerate(pairs, start=1):
        a, b = sorted((specs[i], specs[j]))
        match = MatchConfig(a=a, b=b, out=config.out / "pairs" / pair_folder(a, b), games=config.games_per_pair,
                            size=config.size, komi=config.komi, ko=config.ko, workers=config.workers,
                            seed=config.seed, openings=config.openings, farm=config.farm)
        result = run_match(match, progress, check=False, desc=f"pair {number}/{len(pairs)}")
        played += result.played_this_session
        matches.append(result)
        ia, ib = index[a], index[b]
        scores[ia, ib] += result.a_score
        scores[ib, ia] += result.scored - result.a_score
        games[ia, ib] += result.scored
        games[ib, ia] += result.scored
    try:
        ratings = bradley_terry(scores, games, anchor=config.anchor(), prior_games=config.prior_games)
    except ValueError as exc:
        raise MatchError(f"cannot fit ratings: {exc}") from None
    result = LadderResult(list(config.entries), ratings, scores, games, matches, played_this_session=played)
    result.plot = _plot(result, config.out / "ladder.png")
    write_atomic(config.out / "ladder.json", (json.dumps(result.to_json(), indent=1) + "\n").encode("utf-8"))
    return result


def format_ladder(result: LadderResult) -> list[str]:
    """The ratings as a table, strongest first."""
    anchor = result.entries[result.ratings.anchor].label
    rows = [("#", "player", "step", "Elo", "95% interval", "games", "score")]
    order = np.argsort(-result.ratings.elo, kind="stable")
    for rank, i in enumerate(order.tolist(), start=1):
        entry = result.entries[i]
        low, high = result.ratings.interval(i)
        played = int(result.games[i].sum())
        score = result.scores[i].sum() / played if played else math.nan
        interval = "anchor" if i == result.ratings.anchor else f"[{low:+.0f}, {high:+.0f}]"
        rows.append((str(rank), entry.label, "" if entry.step is None else str(entry.step),
                     f"{result.ratings.elo[i]:+.0f}", interval, str(played),
                     "n/a" if math.isnan(score) else f"{score:.1%}"))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) if k == 1 else cell.rjust(width) for k, (cell, width)
                       in enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.append(f"Elo relative to {anchor} (0); Bradley-Terry fit with one virtual draw per pair")
    return lines


def _plot(result: LadderResult, path: Path) -> str | None:
    """Elo against training step, one panel per training stage (SL steps are epochs, RL steps iterations), with
    95% error bars; players that are not checkpoints are horizontal lines. None without matplotlib (logged)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("no plot: matplotlib is not installed (pip install matplotlib)")
        return None
    import io

    stages = sorted({e.stage for e in result.entries if e.step is not None},
                    key=lambda stage: (_STAGE_ORDER.get(stage, len(_STAGE_ORDER)), stage)) or [""]
    figure, panels = plt.subplots(1, len(stages), figsize=(4.5 * len(stages) + 2, 4.5), sharey=True, squeeze=False)
    for stage, axes in zip(stages, panels[0], strict=True):
        series: dict[str, list[int]] = {}
        for i, entry in enumerate(result.entries):
            if entry.step is not None and entry.stage == stage:
                series.setdefault(entry.run or entry.label, []).append(i)
        for run, members in series.items():
            members.sort(key=lambda i: result.entries[i].step or 0)
            axes.errorbar([result.entries[i].step for i in members], result.ratings.elo[members],
                          yerr=Z95 * result.ratings.stderr[members], marker="o", capsize=3, label=Path(run).name)
        for i, entry in enumerate(result.entries):
            if entry.step is None:
                axes.axhline(result.ratings.elo[i], linestyle="--", linewidth=1, color="grey")
                axes.annotate(entry.label, (0.01, result.ratings.elo[i]), xycoords=("axes fraction", "data"),
                              fontsize=8, color="grey", va="bottom")
        unit = {"sl": "epoch", "rl": "iteration"}.get(stage, "step")
        axes.set_xlabel(f"{stage} {unit}" if stage else "training step")
        axes.grid(alpha=0.3)
        if series:
            axes.legend(loc="lower right", fontsize=8)
    panels[0][0].set_ylabel(f"Elo (0 = {result.entries[result.ratings.anchor].label})")
    figure.suptitle("minigo ladder: Bradley-Terry Elo with 95% intervals")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    write_atomic(path, buffer.getvalue())
    return str(path)
