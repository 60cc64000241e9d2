"""Figures of an evaluation: ROC, precision-recall, reliability, scores against threshold, probability timeline.

Each figure is drawn from the arrays a ``*_data`` function returns, so what a figure shows can be checked (and
is tested) without reading pixels. Figures are built with ``matplotlib.figure.Figure`` and its Agg canvas, not
pyplot: no display, no global backend switch in the caller's process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from flarecast import classes
from flarecast.metrics import DEFAULT_GRID, reliability, scores_from_counts

if TYPE_CHECKING:  # a type only: reports sit below evaluation and never call it
    from flarecast.evaluate.scoring import Forecasts

KINDS = ("roc", "pr", "reliability", "threshold", "timeline")
"""One PNG of each kind per target: ``{kind}_{slug}.png``, slug ``ge_M`` for ``>=M``."""

CURVE_METHODS = ("model", "logistic", "trees")
"""Methods with a probability per window worth a curve; persistence is one operating point, climatology none."""

_COLORS = {"model": "C0", "logistic": "C1", "trees": "C4", "persistence": "C2", "climatology": "0.5"}


def slug(target: str) -> str:
    """File-name form of a target: ``>=M`` -> ``ge_M``."""
    return target.replace(">=", "ge_")


def _both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < y.size


def roc_data(fc: Forecasts, target: str) -> dict[str, Any]:
    """ROC curves (``roc_curve``) of the probabilistic methods and persistence's single operating point."""
    y = fc.y[:, fc.targets.index(target)]
    out: dict[str, Any] = {"curves": {}, "points": {}}
    if not _both_classes(y):
        return out
    for m in CURVE_METHODS:
        if m in fc.probs:
            fpr, tpr, _ = roc_curve(y, fc.prob(m, target))
            out["curves"][m] = {"x": fpr, "y": tpr}
    if "persistence" in fc.probs:
        pred = fc.prob("persistence", target) >= 0.5
        out["points"]["persistence"] = (float(pred[y == 0].mean()), float(pred[y == 1].mean()))
    return out


def pr_data(fc: Forecasts, target: str) -> dict[str, Any]:
    """Precision-recall curves, persistence's operating point and the event rate (a no-skill forecast's precision)."""
    y = fc.y[:, fc.targets.index(target)]
    out: dict[str, Any] = {"curves": {}, "points": {}, "event_rate": float(y.mean())}
    if not _both_classes(y):
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


def reliability_data(fc: Forecasts, target: str, *, n_bins: int = 10) -> dict[str, Any]:
    """Reliability-diagram points (:func:`flarecast.metrics.reliability`) of the probabilistic methods."""
    y = fc.y[:, fc.targets.index(target)]
    return {"curves": {m: reliability(y, fc.prob(m, target), n_bins=n_bins) for m in CURVE_METHODS if m in fc.probs},
            "climatology": fc.climatology[target]}


def threshold_data(fc: Forecasts, target: str, *, method: str = "model", grid=DEFAULT_GRID) -> dict[str, Any]:
    """Recall, FAR, TSS and HSS of ``method`` at each threshold of ``grid``, and the validation-chosen threshold."""
    y = fc.y[:, fc.targets.index(target)].astype(bool)
    p = fc.prob(method, target)
    grid = np.asarray(grid, dtype=np.float64)
    pos, neg = np.sort(p[y]), np.sort(p[~y])
    tp = pos.size - np.searchsorted(pos, grid, side="left")  # windows with p >= t are forecast events
    fp = neg.size - np.searchsorted(neg, grid, side="left")
    s = scores_from_counts(tp, fp, pos.size - tp, neg.size - fp)
    return {"threshold": grid, **{k: s[k] for k in ("recall", "far", "tss", "hss")},
            "chosen": fc.thresholds[method][target]}


def timeline_data(fc: Forecasts, target: str, flares=None) -> dict[str, Any]:
    """Forecast probability against issue time, and the peaks of the flares reaching ``target``.

    With several regions per issue time (SHARP), the curve is the largest regional probability and a time
    counts as observed-positive if any region's window is. ``flares`` is ``(peak_times, ordinal_ranks)``
    (:func:`read_flares`); only flares some evaluated window looks ahead to (issued in [peak - horizon, peak))
    are kept, so the gaps between the blocks of a split stay empty. ``gap`` is True before each break in the
    issue times (longer than the horizon), where the curve is not drawn across.
    """
    j = fc.targets.index(target)
    times, inverse = np.unique(fc.issue_time, return_inverse=True)
    prob = np.full(times.size, -np.inf)
    np.maximum.at(prob, inverse, fc.prob("model", target))
    observed = np.zeros(times.size, bool)
    np.logical_or.at(observed, inverse, fc.y[:, j].astype(bool))
    peaks = np.zeros(0, dtype="datetime64[ns]")
    if flares is not None:
        peak, rank = flares
        peak = peak[rank >= classes.TARGET_RANK[target]]
        first_at_or_after = np.searchsorted(times, peak - fc.horizon, side="left")
        seen = first_at_or_after < times.size
        seen[seen] = times[first_at_or_after[seen]] < peak[seen]
        peaks = peak[seen]
    gap = np.append(np.diff(times) > fc.horizon, False)
    return {"time": times, "prob": prob, "observed": observed, "threshold": fc.thresholds["model"][target],
            "flare_peaks": peaks, "gap": gap}


def read_flares(store, convention: str):
    """``(peak_times, ordinal_ranks)`` of every flare in the store's catalogue, classed by ``convention``."""
    from flarecast.ingest import store as st
    from flarecast.samples.labels import Catalogue

    cat = Catalogue.from_events(st.read_events(store))
    return cat.peak, classes.ordinal(cat.flux, convention)


