"""A run's report: each stage's figure beside the paper's, and its learning curves.

``write_report(run_dir)`` reads ``RUN/metrics.jsonl`` and writes ``RUN/report/summary.md`` (always) and
``RUN/report/*.png`` learning curves when matplotlib is installed (``pip install matplotlib``; without it
the summary says so and nothing else changes). The paper's figures are Silver et al. 2016 on 19x19 (see
../shared/REFERENCE.md): they are a compass, not a target on small boards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from minigo.atomic import write_atomic
from models.run_layout import RunLayout

PAPER = {
    "sl": "57.0% top-1 (all features), 55.7% raw board",
    "rollout": "24.2% top-1",
    "rl": "> 80% wins against the SL policy",
    "value": "MSE 0.226 train / 0.234 test (one position per game)",
    "mcts": "MCTS beats the raw policies; lambda = 0.5 best",
}


def read_metrics(run_dir: str | os.PathLike[str]) -> list[dict]:
    """Every JSON line of ``RUN/metrics.jsonl`` (unreadable lines are skipped)."""
    path = RunLayout(run_dir).metrics
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def summary_rows(records: list[dict]) -> list[tuple[str, str, str]]:
    """(stage, our figure, the paper's figure) for each stage that has run."""
    rows = []
    sl = [r for r in records if r.get("stage") == "sl"]
    if sl:
        best = max(sl, key=lambda r: r.get("val_top1", 0))
        rows.append(("SL policy", f"{best['val_top1']:.1%} validation top-1 (epoch {best['epoch']} of {len(sl)})",
                     PAPER["sl"]))
    rollout = [r for r in records if r.get("stage") == "rollout"]
    if rollout:
        rows.append(("rollout policy", f"{rollout[-1]['val_top1']:.1%} validation top-1", PAPER["rollout"]))
    rl = [r for r in records if r.get("stage") == "rl"]
    if rl:
        vs_sl = [r for r in rl if "win_rate_vs_sl" in r]
        figure = (f"{vs_sl[-1]['win_rate_vs_sl']:.1%} wins against the SL policy after {vs_sl[-1]['iteration']} "
                  f"iterations" if vs_sl else f"{len(rl)} iterations, no evaluation yet")
        rows.append(("RL policy", figure, PAPER["rl"]))
    value = [r for r in records if r.get("stage") == "value"]
    if value:
        best = min(value, key=lambda r: r.get("val_mse", 9))
        count = best.get("positions_per_game", 1)
        scheme = {1: "one position", "one": "one position", "all": "every position"}.get(count, f"{count} positions")
        rows.append(("value net", f"MSE {best['train_mse']:.3f} train / {best['val_mse']:.3f} validation on "
                     f"s_(U+1) ({scheme} per game)", PAPER["value"]))
    mcts = [r for r in records if r.get("stage") == "mcts"]
    for r in mcts:
        rows.append((f"MCTS vs {r.get('opponent', '?')}", f"{r['win_rate']:.1%} of {r.get('games', '?')} games",
                     PAPER["mcts"]))
    return rows


def write_report(run_dir: str | os.PathLike[str]) -> Path:
    """Write ``RUN/report/summary.md`` (and PNG curves when matplotlib is present); returns the summary's path."""
    run_dir = Path(run_dir)
    records = read_metrics(run_dir)
    out = RunLayout(run_dir).report
    out.mkdir(parents=True, exist_ok=True)
    rows = summary_rows(records)
    lines = [f"# Run report: {run_dir.name}", "", "| stage | this run | paper (19x19) |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows] or ["| (no stage has finished yet) | | |"]
    plots = _plots(records, out)
    lines += [""]
    if plots is None:
        lines.append("Learning curves: install matplotlib (`pip install matplotlib`) and run `minigo report "
                     f"{run_dir}`.")
    else:
        lines += [f"![{p.stem}]({p.name})" for p in plots]
    path = out / "summary.md"
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    return path


def _plots(records: list[dict], out: Path) -> list[Path] | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    written = []
    curves = {
        "sl": ("epoch", [("train_loss", "train loss"), ("val_loss", "validation loss"),
                         ("val_top1", "validation top-1")]),
        "rl": ("iteration", [("win_rate", "win rate vs drawn opponent"), ("win_rate_vs_sl", "win rate vs SL"),
                             ("entropy", "policy entropy")]),
        "value": ("epoch", [("train_mse", "train MSE"), ("val_mse", "validation MSE")]),
    }
    for stage, (x_key, series) in curves.items():
        rows = [r for r in records if r.get("stage") == stage and x_key in r]
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        for key, label in series:
            points = [(r[x_key], r[key]) for r in rows if key in r]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o" if len(points) < 30 else None, label=label)
        ax.set_xlabel(x_key)
        ax.set_title(f"stage {stage}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = out / f"{stage}.png"
        temporary = path.with_name(f".{path.name}.tmp.png")
        fig.savefig(temporary)
        plt.close(fig)
        os.replace(temporary, path)
        written.append(path)
    return written
