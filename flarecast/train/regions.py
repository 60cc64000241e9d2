"""Fitting the region model: each method's out-of-fold forecasts over groups (years, or blocks of regions), the
method with the lowest out-of-fold Brier score per target, refitted on every training report."""

from __future__ import annotations

import numpy as np

from flarecast.errors import SampleError
from flarecast.metrics import brier_score
from flarecast.model.regions import METHODS, RegionModel, region_estimator


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, method: str) -> np.ndarray:
    """Forecast of each report from a fit on the other groups (the training rate where those hold one class)."""
    out = np.empty(len(y))
    for g in np.unique(groups):
        test = groups == g
        yt = y[~test]
        if yt.size == 0 or yt.min() == yt.max():
            out[test] = yt.mean() if yt.size else np.nan
        else:
            out[test] = region_estimator(method).fit(x[~test], yt).predict_proba(x[test])[:, 1]
    return out


def fit_region_model(x: np.ndarray, labels: dict[str, np.ndarray], groups: np.ndarray, features, *,
                     methods=METHODS) -> tuple[RegionModel, dict[str, np.ndarray]]:
    """Choose per target the method of lowest out-of-fold Brier score over ``groups`` and refit it on all.

    Returns the model and, per target, the chosen method's out-of-fold forecasts (for stacking the full-disk
    combination without letting it see forecasts of reports the region model was fitted on).

    Raises
    ------
    SampleError
        With fewer than two groups: out-of-fold scores need a group to hold out.
    """
    if np.unique(groups).size < 2:
        raise SampleError(f"the region model's training reports span {np.unique(groups).size} group(s): "
                          "out-of-fold choice needs two or more (years, or blocks of regions)")
    models, chosen, rates, briers, oof = {}, {}, {}, {}, {}
    for target, y in labels.items():
        y = np.asarray(y, dtype=int)
        rates[target] = float(y.mean())
        preds = {m: out_of_fold(x, y, groups, m) for m in methods}
        briers[target] = {m: brier_score(y, p) for m, p in preds.items()}
        best = min(briers[target], key=briers[target].get)
        chosen[target], oof[target] = best, preds[best]
        models[target] = None if y.min() == y.max() else region_estimator(best).fit(x, y)
    return RegionModel(tuple(features), models, chosen, rates, briers), oof
