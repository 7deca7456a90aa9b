"""How low can the value stage's validation MSE go? The noise floor of its outcomes, against the trained net.

Stage 3's target z is the outcome of one game: the SL policy to move U-1, a random move U, then the RL policy
*sampling* to the end. Even a perfect value function v*(s) = E[z | s] is off by the game's own randomness:
its MSE is E[1 - v*(s)^2], whatever the data size. This script estimates that floor on the stage's own
positions: it draws ``--positions`` s_{U+1} as stage 3 does, plays ``--repeats`` continuations of each with the
RL policy at ``--temperature`` (1 = the stage), and averages the unbiased per-position estimate
``K (1 - mean(z)^2) / (K - 1)``. With ``--value CKPT`` it also prints that net's MSE on fresh games of the same
positions (one continuation each: the stage's validation figure) and its ratio to the floor.

    python bench/value_noise.py RUN [--positions 200] [--repeats 16] [--temperature 1] [--seed 0]
        [--value CKPT ...] [--json FILE]

Figures: the floor, the net's MSE, the target (0.35) and the paper's 0.234, printed side by side; for each net,
its MSE against the k-game means and the *excess* over those means' own noise, ``MSE(v, mean) - floor / k``, an
unbiased estimate of ``E[(v - v*)^2]``: how far the net is from the perfect value function, overall and by the
move number of the position (issue 18's target: excess <= 0.06).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from minigo.go import Position, Rules, replay  # noqa: E402
from models import checkpoint  # noqa: E402
from models.features import planes  # noqa: E402
from models.run_layout import RunLayout  # noqa: E402
from selfplay.value import value_tasks  # noqa: E402
from selfplay.workers import play_lockstep, policy_from_checkpoint, sample_move, without_early_pass  # noqa: E402

TARGET, PAPER = 0.35, 0.234
EXCESS_TARGET = 0.06
"""Issue 18's target for a net's error against the k-game means less those means' own noise."""


