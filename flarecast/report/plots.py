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
from flarecast.util import atomic_path

if TYPE_CHECKING:  # a type only: reports sit below evaluation and never call it
    from flarecast.metrics.forecasts import Forecasts

KINDS = ("roc", "pr", "reliability", "threshold", "timeline")
"""One PNG of each kind per target: ``{kind}_{slug}.png``, slug ``ge_M`` for ``>=M``."""

CURVE_METHODS = ("model", "logistic", "trees")
"""Methods with a probability per window worth a curve; persistence is one operating point, climatology none."""

_COLORS = {"model": "C0", "CE": "C0", "logistic": "C1", "trees": "C4", "persistence": "C2", "climatology": "0.5"}


def _color(method: str) -> str:
    """A method's colour: fixed for the usual ones, "C3" onwards for others (focal settings) in name order."""
    return _COLORS.get(method) or f"C{4 + sum(map(ord, method)) % 6}"


def slug(target: str) -> str:
    """File-name form of a target: ``>=M`` -> ``ge_M``."""
    return target.replace(">=", "ge_")


def _both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < y.size


def roc_data(fc: Forecasts, target: str) -> dict[str, Any]:
    """ROC curves (``roc_curve``) of the probabilistic methods and persistence's single operating point."""
    return roc_curves(fc.y[:, fc.targets.index(target)], _curve_probs(fc, target), _yes_no(fc, target))


def roc_curves(y, probs: dict[str, np.ndarray], yes_no: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """ROC curve of each probabilistic forecast of ``probs`` and the (POFD, POD) point of each yes/no forecast."""
    y = np.asarray(y)
    out: dict[str, Any] = {"curves": {}, "points": {}}
    if not _both_classes(y):
        return out
    for m, p in probs.items():
        fpr, tpr, _ = roc_curve(y, p)
        out["curves"][m] = {"x": fpr, "y": tpr}
    for m, pred in (yes_no or {}).items():
        out["points"][m] = (float(pred[y == 0].mean()), float(pred[y == 1].mean()))
    return out


def _curve_probs(fc: Forecasts, target: str) -> dict[str, np.ndarray]:
    return {m: fc.prob(m, target) for m in CURVE_METHODS if m in fc.probs}


def _yes_no(fc: Forecasts, target: str) -> dict[str, np.ndarray]:
    return {"persistence": fc.prob("persistence", target) >= 0.5} if "persistence" in fc.probs else {}


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
    return reliability_curves(fc.y[:, fc.targets.index(target)], _curve_probs(fc, target), fc.climatology[target],
                              n_bins=n_bins)


def reliability_curves(y, probs: dict[str, np.ndarray], climatology: float, *, n_bins: int = 10) -> dict[str, Any]:
    """Per forecast of ``probs``: bin-mean probability, observed rate and window count per non-empty bin."""
    return {"curves": {m: reliability(y, p, n_bins=n_bins) for m, p in probs.items()}, "climatology": climatology}


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
        data = {"roc": roc_data(fc, target), "pr": pr_data(fc, target), "reliability": reliability_data(fc, target),
                "threshold": threshold_data(fc, target), "timeline": timeline_data(fc, target, flares)}
        written[target] = [draw(kind, data[kind], target, out_dir / f"{kind}_{slug(target)}.png", dpi=dpi)
                           for kind in KINDS]
    return written


def draw(kind: str, data: dict[str, Any], target: str, path: str | Path, *, dpi: int = 100) -> Path:
    """Draw one figure of ``kind`` (:data:`KINDS` or ``episode``) from its ``*_data`` dict into a PNG."""
    drawers = {"roc": _draw_roc, "pr": _draw_pr, "reliability": _draw_reliability, "threshold": _draw_threshold,
               "timeline": _draw_timeline, "episode": _draw_episode}
    wide = kind in ("timeline", "episode")
    fig = Figure(figsize=(10, 4.5 if kind == "episode" else 3.5) if wide else (5.5, 4.5), layout="constrained")
    drawers[kind](fig.add_subplot(), data, target)
    save_figure(fig, path, dpi=dpi)
    return Path(path)


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 100) -> None:
    """Save ``fig`` as a PNG beside ``path`` and rename it there: a report never links half a picture."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def episode_data(time, y, probs: dict[str, np.ndarray], thresholds: dict[str, float], flares) -> dict[str, Any]:
    """A stretch of hourly forecasts for one target: each method's probability and threshold, the windows
    followed by a flare of the target class (``y``), and ``flares`` = ``[(peak_time, class_text), ...]``."""
    order = np.argsort(time)
    return {"time": np.asarray(time)[order], "observed": np.asarray(y, bool)[order],
            "probs": {m: np.asarray(p)[order] for m, p in probs.items()}, "thresholds": dict(thresholds),
            "flares": list(flares)}


def _no_data(ax, target: str) -> None:
    ax.text(0.5, 0.5, f"{target}: the evaluated windows hold one class only", ha="center", va="center")


def _draw_curves_and_points(ax, data, target):
    """Each method's curve (probabilistic forecasts) or single point (yes/no baselines)."""
    for m, c in data["curves"].items():
        ax.plot(c["x"], c["y"], color=_color(m), label=m)
    for m, (x, y) in data["points"].items():
        ax.plot([x], [y], "o", color=_color(m), label=m)
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
    counts = ax.twinx()  # how many windows each point rests on: a forecaster's first question about a bin
    width = 0.8 / max(1, len(data["curves"])) / 10
    top = 1
    for i, (m, r) in enumerate(data["curves"].items()):
        ax.plot(r["prob_pred"], r["prob_true"], "o-", color=_color(m), label=m)
        x = r["prob_pred"] + (i - (len(data["curves"]) - 1) / 2) * width
        counts.bar(x, r["count"], width=width, color=_color(m), alpha=0.55, edgecolor=_color(m), lw=0.8)
        for xb, n in zip(x, r["count"], strict=True):  # upright above its own bar: labels of close bins never meet
            counts.annotate(str(int(n)), (xb, n), rotation=90, ha="center", va="bottom", fontsize=6, color=_color(m))
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


