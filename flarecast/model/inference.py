"""The one inference path: device choice, mixed precision and batching, for training's validation passes,
evaluation, backtests and forecasts alike (nanoGPT's ``ctx`` idea: the same three lines everywhere, so a
forecast on a GPU is computed exactly as the evaluation that scored it).

``inputs`` is anything with ``gather(idx) -> [batch, channel, step] float32``: :class:`flarecast.samples.Samples`
and the forecast windows of :func:`flarecast.samples.windows_at` both are.
"""

from __future__ import annotations

from contextlib import nullcontext
from itertools import chain
from typing import Protocol

import numpy as np
import torch

from flarecast.errors import ConfigError
from flarecast.model.ensemble import Ensemble
from flarecast.model.linear import WindowLogistic


class Inputs(Protocol):
    def gather(self, idx: np.ndarray) -> np.ndarray: ...


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when visible, else the CPU), ``cpu`` or ``cuda`` (refused when no GPU is visible)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA device is visible: use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"device {name!r}: expected one of ['auto', 'cpu', 'cuda']")
    return torch.device(name)


def autocast(device: torch.device, bf16: bool = True):
    """bf16 autocast on CUDA, nothing on the CPU (which always runs float32)."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" and bf16 else nullcontext()


def n_outputs(model: torch.nn.Module) -> int:
    if isinstance(model, Ensemble):
        return len(model.targets)
    inner = getattr(model, "module", model)
    inner = getattr(inner, "_orig_mod", inner)
    if isinstance(inner, WindowLogistic):
        return int(inner.coef.shape[0])
    return int(inner.head[-1].out_features)


def predict(model: torch.nn.Module, inputs: Inputs, idx: np.ndarray, *, device: torch.device | None = None,
            batch_size: int = 512) -> np.ndarray:
    """Probabilities ``[len(idx), targets]`` (float32) for windows ``idx`` of ``inputs``.

    ``model`` is one network or an :class:`~flarecast.model.ensemble.Ensemble`: each batch is gathered once and
    every member runs on it; their sigmoid outputs are averaged, then calibrated. ``device`` defaults to the
    model's own. Batches are copied to the device without blocking and run under :func:`autocast`; the sigmoid
    is taken in float32.
    """
    device = device or next(chain(model.parameters(), model.buffers())).device
    nets = list(model.members) if isinstance(model, Ensemble) else [model]
    linear = list(model.linear) if isinstance(model, Ensemble) else []
    idx = np.asarray(idx, dtype=np.int64)
    for net in nets + linear:
        net.eval()
    out, out_linear = [], []
    with torch.no_grad():
        for s in range(0, idx.size, batch_size):
            x = torch.from_numpy(inputs.gather(idx[s : s + batch_size])).to(device, non_blocking=True)
            out.append(_mean_sigmoid(nets, x, autocast(device)))
            if linear:  # float64 statistics and coefficients: no autocast
                out_linear.append(_mean_sigmoid(linear, x, nullcontext()))
    probs = np.concatenate(out) if out else np.zeros((0, n_outputs(model)), dtype=np.float32)
    if not isinstance(model, Ensemble):
        return probs
    linear_p = np.concatenate(out_linear) if out_linear else np.zeros(probs.shape)  # no windows, or no linear members
    blended = model.combine(probs.astype(np.float64), linear_p)
    return model.calibrate(blended)


def _mean_sigmoid(nets: list[torch.nn.Module], x: torch.Tensor, ctx) -> np.ndarray:
    with ctx:
        p = torch.sigmoid(nets[0](x).float())
        for net in nets[1:]:
            p += torch.sigmoid(net(x).float())
    return (p / len(nets) if len(nets) > 1 else p).cpu().numpy()
