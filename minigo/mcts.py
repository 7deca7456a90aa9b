"""PUCT Monte Carlo tree search behind the ``Evaluator`` protocol (AlphaGo, Silver et al. 2016).

The search knows nothing of torch: it asks an ``Evaluator`` for priors and values of batches of positions
(``models.evaluator`` adapts the networks; ``UniformEvaluator`` here serves the tests) and runs its rollouts
with the compiled playouts of ``minigo.rollout`` / ``minigo.go``.

(Over 600 lines because the tree's arrays, the compiled selection and backup kernels that walk them, and the
search that drives them change together; the pass and resign rules live beside the move choice they override.)

The paper's letters and their names here (``s`` a position, ``a`` a move from it):

======================  =========================================================================================
paper                   here
======================  =========================================================================================
N(s, a)                 ``visits``: simulations that went through the edge (virtual losses included while pending)
W(s, a)                 ``value_sum``: sum of their leaf values, for the player to move at ``s``
Q(s, a) = W / N         ``q``: mean value of the edge for the player to move at ``s``, in [-1, 1]; 0 while N = 0
P(s, a)                 ``prior``: the evaluator's probability of ``a`` at ``s``, renormalised over the legal moves
u(s, a)                 ``c_puct * P * sqrt(max(1, sum_b N(s, b))) / (1 + N)``: the exploration bonus
c_puct                  ``SearchConfig.c_puct`` (2; the paper used 5, which lost to 2 by 41-59% of 199 games here)
v(s_L)                  the evaluator's value of the leaf, for the player to move at the leaf
z_L                     rollout outcome from the leaf: +1 / -1 / 0 by the sign of the Tromp-Taylor score,
                        for the player to move at the leaf
lambda                  ``SearchConfig.mixing``: leaf value ``V = (1 - lambda) * v + lambda * z`` (optionally
                        rising with the leaf's move number to ``mixing_end``: ``SearchConfig.mixing_at``)
n_vl                    ``SearchConfig.virtual_loss`` (3): a pending simulation counts as n_vl lost visits
======================  =========================================================================================

A simulation descends from the root by ``argmax Q + u``, adds the first unexpanded child as a leaf, evaluates
it, expands it with priors over its legal moves (so a superko-illegal child is never created), and backs the leaf
value up the path, flipping its sign at every ply. The floor of 1 under ``sqrt`` makes a fresh node follow its
prior instead of its first move. ``batch_size`` leaves are selected per evaluator call: each selection applies
virtual loss along its path (N += n_vl, W -= n_vl) so the next one tends elsewhere; a selection that reaches a
leaf already waiting in the batch is undone and not counted. A leaf whose game is over (two passes, or the move
cap) gets its exact Tromp-Taylor outcome and no evaluation.

The tree lives in flat numpy arrays (``_Tree``): nodes hold the range of their edges, edges hold the move, the
child and ``(P, N, W)``; selection, backup and expansion are compiled. Between moves the subtree of the moves
played since is kept (``SearchConfig.reuse_tree``) and the rest dropped.

Moves (``MCTS.play``): the most visited root move (or, with ``lcb > 0``, the one whose Q has the highest lower
confidence bound among the well-visited; or, with ``temperature > 0``, one sampled in proportion to
``N ** (1 / temperature)``). Passing follows Tromp-Taylor, never the evaluator: after the opponent's pass the
search passes at once when that wins, and when its only other legal moves fill its own single-point eyes
(``Position.sensible_moves``: filling one never gains a point and can give a group away; a losing bot that would
not pass did just that, move after move); it never passes when the board as it stands loses for it while it has a
sensible move; otherwise the search decides. It resigns when the chosen move's Q is below
``resign_threshold`` (off by default).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numba import njit

from minigo import coords, kernels, rollout
from minigo.checks import integer
from minigo.go import Position, Rules, random_playout, tables
from minigo.players import RESIGN

logger = logging.getLogger(__name__)

__all__ = ["Evaluator", "UniformEvaluator", "SearchConfig", "SearchResult", "MCTS", "MCTSPlayer", "outcome"]


@runtime_checkable
class Evaluator(Protocol):
    """What the search needs from a network: priors and values for a batch of positions."""

    def evaluate(self, positions: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
        """Priors ``(B, size*size+1)`` over legal moves and values ``(B,)`` in [-1, 1] for the player to move."""


class UniformEvaluator:
    """Uniform priors over the legal moves (the pass included) and value 0: the search's no-knowledge baseline."""

    def evaluate(self, positions: Sequence[Position]) -> tuple[np.ndarray, np.ndarray]:
        legal = np.stack([p.legal_moves() for p in positions]).astype(np.float32)  # (B, n+1)
        return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(positions), dtype=np.float32)


