"""MCTS speed: simulations per second with a 64-filter x 6-block net on 9x9, against the net's own throughput.

Engines, all measured in one process and finely interleaved (see below) so that load from elsewhere falls on all
of them alike:

(f) the network's own forward throughput: a random-weight 64x6 ``PolicyNet`` and ``ValueNet`` (the pair a
    lambda < 1 search evaluates per leaf), as the search runs them (``NetEvaluator``'s inference copies: batch
    norm folded, channels-last), on a ready ``(B, 24, 9, 9)`` batch of real positions, ``B = --batch``;
    positions per second;
(t) the tree alone for scale: ``MCTS`` with ``UniformEvaluator``, lambda = 0 (no network, no rollouts);
(0) ``MCTS``, lambda = 0: priors and values from the two nets through ``NetEvaluator`` (input planes included)
    and the player's position cache, ``--batch`` leaves per call with virtual loss;
(1) ``MCTS``, lambda = 0.5, rollouts (policy rollouts with random weights N(0, 1)) on one thread;
(r) ``MCTS``, lambda = 0.5, rollouts on ``--rollout-threads`` threads (compiled, without the GIL);
(b) as (1) with the nets under bf16 autocast (``precision="bf16"``; fast on CPUs with AVX512-BF16 or AMX).

Each MCTS engine searches ``--playouts`` simulations from each of a fixed set of positions (moves 0, 10, 20, 30,
40 of seeded random games, komi 7.5), with a fresh tree and an empty cache each time; simulations per second is
their total over the total time, the root's own evaluation included. A unit of work is the forward pass over
as many positions as one search, then one search per engine from one start position, in an order that rotates
from unit to unit; a round is one unit per start position; ``--rounds`` rounds. Targets, measured in the same run:
(0)/(f) >= 0.9 (the search costs little beyond the network), and the lambda = 0.5 rate >= 0.7x the lambda = 0
rate (rollouts cost at most 30%), for (1) and (r); (b)/(1), and (1) and (b) against issue 20's 1,000 simulations/s
at lambda = 0.5; each marked PASS or BELOW. Torch uses ``--threads``
threads (default: all cores); ``OMP_WAIT_POLICY`` is ``PASSIVE`` unless the environment sets it (see below).
Exit status is 0 whatever the figures. Run::

    .venv/bin/python bench/mcts.py [--playouts 400] [--batch 16] [--rounds 3]
                                   [--threads N] [--rollout-threads N] [--json PATH]
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning (unless the environment says otherwise): a spinning worker fights
# the search's own Python thread and other processes for the cores, and on a loaded machine torch's throughput
# then collapses by 10x or more as soon as anything runs between two forward passes.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from minigo import rollout  # noqa: E402
from minigo.go import Position  # noqa: E402
from minigo.mcts import MCTS, SearchConfig, UniformEvaluator  # noqa: E402
from models.checkpoint import Checkpoint  # noqa: E402
from models.evaluator import NetEvaluator  # noqa: E402
from models.features import batch_planes  # noqa: E402
from models.mcts_player import CachedEvaluator  # noqa: E402
from models.nets import NetConfig, build  # noqa: E402

SIZE = 9
KOMI = 7.5
SEED = 2016
START_MOVES = (0, 10, 20, 30, 40)


@dataclass
class Result:
    key: str
    name: str
    count: int = 0
    seconds: float = 0.0
    net_positions: int = 0
    rounds: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def start_positions() -> list[Position]:
    """Positions at ``START_MOVES`` of seeded random games (uniform over sensible moves)."""
    rng = np.random.default_rng(SEED)
    out = []
    for moves in START_MOVES:
        position = Position.empty(SIZE, KOMI)
        while position.move_number < moves:
            choices = np.flatnonzero(position.sensible_moves()[:-1])
            position = position.play(int(rng.choice(choices)) if len(choices) else position.pass_point)
        out.append(position)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--playouts", type=int, default=400, help="simulations per search (default 400)")
    ap.add_argument("--batch", type=int, default=16, help="leaves per network call and forward batch (default 16)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    cores = len(os.sched_getaffinity(0))
    ap.add_argument("--threads", type=int, default=cores, help=f"torch threads (default: all cores, {cores})")
    ap.add_argument("--rollout-threads", type=int, default=cores, help=f"rollout threads of (r) (default {cores})")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    if args.playouts < 1 or args.batch < 1 or args.rounds < 1 or args.threads < 1 or args.rollout_threads < 1:
        ap.error("--playouts, --batch, --rounds, --threads and --rollout-threads must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    policy_config = NetConfig(kind="policy", board_size=SIZE, filters=64, blocks=6)
    value_config = NetConfig(kind="value", board_size=SIZE, filters=64, blocks=6)
    policy = Checkpoint(net=build(policy_config).eval(), config=policy_config)
    value = Checkpoint(net=build(value_config).eval(), config=value_config)
    net_evaluator = NetEvaluator(policy, value)
    evaluator = CachedEvaluator(net_evaluator)
    bf16_evaluator = CachedEvaluator(NetEvaluator(policy, value, precision="bf16"))
    weights = np.random.default_rng(SEED + 1).normal(size=rollout.NUM_FEATURES + 1)
    positions = start_positions()
    x = torch.from_numpy(batch_planes([positions[i % len(positions)] for i in range(args.batch)]))

    def forward(batches: int) -> tuple[int, float]:
        with torch.no_grad():
            t0 = time.perf_counter()
            for _ in range(batches):
                # the nets the search calls: NetEvaluator's inference copies (models.inference)
                net_evaluator.policy_net(x)
                net_evaluator.value_net(x)
            return batches * args.batch, time.perf_counter() - t0

    def searcher(mixing: float, threads: int, uniform: bool = False, nets: CachedEvaluator = evaluator) -> MCTS:
        config = SearchConfig(playouts=args.playouts, mixing=mixing, batch_size=args.batch, rollout_threads=threads)
        return MCTS(UniformEvaluator() if uniform else nets, config, rollout_weights=weights,
                    rng=np.random.default_rng(SEED))

    engines = {
        "t": ("tree alone: UniformEvaluator, lambda 0", searcher(0.0, 1, uniform=True)),
        "0": ("MCTS lambda 0 (nets only)", searcher(0.0, 1)),
        "1": ("MCTS lambda 0.5, rollouts on 1 thread", searcher(0.5, 1)),
        "r": (f"MCTS lambda 0.5, rollouts on {args.rollout_threads} threads", searcher(0.5, args.rollout_threads)),
        "b": ("MCTS lambda 0.5, rollouts on 1 thread, bf16 nets", searcher(0.5, 1, nets=bf16_evaluator)),
    }

    print(f"MCTS on {SIZE}x{SIZE}, komi {KOMI}: {args.playouts} playouts from each of {len(positions)} positions "
          f"(moves {', '.join(map(str, START_MOVES))} of seeded random games), batch {args.batch}, virtual loss 3; "
          f"nets 64 filters x 6 blocks (policy + value, random weights); torch {torch.__version__} on "
          f"{args.threads} threads of {cores} cores, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; "
          f"python {platform.python_version()}; {args.rounds} rounds",
          flush=True)
    # Warm-up, untimed: numba compiles, torch's first calls.
    forward(8)
    for _, mcts in engines.values():
        mcts.search(positions[1], playouts=2 * args.batch)
        mcts.reset()

    # One unit = the forward pass over as many positions as one search evaluates, then one search per engine from
    # one start position; the order rotates from unit to unit, so that changing load from other processes falls
    # on every engine alike.
    results = {"f": Result("f", f"network forward, policy + value, batch {args.batch}")}
    results.update({key: Result(key, name) for key, (name, _) in engines.items()})
    batches = -(-args.playouts // args.batch)
    unit = 0
    for _ in range(args.rounds):
        round_counts = {key: [0, 0.0] for key in results}
        for position in positions:
            keys = list(results)
            keys = keys[unit % len(keys):] + keys[: unit % len(keys)]
            unit += 1
            for key in keys:
                gc.collect()
                if key == "f":
                    count, elapsed = forward(batches)
                else:
                    mcts = engines[key][1]
                    mcts.reset()
                    if key != "t":
                        mcts.evaluator.clear()
                    t0 = time.perf_counter()
                    count = mcts.search(position).playouts
                    elapsed = time.perf_counter() - t0
                    results[key].net_positions += mcts.evaluator.misses if key != "t" else 0
                results[key].count += count
                results[key].seconds += elapsed
                round_counts[key][0] += count
                round_counts[key][1] += elapsed
        for key, (count, elapsed) in round_counts.items():
            results[key].rounds.append(round(count / elapsed, 1))

    for key, res in results.items():
        unit = "positions/s" if key == "f" else "sims/s"
        extra = ""
        if key not in ("f", "t"):
            extra = f"  ({res.net_positions / res.count:.3f} net evaluations per simulation)"
        print(f"({key}) {res.name:<48} {res.rate:>9,.0f} {unit:<11} rounds {res.rounds}{extra}")

    ratios: list[dict[str, Any]] = []

    def ratio(name: str, value: float, target: float) -> None:
        verdict = "PASS" if value >= target else "BELOW"
        ratios.append({"name": name, "ratio": round(value, 3), "target": target, "verdict": verdict})
        print(f"{name:<62} {value:6.2f}x  target >= {target:g}x  {verdict}")

    forward_rate = results["f"].rate
    ratio("(0)/(f): search lambda 0 vs the net's own forward rate", results["0"].rate / forward_rate, 0.9)
    ratio("(1)/(0): lambda 0.5, rollouts on 1 thread, vs lambda 0", results["1"].rate / results["0"].rate, 0.7)
    ratio(f"(r)/(0): lambda 0.5, rollouts on {args.rollout_threads} threads, vs lambda 0",
          results["r"].rate / results["0"].rate, 0.7)
    ratio("(b)/(1): lambda 0.5 with bf16 nets vs fp32", results["b"].rate / results["1"].rate, 1.0)
    target = 1000.0
    for key in ("1", "b"):
        rate = results[key].rate
        print(f"({key}) lambda 0.5: {rate:,.0f} sims/s against the target of {target:,.0f}: {rate / target:.2f}x "
              f"{'PASS' if rate >= target else 'BELOW'}")
    if args.json is not None:
        payload = {"args": {k: str(v) for k, v in vars(args).items()},
                   "results": {k: {**asdict(r), "rate": r.rate} for k, r in results.items()}, "ratios": ratios}
        args.json.write_text(json.dumps(payload, indent=2))
    for _, mcts in engines.values():
        mcts.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
