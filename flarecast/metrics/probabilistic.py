"""Scores of the forecast probabilities themselves, the headline table of a forecast, and threshold choice.

:func:`brier_score` and :func:`bss` (against climatology), :func:`roc_auc` and :func:`pr_auc` (calling
scikit-learn) and :func:`reliability` (diagram points) score ``y_prob`` without a threshold;
:func:`score_table` gives every headline score at one threshold (the contingency-table scores of
:mod:`flarecast.metrics.categorical` beside these); :func:`best_threshold` picks
the threshold maximising a score on a grid (the rules that use it: :mod:`flarecast.metrics.thresholds`).
"""

from __future__ import annotations

import numpy as np

from flarecast.metrics.categorical import (
    CONTINGENCY_SCORES,
    _score,
    _warn_undefined,
    check_forecast,
    check_unit_interval,
    contingency,
    scores_from_counts,
)

TABLE_SCORES = ("recall", "precision", "far", "pofd", "tss", "hss", "bss", "roc_auc", "pr_auc")
"""Scores that :func:`score_table` reports, in its order."""

DEFAULT_GRID = np.round(np.arange(1, 100) / 100, 2)
"""Thresholds :func:`best_threshold` tries by default: 0.01, 0.02, ..., 0.99."""


def brier_score(y_true, y_prob) -> float:
    """Mean squared error of the probabilities, via ``sklearn.metrics.brier_score_loss``; lower is better.

    Examples
    --------
    >>> brier_score([1, 0], [0.8, 0.4])
    0.1
    """
    y_true, y_prob = check_forecast(y_true, y_prob)
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(y_true, y_prob, pos_label=1))


def bss(y_true, y_prob, *, climatology: float) -> float:
    """Brier skill score 1 - BS / BS_clim against a constant forecast of ``climatology``.

    Parameters
    ----------
    y_true, y_prob : array-like of shape (n_windows,)
        Observed labels (0 or 1) and forecast probabilities in [0, 1].
    climatology : float, keyword-only
        Event rate of the *training* split, in [0, 1]. Using the test split's own rate would give the
        reference forecast knowledge of the answer.

    Returns
    -------
    float
        1 for a perfect forecast, 0 for climatology itself, negative when worse. NaN (with a warning)
        when climatology is itself perfect on ``y_true``.

    Examples
    --------
    >>> round(bss([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.1], climatology=0.25), 4)
    0.9067
    """
    climatology = check_unit_interval("climatology", climatology)
    y_true, y_prob = check_forecast(y_true, y_prob)
    # Both scores through the same function, so that BSS of climatology itself is exactly 0.
    bs_clim = brier_score(y_true, np.full(y_true.shape, climatology))
    if bs_clim == 0.0:
        _warn_undefined("bss", f"climatology={climatology} forecasts y_true perfectly (BS_clim = 0)")
        return float("nan")
    return 1.0 - brier_score(y_true, y_prob) / bs_clim


def _single_class(name: str, y_true: np.ndarray) -> bool:
    if y_true.min() == y_true.max():
        present = "events" if y_true[0] == 1 else "non-events"
        _warn_undefined(name, f"y_true holds only {present}; both classes are needed")
        return True
    return False


def roc_auc(y_true, y_prob) -> float:
    """Area under the ROC curve, via ``sklearn.metrics.roc_auc_score``; NaN if a class is absent.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y_true, y_prob = check_forecast(y_true, y_prob)
    if _single_class("roc_auc", y_true):
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, y_prob))


def pr_auc(y_true, y_prob) -> float:
    """Area under the precision-recall curve as average precision (``average_precision_score``).

    NaN when a class is absent: with no events recall is undefined, with no non-events every forecast
    scores 1, which says nothing about skill.

    Examples
    --------
    >>> round(pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y_true, y_prob = check_forecast(y_true, y_prob)
    if _single_class("pr_auc", y_true):
        return float("nan")
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y_true, y_prob, pos_label=1))