@dataclass(frozen=True)
class SearchConfig:
    """How the search runs and chooses its move."""

    playouts: int | None = 400
    """Simulations per move (new ones: a reused subtree's visits come on top); None: ``seconds`` alone decides."""
    seconds: float | None = None
    """Wall-clock budget per move; with ``playouts`` too, whichever ends first (at least one batch runs)."""
    c_puct: float = 2.0
    """Weight of the prior-driven exploration bonus ``u``: 2 beat the paper's 5 by +62 Elo [+13, +111] over 199
    games on the bundled 9x9 nets (400 playouts; README "Search (MCTS)")."""
    fpu_reduction: float = 0.0
    """First-play urgency: an unvisited child's Q is its parent's mean value less this times the square root of
    the prior mass already visited (Leela Zero ~0.25, KataGo ~0.2 on this value scale); 0: Q = 0, the paper's."""
    mixing: float = 0.5
    """lambda: leaf value ``(1 - lambda) * v + lambda * z_rollout``; 0 = value net only, 1 = rollouts only."""
    mixing_end: float | None = None
    """lambda from move ``mixing_moves`` on, reached linearly from ``mixing`` at the empty board (a leaf's own move
    number counts); None: ``mixing`` throughout. A value net that misjudges decided endings can leave them to
    the rollouts this way."""
    mixing_moves: int = 60
    """The move number at which lambda reaches ``mixing_end``."""
    batch_size: int = 16
    """Leaves selected (with virtual loss) per evaluator call."""
    virtual_loss: float = 3.0
    """n_vl: lost visits a pending simulation adds to every edge of its path."""
    resign_threshold: float | None = None
    """Resign when the chosen move's Q (for the player to move, in [-1, 1]) is below this; None: never."""
    dirichlet_alpha: float | None = None
    """Self-play: mix Dirichlet(alpha) noise into the root priors; None: no noise."""
    dirichlet_fraction: float = 0.25
    """Weight of the noise: ``P = (1 - fraction) * P + fraction * noise``."""
    temperature: float = 0.0
    """0: play the most visited move; > 0: sample in proportion to ``N ** (1 / temperature)`` (self-play)."""
    temperature_moves: int | None = None
    """Sample only while the game's move number is below this; None: for every move."""
    lcb: float = 0.0
    """Move choice by lower confidence bound (Leela Zero, KataGo): play the root move whose Q's lower bound, ``lcb``
    standard errors below it, is highest, among the moves with at least ``lcb_min_visits`` of the most visited
    one's visits; 0: the most visited move (the paper's). The bound is Wilson's for a win rate, which holds for
    any leaf values in [-1, 1] (a ±1 rollout outcome has the largest variance a mean-Q value can have)."""
    lcb_min_visits: float = 0.1
    """The fraction of the most visited move's visits a move needs to be chosen by ``lcb`` (Leela Zero's 0.1)."""
    rollout_temperature: float = 1.0
    """Softmax temperature of the rollout policy (ignored by uniform rollouts)."""
    rollout_threads: int = 1
    """Threads running one batch's rollouts side by side (compiled, without the GIL)."""
    reuse_tree: bool = True
    """Keep the subtree of the moves played since the last search."""

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"{name} {getattr(self, name)!r} is not {expected}")

        if self.playouts is None and self.seconds is None:
            raise ValueError("playouts and seconds are both None: give at least one budget")
        if self.playouts is not None:
            integer("playouts", self.playouts, 1)
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise bad("seconds", "a positive number")
        if not (math.isfinite(self.c_puct) and self.c_puct >= 0):
            raise bad("c_puct", "a number >= 0")
        if not (math.isfinite(self.fpu_reduction) and 0 <= self.fpu_reduction <= 2):
            raise bad("fpu_reduction", "a number from 0 to 2")
        if not 0 <= self.mixing <= 1:
            raise bad("mixing", "from 0 to 1")
        if self.mixing_end is not None and not 0 <= self.mixing_end <= 1:
            raise bad("mixing_end", "from 0 to 1")
        integer("mixing_moves", self.mixing_moves, 1)
        integer("batch_size", self.batch_size, 1)
        if not (math.isfinite(self.virtual_loss) and self.virtual_loss >= 0):
            raise bad("virtual_loss", "a number >= 0")
        if self.resign_threshold is not None and not -1 <= self.resign_threshold <= 1:
            raise bad("resign_threshold", "from -1 to 1")
        if self.dirichlet_alpha is not None and not (math.isfinite(self.dirichlet_alpha) and self.dirichlet_alpha > 0):
            raise bad("dirichlet_alpha", "a positive number")
        if not 0 <= self.dirichlet_fraction <= 1:
            raise bad("dirichlet_fraction", "from 0 to 1")
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise bad("temperature", "a number >= 0")
        if not (math.isfinite(self.rollout_temperature) and self.rollout_temperature >= 0):
            raise bad("rollout_temperature", "a number >= 0")
        integer("rollout_threads", self.rollout_threads, 1)
        if not (math.isfinite(self.lcb) and self.lcb >= 0):
            raise bad("lcb", "a number >= 0")
        if not 0 < self.lcb_min_visits <= 1:
            raise bad("lcb_min_visits", "a fraction in (0, 1]")

    def mixing_at(self, move_number: int) -> float:
        """lambda for a leaf ``move_number`` moves into the game."""
        if self.mixing_end is None:
            return self.mixing
        return self.mixing + (self.mixing_end - self.mixing) * min(1.0, move_number / self.mixing_moves)


