"""Stage 5, evaluation: scores with bootstrap intervals beside the baselines (:mod:`~flarecast.evaluate.scoring`,
:mod:`~flarecast.evaluate.bootstrap`, :mod:`~flarecast.evaluate.baselines`), and the focal-vs-CE study
(:mod:`~flarecast.evaluate.comparison`, its scores over seeds :mod:`~flarecast.evaluate.comparison_summary`).
Score definitions live in :mod:`flarecast.metrics`."""

from flarecast.evaluate.scoring import Forecasts, evaluate, evaluate_model, evaluate_samples, score_forecasts

__all__ = ["Forecasts", "evaluate", "evaluate_model", "evaluate_samples", "score_forecasts"]
