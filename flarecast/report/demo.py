"""The demo's report for a forecaster: the case-study table, a verdict per target, reliability diagrams with bin
counts, ROC curves and the largest X-flare episode of the test period, as PNG files and one self-contained
``report.html`` (images embedded as base64).

Everything here reads the demo's summary (its :class:`~flarecast.model.documents.Comparison`, begun by
:func:`flarecast.studies.comparison_summary.summarise`) by attribute, and the test windows' forecasts; no score is
computed here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from rich import box
from rich.table import Table

from flarecast import classes
from flarecast.model.documents import Comparison
from flarecast.report.compare import split_table
from flarecast.report.days import day_name
from flarecast.report.formats import (
    forecast_pct,
    markdown_to_html,
    md_code,
    md_head,
    md_image,
    md_row,
    md_text,
    mean_cell,
    threshold_sentence,
)
from flarecast.report.plots import draw, episode_data, reliability_curves, roc_curves, slug
from flarecast.util import atomic_write_text

TABLE = (("X", "recall"), ("X", "hss"), ("X", "tss"), (">=M", "recall"), (">=M", "hss"), (">=M", "tss"))
"""The case study's columns: X-class recall, HSS, TSS, then the same for >=M."""

EPISODE_GAP = np.timedelta64(3, "D")
"""X flares whose peaks lie closer than this belong to one episode (one region's passage, typically)."""


def _label(target: str, score: str) -> str:
    return f"{target} {'recall' if score == 'recall' else score.upper()}"


def demo_table(comparison: Comparison) -> Table:
    """The table ``flarecast demo`` prints: seed mean ± spread [95% interval] per cell."""
    test = comparison.test
    table = Table(box=box.SIMPLE_HEAD, title=f"Test split {test['from'][:10]} to {test['to'][:10]}: cross-entropy vs focal loss, "
                        f"{len(comparison.seeds)} seeds (mean ± sd [95% interval])")
    table.add_column("method")
    for target, score in TABLE:
        table.add_column(_label(target, score), justify="right")
    for name, m in comparison.rows().items():
        table.add_row(name, *[_compact(m["targets"][t][s]) for t, s in TABLE])
    pos = test["positives"]
    table.caption = (f"{test['windows']} test windows in {test['groups']} days; positive windows: X {pos['X']}, "
                     f">=M {pos['>=M']}; thresholds {threshold_sentence(comparison.threshold_rule)}; class convention "
                     f"{comparison.convention}")
    return table


def _finite(v) -> bool:
    return v is not None and math.isfinite(v)  # comparison.json writes NaN as null


def _compact(s: dict[str, Any]) -> str:
    """``0.51±0.08 [0.22,0.74]``: :func:`mean_cell` without spaces, so seven columns fit 160 characters."""
    if not _finite(s["mean"]):
        return "n/a"
    spread = f"±{s['std']:.2f}" if _finite(s.get("std")) else ""
    lo, hi = s.get("ci") or (None, None)
    interval = f" [{lo:.2f},{hi:.2f}]" if _finite(lo) and _finite(hi) else ""
    return f"{s['mean']:.2f}{spread}{interval}"


def plain_verdict(comparison: Comparison, target: str) -> str:
    """One sentence: does focal loss beat cross-entropy on ``target``, by more than the seed-to-seed spread?"""
    v = comparison.verdicts[target]
    score = v.get("score", "hss").upper()
    focal, ce = (comparison.methods[k]["targets"][target] for k in ("focal", "CE"))

    def pm(s):
        return "n/a" if not _finite(s["mean"]) else (
            f"{s['mean']:.2f}" + (f" ± {s['std']:.2f}" if _finite(s["std"]) else ""))

    head = (f"{target}: focal loss has test {score} {pm(focal[score.lower()])} (recall {pm(focal['recall'])}), "
            f"cross-entropy {pm(ce[score.lower()])} (recall {pm(ce['recall'])})")
    if v.get("beats") is None:
        return f"{head}; no comparison can be made (a score is undefined, or one seed leaves no spread)."
    if v["beats"] is False and abs(v["difference"]) <= v["spread"]:
        return (f"{head}: the difference ({v['difference']:+.2f}) is within the seed-to-seed spread "
                f"({v['spread']:.2f}), so focal loss does not beat cross-entropy on {target} here.")
    winner = "focal loss beats cross-entropy" if v["beats"] else "cross-entropy beats focal loss"
    return (f"{head}: the difference ({v['difference']:+.2f}) exceeds the seed-to-seed spread ({v['spread']:.2f}), "
            f"so {winner} on {target} here.")


