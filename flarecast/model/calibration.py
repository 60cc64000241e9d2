"""What turns an ensemble's member probabilities into its forecast, without torch: the blend of networks and
logistic members, then one calibration map per target (the torch :class:`~flarecast.model.ensemble.Ensemble` and
the numpy one of :mod:`flarecast.model.numpy_net` both apply this).

A calibration map is plain JSON in the card, one per target, applied without scikit-learn:
``{"method": "none"}``, ``{"method": "isotonic", "x": [...], "y": [...]}`` (piecewise linear through the
isotonic fit's knots, constant beyond them: scikit-learn's ``out_of_bounds="clip"``) or
``{"method": "platt", "a": a, "b": b}`` (``sigmoid(a * logit(p) + b)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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


def conditional(p: np.ndarray, chains: Sequence[Sequence[int]]) -> np.ndarray:
    """Raw conditional probabilities ``[n, targets]`` along each chain: the lowest class's own, then each
    class's over the one below it (0 where that is 0), clipped to [0, 1]."""
    q = np.array(p, dtype=np.float64, copy=True)
    for chain in chains:
        for lo, hi in zip(chain[:-1], chain[1:], strict=True):
            below = np.asarray(p[:, lo], dtype=np.float64)
            q[:, hi] = np.clip(np.divide(p[:, hi], below, out=np.zeros(below.size), where=below > 0), 0.0, 1.0)
    return q


def chain_product(c: np.ndarray, chains: Sequence[Sequence[int]]) -> np.ndarray:
    """Nested probabilities from conditional ones: the running product along each chain."""
    out = np.array(c, dtype=np.float64, copy=True)
    for chain in chains:
        out[:, list(chain)] = np.cumprod(c[:, list(chain)], axis=1)
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


class EnsembleHead:
    """The blend weights and calibration of an ensemble of ``targets``.

    ``calibration`` maps each target name to its calibration (``{"method": "none"}`` leaves it as is). With
    logistic members (``linear``), ``blend`` gives the networks' weight per target:
    ``blend[t] x mean(networks) + (1 - blend[t]) x mean(linear)`` before calibration. ``chains`` (the nested
    targets of an ordinal head, :func:`flarecast.classes.nested`): the maps are of the conditional probabilities
    along each chain, and the calibrated probabilities their running products, so the classes stay nested.
    """

    def __init__(self, targets: Sequence[str], calibration: Mapping[str, Calibration | Mapping[str, Any]], *,
                 linear: bool = False, blend: Mapping[str, float] | None = None,
                 chains: Sequence[Sequence[int]] = ()):
        missing = [t for t in targets if t not in calibration]
        if missing:
            raise ModelError(f"the ensemble's calibration has no map for targets {missing}: retrain it")
        self.targets = tuple(targets)
        self.chains = [list(c) for c in chains]
        self.calibration = {t: calibration_map(calibration[t]) for t in self.targets}
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

    def forecast(self, nets: np.ndarray, linear: np.ndarray | None) -> np.ndarray:
        """:meth:`combine` in float64, then :meth:`calibrate`."""
        return self.calibrate(self.combine(nets.astype(np.float64), linear))
