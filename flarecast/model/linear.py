"""Logistic regression on window statistics, as a member of an ensemble (``train.cv.blend: logistic``).

The statistics are those of the ``logistic`` baseline of ``flarecast evaluate`` and ``compare``
(:mod:`flarecast.evaluate.baselines`): the last, mean and largest normalised value of every input channel of a
window, in the order ``channel:last, channel:mean, channel:max`` per channel. Fitted with scikit-learn
(``StandardScaler`` then ``LogisticRegression(C=1.0)``, the baseline's settings); applied without it: a
:class:`WindowLogistic` holds the scaler's means and scales and the coefficients as tensors (one
``linear-<sha>.safetensors`` per ensemble, one set of tensors ``{fold}.mean``, ``.scale``, ``.coef``,
``.intercept`` per fold) and computes the same probabilities from the windows the
networks see, in float64. A target whose training windows hold one class only gets coefficients 0 and the
intercept of its training rate: the climatology forecast.

How the ensemble weighs it against its networks (``w`` per target, chosen on out-of-fold Brier score) is in
:mod:`flarecast.train.ensemble`; ``p = w x mean(networks) + (1 - w) x mean(logistic members)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from flarecast.errors import ModelError
from flarecast.util import atomic_path

STATISTICS = ("last", "mean", "max")
"""The statistics of each channel, in feature order."""
BLEND_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The weights of the networks that ``train.cv.blend`` tries (the rest goes to the logistic members)."""
_PARTS = ("mean", "scale", "coef", "intercept")
_RATE_CLIP = 1e-6


def window_stats(x: np.ndarray) -> np.ndarray:
    """``[n, 3 * channels]`` float64 features of windows ``x`` ``[n, channel, step]`` (see :data:`STATISTICS`).

    >>> window_stats(np.array([[[1.0, 3.0, 2.0]]]))
    array([[2., 2., 3.]])
    """
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x[:, :, -1], x.mean(axis=2), x.max(axis=2)], axis=2).reshape(len(x), -1)


class WindowLogistic(nn.Module):
    """Logistic regression of each target on :func:`window_stats`; ``forward`` gives logits ``[n, targets]``."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor, coef: torch.Tensor, intercept: torch.Tensor):
        super().__init__()
        n_features = mean.shape[0]
        if scale.shape != (n_features,) or coef.ndim != 2 or coef.shape[1] != n_features or \
                intercept.shape != (coef.shape[0],):
            raise ModelError(f"logistic member: shapes mean {tuple(mean.shape)}, scale {tuple(scale.shape)}, coef "
                             f"{tuple(coef.shape)}, intercept {tuple(intercept.shape)} do not fit together; retrain")
        for name, value in zip(_PARTS, (mean, scale, coef, intercept), strict=True):
            self.register_buffer(name, value.to(torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)
        feats = torch.stack([x[:, :, -1], x.mean(dim=2), x.amax(dim=2)], dim=2).reshape(x.shape[0], -1)
        return ((feats - self.mean) / self.scale) @ self.coef.T + self.intercept

    def tensors(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name).detach().cpu().contiguous() for name in _PARTS}


def gathered_stats(inputs, idx: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """:func:`window_stats` of windows ``idx`` of ``inputs`` (anything with ``gather(idx)``, as
    :func:`flarecast.model.inference.predict` takes), gathered ``chunk`` windows at a time."""
    idx = np.asarray(idx, dtype=np.int64)
    parts = [window_stats(inputs.gather(idx[a : a + chunk])) for a in range(0, idx.size, chunk)]
    return np.concatenate(parts) if parts else np.empty((0, 0))


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
    tensors = load_file(str(path))
    try:
        return [WindowLogistic(*(tensors[f"{fold}.{name}"] for name in _PARTS)) for fold in folds]
    except KeyError as exc:
        raise ModelError(f"{path}: no tensor {exc.args[0]!r}; the file is not this ensemble's: retrain it") from None
