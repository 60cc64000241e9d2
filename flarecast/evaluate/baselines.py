"""Reference forecasts, scored beside the model on the same windows: climatology, persistence, logistic regression
and gradient-boosted trees.

- **climatology**: the event rate of the model's training split, the same probability for every window. It is
  the reference of the Brier skill score, and at threshold 0.5 it never forecasts a (rare) event.
- **persistence**: 1 where a flare of the target class or larger peaked in the previous horizon (t - horizon, t],
  the largest class seen in the horizon before issue (the region's own flares for SHARP windows), else 0. With
  forecast days (``samples.days``) every day's forecast is the same: the class seen in the ``horizon`` (24 h)
  before issue, as SWPC's own persistence; climatology is each day's training rate (the card's, per ``X@d2``).
- **logistic**: scikit-learn's ``LogisticRegression`` on simple statistics of each window (the last, mean and
  largest value of every input channel, as the model sees it), fitted on the training split, with its
  threshold chosen on the validation split by the rule that chose the model's. It sees exactly the model's
  inputs, so "the network beats it" means the network learned more than these summaries hold.
- **mcintosh**: for NOAA regions (and the full disk from them), flare rates per McIntosh class from the
  training period turned into probabilities by a Poisson law (:class:`McIntoshPoisson`), the classical
  baseline of per-region forecasting.
- **trees**: scikit-learn's ``HistGradientBoostingClassifier`` on the same statistics, fitted and thresholded
  the same way: it finds interactions and thresholds in the summaries (a high background *and* a recent M
  flare) that a linear model cannot, so it bounds what the summaries hold from above more tightly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from flarecast import classes
from flarecast.errors import SampleError
from flarecast.metrics import ThresholdRule
from flarecast.model.linear import STATISTICS, gathered_stats
from flarecast.samples.build import Samples

_CHUNK = 4096  # windows gathered at once: bounds the [chunk, channel, step] copy to a few MB


def climatology(n: int, rate: float) -> np.ndarray:
    """A constant forecast: ``rate`` (the training split's event rate) for each of ``n`` windows."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate={rate!r}: expected an event rate in [0, 1]")
    return np.full(int(n), float(rate))


def persistence(prev_flux, target: str, convention: str) -> np.ndarray:
    """1.0 where the largest flare of the previous horizon (true-basis peak flux, NaN: none) reaches ``target``.

    Examples
    --------
    >>> persistence([np.nan, 2e-6, 3e-5, 2e-4], ">=M", "true").tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    try:
        at_least = classes.target_rank(target)
    except classes.FlareClassError:
        raise ValueError(f"target={target!r}: expected one of {list(classes.TARGET_RANK)}, optionally with a "
                         "forecast day such as 'X@d2'") from None
    rank = classes.ordinal(np.asarray(prev_flux, dtype=float), convention)
    return (rank >= at_least).astype(np.float64)


def feature_names(channels) -> list[str]:
    """Names of :func:`window_features`' columns: ``"log_xrsb:last"``, ``"log_xrsb:mean"``, ..."""
    return [f"{c}:{s}" for c in channels for s in STATISTICS]


def window_features(samples: Samples, idx: np.ndarray) -> np.ndarray:
    """``[len(idx), 3 * channels]``: the last, mean and largest (normalised) value of each channel per window
    (:func:`flarecast.model.linear.window_stats`, the features of an ensemble's logistic members too)."""
    return gathered_stats(samples, idx, chunk=_CHUNK).reshape(len(idx), len(STATISTICS) * len(samples.channels))


TABULAR = ("logistic", "trees")
"""The baselines fitted on :func:`window_features`, in report order."""


def estimator(method: str):
    """An unfitted scikit-learn classifier for ``method`` (one of :data:`TABULAR`); fixed settings, no search.

    No class weights for either: the probabilities stay calibrated, and the threshold does the rebalancing.
    The trees stop after a fixed 200 rounds: scikit-learn's early stopping would hold out a random tenth of
    the windows, near copies of the windows it trains on, which tells it nothing about new periods. Small
    leaves are forbidden (50 windows, about two days) so a single flare's windows cannot make a leaf.
    """
    if method == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    if method == "trees":
        return HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_leaf_nodes=15, min_samples_leaf=50,
                                              l2_regularization=1.0, early_stopping=False, random_state=0)
    raise ValueError(f"method={method!r}: expected one of {list(TABULAR)}")


