"""Stage 3's data: the value-data games on disk, and the training examples drawn from them.

The games follow the paper (Silver et al. 2016): for each game draw U uniformly from 1..U_max; the SL policy
plays moves 1..U-1 (both colours, sampling), move U is a uniformly random legal move, and the RL policy plays
the rest. The self-play workers make them in chunks; each chunk is written at once (atomically) as a shard
``RUN/data/value_games_NNNNN.npz`` holding the games themselves (moves, U, final score), so a stopped run keeps
its shards and plays only the missing ones, and every way of drawing examples reads the same games.

Examples are drawn from a game when training starts (replaying a 9x9 game and computing a position's planes
takes microseconds): s_{U+1}, the position after the random move, as in the paper, then ``positions_per_game
- 1`` later positions of the same game, spread evenly to its end (``spacing = "even"``) or drawn at random
(``"random"``); ``"all"`` keeps every position from s_{U+1} on. Each example carries its labels, all for the
player to move there: the outcome z (+1 won, -1 lost, 0 a draw), the final Tromp-Taylor margin divided by
size*size, and the final owner of every point (+1 own, -1 the opponent's, 0 neutral).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minigo.atomic import write_atomic
from minigo.go import Rules
from models.features import planes
from selfplay.run_folder import TrainingError
from selfplay.workers import SelfPlayGame, SelfPlayTask

SPACINGS = ("even", "random")


def value_tasks(first: int, count: int, u_max: int, seed: int) -> list[SelfPlayTask]:
    """Games ``first .. first+count-1`` of the value-data scheme, each with its own U."""
    return [SelfPlayTask(i, black="sl", white="sl", before="sl", after="rl",
                     random_move_at=int(np.random.default_rng([seed, i]).integers(1, u_max + 1)))
            for i in range(first, first + count)]


# -- the games on disk ------------------------------------------------------------------------------------

def shard_paths(data_dir: Path, games: int, games_per_shard: int) -> list[Path]:
    return [data_dir / f"value_games_{k:05d}.npz" for k in range(-(-games // games_per_shard))]


def check_manifest(data_dir: Path, wanted: dict[str, object]) -> None:
    """Refuse shards made under other settings: shard k holds games k*games_per_shard.. drawn from the seed, so
    shards of another seed, U range, shard size or rules would be mixed in silently. Also refuses the positions
    -only shards of minigo before game records (``value_one_*.npz``), which carry no score or ownership."""
    path = data_dir / "value_games.json"
    old = sorted(data_dir.glob("value_one_*.npz")) + sorted(data_dir.glob("value_all_*.npz"))
    if old:
        raise TrainingError(f"{data_dir} holds value shards of an older format ({old[0].name}: positions only, no "
                            f"game records, so no k positions per game, score or ownership): delete "
                            f"{data_dir}/value_one* and value_all* to remake the data as games, or use a new "
                            "run folder")
    if path.is_file():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrainingError(f"{path} cannot be read ({exc}): delete it and the shards beside it, or use a new "
                                "run folder") from None
        changed = [f"{key} {found.get(key)!r} -> {value!r}" for key, value in wanted.items() if found.get(key) != value]
        if changed:
            raise TrainingError(f"{data_dir} holds value games made with other settings ({', '.join(changed)}): "
                                "use a new run folder, or delete value_games* there to remake them")
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(wanted, indent=1) + "\n").encode("utf-8"))


def save_games(path: Path, games: list[SelfPlayGame]) -> None:
    """One shard: ``index``, ``random_move_at``, ``score`` (Black's view, komi in) per game and the moves,
    ``-1``-padded ``(G, longest)`` int16."""
    longest = max((len(g.moves) for g in games), default=0)
    moves = np.full((len(games), longest), -1, np.int16)
    for row, game in zip(moves, games, strict=True):
        row[:len(game.moves)] = game.moves
    buffer = io.BytesIO()
    np.savez_compressed(buffer, index=np.array([g.index for g in games], np.int64), moves=moves,
                        random_move_at=np.array([g.random_move_at for g in games], np.int32),
                        score=np.array([g.score for g in games], np.float32))
    write_atomic(path, buffer.getvalue())


def load_games(paths: Iterable[Path]) -> list[SelfPlayGame]:
    games = []
    for path in paths:
        try:
            with np.load(path) as shard:
                rows = zip(shard["index"], shard["moves"], shard["random_move_at"], shard["score"], strict=True)
                games += [SelfPlayGame(int(i), [int(m) for m in moves if m >= 0], float(score), "sl", "sl", int(u))
                          for i, moves, u, score in rows]
        except (OSError, ValueError, KeyError) as exc:
            raise TrainingError(f"{path} is not a readable value-games shard ({exc}): delete it to make it "
                                "again") from None
    return games


# -- examples ---------------------------------------------------------------------------------------------

@dataclass
class ValueExamples:
    """Training examples of the value net, each labelled for the player to move in it."""

    planes: np.ndarray  # (N, P, S, S) uint8
    z: np.ndarray  # (N,) float32: the outcome, +1 / -1 / 0
    score: np.ndarray  # (N,) float32: the final margin (komi in) divided by size*size
    ownership: np.ndarray  # (N, S*S) int8: the final owner of each point, +1 own / -1 opponent's / 0 neutral
    games: np.ndarray  # (N,) int64: the game each came from
    move_number: np.ndarray  # (N,) int32: moves played before it
    first: np.ndarray  # (N,) bool: it is its game's s_{U+1}

    def __len__(self) -> int:
        return len(self.z)


def chosen_positions(u: int, last: int, count: int | str, spacing: str, rng: np.random.Generator) -> list[int]:
    """Indices (moves played) of the positions kept from a game: ``u`` (s_{U+1}) and, up to ``count`` in all, later
    ones up to ``last``; ``count == "all"`` keeps every one."""
    if count == "all":
        return list(range(u, last + 1))
    later = last - u
    extra = min(int(count) - 1, later)
    if extra <= 0:
        return [u]
    if spacing == "even":  # the last one is ``last``: the decided endings are where a value net errs most
        return [u] + [u + round((j + 1) * later / extra) for j in range(extra)]
    return [u] + sorted((u + 1 + rng.choice(later, size=extra, replace=False)).tolist())


def examples_of(game: SelfPlayGame, rules: Rules, feature_set: str, count: int | str = 1, spacing: str = "even",
                seed: int = 0) -> ValueExamples:
    """The examples of one game (none when it ended before its random move). The positions drawn depend only on
    ``seed`` and the game, so a rerun draws the same ones."""
    positions = game.positions(rules)
    u = game.random_move_at
    # positions[-1] is the finished game: nobody is to move in it, so it is never an example
    last = len(positions) - 2
    chosen = chosen_positions(u, last, count, spacing, np.random.default_rng([seed, game.index])) if u <= last else []
    final = positions[-1].ownership()
    margin = game.score / (rules.size * rules.size)
    to_play = np.array([positions[i].to_play for i in chosen], np.int8)
    n = rules.size * rules.size
    return ValueExamples(
        planes=np.stack([planes(positions[i], feature_set).astype(np.uint8) for i in chosen]) if chosen else
        np.zeros((0, 0, rules.size, rules.size), np.uint8),
        z=(np.sign(game.score) * to_play).astype(np.float32),
        score=(margin * to_play).astype(np.float32),
        ownership=(to_play[:, None] * final[None, :]).astype(np.int8).reshape(len(chosen), n),
        games=np.full(len(chosen), game.index, np.int64),
        move_number=np.array(chosen, np.int32),
        first=np.array([i == u for i in chosen], bool))


def concatenate(parts: list[ValueExamples]) -> ValueExamples:
    parts = [p for p in parts if len(p)]
    if not parts:
        raise TrainingError("the value data holds no positions (every game ended before its random move?)")
    return ValueExamples(*(np.concatenate([getattr(p, f) for p in parts])
                           for f in ValueExamples.__dataclass_fields__))


def load_examples(games: list[SelfPlayGame], rules: Rules, feature_set: str, count: int | str, spacing: str,
                  seed: int, progress: Callable[[int], None] | None = None) -> ValueExamples:
    """The examples of ``games``, drawn as ``examples_of`` does."""
    parts = []
    for game in games:
        parts.append(examples_of(game, rules, feature_set, count, spacing, seed))
        if progress is not None:
            progress(1)
    return concatenate(parts)