@dataclass(frozen=True)
class SearchResult:
    """What one search thought: the move, and per root move its visits, Q and prior.

    Arrays are aligned: entry ``i`` is about root move ``moves[i]`` (points in board order, the pass last).
    Every value is for ``to_play``, the player to move at the root, in [-1, 1].
    """

    move: int
    """The chosen move: a point, the pass (``size*size``) or ``RESIGN``."""
    to_play: int
    """BLACK or WHITE: who moves at the root."""
    size: int
    """Board size."""
    moves: np.ndarray
    """``(k,)`` int: the legal root moves."""
    visits: np.ndarray
    """``(k,)`` int: N, simulations through each root move (a reused subtree's included)."""
    q: np.ndarray
    """``(k,)`` float: Q, mean leaf value through each move for ``to_play`` (0 where unvisited)."""
    prior: np.ndarray
    """``(k,)`` float: P, the evaluator's prior (before any Dirichlet noise)."""
    value: float
    """The root's value for ``to_play``: the visit-weighted mean of Q, or the evaluator's value before any visit."""
    pv: tuple[int, ...]
    """The principal variation: the best move (most visited; never a forbidden pass), then the most visited reply,
    and so on."""
    variations: tuple[tuple[int, ...], ...]
    """Per root move, its line: the move, then the most visited reply, and so on (empty where unvisited)."""
    playouts: int
    """Simulations run by this search."""
    seconds: float
    """Wall-clock time of this search."""
    reason: str = "search"
    """Why this move: ``search``, ``pass wins`` (passing after the opponent's pass wins), ``nothing else`` (a
    pass: every other legal move fills one of the mover's own eyes; ``value`` is then the board as it stands),
    ``resign``."""

    def _map(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size * self.size + 1, dtype=np.float64)
        out[self.moves] = values
        return out

    def visit_map(self) -> np.ndarray:
        """Visits per point, the pass last: ``(size*size+1,)``."""
        return self._map(self.visits)

    def prior_map(self) -> np.ndarray:
        """Priors per point, the pass last: ``(size*size+1,)``."""
        return self._map(self.prior)

    def q_map(self) -> np.ndarray:
        """Q per point for ``to_play``, the pass last: ``(size*size+1,)`` (0 where unvisited or illegal)."""
        return self._map(self.q)

    def ranked(self) -> list[int]:
        """Indices into ``moves`` of the visited moves, most visited first (ties: higher Q, then higher prior)."""
        order = np.lexsort((-self.prior, -self.q, -self.visits))
        return [int(i) for i in order if self.visits[i] > 0]

    def summary(self, top: int = 5) -> str:
        """One line for logs: the move, value, playouts and the most visited moves with N, Q and P."""
        name = "resign" if self.move == RESIGN else coords.to_gtp(self.move, self.size)
        best = " ".join(f"{coords.to_gtp(int(self.moves[i]), self.size)}:N={int(self.visits[i])},"
                        f"Q={self.q[i]:+.2f},P={self.prior[i]:.2f}" for i in self.ranked()[:top])
        pv = " ".join(coords.to_gtp(m, self.size) for m in self.pv)
        return (f"{name} ({self.reason}) value {self.value:+.3f} playouts {self.playouts} in {self.seconds:.2f}s | "
                f"{best} | pv {pv}")


def _unsearched_pass(position: Position, value: float, prior: np.ndarray, reason: str) -> SearchResult:
    """The pass, decided by rule without a search: its only Q and the value are ``value``."""
    n = position.pass_point
    return SearchResult(n, position.to_play, position.size, np.array([n]), np.zeros(1, dtype=np.int64),
                        np.array([value]), prior, value, (n,), ((n,),), 0, 0.0, reason=reason)


def lower_bound(q: np.ndarray, visits: np.ndarray, z: float) -> np.ndarray:
    """Wilson's lower bound, ``z`` standard errors down, of mean values ``q`` in [-1, 1] over ``visits`` samples,
    on the same scale (the bound of the win rate ``(q + 1) / 2``, mapped back); -1 where ``visits`` is 0."""
    n = np.maximum(np.asarray(visits, dtype=np.float64), 1e-12)
    p = (np.asarray(q, dtype=np.float64) + 1.0) / 2.0
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / n + z2 / (4 * n * n))
    bound = (centre - spread) / (1 + z2 / n)
    return np.where(np.asarray(visits) > 0, 2 * bound - 1, -1.0)


def _lcb_choice(candidates: np.ndarray, visits: np.ndarray, q: np.ndarray, best: int, z: float,
                min_fraction: float) -> int:
    """The candidate with the highest lower bound of Q among those with at least ``min_fraction`` of ``best``'s
    visits (``best``, the most visited, is always one; ties go to the more visited)."""
    floor = max(1.0, min_fraction * float(visits[best]))
    eligible = candidates[visits[candidates] >= floor]
    bounds = lower_bound(q[eligible], visits[eligible], z)
    top = np.flatnonzero(bounds >= bounds.max() - 1e-12)
    choice = eligible[top[np.argmax(visits[eligible[top]])]]
    return int(choice)


def outcome(position: Position) -> float:
    """The Tromp-Taylor result of ``position`` as it stands, for its player to move: +1 win, -1 loss, 0 draw."""
    score = position.score()
    return float(np.sign(score)) * position.to_play


# ------------------------------------------------------------------------------------------- compiled side
#
# Node store: ``nodes`` int32 (capacity, 2) = (first edge, number of edges), -1 edges while not expanded;
# ``terminal`` float64 (capacity,) = exact value for the node's player to move when its game is over, else NaN.
# Edge store: ``links`` int32 (capacity, 2) = (move, child node or -1); ``stats`` float64 (capacity, 3) =
# (P, N, W), W for the player to move at the edge's parent.

