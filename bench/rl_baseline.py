"""Stage 2's baseline, measured: how much does b(s) cut the variance of REINFORCE's gradient estimate?

The lecture notes' claim (../shared/seeds): subtracting a baseline b(s) from the return leaves the expected
gradient ``E[(z - b(s)) grad log pi(a|s)]`` unchanged and, when b(s) is close to E[z|s], shrinks its variance.
This script plays ``--games`` games of a policy against an opponent (by default the run's RL policy against its
SL policy, both sampling, colours alternating: one stage-2 batch), and on the *same* games computes each game's
gradient ``g_i = sum_t (z_t - b(s_t)) grad log pi(a_t|s_t)`` over the policy's own moves under each baseline:

- ``none``: b = 0;
- ``mean``: the batch's mean outcome (leave-one-out, so it stays unbiased);
- ``value``: a value net, by default the run's ``rl_baseline`` (the one stage 2 trains alongside) where the run
  has one, and with ``--value CKPT`` also that one (e.g. the stage-3 value net).

For each it prints the mean squared norm of the per-game gradients about their mean (the variance, trace of the
covariance), the squared norm of the mean (the signal) and the signal-to-noise ratio of a batch's estimate,
``|mean|^2 / (variance / games)``, beside ``none``'s in the same run.

    python bench/rl_baseline.py RUN [--games 128] [--policy CKPT] [--opponent CKPT] [--value CKPT] [--seed 0]
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
from models.nets import masked_log_softmax  # noqa: E402
from models.run_layout import RunLayout  # noqa: E402
from selfplay.farm import worker_count  # noqa: E402
from selfplay.rl import current_moves, match_tasks  # noqa: E402
from selfplay.workers import play_lockstep, policy_from_checkpoint  # noqa: E402


def per_game_gradients(policy: torch.nn.Module, batches: list, baselines: list[np.ndarray | None]) -> np.ndarray:
    """``(games, parameters)``: each game's ``sum_t (z_t - b_t) grad log pi(a_t|s_t)`` for the given per-move
    baselines (None: b = 0). The policy stays in eval mode, as stage 2 keeps it."""
    policy.eval()
    params = [p for p in policy.parameters() if p.requires_grad]
    out = []
    for batch, b in zip(batches, baselines, strict=True):
        x = torch.from_numpy(batch.x).float()
        logp = masked_log_softmax(policy(x), torch.from_numpy(batch.legal))
        taken = logp.gather(1, torch.from_numpy(batch.moves)[:, None]).squeeze(1)
        advantage = torch.from_numpy(batch.z - (0 if b is None else b)).float()
        grads = torch.autograd.grad((advantage * taken).sum(), params)
        out.append(torch.cat([g.reshape(-1) for g in grads]).numpy().astype(np.float64))
    return np.stack(out)


def statistics(grads: np.ndarray) -> dict[str, float]:
    """Variance (mean squared distance to the mean), signal, and the SNR of a batch's estimate.

    The squared norm of the batch mean overstates the signal by the noise it carries: its expectation is
    |g|^2 + sigma^2 / n. ``signal`` is the unbiased |mean|^2 - variance / (n - 1) (it can come out below 0 where
    the true gradient is small beside the noise); ``mean_sq_norm`` is the raw |mean|^2."""
    n = len(grads)
    mean = grads.mean(axis=0)
    variance = float(((grads - mean) ** 2).sum(axis=1).mean())
    mean_sq = float((mean ** 2).sum())
    signal = mean_sq - variance / (n - 1)
    return {"variance": variance, "signal": signal, "mean_sq_norm": mean_sq, "snr": signal / (variance / n)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder with checkpoints/sl_policy, rl_policy, rl_baseline")
    parser.add_argument("--games", type=int, default=128, help="games of the batch (stage 2's minibatch: 128)")
    parser.add_argument("--policy", type=Path, help="the policy whose gradient is measured (default RUN's RL policy)")
    parser.add_argument("--opponent", type=Path, help="its opponent (default RUN's SL policy)")
    parser.add_argument("--value", type=Path, action="append", default=[], help="another value net as baseline")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.games < 4:
        parser.error("--games must be at least 4")
    layout = RunLayout(args.run)
    policy_path = args.policy or layout.rl_policy
    opponent_path = args.opponent or layout.sl_policy
    # A run rebuilt from the bundled nets has no rl_baseline: then only the --value nets are measured.
    values = {"value (rl_baseline)": layout.rl_baseline} if layout.rl_baseline.is_file() else {}
    values |= {f"value ({p})": p for p in args.value}
    for path in [policy_path, opponent_path, *values.values()]:
        if not path.is_file():
            parser.error(f"{path}: no such checkpoint file (expected a run folder with stages sl and rl done)")
    torch.set_num_threads(worker_count())
    loaded = checkpoint.load(policy_path, kind="policy")
    rules = Rules(size=loaded.config.board_size)
    started = time.time()
    games = play_lockstep(match_tasks(0, args.games, "current", "opponent"),
                          {"current": policy_from_checkpoint(str(policy_path)),
                           "opponent": policy_from_checkpoint(str(opponent_path))}, rules,
                          np.random.default_rng(args.seed))
    batches = [current_moves([g], "current", rules, loaded.config.feature_set) for g in games]
    played = time.time() - started
    z_game = np.array([b.z[0] if len(b.z) else 0.0 for b in batches])
    total = z_game.sum()
    baselines: dict[str, list[np.ndarray | None]] = {
        "none": [None] * len(batches),
        # leave-one-out: the mean of the other games' outcomes (from the policy's view), independent of game i
        "mean": [np.full(len(b.z), (total - z_game[i]) / (len(batches) - 1), np.float32)
                 for i, b in enumerate(batches)]}
    for name, path in values.items():
        net = checkpoint.load(path, kind="value", board_size=rules.size).net.eval()
        with torch.no_grad():
            baselines[name] = [net(torch.from_numpy(b.x).float()).numpy() for b in batches]
    report = {"games": len(games), "moves": int(sum(len(b.z) for b in batches)), "policy": str(policy_path),
              "opponent": str(opponent_path), "seed": args.seed, "play_seconds": round(played, 1), "baselines": {}}
    print(f"{len(games)} games of {policy_path.name} against {opponent_path.name} ({report['moves']} of its moves, "
          f"won {np.mean(z_game > 0):.1%}) in {played:.0f} s")
    reference = None
    for name, per_move in baselines.items():
        figures = statistics(per_game_gradients(loaded.net, batches, per_move))
        if name != "none":
            errors = np.concatenate([b.z - p for b, p in zip(batches, per_move, strict=True)])
            figures["mse_to_z"] = float(np.mean(errors ** 2))
        reference = reference or figures
        report["baselines"][name] = figures
        extra = f", its MSE to z {figures['mse_to_z']:.3f}" if "mse_to_z" in figures else ""
        ratio = figures["variance"] / reference["variance"]
        versus = f" ({figures['snr'] / reference['snr']:.2f}x none)" if reference["snr"] > 0 else ""
        print(f"baseline {name:<28} variance {figures['variance']:10.4g} ({ratio:.2f}x none)   "
              f"signal {figures['signal']:9.4g} (|mean|^2 {figures['mean_sq_norm']:.4g})   SNR of a {len(games)}-game "
              f"batch {figures['snr']:.3f}{versus}{extra}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except checkpoint.CheckpointError as exc:
        print(f"rl_baseline.py: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
