"""Network forward speed for inference: eager fp32 against the fast copies of ``models.inference``, same run.

The search's pair of networks (a random-weight 64-filter x 6-block ``PolicyNet`` and ``ValueNet``, 9x9, the 24
planes of the ``alphago`` feature set, batch norm statistics set to random non-trivial values; or the checkpoints
``--policy`` / ``--value`` name) evaluated on a ready ``(B, 24, 9, 9)`` batch of real positions (from seeded random
games), at each size in ``--batches``. One line per path and batch size: positions per second (policy + value
per position, as the search evaluates them) and the ratio to eager fp32 at the same batch size, measured in the
same run. Paths:

(e) eager fp32: the nets as trained, in eval mode, under ``torch.inference_mode`` (the reference);
(f) ``inference_copy(net)``: batch norm folded into the convolutions, channels-last, inference mode (fp32; what
    ``NetEvaluator`` runs by default);
(b) ``inference_copy(net, "bf16")``: as (f) under bfloat16 autocast (``NetEvaluator(..., precision="bf16")``);
(j) TorchScript: ``torch.jit.freeze(torch.jit.script(...))`` of (f)'s folded channels-last module, for
    comparison (not used by the evaluator).

The work is interleaved: a round runs every (path, batch) cell for ``--slice`` seconds, in an order that rotates
from round to round, so that load from other processes falls on every path alike; ``--rounds`` rounds, each
round's rate printed after the total. Targets: (f) and (b) >= 1.5x (e) at the search's batch (16), marked PASS
or BELOW. Torch uses ``--threads`` threads (default: all cores); ``OMP_WAIT_POLICY`` is ``PASSIVE`` unless the
environment sets it (as in ``bench/mcts.py``); on a loaded machine ``--threads 1`` gives steadier ratios.

Then one line per fast path: its agreement with eager fp32 on ``--positions`` positions (moves 0 to 79 of seeded
random games): the largest difference of a prior (softmax over the legal moves), how many positions keep the
same argmax move, and the largest difference of a value (in [-1, 1]). Run it on trained checkpoints before
choosing bf16: its error grows with the size of a net's activations against the differences it must resolve.

Exit status is 0 whatever the figures (2 for a checkpoint that is not a 9x9 policy / value net). Run::

    .venv/bin/python bench/nets.py [--batches 8,16,32] [--rounds 5] [--slice 0.4] [--threads N]
                                   [--policy CKPT] [--value CKPT] [--positions 200] [--json PATH]
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning (unless the environment says otherwise): see bench/mcts.py.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from minigo.go import Position  # noqa: E402
from models import checkpoint  # noqa: E402
from models.features import batch_planes  # noqa: E402
from models.inference import inference_copy  # noqa: E402
from models.nets import NetConfig, build  # noqa: E402

SIZE = 9
KOMI = 7.5
SEED = 2016
SEARCH_BATCH = 16
TARGET = 1.5
PATHS = {
    "e": "eager fp32",
    "f": "folded + channels-last fp32",
    "b": "folded + channels-last, bf16 autocast",
    "j": "TorchScript freeze of (f)",
}

Forward = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def random_positions(count: int, seed: int = SEED) -> list[Position]:
    """``count`` positions from seeded random games (uniform over sensible moves), each at a random move 0 to 79."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        position = Position.empty(SIZE, KOMI)
        stop = int(rng.integers(0, 80))
        while position.move_number < stop and not position.is_game_over:
            choices = np.flatnonzero(position.sensible_moves()[:-1])
            position = position.play(int(rng.choice(choices)) if len(choices) else position.pass_point)
        out.append(position)
    return out


def random_nets() -> tuple[torch.nn.Module, torch.nn.Module]:
    """The 64x6 policy and value nets with random weights and random batch norm statistics, in eval mode."""
    torch.manual_seed(SEED)
    nets = []
    for kind in ("policy", "value"):
        net = build(NetConfig(kind=kind, board_size=SIZE, filters=64, blocks=6)).eval()
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                with torch.no_grad():
                    module.running_mean.normal_(0.0, 0.5)
                    module.running_var.uniform_(0.5, 2.0)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.normal_(0.0, 0.3)
        nets.append(net)
    return nets[0], nets[1]