_P, _N, _W = 0, 1, 2
_NEW, _TERMINAL, _PENDING = 0, 1, 2


@njit(cache=True)
def _select(nodes, terminal, links, stats, c_puct, virtual_loss, root_skip, path, fpu):
    """Descend from the root (node 0) by argmax Q + u, adding virtual loss to each edge taken; the edges go to
    ``path``. Returns (depth, status, node): ``_NEW`` when the last edge has no child yet (``node`` is its
    parent), ``_TERMINAL`` or ``_PENDING`` (a leaf already waiting for evaluation) with ``node`` the child.
    ``root_skip`` is an edge never taken (-1: none). An unvisited edge's Q is 0 when ``fpu`` is 0 (the paper's),
    else the node's mean value so far less ``fpu * sqrt(prior mass of the visited edges)`` (Leela Zero, KataGo)."""
    node = 0
    depth = 0
    while True:
        first = nodes[node, 0]
        end = first + nodes[node, 1]
        total = 0.0
        value_sum = 0.0
        visited_prior = 0.0
        for e in range(first, end):
            total += stats[e, _N]
            value_sum += stats[e, _W]
            if stats[e, _N] > 0:
                visited_prior += stats[e, _P]
        scale = c_puct * math.sqrt(max(total, 1.0))
        unvisited = 0.0
        if fpu > 0:
            unvisited = (value_sum / total if total > 0 else 0.0) - fpu * math.sqrt(visited_prior)
        best = -1
        best_score = -np.inf
        for e in range(first, end):
            if e == root_skip:
                continue
            n = stats[e, _N]
            q = stats[e, _W] / n if n > 0 else unvisited
            score = q + scale * stats[e, _P] / (1.0 + n)
            if score > best_score:
                best_score = score
                best = e
        path[depth] = best
        depth += 1
        stats[best, _N] += virtual_loss
        stats[best, _W] -= virtual_loss
        child = links[best, 1]
        if child < 0:
            return depth, _NEW, node
        if not np.isnan(terminal[child]):
            return depth, _TERMINAL, child
        if nodes[child, 1] < 0:
            return depth, _PENDING, child
        node = child


@njit(cache=True)
def _backup(stats, path, depth, value, virtual_loss):
    """Back ``value`` (for the player to move at the leaf) up ``path``, removing the virtual loss: each edge
    gets the value for the player to move at its parent, so the sign flips at every ply."""
    v = -value
    for i in range(depth - 1, -1, -1):
        e = path[i]
        stats[e, _N] += 1.0 - virtual_loss
        stats[e, _W] += v + virtual_loss
        v = -v


@njit(cache=True)
def _revert(stats, path, depth, virtual_loss):
    """Undo the virtual loss of a selection that is dropped."""
    for i in range(depth):
        stats[path[i], _N] -= virtual_loss
        stats[path[i], _W] += virtual_loss


@njit(cache=True)
def _finish_batch(nodes, links, stats, leaf_nodes, legal, priors, first_edge, paths, depths, values, virtual_loss):
    """Expand each leaf with one edge per legal move (priors renormalised over them; uniform if they sum to 0),
    then back up its value. Returns the new number of edges."""
    e = first_edge
    for i in range(leaf_nodes.shape[0]):
        node = leaf_nodes[i]
        total = 0.0
        count = 0
        for m in range(legal.shape[1]):
            if legal[i, m]:
                total += priors[i, m]
                count += 1
        nodes[node, 0] = e
        nodes[node, 1] = count
        for m in range(legal.shape[1]):
            if legal[i, m]:
                links[e, 0] = m
                links[e, 1] = -1
                stats[e, _P] = priors[i, m] / total if total > 0 else 1.0 / count
                stats[e, _N] = 0.0
                stats[e, _W] = 0.0
                e += 1
        _backup(stats, paths[i], depths[i], values[i], virtual_loss)
    return e


@njit(cache=True)
def _compact(nodes, terminal, links, stats, root, out_nodes, out_terminal, out_links, out_stats, old_of_new):
    """Copy the subtree under ``root`` to the ``out_`` arrays, breadth first, ``root`` becoming node 0; writes
    the old id of each new node to ``old_of_new``. Returns (nodes, edges) copied."""
    old_of_new[0] = root
    count_nodes = 1
    count_edges = 0
    i = 0
    while i < count_nodes:
        old = old_of_new[i]
        out_terminal[i] = terminal[old]
        first = nodes[old, 0]
        k = nodes[old, 1]
        out_nodes[i, 0] = count_edges
        out_nodes[i, 1] = k
        for j in range(max(k, 0)):
            e = first + j
            f = count_edges + j
            out_stats[f, 0] = stats[e, 0]
            out_stats[f, 1] = stats[e, 1]
            out_stats[f, 2] = stats[e, 2]
            out_links[f, 0] = links[e, 0]
            child = links[e, 1]
            if child >= 0:
                old_of_new[count_nodes] = child
                out_links[f, 1] = count_nodes
                count_nodes += 1
            else:
                out_links[f, 1] = -1
        count_edges += max(k, 0)
        i += 1
    return count_nodes, count_edges


