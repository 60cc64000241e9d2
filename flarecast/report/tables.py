"""What the commands print, as rich renderables built from the same plain results ``--json`` prints.

The command line only parses and calls; it prints what these functions return (:func:`flarecast.cli._util.emit`),
so the table and the JSON cannot disagree. One function per command (``<command>_summary``), taking the result
the command prints as JSON; the larger evaluation tables they show come from :mod:`flarecast.report.text`.
Text from data (paths, notes, sentences) is escaped, so brackets in it are printed, not read as rich markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.markup import escape
from rich.table import Table

from flarecast.classes import split_target
from flarecast.model.card import CombinationCard, EnsembleCard, ModelCard
from flarecast.report.days import day_name, day_table
from flarecast.report.formats import LABELS, forecast_pct, threshold_sentence, value_ci

if TYPE_CHECKING:  # the documents' pydantic classes cost a forecast's summary ~20 ms to import
    from flarecast.model.documents import Comparison, CVComparison, Metrics, Scores


def train_summary(s) -> list[str]:
    """What ``flarecast train`` prints: where the model went and what was chosen, after any target warnings.

    ``s`` is :func:`flarecast.train.run.fit`'s summary (a ``SingleFit`` or an ``EnsembleFit``, by ``s.kind``)."""
    warned = [f"[yellow]warning:[/] {escape(w)}" for w in s.warnings]
    if s.kind == "ensemble":
        return [*warned, escape(
            f"ensemble of {s.members} members written to {s.model_dir} in {s.seconds:.0f} s (folds "
            f"{', '.join(map(period_label, s.fold_periods or [{'period': f} for f in s.folds]))}; "
            f"calibration {per_target(s.calibration)}; thresholds {per_target(s.thresholds)} by rule "
            f"{s.threshold_rule}); see `flarecast cv {s.model_dir}`")]
    return [*warned, escape(
        f"model written to {s.model_dir} (best epoch {s.best_epoch} of {s.epochs_run}, validation mean "
        f"PR AUC {s.val_score:.3f}, thresholds {per_target(s.thresholds)})")]


def samples_summary(counts: dict[str, Any]) -> list:
    """Windows, classes and positives per split, dropped windows, gaps and the split plan of ``flarecast samples``."""
    sharp = counts["source"] == "sharp"
    targets = counts["targets"]
    table = Table(title=f"Samples from {counts['store']} ({counts['source']}, {counts['convention']} classes, "
                        f"horizon {counts['horizon']})")
    cols = ["split", "windows", *(["regions"] if sharp else []), "from", "to", "quiet", "C", "M", "X",
            *[f"pos {t}" for t in targets]]
    for col in cols:
        table.add_column(col, justify="left" if col in ("split", "from", "to") else "right")
    for name, sp in counts["splits"].items():
        table.add_row(name, str(sp["windows"]), *([str(sp["regions"])] if sharp else []), sp.get("from", "-"),
                      sp.get("to", "-"), *[str(v) for v in sp["classes"].values()],
                      *[str(sp["positives"][t]) for t in targets])
    g, runs = counts["gaps"], counts["runs"]
    longest = "; ".join(f"{r['from']} to {r['to']} ({r['steps']} steps"
                        + (f", HARP {r['region']})" if r["region"] >= 0 else ")") for r in g["longest"][:3])
    lines = [
        table,
        "dropped windows: " + ", ".join(f"{k} {v}" for k, v in counts["dropped"].items()),
        f"gaps: {g['missing_steps']} of {g['steps']} steps fully missing" + (f"; longest {longest}" if longest else ""),
        "split plan: " + ", ".join(f"{r['split']} {r['from'][:10]}..{r['to'][:10]}" for r in runs[:12])
        + (f" ... ({len(runs)} runs)" if len(runs) > 12 else ""),
    ]
    if counts.get("index"):
        lines.append(f"wrote the sample index to {counts['index']}")
    return lines


