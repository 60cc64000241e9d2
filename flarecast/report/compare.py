"""``flarecast compare``'s report: a verdict and a heat map per target, the case-study table, Markdown and HTML.

:func:`heatmap` and :func:`verdict` condense a comparison's methods (those of
:func:`flarecast.studies.comparison_summary.summarise`) into what ``comparison.json`` records per target;
:func:`compare_table` is the table the command prints and :func:`write_compare_report` writes the heat-map
PNGs, ``report.md`` and ``report.html``. Everything here reads the typed document
(:class:`~flarecast.model.documents.Comparison`) by attribute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from flarecast.model.documents import Comparison
from flarecast.report.formats import (
    LABELS,
    Md,
    markdown_to_html,
    md_code,
    md_head,
    md_image,
    md_row,
    md_text,
    mean_cell,
    percent,
    threshold_sentence,
)
from flarecast.util import atomic_write_text

CASE_SCORES = ("recall", "hss", "tss", "far")
"""Columns of the case-study table, for each of its targets."""


def _case_targets(comparison: Comparison) -> list[str]:
    """The case-study table's targets: X and >=M when the samples have them, else every target."""
    chosen = [t for t in ("X", ">=M") if t in comparison.targets]
    return chosen or list(comparison.targets)


def split_table(comparison: Comparison) -> list[str]:
    """Markdown lines: windows and positive windows (event rate) per split and target, then any warnings."""
    targets = list(comparison.targets)
    lines = md_head(["split", "windows", *(f"{t} positives" for t in targets)])
    for name, c in comparison.samples["splits"].items():
        n = c["windows"]
        cells = [f"{c['positives'][t]} ({percent(c['positives'][t] / n)})" if n else "0" for t in targets]
        lines.append(md_row([name, str(n), *cells]))
    lines.append("")
    lines += [f"- Warning: {md_text(w)}." for w in comparison.warnings]
    return lines


def compare_markdown(comparison: Comparison, heatmaps: dict[str, str] | None = None) -> str:
    """``report.md`` of ``flarecast compare``: verdicts, the case-study table, heat maps, per-target tables."""
    test, grid = comparison.test, comparison.grid
    targets = _case_targets(comparison)
    n_runs = sum(len(m["runs"]) for m in comparison.methods.values())
    lines = ["# flarecast compare: cross-entropy against focal loss", "",
             f"{len(comparison.methods)} loss settings x {len(grid['seeds'])} seeds = {n_runs} trainings on the "
             f"same samples; test split {test['from']} to {test['to']}, {test['windows']} windows in "
             f"{test['groups']} bootstrap groups; class convention {md_code(comparison.convention)}. Positives: "
             + ", ".join(f"{md_text(t)} {test['positives'][t]}" for t in comparison.targets) + ".", "",
             f"Each cell: seed mean ± {md_text(comparison.spread)} [{md_text(comparison.interval)}]. Every run's "
             f"threshold was {md_text(threshold_sentence(comparison.threshold_rule))}; the focal setting named in each verdict is the "
             "one with the best mean validation score, so the test split chose nothing.", "", "## Verdicts", ""]
    lines += [f"- {md_text(v['sentence'])}" for v in comparison.verdicts.values()]
    lines += ["", "## Samples", "", *split_table(comparison)]
    head = ["method", "loss"] + [f"{t} {c if c == 'recall' else c.upper()}" for t in targets for c in CASE_SCORES]
    lines += ["", "## Case study", "", *md_head(head)]
    selected = {v.get("focal") for v in comparison.verdicts.values()}
    rows = comparison.rows()
    for name, m in rows.items():
        label = Md(f"**{md_text(name)}**") if name in selected else name
        cells = [label, m.get("loss", "baseline")] + [mean_cell(m["targets"][t][c]) for t in targets for c in CASE_SCORES]
        lines.append(md_row(cells))
    lines += ["", "Bold: the focal setting chosen on validation for a target. Baselines are single fits (no seed "
              "spread): climatology (training base rate), persistence (a flare of the class in the previous "
              "horizon), logistic regression and gradient-boosted trees on window statistics (thresholds chosen on "
              "validation).", ""]
    for t, path in (heatmaps or {}).items():
        lines += [f"## Heat map, {md_text(t)}", "", md_image(f"{t} heat map", path), ""]
    lines += ["## All scores per target", ""]
    for t in comparison.targets:
        cols = ("recall", "precision", "far", "pofd", "tss", "hss", "bss", "roc_auc", "pr_auc")
        lines += [f"### {md_text(t)}", "", *md_head(["method", *(LABELS.get(c, c) for c in cols)])]
        for name, m in rows.items():
            lines.append(md_row([name, *(mean_cell({**m["targets"][t][c], "ci": None}) for c in cols)]))
        lines.append("")
    par = comparison.parallel
    devices = sorted({r.get("device", "?") for m in comparison.methods.values() for r in m["runs"]})
    train_s = sum(r["seconds"] for m in comparison.methods.values() for r in m["runs"])
    lines += [f"pos_weight of `BCE pos_weight`: {md_text(pos_weight_text(grid['pos_weight']))}; alpha of `alpha-CE`: "
              f"{grid['balanced_alpha']:g}. Trainings ran on {md_text(', '.join(devices))} ({train_s:.0f} s of training in all); this report took "
              f"{comparison.wall_seconds:.0f} s on {par['workers']} worker(s), {par.get('reused_runs', 0)} runs "
              "reused from an earlier invocation.", ""]
    return "\n".join(lines)


