"""Logistic regression on window statistics, as a member of an ensemble (``train.cv.blend: logistic``).

The statistics are those of the ``logistic`` baseline of ``flarecast evaluate`` and ``compare``
(:mod:`flarecast.evaluate.baselines`): the last, mean and largest normalised value of every input channel of a
window, in the order ``channel:last, channel:mean, channel:max`` per channel. Fitted with scikit-learn
(``StandardScaler`` then ``LogisticRegression(C=1.0)``, the baseline's settings); applied without it: a
:class:`WindowLogistic` holds the scaler's means and scales and the coefficients as tensors (one
``linear-<sha>.safetensors`` per ensemble, one set of tensors ``{fold}.mean``, ``.scale``, ``.coef``,
``.intercept`` per fold) and computes the same probabilities from the windows the networks see, in float64
(:mod:`flarecast.model.numpy_net` does the same with numpy). A target whose training windows hold one class only
gets coefficients 0 and the intercept of its training rate: the climatology forecast.

How the ensemble weighs it against its networks (``w`` per target, chosen on out-of-fold Brier score) is in
:mod:`flarecast.train.ensemble`; ``p = w x mean(networks) + (1 - w) x mean(logistic members)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from flarecast.model.window_stats import (
    BLEND_GRID,
    PARTS,
    STATISTICS,
    check_parts,
    gathered_stats,
    read_linear,
    window_stats,
)
from flarecast.util import atomic_path

__all__ = ["BLEND_GRID", "STATISTICS", "WindowLogistic", "fit_window_logistic", "gathered_stats", "load_linear",
           "save_linear", "window_stats"]
_PARTS = PARTS
_RATE_CLIP = 1e-6


class WindowLogistic(nn.Module):
    """Logistic regression of each target on :func:`window_stats`; ``forward`` gives logits ``[n, targets]``."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor, coef: torch.Tensor, intercept: torch.Tensor):
        super().__init__()
        check_parts(mean, scale, coef, intercept)
        for name, value in zip(_PARTS, (mean, scale, coef, intercept), strict=True):
            self.register_buffer(name, value.to(torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)
        feats = torch.stack([x[:, :, -1], x.mean(dim=2), x.amax(dim=2)], dim=2).reshape(x.shape[0], -1)
        return ((feats - self.mean) / self.scale) @ self.coef.T + self.intercept

    def tensors(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name).detach().cpu().contiguous() for name in _PARTS}


def fit_window_logistic(feats: np.ndarray, y: np.ndarray) -> WindowLogistic:
    """Fit on window statistics ``feats`` (:func:`gathered_stats`) and labels ``y`` ``[n, targets]`` (0/1)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(feats)
    z = scaler.transform(feats)
    coef = np.zeros((y.shape[1], feats.shape[1]))
    intercept = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        if np.unique(y[:, j]).size < 2:
            rate = float(np.clip(y[:, j].mean(), _RATE_CLIP, 1 - _RATE_CLIP))
            intercept[j] = np.log(rate / (1 - rate))
            continue
        fit = LogisticRegression(C=1.0, max_iter=2000).fit(z, y[:, j])
        coef[j], intercept[j] = fit.coef_[0], fit.intercept_[0]
    return WindowLogistic(*(torch.from_numpy(np.asarray(a, dtype=np.float64))
                            for a in (scaler.mean_, scaler.scale_, coef, intercept)))


def save_linear(path: str | Path, members: Sequence[WindowLogistic], folds: Sequence[str]) -> None:
    """Write the logistic members of folds ``folds`` to one safetensors file (no pickle)."""
    tensors = {f"{fold}.{name}": t for fold, m in zip(folds, members, strict=True) for name, t in m.tensors().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp))


def load_linear(path: str | Path, folds: Sequence[str]) -> list[WindowLogistic]:
    """The logistic members of ``folds`` from :func:`save_linear`'s file."""
    return [WindowLogistic(*(torch.from_numpy(a) for a in parts)) for parts in read_linear(path, folds)]