def forecast_summary(doc: dict[str, Any], out_file=None) -> list:
    """The last 30 forecast rows of ``flarecast forecast``, refusals and degraded issue times."""
    table = Table(title=f"Forecasts of model {doc['model_id']} ({doc['loss']}): largest flare in the next "
                        f"{doc['horizon']}, {doc['convention']} classes")
    for col in ("issue time", "region", "target", "probability", "threshold", "decision", "coverage", "method"):
        table.add_column(col, justify="left" if col in ("issue time", "target", "decision") else "right")
    rows = doc["forecasts"]
    for r in rows[-30:]:
        table.add_row(r["issue_time"], "" if r["region"] is None else str(r["region"]), r["target"],
                      f"{r['probability']:.3f}", f"{r['threshold']:.3f}", "YES" if r["decision"] else "no",
                      f"{r['coverage']:.0%}", r.get("method", "model") + (" (degraded)" if r.get("degraded") else ""))
    if len(rows) > 30:
        table.caption = f"last 30 of {len(rows)} rows" + (f"; all in {out_file}" if out_file else "; use --out")
    lines: list = [table]
    if any(split_target(t)[1] for t in doc.get("targets", ())):
        lines.append(three_day_table(doc))  # a model of forecast days: the latest issue time as SWPC lays it out
    if doc.get("regions"):
        lines.append(region_rows_table(doc))
    for r in doc["refused"][:5]:
        lines.append(escape(f"refused {r['issue_time']}: {r['detail']}"))  # a reason's [text] is not markup
    if len(doc["refused"]) > 5:
        lines.append(f"... {len(doc['refused'])} issue times refused in all")
    if doc.get("coverage_report", {}).get("degraded"):
        cov = doc["coverage_report"]
        why = next((f"{r['issue_time']}: {r['reason']}" for r in rows if r.get("degraded") and r.get("reason")), "")
        lines.append(escape(f"{cov['degraded']} of {cov['issue_times']} issue times degraded: " + ", ".join(
            f"{m} {n}" for m, n in cov["by_method"].items() if n) + (f"; first, {why}" if why else "")))
    if out_file is not None:
        lines.append(f"wrote {len(rows)} rows to {out_file}")
    return lines


def region_rows_table(doc: dict[str, Any]) -> Table:
    """The regions of the latest issue time of a combination with a region model member: the model's C+, M+ and
    X per region beside SWPC's own, and the regions' product ``1 - prod(1 - p)`` as the caption."""
    last = max(r["issue_time"] for r in doc["regions"])
    rows = [r for r in doc["regions"] if r["issue_time"] == last]
    targets = list(rows[0]["probability"])
    names = {t: CLASS_NAMES[split_target(t)[0]] + (f" d{split_target(t)[1]}" if split_target(t)[1] else "")
             for t in targets}
    table = Table(title=f"regions at {last} (report {rows[0]['report_time']}), next 24h"
                        + (" and the 24 h periods after it (d2, d3)" if any(split_target(t)[1] for t in targets) else ""))
    for col in ("region", "location", "McIntosh", "Hale", *names.values(), "SWPC C/M/X"):
        table.add_column(col, justify="right" if col in names.values() else "left")
    for r in rows:
        table.add_row(str(r["region"]), escape(r["location"]), escape(r["mcintosh"]), escape(r["hale"]),
                      *(forecast_pct(r["probability"][t]) for t in targets),
                      "/".join(forecast_pct(r["swpc"].get(t)) for t in (">=C", ">=M", "X")))
    product = {t: 1.0 - float(np.prod([1.0 - r["probability"][t] for r in rows])) for t in targets}
    table.caption = "regions' product 1 - prod(1 - p): " + ", ".join(
        f"{names[t]} {forecast_pct(p)}" for t, p in product.items()) + "; the full disk above combines it with the flux"
    return table


CLASS_NAMES = {">=C": "C+", ">=M": "M+", "X": "X"}


def three_day_table(doc: dict[str, Any]) -> Table:
    """The full-disk probabilities of the latest issue time per class and forecast day, as SWPC's 3-day
    forecast prints them (:func:`flarecast.forecast.days.day_table`)."""
    return days_table(day_table(doc), doc["convention"])


def days_table(days: dict[str, Any], convention: str, *, title: str | None = None,
               observed: list[str] | None = None) -> Table:
    """A :func:`~flarecast.report.days.day_table` as a table, one column per forecast day; ``observed``: a last
    row with the largest flare class seen on each day (the demo, which forecasts a day of its test split)."""
    table = Table(title=escape(title or f"3-day forecast issued {days['issue_time']}"),
                  caption=f"full-disk probabilities of a flare of the class or above, {convention} classes"
                          + ("; observed: the largest flare class on the day" if observed else ""))
    table.add_column("class")
    for d in days["days"]:
        table.add_column(f"day {d['day']}: {day_name(d)}", justify="right")
    for row in days["rows"]:
        table.add_row(f"Class {row['class']}", *(forecast_pct(p) for p in row["probabilities"]))
    if observed:
        table.add_row("observed", *observed)
    return table


