"""Temporal convolutional network: residual blocks of dilated 1-D convolutions, one sigmoid head per target.

Input ``[batch, channels, steps]``, output logits ``[batch, targets]``. Level i uses dilation 2**i; each block
has two convolutions of kernel k, so the receptive field is 1 + 2 (k - 1) (2**levels - 1) steps. With
``levels = 0`` in the config the network gets the fewest levels whose receptive field covers the window, so
the last step can see the first. Padding keeps the length (the window holds only the past, so the
convolutions need not be causal); global average and max pooling summarise the window for the heads.
"""

from __future__ import annotations

import torch
from torch import nn

from flarecast.config import ModelConfig
from flarecast.errors import ModelError


def receptive_field(kernel_size: int, levels: int) -> int:
    """Steps one output of the last block depends on."""
    return 1 + 2 * (kernel_size - 1) * (2**levels - 1)


def levels_for(window_steps: int, kernel_size: int) -> int:
    """Fewest levels whose receptive field covers ``window_steps``."""
    levels = 1
    while receptive_field(kernel_size, levels) < window_steps:
        levels += 1
    return levels


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        pad = (kernel_size - 1) * dilation // 2
        self.net = nn.Sequential(
            nn.Conv1d(c_in, c_out, kernel_size, padding=pad, dilation=dilation),
            nn.GroupNorm(1, c_out),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Conv1d(c_out, c_out, kernel_size, padding=pad, dilation=dilation),
            nn.GroupNorm(1, c_out),
        )
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.net(x) + self.skip(x))


class TemporalCNN(nn.Module):
    """Residual dilated TCN with ``n_targets`` sigmoid heads (returns logits)."""

    def __init__(self, n_channels: int, n_targets: int, window_steps: int, cfg: ModelConfig):
        super().__init__()
        self.n_channels, self.window_steps = n_channels, window_steps
        self.levels = cfg.levels or levels_for(window_steps, cfg.kernel_size)
        self.receptive_field = receptive_field(cfg.kernel_size, self.levels)
        blocks = []
        for i in range(self.levels):
            c_in = n_channels if i == 0 else cfg.hidden
            blocks.append(ResidualBlock(c_in, cfg.hidden, cfg.kernel_size, 2**i, cfg.dropout))
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * cfg.hidden, n_targets))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.n_channels, self.window_steps):
            # pooling over time would accept any length and answer for a window the network never saw
            raise ModelError(f"the network takes windows of {self.n_channels} channels x {self.window_steps} steps "
                             f"(batch, channels, steps), got shape {tuple(x.shape)}: the samples were built with "
                             "another config than the model's card; build them from the card's config")
        h = self.blocks(x)
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)
        return self.head(pooled)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
