"""The temporal CNN's layers as data: the one definition of the architecture.

:class:`~flarecast.model.network.TemporalCNN` builds its torch modules from :func:`architecture`, and
:mod:`flarecast.model.numpy_net` evaluates the same list with numpy (a forecast on the CPU needs no torch), so the
two cannot drift apart: a layer added here is a layer both must handle. :meth:`Architecture.shapes` names every
tensor of the network's state dict with its shape, which is how a weights file is checked against its card
without building the network. This module imports neither torch nor numpy.

Level i uses dilation 2**i; each block has two convolutions of kernel k, so the receptive field is
1 + 2 (k - 1) (2**levels - 1) steps. With ``levels = 0`` in the config the network gets the fewest levels whose
receptive field covers the window, so the last step can see the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from flarecast.config import ModelConfig

GROUPNORM_EPS = 1e-5
"""torch's ``GroupNorm`` default."""


@dataclass(frozen=True)
class Conv:
    """``Conv1d(c_in, c_out, kernel, dilation=dilation, padding=padding)``, zero padding on both sides."""

    c_in: int
    c_out: int
    kernel: int
    dilation: int = 1

    @property
    def padding(self) -> int:
        return (self.kernel - 1) * self.dilation // 2

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.c_out, self.c_in, self.kernel), "bias": (self.c_out,)}


@dataclass(frozen=True)
class Norm:
    """``GroupNorm(1, channels)``: each window normalised over all its channels and steps, then scaled per channel."""

    channels: int

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.channels,), "bias": (self.channels,)}


@dataclass(frozen=True)
class Gelu:
    """The exact (erf) GELU."""

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {}


@dataclass(frozen=True)
class Dropout:
    """Dropout in training, the identity at inference."""

    p: float

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {}


@dataclass(frozen=True)
class Linear:
    n_in: int
    n_out: int

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.n_out, self.n_in), "bias": (self.n_out,)}


Layer = Conv | Norm | Gelu | Dropout | Linear


@dataclass(frozen=True)
class Block:
    """A residual block: ``gelu(net(x) + skip(x))``; ``skip`` is a 1x1 convolution when the width changes, else
    the identity (None)."""

    net: tuple[Layer, ...]
    skip: Conv | None


@dataclass(frozen=True)
class Architecture:
    """The whole network: blocks, then the mean and the max of the last block's output over time (concatenated),
    then the head, which gives one logit per target."""

    n_channels: int
    window_steps: int
    levels: int
    receptive_field: int
    blocks: tuple[Block, ...]
    head: tuple[Layer, ...]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor of the network's state dict, by its torch name, with its shape."""
        out: dict[str, tuple[int, ...]] = {}
        for i, block in enumerate(self.blocks):
            for j, layer in enumerate(block.net):
                out.update({f"blocks.{i}.net.{j}.{k}": s for k, s in layer.shapes().items()})
            if block.skip is not None:
                out.update({f"blocks.{i}.skip.{k}": s for k, s in block.skip.shapes().items()})
        for j, layer in enumerate(self.head):
            out.update({f"head.{j}.{k}": s for k, s in layer.shapes().items()})
        return out


def receptive_field(kernel_size: int, levels: int) -> int:
    """Steps one output of the last block depends on."""
    return 1 + 2 * (kernel_size - 1) * (2**levels - 1)


def levels_for(window_steps: int, kernel_size: int) -> int:
    """Fewest levels whose receptive field covers ``window_steps``."""
    levels = 1
    while receptive_field(kernel_size, levels) < window_steps:
        levels += 1
    return levels


def input_refusal(n_channels: int, window_steps: int, shape: tuple[int, ...]) -> str:
    """Why a batch of another shape is refused: pooling over time would accept any length and answer for a
    window the network never saw."""
    return (f"the network takes windows of {n_channels} channels x {window_steps} steps (batch, channels, steps), "
            f"got shape {shape}: the samples were built with another config than the model's card; build them "
            "from the card's config")


def architecture(n_channels: int, n_targets: int, window_steps: int, cfg: ModelConfig) -> Architecture:
    """The temporal CNN for windows of ``n_channels`` x ``window_steps`` and ``n_targets`` heads."""
    levels = cfg.levels or levels_for(window_steps, cfg.kernel_size)
    blocks = []
    for i in range(levels):
        c_in, c = (n_channels if i == 0 else cfg.hidden), cfg.hidden
        net = (Conv(c_in, c, cfg.kernel_size, 2**i), Norm(c), Gelu(), Dropout(cfg.dropout),
               Conv(c, c, cfg.kernel_size, 2**i), Norm(c))
        blocks.append(Block(net, Conv(c_in, c, 1) if c_in != c else None))
    return Architecture(n_channels, window_steps, levels, receptive_field(cfg.kernel_size, levels), tuple(blocks),
                        (Dropout(cfg.dropout), Linear(2 * cfg.hidden, n_targets)))
