"""Temporal convolutional network: residual blocks of dilated 1-D convolutions, one sigmoid head per target.

Input ``[batch, channels, steps]``, output logits ``[batch, targets]``. The layers are those of
:func:`flarecast.model.layers.architecture` (the one definition, which :mod:`flarecast.model.numpy_net` evaluates
without torch): level i uses dilation 2**i; each block has two convolutions of kernel k, so the receptive field
is 1 + 2 (k - 1) (2**levels - 1) steps. Padding keeps the length (the window holds only the past, so the
convolutions need not be causal); global average and max pooling summarise the window for the heads.
"""

from __future__ import annotations

import torch
from torch import nn

from flarecast.config import ModelConfig
from flarecast.errors import ModelError
from flarecast.model.layers import (
    Block,
    Conv,
    Dropout,
    Gelu,
    Layer,
    Linear,
    Norm,
    architecture,
    input_refusal,
    levels_for,
    receptive_field,
)

__all__ = ["ResidualBlock", "TemporalCNN", "levels_for", "receptive_field", "torch_layer"]  # the two: their old home


def torch_layer(layer: Layer) -> nn.Module:
    """The torch module of one layer of :mod:`flarecast.model.layers`."""
    if isinstance(layer, Conv):
        return nn.Conv1d(layer.c_in, layer.c_out, layer.kernel, padding=layer.padding, dilation=layer.dilation)
    if isinstance(layer, Norm):
        return nn.GroupNorm(1, layer.channels)
    if isinstance(layer, Gelu):
        return nn.GELU()
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, Linear):
        return nn.Linear(layer.n_in, layer.n_out)
    raise ModelError(f"no torch module for layer {layer!r}")  # a layer added to layers.py and not here


class ResidualBlock(nn.Module):
    def __init__(self, block: Block):
        super().__init__()
        self.net = nn.Sequential(*(torch_layer(layer) for layer in block.net))
        self.skip = torch_layer(block.skip) if block.skip is not None else nn.Identity()
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.net(x) + self.skip(x))


class TemporalCNN(nn.Module):
    """Residual dilated TCN with ``n_targets`` sigmoid heads (returns logits)."""

    def __init__(self, n_channels: int, n_targets: int, window_steps: int, cfg: ModelConfig):
        super().__init__()
        self.arch = architecture(n_channels, n_targets, window_steps, cfg)
        self.n_channels, self.window_steps = n_channels, window_steps
        self.levels, self.receptive_field = self.arch.levels, self.arch.receptive_field
        self.blocks = nn.Sequential(*(ResidualBlock(b) for b in self.arch.blocks))
        self.head = nn.Sequential(*(torch_layer(layer) for layer in self.arch.head))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.n_channels, self.window_steps):
            raise ModelError(input_refusal(self.n_channels, self.window_steps, tuple(x.shape)))
        h = self.blocks(x)
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)
        return self.head(pooled)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

