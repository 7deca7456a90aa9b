"""Rollout-policy speed: complete 9x9 policy-guided playouts per second on one core.

Engines (each gets the same fixed wall budget, ``--seconds``, after an untimed warm-up that includes numba's
JIT compile; the budget is cut into ``--rounds`` slices run round-robin so load from elsewhere falls on all
engines alike):

(u) ``go.random_playout``: uniform over the sensible moves, for scale (no features, no softmax);
(z) ``rollout.policy_playout`` with all weights zero: features of every candidate computed and summed, then a
    softmax that happens to be uniform;
(r) ``rollout.policy_playout`` with random weights, normal with std 1 (fixed seed): the same work as (z), with
    non-uniform choices, so games differ in length;
(w) ``rollout.policy_playout`` with the weight vector of ``--weights PATH.npy`` (shape ``(NUM_FEATURES + 1,)``
    or ``(NUM_FEATURES,)``), when given.

Every game starts from the empty 9x9 board (komi 7.5, positional superko) and runs until two passes or the
move cap of 162; a move is one move of the game, passes included. Figures per engine: rollouts/s, moves/s,
µs/move, mean moves per game. Ratios, measured in the same run: rollouts/s against the target of 1,000
complete 9x9 rollouts/s (``PASS`` at >= 1.0x), the paper's 2 µs per move against ours (2 / our µs/move; the
paper's figure is for 19x19 in C++ on other hardware, so read it as scale, not as a target), and moves/s
against the uniform random playout (u).

The process is pinned to one core and numba/OpenMP/BLAS are held to one thread. Exit status is 0 whatever the
figures (2 for an unreadable ``--weights``). Run::

    .venv/bin/python bench/rollout.py [--seconds 5] [--warmup 1] [--rounds 5] [--cpu 0] [--weights PATH.npy]
                                      [--temperature 1.0] [--json PATH]
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from minigo import rollout  # noqa: E402
from minigo.go import Position, random_playout  # noqa: E402

SIZE = 9
KOMI = 7.5
SEED = 12345
TARGET_ROLLOUTS_PER_S = 1000.0
PAPER_US_PER_MOVE = 2.0

GameFn = Callable[[], int]


@dataclass
class Result:
    """One engine's figures."""

    key: str
    name: str
    moves: int = 0
    games: int = 0
    seconds: float = 0.0
    rollouts_per_s: float = 0.0
    moves_per_s: float = 0.0
    us_per_move: float = 0.0
    mean_moves: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _warm(play_game: GameFn, warmup: float) -> float:
    """Untimed: one game (the JIT compile, timed and returned), then whole games until ``warmup`` seconds."""
    t0 = time.perf_counter()
    play_game()
    first = time.perf_counter() - t0
    while time.perf_counter() - t0 < warmup + first:
        play_game()
    return first


def _slice(play_game: GameFn, seconds: float) -> tuple[int, int, float]:
    """Timed: whole games until ``seconds`` have passed; returns (moves, games, elapsed)."""
    gc.collect()
    moves = games = 0
    t0 = time.perf_counter()
    while True:
        moves += play_game()
        games += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return moves, games, elapsed


def load_weights(path: Path) -> np.ndarray:
    """A weight vector from ``path`` (``.npy``); ValueError with a one-line reason if it is not one."""
    try:
        weights = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"--weights {path}: cannot read a .npy array ({e})") from None
    if weights.ndim != 1 or weights.shape[0] not in (rollout.NUM_FEATURES, rollout.NUM_FEATURES + 1):
        raise ValueError(f"--weights {path}: shape {weights.shape}, expected ({rollout.NUM_FEATURES + 1},)")
    if not np.issubdtype(weights.dtype, np.floating) or not np.all(np.isfinite(weights)):
        raise ValueError(f"--weights {path}: expected finite floats, got {weights.dtype}")
    return weights


def engines(weights: tuple[str, np.ndarray] | None, temperature: float) -> dict[str, tuple[str, GameFn]]:
    """The engines to time: key -> (description, a function that plays one game and returns its moves)."""
    start = Position.empty(size=SIZE, komi=KOMI)
    rng = np.random.default_rng(SEED)

    def uniform() -> int:
        return int(random_playout(start, rng).moves)

    def policy(weights: np.ndarray) -> GameFn:
        def game() -> int:
            return int(rollout.policy_playout(start, weights, rng, temperature).moves)
        return game

    out: dict[str, tuple[str, GameFn]] = {
        "u": ("go.random_playout (uniform, for scale)", uniform),
        "z": ("policy_playout, zero weights", policy(np.zeros(rollout.NUM_FEATURES + 1))),
        "r": ("policy_playout, random weights N(0, 1)",
              policy(np.random.default_rng(SEED + 1).normal(size=rollout.NUM_FEATURES + 1))),
    }
    if weights is not None:
        name, vector = weights
        out["w"] = (f"policy_playout, weights {name}", policy(vector))
    return out


