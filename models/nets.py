"""The networks: a fully convolutional residual trunk shared by the policy and value designs.

Fully convolutional (the pass logit and the value come from global pooling, never from a dense layer over
the board), so one design serves 5x5 to 19x19; a trained net still records the board size it learned on.

- ``PolicyNet``: ``(B, planes, size, size)`` -> logits ``(B, size*size + 1)`` over every point and the pass,
  for the player to move. Illegal moves are masked by whoever samples (``masked_log_softmax``).
- ``ValueNet``: the same input -> ``(B,)`` in [-1, 1], the expected outcome for the player to move; optionally
  with score and ownership heads beside it (``ValueNet.heads``).
- ``RolloutPolicy``: a linear softmax over small local patterns (see ``minigo.rollout``); its weights are a
  plain vector so that playouts can run in compiled code without torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minigo.coords import check_size
from models.features import get_feature_set

KINDS = ("policy", "value", "rollout")


@dataclass(frozen=True)
class NetConfig:
    """Shape of a network; stored in every checkpoint, enough to rebuild the net."""

    kind: str = "policy"
    """``policy``, ``value`` or ``rollout``."""
    board_size: int = 9
    """The board size the net is trained for (the trunk itself would run on any size)."""
    feature_set: str = "alphago"
    """Name of the input feature set (``models.features``); ignored by the rollout policy."""
    filters: int = 64
    """Channels of the residual trunk."""
    blocks: int = 6
    """Residual blocks (two 3x3 convolutions each) after the input convolution."""
    value_hidden: int = 64
    """Width of the value head's hidden layer."""
    rollout_features: int = 0
    """Number of binary pattern features of the rollout policy (set by ``minigo.rollout``)."""
    score_head: bool = False
    """A value net that also predicts the final Tromp-Taylor margin (``ValueNet.heads``)."""
    ownership_head: bool = False
    """A value net that also predicts each point's final Tromp-Taylor owner (``ValueNet.heads``)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"net kind {self.kind!r} is not one of {', '.join(KINDS)}")
        check_size(self.board_size)
        get_feature_set(self.feature_set)
        for name in ("filters", "blocks", "value_hidden"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "blocks" else 1):
                raise ValueError(f"{name} {value!r} must be a positive integer")
        if (self.score_head or self.ownership_head) and self.kind != "value":
            raise ValueError(f"score and ownership heads belong to a value net, not a {self.kind} net")
        if self.kind == "rollout" and self.rollout_features < 1:
            raise ValueError("a rollout policy needs rollout_features >= 1")

    @property
    def input_planes(self) -> int:
        return get_feature_set(self.feature_set).planes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        fields = set(cls.__dataclass_fields__)
        unknown = set(data) - fields
        if unknown:
            raise ValueError(f"net config has unknown fields {sorted(unknown)}: expected {sorted(fields)}")
        return cls(**data)


class ResidualBlock(nn.Module):
    def __init__(self, filters: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(filters, filters, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class Trunk(nn.Module):
    """Input convolution then ``blocks`` residual blocks: ``(B, planes, S, S)`` -> ``(B, filters, S, S)``."""

    def __init__(self, planes: int, filters: int, blocks: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(planes, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters),
                                  nn.ReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(filters) for _ in range(blocks)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))


def _global_pool(x: torch.Tensor) -> torch.Tensor:
    """Mean and max over the board: ``(B, C, S, S)`` -> ``(B, 2C)``."""
    return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


class PolicyNet(nn.Module):
    """Logits over every point plus the pass, for the player to move: ``(B, size*size + 1)``."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = Trunk(config.input_planes, config.filters, config.blocks)
        self.point_head = nn.Conv2d(config.filters, 1, 1)
        self.pass_head = nn.Linear(2 * config.filters, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        points = self.point_head(h).flatten(1)  # (B, S*S)
        passing = self.pass_head(_global_pool(h))  # (B, 1)
        return torch.cat([points, passing], dim=1)


class ValueNet(nn.Module):
    """Expected outcome for the player to move, in [-1, 1]: ``(B,)``.

    With ``config.score_head`` / ``config.ownership_head`` it carries heads beside the outcome, as KataGo's
    value net does (Wu 2019): read them with ``heads(x)``. ``forward`` is the outcome alone whatever the heads,
    so the search never pays for them. They are built after the outcome head, so a net with heads starts with
    the same trunk and outcome head as one without under the same seed.
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = Trunk(config.input_planes, config.filters, config.blocks)
        self.head = nn.Sequential(nn.Linear(2 * config.filters, config.value_hidden), nn.ReLU(),
                                  nn.Linear(config.value_hidden, 1))
        self.score = nn.Sequential(nn.Linear(2 * config.filters, config.value_hidden), nn.ReLU(),
                                   nn.Linear(config.value_hidden, 1)) if config.score_head else None
        self.ownership = nn.Sequential(nn.Conv2d(config.filters, 32, 3, padding=1), nn.ReLU(),
                                       nn.Conv2d(32, 1, 1)) if config.ownership_head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.head(_global_pool(self.trunk(x)))).squeeze(1)

    def heads(self, x: torch.Tensor, detach: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
        """Every head, for the player to move: ``value`` ``(B,)`` in [-1, 1]; with a score head ``score`` ``(B,)``,
        the final margin divided by size*size (the whole board is 1); with an ownership head ``ownership_logit``
        ``(B, S*S)``, whose ``tanh`` is the expected owner of each point (+1 the player to move, -1 the
        opponent). Heads named in ``detach`` read the trunk without sending gradient into it (they learn, the
        trunk does not learn from them)."""
        h = self.trunk(x)
        pooled = _global_pool(h)
        out = {"value": torch.tanh(self.head(pooled)).squeeze(1)}
        if self.score is not None:
            out["score"] = self.score(pooled.detach() if "score" in detach else pooled).squeeze(1)
        if self.ownership is not None:
            out["ownership_logit"] = self.ownership(h.detach() if "ownership" in detach else h).flatten(1)
        return out


class RolloutPolicy(nn.Module):
    """A linear softmax over binary local-pattern features: logit(move) = sum of the weights of its features.

    ``forward(features, mask)`` takes, per example, the active feature indices of every candidate move
    ``(B, moves, k)`` (-1 padded) and returns logits ``(B, moves)``.
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.weights = nn.Parameter(torch.zeros(config.rollout_features + 1))  # the last one: padding, kept at 0

    def forward(self, active: torch.Tensor) -> torch.Tensor:
        index = torch.where(active < 0, torch.full_like(active, self.config.rollout_features), active)
        weights = torch.cat([self.weights[:-1], self.weights.new_zeros(1)])
        return weights[index].sum(dim=-1)


def build(config: NetConfig) -> nn.Module:
    """A freshly initialised network of ``config.kind``."""
    return {"policy": PolicyNet, "value": ValueNet, "rollout": RolloutPolicy}[config.kind](config)


def masked_log_softmax(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over the legal moves only (``legal`` bool, same shape); illegal ones get -inf."""
    return torch.log_softmax(logits.masked_fill(~legal, float("-inf")), dim=-1)
