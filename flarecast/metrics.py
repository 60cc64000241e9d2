"""Skill scores of binary flare forecasts, as the flare-forecasting community reports them.

A forecast is a probability per window (``y_prob``); a decision is ``y_prob >= threshold``. Scores of a
decision come from the 2x2 contingency table (TP, FP, FN, TN); probabilistic scores (Brier skill score,
ROC AUC, PR AUC, reliability) use the probabilities themselves. Where scikit-learn computes a thing, it is
called. Bootstrap confidence intervals by day or by region live in :mod:`flarecast.bootstrap`.

Undefined scores (recall with no events, precision with no positive forecasts, ...) are NaN and emit an
:class:`UndefinedScoreWarning` that names the cause; silence them with
``warnings.simplefilter("ignore", UndefinedScoreWarning)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np

CONTINGENCY_SCORES = ("recall", "precision", "far", "pofd", "tss", "hss", "accuracy")
"""Scores computed from a :class:`Contingency` alone."""

TABLE_SCORES = ("recall", "precision", "far", "pofd", "tss", "hss", "bss", "roc_auc", "pr_auc")
"""Scores that :func:`score_table` reports, in its order."""

DEFAULT_GRID = np.round(np.arange(1, 100) / 100, 2)
"""Thresholds :func:`best_threshold` tries by default: 0.01, 0.02, ..., 0.99."""

_UNDEFINED_BECAUSE = {
    "recall": "no observed events (TP + FN = 0)",
    "precision": "no forecast events (TP + FP = 0)",
    "far": "no forecast events (TP + FP = 0)",
    "pofd": "no observed non-events (FP + TN = 0)",
    "tss": "y_true holds a single class (TP + FN = 0 or FP + TN = 0)",
    "hss": "every window is in one cell of the table (all TP or all TN), so no skill can be shown",
    "accuracy": "the table is empty",
}


class UndefinedScoreWarning(UserWarning):
    """A score is undefined on the data given (a zero denominator) and was returned as NaN."""


def _warn_undefined(name: str, because: str) -> None:
    warnings.warn(
        f"{name} is undefined: {because}; returning NaN. "
        "Silence with warnings.simplefilter('ignore', flarecast.metrics.UndefinedScoreWarning).",
        UndefinedScoreWarning,
        stacklevel=3,
    )


@dataclass(frozen=True)
class Contingency:
    """The 2x2 table of a binary decision: hits, false alarms, misses, correct rejections."""

    tp: int
    fp: int
    fn: int
    tn: int

    def __post_init__(self):
        for name in ("tp", "fp", "fn", "tn"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"Contingency {name}={value!r}: expected a non-negative integer")
            object.__setattr__(self, name, int(value))

    @property
    def n(self) -> int:
        """Number of windows in the table."""
        return self.tp + self.fp + self.fn + self.tn


def check_unit_interval(name: str, value) -> float:
    """Return ``value`` as a float if it is a number in [0, 1], else raise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name}={value!r}: expected a number in [0, 1]")
    return float(value)


def _check_labels(name: str, y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} has shape {y.shape}: expected a 1-D array, one label per window")
    if y.size == 0:
        raise ValueError(f"{name} is empty: expected at least one window")
    values = np.unique(y)
    bad = [v for v in values.tolist() if v not in (0, 1)]  # True/False and 0.0/1.0 are accepted
    if bad:
        raise ValueError(f"{name} holds labels {bad[:5]}: expected only 0 and 1 (1 = event)")
    return y.astype(np.int8)