def largest_x_episode(events: xr.Dataset, start, end, convention: str) -> tuple[np.datetime64, np.datetime64, list]:
    """The test period's largest X-flare episode: X flares (by ``convention``) peaking in [start, end] grouped
    where peaks are less than :data:`EPISODE_GAP` apart; the group with most flares (then the largest flux).

    Returns the span to plot (two days before the first peak to one day after the last) and the group's
    ``[(peak, class), ...]``; ``(start, end, [])`` when the period holds no X flare.
    """
    start, end = np.datetime64(pd.Timestamp(start), "ns"), np.datetime64(pd.Timestamp(end), "ns")
    peak = events["peak"].values.astype("datetime64[ns]")
    flux = events["peak_flux"].values.astype(float)
    keep = (classes.ordinal(flux, convention) == 3) & (peak >= start) & (peak <= end)
    order = np.argsort(peak[keep])
    peak, flux, text = peak[keep][order], flux[keep][order], events["goes_class"].values.astype(str)[keep][order]
    if peak.size == 0:
        return start, end, []
    groups = np.split(np.arange(peak.size), np.flatnonzero(np.diff(peak) > EPISODE_GAP) + 1)
    best = max(groups, key=lambda g: (g.size, flux[g].max()))
    flares = [(peak[i], f"{text[i]} {pd.Timestamp(peak[i]):%m-%d %H:%M}") for i in best]
    return peak[best[0]] - np.timedelta64(2, "D"), peak[best[-1]] + np.timedelta64(1, "D"), flares


def write_figures(out: Path, *, targets, issue_time, y, probs, thresholds, persistence, climatology, events,
                  convention: str) -> dict[str, str]:
    """Reliability and ROC per target, and the X episode: PNGs in ``out``; their file names by figure."""
    figures = {}
    for j, t in enumerate(targets):
        p = {m: v[:, j] for m, v in probs.items()}
        figures[f"reliability {t}"] = draw("reliability", reliability_curves(y[:, j], p, climatology[t]), t,
                                           out / f"reliability_{slug(t)}.png").name
        figures[f"ROC {t}"] = draw("roc", roc_curves(y[:, j], p, {"persistence": persistence[:, j] >= 0.5}), t,
                                   out / f"roc_{slug(t)}.png").name
    lo, hi, flares = largest_x_episode(events, issue_time.min(), issue_time.max(), convention)
    inside = (issue_time >= lo) & (issue_time <= hi)
    j = list(targets).index("X")
    models = [m for m in probs if m != "logistic"]
    data = episode_data(issue_time[inside], y[inside, j], {m: probs[m][inside, j] for m in models},
                        {m: thresholds[m]["X"] for m in models}, flares)
    figures["X episode"] = draw("episode", data, "X", out / "episode_X.png").name
    return figures


def day_forecast_title(comparison: Comparison) -> str:
    """The title of the demo's 3-day table: the issue time and the day model that forecast it."""
    f = comparison.day_forecast
    return (f"3-day forecast for the last test day, issued {f['table']['issue_time']} by one day model "
            f"({f['head']} head, {f['loss']}, seed {f['training']['seed']}, uncalibrated; {f['model']})")


def day_forecast_markdown(comparison: Comparison) -> list[str]:
    """``report.md``'s 3-day section: SWPC's table for the last test day, and what was observed on each day."""
    f = comparison.day_forecast
    if not f:
        return []
    table = f["table"]
    lines = ["## 3-day forecast", "", md_text(day_forecast_title(comparison)) + ": the full-disk probability of at "
             "least one flare of the class or above on each of the three UT days after issue, as `flarecast "
             "forecast` prints it for a model trained with `samples.days: 3`; its P(X) ≤ P(≥M) ≤ P(≥C) on "
             "every day by construction. Observed: the largest flare class of the day in the NGDC reports.", "",
             *md_head(["class", *(f"day {d['day']}: {day_name(d)}" for d in table["days"])])]
    lines += [md_row([f"Class {r['class']}", *(forecast_pct(p) for p in r["probabilities"])])
              for r in table["rows"]]
    return [*lines, md_row(["observed", *f["observed"]]), ""]


