"""Rules-engine speed: random 9x9 playouts on one core, ours against peers measured in the same run.

Engines (each gets the same fixed wall budget, ``--seconds``, after a warm-up that is not timed; the
budget is cut into ``--rounds`` slices run round-robin, so load from elsewhere falls on all engines alike):

(a) ours, move by move from Python: ``mask = pos.sensible_moves()``, a uniform choice among the
    sensible points (pass only when none remains), ``pos = pos.play(point)`` until ``pos.is_game_over``
    (two passes or the move cap 2*size*size = 162).
(b) ours, whole playouts in compiled code: ``random_playout(pos, rng)`` from the empty 9x9 position, same
    policy as (a); numba's JIT is warmed up before timing; its random numbers come from ``rng`` inside
    the compiled loop.
(c) OpenSpiel's Go through pyspiel, move by move from Python: ``state.legal_actions()``, a uniform choice
    among them (pass included; OpenSpiel has no eye rule), ``state.apply_action(a)`` until
    ``state.is_terminal()`` (two passes or OpenSpiel's own cap, 162 on 9x9).
(d) PettingZoo's ``go_base`` (tensorflow/minigo's pure-Python engine): ``all_legal_moves()``, a uniform
    choice among them (pass included), ``play_move(c)`` until two passes or the same cap of 162 moves.

For (a), (c) and (d) the random numbers are pre-drawn uniforms in [0, 1) (the same stream for each
engine), one per move, turned into a choice by ``legal[int(u * len(legal))]``, so the choice costs the
same everywhere. Moves/s is the figure compared; a "move" is one call that advances the game (a pass
counts). Targets: (b)/(c) >= 1.0x, (a)/(d) >= 5x.

The process is pinned to one core and numba/OpenMP/BLAS are held to one thread. A peer that is not
installed is reported and its ratio skipped. Run::

    .venv/bin/python bench/engine.py [--seconds 5] [--warmup 1] [--rounds 5] [--cpu 0] [--engines abcd]
                                     [--json PATH]
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

SIZE = 9
KOMI = 7.5
MOVE_CAP = 2 * SIZE * SIZE
N_UNIFORMS = 1 << 20
SEED = 12345
INSTALL_HINT = "not installed (pip install -e '.[bench]')"

GameFn = Callable[[], int]


@dataclass
class Result:
    """One engine's figures (or why it has none)."""

    key: str
    name: str
    policy: str
    status: str = "ok"
    moves: int = 0
    games: int = 0
    seconds: float = 0.0
    moves_per_s: float = 0.0
    games_per_s: float = 0.0
    mean_moves: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Uniforms:
    """A pre-drawn ring of uniform numbers in [0, 1), as a Python list (cheap to index). Shared read-only:
    every engine walks the same stream from its start with its own cursor."""

    def __init__(self, n: int = N_UNIFORMS, seed: int = SEED) -> None:
        self.values: list[float] = np.random.default_rng(seed).random(n).tolist()
        self.n = n


Setup = tuple[Result, GameFn | None]


def _warm(play_game: GameFn, warmup: float) -> None:
    """Untimed: at least one game, then whole games until ``warmup`` seconds have passed."""
    t0 = time.perf_counter()
    play_game()
    while time.perf_counter() - t0 < warmup:
        play_game()


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


def _fill(res: Result) -> None:
    res.moves_per_s = res.moves / res.seconds
    res.games_per_s = res.games / res.seconds
    res.mean_moves = res.moves / res.games


# ----------------------------------------------------------------------------------------------- ours


def _import_ours() -> tuple[Any, Any] | str:
    try:
        from minigo.go import Position, random_playout
    except ImportError as e:
        return f"not available (minigo.go: {e})"
    return Position, random_playout


