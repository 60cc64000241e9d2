"""ROC and precision-recall figures: each probabilistic method's curve, persistence's single operating point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from flarecast.report.plots.style import COLORS, CURVE_METHODS, both_classes, color, curve_probs, no_data

if TYPE_CHECKING:
    from flarecast.metrics.forecasts import Forecasts


def roc_data(fc: Forecasts, target: str) -> dict[str, Any]:
    """ROC curves (``roc_curve``) of the probabilistic methods and persistence's single operating point."""
    return roc_curves(fc.y[:, fc.targets.index(target)], curve_probs(fc, target), _yes_no(fc, target))


def roc_curves(y, probs: dict[str, np.ndarray], yes_no: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """ROC curve of each probabilistic forecast of ``probs`` and the (POFD, POD) point of each yes/no forecast."""
    y = np.asarray(y)
    out: dict[str, Any] = {"curves": {}, "points": {}}
    if not both_classes(y):
        return out
    for m, p in probs.items():
        fpr, tpr, _ = roc_curve(y, p)
        out["curves"][m] = {"x": fpr, "y": tpr}
    for m, pred in (yes_no or {}).items():
        out["points"][m] = (float(pred[y == 0].mean()), float(pred[y == 1].mean()))
    return out


def _yes_no(fc: Forecasts, target: str) -> dict[str, np.ndarray]:
    return {"persistence": fc.prob("persistence", target) >= 0.5} if "persistence" in fc.probs else {}


def pr_data(fc: Forecasts, target: str) -> dict[str, Any]:
    """Precision-recall curves, persistence's operating point and the event rate (a no-skill forecast's precision)."""
    y = fc.y[:, fc.targets.index(target)]
    out: dict[str, Any] = {"curves": {}, "points": {}, "event_rate": float(y.mean())}
    if not both_classes(y):
        return out
    for m in CURVE_METHODS:
        if m in fc.probs:
            precision, recall, _ = precision_recall_curve(y, fc.prob(m, target))
            out["curves"][m] = {"x": recall, "y": precision}
    if "persistence" in fc.probs:
        pred = fc.prob("persistence", target) >= 0.5
        if pred.any():
            out["points"]["persistence"] = (float(pred[y == 1].mean()), float(y[pred].mean()))
    return out


def _draw_curves_and_points(ax, data, target):
    """Each method's curve (probabilistic forecasts) or single point (yes/no baselines)."""
    for m, c in data["curves"].items():
        ax.plot(c["x"], c["y"], color=color(m), label=m)
    for m, (x, y) in data["points"].items():
        ax.plot([x], [y], "o", color=color(m), label=m)
    if not data["curves"]:
        no_data(ax, target)


def draw_roc(ax, data, target):
    ax.plot([0, 1], [0, 1], color=COLORS["climatology"], ls="--", lw=1, label="climatology / no skill")
    _draw_curves_and_points(ax, data, target)
    ax.set(xlabel="POFD (false-alarm rate)", ylabel="POD (recall)", title=f"ROC, {target}", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower right", fontsize="small")


def draw_pr(ax, data, target):
    ax.axhline(data["event_rate"], color=COLORS["climatology"], ls="--", lw=1, label="event rate / no skill")
    _draw_curves_and_points(ax, data, target)
    ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, {target}", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="upper right", fontsize="small")