def run_all(games: dict[str, tuple[str, GameFn]], seconds: float, warmup: float, rounds: int) -> dict[str, Result]:
    """Warm every engine, then time them round-robin in ``rounds`` slices of ``seconds / rounds`` each."""
    results = {key: Result(key, name) for key, (name, _) in games.items()}
    for key, (_, game) in games.items():
        results[key].extra["first_game_s"] = round(_warm(game, warmup), 3)
    per_slice = seconds / rounds
    for _ in range(rounds):
        for key, (_, game) in games.items():
            moves, n_games, elapsed = _slice(game, per_slice)
            res = results[key]
            res.moves += moves
            res.games += n_games
            res.seconds += elapsed
            res.extra.setdefault("round_rollouts_per_s", []).append(round(n_games / elapsed, 1))
    for res in results.values():
        res.rollouts_per_s = res.games / res.seconds
        res.moves_per_s = res.moves / res.seconds
        res.us_per_move = 1e6 * res.seconds / res.moves
        res.mean_moves = res.moves / res.games
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="timed wall budget per engine (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed warm-up per engine after the JIT (default 1)")
    ap.add_argument("--rounds", type=int, default=5, help="interleave the engines in this many slices (default 5)")
    allowed = sorted(os.sched_getaffinity(0))
    ap.add_argument("--cpu", type=int, default=allowed[0], help="core to pin to (default: first allowed)")
    ap.add_argument("--weights", type=Path, default=None, help="also time this weight vector (.npy)")
    ap.add_argument("--temperature", type=float, default=1.0, help="softmax temperature of the policy (default 1)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    if not args.seconds > 0 or args.warmup < 0 or not args.temperature >= 0:
        ap.error("--seconds must be > 0, --warmup and --temperature >= 0")
    rounds = max(1, args.rounds)

    try:
        os.sched_setaffinity(0, {args.cpu})
        pinned = f"core {args.cpu}"
    except OSError as e:
        pinned = f"not pinned ({e})"

    loaded = None
    if args.weights is not None:
        try:
            loaded = (args.weights.name, load_weights(args.weights))
        except ValueError as e:
            ap.error(str(e))  # one line and exit status 2
    games = engines(loaded, args.temperature)
    print(f"policy-guided {SIZE}x{SIZE} rollouts from the empty board, komi {KOMI}, positional superko, "
          f"temperature {args.temperature:g}; one process on {pinned}; {args.seconds:g} s per engine in {rounds} "
          f"interleaved rounds after {args.warmup:g} s warm-up; python {platform.python_version()}", flush=True)
    print(f"features: {rollout.NUM_FEATURES} ({rollout.NUM_PATTERNS} 3x3 patterns + {rollout.NUM_FLAGS} flags), "
          f"at most {rollout.MAX_ACTIVE} active per move", flush=True)
    results = run_all(games, args.seconds, args.warmup, rounds)
    for key, res in results.items():
        label = f"({key}) {res.name}"
        print(f"{label:<50} {res.rollouts_per_s:>8,.0f} rollouts/s {res.moves_per_s:>10,.0f} moves/s "
              f"{res.us_per_move:>6.2f} us/move {res.mean_moves:>6.1f} moves/game")

    ratios: list[dict[str, Any]] = []
    uniform = results["u"]
    for key, res in results.items():
        if key == "u":
            continue
        target = res.rollouts_per_s / TARGET_ROLLOUTS_PER_S
        paper = PAPER_US_PER_MOVE / res.us_per_move
        vs_uniform = res.moves_per_s / uniform.moves_per_s
        verdict = "PASS" if target >= 1.0 else "BELOW"
        print(f"({key}) rollouts/s vs target {TARGET_ROLLOUTS_PER_S:,.0f}/s: {target:.2f}x {verdict}; "
              f"vs paper's {PAPER_US_PER_MOVE:g} us/move: {paper:.2f}x; moves/s vs uniform (u): {vs_uniform:.2f}x")
        ratios.append({"engine": key, "vs_target": target, "verdict": verdict, "vs_paper_us_per_move": paper,
                       "vs_uniform_moves_per_s": vs_uniform})

    if args.json is not None:
        payload = {
            "size": SIZE, "komi": KOMI, "temperature": args.temperature, "seconds": args.seconds,
            "warmup": args.warmup, "rounds": rounds, "pinned": pinned, "python": platform.python_version(),
            "machine": platform.machine(), "target_rollouts_per_s": TARGET_ROLLOUTS_PER_S,
            "paper_us_per_move": PAPER_US_PER_MOVE, "engines": {k: asdict(r) for k, r in results.items()},
            "ratios": ratios,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        tmp.replace(args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
