"""Stage 4 of the pipeline: build the run's MCTS player and measure it.

The player is ``mcts:RUN`` (priors from the SL policy, leaf values mixing the value net and rollouts of the
rollout policy: ``models/mcts_player.py``). It plays ``games`` games against each opponent named in
``opponents`` (colours alternating, in worker processes, through ``selfplay.matches.run_match``), and each
result, with its 95% Wilson interval, goes to ``metrics.jsonl`` and the report. Matches live in
``RUN/evals/`` and resume like any ``minigo eval``: a stopped stage plays only the missing games.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

from models.run_layout import RunLayout
from selfplay.farm import FarmConfig, worker_count
from selfplay.resume import drop_metrics
from selfplay.run_folder import append_metrics, require

log = logging.getLogger(__name__)

def opponent_spec(name: str, run_dir: Path) -> str:
    """``random``, ``sl`` (the run's SL policy, greedy) and ``rl`` (its RL policy) by name; any other spec as given."""
    named = {"random": "random", "sl": f"policy:{run_dir}", "rl": f"policy:{RunLayout(run_dir).rl_policy}"}
    return named.get(name, name)


@dataclass(frozen=True)
class MCTSStageConfig:
    """Stage 4 settings. Filled from a preset's ``[mcts]`` table and ``--set mcts.FIELD=VALUE``."""

    playouts: int = 200
    """Simulations per move."""
    mixing: float | None = None
    """Leaf value mix lambda: 0 value net only, 1 rollouts only; unset: 0.5 with a value net, else 1."""
    opponents: tuple[str, ...] = ("random", "sl")
    """``random``, ``sl`` (the run's SL policy, greedy), ``rl``, or any player spec (a TOML array, or
    comma-separated with ``--set``)."""
    games: int = 40
    """Games against each opponent."""
    workers: int = 0
    """Worker processes (0: one per core)."""
    seed: int = 0
    """Match seed."""

    def __post_init__(self) -> None:
        if self.playouts < 1 or self.games < 1 or self.workers < 0:
            raise ValueError("mcts.playouts and mcts.games must be at least 1, mcts.workers at least 0")
        if self.mixing is not None and not 0 <= self.mixing <= 1:
            raise ValueError(f"mcts.mixing = {self.mixing!r}: expected a number from 0 to 1, or none (automatic)")
        if isinstance(self.opponents, str):  # a config built in Python with "random,sl"
            object.__setattr__(self, "opponents", tuple(o.strip() for o in self.opponents.split(",") if o.strip()))
        if not self.opponents:
            raise ValueError("mcts.opponents is empty: expected e.g. [\"random\", \"sl\"]")


@dataclass
class MCTSStageResult:
    player: str
    win_rates: dict[str, tuple[float, tuple[float, float], int]]
    """Opponent -> (MCTS's score rate, its 95% Wilson interval, games scored)."""


def player_spec(config: MCTSStageConfig, run_dir: Path) -> str:
    spec = f"mcts:{run_dir},playouts={config.playouts}"
    if config.mixing is not None:
        spec += f",lambda={config.mixing:g}"
    return spec


def run(config: MCTSStageConfig, run_dir: str | os.PathLike[str], progress: bool = True,
        farm: FarmConfig | None = None) -> MCTSStageResult:
    """Play the run's MCTS player against each opponent (on ``farm``); returns and logs its win rates."""
    from models import checkpoint
    from selfplay.match_results import format_match
    from selfplay.matches import MatchConfig, run_match

    run_dir = Path(run_dir)
    layout = RunLayout(run_dir)
    size = checkpoint.load(require(layout.sl_policy, "sl", run_dir), kind="policy").config.board_size
    spec = player_spec(config, run_dir)
    drop_metrics(run_dir, "mcts")
    results = {}
    for name in config.opponents:
        opponent = opponent_spec(name, run_dir)
        out = layout.eval(f"mcts-vs-{name.replace(':', '-').replace('/', '_')}")
        match = MatchConfig(a=spec, b=opponent, out=out, games=config.games, size=size,
                            workers=worker_count(config.workers, farm), seed=config.seed, farm=farm or FarmConfig())
        result = run_match(match, progress=progress, desc=f"mcts vs {name}")
        for line in format_match(result):
            log.info("%s", line)
        rate = result.win_rate if not math.isnan(result.win_rate) else 0.0
        results[name] = (rate, tuple(result.wilson), result.scored)
        append_metrics(run_dir, {"stage": "mcts", "opponent": name, "player": spec, "win_rate": rate,
                                 "wilson": list(result.wilson), "games": result.scored})
    return MCTSStageResult(spec, results)
