"""Temporal convolutional network: residual blocks of dilated 1-D convolutions, one sigmoid head per target.

The head (``model.head``) turns the pooled features into one logit per target. ``independent``: one linear
output per target, nothing ties them. The two ordinal heads make the nested classes of each forecast day
(``>=C@d1 ⊇ >=M@d1 ⊇ X@d1``, :func:`flarecast.classes.nested`) coherent by construction, so the rare classes
share the common ones' evidence and ``P(X) <= P(>=M) <= P(>=C)`` whatever the weights:

- ``cumulative``: a cumulative-link model on the logit, z(>=C) = r_C, z(>=M) = z(>=C) - softplus(r_M),
  z(X) = z(>=M) - softplus(r_X): each class's logit is the one below it minus a non-negative step.
- ``chain``: conditional probabilities multiplied, P(>=C) = s(r_C), P(>=M) = P(>=C) s(r_M),
  P(X) = P(>=M) s(r_X) (s the sigmoid): P(X) is P(>=M) x P(X | >=M).

Both return logits, so every consumer takes ``sigmoid`` as for the independent head.

Input ``[batch, channels, steps]``, output logits ``[batch, targets]``. The layers are those of
:func:`flarecast.model.layers.architecture` (the one definition, which :mod:`flarecast.model.numpy_net` evaluates
without torch): level i uses dilation 2**i; each block has two convolutions of kernel k, so the receptive field
is 1 + 2 (k - 1) (2**levels - 1) steps. Padding keeps the length (the window holds only the past, so the
convolutions need not be causal); global average and max pooling summarise the window for the heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from flarecast.classes import nested
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

    def __init__(self, n_channels: int, n_targets: int, window_steps: int, cfg: ModelConfig,
                 targets: Sequence[str] | None = None):
        super().__init__()
        self.arch = architecture(n_channels, n_targets, window_steps, cfg)
        self.n_channels, self.window_steps = n_channels, window_steps
        self.kind = cfg.head
        if self.kind != "independent" and (targets is None or len(targets) != n_targets):
            raise ModelError(f"model.head = {self.kind!r} orders the targets' classes: pass the {n_targets} target "
                             f"names (got {None if targets is None else list(targets)})")
        self.chains = nested(targets) if self.kind != "independent" else []
        self.levels, self.receptive_field = self.arch.levels, self.arch.receptive_field
        self.blocks = nn.Sequential(*(ResidualBlock(b) for b in self.arch.blocks))
        self.head = nn.Sequential(*(torch_layer(layer) for layer in self.arch.head))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.n_channels, self.window_steps):
            raise ModelError(input_refusal(self.n_channels, self.window_steps, tuple(x.shape)))
        h = self.blocks(x)
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)
        return ordinal_logits(self.head(pooled), self.chains, self.kind)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def ordinal_logits(raw: torch.Tensor, chains: list[list[int]], kind: str) -> torch.Tensor:
    """Logits ``[batch, targets]`` whose sigmoids are non-increasing along each chain (see the module docstring);
    ``raw`` unchanged for the ``independent`` head."""
    if kind == "independent":
        return raw
    raw = raw.float()
    out = [None] * raw.shape[1]
    for chain in chains:
        if kind == "cumulative":
            z = raw[:, chain[0]]
            out[chain[0]] = z
            for j in chain[1:]:
                z = z - F.softplus(raw[:, j])
                out[j] = z
        else:  # chain: log P summed along the chain, then back to a logit
            log_p = torch.zeros_like(raw[:, 0])
            for j in chain:
                log_p = log_p + F.logsigmoid(raw[:, j])
                out[j] = _logit_of_log(log_p)
    return torch.stack(out, dim=1)


def _logit_of_log(log_p: torch.Tensor) -> torch.Tensor:
    """logit(p) from log p: log p - log(1 - p), with log(1 - p) taken stably on both sides of p = 1/2."""
    log_p = log_p.clamp(max=-1e-7)  # p = 1 exactly would be an infinite logit
    log_1mp = torch.where(log_p > -0.6931, torch.log(-torch.expm1(log_p)), torch.log1p(-torch.exp(log_p)))
    return log_p - log_1mp
