"""Stage 2 under each baseline, side by side: RL against SL at every check of runs that differ only in b(s).

``bench/rl_baseline.py`` measures how much a baseline cuts the variance of one batch's gradient; this measures
what that buys: whole stage-2 runs from the same SL policy under ``rl.baseline = none | mean | value``, each
with several seeds, and the RL policy's win rate against the SL policy at the stage's own checks (every
``rl.eval_every`` iterations, ``rl.eval_games`` games, both policies sampling, colours alternating).

Each run is ``minigo train --preset PRESET --stages rl --set rl.baseline=B --set rl.seed=S`` in its own folder
``OUT/B-sS`` (the SL policy copied in from ``--sl``); a run already done is read, a run cut short resumes, so
the command can be stopped and started again. Per baseline and check it prints the win rate over the seeds'
games pooled (95% Wilson interval), the seeds' own rates and their spread, and each baseline's gain over
``none`` at the same check in the same run (percentage points); ``--plot`` draws them (needs matplotlib).

    python bench/rl_runs.py --sl RUN --out DIR [--baselines none,mean,value] [--seeds 0,1,2] [--preset 9x9]
                            [--set rl.FIELD=VALUE ...] [--no-train] [--plot PNG] [--json PATH]

Exit status 0 whatever the figures; 2 for a missing SL policy, a bad list, a run that fails, or no matplotlib
for ``--plot``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from models.run_layout import RunLayout  # noqa: E402
from selfplay.rl import BASELINES  # noqa: E402
from selfplay.stats import wilson_interval  # noqa: E402


@dataclass(frozen=True)
class Check:
    """One stage-2 check: the RL policy after ``iteration`` iterations against the SL policy."""

    iteration: int
    win_rate: float
    games: int


def run_folder(out: Path, baseline: str, seed: int) -> Path:
    return out / f"{baseline}-s{seed}"


def train(folder: Path, sl_policy: Path, preset: str, baseline: str, seed: int, overrides: list[str]) -> None:
    """Run (or resume) stage 2 in ``folder``; its output goes to ``folder``.out. Raises RuntimeError on failure."""
    layout = RunLayout(folder)
    layout.checkpoints.mkdir(parents=True, exist_ok=True)
    if not layout.sl_policy.exists():
        shutil.copyfile(sl_policy, layout.sl_policy)
    command = [sys.executable, "-m", "selfplay.cli", "train", "--preset", preset, "--run", str(folder),
               "--stages", "rl", "--set", f"rl.baseline={baseline}", "--set", f"rl.seed={seed}", "--quiet"]
    for item in overrides:
        command += ["--set", item]
    with open(folder.with_name(folder.name + ".out"), "a") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{folder}: stage 2 failed (exit {done.returncode}); see {folder}.out and {layout.log}")


def checks(folder: Path) -> list[Check]:
    """The stage-2 checks recorded in ``folder``'s metrics.jsonl, by iteration (a resumed run's last record of each
    iteration wins)."""
    layout = RunLayout(folder)
    if not layout.metrics.exists():
        return []
    games = 100
    if layout.config.exists():
        games = tomllib.loads(layout.config.read_text()).get("rl", {}).get("eval_games", games)
    found: dict[int, Check] = {}
    for line in layout.metrics.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("stage") == "rl" and "win_rate_vs_sl" in record:
            found[record["iteration"]] = Check(record["iteration"], record["win_rate_vs_sl"], games)
    return [found[i] for i in sorted(found)]


def summarise(per_seed: dict[int, list[Check]]) -> list[dict]:
    """Per check iteration held by every seed: the pooled win rate and its 95% interval, the seeds' rates."""
    common = set.intersection(*({c.iteration for c in cs} for cs in per_seed.values())) if per_seed else set()
    rows = []
    for iteration in sorted(common):
        at = [next(c for c in cs if c.iteration == iteration) for cs in per_seed.values()]
        games = sum(c.games for c in at)
        rate = sum(c.win_rate * c.games for c in at) / games
        low, high = wilson_interval(rate * games, games)
        rows.append({"iteration": iteration, "win_rate": rate, "low": low, "high": high, "games": games,
                     "seeds": [c.win_rate for c in at]})
    return rows


