"""Calibration maps and decision thresholds fitted on pooled out-of-fold (OOF) predictions.

Calibration (``train.cv.calibration``): ``isotonic`` (scikit-learn ``IsotonicRegression``, monotone, clipped to
[0, 1]), ``platt`` (a logistic regression on logit p) or ``none``; ``auto`` picks the one with the lowest
*cross-fitted* OOF Brier score: each fold's OOF predictions are mapped by a calibration fitted on the other
folds' only, so the flexible isotonic map cannot win by memorising the data it is scored on.

Thresholds (``train.cv.threshold``) are chosen on the pooled, calibrated OOF predictions, that is on every event
of the training period rather than one validation block's, by the rule's
:meth:`~flarecast.metrics.thresholds.ThresholdRule.choose` (its ``rare`` grid, floor 0.0001).

Blend weights (``train.cv.blend: logistic``): the networks' weight ``w`` of ``w x networks + (1 - w) x logistic``
is the one of :data:`flarecast.model.linear.BLEND_GRID` with the lowest OOF Brier score (ties go to the larger
weight: the networks alone unless the logistic members help).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from flarecast import metrics
from flarecast.errors import ConfigError
from flarecast.model.ensemble import apply_calibration
from flarecast.model.linear import BLEND_GRID

METHODS = ("isotonic", "platt", "none")
_EPS = 1e-6


def fit_calibration(y: np.ndarray, p: np.ndarray, method: str) -> dict[str, Any]:
    """One target's calibration map fitted on labels ``y`` and probabilities ``p`` (the card's JSON form)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if method == "none" or y.size == 0 or y.min() == y.max():
        return {"method": "none"}  # with one class there is nothing to map to
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    if method == "platt":
        q = np.clip(p, _EPS, 1 - _EPS)
        # A large C: Platt scaling is a fit of two numbers, not a regularised model.
        lr = LogisticRegression(C=1e6).fit(np.log(q / (1 - q))[:, None], y)
        return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    raise ConfigError(f"train.cv.calibration = {method!r}: expected one of ['auto', 'isotonic', 'platt', 'none']")


def cross_fit(y: np.ndarray, p: np.ndarray, fold: np.ndarray, method: str) -> np.ndarray:
    """Each fold's probabilities mapped by ``method`` fitted on the other folds only."""
    out = np.empty(p.size, dtype=np.float64)
    for f in np.unique(fold):
        mine = fold == f
        out[mine] = apply_calibration(p[mine], fit_calibration(y[~mine], p[~mine], method))
    return out


def choose_calibration(y: np.ndarray, p: np.ndarray, fold: np.ndarray, choice: str) -> tuple[dict, dict, np.ndarray]:
    """The calibration map of ``choice`` (``auto``: the lowest cross-fitted Brier score) fitted on all of ``y, p``.

    Returns the map, the cross-fitted Brier score of each method tried, and the chosen method's cross-fitted
    probabilities (honest OOF forecasts: no window's map saw that window's fold).
    """
    tried = METHODS if choice == "auto" else (choice,)
    crossed = {m: cross_fit(y, p, fold, m) for m in tried}
    brier = {m: float(np.mean((crossed[m] - y) ** 2)) for m in tried}
    best = min(tried, key=lambda m: (brier[m], METHODS.index(m)))
    return fit_calibration(y, p, best), brier, crossed[best]


def choose_blend(y: np.ndarray, p_net: np.ndarray, p_linear: np.ndarray) -> float:
    """The networks' weight (one of :data:`~flarecast.model.linear.BLEND_GRID`) of the blend with the lowest
    Brier score on ``y``; among equal scores, the larger weight.

    >>> choose_blend(np.array([0, 1]), np.array([0.5, 0.5]), np.array([0.0, 1.0]))
    0.0
    >>> choose_blend(np.array([0, 1]), np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    1.0
    """
    briers = [metrics.brier_score(y, w * p_net + (1 - w) * p_linear) for w in BLEND_GRID]
    return float(max(BLEND_GRID, key=lambda w: (-briers[BLEND_GRID.index(w)], w)))
