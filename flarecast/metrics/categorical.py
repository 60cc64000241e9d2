"""Scores of a yes/no flare decision, from its 2x2 contingency table, and the checks every score's input passes.

A decision is ``y_prob >= threshold``; :func:`contingency` counts its hits, false alarms, misses and correct
rejections (TP, FP, FN, TN) and :func:`recall`, :func:`precision`, :func:`far`, :func:`pofd`, :func:`tss`,
:func:`hss` and :func:`accuracy` score the table; :func:`scores_from_counts` gives all of them at once from
arrays of counts (bootstrap replicates). :func:`check_forecast` and :func:`check_unit_interval` validate
labels, probabilities and thresholds for every score of :mod:`flarecast.metrics`.

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
