"""Fit the rollout policy (a linear softmax over local patterns, ``minigo.rollout``) to expert moves.

Each example is a position, the pattern features of every sensible candidate move, and which candidate the
expert played (positions where the expert passed or played a move the rollout policy never considers are
skipped). Trained by cross-entropy over the candidates with Adam; validation top-1 accuracy is measured on
held-out games, as for the SL policy.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from minigo import rollout
from minigo.record import GameRecord
from models import checkpoint
from models.nets import NetConfig, RolloutPolicy
from selfplay.examples import expert_positions

log = logging.getLogger(__name__)


def rollout_examples(records: list[GameRecord], limit: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Per position the active features of its candidates ``(m, MAX_ACTIVE)`` and the expert's candidate index."""
    active, targets = [], []
    for _, position, move in expert_positions(records):
        points, features = rollout.candidate_features(position)
        where = np.flatnonzero(points == move)
        if len(where) != 1:
            continue
        active.append(features)
        targets.append(int(where[0]))
        if len(active) >= limit:
            break
    return active, np.asarray(targets, dtype=np.int64)


def _pad(batch: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ragged candidate lists: features ``(B, M, K)`` (-1 padded) and a mask of real candidates ``(B, M)``."""
    width = max(len(a) for a in batch)
    out = np.full((len(batch), width, rollout.MAX_ACTIVE), -1, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=bool)
    for i, a in enumerate(batch):
        out[i, : len(a)] = a
        mask[i, : len(a)] = True
    return torch.from_numpy(out), torch.from_numpy(mask)


def _logits(net: RolloutPolicy, batch: list[np.ndarray]) -> torch.Tensor:
    features, mask = _pad(batch)
    return net(features).masked_fill(~mask, float("-inf"))


@torch.no_grad()
def accuracy(net: RolloutPolicy, active: list[np.ndarray], targets: np.ndarray, batch_size: int = 512) -> float:
    """Share of positions whose most likely candidate is the expert's move."""
    if len(targets) == 0:
        return float("nan")
    correct = 0
    for start in range(0, len(targets), batch_size):
        logits = _logits(net, active[start:start + batch_size])
        correct += (logits.argmax(dim=1).numpy() == targets[start:start + batch_size]).sum()
    return correct / len(targets)


def train_rollout(train_games: list[GameRecord], val_games: list[GameRecord], path: Path, *, board_size: int,
                  positions: int, epochs: int, lr: float, rng: np.random.Generator,
                  progress: bool = True) -> tuple[Path, float]:
    """Train the rollout policy on at most ``positions`` expert positions for ``epochs`` (Adam at ``lr``) and save
    it at ``path``; returns (path, validation top-1)."""
    active, targets = rollout_examples(train_games, positions)
    val_active, val_targets = rollout_examples(val_games, max(positions // 5, 1000))
    net_config = NetConfig(kind="rollout", board_size=board_size, rollout_features=rollout.NUM_FEATURES)
    net = RolloutPolicy(net_config)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    batch_size = 256
    for epoch in range(epochs):
        order = rng.permutation(len(targets))
        total = 0.0
        bar = tqdm(total=len(order), desc=f"rollout epoch {epoch + 1}/{epochs}", unit="pos",
                   disable=not progress, leave=False)
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            logits = _logits(net, [active[i] for i in index])
            loss = F.cross_entropy(logits, torch.from_numpy(targets[index]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
            bar.update(len(index))
        bar.close()
        log.info("rollout epoch %d: train loss %.4f", epoch + 1, total / max(len(order), 1))
    top1 = float(accuracy(net, val_active, val_targets))
    log.info("rollout policy: validation top-1 %.4f over %d positions", top1, len(val_targets))
    path = checkpoint.save(path, net, net_config, stage="rollout", step=epochs, metrics={"val_top1": top1})
    return path, top1
