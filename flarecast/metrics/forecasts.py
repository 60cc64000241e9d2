"""The evaluated windows, their labels and every method's probabilities: what ``evaluate`` scores and ``report``
plots. It lives here, below both, so that presentation never imports analysis for a type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flarecast.metrics.thresholds import ThresholdRule

METHODS = ("model", "model@0.5", "climatology", "persistence", "mcintosh", "logistic", "trees")
"""Methods of ``metrics.json``, in report order; ``logistic`` and ``trees`` only where they could be fitted,
``mcintosh`` only for full-disk windows of a store holding NOAA region reports."""

YES_NO_AT = 0.5
"""The threshold of ``model@0.5`` and of the baselines without a chosen one (climatology, persistence)."""


def method_thresholds(model: dict[str, float]) -> dict[str, dict[str, float]]:
    """``{method: {target: threshold}}`` of the methods every evaluation scores: ``model`` at ``model``'s
    thresholds, ``model@0.5``, climatology and persistence at :data:`YES_NO_AT` (the tabular baselines add their
    own chosen ones)."""
    at = dict.fromkeys(model, YES_NO_AT)
    return {"model": dict(model), "model@0.5": at, "climatology": dict(at), "persistence": dict(at)}


@dataclass(frozen=True)
class Forecasts:
    """The evaluated windows, their labels and every method's probabilities: what is scored and plotted."""

    targets: tuple[str, ...]
    issue_time: np.ndarray  # [n] datetime64[ns]
    region: np.ndarray  # [n] HARP number, -1 full-disk
    group: np.ndarray  # [n] bootstrap unit: UTC day number or region
    group_unit: str  # "UTC day" or "region (HARP)"
    y: np.ndarray  # [n, targets] 0/1
    probs: dict[str, np.ndarray]  # source ("model", baselines) -> [n, targets]
    thresholds: dict[str, dict[str, float]]  # method -> target -> threshold
    climatology: dict[str, float]  # target -> training base rate
    horizon: np.timedelta64 = np.timedelta64(24, "h")  # a window issued at t is labelled by flares in (t, t + horizon]
    decision: ThresholdRule | None = None  # how the model's thresholds were chosen (the card's); None: not a model
    windows: tuple[np.ndarray, np.ndarray] | None = None  # (valid_from, valid_to] [n, targets]; None: the horizon's

    def window(self, target: str) -> tuple[np.ndarray, np.ndarray]:
        """``(valid_from, valid_to]`` of every window's ``target`` label: its own (a forecast day's), or
        ``(t, t + horizon]``."""
        if self.windows is None:
            return self.issue_time, self.issue_time + self.horizon
        j = self.targets.index(target)
        return self.windows[0][:, j], self.windows[1][:, j]

    @property
    def methods(self) -> list[str]:
        return [m for m in METHODS if m in self.thresholds]

    def prob(self, method: str, target: str) -> np.ndarray:
        """The probabilities ``method`` forecasts for ``target`` (``model@0.5`` shares ``model``'s)."""
        return self.probs[method.split("@")[0]][:, self.targets.index(target)]
