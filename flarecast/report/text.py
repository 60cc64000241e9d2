"""Tables and reports from evaluation and comparison results: rich tables, Markdown, HTML.

The demo's two-model comparison (:func:`comparison_markdown`), ``flarecast evaluate``'s table and report
(:func:`metrics_table`, :func:`evaluation_markdown`) and ``flarecast compare``'s report
(:func:`write_compare_report`), with the heat-map grid and the one-sentence verdict per target that a
comparison records (:func:`heatmap`, :func:`verdict`). Everything here reads the documented JSON results.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
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


EVAL_COLUMNS = ("recall", "far", "tss", "hss", "bss", "roc_auc")
_LABELS = {"far": "FAR", "pofd": "POFD", "tss": "TSS", "hss": "HSS", "bss": "BSS", "roc_auc": "ROC AUC",
           "pr_auc": "PR AUC"}


def _title(result: dict[str, Any]) -> str:
    where = "every window" if result["split"] == "all" else f"{result['split']} split"
    unit = result.get("bootstrap", {}).get("unit", "UTC day")
    return f"{where}, {result['n_windows']} windows (95% CI, bootstrap over {unit}s)"


def metrics_table(result: dict[str, Any], *, key: str = "targets") -> Table:
    """``flarecast evaluate``'s table: one row per target and method (``key="targets_undegraded"``: a backtest's
    scores without its degraded rows)."""
    title = _title(result)
    if key != "targets":
        n = result["n_windows"] - result["degraded"]["windows"]
        title = f"without degraded rows: {n} of {result['n_windows']} windows (95% CI, bootstrap over UTC days)"
    elif result.get("degraded", {}).get("windows"):
        title += f", {result['degraded']['windows']} degraded"
    table = Table(title=title)
    for col in ("target", "method", "threshold", "positives", *EVAL_COLUMNS):
        table.add_column(col, justify="left" if col in ("target", "method") else "right")
    for target, methods in result[key].items():
        for name, s in methods.items():
            cells = [f"{_fmt(s[m]['value'])} [{_fmt(s[m]['ci'][0])}, {_fmt(s[m]['ci'][1])}]" for m in EVAL_COLUMNS]
            table.add_row(target, name, f"{s['threshold']:.3f}", str(s["positives"]), *cells)
    if result.get("notes") and key == "targets":
        table.caption = " ".join(f"Note: {n}." for n in result["notes"])
    return table


def evaluation_markdown(result: dict[str, Any]) -> str:
    """``report.md`` of ``flarecast evaluate``: the scores with intervals, the notes, the figures."""
    period = result.get("period", {})
    lines = [f"# Evaluation of {result['model']} ({result.get('loss')})", "",
             f"{_title(result)}; issued {period.get('from')} to {period.get('to')}; class convention "
             f"`{result['convention']}`. Each cell: value [95% interval]. `model` uses the threshold chosen on "
             "validation (from the model card), `model@0.5` the threshold 0.5; climatology is the training base rate.",
             ""]
    lines += [f"- Note: {n}." for n in result.get("notes", [])]
    for target, methods in result["targets"].items():
        head = ["method", "threshold", "TP", "FP", "FN", "TN", *(_LABELS.get(c, c) for c in EVAL_COLUMNS)]
        lines += ["", f"## {target}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name, s in methods.items():
            cells = [name, f"{s['threshold']:.3f}", *(str(s[k]) for k in ("tp", "fp", "fn", "tn"))]
            cells += [f"{_fmt(s[m]['value'])} [{_fmt(s[m]['ci'][0])}, {_fmt(s[m]['ci'][1])}]" for m in EVAL_COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [""] + [f"![{p}]({p})" for p in result.get("plots", {}).get(target, [])]
    return "\n".join(lines) + "\n"


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
            cells = [f"{_fmt(s[m]['value'])} [{_fmt(s[m]['ci'][0])}, {_fmt(s[m]['ci'][1])}]" for m in EVAL_COLUMNS]
            t.add_row(name, f"{s['threshold']:.3f}", str(s["positives"]), *cells)
        for p in e["paired"]:
            t.add_row(f"{p['a']} - {p['b']}", "", "", "", "", f"{_fmt(p['tss']['value'])} [{_fmt(p['tss']['ci'][0])}, "
                      f"{_fmt(p['tss']['ci'][1])}]", "", f"{_fmt(p['bss']['value'])} [{_fmt(p['bss']['ci'][0])}, "
                      f"{_fmt(p['bss']['ci'][1])}]", "")
        if e["paired"]:
            t.caption = "Rows 'a - b': paired differences of TSS and BSS, intervals from the same resampled days."
        tables.append(t)
    return tables


CASE_SCORES = ("recall", "hss", "tss", "far")


def _case_targets(comparison: dict[str, Any]) -> list[str]:
    """The case-study table's targets: X and >=M when the samples have them, else every target."""
    chosen = [t for t in ("X", ">=M") if t in comparison["targets"]]
    return chosen or list(comparison["targets"])