@dataclass(frozen=True)
class TabularBaseline:
    """One fitted classifier per target (None where the training split held one class only: then the forecast
    is the training rate, as climatology's), and the thresholds chosen on validation."""

    method: str
    targets: tuple[str, ...]
    models: dict[str, Any]
    rates: dict[str, float]
    thresholds: dict[str, float]
    channels: tuple[str, ...]
    n_train: int
    n_val: int
    fingerprint: str

    def predict(self, samples: Samples, idx: np.ndarray) -> np.ndarray:
        """Probabilities ``[len(idx), targets]`` for windows of ``samples`` (built with the same channels)."""
        if tuple(samples.channels) != self.channels:
            raise SampleError(f"the {self.method} baseline was fitted on channels {list(self.channels)}, the "
                              f"samples have {list(samples.channels)}: build both with the model's config")
        x = window_features(samples, idx)
        out = np.empty((x.shape[0], len(self.targets)))
        for j, t in enumerate(self.targets):
            model = self.models[t]
            out[:, j] = self.rates[t] if model is None else model.predict_proba(x)[:, 1]
        return out

    def describe(self) -> dict[str, Any]:
        """What ``metrics.json`` records about the fit."""
        return {"features": feature_names(self.channels), "train_windows": self.n_train,
                "val_windows": self.n_val, "thresholds": dict(self.thresholds), "fitted_on": self.fingerprint,
                "constant": [t for t in self.targets if self.models[t] is None],
                "estimator": repr(estimator(self.method))}


def fit_tabular(samples: Samples, *, methods=TABULAR, threshold_score: str = "hss") -> dict[str, TabularBaseline]:
    """Fit each of ``methods`` on ``samples``' train split, choose each target's threshold on its val split.

    Parameters
    ----------
    samples : Samples
        Samples with the model's config and normalisation, holding its training windows.
    methods : sequence of {"logistic", "trees"}, keyword-only
        Baselines to fit (:func:`estimator`); the window statistics are computed once for all of them.
    threshold_score : {"hss", "tss"}, keyword-only
        Score the threshold maximises on validation (the model card's ``threshold_score``); 0.5 where the
        validation split is empty or holds one class, as for the model.

    Returns
    -------
    dict
        ``{method: TabularBaseline}`` in the order of ``methods``.

    Examples
    --------
    >>> fits = fit_tabular(samples, threshold_score="tss")  # doctest: +SKIP
    >>> fits["trees"].predict(samples, samples.indices("test"))  # doctest: +SKIP
    """
    unknown = [m for m in methods if m not in TABULAR]
    if unknown or not methods:
        raise ValueError(f"methods={list(methods)!r}: expected names from {list(TABULAR)}")
    rule = ThresholdRule.parse(threshold_score)
    train_idx, val_idx = samples.indices("train"), samples.indices("val")
    if train_idx.size == 0:
        raise SampleError("the samples hold no training windows: the tabular baselines need the model's "
                          "training data (pass the store the model was trained on)")
    x_train = window_features(samples, train_idx)
    x_val = window_features(samples, val_idx) if val_idx.size else np.zeros((0, x_train.shape[1]))
    out = {}
    for method in methods:
        models, rates, thresholds = {}, {}, {}
        for j, t in enumerate(samples.targets):
            y = samples.y[train_idx, j].astype(int)
            rates[t] = float(y.mean())
            models[t] = None if y.min() == y.max() else estimator(method).fit(x_train, y)
            p_val = (np.full(val_idx.size, rates[t]) if models[t] is None or val_idx.size == 0
                     else models[t].predict_proba(x_val)[:, 1])
            thresholds[t] = rule.choose(samples.y[val_idx, j], p_val)
        out[method] = TabularBaseline(method, tuple(samples.targets), models, rates, thresholds,
                                      tuple(samples.channels), int(train_idx.size), int(val_idx.size),
                                      samples.fingerprint)
    return out


