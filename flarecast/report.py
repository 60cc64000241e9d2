"""Comparison tables (focal vs cross-entropy) as JSON rows, Markdown and rich tables, from evaluation results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.table import Table

COLUMNS = ("recall", "hss", "tss")


def comparison_rows(evaluation: dict[str, Any], targets, *, method: str = "model") -> dict[str, Any]:
    """One method's scores per target: value and 95% interval of recall, HSS, TSS (and FAR), threshold, counts."""
    rows = {}
    for t in targets:
        s = evaluation["targets"][t][method]
        row = {"threshold": s["threshold"], "positives": s["positives"], "n": s["n"],
               "tp": s["tp"], "fp": s["fp"], "fn": s["fn"], "tn": s["tn"]}
        for m in (*COLUMNS, "far"):
            row[m] = s[m]["value"]
            row[f"{m}_ci"] = s[m]["ci"]
        rows[t] = row
    return rows


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{100 * v:.0f}%" if pct else f"{v:.2f}"


def _cell(row: dict, m: str) -> str:
    lo, hi = row[f"{m}_ci"]
    pct = m == "recall"
    if pct:  # recall in per cent, interval without repeating the sign: "84% [76, 91]"
        return f"{_fmt(row[m], True)} [{_fmt(lo, True).rstrip('%')}, {_fmt(hi, True).rstrip('%')}]"
    return f"{_fmt(row[m])} [{_fmt(lo)}, {_fmt(hi)}]"


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
                     + f"; class convention: {comparison['convention']}; thresholds chosen on validation")
    return table


def comparison_markdown(comparison: dict[str, Any], targets=("X", ">=M")) -> str:
    head = ["method", "loss"] + [f"{t} {m if m == 'recall' else m.upper()}" for t in targets for m in COLUMNS]
    lines = ["# flarecast demo: focal loss vs cross-entropy", "",
             f"Test split {comparison['test']['from']} to {comparison['test']['to']}, "
             f"{comparison['test']['windows']} windows issued hourly, 24-hour horizon, class convention "
             f"`{comparison['convention']}`. Positives: "
             + ", ".join(f"{t}: {comparison['test']['positives'][t]}" for t in targets) + ".", "",
             "Each cell: value [95% interval from 1000 bootstrap resamples of whole UTC days]. Thresholds were "
             "chosen on the validation split (maximising HSS) before the test split was scored.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    losses = comparison.get("losses", {})
    for name, rows in {**comparison["methods"], **comparison.get("baselines", {})}.items():
        cells = [name, losses.get(name, "baseline")] + [_cell(rows[t], m) for t in targets for m in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Thresholds and 2x2 tables:", ""]
    for name, rows in comparison["methods"].items():
        for t in targets:
            r = rows[t]
            lines.append(f"- {name} {t}: threshold {r['threshold']:.3f}, TP {r['tp']}, FP {r['fp']}, "
                         f"FN {r['fn']}, TN {r['tn']}, FAR {_fmt(r['far'])}")
    if "training" in comparison:
        lines += ["", "Training: " + "; ".join(
            f"{k}: best epoch {v['best_epoch']} of {v['epochs_run']}, {v['seconds']} s" for k, v in comparison["training"].items())]
    lines += ["", "With this many X-positive windows (they come in runs of up to 24 from the same flare), "
              "differences inside the intervals are not evidence that one loss beats the other.", ""]
    return "\n".join(lines)


def metrics_table(result: dict[str, Any]) -> Table:
    """``flarecast evaluate``'s table: one row per target and method."""
    table = Table(title=f"{result['split']} split, {result['n_windows']} windows (95% CI, bootstrap over days)")
    for col in ("target", "method", "threshold", "positives", "recall", "far", "tss", "hss", "bss"):
        table.add_column(col, justify="left" if col in ("target", "method") else "right")
    for target, methods in result["targets"].items():
        for name, s in methods.items():
            cells = [f"{_fmt(s[m]['value'])} [{_fmt(s[m]['ci'][0])}, {_fmt(s[m]['ci'][1])}]"
                     for m in ("recall", "far", "tss", "hss", "bss")]
            table.add_row(target, name, f"{s['threshold']:.3f}", str(s["positives"]), *cells)
    return table


def ingest_table(report: dict[str, Any]) -> Table:
    """``flarecast ingest``'s table: one row per file read."""
    table = Table(title="Ingest")
    cols = ("file", "reader", "rows read", "masked", "rows added", "duplicates", "time range")
    for col in cols:
        table.add_column(col, justify="right" if col in ("rows read", "rows added", "duplicates") else "left")
    for f in report.get("files", []):
        masked = ", ".join(f"{k} {v}" for k, v in (f.get("masked") or {}).items() if v) or "0"
        tr = f.get("time_range") or ["", ""]
        table.add_row(Path(f["path"]).name, str(f.get("reader", "")), str(f.get("rows_read", "")), masked,
                      str(f.get("rows_added", "")), str(f.get("duplicates_skipped", "")), " to ".join(map(str, tr)))
    for path, why in report.get("skipped", []):
        table.add_row(Path(path).name, "[red]skipped[/]", "", "", "", "", str(why))
    return table
