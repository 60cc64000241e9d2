"""Bootstrap confidence intervals of skill scores, resampling whole groups (days, regions) of windows.

Consecutive windows are near copies and the windows of one active region share its fate, so windows are
not independent draws: resampling single windows gives intervals that are too narrow. Resampling whole
groups keeps that dependence inside each draw.

Each replicate is a weighted sum of per-group totals (how often each group was drawn times its TP, FP,
FN, TN and Brier sums), so 1000 replicates cost a few matrix products, not 1000 passes over the windows.
ROC and PR AUC follow from per-group counts of events and non-events at each distinct event
probability, by sparse products; they cost about 10x the contingency scores, so leave them out of
``metrics`` when that matters.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import sparse

from flarecast.metrics import (
    CONTINGENCY_SCORES,
    TABLE_SCORES,
    UndefinedScoreWarning,
    check_forecast,
    check_unit_interval,
    score_table,
    scores_from_counts,
)

BOOTSTRAP_METRICS = CONTINGENCY_SCORES + ("brier", "bss", "roc_auc", "pr_auc")
"""Every metric :func:`bootstrap_ci` can give an interval for."""

DEFAULT_METRICS = ("recall", "far", "pofd", "tss", "hss", "bss", "roc_auc", "precision")

N_BOOT = 1000
"""Resamples per interval unless a caller asks for another number."""

MAX_NAN_FRACTION = 0.1
"""Above this fraction of undefined replicates (e.g. resamples with no event), the interval is NaN:
dropping them would describe only the resamples that happen to hold events."""

_CELLS_PER_CHUNK = 2**22
"""Replicates x groups (or x distinct event probabilities, for AUC) at once: bounds memory to tens of MB."""


def _group_codes(groups, n: int) -> tuple[np.ndarray, int]:
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.size != n:
        raise ValueError(
            f"groups has shape {groups.shape}: expected one group label per window, shape ({n},)"
        )
    codes, uniques = pd.factorize(groups)
    if (codes < 0).any():
        raise ValueError(
            f"groups holds {int((codes < 0).sum())} missing labels (NaN/None/NaT): every window needs a group"
        )
    if uniques.size < 2:
        raise ValueError(f"groups holds {uniques.size} distinct group: resampling needs at least 2")
    return codes, int(uniques.size)


def _auc_tables(y_true, y_prob, codes, n_groups) -> tuple[sparse.csr_array, ...]:
    """Per-group counts from which any resample's ROC AUC and average precision follow by matrix products.

    Rows j are the distinct probabilities q_0 > q_1 > ... of the events; only there can the curves gain
    recall. ``pos[j, g]``: events of group g at q_j; ``neg[m, g]``: non-events of group g below q_{m-1}
    and at or above q_m (row m = len(q) holds those below every event); ``tie[j, g]``: non-events at q_j.
    """
    q = np.unique(y_prob[y_true == 1])[::-1]
    y_neg, c_neg = y_prob[y_true == 0], codes[y_true == 0]
    above = np.searchsorted(-q, -y_neg, side="left")  # events' distinct scores strictly above each non-event
    tied = (above < q.size) & (q[np.minimum(above, q.size - 1)] == y_neg)

    def counts(rows, cols, n_rows):
        return sparse.csr_array((np.ones(rows.size), (rows, cols)), shape=(n_rows, n_groups))

    pos = counts(np.searchsorted(-q, -y_prob[y_true == 1]), codes[y_true == 1], q.size)
    return pos, counts(above, c_neg, q.size + 1), counts(above[tied], c_neg[tied], q.size)


def _weighted_aucs(tables, times_drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC and average precision (as scikit-learn defines them) of each row of ``times_drawn``."""
    pos, neg, tie = tables
    d_tp = pos @ times_drawn.T  # (distinct event scores, replicates)
    fp_below = neg @ times_drawn.T
    tp = np.cumsum(d_tp, axis=0)
    fp = np.cumsum(fp_below[:-1], axis=0)  # non-events scored >= q_j
    n_pos, n_neg = tp[-1], fp_below.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Mann-Whitney: each event beats the non-events below it and half of those tied with it.
        roc = (d_tp * (n_neg - fp + 0.5 * (tie @ times_drawn.T))).sum(axis=0) / (n_pos * n_neg)
        # Where a resample holds no window at or above q_j, d_tp is 0 and the precision 0/0 must add 0.
        prec = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
        ap = (d_tp * prec).sum(axis=0) / n_pos
    undefined = (n_pos == 0) | (n_neg == 0)
    roc[undefined] = np.nan
    ap[undefined] = np.nan
    return roc, ap