MIN_REGION_DAYS = 20
"""A McIntosh class seen on fewer training region-days than this takes the rate of its Zurich class (and a
Zurich class so rarely seen, the rate of all regions): a rate from a handful of days is noise."""


@dataclass(frozen=True)
class McIntoshPoisson:
    """Flare rates per McIntosh class from a training period, as forecasts (Gallagher et al. 2002; Bloomfield
    et al. 2012): a region of class k flares at rate ``rate[k]`` per day, so the chance of at least one flare in
    ``days`` is ``1 - exp(-rate * days)``. Rates per target (``">=C"``, ``">=M"``, ``"X"``); classes seen on
    fewer than ``min_days`` region-days fall back to their Zurich class, then to all regions."""

    rates: dict[str, dict[str, float]]
    zurich: dict[str, dict[str, float]]
    overall: dict[str, float]
    region_days: dict[str, float]
    min_days: int = MIN_REGION_DAYS

    def rate(self, mcintosh, target: str) -> np.ndarray:
        """Flares per day reaching ``target`` for regions of each class in ``mcintosh``."""
        if target not in self.overall:
            raise ValueError(f"target={target!r}: the rates were fitted for {list(self.overall)}")
        out = np.empty(len(mcintosh))
        for i, k in enumerate(mcintosh):
            k = str(k)
            out[i] = self.rates[target].get(k, self.zurich[target].get(k[:1], self.overall[target]))
        return out

    def predict(self, mcintosh, target: str, days: float = 1.0) -> np.ndarray:
        """Probability of at least one flare reaching ``target`` within ``days`` for each region."""
        return -np.expm1(-self.rate(mcintosh, target) * float(days))

    def full_disk(self, mcintosh_by_report, target: str, days: float = 1.0) -> np.ndarray:
        """Per report (a list of its regions' classes): 1 - prod(1 - p_region) = 1 - exp(-sum(rate) * days)."""
        return np.array([-np.expm1(-self.rate(ks, target).sum() * float(days)) for ks in mcintosh_by_report])


def fit_mcintosh(mcintosh, counts: dict[str, np.ndarray], days: float, *,
                 min_days: int = MIN_REGION_DAYS) -> McIntoshPoisson:
    """Rates per McIntosh class: flares reaching each target in the ``days`` after each report, per region-day.

    Parameters
    ----------
    mcintosh : sequence of str
        Class of each training report (``"Dai"``); blanks are counted in the overall rate only.
    counts : dict of str to numpy.ndarray
        Per target, the region's flares in the ``days`` after each report
        (:meth:`flarecast.samples.regions.RegionSamples.counts`).
    days : float
        Length of the period the counts cover (the label horizon, in days).

    Examples
    --------
    >>> m = fit_mcintosh(["Dai"] * 30 + ["Axx"] * 30, {">=M": np.r_[np.ones(15), np.zeros(45)]}, 1.0)
    >>> round(m.rates[">=M"]["Dai"], 3), m.rates[">=M"]["Axx"]
    (0.5, 0.0)
    >>> round(float(m.predict(["Dai"], ">=M")[0]), 3)  # 1 - exp(-0.5)
    0.393
    """
    ks = pd.Series([str(k) for k in mcintosh], dtype=object)
    if ks.empty:
        raise SampleError("no training reports to fit McIntosh rates on: ingest region reports (SRS) of the "
                          "training period")
    n_days = float(days)
    seen = ks.value_counts() * n_days
    rates, zurich, overall = {}, {}, {}
    for target, c in counts.items():
        c = pd.Series(np.asarray(c, dtype=float), index=ks.index)
        overall[target] = float(c.sum() / (len(ks) * n_days))
        by_z = c.groupby(ks.str[:1]).agg(["sum", "size"])
        zurich[target] = {z: float(s / (n * n_days)) for z, (s, n) in by_z.iterrows()
                          if z and n * n_days >= min_days}
        by_k = c.groupby(ks).agg(["sum", "size"])
        rates[target] = {k: float(s / (n * n_days)) for k, (s, n) in by_k.iterrows()
                         if len(k) == 3 and n * n_days >= min_days}
    return McIntoshPoisson(rates, zurich, overall, {k: float(v) for k, v in seen.items()}, min_days)
