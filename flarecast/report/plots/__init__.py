"""Figures of an evaluation: ROC, precision-recall, reliability, scores against threshold, probability timeline
(and the demo's episode and the comparison's heatmap), one module per kind of figure.

Each figure is drawn from the arrays a ``*_data`` function returns, so what a figure shows can be checked (and
is tested) without reading pixels. Figures are built with ``matplotlib.figure.Figure`` and its Agg canvas, not
pyplot: no display, no global backend switch in the caller's process.

- :mod:`~flarecast.report.plots.style`: colours, file names, the one-class panel, the whole-or-absent save;
- :mod:`~flarecast.report.plots.roc`: ROC and precision-recall;
- :mod:`~flarecast.report.plots.reliability`: reliability diagrams;
- :mod:`~flarecast.report.plots.threshold`: scores against threshold;
- :mod:`~flarecast.report.plots.timeline`: probability against time (the timeline and the episode);
- :mod:`~flarecast.report.plots.heatmap`: the comparison's alpha x gamma grid.

This module writes an evaluation's figures (:func:`write_plots`) and draws one of any kind (:func:`draw`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from flarecast.report.plots.heatmap import draw_heatmap
from flarecast.report.plots.reliability import draw_reliability, reliability_curves, reliability_data
from flarecast.report.plots.roc import draw_pr, draw_roc, pr_data, roc_curves, roc_data
from flarecast.report.plots.style import CURVE_METHODS, save_figure, slug
from flarecast.report.plots.threshold import draw_threshold, threshold_data, threshold_label
from flarecast.report.plots.timeline import (
    draw_episode,
    draw_timeline,
    episode_data,
    read_flares,
    timeline_data,
)

if TYPE_CHECKING:  # a type only: reports sit below evaluation and never call it
    from flarecast.metrics.forecasts import Forecasts

__all__ = ["CURVE_METHODS", "KINDS", "draw", "draw_heatmap", "episode_data", "pr_data", "read_flares",
           "reliability_curves", "reliability_data", "roc_curves", "roc_data", "save_figure", "slug",
           "threshold_data", "threshold_label", "timeline_data", "write_plots"]

KINDS = ("roc", "pr", "reliability", "threshold", "timeline")
"""One PNG of each kind per target: ``{kind}_{slug}.png``, slug ``ge_M`` for ``>=M``."""

_DRAWERS = {"roc": draw_roc, "pr": draw_pr, "reliability": draw_reliability, "threshold": draw_threshold,
            "timeline": draw_timeline, "episode": draw_episode}


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
    wide = kind in ("timeline", "episode")
    fig = Figure(figsize=(10, 4.5 if kind == "episode" else 3.5) if wide else (5.5, 4.5), layout="constrained")
    _DRAWERS[kind](fig.add_subplot(), data, target)
    save_figure(fig, path, dpi=dpi)
    return Path(path)