def bench_ours_python(uni: Uniforms) -> Setup:
    """(a) ours, move by move from Python through ``Position.play``."""
    res = Result("a", "ours, Python loop over Position.play",
                 "uniform over sensible moves (no own-eye filling), pass only when none remains")
    imported = _import_ours()
    if isinstance(imported, str):
        res.status = imported
        return res, None
    position_cls, _ = imported
    start = position_cls.empty(size=SIZE, komi=KOMI)
    pass_point = SIZE * SIZE
    us, n_us = uni.values, uni.n
    j = 0

    def game() -> int:
        nonlocal j
        pos = start
        n = 0
        while not pos.is_game_over:
            points = np.flatnonzero(pos.sensible_moves()[:pass_point])
            u = us[j]
            j += 1
            if j == n_us:
                j = 0
            point = int(points[int(u * len(points))]) if len(points) else pass_point
            pos = pos.play(point)
            n += 1
        return n

    return res, game


def bench_ours_compiled(uni: Uniforms) -> Setup:
    """(b) ours, whole playouts in numba-compiled code."""
    res = Result("b", "ours, compiled random_playout",
                 "uniform over sensible moves (no own-eye filling), pass only when none remains")
    imported = _import_ours()
    if isinstance(imported, str):
        res.status = imported
        return res, None
    position_cls, random_playout = imported
    start = position_cls.empty(size=SIZE, komi=KOMI)
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    random_playout(start, rng)  # JIT compile
    res.extra["jit_warmup_s"] = round(time.perf_counter() - t0, 3)

    def game() -> int:
        return int(random_playout(start, rng).moves)

    return res, game


# ---------------------------------------------------------------------------------------------- peers


def bench_pyspiel(uni: Uniforms) -> Setup:
    """(c) OpenSpiel Go (C++) through pyspiel, move by move from Python."""
    res = Result("c", "OpenSpiel go via pyspiel, Python loop",
                 "uniform over legal actions incl. pass (no eye rule); OpenSpiel cap 162")
    try:
        import pyspiel
    except ImportError:
        res.status = INSTALL_HINT
        return res, None
    game_def = pyspiel.load_game("go", {"board_size": SIZE, "komi": KOMI})
    res.extra["max_game_length"] = game_def.max_game_length()
    us, n_us = uni.values, uni.n
    j = 0

    def game() -> int:
        nonlocal j
        state = game_def.new_initial_state()
        n = 0
        while not state.is_terminal():
            actions = state.legal_actions()
            u = us[j]
            j += 1
            if j == n_us:
                j = 0
            state.apply_action(actions[int(u * len(actions))])
            n += 1
        return n

    return res, game


def _import_go_base() -> Any | str:
    """Import PettingZoo's go_base with its module-level board size N = 9 (read from BOARD_SIZE)."""
    old = os.environ.get("BOARD_SIZE")
    os.environ["BOARD_SIZE"] = str(SIZE)
    try:
        try:
            from pettingzoo.classic.go import go_base
        except ImportError:
            return INSTALL_HINT
        if go_base.N != SIZE:  # imported earlier with another size: rebuild its tables for 9x9
            go_base = importlib.reload(go_base)
    finally:
        if old is None:
            del os.environ["BOARD_SIZE"]
        else:
            os.environ["BOARD_SIZE"] = old
    if go_base.N != SIZE:
        return f"failed: go_base.N is {go_base.N}, wanted {SIZE}"
    return go_base


def bench_go_base(uni: Uniforms) -> Setup:
    """(d) PettingZoo go_base (tensorflow/minigo's pure-Python engine), move by move."""
    res = Result("d", "PettingZoo go_base (tf/minigo), Python",
                 f"uniform over legal moves incl. pass (no eye rule); cap {MOVE_CAP}")
    go_base = _import_go_base()
    if isinstance(go_base, str):
        res.status = go_base
        return res, None
    n_board = go_base.N
    pass_flat = n_board * n_board
    us, n_us = uni.values, uni.n
    j = 0

    def game() -> int:
        nonlocal j
        pos = go_base.Position(komi=KOMI)
        n = 0
        while n < MOVE_CAP and not pos.is_game_over():
            legal = np.flatnonzero(pos.all_legal_moves())
            u = us[j]
            j += 1
            if j == n_us:
                j = 0
            flat = int(legal[int(u * len(legal))])
            pos = pos.play_move(None if flat == pass_flat else divmod(flat, n_board))
            n += 1
        return n

    return res, game


