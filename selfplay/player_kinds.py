"""Every kind of player, in one table: from a spec's kind to the function that builds it.

``random`` and ``gnugo`` come from ``minigo.players``; ``policy`` and ``mcts`` need torch, so the table names
their factories as ``"module:function"`` and imports them at the first build: naming a player loads nothing it
does not use. ``make_player(spec)`` builds any of them; ``register_kind`` adds a kind for a plugin or a test
(nothing in minigo registers itself on import).
"""

from __future__ import annotations

from minigo.players import BASE_KINDS, Player, PlayerKind, build_player

__all__ = ["KINDS", "known_kinds", "make_player", "register_kind"]

KINDS: dict[str, PlayerKind] = {
    **BASE_KINDS,
    "policy": PlayerKind("models.evaluator:policy_player_from_spec", ("temperature", "seed"),
                         "policy:CKPT_OR_RUN[,temperature=T][,seed=N]"),
    "mcts": PlayerKind("models.mcts_player:mcts_player_from_spec",
                       ("playouts", "seconds", "lambda", "lambda_end", "lambda_moves", "c_puct", "fpu", "lcb",
                        "batch", "resign", "threads", "seed", "device", "precision"),
                       "mcts:RUN_OR_CKPT[,playouts=N][,seconds=S][,lambda=L][,lambda_end=L2,lambda_moves=M]"
                       "[,c_puct=C][,fpu=F][,lcb=Z][,batch=B][,resign=V][,threads=T][,seed=N][,device=D]"
                       "[,precision=fp32|bf16]"),
}


def make_player(spec: str) -> Player:
    """A player of any kind from its spec string; ``PlayerSpecError`` (one line) for a bad one."""
    return build_player(spec, KINDS)


def known_kinds() -> dict[str, str]:
    """Each kind with its usage line."""
    return {kind: entry.usage for kind, entry in KINDS.items()}


def register_kind(kind: str, entry: PlayerKind) -> None:
    """Add (or replace) a kind: for plugins and tests. Worker processes build players from specs too, so a kind
    they must know is registered where they import it (at the top level of the module that defines it)."""
    KINDS[kind] = entry
