"""The value net's extra labels: each point's final Tromp-Taylor owner and the final margin, for the player to
move, checked against hand counts on drawn boards and under the 8 board symmetries; the heads that learn them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minigo.go import BLACK, WHITE, Rules, board_from_string
from models.features import N_SYMMETRIES, transform
from models.losses import ownership_loss
from models.nets import NetConfig, ValueNet, build
from selfplay.value_data import examples_of
from selfplay.workers import SelfPlayGame

RULES = Rules(size=5, komi=7.5)


def grid(text: str) -> np.ndarray:
    """A drawn owner map (``X`` Black, ``O`` White, ``.`` neutral) as ``(size*size,)`` int8 from Black's view."""
    return np.array([{"X": BLACK, "O": WHITE, ".": 0}[c] for c in text.split()], np.int8)


def draw(board: np.ndarray, size: int) -> str:
    return "\n".join(" ".join({BLACK: "X", WHITE: "O", 0: "."}[int(v)] for v in row)
                     for row in board.reshape(size, size))


SEKI = """
    O . X . O
    O X X X O
    O O O O O
    X X X X X
    . . . . .
"""


def test_seki_liberties_are_nobody_s_and_the_rest_is_counted():
    pos = board_from_string(SEKI, komi=0)
    assert pos.ownership().tolist() == grid("""
        O . X . O
        O X X X O
        O O O O O
        X X X X X
        X X X X X
    """).tolist()
    assert (int((pos.ownership() == BLACK).sum()), int((pos.ownership() == WHITE).sum())) == pos.area()


def test_a_region_touching_both_colours_is_neutral_and_a_lone_stone_owns_its_region():
    pos = board_from_string("""
        X . . O .
        . . . O .
        . . . O O
        . . . . .
        . . . . .
    """)
    own = pos.ownership()
    assert own.tolist() == grid("""
        X . . O O
        . . . O O
        . . . O O
        . . . . .
        . . . . .
    """).tolist()


def test_a_captured_group_s_points_belong_to_the_capturer_in_the_labels():
    # Black surrounds White's centre stone and takes it; then both pass. Move points: row * 5 + col.
    moves = [7, 12, 11, 0, 13, 4, 17, 25, 25]
    game = SelfPlayGame(0, moves=moves, score=5 - 2 - 7.5, black="sl", white="sl", random_move_at=1)
    final = game.positions(RULES)[-1]
    assert final.score() == game.score
    expected = grid("""
        O . . . O
        . . X . .
        . X X X .
        . . X . .
        . . . . .
    """)
    data = examples_of(game, RULES, "raw", "all")
    assert data.move_number.tolist() == list(range(1, 9))
    for number, owners, score, z in zip(data.move_number, data.ownership, data.score, data.z, strict=True):
        to_play = BLACK if number % 2 == 0 else WHITE  # White is to move after move 1
        assert owners.tolist() == (to_play * expected).tolist()  # +1 for the player to move
        assert score == pytest.approx(to_play * -4.5 / 25)
        assert z == -to_play  # White won


@pytest.mark.parametrize("k", range(N_SYMMETRIES))
def test_ownership_transforms_with_the_board_under_every_symmetry(k):
    pos = board_from_string(SEKI, komi=0)
    turned = board_from_string(draw(transform(pos.board.reshape(5, 5), k), 5), komi=0)
    assert transform(pos.ownership().reshape(5, 5), k).reshape(-1).tolist() == turned.ownership().tolist()


def test_ownership_loss_is_least_at_the_true_owners():
    owners = torch.tensor([[1.0, -1.0, 0.0]])
    right = ownership_loss(torch.tensor([[6.0, -6.0, 0.0]]), owners)
    wrong = ownership_loss(torch.tensor([[-6.0, 6.0, 3.0]]), owners)
    assert right < 0.75 and wrong > 4 * right  # 0.69 is the neutral point's floor: half each way


def test_heads_give_every_output_and_forward_stays_the_outcome_alone():
    torch.manual_seed(3)
    plain = build(NetConfig(kind="value", board_size=5, feature_set="raw", filters=8, blocks=1))
    torch.manual_seed(3)
    both = ValueNet(NetConfig(kind="value", board_size=5, feature_set="raw", filters=8, blocks=1, score_head=True,
                              ownership_head=True)).eval()
    plain.eval()
    x = torch.rand(4, 5, 5, 5)
    out = both.heads(x)
    assert out["value"].shape == (4,) and out["score"].shape == (4,) and out["ownership_logit"].shape == (4, 25)
    # Extra heads are built after the outcome head: the same seed gives the same outcome net.
    assert torch.equal(both(x), plain(x)) and torch.equal(out["value"], plain(x))


def test_heads_belong_to_value_nets_only():
    with pytest.raises(ValueError, match="belong to a value net"):
        NetConfig(kind="policy", ownership_head=True)