def mean_cell(s: dict[str, Any]) -> str:
    """``0.55 ± 0.08 [0.41, 0.66]``: seed mean, standard deviation over seeds, interval of the seed mean."""
    if s["mean"] is None or not math.isfinite(s["mean"]):
        return "n/a"
    std = f" ± {s['std']:.2f}" if s.get("std") is not None and math.isfinite(s["std"]) else ""
    ci = s.get("ci")
    interval = f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else ""
    # A score undefined for some seeds (no event forecast, say) averages the others: say how many.
    defined = f" ({len(s['values']) - s['undefined']} of {len(s['values'])} seeds)" if s.get("undefined") else ""
    return f"{s['mean']:.2f}{std}{interval}{defined}"


def percent(rate: float) -> str:
    """``19.6%``, or ``0.03%`` for rates under 1% (a rare class would read 0.0%)."""
    return f"{rate:.1%}" if rate >= 0.01 or rate == 0 else f"{rate:.2%}"


def split_table(comparison: dict[str, Any]) -> list[str]:
    """Markdown lines: windows and positive windows (event rate) per split and target, then any warnings."""
    targets = list(comparison["targets"])
    lines = ["| split | windows | " + " | ".join(f"{t} positives" for t in targets) + " |",
             "|" + "---|" * (len(targets) + 2)]
    for name, c in comparison["samples"]["splits"].items():
        n = c["windows"]
        cells = [f"{c['positives'][t]} ({percent(c['positives'][t] / n)})" if n else "0" for t in targets]
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- Warning: {w}." for w in comparison.get("warnings", [])]
    return lines