@njit(nogil=True)
def _policy_playout_nogil(boards, hashes, hlen, tabs, nbr8, code_table, weights, color, ko, last_move, passes,
                          move_number, move_cap, superko, seed, inv_temperature):
    # Not cached: numba's cache would keep a stale copy of the rollout kernel it inlines.
    return rollout._playout(boards, hashes, hlen, tabs, nbr8, code_table, weights, color, ko, last_move, passes,
                            move_number, move_cap, superko, seed, inv_temperature)


@njit(nogil=True)
def _random_playout_nogil(boards, hashes, hlen, tabs, color, ko, passes, move_number, move_cap, superko, seed):
    return kernels.random_playout(boards, hashes, hlen, tabs, color, ko, passes, move_number, move_cap, superko,
                                  seed)


# ------------------------------------------------------------------------------------------- Python side


class _Tree:
    """The flat node and edge store, and the position of every node (node 0 is the root)."""

    def __init__(self, root: Position, node_capacity: int = 1024, edge_capacity: int = 16384) -> None:
        self.nodes = np.full((node_capacity, 2), -1, dtype=np.int32)
        self.terminal = np.full(node_capacity, np.nan)
        self.links = np.full((edge_capacity, 2), -1, dtype=np.int32)
        self.stats = np.zeros((edge_capacity, 3))
        self.positions: list[Position] = [root]
        self.num_edges = 0
        self.root_prior: np.ndarray | None = None
        """The root's priors before Dirichlet noise, when noise was added."""
        self.root_value = 0.0
        """The evaluator's value of the root for its player to move (mixed with a rollout's when lambda > 0)."""

    @property
    def num_nodes(self) -> int:
        return len(self.positions)

    def reserve(self, nodes: int, edges: int) -> None:
        """Room for ``nodes`` more nodes and ``edges`` more edges."""
        if self.num_nodes + nodes > self.nodes.shape[0]:
            capacity = max(2 * self.nodes.shape[0], self.num_nodes + nodes)
            self.nodes = _grow(self.nodes, capacity, -1)
            self.terminal = _grow(self.terminal, capacity, np.nan)
        if self.num_edges + edges > self.links.shape[0]:
            capacity = max(2 * self.links.shape[0], self.num_edges + edges)
            self.links = _grow(self.links, capacity, -1)
            self.stats = _grow(self.stats, capacity, 0.0)

    def add_node(self, position: Position) -> int:
        self.positions.append(position)
        return len(self.positions) - 1

    def edges(self, node: int) -> slice:
        first, count = self.nodes[node]
        return slice(int(first), int(first) + max(int(count), 0))

    def child(self, node: int, move: int) -> int:
        """The child of ``node`` by ``move``, or -1."""
        span = self.edges(node)
        hits = np.flatnonzero(self.links[span, 0] == move)
        return int(self.links[span.start + hits[0], 1]) if len(hits) else -1

    def rerooted(self, root: int, position: Position) -> _Tree:
        """A new tree holding the subtree under ``root``, with ``position`` as its root's position."""
        other = _Tree(position, self.nodes.shape[0], self.links.shape[0])
        old_of_new = np.empty(self.num_nodes, dtype=np.int64)
        count_nodes, count_edges = _compact(self.nodes, self.terminal, self.links, self.stats, root, other.nodes,
                                            other.terminal, other.links, other.stats, old_of_new)
        other.positions = [position] + [self.positions[int(old)] for old in old_of_new[1:count_nodes]]
        other.num_edges = int(count_edges)
        return other


def _grow(array: np.ndarray, capacity: int, fill: float) -> np.ndarray:
    out = np.full((capacity, *array.shape[1:]), fill, dtype=array.dtype)
    out[: array.shape[0]] = array
    return out


def _same_position(a: Position, b: Position) -> bool:
    return (a is b) or (a.rules == b.rules and a.to_play == b.to_play and a.ko == b.ko and a.passes == b.passes
                        and a.move_number == b.move_number and a.hash == b.hash
                        and bool(np.array_equal(a.board, b.board)))