def check_forecast(y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and probabilities of one forecast; return them as int8 and float64 arrays.

    Raises ``ValueError`` naming the offending value: arrays not 1-D or of different lengths, labels other
    than 0/1, probabilities outside [0, 1] or NaN.
    """
    y_true = _check_labels("y_true", y_true)
    try:
        y_prob = np.asarray(y_prob, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"y_prob cannot be read as numbers ({err}): expected probabilities") from None
    if y_prob.ndim != 1:
        raise ValueError(f"y_prob has shape {y_prob.shape}: expected a 1-D array, one probability per window")
    if y_prob.shape != y_true.shape:
        raise ValueError(
            f"y_true has {y_true.size} windows and y_prob has {y_prob.size}: expected one probability per window"
        )
    outside = ~((y_prob >= 0.0) & (y_prob <= 1.0))  # written so that NaN counts as outside
    if outside.any():
        raise ValueError(
            f"y_prob holds {int(outside.sum())} values outside [0, 1], e.g. {y_prob[outside][:3].tolist()}: "
            "expected probabilities (apply a sigmoid to logits)"
        )
    return y_true, y_prob


def contingency(y_true, y_pred) -> Contingency:
    """Count hits, false alarms, misses and correct rejections of a 0/1 decision.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_windows,)
        Observed and forecast labels, 0 or 1 (1 = event).

    Returns
    -------
    Contingency

    Examples
    --------
    >>> contingency([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
    Contingency(tp=1, fp=1, fn=1, tn=2)
    """
    y_true = _check_labels("y_true", y_true)
    y_pred = _check_labels("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has {y_true.size} windows and y_pred has {y_pred.size}: expected equal lengths"
        )
    # labels=[0, 1] keeps the table 2x2 when a class is absent from both arrays.
    from sklearn.metrics import (
        confusion_matrix,  # scikit-learn loads where a score is computed, not on import
    )

    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    return Contingency(tp=int(tp), fp=int(fp), fn=int(fn), tn=int(tn))


def _ratio(num, den) -> np.ndarray:
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def scores_from_counts(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    """Every score of :data:`CONTINGENCY_SCORES` from (arrays of) counts, NaN where undefined, silently.

    Vectorised over any shape of counts, so bootstrap replicates are scored in one call. Counts may be
    non-integer (weighted) sums. The scalar functions (:func:`recall`, ...) wrap this and warn on NaN.

    Examples
    --------
    >>> scores_from_counts(20, 10, 5, 65)["hss"]
    array(0.625)
    """
    # float64 before multiplying: TP*TN overflows nothing and stays exact below 2**53.
    tp, fp, fn, tn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn, tn))
    pod = _ratio(tp, tp + fn)
    pofd_ = _ratio(fp, fp + tn)
    return {
        "recall": pod,
        "precision": _ratio(tp, tp + fp),
        "far": _ratio(fp, tp + fp),
        "pofd": pofd_,
        "tss": pod - pofd_,
        "hss": _ratio(2.0 * (tp * tn - fn * fp), (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)),
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
    }


def _score(c: Contingency, name: str) -> float:
    if not isinstance(c, Contingency):
        raise TypeError(
            f"{name} expects a Contingency (see flarecast.metrics.contingency), got {type(c).__name__}"
        )
    value = float(scores_from_counts(c.tp, c.fp, c.fn, c.tn)[name])
    if np.isnan(value):
        _warn_undefined(name, _UNDEFINED_BECAUSE[name])
    return value


def _contingency_score(name: str, summary: str, value: str):
    """One score of a :class:`Contingency` (see :data:`CONTINGENCY_SCORES`), NaN with a warning when undefined."""

    def score(c: Contingency) -> float:
        return _score(c, name)

    score.__name__ = score.__qualname__ = name
    score.__doc__ = (f"{summary}\n\n    Examples\n    --------\n"
                     f"    >>> round({name}(Contingency(tp=20, fp=10, fn=5, tn=65)), 4)\n    {value}\n")
    return score


recall = _contingency_score("recall", "Probability of detection, TP / (TP + FN): the fraction of events forecast.",
                            "0.8")
precision = _contingency_score("precision", "TP / (TP + FP): the fraction of event forecasts that verified; "
                               "1 - :func:`far`.", "0.6667")
far = _contingency_score("far", "False-alarm *ratio* FP / (TP + FP), not the false-alarm rate (that is "
                         ":func:`pofd`).", "0.3333")
pofd = _contingency_score("pofd", "Probability of false detection FP / (FP + TN), the false-alarm rate.", "0.1333")
tss = _contingency_score("tss", "True skill statistic POD - POFD; insensitive to the event rate, hence the field's "
                         "headline score.", "0.6667")
hss = _contingency_score("hss", "Heidke skill score 2(TP*TN - FN*FP) / [(TP+FN)(FN+TN) + (TP+FP)(FP+TN)]: 1 is a "
                         "perfect forecast, 0 no better than chance (any constant forecast scores 0).", "0.625")
accuracy = _contingency_score("accuracy", "(TP + TN) / N. Misleading for rare events (always forecasting \"no "
                              "flare\" scores high); prefer TSS.", "0.85")


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
    y_true : array-like of shape (n_windows,)
        Observed labels, 0 or 1.
    y_prob : array-like of shape (n_windows,)
        Forecast probabilities in [0, 1].
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
    y_true : array-like of shape (n_windows,)
        Observed labels, 0 or 1.
    y_prob : array-like of shape (n_windows,)
        Forecast probabilities in [0, 1].
    threshold : float, keyword-only
        An event is forecast where ``y_prob >= threshold``.
    climatology : float, keyword-only
        Training-split event rate, the reference of the Brier skill score.

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
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not ((grid >= 0.0) & (grid <= 1.0)).all():
        raise ValueError(f"grid={grid!r}: expected a non-empty 1-D array of thresholds in [0, 1]")
    if y_true.min() == y_true.max():
        raise ValueError(
            "y_true holds a single class: a threshold can only be chosen on data with both classes"
        )
    grid = np.unique(grid)  # sorted, so the first maximum below is the smallest threshold
    pos = np.sort(y_prob[y_true == 1])
    neg = np.sort(y_prob[y_true == 0])
    # Windows with y_prob >= t are forecast events: count them for every t at once.
    tp = pos.size - np.searchsorted(pos, grid, side="left")
    fp = neg.size - np.searchsorted(neg, grid, side="left")
    values = scores_from_counts(tp, fp, pos.size - tp, neg.size - fp)[score]
    return float(grid[np.nanargmax(values)])

def choose_threshold(y_val: np.ndarray, p_val: np.ndarray, score: str) -> float:
    """Threshold maximising ``score`` on validation; 0.5 when validation holds one class only (then no
    threshold can be chosen, and the card's metrics say so)."""
    if y_val.size == 0 or y_val.min() == y_val.max():
        return 0.5
    return float(best_threshold(y_val, p_val, score=score))
