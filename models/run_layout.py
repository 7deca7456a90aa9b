"""The run folder's layout, in one place: every path a stage, a player, a bench or the report reads or writes.

``RunLayout(RUN)`` names the files; it creates nothing. The layout (``README.md`` shows it too)::

    RUN/config.toml           the resolved configuration          RUN/log.txt       every process's log
    RUN/metrics.jsonl         one JSON line per epoch/iteration   RUN/report/       summary.md and the curves
    RUN/checkpoints/          sl_policy, rollout, rl_policy, rl_baseline, value (.safetensors), value_state.json
    RUN/checkpoints/resume/   STAGE_NNNNNN (+ .optim): the two newest resume points of each stage
    RUN/checkpoints/rl_pool/  the RL opponents' snapshots        RUN/checkpoints/rl_weights/  each iteration's weights
    RUN/games/STAGE/          SGF samples of self-play           RUN/data/         stage 3's value-data games
    RUN/evals/NAME/           the stage-4 matches

It lives in ``models`` because the players (``mcts:RUN``, ``policy:RUN``) read run folders too, and ``selfplay``
and ``bench`` build on ``models``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunLayout"]


@dataclass(frozen=True)
class RunLayout:
    """The paths of the run folder ``root``."""

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def log(self) -> Path:
        return self.root / "log.txt"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def sl_policy(self) -> Path:
        return self.checkpoints / "sl_policy.safetensors"

    @property
    def rollout(self) -> Path:
        return self.checkpoints / "rollout.safetensors"

    @property
    def rl_policy(self) -> Path:
        return self.checkpoints / "rl_policy.safetensors"

    @property
    def rl_baseline(self) -> Path:
        return self.checkpoints / "rl_baseline.safetensors"

    @property
    def value(self) -> Path:
        return self.checkpoints / "value.safetensors"

    @property
    def value_state(self) -> Path:
        return self.checkpoints / "value_state.json"

    @property
    def resume(self) -> Path:
        return self.checkpoints / "resume"

    @property
    def rl_pool(self) -> Path:
        return self.checkpoints / "rl_pool"

    @property
    def rl_weights(self) -> Path:
        return self.checkpoints / "rl_weights"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def games(self, stage: str) -> Path:
        """SGF samples of a stage's self-play games."""
        return self.root / "games" / stage

    def eval(self, name: str) -> Path:
        """The folder of one stage-4 match."""
        return self.root / "evals" / name

    def missing(self) -> str:
        """The one line for a run folder (or checkpoint file) that is not there: where it was looked for, and how
        to make one."""
        where = self.root if self.root.is_absolute() else f"{self.root} (in {Path.cwd()})"
        return (f"{where}: no such checkpoint file or run folder; train one with `minigo train --preset quick "
                f"--run {self.root}`, or play the bundled model (mcts:bundled)")

    def shippable(self) -> list[Path]:
        """The checkpoints a player loads from this run (SL, RL, value, rollout: those that exist), which a
        cluster farm ships to workers with no shared disk (``selfplay.shipping``)."""
        return [p for p in (self.sl_policy, self.rl_policy, self.value, self.rollout) if p.is_file()]

    def is_run(self) -> bool:
        """Whether ``root`` looks like a run folder (it has ``checkpoints/``)."""
        return self.checkpoints.is_dir()