class MCTS:
    """PUCT search over an ``Evaluator``; keeps its tree between moves of one game.

    ``play(position)`` searches and decides (pass and resign rules included); ``search(position)`` only
    searches (for analysis) and reports the move it would play. Both return a ``SearchResult``.
    ``rollout_weights``: the rollout policy's weight vector ``(NUM_FEATURES + 1,)`` (``minigo.rollout``), or
    None for uniformly random rollouts.
    """

    def __init__(self, evaluator: Evaluator, config: SearchConfig | None = None, *,
                 rollout_weights: np.ndarray | None = None, rng: np.random.Generator | None = None) -> None:
        self.evaluator = evaluator
        self.config = config if config is not None else SearchConfig()
        self.rollout_weights = None if rollout_weights is None else rollout._weight_vector(rollout_weights)
        self.rng = rng if rng is not None else np.random.default_rng()
        self._tree: _Tree | None = None
        self._noised = False  # Dirichlet noise already mixed into this root's priors
        self._pool: ThreadPoolExecutor | None = None

    def reset(self) -> None:
        """Forget the tree (a new game)."""
        self._tree = None
        self._noised = False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    # -- deciding ------------------------------------------------------------------------------------

    def play(self, position: Position, **budget) -> SearchResult:
        """Search ``position`` and choose its move by the rules of the module docstring. ``budget``:
        ``playouts`` and/or ``seconds`` to override the config for this move."""
        if position.passes >= 1 and outcome(position) > 0:
            # The opponent passed and the board as it stands wins for us: passing ends the game, won.
            return _unsearched_pass(position, 1.0, np.zeros(1), "pass wins")
        if not position.sensible_moves()[:-1].any():
            # Every other legal move fills one of our own eyes, which never gains a point and can lose a group.
            return _unsearched_pass(position, outcome(position), np.ones(1), "nothing else")
        return self.search(position, decide=True, **budget)

    def search(self, position: Position, *, playouts: int | None = None, seconds: float | None = None,
               on_progress: Callable[[SearchResult], None] | None = None, progress_seconds: float = 0.5,
               should_stop: Callable[[], bool] | None = None, decide: bool = False) -> SearchResult:
        """Run simulations from ``position`` (reusing the subtree kept from the last search when it leads
        here) and return what the search thinks. ``playouts`` / ``seconds`` override the config's budget;
        ``on_progress`` gets a ``SearchResult`` every ``progress_seconds`` (for analysis output); ``should_stop``
        is asked after every batch of leaves and ends the search early when it answers True. ``decide``
        (``play`` sets it): the move may be ``RESIGN`` or sampled by temperature; else it is the best move."""
        if playouts is None and seconds is None:
            playouts, seconds = self.config.playouts, self.config.seconds
        start = time.perf_counter()
        tree = self._root(position)
        n = position.pass_point
        # Passing when the board as it stands loses for us lets the opponent end the game by passing; but when
        # all that is left is filling our own eyes, the pass loses less.
        root_skip = -1
        span = tree.edges(0)
        if (outcome(position) < 0 and span.stop - span.start > 1 and tree.links[span.stop - 1, 0] == n
                and position.sensible_moves()[:-1].any()):
            root_skip = span.stop - 1
        if self.config.dirichlet_alpha is not None and not self._noised:
            self._add_noise(tree)
        done = 0
        last_report = start
        deadline = math.inf if seconds is None else start + seconds
        limit = playouts if playouts is not None else 2**62
        while done < limit:
            done += self._batch(tree, limit - done, root_skip)
            now = time.perf_counter()
            if now >= deadline or (should_stop is not None and should_stop()):
                break
            if on_progress is not None and now - last_report >= progress_seconds:
                last_report = now
                on_progress(self._result(tree, position, root_skip, done, now - start, decide=False))
        return self._result(tree, position, root_skip, done, time.perf_counter() - start, decide=decide)

    def _result(self, tree: _Tree, position: Position, root_skip: int, done: int, seconds: float,
                decide: bool) -> SearchResult:
        span = tree.edges(0)
        moves = tree.links[span, 0].astype(np.int64)
        visits = tree.stats[span, _N].astype(np.int64)
        value_sum = tree.stats[span, _W]
        q = np.divide(value_sum, visits, out=np.zeros(len(moves)), where=visits > 0)
        prior = tree.root_prior if tree.root_prior is not None else tree.stats[span, _P].copy()
        total = int(visits.sum())
        value = float(value_sum.sum() / total) if total else tree.root_value
        allowed = np.ones(len(moves), dtype=bool)
        if root_skip >= 0:
            allowed[root_skip - span.start] = False
        best, move, reason = self._choose(position, moves, visits, q, prior, allowed, decide)
        variations = tuple((int(moves[i]), *self._pv(tree, int(tree.links[span.start + i, 1]))) if visits[i] > 0
                           else () for i in range(len(moves)))
        return SearchResult(move, position.to_play, position.size, moves, visits, q, prior, value, variations[best],
                            variations, done, seconds, reason)

    def _choose(self, position: Position, moves: np.ndarray, visits: np.ndarray, q: np.ndarray, prior: np.ndarray,
                allowed: np.ndarray, decide: bool) -> tuple[int, int, str]:
        """(index of the best allowed move, the move to play, why). The best is the most visited (ties: higher Q,
        then higher prior), or with ``lcb`` the highest lower bound among the well-visited; with ``decide``, the move
        played may be sampled by temperature, or be ``RESIGN``."""
        config = self.config
        candidates = np.flatnonzero(allowed)
        best = int(candidates[np.lexsort((-prior[candidates], -q[candidates], -visits[candidates]))[0]])
        if config.lcb > 0 and visits[best] > 0:
            best = _lcb_choice(candidates, visits, q, best, config.lcb, config.lcb_min_visits)
        if not decide:
            return best, int(moves[best]), "search"
        if config.resign_threshold is not None and visits[best] > 0 and q[best] < config.resign_threshold:
            return best, RESIGN, "resign"
        weights = visits[candidates].astype(np.float64)
        if config.temperature > 0 and weights.sum() > 0 and (config.temperature_moves is None
                                                             or position.move_number < config.temperature_moves):
            weights = (weights / weights.max()) ** (1.0 / config.temperature)
            return best, int(moves[candidates[self.rng.choice(len(candidates), p=weights / weights.sum())]]), "search"
        return best, int(moves[best]), "search"

    def _pv(self, tree: _Tree, node: int, limit: int = 40) -> tuple[int, ...]:
        """From ``node`` (-1: none), the most visited move, then the most visited reply, and so on."""
        line: list[int] = []
        while node >= 0 and tree.nodes[node, 1] > 0 and len(line) < limit:
            span = tree.edges(node)
            visits = tree.stats[span, _N]
            best = int(np.argmax(visits))
            if visits[best] <= 0:
                break
            line.append(int(tree.links[span.start + best, 0]))
            node = int(tree.links[span.start + best, 1])
        return tuple(line)

    # -- the tree ------------------------------------------------------------------------------------

    def _root(self, position: Position) -> _Tree:
        """The tree for ``position``: the kept subtree when ``position`` follows the last root by moves the tree
        holds, else a fresh tree with an evaluated root."""
        tree = self._tree
        if tree is not None and self.config.reuse_tree:
            node = self._descend(tree, position)
            if node == 0:
                tree.positions[0] = position
                return tree
            if node > 0:
                self._tree = tree.rerooted(node, position)
                self._noised = False
                return self._tree
        tree = _Tree(position)
        self._tree = None
        self._noised = False
        priors, values = self.evaluator.evaluate([position])
        value = float(values[0])
        mixing = self.config.mixing_at(position.move_number)
        if mixing > 0 and not position.is_game_over:
            value = (1 - mixing) * value + mixing * self._rollouts([position])[0]
        tree.root_value = value
        legal = position.legal_moves()[None, :]
        tree.reserve(0, int(legal.sum()))
        tree.num_edges = int(_finish_batch(tree.nodes, tree.links, tree.stats, np.zeros(1, dtype=np.int64), legal,
                                           np.asarray(priors, dtype=np.float64), 0, np.zeros((1, 1), np.int64),
                                           np.zeros(1, np.int64), np.zeros(1), 0.0))
        self._tree = tree
        return tree

    def _descend(self, tree: _Tree, position: Position) -> int:
        """The node of ``tree`` for ``position`` (reached by the moves played since its root), or -1."""
        root = tree.positions[0]
        if position.rules != root.rules or position.is_game_over:
            return -1
        moves = []
        at = position
        while at.move_number > root.move_number:
            parent = at.parent
            if parent is None or at.last_move is None or parent.to_play != -at.to_play:
                return -1
            moves.append(at.last_move)
            at = parent
        if not _same_position(at, root):
            return -1
        node = 0
        for move in reversed(moves):
            if tree.nodes[node, 1] <= 0:
                return -1
            node = tree.child(node, move)
            if node < 0 or tree.nodes[node, 1] < 0:
                return -1
        return node

    def _add_noise(self, tree: _Tree) -> None:
        span = tree.edges(0)
        prior = tree.stats[span, _P].copy()
        noise = self.rng.dirichlet(np.full(len(prior), self.config.dirichlet_alpha))
        fraction = self.config.dirichlet_fraction
        tree.root_prior = prior
        tree.stats[span, _P] = (1 - fraction) * prior + fraction * noise
        self._noised = True

    def _batch(self, tree: _Tree, limit: int, root_skip: int) -> int:
        """Select up to ``batch_size`` leaves (at most ``limit`` simulations), evaluate, expand and back them up.
        Returns the simulations completed."""
        config = self.config
        batch = min(config.batch_size, limit)
        n_moves = tree.positions[0].pass_point + 1
        tree.reserve(batch, batch * n_moves)
        depth_cap = tree.positions[0].rules.move_cap + 2
        paths = np.zeros((batch, depth_cap), dtype=np.int64)
        depths = np.zeros(batch, dtype=np.int64)
        leaf_nodes: list[int] = []
        leaf_positions: list[Position] = []
        vl = config.virtual_loss
        done = 0
        dropped = 0
        # At most ``batch`` simulations, hence at most ``batch`` new nodes (terminal ones included), as reserved.
        while done + len(leaf_nodes) < batch and dropped < batch:
            row = len(leaf_nodes)
            path = paths[row]
            depth, status, node = _select(tree.nodes, tree.terminal, tree.links, tree.stats, config.c_puct, vl,
                                          root_skip, path, config.fpu_reduction)
            if status == _PENDING:
                _revert(tree.stats, path, depth, vl)
                dropped += 1
                continue
            if status == _TERMINAL:
                _backup(tree.stats, path, depth, tree.terminal[node], vl)
                done += 1
                continue
            edge = int(path[depth - 1])
            position = tree.positions[node].play(int(tree.links[edge, 0]))
            child = tree.add_node(position)
            tree.links[edge, 1] = child
            if position.is_game_over:
                tree.terminal[child] = outcome(position)
                _backup(tree.stats, path, depth, tree.terminal[child], vl)
                done += 1
                continue
            depths[row] = depth
            leaf_nodes.append(child)
            leaf_positions.append(position)
        if not leaf_nodes:
            return done
        count = len(leaf_nodes)
        try:
            priors, values = self.evaluator.evaluate(leaf_positions)
            values = np.asarray(values, dtype=np.float64)
            if config.mixing_end is None:
                if config.mixing > 0:
                    values = (1 - config.mixing) * values + config.mixing * self._rollouts(leaf_positions)
            else:
                mixing = np.array([config.mixing_at(p.move_number) for p in leaf_positions])
                rolled = np.flatnonzero(mixing > 0)
                if len(rolled):
                    z = self._rollouts([leaf_positions[i] for i in rolled])
                    values[rolled] = (1 - mixing[rolled]) * values[rolled] + mixing[rolled] * z
            legal = np.stack([p.legal_moves() for p in leaf_positions])
        except BaseException:
            self.reset()  # the batch's virtual losses are still in the tree
            raise
        tree.num_edges = int(_finish_batch(tree.nodes, tree.links, tree.stats, np.asarray(leaf_nodes, np.int64), legal,
                                           np.asarray(priors, dtype=np.float64), tree.num_edges, paths[:count],
                                           depths[:count], values, vl))
        return done + count

    # -- rollouts ------------------------------------------------------------------------------------

    def _rollouts(self, positions: Sequence[Position]) -> np.ndarray:
        """z for each position: the sign of a rollout's Tromp-Taylor score, for the player to move there."""
        threads = min(self.config.rollout_threads, len(positions))
        if threads <= 1:
            scores = [self._rollout(p) for p in positions]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.config.rollout_threads, thread_name_prefix="rollout")
            seeds = self.rng.integers(1, 2**63 - 1, size=len(positions))
            scores = [0.0] * len(positions)

            def work(rows: range) -> None:
                for i in rows:
                    scores[i] = self._rollout_nogil(positions[i], int(seeds[i]))

            chunks = [range(i, len(positions), threads) for i in range(threads)]
            for future in [self._pool.submit(work, rows) for rows in chunks]:
                future.result()
        to_play = np.array([p.to_play for p in positions], dtype=np.float64)
        return np.sign(np.asarray(scores)) * to_play

    def _rollout(self, position: Position) -> float:
        """Black's Tromp-Taylor score (komi included) at the end of one rollout from ``position``."""
        if self.rollout_weights is None:
            return random_playout(position, self.rng).score
        return rollout.policy_playout(position, self.rollout_weights, self.rng, self.config.rollout_temperature).score

    def _rollout_nogil(self, position: Position, seed: int) -> float:
        """``_rollout`` from a given seed, in compiled code that releases the GIL (for the rollout threads)."""
        hist, hlen, rules = position._hist, position._hlen, position.rules
        tabs = tables(position.size)
        if self.rollout_weights is None:
            _, _, black, white = _random_playout_nogil(hist.boards, hist.hashes, hlen, tabs, position.to_play,
                                                       position.ko, position.passes, position.move_number,
                                                       rules.move_cap, rules.superko, seed)
        else:
            temperature = self.config.rollout_temperature
            last = -1 if position.last_move is None else position.last_move
            _, _, black, white = _policy_playout_nogil(
                hist.boards, hist.hashes, hlen, tabs, rollout._neighbours8(position.size), rollout._CODE_TABLE,
                self.rollout_weights, position.to_play, position.ko, last, position.passes, position.move_number,
                rules.move_cap, rules.superko, seed, -1.0 if temperature == 0 else 1.0 / temperature)
        return float(black - white) - position.komi


