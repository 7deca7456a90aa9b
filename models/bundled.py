"""The trained 9x9 model that ships inside the package: ``mcts:bundled`` and ``policy:bundled`` name it.

``models/bundled/9x9/`` is laid out as a run folder (``checkpoints/sl_policy``, ``rl_policy``, ``rollout``,
``value`` ``.safetensors``; ``models.run_layout.RunLayout``), beside its ``CARD.md`` (how it was made, its
figures) and ``SHA256SUMS``. :func:`bundled_run` checks every file against its checksum before a player uses
it, so a damaged install is refused in one line that names the file and says how to reinstall, and then
``models.checkpoint.load`` checks each net as strictly as any checkpoint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from models.checkpoint import CheckpointError
from models.run_layout import RunLayout

__all__ = ["BUNDLED_LAMBDA", "BUNDLED_ROOT", "BUNDLED_SIZE", "bundled_run", "is_bundled"]

BUNDLED_ROOT = Path(__file__).resolve().parent / "bundled" / "9x9"
"""The bundled run folder."""
BUNDLED_SIZE = 9
"""The board size its nets were trained for."""
BUNDLED_LAMBDA = 1.0
"""The leaf mix λ of ``mcts:bundled`` when its spec gives none: rollouts alone, because on these nets the λ = 0.5 mix
lost to λ = 1 (CARD.md's match). Its value net still gives the ownership map (dead stones at the end, the
window's O overlay, GTP's minigo-ownership), and ``mcts:bundled,lambda=0.5`` searches with it."""
NAME = "bundled"
"""What a player spec says instead of a path: ``mcts:bundled``, ``policy:bundled``."""

REINSTALL = "reinstall minigo (pip install --force-reinstall minigo, or git checkout models/bundled in a clone)"


def is_bundled(arg: str | None) -> bool:
    """Whether a spec's argument names the bundled model."""
    return arg is not None and arg.strip().lower() == NAME


def bundled_run(size: int | None = None) -> Path:
    """The bundled run folder, after checking its files against ``SHA256SUMS``; a ``CheckpointError`` (one line)
    when it is missing or damaged, or when ``size`` is not the board it was trained for."""
    if size is not None and size != BUNDLED_SIZE:
        raise CheckpointError(f"the bundled model plays {BUNDLED_SIZE}x{BUNDLED_SIZE}, not {size}x{size}: train one "
                              f"for {size}x{size} with `minigo train --preset quick --set sl.board_size={size}` "
                              "(and expert games of that size) and play it as mcts:RUN")
    sums = BUNDLED_ROOT / "SHA256SUMS"
    if not sums.is_file():
        raise CheckpointError(f"no bundled model in this install ({sums} is missing): {REINSTALL}, or play a run of "
                              "your own (minigo train --preset quick, then --player mcts:runs/quick)")
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.strip().partition("  ")
        path = BUNDLED_ROOT / name
        if not path.is_file():
            raise CheckpointError(f"bundled model file {path} is missing: {REINSTALL}")
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise CheckpointError(f"bundled model file {path} is damaged (its SHA-256 differs from SHA256SUMS): "
                                  f"{REINSTALL}")
    layout = RunLayout(BUNDLED_ROOT)
    if not layout.sl_policy.is_file():
        raise CheckpointError(f"bundled model {BUNDLED_ROOT} has no SL policy: {REINSTALL}")
    return BUNDLED_ROOT
