"""Reliability diagrams: observed event rate against forecast probability, with the window count of each bin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from flarecast.metrics import reliability
from flarecast.report.plots.style import COLORS, color, curve_probs

if TYPE_CHECKING:
    from flarecast.metrics.forecasts import Forecasts


def reliability_data(fc: Forecasts, target: str, *, n_bins: int = 10) -> dict[str, Any]:
    """Reliability-diagram points (:func:`flarecast.metrics.reliability`) of the probabilistic methods."""
    return reliability_curves(fc.y[:, fc.targets.index(target)], curve_probs(fc, target), fc.climatology[target],
                              n_bins=n_bins)


def reliability_curves(y, probs: dict[str, np.ndarray], climatology: float, *, n_bins: int = 10) -> dict[str, Any]:
    """Per forecast of ``probs``: bin-mean probability, observed rate and window count per non-empty bin."""
    return {"curves": {m: reliability(y, p, n_bins=n_bins) for m, p in probs.items()}, "climatology": climatology}


def draw_reliability(ax, data, target):
    ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="perfect reliability")
    ax.axhline(data["climatology"], color=COLORS["climatology"], ls=":", lw=1, label="training climatology")
    counts = ax.twinx()  # how many windows each point rests on: a forecaster's first question about a bin
    width = 0.8 / max(1, len(data["curves"])) / 10
    top = 1
    for i, (m, r) in enumerate(data["curves"].items()):
        ax.plot(r["prob_pred"], r["prob_true"], "o-", color=color(m), label=m)
        x = r["prob_pred"] + (i - (len(data["curves"]) - 1) / 2) * width
        counts.bar(x, r["count"], width=width, color=color(m), alpha=0.55, edgecolor=color(m), lw=0.8)
        for xb, n in zip(x, r["count"], strict=True):  # upright above its own bar: labels of close bins never meet
            counts.annotate(str(int(n)), (xb, n), rotation=90, ha="center", va="bottom", fontsize=6, color=color(m))
        top = max([top, *r["count"]])
    counts.set_yscale("log")
    counts.set_ylim(0.8, top * 40)  # room above the tallest bar for its label
    counts.set_ylabel("windows per bin (bars, log scale)")
    ax.set(xlabel="forecast probability (bin mean)", ylabel="observed event rate", title=f"Reliability, {target}",
           xlim=(0, 1), ylim=(0, 1))
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    # Below the axes, so it covers neither a curve nor a bar.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small", ncols=2, frameon=False)
