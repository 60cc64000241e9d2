"""Probability against issue time: the evaluation's timeline of the model over every evaluated window, and the
demo's episode (several methods and their thresholds through a stretch of hours, flare peaks named)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from flarecast import classes
from flarecast.report.plots.style import COLORS, color

if TYPE_CHECKING:
    from flarecast.metrics.forecasts import Forecasts


def timeline_data(fc: Forecasts, target: str, flares=None) -> dict[str, Any]:
    """Forecast probability against issue time, and the peaks of the flares reaching ``target``.

    With several regions per issue time (SHARP), the curve is the largest regional probability and a time
    counts as observed-positive if any region's window is. ``flares`` is ``(peak_times, ordinal_ranks)``
    (:func:`read_flares`); only flares inside some evaluated window's own label interval are kept (the target's
    ``(valid_from, valid_to]``: day 2's UT day for ``X@d2``, ``(t, t + horizon]`` for a target of one horizon), so
    the gaps between the blocks of a split stay empty. ``gap`` is True before each break in the issue times
    (longer than the horizon), where the curve is not drawn across.
    """
    j = fc.targets.index(target)
    times, first, inverse = np.unique(fc.issue_time, return_index=True, return_inverse=True)
    prob = np.full(times.size, -np.inf)
    np.maximum.at(prob, inverse, fc.prob("model", target))
    observed = np.zeros(times.size, bool)
    np.logical_or.at(observed, inverse, fc.y[:, j].astype(bool))
    peaks = np.zeros(0, dtype="datetime64[ns]")
    if flares is not None:
        peak, rank = flares
        peak = peak[rank >= classes.target_rank(target)]
        lo, hi = (w[first] for w in fc.window(target))
        # Both ends move forward with the issue time, so the windows holding a peak are those from the first
        # that ends at or after it to the last that starts before it.
        first_ending = np.searchsorted(hi, peak, side="left")
        last_starting = np.searchsorted(lo, peak, side="left") - 1
        peaks = peak[first_ending <= last_starting]
    gap = np.append(np.diff(times) > fc.horizon, False)
    return {"time": times, "prob": prob, "observed": observed, "threshold": fc.thresholds["model"][target],
            "flare_peaks": peaks, "gap": gap}


def read_flares(store, convention: str):
    """``(peak_times, ordinal_ranks)`` of every flare in the store's catalogue, classed by ``convention``."""
    from flarecast.ingest import store as st
    from flarecast.samples.labels import Catalogue

    cat = Catalogue.from_events(st.read_events(store))
    return cat.peak, classes.ordinal(cat.flux, convention)


def episode_data(time, y, probs: dict[str, np.ndarray], thresholds: dict[str, float], flares) -> dict[str, Any]:
    """A stretch of hourly forecasts for one target: each method's probability and threshold, the windows
    followed by a flare of the target class (``y``), and ``flares`` = ``[(peak_time, class_text), ...]``."""
    order = np.argsort(time)
    return {"time": np.asarray(time)[order], "observed": np.asarray(y, bool)[order],
            "probs": {m: np.asarray(p)[order] for m, p in probs.items()}, "thresholds": dict(thresholds),
            "flares": list(flares)}


def draw_timeline(ax, data, target):
    t = data["time"]
    ax.fill_between(t, 0, 1, where=data["observed"], step="post", color="C3", alpha=0.15, lw=0,
                    label=f"a {target} flare within the horizon")
    breaks = np.flatnonzero(data["gap"]) + 1  # a NaN after each gap's last point stops the line there
    ax.plot(np.insert(t, breaks, t[breaks - 1]), np.insert(data["prob"], breaks, np.nan), color=COLORS["model"], lw=0.7,
            label="model probability")
    ax.axhline(data["threshold"], color="k", ls="--", lw=0.8, label="threshold")
    for i, peak in enumerate(data["flare_peaks"]):
        ax.axvline(peak, color="C3", lw=0.6, label=f"{target} flare peak" if i == 0 else None)
    ax.set(xlabel="issue time (UTC)", ylabel="probability", title=f"Forecast probability of {target}", ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small", ncols=4)


def draw_episode(ax, data, target):
    t = data["time"]
    ax.fill_between(t, 0, 1, where=data["observed"], step="post", color="C3", alpha=0.12, lw=0,
                    label=f"{'an' if target == 'X' else 'a'} {target} flare within the next 24 h")
    for m, p in data["probs"].items():
        ax.plot(t, p, color=color(m), lw=1.2, label=f"{m} probability")
        ax.axhline(data["thresholds"][m], color=color(m), ls="--", lw=0.8, label=f"{m} threshold ({data['thresholds'][m]:.2f})")
    for peak, text in data["flares"]:
        ax.axvline(peak, color="C3", lw=0.8)
        ax.annotate(text, (peak, 0.97), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize="small", color="C3")
    top = max([0.05, *(float(np.nanmax(p)) for p in data["probs"].values() if p.size)])
    ax.set(ylabel="probability", xlabel="issue time (UTC)", ylim=(0, min(1.0, 1.35 * top)),
           title=f"{target} forecasts through the episode (flare peaks marked)")
    # Below the axes: the flare labels stand at the top of the plot.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="small", ncols=3)
