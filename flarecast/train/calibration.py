"""Calibration maps and decision thresholds fitted on pooled out-of-fold (OOF) predictions.

Calibration (``train.cv.calibration``): ``isotonic`` (scikit-learn ``IsotonicRegression``, monotone, clipped to
[0, 1]), ``platt`` (a logistic regression on logit p) or ``none``; ``auto`` picks the one with the lowest
*cross-fitted* OOF Brier score: each fold's OOF predictions are mapped by a calibration fitted on the other
folds' only, so the flexible isotonic map cannot win by memorising the data it is scored on.

``isotonic`` with ``min_step`` > 1 (``train.cv.min_step``, 20 by default for ensembles) pools adjacent
violators over blocks of at least that many windows, so no step of the map rests on fewer windows: a handful of
lucky windows cannot make a step, and the top step is the event rate of the top ``min_step`` windows or more
rather than of whatever few windows lie highest.

Nested targets (an ordinal head, ``model.head: cumulative`` or ``chain``) are calibrated along each forecast
day's chain (:func:`choose_chain_calibration`): P(>=C) by its own map, then P(>=M | >=C) = P(>=M) / P(>=C) by a
map fitted on the windows with a C-class flare or larger only, then P(X | >=M) likewise, and the calibrated
probabilities are the products (:func:`flarecast.model.ensemble.chain_calibration`): every map gives a number in
[0, 1], so P(X) <= P(>=M) <= P(>=C) holds after calibration as before it.

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
from flarecast.model.ensemble import apply_calibration, chain_product, conditional
from flarecast.model.linear import BLEND_GRID

METHODS = ("isotonic", "platt", "none")
_EPS = 1e-6


def fit_calibration(y: np.ndarray, p: np.ndarray, method: str, min_step: int = 1) -> dict[str, Any]:
    """One target's calibration map fitted on labels ``y`` and probabilities ``p`` (the card's JSON form);
    ``min_step``: the fewest windows under one step of an isotonic map."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if method == "none" or y.size == 0 or y.min() == y.max():
        return {"method": "none"}  # with one class there is nothing to map to
    if method == "isotonic" and min_step > 1:
        x, v = isotonic_steps(p, y, min_step)
        return {"method": "isotonic", "x": x.tolist(), "y": v.tolist()}
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    if method == "platt":
        q = np.clip(p, _EPS, 1 - _EPS)
        # A large C: Platt scaling is a fit of two numbers, not a regularised model.
        lr = LogisticRegression(C=1e6).fit(np.log(q / (1 - q))[:, None], y)
        return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    raise ConfigError(f"train.cv.calibration = {method!r}: expected one of ['auto', 'isotonic', 'platt', 'none']")


def isotonic_steps(p: np.ndarray, y: np.ndarray, min_step: int) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``x``, ``y`` of a non-decreasing step map whose every step holds at least ``min_step`` windows:
    the sorted windows cut into blocks of ``min_step`` (equal ``p`` never split, the last block joined to the
    one before when short), then adjacent blocks pooled while their event rates decrease (pool adjacent
    violators, weighted by window counts). Each step gives two knots, its lowest and highest ``p``.

    >>> x, v = isotonic_steps(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 1.0]), 2)
    >>> x.tolist(), v.tolist()
    ([0.1, 0.4], [0.5, 0.5])
    """
    order = np.argsort(p, kind="stable")
    p, y = p[order], y[order]
    n = p.size
    cuts = [0]
    while cuts[-1] + min_step < n:
        c = cuts[-1] + min_step
        while c < n and p[c] == p[c - 1]:
            c += 1
        if n - c < min_step:
            break
        cuts.append(c)
    cuts.append(n)
    blocks = []  # [sum of y, count, lo index, hi index], pooled while the rates decrease
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        blocks.append([float(y[a:b].sum()), b - a, a, b - 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s2, n2, _, hi = blocks.pop()
            blocks[-1][0] += s2
            blocks[-1][1] += n2
            blocks[-1][3] = hi
    x = np.array([[p[lo], p[hi]] for _, _, lo, hi in blocks]).ravel()
    v = np.array([[s / c, s / c] for s, c, _, _ in blocks]).ravel()
    return x, v


def cross_fit(y: np.ndarray, p: np.ndarray, fold: np.ndarray, method: str, min_step: int = 1) -> np.ndarray:
    """Each fold's probabilities mapped by ``method`` fitted on the other folds only."""
    out = np.empty(p.size, dtype=np.float64)
    for f in np.unique(fold):
        mine = fold == f
        out[mine] = apply_calibration(p[mine], fit_calibration(y[~mine], p[~mine], method, min_step))
    return out


def choose_chain_calibration(y: np.ndarray, p: np.ndarray, fold: np.ndarray, chains: list[list[int]], choice: str,
                             min_step: int = 1) -> tuple[list[dict], list[dict], np.ndarray]:
    """Maps of the conditional probabilities along ``chains`` (see the module docstring), each chosen by its
    cross-fitted Brier score on the windows it is fitted on (for P(X | >=M): those with an M flare or larger).

    Returns one map per target column, the cross-fitted Brier scores per method of each, and the cross-fitted
    calibrated probabilities ``[n, targets]`` (each fold's made from maps fitted on the other folds only).
    """
    q = conditional(p, chains)
    maps: list[dict] = [{}] * p.shape[1]
    briers: list[dict] = [{}] * p.shape[1]
    crossed = np.empty_like(q)
    for chain in chains:
        given = np.ones(y.shape[0], bool)
        for j in chain:
            maps[j], briers[j], _ = choose_calibration(y[given, j], q[given, j], fold[given], choice, min_step)
            crossed[:, j] = _crossed(y[:, j], q[:, j], given, fold, maps[j]["method"], min_step)
            given = y[:, j] > 0
    return maps, briers, chain_product(crossed, chains)


def _crossed(y, q, given, fold, method: str, min_step: int) -> np.ndarray:
    """``q`` of every window mapped by ``method`` fitted on the other folds' ``given`` windows."""
    out = np.empty(q.size)
    for f in np.unique(fold):
        mine = fold == f
        fit = given & ~mine
        out[mine] = apply_calibration(q[mine], fit_calibration(y[fit], q[fit], method, min_step))
    return out


def choose_calibration(y: np.ndarray, p: np.ndarray, fold: np.ndarray, choice: str,
                       min_step: int = 1) -> tuple[dict, dict, np.ndarray]:
    """The calibration map of ``choice`` (``auto``: the lowest cross-fitted Brier score) fitted on all of ``y, p``.

    Returns the map, the cross-fitted Brier score of each method tried, and the chosen method's cross-fitted
    probabilities (honest OOF forecasts: no window's map saw that window's fold).
    """
    tried = METHODS if choice == "auto" else (choice,)
    crossed = {m: cross_fit(y, p, fold, m, min_step) for m in tried}
    brier = {m: float(np.mean((crossed[m] - y) ** 2)) if y.size else float("nan") for m in tried}
    best = min(tried, key=lambda m: (np.nan_to_num(brier[m], nan=np.inf), METHODS.index(m)))
    return fit_calibration(y, p, best, min_step), brier, crossed[best]


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
