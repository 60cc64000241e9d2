"""Stage 5, evaluation: scores with bootstrap intervals beside the baselines (:mod:`~flarecast.evaluate.scoring`,
:mod:`~flarecast.evaluate.bootstrap`, :mod:`~flarecast.evaluate.baselines`), per period
(:mod:`~flarecast.evaluate.periods`) and paired between methods (:mod:`~flarecast.evaluate.paired`). It only
scores: it never trains (``train``) and never renders (``report``); the studies that do both, and the writing of
an evaluation's documents, are :mod:`flarecast.studies`. Score definitions live in :mod:`flarecast.metrics`."""

from flarecast.evaluate.scoring import Forecasts, evaluate_model, evaluate_samples, score_forecasts

__all__ = ["Forecasts", "evaluate_model", "evaluate_samples", "score_forecasts"]