def demo_markdown(comparison: Comparison, figures: dict[str, str]) -> str:
    """``report.md``: what was run, the verdicts, the table, the samples, the figures and how to read them."""
    test, cfg = comparison.test, comparison.config
    head = ["method", "loss"] + [_label(t, s) for t, s in TABLE]
    losses = comparison.losses
    lines = ["# flarecast demo: focal loss against cross-entropy on real GOES-15 data", "",
             f"GOES-15 hourly XRS-B maxima 2011-2013 with the NOAA/NGDC flare reports (embedded in the package). "
             f"Windows of {md_text(cfg['samples']['window'])} issued every {md_text(cfg['samples']['stride'])}, labelled "
             f"with the largest flare in the next {md_text(cfg['samples']['horizon'])} (class convention "
             f"{md_code(comparison.convention)}). "
             f"Train, validation and test are contiguous time blocks; the test split runs {md_text(test['from'][:10])} to "
             f"{md_text(test['to'][:10])}: {test['windows']} windows, {test['positives']['X']} of them followed by an X flare "
             f"and {test['positives']['>=M']} by an M or X flare.", "",
             f"Both losses train the same network on the same windows with the same optimiser, epochs and seeds "
             f"({md_text(', '.join(map(str, comparison.seeds)))}); each run's threshold is "
             f"{md_text(threshold_sentence(comparison.threshold_rule))} before the test block is scored.", "", "## Verdict", ""]
    lines += [f"- {md_text(v)}" for v in comparison.plain_verdicts.values()]
    lines += ["", "## Test scores", "", *md_head(head)]
    for name, m in comparison.rows().items():
        lines.append(md_row([name, losses.get(name, "baseline"), *(mean_cell(m["targets"][t][s]) for t, s in TABLE)]))
    lines += ["", f"Cells: mean ± standard deviation over the {len(comparison.seeds)} seeds [95% interval of the "
              "seed mean over 1000 bootstrap resamples of whole UTC days]. Baselines are single fits: persistence "
              "(yes when a flare of the class peaked in the previous 24 h), climatology (the training base rate, "
              "never an event at 0.5) and a logistic regression on window statistics.", "",
              "- **recall** (POD) = TP / (TP + FN): the share of flare-followed windows that were flagged.",
              "- **HSS** = 2(TP·TN − FN·FP) / [(TP+FN)(FN+TN) + (TP+FP)(FP+TN)]: 1 perfect, 0 no better than chance.",
              "- **TSS** = POD − POFD: the same whatever the base rate.", "", *day_forecast_markdown(comparison),
              "## Samples", "",
              *split_table(comparison), "## Figures", "",
              "Reliability: observed event rate against forecast probability per bin; the bars (log scale) and the "
              "number above each are the windows in that bin; curves use each loss's seed-mean probability. ROC: detection against false-alarm rate over all thresholds; persistence is one point. "
              "Episode: the largest group of X flares of the test period, both losses' seed-mean X probability, "
              "their thresholds (the mean of the seeds' validation thresholds), shading where an X flare follows "
              "within 24 h, and each X flare's peak.", ""]
    lines += [line for name, path in figures.items() for line in (f"### {md_text(name)}", "", md_image(name, path), "")]
    lines += [f"Wall time {comparison.wall_seconds:.0f} s; flarecast {md_text(comparison.flarecast_version)}.", ""]
    return "\n".join(lines)


def write_demo_report(comparison: Comparison, out: str | Path, **forecasts) -> tuple[Comparison, Path]:
    """Write the figures, ``report.md`` and the self-contained ``report.html``; return ``comparison`` with
    ``plain_verdicts`` and ``figures`` (PNG names) added, and the HTML path.

    ``forecasts`` are :func:`write_figures`' keyword arguments but ``convention`` (taken from ``comparison``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plain = {t: plain_verdict(comparison, t) for t in ("X", ">=M")}
    comparison = comparison.with_(plain_verdicts=plain,
                                  figures=write_figures(out, convention=comparison.convention, **forecasts))
    md = demo_markdown(comparison, comparison.figures)
    atomic_write_text(out / "report.md", md)
    html = out / "report.html"
    atomic_write_text(html, markdown_to_html(md, out, "flarecast demo"))
    return comparison, html


__all__ = ["TABLE", "day_forecast_markdown", "day_forecast_title", "demo_markdown", "demo_table", "largest_x_episode", "plain_verdict", "write_demo_report",
           "write_figures"]
