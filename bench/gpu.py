"""The GPU path, measured: training positions/s and self-play games/s on CUDA beside the CPU path, in one run.

Three figures per device (the CPU always; CUDA when torch sees it), each in fp32 and under bf16 autocast:

- **training**: stage 1's step (``selfplay.sl.policy_loss``: forward, masked cross-entropy, backward, AdamW) of
  the 64x6 policy at ``--batch`` positions from the bundled expert games; positions/s.
- **exactness**: the same ``--steps`` steps from the same initial weights on the same batches in fp32 and in
  bf16; the largest gap between the two loss curves and both final losses on held-out positions (bf16 is
  exact enough where the gap is small beside the loss's own step-to-step noise).
- **self-play**: one process playing ``--games`` games at once in lockstep (``selfplay.workers.play_lockstep``:
  one batched forward a move step) with the policy on the device; games/s. Beside it, the local farm's
  self-play with one worker process per core on the CPU (what stage 2 does without a GPU), so the faster way to
  feed a GPU trainer is read off the same run.

    python bench/gpu.py [--policy CKPT] [--batch 256] [--steps 40] [--games 128] [--seconds 10] [--json PATH]

Without CUDA only the CPU rows print (the script runs anywhere; its figures matter on a GPU machine).
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

from minigo.go import Rules  # noqa: E402
from models import checkpoint  # noqa: E402
from models.bundled import bundled_run  # noqa: E402
from models.evaluator import NetEvaluator  # noqa: E402
from models.inference import PRECISIONS  # noqa: E402
from models.nets import NetConfig, build  # noqa: E402
from models.run_layout import RunLayout  # noqa: E402
from selfplay.examples import Examples, build_examples  # noqa: E402
from selfplay.farm import worker_count  # noqa: E402
from selfplay.rl import match_tasks  # noqa: E402
from selfplay.sl import SLConfig, load_expert_games, policy_loss  # noqa: E402
from selfplay.workers import WorkerPool, play_lockstep, split_tasks  # noqa: E402


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def batches(examples: Examples, batch: int, count: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        index = rng.choice(len(examples), size=batch, replace=False)
        out.append((examples.planes[index], examples.legal[index], examples.moves[index]))
    return out


def tensors(batch: tuple[np.ndarray, ...], device: torch.device) -> tuple[torch.Tensor, ...]:
    x, legal, moves = batch
    return (torch.from_numpy(x).to(device, torch.float32), torch.from_numpy(legal).to(device),
            torch.from_numpy(moves).to(device))


def train_steps(config: NetConfig, steps: list, held_out: tuple, device: torch.device, precision: str,
                seed: int = 0) -> tuple[list[float], float, float]:
    """(the loss of each step, the held-out loss after them, training positions/s) from fixed initial weights."""
    torch.manual_seed(seed)
    net = build(config).to(device).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    losses, seconds = [], 0.0
    for i, batch in enumerate(steps):
        x, legal, moves = tensors(batch, device)
        synchronize(device)
        started = time.perf_counter()
        loss = policy_loss(net, x, legal, moves, precision)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        synchronize(device)
        if i > 0:  # the first step pays for allocation and kernel selection
            seconds += time.perf_counter() - started
        losses.append(float(loss.detach()))
    net.eval()
    with torch.no_grad():
        held = float(policy_loss(net, *tensors(held_out, device), "fp32"))
    return losses, held, len(steps[0][0]) * (len(steps) - 1) / max(seconds, 1e-9)


def lockstep_rate(policy: str, device: torch.device, precision: str, games: int) -> tuple[float, float]:
    """(games/s, moves per game) of ``games`` self-play games played together in this process on ``device``."""
    evaluator = NetEvaluator(checkpoint.load(policy, kind="policy", device=str(device)), device=device,
                             precision=precision)
    rules = Rules(size=evaluator.policy.config.board_size)
    play = {"p": lambda positions: evaluator.evaluate(positions)[0]}
    play_lockstep(match_tasks(0, 8, "p", "p"), play, rules, np.random.default_rng(0))  # warm-up
    synchronize(device)
    started = time.perf_counter()
    played = play_lockstep(match_tasks(10**6, games, "p", "p"), play, rules, np.random.default_rng(1))
    synchronize(device)
    seconds = time.perf_counter() - started
    return len(played) / seconds, float(np.mean([len(g.moves) for g in played]))


def farm_rate(policy: str, workers: int, games: int) -> float:
    """games/s of the local farm's self-play, one worker process per core, one torch thread each."""
    rules = Rules(size=9)
    with WorkerPool(workers) as pool:
        pool.run(split_tasks(match_tasks(0, 2 * workers, "p", "p"), workers, {"p": policy}, rules, seed=1))
        started = time.perf_counter()
        results = pool.run(split_tasks(match_tasks(10**6, games, "p", "p"), workers, {"p": policy}, rules, seed=1))
        return sum(len(r.games) for r in results) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, help="the policy that plays (default: the bundled SL policy)")
    parser.add_argument("--batch", type=int, default=256, help="training batch (stage 1's: 256)")
    parser.add_argument("--steps", type=int, default=40, help="training steps per device and precision")
    parser.add_argument("--games", type=int, default=128, help="self-play games played at once (default 128)")
    parser.add_argument("--expert-games", type=int, default=300, help="bundled games the batches come from")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if min(args.batch, args.steps, args.games, args.expert_games) < 2:
        parser.error("--batch, --steps, --games and --expert-games must be at least 2")
    try:
        policy = str(args.policy or RunLayout(bundled_run()).sl_policy)
        config = checkpoint.load(policy, kind="policy").config
    except checkpoint.CheckpointError as exc:
        print(f"gpu.py: {exc}", file=sys.stderr)
        return 2
    cores = worker_count()
    torch.set_num_threads(cores)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    print(f"policy {config.filters}x{config.blocks} ({policy}); {cores} CPU cores; {name}; torch {torch.__version__}")
    examples = build_examples(load_expert_games(SLConfig(max_games=args.expert_games)), config.feature_set)
    steps = batches(examples, args.batch, args.steps, seed=0)
    held_out = batches(examples, min(len(examples), 4 * args.batch), 1, seed=1)[0]
    report: dict = {"cores": cores, "device_name": name, "batch": args.batch, "steps": args.steps, "rows": []}
    for device in devices:
        curves = {}
        for precision in PRECISIONS:
            losses, held, rate = train_steps(config, steps, held_out, device, precision)
            curves[precision] = losses
            games_rate, length = lockstep_rate(policy, device, precision, args.games)
            row = {"device": device.type, "precision": precision, "train_positions_per_s": rate,
                   "held_out_loss": held, "final_train_loss": losses[-1], "lockstep_games_per_s": games_rate,
                   "moves_per_game": length}
            if precision != "fp32":
                gap = np.abs(np.array(losses) - np.array(curves["fp32"]))
                row["max_loss_gap_to_fp32"] = float(gap.max())
            report["rows"].append(row)
            gap_text = f", loss curve within {row['max_loss_gap_to_fp32']:.4f} of fp32" if precision != "fp32" else ""
            print(f"{device.type:>4} {precision}: training {rate:9,.0f} positions/s, held-out loss {held:.4f} after "
                  f"{args.steps} steps{gap_text}; lockstep self-play ({args.games} games at once) "
                  f"{games_rate:6.2f} games/s ({length:.0f} moves a game)")
    farm = farm_rate(policy, cores, max(args.games, 4 * cores))
    report["cpu_farm_games_per_s"] = farm
    print(f"CPU farm self-play ({cores} worker processes x 1 thread): {farm:.2f} games/s")
    for row in report["rows"][2:]:  # CUDA beside the CPU's fp32, the reference
        speedup = row["train_positions_per_s"] / report["rows"][0]["train_positions_per_s"]
        print(f"cuda {row['precision']} / cpu fp32: training {speedup:.1f}x; lockstep self-play "
              f"{row['lockstep_games_per_s'] / farm:.2f}x the CPU farm")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
