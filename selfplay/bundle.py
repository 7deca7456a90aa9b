"""Make the bundled model from a run folder: ``python -m selfplay.bundle RUN [--out models/bundled/9x9]``.

Copies the run's SL policy, RL policy, rollout policy and value net (when it has one; ``RunLayout``) into the
bundle's ``checkpoints/``, writes ``SHA256SUMS`` (which ``models.bundled`` checks before a player uses them) and
the facts part of ``CARD.md``: the run's resolved configuration, each stage's figures from its
``metrics.jsonl``, each file's size and checksum, and the commit it was made at. The card's prose (how the run
was made, its ladder) is the maker's to write below the generated part, which is rewritten each time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from minigo.atomic import write_atomic
from models import checkpoint
from models.bundled import BUNDLED_ROOT
from models.run_layout import RunLayout

FILES = ("sl_policy", "rl_policy", "rollout", "value")
REQUIRED = ("sl_policy", "rl_policy", "rollout")
"""A run without its value net yet can ship early (``mcts:bundled`` then searches with rollouts alone, lambda 1)."""
GENERATED_END = "<!-- end of the generated part: notes below are kept -->"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def make_bundle(run_dir: Path, out: Path) -> list[str]:
    """Copy the nets, write SHA256SUMS and the card's generated part; returns the checksum lines."""
    run, bundle = RunLayout(run_dir), RunLayout(out)
    sources = {name: getattr(run, name) for name in FILES if name in REQUIRED or getattr(run, name).exists()}
    for path in sources.values():
        checkpoint.load(path)  # refuse a damaged or missing net before anything is copied
    bundle.checkpoints.mkdir(parents=True, exist_ok=True)
    for stale in bundle.checkpoints.glob("*.safetensors"):
        stale.unlink()  # a net the run no longer has must not stay behind, unlisted in SHA256SUMS
    lines = []
    for name, path in sources.items():
        target = getattr(bundle, name)
        shutil.copyfile(path, target)
        lines.append(f"{hashlib.sha256(target.read_bytes()).hexdigest()}  checkpoints/{target.name}")
    write_atomic(out / "SHA256SUMS", ("\n".join(lines) + "\n").encode())
    records = [json.loads(line) for line in run.metrics.read_text().splitlines() if line.strip()]
    best = {}
    for record in records:
        best.setdefault(record.get("stage"), []).append(record)
    facts = [f"# The bundled {checkpoint.load(sources['sl_policy']).config.board_size}x"
             f"{checkpoint.load(sources['sl_policy']).config.board_size} model", "",
             f"Made by `python -m selfplay.bundle {run_dir}` at commit {_commit()}; the run's configuration:", "",
             "```toml", run.config.read_text().strip() if run.config.exists() else "(no config.toml)", "```", "",
             "| file | size | what | figures (from the run's metrics.jsonl) |", "|---|---:|---|---|"]
    for path in sources.values():
        loaded = checkpoint.load(path)
        c = loaded.config
        shape = f"{c.filters}x{c.blocks}" if c.kind != "rollout" else f"{c.rollout_features} features"
        heads = [h for h in ("score", "ownership") if getattr(c, f"{h}_head", False)]
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in loaded.metrics.items() if k in (
            "val_top1", "val_mse", "train_mse", "win_rate_vs_sl"))
        facts.append(f"| `checkpoints/{path.name}` | {path.stat().st_size / 1e6:.2f} MB | {c.kind} {shape}"
                     f"{' + ' + ', '.join(heads) if heads else ''}, {loaded.stage} step {loaded.step} | {metrics} |")
    rl_checks = [r for r in best.get("rl", []) if "win_rate_vs_sl" in r]
    if rl_checks:
        facts += ["", "RL policy against its SL policy (the stage's own checks): " + ", ".join(
            f"{r['win_rate_vs_sl']:.1%} at iteration {r['iteration']}" for r in rl_checks) + "."]
    facts += ["", "Checksums (`SHA256SUMS`, checked before every use):", "", "```", *lines, "```", "", GENERATED_END]
    card = out / "CARD.md"
    kept = ""
    if card.exists() and GENERATED_END in card.read_text():
        kept = card.read_text().split(GENERATED_END, 1)[1]
    write_atomic(card, ("\n".join(facts) + kept).encode())
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selfplay.bundle", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder with stages sl, rl and value done")
    parser.add_argument("--out", type=Path, default=BUNDLED_ROOT, help="the bundle (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        lines = make_bundle(args.run, args.out)
    except (checkpoint.CheckpointError, OSError) as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 2
    print(f"{len(lines)} nets bundled in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
