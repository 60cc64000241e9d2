"""Ensembles: fold models (x seeds) whose probabilities are averaged, then mapped by a calibration fitted on the
pooled out-of-fold predictions. One :class:`Ensemble` goes wherever a single network goes:
:func:`flarecast.model.inference.predict` runs every member on the same batch (the windows are gathered once) and
applies :meth:`Ensemble.calibrate`, so evaluation, backtests and forecasts score exactly what the card describes.

A calibration map is plain JSON in the card, one per target, applied without scikit-learn:
``{"method": "none"}``, ``{"method": "isotonic", "x": [...], "y": [...]}`` (piecewise linear through the
isotonic fit's knots, constant beyond them: scikit-learn's ``out_of_bounds="clip"``) or
``{"method": "platt", "a": a, "b": b}`` (``sigmoid(a * logit(p) + b)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from flarecast.errors import ModelError
from flarecast.model.card import Calibration

COMBINE = "mean probability"
_EPS = 1e-6  # keeps logit(p) finite for Platt scaling of a probability of exactly 0 or 1


def calibration_map(cal: Calibration | Mapping[str, Any]) -> Calibration:
    """A calibration map, checked: its JSON form (as :mod:`flarecast.train.calibration` fits it) or the card's."""
    if isinstance(cal, Calibration):
        return cal
    return Calibration.parse(cal, "calibration map", "expected one of {'method': 'none'}, {'method': 'isotonic', "
                                                     "'x': [...], 'y': [...]} or {'method': 'platt', 'a': a, 'b': b}")


def apply_calibration(p: np.ndarray, cal: Calibration | Mapping[str, Any]) -> np.ndarray:
    """Map probabilities ``p`` through one target's calibration (see the module docstring)."""
    cal = calibration_map(cal)
    p = np.asarray(p, dtype=np.float64)
    if cal.method == "isotonic":
        return np.interp(p, np.asarray(cal.x, float), np.asarray(cal.y, float))
    if cal.method == "platt":
        q = np.clip(p, _EPS, 1 - _EPS)
        return 1.0 / (1.0 + np.exp(-(cal.a * np.log(q / (1 - q)) + cal.b)))
    return p  # "none"


def conditional(p: np.ndarray, chains: list[list[int]]) -> np.ndarray:
    """Raw conditional probabilities ``[n, targets]`` along each chain: the lowest class's own, then each
    class's over the one below it (0 where that is 0), clipped to [0, 1]."""
    q = np.array(p, dtype=np.float64, copy=True)
    for chain in chains:
        for lo, hi in zip(chain[:-1], chain[1:], strict=True):
            below = np.asarray(p[:, lo], dtype=np.float64)
            q[:, hi] = np.clip(np.divide(p[:, hi], below, out=np.zeros(below.size), where=below > 0), 0.0, 1.0)
    return q


def chain_product(c: np.ndarray, chains: list[list[int]]) -> np.ndarray:
    """Nested probabilities from conditional ones: the running product along each chain."""
    out = np.array(c, dtype=np.float64, copy=True)
    for chain in chains:
        out[:, chain] = np.cumprod(c[:, chain], axis=1)
    return out


def calibrate(probs: np.ndarray, maps: Sequence[Calibration | Mapping[str, Any]],
              chains: Sequence[Sequence[int]] = ()) -> np.ndarray:
    """Probabilities ``[n, targets]`` through one map per target column; along ``chains`` (nested targets) the
    maps are of the conditional probabilities and the result their running products."""
    if not probs.size:
        return np.asarray(probs, dtype=np.float64)
    q = conditional(probs, chains) if chains else probs
    out = np.stack([apply_calibration(q[:, j], m) for j, m in enumerate(maps)], axis=1)
    return chain_product(out, chains) if chains else out


class Ensemble(nn.Module):
    """Member networks whose sigmoid outputs are averaged, then calibrated per target.

    ``calibration`` maps each target name to its calibration (``{"method": "none"}`` leaves it as is).
    ``linear`` (logistic regressions on window statistics, :mod:`flarecast.model.linear`) and ``blend`` (the
    networks' weight per target) make it a blend: ``blend[t] x mean(networks) + (1 - blend[t]) x mean(linear)``
    before calibration. ``chains`` (the nested targets of an ordinal head, :func:`flarecast.classes.nested`):
    the maps are of the conditional probabilities along each chain, and the calibrated probabilities their
    running products (:mod:`flarecast.train.calibration`), so the classes stay nested.
    """

    def __init__(self, members: Sequence[nn.Module], targets: Sequence[str],
                 calibration: Mapping[str, Calibration | Mapping[str, Any]], *, linear: Sequence[nn.Module] = (),
                 blend: Mapping[str, float] | None = None, chains: Sequence[Sequence[int]] = ()):
        super().__init__()
        self.chains = [list(c) for c in chains]
        if not members:
            raise ModelError("an ensemble needs at least one member model")
        missing = [t for t in targets if t not in calibration]
        if missing:
            raise ModelError(f"the ensemble's calibration has no map for targets {missing}: retrain it")
        self.members = nn.ModuleList(members)
        self.targets = tuple(targets)
        self.calibration = {t: calibration_map(calibration[t]) for t in self.targets}
        self.linear = nn.ModuleList(linear)
        self.blend = None
        if linear:
            weights = [float((blend or {}).get(t, np.nan)) for t in self.targets]
            if not all(0.0 <= w <= 1.0 for w in weights):
                raise ModelError(f"the ensemble's blend weights {dict(blend or {})} must give each target of "
                                 f"{list(self.targets)} a weight in [0, 1]: retrain it")
            self.blend = np.asarray(weights)

    def combine(self, nets: np.ndarray, linear: np.ndarray | None) -> np.ndarray:
        """The members' probability ``[n, targets]``: the networks' mean ``nets``, blended with the linear
        members' mean ``linear`` where the ensemble has them."""
        return nets if self.blend is None else self.blend * nets + (1.0 - self.blend) * linear

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """Calibrated probabilities ``[n, targets]`` (float32) from the members' mean ``[n, targets]``."""
        return calibrate(probs, [self.calibration[t] for t in self.targets], self.chains).astype(np.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ModelError("an Ensemble averages probabilities, not logits: call flarecast.model.inference.predict")
