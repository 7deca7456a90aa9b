"""A fast copy of a trained net for inference: batch norm folded into the convolutions, channels-last, no autograd.

The nets of ``models.nets`` are built for training: each ``Conv2d`` (no bias) is followed by a ``BatchNorm2d``
whose statistics move while the net learns. A net in eval mode computes the same function with less work, and
``inference_copy(net)`` builds that version as a new module, leaving ``net`` and its ``state_dict`` as they were
(checkpoints keep saving and loading the unfused weights):

- every ``BatchNorm2d`` right after a ``Conv2d`` (the trunk's stem and both convolutions of each residual block) is
  folded into it: in eval mode batch norm is the per-channel affine map ``(x - mean) / sqrt(var + eps) * gamma +
  beta``, so the pair is one convolution with weights ``W * gamma / sqrt(var + eps)`` and a bias
  (``torch.nn.utils.fuse_conv_bn_eval``); equal to the original up to float rounding (~1e-6 relative);
- weights and inputs in channels-last memory format (NHWC), the layout oneDNN's CPU convolutions run fastest on;
- every call runs under ``torch.inference_mode`` (no autograd bookkeeping) with parameters that need no gradient;
- ``precision="bf16"``: also under bfloat16 autocast (convolutions and linear layers in bf16, float32 accumulation;
  outputs returned as float32). Fast where the CPU has AVX512-BF16 or AMX (2-3.5x eager fp32 on the 2-core dev
  VM, ``bench/nets.py``; slow where it has neither), but only ~3 significant digits: on a 64x6 SL policy early in
  training (55% top-1), priors within 0.011 of fp32 (logits within 0.12, of magnitudes up to 25) on 800 positions
  of random games, the argmax changed on 3, each time between two moves within 0.002 of each other; on random
  64x6 nets priors within 0.002 and values within 0.005. The error grows with the size of a net's activations
  against the differences it must resolve, so measure a trained net (``bench/nets.py --policy CKPT --value CKPT``)
  before choosing bf16 for it.

The copy is a snapshot: weights changed in the original afterwards are not seen; make a new copy then. It keeps
the original's interface: ``forward`` (a ``PolicyNet``'s logits, a ``ValueNet``'s outcome) and, for a value net,
``heads(x)``, and it exposes ``config`` as the original does.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import nn

from models.nets import ResidualBlock

PRECISIONS = ("fp32", "bf16")
"""``fp32``: folded + channels-last, the original's results up to rounding; ``bf16``: the same under bf16 autocast."""


def fold_batch_norms(net: nn.Module) -> nn.Module:
    """A deep copy of ``net`` (in eval mode) with every batch norm that follows a convolution folded into it (the
    batch norm becomes ``nn.Identity``). Batch norms that follow no convolution, or keep no running statistics,
    stay as they are. ``net`` itself is not changed."""
    if net.training:
        raise ValueError("fold batch norm only in eval mode: in training mode it normalises by the batch's statistics")
    folded = copy.deepcopy(net)
    for module in list(folded.modules()):
        if isinstance(module, ResidualBlock):
            for conv_name, bn_name in (("conv1", "bn1"), ("conv2", "bn2")):
                conv, bn = getattr(module, conv_name), getattr(module, bn_name)
                if _foldable(conv, bn):
                    setattr(module, conv_name, nn.utils.fuse_conv_bn_eval(conv, bn))
                    setattr(module, bn_name, nn.Identity())
        elif isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                if _foldable(module[i], module[i + 1]):
                    module[i] = nn.utils.fuse_conv_bn_eval(module[i], module[i + 1])
                    module[i + 1] = nn.Identity()
    return folded


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats
            and bn.running_mean is not None and conv.out_channels == bn.num_features)


class InferenceNet(nn.Module):
    """The fast copy of a net (see the module docstring); build it with ``inference_copy``. Outputs are float32
    tensors made under ``torch.inference_mode``: read them, do not train through them."""

    def __init__(self, net: nn.Module, precision: str = "fp32") -> None:
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        self.precision = precision
        self.config = getattr(net, "config", None)
        self.net = fold_batch_norms(net).to(memory_format=torch.channels_last)
        self.net.requires_grad_(False)

    @contextlib.contextmanager
    def _mode(self) -> Iterator[None]:
        with torch.inference_mode():
            if self.precision == "bf16":
                device_type = next(self.net.parameters()).device.type
                with torch.autocast(device_type, dtype=torch.bfloat16):
                    yield
            else:
                yield

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """As the original net's ``forward``; ``x`` is ``(B, planes, S, S)``."""
        with self._mode():
            return self.net(x.contiguous(memory_format=torch.channels_last)).float()

    def heads(self, x: torch.Tensor, detach: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
        """As ``ValueNet.heads`` (``detach`` is accepted and means nothing here: nothing learns through a copy)."""
        if not hasattr(self.net, "heads"):
            raise TypeError(f"a {type(self.net).__name__} has no heads")
        with self._mode():
            out = self.net.heads(x.contiguous(memory_format=torch.channels_last))
            return {name: tensor.float() for name, tensor in out.items()}


def inference_copy(net: nn.Module, precision: str = "fp32") -> InferenceNet:
    """A fast inference copy of ``net`` (a ``PolicyNet`` or ``ValueNet`` in eval mode, on its device): batch norm
    folded, channels-last, inference mode, and with ``precision="bf16"`` bf16 autocast. ``net`` is not changed."""
    return InferenceNet(net, precision)