def _replicates(y_true, y_prob, codes, n_groups, *, threshold, climatology, n_boot, rng, metrics):
    y = y_true.astype(bool)
    pred = y_prob >= threshold
    cells = (y & pred, ~y & pred, y & ~pred, ~y & ~pred, (y_prob - y) ** 2, (climatology - y) ** 2)
    per_group = np.stack([np.bincount(codes, weights=v, minlength=n_groups) for v in cells], axis=1)
    want_auc = bool({"roc_auc", "pr_auc"} & set(metrics)) and 0 < y.sum() < y.size
    if want_auc:
        tables = _auc_tables(y_true, y_prob, codes, n_groups)
        auc_chunk = max(1, _CELLS_PER_CHUNK // tables[1].shape[0])
    sums = np.empty((n_boot, per_group.shape[1]))
    roc = np.full(n_boot, np.nan)
    ap = np.full(n_boot, np.nan)
    # The chunk size depends on the number of groups only, so the same seed draws the same resamples
    # whichever metrics are asked for.
    chunk = max(1, _CELLS_PER_CHUNK // n_groups)
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        draws = rng.integers(0, n_groups, size=(k, n_groups))
        # times_drawn[r, g]: how often replicate r drew group g.
        times_drawn = (
            np.bincount((np.arange(k)[:, None] * n_groups + draws).ravel(), minlength=k * n_groups)
            .reshape(k, n_groups)
            .astype(np.float64)
        )
        sums[start : start + k] = times_drawn @ per_group
        if want_auc:
            for s in range(0, k, auc_chunk):
                rows = slice(start + s, start + min(s + auc_chunk, k))
                roc[rows], ap[rows] = _weighted_aucs(tables, times_drawn[s : s + auc_chunk])
    tp, fp, fn, tn, brier_sum, clim_sum = sums.T
    out = scores_from_counts(tp, fp, fn, tn)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["brier"] = brier_sum / (tp + fp + fn + tn)
        out["bss"] = np.where(clim_sum > 0, 1.0 - brier_sum / clim_sum, np.nan)
    out["roc_auc"], out["pr_auc"] = roc, ap
    return out


def _interval(name: str, values: np.ndarray, level: float) -> tuple[float, float]:
    defined = values[~np.isnan(values)]
    n_nan = values.size - defined.size
    if n_nan > MAX_NAN_FRACTION * values.size:
        warnings.warn(
            f"{name}: {n_nan} of {values.size} bootstrap replicates are undefined, more than "
            f"{MAX_NAN_FRACTION:.0%} (a zero denominator: resamples without events, or without event "
            "forecasts); returning a NaN interval.",
            UndefinedScoreWarning,
            stacklevel=3,
        )
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(defined, [50.0 * (1.0 - level), 50.0 * (1.0 + level)])
    return (float(lo), float(hi))


def bootstrap_ci(y_true, y_prob, groups, *, threshold: float, climatology: float, n_boot: int = N_BOOT,
                 level: float = 0.95, seed: int | np.random.Generator | None = 0,
                 metrics=DEFAULT_METRICS) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of skill scores, resampling whole groups of windows.

    Parameters
    ----------
    y_true, y_prob, threshold, climatology
        As for :func:`flarecast.metrics.score_table`: labels, probabilities, the decision threshold
        (keyword-only) and the training-split event rate (keyword-only, the reference of ``bss``).
    groups : array-like of shape (n_windows,)
        Group of each window: its UTC day (full-disk forecasts) or its region (SHARP). Groups are drawn
        with replacement, as many as there are, and carry all their windows.
    n_boot : int, keyword-only
        Number of replicates, :data:`N_BOOT` unless given.
    level : float, keyword-only
        Coverage of the interval, in (0, 1).
    seed : int, Generator or None, keyword-only
        Seed of ``numpy.random.default_rng``; the same seed gives the same intervals.
    metrics : sequence of str, keyword-only
        Names from :data:`BOOTSTRAP_METRICS`. All share the same resamples.

    Returns
    -------
    dict
        ``{metric: (low, high)}``. Undefined replicates are dropped; if more than
        :data:`MAX_NAN_FRACTION` of them are undefined the interval is ``(nan, nan)``, with a warning.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> day = np.repeat(np.arange(50), 20)
    >>> y = (rng.random(1000) < 0.2).astype(int)
    >>> p = np.clip(0.2 + 0.5 * (y - 0.2) + rng.normal(0, 0.2, 1000), 0, 1)
    >>> ci = bootstrap_ci(y, p, day, threshold=0.5, climatology=0.2, metrics=("recall", "tss"))
    >>> lo, hi = ci["tss"]
    >>> point = score_table(y, p, threshold=0.5, climatology=0.2)["tss"]
    >>> bool(lo < point < hi), round(hi - lo, 2)
    (True, 0.14)
    """
    level = _check_level(level)
    reps = bootstrap_replicates(y_true, y_prob, groups, threshold=threshold, climatology=climatology,
                                n_boot=n_boot, seed=seed, metrics=metrics)
    return {m: _interval(m, values, level) for m, values in reps.items()}


def bootstrap_replicates(y_true, y_prob, groups, *, threshold: float, climatology: float, n_boot: int = N_BOOT,
                         seed: int | np.random.Generator | None = 0, metrics=DEFAULT_METRICS) -> dict[str, np.ndarray]:
    """The bootstrap replicates behind :func:`bootstrap_ci`: one value per resample, NaN where undefined.

    Parameters are those of :func:`bootstrap_ci`. The resamples depend only on ``seed``, ``n_boot`` and the
    number of groups, so forecasts of the same windows scored with the same seed share their resamples: the
    replicates of several forecasts (training seeds, say) can be averaged resample by resample.

    Returns
    -------
    dict
        ``{metric: array of shape (n_boot,)}``.
    """
    a = _Checked.of(y_true, y_prob, groups, threshold=threshold, climatology=climatology, n_boot=n_boot,
                    metrics=metrics)
    return a.replicates(seed)


def replicate_interval(name: str, values, *, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap ``values`` under :func:`bootstrap_ci`'s rule for undefined replicates."""
    return _interval(name, np.asarray(values, dtype=np.float64), float(level))


def score_with_ci(y_true, y_prob, groups, *, threshold: float, climatology: float, n_boot: int = N_BOOT,
                  level: float = 0.95, seed: int | np.random.Generator | None = 0) -> dict:
    """:func:`flarecast.metrics.score_table` with a group-bootstrap interval for every score.

    Parameters are those of :func:`bootstrap_ci`; every score of :data:`flarecast.metrics.TABLE_SCORES`
    gets an interval.

    Returns
    -------
    dict
        The entry of ``metrics.json``: ``threshold``, ``n``, ``positives``, ``tp``, ``fp``, ``fn``, ``tn``,
        and for each score ``{"value": v, "ci": [low, high]}``. Undefined values are NaN floats.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = (rng.random(400) < 0.3).astype(int)
    >>> p = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.15, 400), 0, 1)
    >>> s = score_with_ci(y, p, np.repeat(np.arange(40), 10), threshold=0.5, climatology=0.3, n_boot=200)
    >>> sorted(s["hss"])
    ['ci', 'value']
    >>> s["hss"]["ci"][0] <= s["hss"]["value"] <= s["hss"]["ci"][1]
    True
    """
    return score_with_replicates(y_true, y_prob, groups, threshold=threshold, climatology=climatology,
                                 n_boot=n_boot, level=level, seed=seed)[0]


def score_with_replicates(y_true, y_prob, groups, *, threshold: float, climatology: float, n_boot: int = N_BOOT,
                          level: float = 0.95, seed: int | np.random.Generator | None = 0
                          ) -> tuple[dict, dict[str, np.ndarray]]:
    """:func:`score_with_ci`'s entry and the bootstrap replicates its intervals come from (those
    :func:`bootstrap_replicates` gives for :data:`flarecast.metrics.TABLE_SCORES` with the same arguments), from
    one set of resamples: for paired differences against another forecast resampled with the same seed."""
    level = _check_level(level)
    a = _Checked.of(y_true, y_prob, groups, threshold=threshold, climatology=climatology, n_boot=n_boot,
                    metrics=TABLE_SCORES)
    table = score_table(a.y_true, a.y_prob, threshold=a.threshold, climatology=a.climatology)
    reps = a.replicates(seed)
    out = {key: table[key] for key in ("threshold", "n", "positives", "tp", "fp", "fn", "tn")}
    out.update({m: {"value": table[m], "ci": list(_interval(m, reps[m], level))} for m in TABLE_SCORES})
    return out, reps


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, Real) or not 0.0 < level < 1.0:
        raise ValueError(f"level={level!r}: expected a number strictly between 0 and 1, such as 0.95")
    return float(level)


@dataclass(frozen=True)
class _Checked:
    """The arguments of :func:`bootstrap_replicates`, each checked once."""

    y_true: np.ndarray
    y_prob: np.ndarray
    codes: np.ndarray
    n_groups: int
    threshold: float
    climatology: float
    n_boot: int
    metrics: tuple[str, ...]

    @classmethod
    def of(cls, y_true, y_prob, groups, *, threshold, climatology, n_boot, metrics) -> _Checked:
        threshold = check_unit_interval("threshold", threshold)
        climatology = check_unit_interval("climatology", climatology)
        y_true, y_prob = check_forecast(y_true, y_prob)
        codes, n_groups = _group_codes(groups, y_true.size)
        if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 1:
            raise ValueError(f"n_boot={n_boot!r}: expected an integer >= 1")
        metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        unknown = [m for m in metrics if m not in BOOTSTRAP_METRICS]
        if unknown or not metrics:
            raise ValueError(f"metrics={list(metrics)!r}: expected names from {list(BOOTSTRAP_METRICS)}")
        return cls(y_true, y_prob, codes, n_groups, threshold, climatology, int(n_boot), metrics)

    def replicates(self, seed) -> dict[str, np.ndarray]:
        reps = _replicates(self.y_true, self.y_prob, self.codes, self.n_groups, threshold=self.threshold,
                           climatology=self.climatology, n_boot=self.n_boot, rng=np.random.default_rng(seed),
                           metrics=self.metrics)
        return {m: reps[m] for m in self.metrics}
