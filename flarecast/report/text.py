"""The tables ``flarecast evaluate`` prints and its ``report.md``; the demo's two-model comparison.

``flarecast evaluate``: :func:`metrics_table` and :func:`evaluation_markdown` (every target and method with
intervals), :func:`period_table` (``--by year``), :func:`providers_table` (``--forecasts A B ...``). The demo's
comparison of two losses: :func:`comparison_rows`, :func:`comparison_table`, :func:`comparison_markdown`.
Everything here reads the documented JSON results; the cell formatters are :mod:`flarecast.report.formats` and
``flarecast compare``'s report :mod:`flarecast.report.compare` (its :func:`compare_table` and :func:`verdict`, and
:func:`markdown_to_html`, stay importable from here). What each command prints is :mod:`flarecast.report.tables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from flarecast.report.compare import compare_table, verdict
from flarecast.report.formats import (
    LABELS,
    fmt,
    markdown_to_html,
    md_code,
    md_head,
    md_image,
    md_row,
    md_text,
    threshold_sentence,
    value_ci,
)

if TYPE_CHECKING:
    from flarecast.model.documents import Metrics

__all__ = [  # compare_table, verdict and markdown_to_html live beside; importers still find them here
    "COLUMNS", "EVAL_COLUMNS", "PERIOD_COLUMNS", "compare_table", "comparison_markdown", "comparison_rows",
    "comparison_table", "evaluation_markdown", "markdown_to_html", "metrics_table", "period_table",
    "providers_table", "verdict",
]

COLUMNS = ("recall", "hss", "tss")


def comparison_rows(evaluation: Metrics, targets, *, method: str = "model") -> dict[str, Any]:
    """One method's scores per target: value and 95% interval of recall, HSS, TSS (and FAR), threshold, counts."""
    rows = {}
    for t in targets:
        s = evaluation.targets[t][method]
        row = {"threshold": s["threshold"], "positives": s["positives"], "n": s["n"],
               "tp": s["tp"], "fp": s["fp"], "fn": s["fn"], "tn": s["tn"]}
        for m in (*COLUMNS, "far"):
            row[m] = s[m]["value"]
            row[f"{m}_ci"] = s[m]["ci"]
        rows[t] = row
    return rows


def _cell(row: dict, m: str) -> str:
    lo, hi = row[f"{m}_ci"]
    pct = m == "recall"
    if pct:  # recall in per cent, interval without repeating the sign: "84% [76, 91]"
        return f"{fmt(row[m], True)} [{fmt(lo, True).rstrip('%')}, {fmt(hi, True).rstrip('%')}]"
    return f"{fmt(row[m])} [{fmt(lo)}, {fmt(hi)}]"


def comparison_table(comparison: dict[str, Any], targets=("X", ">=M")) -> Table:
    """Rows CE and focal (then baselines); per target: recall, HSS, TSS with 95% day-bootstrap intervals."""
    table = Table(title="Test split: cross-entropy vs focal loss (95% CI, bootstrap over days)")
    table.add_column("method")
    for t in targets:
        for m in COLUMNS:
            table.add_column(f"{t} {m.upper() if m != 'recall' else 'recall'}", justify="right")
    for name, rows in {**comparison["methods"], **comparison.get("baselines", {})}.items():
        table.add_row(name, *[_cell(rows[t], m) for t in targets for m in COLUMNS])
    pos = comparison["test"]["positives"]
    table.caption = (f"{comparison['test']['windows']} test windows; positives: "
                     + ", ".join(f"{t} {pos[t]}" for t in targets)
                     + f"; class convention: {comparison['convention']}; thresholds "
                     + threshold_sentence(comparison["threshold_rule"]))
    return table