def plot(table: dict[str, list[dict]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for offset, (baseline, rows) in zip((-0.6, 0.0, 0.6, 1.2), table.items(), strict=False):
        x = [r["iteration"] + offset for r in rows]
        y = [100 * r["win_rate"] for r in rows]
        err = [[100 * (r["win_rate"] - r["low"]) for r in rows], [100 * (r["high"] - r["win_rate"]) for r in rows]]
        line = ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=f"baseline = {baseline}")
        for r, xi in zip(rows, x, strict=True):
            ax.scatter([xi] * len(r["seeds"]), [100 * s for s in r["seeds"]], s=8, alpha=0.45,
                       color=line[0].get_color())
    ax.axhline(50, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("stage-2 iteration (128 games each)")
    ax.set_ylabel("RL policy vs its SL policy, win %")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def parse_list(text: str, name: str, kind=str) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise ValueError(f"--{name} is empty")
    try:
        return [kind(t) for t in items]
    except ValueError:
        raise ValueError(f"--{name} {text!r}: expected a comma-separated list of integers") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sl", type=Path, required=True, help="run folder (or checkpoint) with the SL policy")
    parser.add_argument("--out", type=Path, required=True, help="folder for the runs, one per baseline and seed")
    parser.add_argument("--baselines", default="none,mean,value", help="comma-separated, of " + ", ".join(BASELINES))
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated rl.seed values")
    parser.add_argument("--preset", default="9x9", help="preset of the runs (default 9x9)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="rl.FIELD=VALUE",
                        help="another stage-2 setting for every run")
    parser.add_argument("--no-train", action="store_true", help="only read the runs already in --out")
    parser.add_argument("--plot", type=Path, help="draw the checks to this PNG (needs matplotlib)")
    parser.add_argument("--json", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    try:
        baselines = parse_list(args.baselines, "baselines")
        seeds = parse_list(args.seeds, "seeds", int)
    except ValueError as exc:
        parser.error(str(exc))
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        parser.error(f"--baselines: unknown {', '.join(unknown)} (expected some of {', '.join(BASELINES)})")
    sl_policy = RunLayout(args.sl).sl_policy if args.sl.is_dir() else args.sl
    if not args.no_train and not sl_policy.is_file():
        parser.error(f"{sl_policy}: no SL policy (expected a run folder with stage sl done, or its checkpoint)")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install matplotlib")
    table: dict[str, list[dict]] = {}
    for baseline in baselines:
        per_seed = {}
        for seed in seeds:
            folder = run_folder(args.out, baseline, seed)
            if not args.no_train:
                print(f"stage 2, baseline {baseline}, seed {seed}: {folder}", flush=True)
                try:
                    train(folder, sl_policy, args.preset, baseline, seed, args.overrides)
                except RuntimeError as exc:
                    print(f"rl_runs.py: {exc}", file=sys.stderr)
                    return 2
            found = checks(folder)
            if found:
                per_seed[seed] = found
        table[baseline] = summarise(per_seed)
    if not any(table.values()):
        print(f"rl_runs.py: no stage-2 checks in {args.out} (run without --no-train first)", file=sys.stderr)
        return 2
    reference = {r["iteration"]: r for r in table.get("none", [])}
    print(f"RL policy against its SL policy at stage 2's checks, seeds {args.seeds} pooled (95% Wilson interval); "
          "per seed in brackets; gain over baseline none at the same check")
    for baseline, rows in table.items():
        for r in rows:
            ref = reference.get(r["iteration"])
            gain = ""
            if ref and baseline != "none":
                gain = f"   {100 * (r['win_rate'] - ref['win_rate']):+5.1f} pp vs none"
            seeds_text = " ".join(f"{100 * s:.1f}" for s in r["seeds"])
            print(f"baseline {baseline:<6} iteration {r['iteration']:>4}: {100 * r['win_rate']:5.1f}% "
                  f"[{100 * r['low']:.1f}, {100 * r['high']:.1f}] of {r['games']}   ({seeds_text}){gain}")
    if args.json:
        args.json.write_text(json.dumps({"seeds": seeds, "preset": args.preset, "table": table}, indent=1) + "\n")
    if args.plot:
        plot(table, args.plot, f"Stage 2 under each baseline ({args.preset}, seeds {args.seeds})")
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
