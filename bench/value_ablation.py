"""Stage 3's ablation: positions per game x extra heads x epochs, each row a value net trained on the same games.

Every row trains a value net with ``selfplay.value.run`` into its own folder ``RUN/ablation/NAME`` (its
checkpoints beside links to RUN's SL and RL policies and to RUN's value-data games, so the games are played once,
by ``minigo train --stages value`` or by the first row), then all nets are scored on the same fresh positions
by ``bench/value_noise.py`` (cached in ``RUN/ablation/positions.npz``). Printed per row: positions trained on,
wall time of the training, validation MSE on s_{U+1} (the paper's figure), and the error against the k-game
means less their own noise (*excess*; target <= 0.06), overall and by move number.

    python bench/value_ablation.py RUN [--row NAME:field=value,...]... [--games N] [--positions 400] [--repeats 16]

A row is a name and ``value.*`` settings (``positions_per_game``, ``spacing``, ``heads``, ``score_weight``,
``ownership_weight``, ``epochs``, ``lr``, ...); without ``--row`` the default grid below runs. Rows already
trained are not trained again (the stage resumes), so the command can be stopped and rerun.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from models.run_layout import RunLayout  # noqa: E402
from selfplay import pipeline  # noqa: E402
from selfplay.run_folder import TrainingError  # noqa: E402
from selfplay.value import ValueConfig, run  # noqa: E402

# The grid the README's table reports: about the same CPU time a row (a k = 4 epoch takes ~1.7x a k = 1 one).
DEFAULT_ROWS = (
    "k1:positions_per_game=1,heads=none,epochs=10",
    "k4:positions_per_game=4,heads=ownership,epochs=6",
    "k4-own:positions_per_game=4,heads=ownership,ownership_weight=1.5,epochs=6",
    "k4-score:positions_per_game=4,heads=score,score_weight=1,epochs=6",
)


def parse_row(text: str, base: ValueConfig) -> tuple[str, ValueConfig]:
    """``NAME:field=value,...`` -> (NAME, base with those ``value.*`` fields), values read as TOML like ``--set``."""
    name, _, settings = text.partition(":")
    if not name or "/" in name:
        raise ValueError(f"row {text!r}: expected NAME:field=value,...")
    overrides = [f"value.{item.strip()}" for item in settings.split(",") if item.strip()]
    # the heads' weights at 0 first, so that a row's heads need not agree with the preset's weights
    config = pipeline.resolve("9x9", ["value.score_weight=0", "value.ownership_weight=0", *overrides]).stages["value"]
    changed = {f.name: getattr(config, f.name) for f in dataclasses.fields(ValueConfig)
               if any(o.startswith(f"value.{f.name}=") for o in overrides)}
    return name, dataclasses.replace(base, **changed)


def row_folder(run_dir: Path, name: str) -> Path:
    """``RUN/ablation/NAME`` with links to RUN's policies and value-data games."""
    run, row = RunLayout(run_dir), RunLayout(run_dir / "ablation" / name)
    row.checkpoints.mkdir(parents=True, exist_ok=True)
    for ours, theirs in ((row.sl_policy, run.sl_policy), (row.rl_policy, run.rl_policy)):
        if not ours.exists():
            ours.symlink_to(theirs.resolve())
    if not row.data.exists():
        run.data.mkdir(exist_ok=True)
        row.data.symlink_to(run.data.resolve(), target_is_directory=True)
    return row.root


def _sibling(name: str):
    """Another bench script as a module (bench scripts are files, not a package)."""
    import importlib.util

    key = f"bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder with stages sl and rl done")
    parser.add_argument("--row", action="append", default=[], help="NAME:field=value,... (repeatable)")
    parser.add_argument("--games", type=int, help="value-data games each row trains on (default: the 9x9 preset's)")
    parser.add_argument("--epochs", type=int, help="epochs of every row that does not set its own")
    parser.add_argument("--positions", type=int, default=400, help="fresh positions to score the nets on")
    parser.add_argument("--repeats", type=int, default=16, help="continuations of each")
    parser.add_argument("--json", type=Path, help="also write the table here (default RUN/ablation/table.json)")
    args = parser.parse_args(argv)
    if not RunLayout(args.run).rl_policy.is_file():
        parser.error(f"{args.run}: no checkpoints/rl_policy.safetensors (run stages sl and rl first)")
    # Rows start from the paper's scheme (one position a game, outcome only) with the 9x9 preset's games, batch
    # and learning rate, so that a row names everything it changes whatever the preset has adopted.
    base = dataclasses.replace(pipeline.resolve("9x9").stages["value"], positions_per_game=1, heads="none",
                               score_weight=0.0, ownership_weight=0.0)
    if args.games:
        base = dataclasses.replace(base, games=args.games)
    if args.epochs:
        base = dataclasses.replace(base, epochs=args.epochs)
    try:
        rows = [parse_row(text, base) for text in (args.row or DEFAULT_ROWS)]
    except (ValueError, pipeline.ConfigError) as exc:
        parser.error(str(exc))
    score_net, test_positions = _sibling("value_noise").score_net, _sibling("value_noise").test_positions
    table = []
    for name, config in rows:
        folder = row_folder(args.run, name)
        started = time.time()
        try:
            result = run(config, folder)
        except TrainingError as exc:
            print(f"value_ablation.py: row {name}: {exc}", file=sys.stderr)
            return 2
        records = [json.loads(line) for line in RunLayout(folder).metrics.read_text().splitlines()]
        seconds = sum(r.get("seconds", 0) for r in records if r.get("stage") == "value")
        table.append({"row": name, "config": {f: getattr(config, f) for f in (
            "positions_per_game", "spacing", "heads", "score_weight", "ownership_weight", "epochs", "games")},
            "val_mse": result.val_mse, "train_mse": result.train_mse, "train_seconds": round(seconds, 1),
            "this_call_seconds": round(time.time() - started, 1), "value": str(result.value)})
    torch.set_num_threads(1)
    starts, z, _ = test_positions(args.run, args.positions, args.repeats, 1.0, 0, 0,
                                  args.run / "ablation" / "positions.npz")
    k = z.shape[1]
    floor_each = k * (1 - z.mean(axis=1) ** 2) / (k - 1)
    print(f"{len(starts)} fresh positions x {k} continuations; noise floor {np.mean(floor_each):.3f}, the means' own "
          f"noise {np.mean(floor_each) / k:.4f}")
    print(f"{'row':<12} {'k':>4} {'heads':<18} {'epochs':>6} {'train s':>8} {'val MSE':>8} {'excess':>7}  by phase")
    for row in table:
        figures = score_net(Path(row["value"]), starts, z, floor_each)
        row.update(excess=figures["excess"], mse_fresh=figures["mse"], phases=figures["phases"])
        c = row["config"]
        heads = c["heads"] if c["heads"] == "none" else ",".join(
            f"{h}@{c[h + '_weight']:g}" for h in c["heads"].split(","))
        phases = " ".join(f"{name}:{p['excess']:+.3f}" for name, p in figures["phases"].items())
        print(f"{row['row']:<12} {c['positions_per_game']!s:>4} {heads:<18} {c['epochs']:>6} "
              f"{row['train_seconds']:>8.0f} {row['val_mse']:>8.4f} {row['excess']:>7.4f}  {phases}")
    out = args.json or args.run / "ablation" / "table.json"
    out.write_text(json.dumps(table, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