def _draw_threshold(ax, data, target):
    for k in ("recall", "far", "tss", "hss"):
        ax.plot(data["threshold"], data[k], label=k.upper() if k != "recall" else k)
    ax.axvline(data["chosen"], color="k", ls="--", lw=1, label=threshold_label(data))
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
    ax.set(xlabel="issue time (UTC)", ylabel="probability", title=f"Forecast probability of {target}", ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small", ncols=4)


def _draw_episode(ax, data, target):
    t = data["time"]
    ax.fill_between(t, 0, 1, where=data["observed"], step="post", color="C3", alpha=0.12, lw=0,
                    label=f"{'an' if target == 'X' else 'a'} {target} flare within the next 24 h")
    for m, p in data["probs"].items():
        ax.plot(t, p, color=_color(m), lw=1.2, label=f"{m} probability")
        ax.axhline(data["thresholds"][m], color=_color(m), ls="--", lw=0.8, label=f"{m} threshold ({data['thresholds'][m]:.2f})")
    for peak, text in data["flares"]:
        ax.axvline(peak, color="C3", lw=0.8)
        ax.annotate(text, (peak, 0.97), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize="small", color="C3")
    top = max([0.05, *(float(np.nanmax(p)) for p in data["probs"].values() if p.size)])
    ax.set(ylabel="probability", xlabel="issue time (UTC)", ylim=(0, min(1.0, 1.35 * top)),
           title=f"{target} forecasts through the episode (flare peaks marked)")
    # Below the axes: the flare labels stand at the top of the plot.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="small", ncols=3)


def draw_heatmap(data: dict[str, Any], path: str | Path, *, title: str = "", dpi: int = 100) -> Path:
    """Alpha x gamma grid of seed-mean scores (:func:`flarecast.report.compare.heatmap`), each cell annotated mean ± std."""
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
    save_figure(fig, path, dpi=dpi)
    return Path(path)
