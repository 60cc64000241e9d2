"""The logistic members' features and stored tensors, without torch: what :mod:`flarecast.model.linear` fits and
applies with torch and :mod:`flarecast.model.numpy_net` applies with numpy.

The statistics are those of the ``logistic`` baseline of ``flarecast evaluate`` and ``compare``
(:mod:`flarecast.evaluate.baselines`): the last, mean and largest normalised value of every input channel of a
window, in the order ``channel:last, channel:mean, channel:max`` per channel. One ``linear-<sha>.safetensors``
per ensemble holds one set of tensors ``{fold}.mean``, ``.scale``, ``.coef``, ``.intercept`` per fold (float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from flarecast.errors import ModelError

STATISTICS = ("last", "mean", "max")
"""The statistics of each channel, in feature order."""
BLEND_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The weights of the networks that ``train.cv.blend`` tries (the rest goes to the logistic members)."""
PARTS = ("mean", "scale", "coef", "intercept")
"""The tensors of one logistic member, in the order :class:`~flarecast.model.linear.WindowLogistic` takes them."""


def window_stats(x: np.ndarray) -> np.ndarray:
    """``[n, 3 * channels]`` float64 features of windows ``x`` ``[n, channel, step]`` (see :data:`STATISTICS`).

    >>> window_stats(np.array([[[1.0, 3.0, 2.0]]]))
    array([[2., 2., 3.]])
    """
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x[:, :, -1], x.mean(axis=2), x.max(axis=2)], axis=2).reshape(len(x), -1)


def gathered_stats(inputs, idx: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """:func:`window_stats` of windows ``idx`` of ``inputs`` (anything with ``gather(idx)``, as
    :func:`flarecast.model.inference.predict` takes), gathered ``chunk`` windows at a time."""
    idx = np.asarray(idx, dtype=np.int64)
    parts = [window_stats(inputs.gather(idx[a : a + chunk])) for a in range(0, idx.size, chunk)]
    return np.concatenate(parts) if parts else np.empty((0, 0))


def check_parts(mean, scale, coef, intercept) -> None:
    """Refuse a logistic member whose tensors (numpy arrays or torch tensors) do not fit together."""
    n_features = mean.shape[0]
    if tuple(scale.shape) != (n_features,) or coef.ndim != 2 or coef.shape[1] != n_features or \
            tuple(intercept.shape) != (coef.shape[0],):
        raise ModelError(f"logistic member: shapes mean {tuple(mean.shape)}, scale {tuple(scale.shape)}, coef "
                         f"{tuple(coef.shape)}, intercept {tuple(intercept.shape)} do not fit together; retrain")


def read_linear(path: str | Path, folds: Sequence[str]) -> list[tuple[np.ndarray, ...]]:
    """The tensors (:data:`PARTS`) of the logistic members of ``folds``, from the file
    :func:`~flarecast.model.linear.save_linear` writes."""
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors' own error types: a damaged header or a file cut short
        raise ModelError(f"{path}: its tensors cannot be read ({exc}); the file is damaged: retrain it") from None
    try:
        return [tuple(tensors[f"{fold}.{name}"] for name in PARTS) for fold in folds]
    except KeyError as exc:
        raise ModelError(f"{path}: no tensor {exc.args[0]!r}; the file is not this ensemble's: retrain it") from None