def compare_markdown(comparison: dict[str, Any], heatmaps: dict[str, str] | None = None) -> str:
    """``report.md`` of ``flarecast compare``: verdicts, the case-study table, heat maps, per-target tables."""
    test, grid = comparison["test"], comparison["grid"]
    targets = _case_targets(comparison)
    n_runs = sum(len(m["runs"]) for m in comparison["methods"].values())
    lines = ["# flarecast compare: cross-entropy against focal loss", "",
             f"{len(comparison['methods'])} loss settings x {len(grid['seeds'])} seeds = {n_runs} trainings on the "
             f"same samples; test split {test['from']} to {test['to']}, {test['windows']} windows in "
             f"{test['groups']} bootstrap groups; class convention `{comparison['convention']}`. Positives: "
             + ", ".join(f"{t} {test['positives'][t]}" for t in comparison["targets"]) + ".", "",
             f"Each cell: seed mean ± {comparison['spread']} [{comparison['interval']}]. Every run's threshold was "
             "chosen on the validation split; the focal setting named in each verdict is the one with the best mean "
             "validation score, so the test split chose nothing.", "", "## Verdicts", ""]
    lines += [f"- {v['sentence']}" for v in comparison["verdicts"].values()]
    lines += ["", "## Samples", "", *split_table(comparison)]
    head = ["method", "loss"] + [f"{t} {c if c == 'recall' else c.upper()}" for t in targets for c in CASE_SCORES]
    lines += ["", "## Case study", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    selected = {v.get("focal") for v in comparison["verdicts"].values()}
    rows = {**comparison["methods"], **comparison["baselines"]}
    for name, m in rows.items():
        label = f"**{name}**" if name in selected else name
        cells = [label, m.get("loss", "baseline")] + [mean_cell(m["targets"][t][c]) for t in targets for c in CASE_SCORES]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Bold: the focal setting chosen on validation for a target. Baselines are single fits (no seed "
              "spread): climatology (training base rate), persistence (a flare of the class in the previous "
              "horizon), logistic regression on window statistics (threshold chosen on validation).", ""]
    for t, path in (heatmaps or {}).items():
        lines += [f"## Heat map, {t}", "", f"![{t} heat map]({path})", ""]
    lines += ["## All scores per target", ""]
    for t in comparison["targets"]:
        cols = ("recall", "precision", "far", "pofd", "tss", "hss", "bss", "roc_auc", "pr_auc")
        lines += [f"### {t}", "", "| method | " + " | ".join(_LABELS.get(c, c) for c in cols) + " |",
                  "|" + "---|" * (len(cols) + 1)]
        for name, m in rows.items():
            lines.append(f"| {name} | " + " | ".join(mean_cell({**m["targets"][t][c], "ci": None}) for c in cols) + " |")
        lines.append("")
    par = comparison["parallel"]
    devices = sorted({r.get("device", "?") for m in comparison["methods"].values() for r in m["runs"]})
    train_s = sum(r["seconds"] for m in comparison["methods"].values() for r in m["runs"])
    lines += [f"pos_weight of `BCE pos_weight`: {_pos_weight_text(grid['pos_weight'])}; alpha of `alpha-CE`: {grid['balanced_alpha']:g}. "
              f"Trainings ran on {', '.join(devices)} ({train_s:.0f} s of training in all); this report took "
              f"{comparison['wall_seconds']:.0f} s on {par['workers']} worker(s), {par.get('reused_runs', 0)} runs "
              "reused from an earlier invocation.", ""]
    return "\n".join(lines)


def heatmap(comparison: dict[str, Any], target: str, alphas, gammas, *, score: str = "hss") -> dict[str, Any]:
    """Seed-mean and standard deviation of the test ``score`` of each focal (alpha, gamma), rows alpha."""
    cells = {(m["alpha"], m["gamma"]): m["targets"][target][score] for m in comparison["methods"].values()
             if m["kind"] == "focal"}
    grid = [[cells.get((a, float(g)), {"mean": float("nan"), "std": float("nan")}) for g in gammas] for a in alphas]
    return {"score": score, "alphas": list(alphas), "gammas": [float(g) for g in gammas],
            "mean": [[c["mean"] for c in row] for row in grid], "std": [[c["std"] for c in row] for row in grid],
            "ce": comparison["methods"]["CE"]["targets"][target][score]["mean"]}


def verdict(comparison: dict[str, Any], target: str, *, score: str = "hss") -> dict[str, Any]:
    """Does the focal setting with the best validation ``score`` beat CE on the test split by more than the
    seed-to-seed spread (the larger of the two standard deviations)? One plain sentence, and its numbers."""
    focal = {n: m for n, m in comparison["methods"].items() if m["kind"] == "focal"}
    val = {n: m["targets"][target]["val"][score]["mean"] for n, m in focal.items()}
    finite = {n: v for n, v in val.items() if np.isfinite(v)}
    ce = comparison["methods"]["CE"]["targets"][target]
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


def compare_table(comparison: dict[str, Any]) -> Table:
    """``flarecast compare``'s table: the case study, seed mean ± standard deviation per cell."""
    targets = _case_targets(comparison)
    table = Table(title=f"Test split, {len(comparison['grid']['seeds'])} seeds: mean ± std over seeds")
    table.add_column("method")
    for t in targets:
        for c in CASE_SCORES:
            table.add_column(f"{t} {c if c == 'recall' else c.upper()}", justify="right")
    for name, m in {**comparison["methods"], **comparison["baselines"]}.items():
        table.add_row(name, *[mean_cell({**m["targets"][t][c], "ci": None}) for t in targets for c in CASE_SCORES])
    return table


def markdown_to_html(text: str, base: Path, title: str = "flarecast report") -> str:
    """Render Markdown to one self-contained HTML page, PNGs under ``base`` embedded as base64."""
    from markdown_it import MarkdownIt  # a dependency of rich

    body = MarkdownIt("commonmark").enable("table").render(text)

    def embed(match: re.Match) -> str:
        path = base / match.group(1)
        if not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="([^":]+\.png)"', embed, body)
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:2px 6px;"
             "text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>{style}</style>"
            f"</head><body>\n{body}</body></html>\n")


def write_compare_report(comparison: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write the heat-map PNGs, ``report.md`` and ``report.html`` of a comparison into ``out``."""
    from flarecast.report.plots import draw_heatmap, slug

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    heatmaps = {}
    for t, data in comparison["heatmap"].items():
        name = f"heatmap_{slug(t)}.png"
        draw_heatmap(data, out / name, title=f"{t}: test {data['score'].upper()}, seed mean ± std")
        heatmaps[t] = name
    md = compare_markdown(comparison, heatmaps)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(markdown_to_html(md, out, "flarecast compare"))
    return out / "report.md", out / "report.html"


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


def _pos_weight_text(pw) -> str:
    if isinstance(pw, dict):
        return ", ".join(f"{w:g} for {t}" for t, w in pw.items()) + " (each target's training odds)"
    return f"{pw:g}"