def write_plots(fc: Forecasts, out_dir: str | Path, *, flares=None, dpi: int = 100) -> dict[str, list[Path]]:
    """Write the five figures of :data:`KINDS` for every target into ``out_dir``; return their paths per target."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    for target in fc.targets:
        drawers = {"roc": (_draw_roc, roc_data(fc, target)), "pr": (_draw_pr, pr_data(fc, target)),
                   "reliability": (_draw_reliability, reliability_data(fc, target)),
                   "threshold": (_draw_threshold, threshold_data(fc, target)),
                   "timeline": (_draw_timeline, timeline_data(fc, target, flares))}
        written[target] = []
        for kind, (draw, data) in drawers.items():
            fig = Figure(figsize=(10, 3.5) if kind == "timeline" else (5.5, 4.5), layout="constrained")
            draw(fig.add_subplot(), data, target)
            path = out_dir / f"{kind}_{slug(target)}.png"
            fig.savefig(path, dpi=dpi)
            written[target].append(path)
    return written


def _no_data(ax, target: str) -> None:
    ax.text(0.5, 0.5, f"{target}: the evaluated windows hold one class only", ha="center", va="center")


def _draw_curves_and_points(ax, data, target):
    """Each method's curve (probabilistic forecasts) or single point (yes/no baselines)."""
    for m, c in data["curves"].items():
        ax.plot(c["x"], c["y"], color=_COLORS[m], label=m)
    for m, (x, y) in data["points"].items():
        ax.plot([x], [y], "o", color=_COLORS[m], label=m)
    if not data["curves"]:
        _no_data(ax, target)


def _draw_roc(ax, data, target):
    ax.plot([0, 1], [0, 1], color=_COLORS["climatology"], ls="--", lw=1, label="climatology / no skill")
    _draw_curves_and_points(ax, data, target)
    ax.set(xlabel="POFD (false-alarm rate)", ylabel="POD (recall)", title=f"ROC, {target}", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower right", fontsize="small")


def _draw_pr(ax, data, target):
    ax.axhline(data["event_rate"], color=_COLORS["climatology"], ls="--", lw=1, label="event rate / no skill")
    _draw_curves_and_points(ax, data, target)
    ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, {target}", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="upper right", fontsize="small")


def _draw_reliability(ax, data, target):
    ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="perfect reliability")
    ax.axhline(data["climatology"], color=_COLORS["climatology"], ls=":", lw=1, label="training climatology")
    for m, r in data["curves"].items():
        ax.plot(r["prob_pred"], r["prob_true"], "o-", color=_COLORS[m], label=m)
    ax.set(xlabel="forecast probability (bin mean)", ylabel="observed event rate", title=f"Reliability, {target}",
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small")


def _draw_threshold(ax, data, target):
    for k in ("recall", "far", "tss", "hss"):
        ax.plot(data["threshold"], data[k], label=k.upper() if k != "recall" else k)
    ax.axvline(data["chosen"], color="k", ls="--", lw=1, label=f"chosen on validation ({data['chosen']:.2f})")
    ax.set(xlabel="threshold", ylabel="score", title=f"Scores against threshold, model, {target}", xlim=(0, 1))
    ax.legend(loc="best", fontsize="small")


def _draw_timeline(ax, data, target):
    t = data["time"]
    ax.fill_between(t, 0, 1, where=data["observed"], step="post", color="C3", alpha=0.15, lw=0,
                    label=f"a {target} flare within the horizon")
    breaks = np.flatnonzero(data["gap"]) + 1  # a NaN after each gap's last point stops the line there
    ax.plot(np.insert(t, breaks, t[breaks - 1]), np.insert(data["prob"], breaks, np.nan), color=_COLORS["model"], lw=0.7,
            label="model probability")
    ax.axhline(data["threshold"], color="k", ls="--", lw=0.8, label="threshold")
    for i, peak in enumerate(data["flare_peaks"]):
        ax.axvline(peak, color="C3", lw=0.6, label=f"{target} flare peak" if i == 0 else None)
    ax.set(ylabel="probability", title=f"Forecast probability of {target}", ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small", ncols=4)


def draw_heatmap(data: dict[str, Any], path: str | Path, *, title: str = "", dpi: int = 100) -> Path:
    """Alpha x gamma grid of seed-mean scores (:func:`flarecast.compare.heatmap`), each cell annotated mean ± std."""
    mean = np.asarray(data["mean"], dtype=float)
    std = np.asarray(data["std"], dtype=float)
    fig = Figure(figsize=(1.2 * mean.shape[1] + 2.5, 0.8 * mean.shape[0] + 1.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(mean), cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax, label=f"test {data['score'].upper()} (CE: {data['ce']:.2f})")
    for i in range(mean.shape[0]):
        for j in range(mean.shape[1]):
            text = "n/a" if not np.isfinite(mean[i, j]) else f"{mean[i, j]:.2f}" + (
                f"\n±{std[i, j]:.2f}" if np.isfinite(std[i, j]) else "")
            bright = np.isfinite(mean[i, j]) and image.norm(mean[i, j]) > 0.6  # viridis turns yellow: dark text
            ax.text(j, i, text, ha="center", va="center", color="k" if bright else "w", fontsize="small")
    ax.set_xticks(range(mean.shape[1]), [f"{g:g}" for g in data["gammas"]])
    ax.set_yticks(range(mean.shape[0]), ["none" if a is None else f"{a:g}" for a in data["alphas"]])
    ax.set(xlabel="gamma", ylabel="alpha", title=title)
    fig.savefig(path, dpi=dpi)
    return Path(path)