def forwards(policy: torch.nn.Module, value: torch.nn.Module) -> dict[str, Forward]:
    """One function per path: a batch -> (policy logits, values)."""

    def eager(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            return policy(x), value(x)

    fast = {precision: (inference_copy(policy, precision), inference_copy(value, precision))
            for precision in ("fp32", "bf16")}
    scripted = [torch.jit.freeze(torch.jit.script(net.net.eval())) for net in fast["fp32"]]

    def torchscript(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            x = x.contiguous(memory_format=torch.channels_last)
            return scripted[0](x), scripted[1](x)

    return {"e": eager, "f": lambda x: (fast["fp32"][0](x), fast["fp32"][1](x)),
            "b": lambda x: (fast["bf16"][0](x), fast["bf16"][1](x)), "j": torchscript}


def load_nets(args: argparse.Namespace) -> tuple[torch.nn.Module, torch.nn.Module, str]:
    """The policy and value nets to measure: ``--policy`` / ``--value`` where given, else random ones; and a
    line saying which. Raises ``checkpoint.CheckpointError`` for a file that is not such a net."""
    policy, value = random_nets()
    what = ["random 64x6 policy", "random 64x6 value"]
    if args.policy:
        loaded = checkpoint.load(args.policy, kind="policy", board_size=SIZE, feature_set="alphago")
        policy, what[0] = loaded.net, f"policy {args.policy} ({loaded.config.filters}x{loaded.config.blocks})"
    if args.value:
        loaded = checkpoint.load(args.value, kind="value", board_size=SIZE, feature_set="alphago")
        value, what[1] = loaded.net, f"value {args.value} ({loaded.config.filters}x{loaded.config.blocks})"
    return policy, value, ", ".join(what)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="8,16,32", help="batch sizes, comma-separated (default 8,16,32)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--slice", type=float, default=0.4, help="seconds per (path, batch) cell per round (default 0.4)")
    cores = len(os.sched_getaffinity(0))
    ap.add_argument("--threads", type=int, default=cores, help=f"torch threads (default: all cores, {cores})")
    ap.add_argument("--policy", help="a 9x9 policy checkpoint (default: random 64x6 weights)")
    ap.add_argument("--value", help="a 9x9 value checkpoint (default: random 64x6 weights)")
    ap.add_argument("--positions", type=int, default=200, help="positions of the agreement lines (default 200)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        ap.error(f"--batches {args.batches!r} is not a comma-separated list of integers")
    if min(batches) < 1 or args.rounds < 1 or args.threads < 1 or args.positions < 1 or not args.slice > 0:
        ap.error("--batches, --rounds, --threads and --positions must be >= 1, --slice > 0")
    torch.set_num_threads(args.threads)
    try:
        policy, value, nets = load_nets(args)
    except checkpoint.CheckpointError as exc:
        print(f"bench/nets.py: {exc}", file=sys.stderr)
        return 2
    paths = forwards(policy, value)
    positions = random_positions(max(batches))
    inputs = {b: torch.from_numpy(batch_planes(positions[:b], "alphago")) for b in batches}  # (B, 24, 9, 9)

    print(f"network forward, {SIZE}x{SIZE}, 24 input planes: {nets}; batches {', '.join(map(str, batches))}; "
          f"torch {torch.__version__} on {args.threads} threads of {cores} cores, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; python {platform.python_version()}; "
          f"{args.rounds} rounds of {args.slice:g} s per cell", flush=True)
    for forward in paths.values():  # warm-up, untimed: oneDNN's first calls pick and build their kernels
        for x in inputs.values():
            for _ in range(3):
                forward(x)

    cells = [(key, b) for b in batches for key in paths]
    rates: dict[tuple[str, int], list[float]] = {cell: [] for cell in cells}
    totals = {cell: [0, 0.0] for cell in cells}  # positions, seconds
    for r in range(args.rounds):
        shift = r % len(cells)
        for key, b in cells[shift:] + cells[:shift]:
            forward, x = paths[key], inputs[b]
            calls, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < args.slice:
                forward(x)
                calls += 1
            rates[key, b].append(round(b * calls / elapsed, 1))
            totals[key, b][0] += b * calls
            totals[key, b][1] += elapsed

    def rate(cell: tuple[str, int]) -> float:
        return totals[cell][0] / totals[cell][1]
    rows: list[dict[str, Any]] = []
    for b in batches:
        for key, name in PATHS.items():
            ratio = rate((key, b)) / rate(("e", b))
            rows.append({"path": key, "name": name, "batch": b, "positions_per_second": round(rate((key, b)), 1),
                         "ratio_to_eager": round(ratio, 3), "rounds": rates[key, b]})
            print(f"({key}) {name:<38} batch {b:>3} {rate((key, b)):>8,.0f} positions/s {ratio:5.2f}x (e)  "
                  f"rounds {rates[key, b]}")

    targets: list[dict[str, Any]] = []
    if SEARCH_BATCH in batches:
        for key in ("f", "b"):
            ratio = rate((key, SEARCH_BATCH)) / rate(("e", SEARCH_BATCH))
            verdict = "PASS" if ratio >= TARGET else "BELOW"
            targets.append({"path": key, "batch": SEARCH_BATCH, "ratio": round(ratio, 3), "target": TARGET,
                            "verdict": verdict})
            print(f"({key})/(e) at the search's batch {SEARCH_BATCH}: {ratio:5.2f}x  target >= {TARGET:g}x  {verdict}")

    # Agreement with eager fp32 on a fixed set of positions (another seed than the timed batches).
    test_positions = random_positions(args.positions, seed=SEED + 1)
    x = torch.from_numpy(batch_planes(test_positions, "alphago"))
    legal = torch.from_numpy(np.stack([p.legal_moves() for p in test_positions]))  # (N, size*size + 1) bool
    outputs = {key: forward(x) for key, forward in paths.items()}
    priors = {key: torch.softmax(logits.float().masked_fill(~legal, float("-inf")), dim=1)
              for key, (logits, _) in outputs.items()}
    agreement: dict[str, dict[str, float]] = {}
    print(f"agreement with (e) on {args.positions} positions of seeded random games:")
    for key, name in PATHS.items():
        if key == "e":
            continue
        agreement[key] = {"max_prior_diff": float((priors[key] - priors["e"]).abs().max()),
                          "argmax_same": int((priors[key].argmax(1) == priors["e"].argmax(1)).sum()),
                          "max_value_diff": float((outputs[key][1].float() - outputs["e"][1]).abs().max())}
        a = agreement[key]
        print(f"({key}) {name:<38} priors max |diff| {a['max_prior_diff']:.1e}  argmax same "
              f"{a['argmax_same']}/{args.positions}  values max |diff| {a['max_value_diff']:.1e}")
    if args.json is not None:
        payload = {"args": {k: str(v) for k, v in vars(args).items()}, "torch": torch.__version__, "cores": cores,
                   "nets": nets, "results": rows, "targets": targets, "agreement": agreement}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
