"""Scores against threshold: recall, FAR, TSS and HSS of the model over the threshold grid, and the line of the
threshold chosen, labelled with the card's sentence of how it was chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from flarecast.metrics import DEFAULT_GRID, scores_from_counts

if TYPE_CHECKING:
    from flarecast.metrics.forecasts import Forecasts


def threshold_data(fc: Forecasts, target: str, *, method: str = "model", grid=DEFAULT_GRID) -> dict[str, Any]:
    """Recall, FAR, TSS and HSS of ``method`` at each threshold of ``grid``, the chosen threshold and how it was
    chosen (the card's sentence, :meth:`~flarecast.metrics.thresholds.ThresholdRule.sentence`)."""
    y = fc.y[:, fc.targets.index(target)].astype(bool)
    p = fc.prob(method, target)
    grid = np.asarray(grid, dtype=np.float64)
    pos, neg = np.sort(p[y]), np.sort(p[~y])
    tp = pos.size - np.searchsorted(pos, grid, side="left")  # windows with p >= t are forecast events
    fp = neg.size - np.searchsorted(neg, grid, side="left")
    s = scores_from_counts(tp, fp, pos.size - tp, neg.size - fp)
    return {"threshold": grid, **{k: s[k] for k in ("recall", "far", "tss", "hss")},
            "chosen": fc.thresholds[method][target], "rule": fc.decision.sentence() if fc.decision else None}


def threshold_label(data: dict[str, Any]) -> str:
    """The legend of the chosen threshold: the card's sentence (how it was chosen) and the value."""
    return f"{data['rule'] or 'chosen'} ({data['chosen']:.2f})"


def draw_threshold(ax, data, target):
    for k in ("recall", "far", "tss", "hss"):
        ax.plot(data["threshold"], data[k], label=k.upper() if k != "recall" else k)
    ax.axvline(data["chosen"], color="k", ls="--", lw=1, label=threshold_label(data))
    ax.set(xlabel="threshold", ylabel="score", title=f"Scores against threshold, model, {target}", xlim=(0, 1))
    ax.legend(loc="best", fontsize="small")