def reliability(y_true, y_prob, *, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Reliability-diagram points: mean forecast and observed event rate per probability bin.

    Bins split [0, 1] into ``n_bins`` equal intervals, closed on the right (``sklearn``'s ``uniform``
    strategy); empty bins are left out, so the three arrays have one entry per non-empty bin.

    Returns
    -------
    dict
        ``prob_pred`` (mean probability in the bin), ``prob_true`` (event rate in the bin) and
        ``count`` (windows in the bin, for the histogram under the diagram and for judging noise).

    Examples
    --------
    >>> r = reliability([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> r["prob_true"].tolist(), r["count"].tolist()
    ([0.0, 1.0], [2, 2])
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins={n_bins!r}: expected an integer >= 1")
    y_true, y_prob = check_forecast(y_true, y_prob)
    from sklearn.calibration import calibration_curve

    prob_true, prob_pred = calibration_curve(
        y_true, y_prob, n_bins=int(n_bins), strategy="uniform", pos_label=1
    )
    # calibration_curve does not return counts; bin exactly as it does (edges belong to the lower bin).
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    count = np.bincount(np.searchsorted(edges[1:-1], y_prob), minlength=int(n_bins))
    return {"prob_pred": prob_pred, "prob_true": prob_true, "count": count[count > 0]}


def score_table(y_true, y_prob, *, threshold: float, climatology: float) -> dict:
    """Every headline score of a forecast at one decision threshold.

    Parameters
    ----------
    y_true, y_prob : array-like of shape (n_windows,)
        Observed labels (0 or 1) and forecast probabilities in [0, 1].
    threshold : float, keyword-only
        An event is forecast where ``y_prob >= threshold``.
    climatology : float, keyword-only
        Training-split event rate, the reference of the Brier skill score (see :func:`bss`).

    Returns
    -------
    dict
        ``threshold``, ``n``, ``positives`` (observed events), ``tp``, ``fp``, ``fn``, ``tn`` and the
        floats of :data:`TABLE_SCORES`.

    Examples
    --------
    >>> t = score_table([1, 1, 0, 0, 0], [0.9, 0.3, 0.6, 0.2, 0.1], threshold=0.5, climatology=0.4)
    >>> t["tp"], t["fp"], t["recall"], t["far"]
    (1, 1, 0.5, 0.5)
    """
    threshold = check_unit_interval("threshold", threshold)
    climatology = check_unit_interval("climatology", climatology)
    y_true, y_prob = check_forecast(y_true, y_prob)
    c = contingency(y_true, (y_prob >= threshold).astype(np.int8))
    table = {"threshold": threshold, "n": c.n, "positives": c.tp + c.fn}
    table.update(tp=c.tp, fp=c.fp, fn=c.fn, tn=c.tn)
    table.update({name: _score(c, name) for name in ("recall", "precision", "far", "pofd", "tss", "hss")})
    table["bss"] = bss(y_true, y_prob, climatology=climatology)
    table["roc_auc"] = roc_auc(y_true, y_prob)
    table["pr_auc"] = pr_auc(y_true, y_prob)
    return table


def best_threshold(y_true, y_prob, *, score: str = "hss", grid=None) -> float:
    """The threshold on ``grid`` that maximises HSS or TSS: choose it on validation data, never on test.

    Parameters
    ----------
    y_true, y_prob : array-like of shape (n_windows,)
        Validation labels and probabilities.
    score : {"hss", "tss"}, keyword-only
        Score to maximise.
    grid : array-like of float in [0, 1], optional
        Candidate thresholds. The default, :data:`DEFAULT_GRID` (0.01, 0.02, ..., 0.99), gives round
        thresholds for the model card and does not chase single validation probabilities, which a grid
        of every distinct probability would.

    Returns
    -------
    float
        The best threshold; among equal scores, the smallest.

    Examples
    --------
    >>> best_threshold([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8])
    0.31
    """
    if score not in ("hss", "tss"):
        raise ValueError(f"score={score!r}: expected one of ['hss', 'tss']")
    y_true, y_prob = check_forecast(y_true, y_prob)
    grid = _check_grid(grid)
    if y_true.min() == y_true.max():
        raise ValueError(
            "y_true holds a single class: a threshold can only be chosen on data with both classes"
        )
    grid, values = _grid_scores(y_true, y_prob, grid)  # grid sorted: the first maximum is the smallest threshold
    return float(grid[np.nanargmax(values[score])])


def thresholds_beating(y_true, y_prob, reference, *, scores=("tss", "hss"), grid=None) -> np.ndarray:
    """The thresholds on ``grid`` at which the decision ``y_prob >= t`` beats a reference yes/no forecast on
    every one of ``scores`` (strictly higher), on the same windows.

    A hindsight description, not a rule: it says where a forecast dominates the reference (persistence, say) on
    data already seen, and so how far a threshold chosen elsewhere may land from that range. It chooses nothing.

    Parameters
    ----------
    y_true, y_prob : array-like of shape (n_windows,)
        Labels and probabilities.
    reference : array-like of shape (n_windows,)
        The reference's decisions (0/1, or probabilities decided at 0.5).
    scores : sequence of {"recall", "precision", "far", "pofd", "tss", "hss", "accuracy"}, keyword-only
        Every score the forecast must beat the reference on (for ``far`` and ``pofd``, lower is better).
    grid : array-like of float in [0, 1], optional
        Candidate thresholds; default :data:`DEFAULT_GRID`.

    Returns
    -------
    numpy.ndarray
        The thresholds, ascending; empty where none beats the reference.

    Examples
    --------
    >>> y = [1, 1, 0, 0, 0, 0]
    >>> thresholds_beating(y, [0.9, 0.6, 0.5, 0.2, 0.1, 0.1], [1, 0, 0, 0, 0, 0], grid=[0.3, 0.55, 0.7])
    array([0.3 , 0.55])
    """
    y_true, y_prob = check_forecast(y_true, y_prob)
    _, reference = check_forecast(y_true, reference)
    unknown = sorted(set(scores) - set(CONTINGENCY_SCORES))
    if unknown or not scores:
        raise ValueError(f"scores={list(scores)!r}: expected some of {list(CONTINGENCY_SCORES)}")
    grid, values = _grid_scores(y_true, y_prob, _check_grid(grid))
    _, ref = _grid_scores(y_true, reference, np.array([0.5]))
    ok = np.ones(grid.size, bool)
    with np.errstate(invalid="ignore"):
        for s in scores:
            ok &= values[s] < ref[s][0] if s in ("far", "pofd") else values[s] > ref[s][0]
    return grid[ok]


def _check_grid(grid) -> np.ndarray:
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not ((grid >= 0.0) & (grid <= 1.0)).all():
        raise ValueError(f"grid={grid!r}: expected a non-empty 1-D array of thresholds in [0, 1]")
    return grid


def _grid_scores(y_true: np.ndarray, y_prob: np.ndarray, grid) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every contingency score of ``y_prob >= t`` for each t of the sorted, de-duplicated ``grid`` at once."""
    grid = np.unique(np.asarray(grid, dtype=np.float64))
    pos = np.sort(y_prob[y_true == 1])
    neg = np.sort(y_prob[y_true == 0])
    tp = pos.size - np.searchsorted(pos, grid, side="left")
    fp = neg.size - np.searchsorted(neg, grid, side="left")
    return grid, scores_from_counts(tp, fp, pos.size - tp, neg.size - fp)