def continue_games(starts: list[Position], policy, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Play every start to the end with ``policy`` (both colours) in lockstep; Black-view scores."""
    positions = list(starts)
    active = [i for i, p in enumerate(positions) if not p.is_game_over]
    while active:
        probabilities = policy([positions[i] for i in active])
        if temperature != 1:
            probabilities = np.where(probabilities > 0, probabilities ** (1 / temperature), 0.0)
        for i, row in zip(active, probabilities, strict=True):
            positions[i] = positions[i].play(sample_move(without_early_pass(row, positions[i]), rng))
        active = [i for i in active if not positions[i].is_game_over]
    return np.array([p.score() for p in positions])


def test_positions(run: Path, count: int, repeats: int, temperature: float, u_max: int, seed: int,
                   cache: Path | None = None) -> tuple[list[Position], np.ndarray, int]:
    """``count`` positions s_{U+1} drawn as stage 3 draws them (SL to U-1, a random move U) and the outcomes
    ``(positions, repeats)`` of ``repeats`` RL continuations of each, for the player to move there; and U's
    range. With ``cache``, kept in that file (the positions as their moves) and reused while the settings match."""
    layout = RunLayout(run)
    size = checkpoint.load(layout.sl_policy, kind="policy").config.board_size
    rules = Rules(size=size)
    u_max = u_max or (size * size * 3) // 4
    settings = np.array([count, repeats, temperature, u_max, seed], np.float64)
    if cache is not None and cache.is_file():
        with np.load(cache) as saved:
            if np.array_equal(saved["settings"], settings):
                starts = [replay([int(m) for m in row if m >= 0], rules) for row in saved["moves"]]
                return starts, saved["z"], u_max
    sl, rl = policy_from_checkpoint(str(layout.sl_policy)), policy_from_checkpoint(str(layout.rl_policy))
    rng = np.random.default_rng(seed)
    # The stage's own scheme for the prefix (its games' continuations are discarded and replayed below).
    games = play_lockstep(value_tasks(10**7, count, u_max, seed), {"sl": sl, "rl": rl}, rules, rng)
    prefixes = [g.moves[:g.random_move_at] for g in games if len(g.moves) >= g.random_move_at]
    starts = [replay(moves, rules) for moves in prefixes]
    prefixes = [m for m, s in zip(prefixes, starts, strict=True) if not s.is_game_over]
    starts = [s for s in starts if not s.is_game_over]
    scores = continue_games([s for s in starts for _ in range(repeats)], rl, temperature, rng)
    z = np.sign(scores.reshape(len(starts), repeats)) * np.array([s.to_play for s in starts])[:, None]
    if cache is not None:
        moves = np.full((len(prefixes), max(map(len, prefixes), default=0)), -1, np.int16)
        for row, prefix in zip(moves, prefixes, strict=True):
            row[:len(prefix)] = prefix
        np.savez(cache, settings=settings, moves=moves, z=z)
    return starts, z, u_max


PHASES = ((0, 20), (20, 40), (40, 10**6))
"""Game phases by the move number of s_{U+1}: where the value net errs (it misjudged decided endings)."""


def score_net(path: Path, starts: list[Position], z: np.ndarray, floor_each: np.ndarray) -> dict:
    """One value net's figures on the positions: MSE against one game and against the k-game means, and the
    excess over the means' own noise (floor / k), overall and by phase."""
    net = checkpoint.load(path, kind="value").net.eval()
    with torch.no_grad():
        v = net(torch.from_numpy(np.stack([planes(s, net.config.feature_set) for s in starts])).float()).numpy()
    k = z.shape[1]
    mean = z.mean(axis=1)
    moves = np.array([s.move_number for s in starts])
    out = {"value": str(path), "mse": float(np.mean((v - z[:, 0]) ** 2)), "to_mean": float(np.mean((v - mean) ** 2)),
           "phases": {}}
    out["excess"] = out["to_mean"] - float(np.mean(floor_each)) / k
    for low, high in PHASES:
        inside = (moves >= low) & (moves < high)
        if inside.any():
            to_mean = float(np.mean((v[inside] - mean[inside]) ** 2))
            out["phases"][f"{low}-{min(high, 999) - 1}"] = {
                "positions": int(inside.sum()), "excess": to_mean - float(np.mean(floor_each[inside])) / k}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder with checkpoints/sl_policy and rl_policy")
    parser.add_argument("--positions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=16)
    parser.add_argument("--temperature", type=float, default=1.0, help="of the RL continuation (stage 3: 1)")
    parser.add_argument("--u-max", type=int, default=0, help="0: three quarters of the points, as stage 3")
    parser.add_argument("--value", type=Path, action="append", default=[],
                        help="a value checkpoint to score, repeatable: all on the same positions (default RUN's)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--cache", type=Path, help="keep the positions and their continuations in this .npz file "
                        "and reuse them while the settings match (to score more nets later on the same positions)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.positions < 1 or args.repeats < 2:
        parser.error("--positions must be at least 1 and --repeats at least 2")
    for path in args.value:
        if not path.is_file():
            parser.error(f"--value {path}: no such checkpoint file")
    torch.set_num_threads(1)
    started = time.time()
    starts, z, u_max = test_positions(args.run, args.positions, args.repeats, args.temperature, args.u_max, args.seed,
                                      args.cache)
    layout = RunLayout(args.run)
    k = args.repeats
    mean = z.mean(axis=1)
    floor_each = k * (1 - mean ** 2) / (k - 1)  # unbiased per position: 1 - v*(s)^2
    floor = float(np.mean(floor_each))
    print(f"positions {len(starts)} x {k} continuations, RL temperature {args.temperature:g}, U in 1..{u_max}: "
          f"{len(starts) * k} games in {time.time() - started:.0f} s")
    print(f"noise floor of the value MSE (a perfect v*(s) = E[z|s]): {floor:.3f}   target {TARGET}   paper {PAPER}")
    print(f"the {k}-game means' own noise (floor / {k}): {floor / k:.4f}; target for a net's excess over it: "
          f"<= {EXCESS_TARGET}")
    report = {"positions": len(starts), "repeats": k, "temperature": args.temperature, "u_max": u_max,
              "seed": args.seed, "floor": floor, "nets": []}
    paths = args.value or ([layout.value] if layout.value.exists() else [])
    for path in paths:
        figures = score_net(path, starts, z, floor_each)
        report["nets"].append(figures)
        phases = ", ".join(f"moves {name}: {p['excess']:+.3f} ({p['positions']})"
                           for name, p in figures["phases"].items())
        print(f"value net {path}: MSE {figures['mse']:.3f} against one game per position "
              f"({figures['mse'] / floor:.2f}x the floor), {figures['to_mean']:.3f} against the {k}-game mean, "
              f"excess {figures['excess']:.3f} ({figures['excess'] / EXCESS_TARGET:.2f}x the target); by phase: "
              f"{phases}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except checkpoint.CheckpointError as exc:
        print(f"value_noise.py: {exc} (expected a run folder with the sl, rl and value stages done)", file=sys.stderr)
        raise SystemExit(2) from None