def comparison_markdown(comparison: dict[str, Any], targets=("X", ">=M")) -> str:
    head = ["method", "loss"] + [f"{t} {m if m == 'recall' else m.upper()}" for t in targets for m in COLUMNS]
    s = comparison["config"]["samples"]
    lines = ["# flarecast demo: focal loss vs cross-entropy", "",
             f"Test split {md_text(comparison['test']['from'])} to {md_text(comparison['test']['to'])}, "
             f"{comparison['test']['windows']} windows of {md_text(s['window'])} issued every {md_text(s['stride'])}, "
             f"labelled with the largest flare peaking in the next {md_text(s['horizon'])}, class convention "
             f"{md_code(comparison['convention'])}. "
             "Positives: " + ", ".join(f"{md_text(t)}: {comparison['test']['positives'][t]}" for t in targets) + ".",
             "", "Each cell: value [95% interval from 1000 bootstrap resamples of whole UTC days]. Thresholds were "
             f"{md_text(threshold_sentence(comparison['threshold_rule']))} before the test split was scored.", "",
             *md_head(head)]
    losses = comparison.get("losses", {})
    for name, rows in {**comparison["methods"], **comparison.get("baselines", {})}.items():
        cells = [name, losses.get(name, "baseline")] + [_cell(rows[t], m) for t in targets for m in COLUMNS]
        lines.append(md_row(cells))
    lines += ["", "Thresholds and 2x2 tables:", ""]
    for name, rows in comparison["methods"].items():
        for t in targets:
            r = rows[t]
            lines.append(f"- {md_text(name)} {md_text(t)}: threshold {r['threshold']:.3f}, TP {r['tp']}, FP {r['fp']}, "
                         f"FN {r['fn']}, TN {r['tn']}, FAR {fmt(r['far'])}")
    if "training" in comparison:
        lines += ["", "Training: " + "; ".join(
            f"{md_text(k)}: best epoch {v['best_epoch']} of {v['epochs_run']}, {v['seconds']} s" for k, v in comparison["training"].items())]
    lines += ["", "With this many X-positive windows (they come in runs of up to 24 from the same flare), "
              "differences inside the intervals are not evidence that one loss beats the other.", ""]
    return "\n".join(lines)


EVAL_COLUMNS = ("recall", "far", "tss", "hss", "bss", "roc_auc")


def _title(result: Metrics) -> str:
    where = "every window" if result.split == "all" else f"{result.split} split"
    return f"{where}, {result.n_windows} windows (95% CI, bootstrap over {result.bootstrap.unit}s)"


def metrics_table(result: Metrics, *, key: str = "targets") -> Table:
    """``flarecast evaluate``'s table: one row per target and method (``key="targets_undegraded"``: a backtest's
    scores without its degraded rows)."""
    title = _title(result)
    degraded = (result.degraded or {}).get("windows", 0)
    if key != "targets":
        n = result.n_windows - degraded
        title = f"without degraded rows: {n} of {result.n_windows} windows (95% CI, bootstrap over UTC days)"
    elif degraded:
        title += f", {degraded} degraded"
    table = Table(title=title)
    for col in ("target", "method", "threshold", "positives", *EVAL_COLUMNS):
        table.add_column(col, justify="left" if col in ("target", "method") else "right")
    for target, methods in result.scored(key).items():
        for name, s in methods.items():
            cells = [value_ci(s[m]) for m in EVAL_COLUMNS]
            # escape: rich would take "[n/a, n/a]" (an undefined interval) for a style tag and drop it
            table.add_row(target, name, f"{s['threshold']:.3f}", str(s["positives"]), *map(escape, cells))
    if result.notes and key == "targets":
        table.caption = " ".join(f"Note: {n}." for n in result.notes)
    return table


