"""Game records -> supervised training examples: (planes, legal mask, expert move), split by game.

An example is the position before an expert move, seen by the player about to move, and that move (a point
or the pass). Moves marked ``random opening`` by the expert-game generator are not the expert's, so they are
played through but never become examples. The split into train and validation is **by game**, so that the
positions of one game, which are strongly correlated, never land on both sides.

Planes are binary and stored as uint8 (4x smaller than float32); the 8 board symmetries are applied per batch
at training time (``augment``), not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from minigo.go import IllegalMove
from minigo.record import GameRecord
from models.features import N_SYMMETRIES, get_feature_set, planes, point_maps, transform

RANDOM_OPENING = "random opening"


@dataclass
class Examples:
    """Training examples of one board size and feature set."""

    planes: np.ndarray  # (N, P, S, S) uint8
    legal: np.ndarray  # (N, S*S+1) bool: the legal moves of the player to move
    moves: np.ndarray  # (N,) int64: the expert's move (S*S = pass)
    games: np.ndarray  # (N,) int64: index of the game each example comes from

    def __len__(self) -> int:
        return len(self.moves)

    def subset(self, index: np.ndarray) -> Examples:
        return Examples(self.planes[index], self.legal[index], self.moves[index], self.games[index])


def expert_positions(records: Sequence[GameRecord]):
    """Yield (game index, position, expert move) for every expert move of every game."""
    for number, record in enumerate(records):
        try:
            position = record.initial_position()
            for move in record.moves:
                if move.color == position.to_play and RANDOM_OPENING not in move.comment:
                    yield number, position, move.point
                position = position.play(move.point, color=move.color)
        except IllegalMove:
            continue  # a game the reader accepted cannot be illegal; a hand-built record might be


def build_examples(records: Sequence[GameRecord], feature_set: str = "alphago") -> Examples:
    """Every expert move of ``records`` as an example (all games must share one board size)."""
    fs = get_feature_set(feature_set)
    sizes = {r.size for r in records}
    if len(sizes) > 1:
        raise ValueError(f"games of several board sizes {sorted(sizes)}: expected one")
    x, legal, moves, games = [], [], [], []
    for number, position, move in expert_positions(records):
        x.append(planes(position, fs.name).astype(np.uint8))
        legal.append(position.legal_moves())
        moves.append(move)
        games.append(number)
    if not x:
        raise ValueError("no training examples: the games have no expert moves")
    return Examples(np.stack(x), np.stack(legal), np.asarray(moves, np.int64), np.asarray(games, np.int64))


def split_by_game(examples: Examples, validation: float, rng: np.random.Generator) -> tuple[Examples, Examples]:
    """Train / validation examples with a ``validation`` fraction of the games (at least one) held out."""
    if not 0 < validation < 1:
        raise ValueError(f"validation fraction {validation!r} must be between 0 and 1")
    game_ids = np.unique(examples.games)
    if len(game_ids) < 2:
        raise ValueError(f"{len(game_ids)} game(s): need at least 2 to split train and validation by game")
    held = max(1, round(len(game_ids) * validation))
    held_out = rng.choice(game_ids, size=held, replace=False)
    is_val = np.isin(examples.games, held_out)
    return examples.subset(np.flatnonzero(~is_val)), examples.subset(np.flatnonzero(is_val))


def augment(x: np.ndarray, legal: np.ndarray, moves: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random board symmetry per example: planes ``(B, P, S, S)``, legal masks and moves moved alike."""
    size = x.shape[-1]
    maps = point_maps(size)
    which = rng.integers(N_SYMMETRIES, size=len(moves))
    x_out = np.empty_like(x)
    legal_out = np.empty_like(legal)
    moves_out = np.empty_like(moves)
    for k in range(N_SYMMETRIES):
        index = np.flatnonzero(which == k)
        if len(index) == 0:
            continue
        x_out[index] = transform(x[index], k)
        # maps[k, p] is where p goes, so the new mask at maps[k, p] is the old mask at p.
        legal_out[index[:, None], maps[k][None, :]] = legal[index]
        moves_out[index] = maps[k, moves[index]]
    return x_out, legal_out, moves_out
