"""The region model: one scikit-learn classifier per target on a region report's features and its flare history
(:data:`flarecast.samples.regions.FEATURES`), the method (logistic regression or boosted trees) chosen per
target on out-of-fold Brier scores (:func:`flarecast.train.regions.fit_region_model`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from flarecast.errors import ModelError

METHODS = ("logistic", "trees")


def region_estimator(method: str):
    """An unfitted classifier: scaled logistic regression, or boosted trees with leaves of at least 40 reports
    (about two regions' disk passages: one region's days cannot make a leaf) and a fixed 150 rounds."""
    if method == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    if method == "trees":
        return HistGradientBoostingClassifier(learning_rate=0.05, max_iter=150, max_leaf_nodes=15,
                                              min_samples_leaf=40, l2_regularization=1.0, early_stopping=False,
                                              random_state=0)
    raise ModelError(f"method={method!r}: expected one of {list(METHODS)}")


@dataclass(frozen=True)
class RegionModel:
    """Fitted classifiers per target (None: the training period held one class only, so the training rate is
    the forecast), the method chosen for each and the out-of-fold Brier scores it was chosen on."""

    features: tuple[str, ...]
    models: dict[str, Any]
    methods: dict[str, str]
    rates: dict[str, float]
    oof_brier: dict[str, dict[str, float]] = field(default_factory=dict)

    def predict(self, x: np.ndarray, target: str) -> np.ndarray:
        """Probability per report that the region's largest flare in the horizon reaches ``target``."""
        if target not in self.models:
            raise ModelError(f"target {target!r}: the region model was fitted for {list(self.models)}")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise ModelError(f"features of shape {x.shape}: expected [n, {len(self.features)}] "
                             f"({', '.join(self.features)})")
        model = self.models[target]
        return np.full(x.shape[0], self.rates[target]) if model is None else model.predict_proba(x)[:, 1]