class MCTSPlayer:
    """A Player that searches every move with ``MCTS``; ``last_search`` keeps what it thought last.

    ``search(position)`` runs an analysis search without committing to a move (GTP ``lz-analyze``, the
    window); the next ``play`` on the same position reuses that tree.
    """

    def __init__(self, evaluator: Evaluator, config: SearchConfig | None = None, *,
                 rollout_weights: np.ndarray | None = None, rng: np.random.Generator | None = None,
                 name: str = "mcts", board_size: int | None = None) -> None:
        self.mcts = MCTS(evaluator, config, rollout_weights=rollout_weights, rng=rng)
        self.name = name
        self.board_size = board_size
        """The board size the evaluator knows, or None for any."""
        self.last_search: SearchResult | None = None
        self.time_budget: float | None = None
        """Seconds the next move may take, set by a game clock (``minigo.gtp``); used only when the config
        fixes no playouts (time decides), and then instead of ``config.seconds``."""

    @property
    def evaluator(self) -> Evaluator:
        return self.mcts.evaluator

    @property
    def config(self) -> SearchConfig:
        return self.mcts.config

    def reset(self, rules: Rules) -> None:
        if self.board_size is not None and rules.size != self.board_size:
            raise ValueError(f"{self.name}: trained for {self.board_size}x{self.board_size}, "
                             f"cannot play {rules.size}x{rules.size}")
        self.mcts.reset()
        self.last_search = None

    def reseed(self, seed: int | None) -> None:
        """Restart the random stream (noise, temperature, rollouts) from ``seed``."""
        self.mcts.rng = np.random.default_rng(seed)

    def play(self, position: Position) -> int:
        budget = {} if self.time_budget is None or self.config.playouts is not None else {"seconds": self.time_budget}
        self.last_search = self.mcts.play(position, **budget)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s: %s", self.name, self.last_search.summary())
        return self.last_search.move

    def search(self, position: Position, **options) -> SearchResult:
        """An analysis search (``MCTS.search`` options); also kept as ``last_search``."""
        self.last_search = self.mcts.search(position, **options)
        return self.last_search

    def policy(self, position: Position) -> np.ndarray:
        """The evaluator's priors for ``position``: ``(size*size+1,)``."""
        priors, _ = self.evaluator.evaluate([position])
        return np.asarray(priors[0], dtype=np.float64)

    def ownership(self, position: Position) -> np.ndarray | None:
        """Each point's expected final owner, ``(size*size,)`` in [-1, 1] from Black's view (+1 Black's), when
        the evaluator has an ownership map (``ownership(position)``); None otherwise."""
        ownership = getattr(self.evaluator, "ownership", None)
        return ownership(position) if callable(ownership) else None

    def close(self) -> None:
        self.mcts.close()