BENCHES: dict[str, Callable[[Uniforms], Setup]] = {
    "a": bench_ours_python,
    "b": bench_ours_compiled,
    "c": bench_pyspiel,
    "d": bench_go_base,
}
RATIOS: list[tuple[str, str, float]] = [("b", "c", 1.0), ("a", "d", 5.0)]


def _failed(res: Result, e: Exception) -> None:
    res.status = f"failed: {type(e).__name__}: {e}"


def run_all(keys: str, seconds: float, warmup: float, rounds: int) -> dict[str, Result]:
    """Set up and warm every engine, then time them round-robin: ``rounds`` slices of ``seconds / rounds``
    each, so that load from elsewhere on the machine falls on all engines alike. A broken engine or peer
    is reported in its status, never raised."""
    results: dict[str, Result] = {}
    games: dict[str, GameFn] = {}
    uni = Uniforms()
    for key in keys:
        try:
            res, game = BENCHES[key](uni)
        except Exception as e:
            res, game = Result(key, (BENCHES[key].__doc__ or key).splitlines()[0], ""), None
            _failed(res, e)
        results[key] = res
        if game is not None:
            try:
                _warm(game, warmup)
                games[key] = game
            except Exception as e:
                _failed(res, e)
    per_slice = seconds / rounds
    for _ in range(rounds):
        for key, game in list(games.items()):
            res = results[key]
            try:
                moves, n_games, elapsed = _slice(game, per_slice)
            except Exception as e:
                _failed(res, e)
                del games[key]
                continue
            res.moves += moves
            res.games += n_games
            res.seconds += elapsed
            res.extra.setdefault("round_moves_per_s", []).append(round(moves / elapsed))
    for key in games:
        _fill(results[key])
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="timed wall budget per engine (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed warm-up per engine (default 1)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleave the engines in this many round-robin slices (default 5)")
    allowed = sorted(os.sched_getaffinity(0))
    ap.add_argument("--cpu", type=int, default=allowed[0], help="core to pin to (default: first allowed)")
    ap.add_argument("--engines", default="abcd", help="which of a, b, c, d to run (default abcd)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    keys = "".join(k for k in "abcd" if k in args.engines)
    rounds = max(1, args.rounds)

    try:
        os.sched_setaffinity(0, {args.cpu})
        pinned = f"core {args.cpu}"
    except OSError as e:
        pinned = f"not pinned ({e})"

    print(f"random {SIZE}x{SIZE} playouts, komi {KOMI}, one process on {pinned}; {args.seconds:g} s per "
          f"engine in {rounds} interleaved rounds after {args.warmup:g} s warm-up; "
          f"python {platform.python_version()}", flush=True)
    results = run_all(keys, args.seconds, args.warmup, rounds)
    for key, res in results.items():
        label = f"({key}) {res.name}"
        if res.status == "ok":
            print(f"{label:<45} {res.moves_per_s:>11,.0f} moves/s {res.games_per_s:>9,.1f} games/s "
                  f"{res.mean_moves:>6.1f} moves/game  [{res.policy}]")
        else:
            print(f"{label:<45} {res.status}")

    ratios: list[dict[str, Any]] = []
    for num, den, target in RATIOS:
        rn, rd = results.get(num), results.get(den)
        label = f"({num})/({den})"
        if rn is None or rd is None:
            continue
        if rn.status != "ok" or rd.status != "ok":
            why = rd.status if rd.status != "ok" else rn.status
            print(f"ratio {label}: skipped ({why})")
            ratios.append({"ratio": label, "target": target, "value": None, "verdict": "skipped"})
            continue
        value = rn.moves_per_s / rd.moves_per_s
        verdict = "PASS" if value >= target else "BELOW"
        print(f"ratio {label} moves/s: {value:.2f}x (target >= {target:.1f}x) {verdict}")
        ratios.append({"ratio": label, "target": target, "value": value, "verdict": verdict})

    if args.json is not None:
        payload = {
            "size": SIZE, "komi": KOMI, "seconds": args.seconds, "warmup": args.warmup, "rounds": rounds,
            "pinned": pinned, "python": platform.python_version(), "machine": platform.machine(),
            "engines": {k: asdict(r) for k, r in results.items()}, "ratios": ratios,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