def heatmap(methods: dict[str, dict[str, Any]], target: str, alphas, gammas, *, score: str = "hss") -> dict[str, Any]:
    """Seed-mean and standard deviation of the test ``score`` of each focal (alpha, gamma) of ``methods`` (a
    comparison's), rows alpha."""
    cells = {(m["alpha"], m["gamma"]): m["targets"][target][score] for m in methods.values() if m["kind"] == "focal"}
    grid = [[cells.get((a, float(g)), {"mean": float("nan"), "std": float("nan")}) for g in gammas] for a in alphas]
    return {"score": score, "alphas": list(alphas), "gammas": [float(g) for g in gammas],
            "mean": [[c["mean"] for c in row] for row in grid], "std": [[c["std"] for c in row] for row in grid],
            "ce": methods["CE"]["targets"][target][score]["mean"]}


def verdict(methods: dict[str, dict[str, Any]], target: str, *, score: str = "hss") -> dict[str, Any]:
    """Does the focal setting of ``methods`` (a comparison's) with the best validation ``score`` beat CE on the
    test split by more than the seed-to-seed spread (the larger of the two standard deviations)? One plain
    sentence, and its numbers."""
    focal = {n: m for n, m in methods.items() if m["kind"] == "focal"}
    val = {n: m["targets"][target]["val"][score]["mean"] for n, m in focal.items()}
    finite = {n: v for n, v in val.items() if np.isfinite(v)}
    ce = methods["CE"]["targets"][target]
    if not finite:
        return {"target": target, "focal": None, "beats": None, "sentence": (
            f"{target}: no focal setting can be chosen, as no validation {score.upper()} is defined "
            f"(validation holds no {target} events or no event forecasts).")}
    name = max(finite, key=finite.get)  # first of equal maxima: grid order
    f = focal[name]["targets"][target]
    diff = f[score]["mean"] - ce[score]["mean"]
    spread = float(np.nanmax([f[score]["std"], ce[score]["std"]])) if np.isfinite(
        [f[score]["std"], ce[score]["std"]]).any() else float("nan")
    head = (f"{target}: {name} (best validation {score.upper()} of the focal grid) has test {score.upper()} "
            f"{_pm(f[score])} and recall {_pm(f['recall'])}, against CE's {score.upper()} {_pm(ce[score])} and "
            f"recall {_pm(ce['recall'])}")
    if not np.isfinite(diff):
        beats, tail = None, f"the {score.upper()} of one of them is undefined, so no comparison can be made."
    elif not np.isfinite(spread):
        beats, tail = None, (f"the {score.upper()} difference is {diff:+.2f}, but with one seed there is no "
                             "seed-to-seed spread to compare it with.")
    elif abs(diff) <= spread:
        beats, tail = False, (f"the {score.upper()} difference of {diff:+.2f} is within the seed-to-seed spread "
                              f"({spread:.2f}), so focal loss does not beat CE here.")
    else:
        beats = diff > 0
        winner = "focal loss beats CE" if beats else "CE beats focal loss"
        tail = (f"the {score.upper()} difference of {diff:+.2f} exceeds the seed-to-seed spread ({spread:.2f}): "
                f"{winner} on this target.")
    return {"target": target, "focal": name, "score": score, "difference": diff, "spread": spread, "beats": beats,
            "sentence": f"{head}: {tail}"}


def _pm(s: dict[str, Any]) -> str:
    std = "" if not np.isfinite(s["std"]) else f" ± {s['std']:.2f}"
    return f"{s['mean']:.2f}{std}" if np.isfinite(s["mean"]) else "n/a"


def compare_table(comparison: Comparison) -> Table:
    """``flarecast compare``'s table: the case study, seed mean ± standard deviation per cell."""
    targets = _case_targets(comparison)
    table = Table(title=f"Test split, {len(comparison.grid['seeds'])} seeds: mean ± std over seeds")
    table.add_column("method")
    for t in targets:
        for c in CASE_SCORES:
            table.add_column(f"{t} {c if c == 'recall' else c.upper()}", justify="right")
    for name, m in comparison.rows().items():
        table.add_row(name, *[mean_cell({**m["targets"][t][c], "ci": None}) for t in targets for c in CASE_SCORES])
    return table


def write_compare_report(comparison: Comparison, out: str | Path) -> tuple[Path, Path]:
    """Write the heat-map PNGs, ``report.md`` and ``report.html`` of a comparison into ``out``."""
    from flarecast.report.plots import draw_heatmap, slug

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    heatmaps = {}
    for t, data in comparison.heatmap.items():
        name = f"heatmap_{slug(t)}.png"
        draw_heatmap(data, out / name, title=f"{t}: test {data['score'].upper()}, seed mean ± std")
        heatmaps[t] = name
    md = compare_markdown(comparison, heatmaps)
    atomic_write_text(out / "report.md", md)
    atomic_write_text(out / "report.html", markdown_to_html(md, out, "flarecast compare"))
    return out / "report.md", out / "report.html"


def pos_weight_text(pw) -> str:
    """``9`` for one weight; ``9 for X, 3 for >=M (each target's training odds)`` for one per target."""
    if isinstance(pw, dict):
        return ", ".join(f"{w:g} for {t}" for t, w in pw.items()) + " (each target's training odds)"
    return f"{pw:g}"
