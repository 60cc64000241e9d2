"""Skill period by period: every method's scores per calendar year of issue time, with bootstrap intervals.

Solar activity is not stationary: the base rate of >= M windows differs several-fold between years, and one
pooled score can hide a model that works in the active years only. ``by_period`` scores each year on its own
windows, with the thresholds the evaluation uses everywhere (chosen on validation, never per year), and
resamples the year's own bootstrap groups (UTC days for full-disk windows, regions for SHARP windows), so a
year's interval describes that year alone. A window belongs to the year of its issue time (UTC).

Folds (``--by fold``) are refused: per-fold, out-of-fold scores of a cross-validated ensemble come from
``flarecast cv`` (issue 12, part A), which trained the folds.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flarecast.errors import ConfigError
from flarecast.evaluate.bootstrap import score_with_ci
from flarecast.metrics import UndefinedScoreWarning

if TYPE_CHECKING:
    from flarecast.metrics.forecasts import Forecasts

PERIODS = ("year",)
"""Values of ``by``: how :func:`by_period` cuts the evaluated windows."""


def check_by(by: str | None) -> None:
    """Refuse a ``by`` that :func:`by_period` cannot cut by, before any work is done."""
    if by is None or by in PERIODS:
        return
    if by == "fold":
        raise ConfigError("--by fold is not available in evaluate: the cross-validation folds' out-of-fold "
                          "scores come from `flarecast cv`; use --by year here")
    raise ConfigError(f"--by {by!r}: expected one of {list(PERIODS)}")


def period_of(issue_time: np.ndarray, by: str = "year") -> np.ndarray:
    """The period label of each issue time: ``"2013"`` for any time in 2013 (UTC)."""
    check_by(by)
    return pd.DatetimeIndex(issue_time).year.astype(str).to_numpy()


def by_period(fc: Forecasts, by: str = "year", *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """``{period: {"from", "to", "n_windows", "groups", "targets": {T: {method: entry}}}}``, periods in order.

    Each ``entry`` is :func:`flarecast.evaluate.bootstrap.score_with_ci` on the period's windows. A period
    whose windows fall in fewer than two bootstrap groups cannot be resampled: it gets ``targets: {}`` and a
    ``note`` instead of scores.
    """
    labels = period_of(fc.issue_time, by)
    out: dict[str, Any] = {}
    for period in np.unique(labels).tolist():
        sel = labels == period
        groups = fc.group[sel]
        n_groups = int(np.unique(groups).size)
        entry: dict[str, Any] = {"from": str(pd.Timestamp(fc.issue_time[sel].min())),
                                 "to": str(pd.Timestamp(fc.issue_time[sel].max())), "n_windows": int(sel.sum()),
                                 "groups": n_groups, "targets": {}}
        if n_groups < 2:
            entry["note"] = (f"the {by}'s windows fall in {n_groups} {fc.group_unit}: an interval needs at least 2, "
                             "so the period is not scored")
            out[period] = entry
            continue
        with warnings.catch_warnings():  # undefined scores (a year without X flares) are reported as null
            warnings.simplefilter("ignore", UndefinedScoreWarning)
            for j, target in enumerate(fc.targets):
                entry["targets"][target] = {
                    m: score_with_ci(fc.y[sel, j], fc.prob(m, target)[sel], groups,
                                     threshold=fc.thresholds[m][target], climatology=fc.climatology[target],
                                     n_boot=n_boot, seed=seed)
                    for m in fc.methods
                }
        out[period] = entry
    return out
