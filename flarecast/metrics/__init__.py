"""Skill scores of binary flare forecasts, as the flare-forecasting community reports them.

A forecast is a probability per window (``y_prob``); a decision is ``y_prob >= threshold``. Scores of a
decision come from the 2x2 contingency table (TP, FP, FN, TN): :mod:`~flarecast.metrics.categorical`, with the
input checks every score shares. Probabilistic scores (Brier skill score, ROC AUC, PR AUC, reliability) use the
probabilities themselves; they, the headline :func:`score_table` and the choice of threshold on validation data
are :mod:`~flarecast.metrics.probabilistic`; the threshold rules (one type: :class:`ThresholdRule`) are
:mod:`~flarecast.metrics.thresholds`. Where scikit-learn computes a thing, it is called. Every public name
of both modules is importable from here. Bootstrap confidence intervals by day or by region live in
:mod:`flarecast.evaluate.bootstrap`.

Undefined scores (recall with no events, precision with no positive forecasts, ...) are NaN and emit an
:class:`UndefinedScoreWarning` that names the cause; silence them with
``warnings.simplefilter("ignore", UndefinedScoreWarning)``.
"""

from flarecast.metrics.categorical import (
    CONTINGENCY_SCORES,
    Contingency,
    UndefinedScoreWarning,
    accuracy,
    check_forecast,
    check_unit_interval,
    contingency,
    far,
    hss,
    pofd,
    precision,
    recall,
    scores_from_counts,
    tss,
)
from flarecast.metrics.probabilistic import (
    DEFAULT_GRID,
    TABLE_SCORES,
    best_threshold,
    brier_score,
    bss,
    pr_auc,
    reliability,
    roc_auc,
    score_table,
    thresholds_beating,
)
from flarecast.metrics.thresholds import POOLED_OOF, VALIDATION, ThresholdRule

__all__ = [
    "CONTINGENCY_SCORES", "DEFAULT_GRID", "POOLED_OOF", "TABLE_SCORES", "VALIDATION", "Contingency", "ThresholdRule", "UndefinedScoreWarning", "accuracy",
    "best_threshold", "brier_score", "bss", "check_forecast", "check_unit_interval",
    "contingency", "far", "hss", "pofd", "pr_auc", "precision", "recall", "reliability", "roc_auc",
    "score_table", "scores_from_counts", "thresholds_beating", "tss",
]