def evaluation_markdown(result: Metrics) -> str:
    """``report.md`` of ``flarecast evaluate``: the scores with intervals, the notes, the figures."""
    period = result.period
    lines = [f"# Evaluation of {md_text(result.model)} ({md_text(result.loss)})", "",
             f"{md_text(_title(result))}; issued {md_text(period.start)} to {md_text(period.end)}; class "
             f"convention {md_code(result.convention)}. Each cell: value [95% interval]. `model` uses the model "
             f"card's thresholds, {md_text(threshold_sentence(result.threshold_rule))}; `model@0.5` the threshold 0.5; climatology is the "
             "training base rate.",
             ""]
    lines += [f"- Note: {md_text(n)}." for n in result.notes]
    for target, methods in result.targets.items():
        head = ["method", "threshold", "TP", "FP", "FN", "TN", *(LABELS.get(c, c) for c in EVAL_COLUMNS)]
        lines += ["", f"## {md_text(target)}", "", *md_head(head)]
        for name, s in methods.items():
            cells = [name, f"{s['threshold']:.3f}", *(str(s[k]) for k in ("tp", "fp", "fn", "tn"))]
            cells += [value_ci(s[m]) for m in EVAL_COLUMNS]
            lines.append(md_row(cells))
        lines += [""] + [md_image(p, p) for p in (result.plots or {}).get(target, [])]
    for key in result.by_keys():
        by = md_text(key[3:])
        lines += ["", f"## By {by}", "", f"Each {by} scored on its own windows at the same thresholds; "
                  f"intervals resample that {by}'s {md_text(result.bootstrap.unit)}s only.", ""]
        lines += _period_lines(getattr(result, key))
    return "\n".join(lines) + "\n"


PERIOD_COLUMNS = ("recall", "tss", "hss", "bss")


def _period_rows(periods: dict[str, Any]):
    """(period, target, method, windows, positives, cells) for every scored period, target and method."""
    for period, p in periods.items():
        for target, methods in p["targets"].items():
            for name, s in methods.items():
                cells = [value_ci(s[m]) for m in PERIOD_COLUMNS]
                yield period, target, name, p["n_windows"], s["positives"], cells


def _period_lines(periods: dict[str, Any]) -> list[str]:
    head = ["period", "target", "method", "windows", "positives", *(LABELS.get(c, c) for c in PERIOD_COLUMNS)]
    lines = md_head(head) + [md_row([*map(str, row[:5]), *row[5]]) for row in _period_rows(periods)]
    return lines + [f"- {md_text(period)}: {md_text(p['note'])}." for period, p in periods.items() if p.get("note")]


def period_table(result: Metrics, key: str = "by_year") -> Table:
    """``flarecast evaluate --by year``'s second table: every method's scores per period, with intervals."""
    table = Table(title=f"{key[3:].capitalize()} by {key[3:]}: {_title(result)}")
    for col in ("period", "target", "method", "windows", "positives", *PERIOD_COLUMNS):
        table.add_column(LABELS.get(col, col), justify="left" if col in ("period", "target", "method") else "right")
    for period, target, name, n, pos, cells in _period_rows(getattr(result, key)):
        table.add_row(period, target, name, str(n), str(pos), *map(escape, cells))
    notes = [f"{period}: {p['note']}." for period, p in getattr(result, key).items() if p.get("note")]
    if notes:
        table.caption = " ".join(notes)
    return table


def providers_table(result: dict[str, Any]) -> list[Table]:
    """``flarecast evaluate --forecasts A B ...``: per target, each file's scores on the common days, then the
    paired differences against the first file."""
    tables = []
    for target, e in result["targets"].items():
        t = Table(title=f"{target}: {e['days']} common days {e['from'][:10]} to {e['to'][:10]}, base rate "
                        f"{e['base_rate']:.3f} (95% CI, bootstrap over UTC days)")
        for col in ("file", "threshold", "positives", *EVAL_COLUMNS):
            t.add_column(col, justify="left" if col == "file" else "right")
        for name, s in e["scores"].items():
            cells = [value_ci(s[m]) for m in EVAL_COLUMNS]
            t.add_row(escape(name), f"{s['threshold']:.3f}", str(s["positives"]), *map(escape, cells))
        for p in e["paired"]:
            t.add_row(escape(f"{p['a']} - {p['b']}"), "", "", "", "", escape(value_ci(p["tss"])), "",
                      escape(value_ci(p["bss"])), "")
        if e["paired"]:
            t.caption = "Rows 'a - b': paired differences of TSS and BSS, intervals from the same resampled days."
        tables.append(t)
    return tables