def card_summary(card: ModelCard, model_id: str, model) -> list:
    """``flarecast card``: what a model forecasts, from which inputs, how it was trained and chosen."""
    cfg = card.run_config().samples
    ensemble = isinstance(card, EnsembleCard)
    table = Table(title=f"Model {model_id} ({model})", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    mean, std = card.norm()
    rows = [
        ("loss", card.loss or ""),
        ("forecasts", f"largest flare peaking in the next {card.horizon}: " + ", ".join(card.targets)),
        ("class convention", card.convention),
        ("source", f"{cfg.source}: window {cfg.window} at {card.cadence} steps ({card.window_steps}), "
                   f"at most {cfg.max_missing:.0%} missing"),
        ("channels", ", ".join(f"{c} (mean {m:.3g}, std {s:.3g})" for c, m, s in zip(
            card.channels, mean, std, strict=True))),
        ("thresholds", ", ".join(f"{t} {v:.3f}" for t, v in card.thresholds.items())
         + f" ({threshold_sentence(card.threshold_choice())})"),
        ("climatology", ", ".join(f"{t} {v:.3f}" for t, v in card.climatology.items()) + " (training base rate)"),
        *(_ensemble_rows(card) if ensemble else [("validation", f"best epoch {card.best_epoch}: PR AUC " + ", ".join(
            f"{t} {v:.3f}" for t, v in (card.val or {}).get("val_pr_auc", {}).items() if v is not None))]),
        ("network", ", ".join(f"{k} {v}" for k, v in card.model.items())),
        ("data", f"fingerprint {card.data_fingerprint}"),
        ("weights", f"sha256 {card.weights_sha256}"),
        ("code", f"flarecast {card.code_version}, trained on {card.device}"),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    return [table]


def _ensemble_rows(card: EnsembleCard) -> list[tuple[str, str]]:
    cv = card.cv
    seeds = sorted({m.seed for m in card.members})
    return [
        ("ensemble", f"{len(card.members)} members ({cv.scheme} CV, folds "
                     f"{', '.join(f.name for f in cv.folds)}; seeds {seeds}), {card.combine}"
                     + ("; w (networks' weight, chosen on out-of-fold Brier score): "
                        + ", ".join(f"{t} {w:g}" for t, w in card.blend.weights.items()) if card.blend else "")),
        ("calibration", ", ".join(f"{t} {c.method}" for t, c in card.calibration.items())
         + " (fitted on pooled out-of-fold predictions)"),
        ("out-of-fold", "; ".join(
            f"{t}: BSS {s.raw['bss']:.3f} raw, {s.transferred['bss']:.3f} calibrated; TSS "
            f"{s.transferred['tss']:.3f}, HSS {s.transferred['hss']:.3f} at transferred thresholds"
            for t, s in cv.oof_scores.items())),
    ]


def oof_summary(result: dict[str, Any]) -> list:
    """``flarecast cv``: one table per target, each held-out period beside persistence."""
    tables = []
    for target, rows in result["targets"].items():
        table = Table(title=f"{target}: ensemble (threshold rule {result['threshold_rule']}, calibration "
                            f"{result['calibration'][target]}) vs persistence, 95% intervals by "
                            f"{result['bootstrap']['unit']}")
        for col in ("period", "windows", "events", "threshold", "TSS", "HSS", "BSS", "BSS raw",
                    "persist. TSS", "persist. HSS", "persist. BSS", "beats persist. at (hindsight)"):
            table.add_column(col)
        for r in rows:
            e, p = r["ensemble"], r["persistence"]
            thr = "per fold" if r["threshold"] is None else f"{r['threshold']:.2f}"
            cells = [value_ci(e[k]) for k in ("tss", "hss", "bss", "bss_raw")] + [value_ci(p[k]) for k in ("tss", "hss", "bss")]
            # escape: rich would take "[n/a, n/a]" (an undefined interval) for a style tag and drop it
            table.add_row(period_label(r), str(r["n"]), str(r["positives"]), thr, *map(escape, cells),
                          _beats(r["beats_persistence"]))
        tables.append(table)
    tables.append("last column: the thresholds at which the period's probabilities would have beaten persistence "
                  "on both TSS and HSS, found on the period itself (a description, not a forecast); a * marks a "
                  "period whose own threshold (the threshold column, chosen on the other folds) beat persistence on both too")
    return tables


def period_label(row: dict) -> str:
    """``block0 2011-01-01..2011-07-14``: a fold's name and its held-out days (the name alone said nothing)."""
    held = row.get("held_out")
    return row["period"] if not held else f"{row['period']} {str(held['from'])[:10]}..{str(held['to'])[:10]}"


def per_target(values: dict[str, Any], fmt: str = "{:.2f}") -> str:
    """``>=M 0.24, X 0.10``: one value per target, as a line of text (not a Python dict)."""
    return ", ".join(f"{t} {fmt.format(v) if isinstance(v, float) else v}" for t, v in values.items())


def _beats(b: dict) -> str:
    runs = ", ".join(f"{lo:.2f}" if lo == hi else f"{lo:.2f}-{hi:.2f}" for lo, hi in b["thresholds"]) or "none"
    return f"{runs}{' *' if b['at_threshold'] else ''}"


def simulate_summary(s: dict[str, Any]) -> str:
    """``flarecast simulate``: where the files went and how many flares of each class they hold."""
    counts = ", ".join(f"{c} {n}" for c, n in s["flare_counts"].items())
    files = ", ".join(f"{n} {kind}" for kind, n in s["files"].items())
    return (f"wrote {s['days']} days from {s['start']} to {escape(s['outdir'])} ({files} files): flares by class "
            f"{counts}; {s['n_regions']} active regions")


def ingest_summary(report: dict[str, Any]) -> list:
    """``flarecast ingest``: one row per file read or skipped, then the first warnings (bad rows left out)."""
    warnings = report.get("warnings", [])
    return [ingest_table(report), *(f"[yellow]warning:[/] {escape(w)}" for w in warnings[:5]),
            *([f"... {len(warnings)} warnings in all"] if len(warnings) > 5 else [])]


def ingest_table(report: dict[str, Any]) -> Table:
    """``flarecast ingest``'s table: one row per file read or skipped."""
    table = Table(title="Ingest")
    cols = ("file", "reader", "rows read", "masked", "rows added", "duplicates", "time range")
    for col in cols:
        table.add_column(col, justify="right" if col in ("rows read", "rows added", "duplicates") else "left")
    for f in report.get("files", []):
        masked = ", ".join(f"{k} {v}" for k, v in (f.get("masked") or {}).items() if v) or "0"
        # a file not read (already in the store) has no time range: its note says why
        span = " to ".join(map(str, f["time_range"])) if f.get("time_range") else escape(f.get("note", ""))
        table.add_row(Path(f["path"]).name, str(f.get("reader", "")), str(f.get("rows_read", "")), masked,
                      str(f.get("rows_added", "")), str(f.get("duplicates_skipped", "")), span)
    for path, why in report.get("skipped", []):
        table.add_row(Path(path).name, "[red]skipped[/]", "", "", "", "", escape(str(why)))
    return table


def fetch_summary(report: dict[str, Any]) -> list[str]:
    """``flarecast fetch``: the URLs of a dry run, what was fetched, skipped and failed, and what was ingested."""
    lines = [escape(url) for url in report["planned"]] if report["dry_run"] else []
    lines.append(escape(report["summary"]))
    lines += [f"ingested into {escape(ing['store'])} ({kind}): {len(ing['files'])} files, {ing['rows_added']} rows "
              f"added, {len(ing['skipped'])} skipped" for kind, ing in report["ingested"].items()]
    return lines


def fetch_failures(report: dict[str, Any]) -> list[str]:
    """``flarecast fetch``'s lines for stderr: one per bad copy moved aside, one per failed URL, with the HTTP
    status or the reason; where an archive could not be reached, the variable that points it at a mirror."""
    from flarecast.ingest.fetch.settings import mirror_hint

    moved = [f"[bold yellow]quarantined:[/] {escape(q['path'])}: {escape(q['error'])}; moved to {escape(q['to'])}"
             for q in report.get("quarantined", [])]
    lines = [f"[bold red]failed:[/] {escape(f['url'])}: {escape(f['error'])}" for f in report["failed"]]
    unreachable = [f["url"] for f in report["failed"] if f["error"].startswith(("cannot connect", "timeout"))]
    hint = mirror_hint(unreachable) if unreachable else None
    return moved + lines + ([escape(hint)] if hint else [])


def evaluation_summary(result: Metrics | Scores) -> list:
    """``flarecast evaluate``: the scores of every target and method (``metrics.json``); a backtest's also without
    its degraded rows; with ``--by``, every period's. Several forecasters' files (``scores.json``): a table per
    target, files side by side."""
    from flarecast.model.documents import Scores
    from flarecast.report.text import metrics_table, period_table, providers_table

    if isinstance(result, Scores):  # :func:`flarecast.forecast.providers.score_files`
        return providers_table(result)
    tables = [metrics_table(result)]
    if result.targets_undegraded is not None:
        tables.append(metrics_table(result, key="targets_undegraded"))
    return tables + [period_table(result, key) for key in result.by_keys()]


def compare_summary(comparison: Comparison) -> list:
    """``flarecast compare``: the case-study table, one verdict per target, the split's warnings, the time taken."""
    from flarecast.report.text import compare_table

    return [compare_table(comparison), *(escape(v["sentence"]) for v in comparison.verdicts.values()),
            *(f"[yellow]warning:[/] {escape(w)}" for w in comparison.warnings),
            f"{len(comparison.methods)} loss settings x {len(comparison.grid['seeds'])} seeds in "
            f"{comparison.wall_seconds:.0f} s"]


def compare_cv_summary(c: CVComparison) -> list:
    """``flarecast compare --cv``: a table per target (every method's pooled out-of-fold scores with intervals, its
    HSS and TSS per held-out period), one verdict per target, the time taken."""
    from flarecast.report.compare_cv import PERIOD_SCORES, POOLED, cell, periods, score

    shown: list = []
    pooled = ("recall", "hss", "tss", "bss")
    for t in c.targets:
        held = periods(c, t)
        table = Table(title=f"{t}: out-of-fold, thresholds by rule {c.rule} chosen on the other folds (95% CI, "
                            f"bootstrap over {c.bootstrap['unit']}s)")
        for col in ("method", *(LABELS.get(k, k) for k in pooled), *(f"{LABELS[k]} {p}" for p in held
                                                                       for k in PERIOD_SCORES)):
            table.add_column(col, justify="left" if col == "method" else "right")
        for n in c.methods:
            cells = [cell(score(c, t, n, POOLED, k)) for k in pooled]
            cells += [cell(score(c, t, n, p, k), interval=False) for p in held for k in PERIOD_SCORES]
            table.add_row(n, *map(escape, cells))
        shown.append(table)
    return [*shown, *(escape(v["sentence"]) for v in c.verdicts.values()),
            f"{len(c.methods)} methods out of fold in {c.wall_seconds:.0f} s"]


def demo_summary(comparison: Comparison) -> list:
    """``flarecast demo``: the case-study table and a verdict per target (real data), or the two-model table
    (simulated data), and the time taken."""
    if comparison.data == "simulated":
        from flarecast.report.text import comparison_table

        shown = [comparison_table(comparison)]
    else:
        from flarecast.report.demo import demo_table

        shown = [demo_table(comparison), *map(escape, comparison.plain_verdicts.values())]
        if comparison.day_forecast:
            from flarecast.report.demo import day_forecast_title

            f = comparison.day_forecast
            shown += [escape(day_forecast_title(comparison)),
                      days_table(f["table"], comparison.convention, observed=f["observed"])]
    return [*shown, f"finished in {comparison.wall_seconds:.0f} s"]


def batch_step(step: dict[str, Any]) -> str:
    """One line of ``flarecast batch`` as each step ends: its name, status, seconds and what it did."""
    return escape(f"{step['name']:<16} {step['status']:<8} {step['seconds']:7.1f} s  {step.get('note', '')}")


def batch_summary(log: dict[str, Any]) -> str:
    """``flarecast batch``'s last line: how the job ended and where its log is."""
    partial = [f"{r['name']} ({r['failures']} failed)" for r in log["steps"] if r["status"] == "partial"]
    went_on = f"; went on without what these steps could not get: {', '.join(partial)}" if partial else ""
    gone = log.get("interrupted")
    took_over = (f"; took over from the run of {gone.get('started')} (pid {gone.get('pid')}), interrupted in step "
                 f"{gone.get('step')!r}" if gone else "")
    return escape(f"job {log['status']} in {log['seconds']:.1f} s{took_over}{went_on}; log written to {log['log']}")


def combination_summary(card: CombinationCard) -> list[str]:
    """``flarecast combine``: per target the intercept, each member's weight, the threshold and base rate."""
    return [f"{target}: intercept {w.intercept:.3f}, weights " + ", ".join(
        f"{escape(str(m.path))} {v:.3f}" for m, v in zip(card.members, w.coef, strict=True))
        + f"; threshold {card.threshold(target):.3f}, base rate {card.base_rate(target):.3f}"
        for target, w in card.weights.items()] + [
        *map(escape, card.notes), f"fitted on {card.fit.issue_times} issue times"]


def region_scores_summary(result: dict[str, Any]) -> list:
    """``flarecast evaluate --forecasts solar_regions*.json``: SWPC's per-region probabilities beside flarecast's
    on the same regions and days, one table per target (:func:`flarecast.studies.regions.score_swpc_regions`)."""
    tables: list = []
    for target, entry in result["targets"].items():
        table = Table(title=f"{target}: {entry['n']} region-days, {entry['positives']} with a flare "
                            f"({escape(result['from'])} to {escape(result['to'])}), 95% intervals over regions")
        for col in ("forecast", "threshold", "BSS", "TSS", "HSS", "ROC AUC"):
            table.add_column(col)
        for name, s in entry["scores"].items():
            table.add_row(escape(name), f"{s['threshold']:.3g}", value_ci(s["bss"]), value_ci(s["tss"]),
                          value_ci(s["hss"]), value_ci(s["roc_auc"]))
        tables.append(table)
    return tables + [f"note: {escape(n)}" for n in result.get("notes", [])]


def region_model_summary(card: dict[str, Any]) -> list[str]:
    """``flarecast train-regions``: per target the method chosen, the out-of-fold Brier of each, the threshold."""
    tr = card["training"]
    return [f"{escape(t)}: {card['methods'][t]} (out-of-fold Brier "
            + ", ".join(f"{m} {b:.4f}" for m, b in card["oof_brier"][t].items())
            + f"); threshold {card['thresholds'][t]:.3f}, base rate {card['climatology'][t]:.3f}"
            for t in card["targets"]] + [
        f"trained on {tr['reports']} reports of {tr['regions']} regions, {tr['from'][:10]} to {tr['to'][:10]}"]


def regions_now_summary(doc: dict[str, Any]) -> list:
    """``flarecast regions``: each region's probabilities (SWPC's beside), then the full disk."""
    table = Table(title=f"regions of {escape(doc['file'])}, {doc['issue_time']} to {doc['valid_to']} "
                        f"({doc['method']}, fitted on {doc['fitted_on']['reports']} reports "
                        f"{doc['fitted_on']['from'][:10]} to {doc['fitted_on']['to'][:10]})")
    for col in ("region", "location", "McIntosh", "Hale", "area", "C+", "M+", "X", "SWPC C/M/X"):
        table.add_column(col)

    for r in doc["regions"]:
        p, s = r["probability"], r["swpc"]
        table.add_row(str(r["region"]), escape(r["location"]), escape(r["mcintosh"]), escape(r["hale"]),
                      "-" if r["area"] is None else f"{r['area']:.0f}", forecast_pct(p[">=C"]), forecast_pct(p[">=M"]), forecast_pct(p["X"]),
                      "/".join(forecast_pct(s[g]) for g in (">=C", ">=M", "X")))
    fd = doc["full_disk"]
    return [table, f"full disk (1 - prod(1 - p)): C+ {forecast_pct(fd['>=C'])}, M+ {forecast_pct(fd['>=M'])}, "
                   f"X {forecast_pct(fd['X'])}",
            "with the X-ray flux: `flarecast forecast COMBINATION --regions ...` (docs/regions.md)"]
