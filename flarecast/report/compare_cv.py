"""``flarecast compare --cv``'s report (Markdown, HTML), read from ``comparison-cv.json`` (a
:class:`~flarecast.model.documents.CVComparison`) by attribute.

Per target: every method's pooled out-of-fold scores with 95% intervals, its HSS and TSS in each held-out
period, its paired differences against CE and its thresholds per period; the verdicts; the folds; the
training of each ensemble.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flarecast.model.documents import CVComparison
from flarecast.report.formats import (
    LABELS,
    fmt,
    markdown_to_html,
    md_code,
    md_head,
    md_row,
    md_text,
    value_ci,
)
from flarecast.util import atomic_write_text

POOLED = "pooled"
POOLED_SCORES = ("recall", "hss", "tss", "far", "bss")
PERIOD_SCORES = ("hss", "tss")
CASE_SCORES = ("recall", "hss", "tss", "far")


def _label(score: str) -> str:
    return LABELS.get(score, score)


def cell(s: dict[str, Any] | None, *, interval: bool = True) -> str:
    """``0.42 [0.33, 0.50]`` (or ``0.42``); ``n/a`` where the period was not scored."""
    if s is None:
        return "n/a"
    return value_ci(s) if interval else fmt(s["value"])


def periods(c: CVComparison, target: str) -> list[str]:
    return [p for p in c.targets[target]["periods"] if p != POOLED]


def _targets(c: CVComparison) -> list[str]:
    chosen = [t for t in ("X", ">=M") if t in c.targets]
    return chosen or list(c.targets)


def _intro(c: CVComparison) -> list[str]:
    cv, boot = c.cv, c.bootstrap
    ens = [n for n, m in c.methods.items() if m["kind"] != "baseline"]
    members = len(c.methods[ens[0]]["members"]) if ens else 0
    first = next(iter(c.targets.values()))
    scheme = md_text(cv["scheme"] + (f", by {cv['by']}" if cv["by"] else f", k = {cv['k']}"))
    return [
        f"{len(ens)} loss settings, each a cross-validated ensemble ({scheme}; {len(c.folds)} folds x "
        f"{len(cv['seeds'])} seed(s) = {members} members; pool {md_text(', '.join(cv['pool']))}; early stopping "
        f"{md_code(cv['val'])}), "
        "trained as `flarecast train` trains the config. Every method is scored on the same "
        f"{first['windows']} out-of-fold windows; positives: "
        + ", ".join(f"{md_text(t)} {b['positives']}" for t, b in c.targets.items()) + ".", "",
        "Each held-out period is forecast as if unseen: by its fold's members (logistic regression and trees: "
        "fitted on the fold's training part only), with a calibration map (chosen as "
        f"{md_code('train.cv.calibration: ' + str(cv['calibration']))} says) and a threshold (rule "
        f"{md_code(c.rule)}) fitted on the "
        "other folds only. Persistence: a flare of the class in the previous horizon. BSS is against the fold's "
        "training base rate (pooled: the pooled out-of-fold rate).", "",
        f"Cells: value [95% interval over {boot['n_boot']} resamples of whole {md_text(boot['unit'])}s]; every method is "
        "scored on the same resamples, so the differences against CE are paired (taken resample by resample).", "",
    ]


def compare_cv_markdown(c: CVComparison) -> str:
    """``report-cv.md``: verdicts, folds, the case-study table, per-target tables, training."""
    lines = ["# flarecast compare --cv: cross-entropy against focal loss, cross-validated ensembles", "",
             *_intro(c), "## Verdicts", "",
             f"The focal setting quoted against CE is alpha {c.quoted['alpha']:g}, gamma {c.quoted['gamma']:g} "
             f"({md_text(c.quoted['why'])}); focal beats CE on a score only when the 95% interval of the paired "
             "difference lies above 0.", ""]
    lines += [f"- {md_text(v['sentence'])}" for v in c.verdicts.values()]
    lines += ["", "## Folds", "", *_fold_lines(c), "", "## Case study (pooled out-of-fold)", ""]
    targets = _targets(c)
    head = ["method"] + [f"{t} {_label(k)}" for t in targets for k in CASE_SCORES]
    lines += md_head(head)
    lines += [md_row([n, *(cell(score(c, t, n, POOLED, k)) for t in targets for k in CASE_SCORES)])
              for n in c.methods]
    for t in c.targets:
        lines += ["", f"## {md_text(t)}", "", *_target_lines(c, t)]
    lines += ["", "## Training", "", *_training_lines(c)]
    return "\n".join(lines) + "\n"


def score(c: CVComparison, target: str, method: str, period: str, score: str) -> dict[str, Any] | None:
    return c.targets[target]["scores"].get(method, {}).get(period, {}).get(score)


def _target_lines(c: CVComparison, t: str) -> list[str]:
    held = periods(c, t)
    block = c.targets[t]
    head = ["method", "calibration", *(_label(k) for k in POOLED_SCORES),
            *(f"{_label(k)} {p}" for p in held for k in PERIOD_SCORES)]
    lines = ["Pooled out-of-fold scores, then HSS and TSS in each held-out period:", "", *md_head(head)]
    for n, m in c.methods.items():
        lines.append(md_row([n, m["calibration"][t], *(cell(score(c, t, n, POOLED, k)) for k in POOLED_SCORES),
                           *(cell(score(c, t, n, p, k)) for p in held for k in PERIOD_SCORES)]))
    head = ["method - CE", *(_label(k) for k in POOLED_SCORES), *(f"HSS {p}" for p in held)]
    lines += ["", "Paired differences against CE (same resamples):", "", *md_head(head)]
    for n, d in block["paired"].items():
        lines.append(md_row([n, *(cell(d.get(POOLED, {}).get(k)) for k in POOLED_SCORES),
                           *(cell(d.get(p, {}).get("hss")) for p in held)]))
    head = ["method", *(f"threshold {p}" for p in held)]
    lines += ["", "Thresholds (each chosen on the other folds):", "", *md_head(head)]
    for n in c.methods:
        thr = [block["scores"].get(n, {}).get(p, {}).get("threshold") for p in held]
        lines.append(md_row([n, *("n/a" if v is None else f"{v:.4g}" for v in thr)]))
    return lines


def _fold_lines(c: CVComparison) -> list[str]:
    targets = list(c.targets)
    head = ["fold", "held out", "train windows", "val windows", "held-out windows",
            *(f"{t} held-out positives" for t in targets)]
    lines = md_head(head)
    for f in c.folds:
        when = f"{f['held_out']['from'][:10]} to {f['held_out']['to'][:10]}" if f["held_out"]["from"] else "regions"
        lines.append(md_row([f["name"], when, *(str(f[p]["windows"]) for p in ("train", "val", "test")),
                             *(str(f["test"]["positives"][t]) for t in targets)]))
    return lines


def _training_lines(c: CVComparison) -> list[str]:
    head = ["setting", "loss", "directory", "members", "epochs run (best)", "seconds"]
    lines = md_head(head)
    for n, m in c.methods.items():
        if m["kind"] == "baseline":
            continue
        epochs = ", ".join(f"{mm['epochs_run']} ({mm['best_epoch']})" for mm in m["members"])
        secs = "reused" if m["reused"] else f"{m['seconds']:.0f}"
        lines.append(md_row([n, md_code(m["loss"], table=True), md_code(m["model_dir"], table=True),
                             str(len(m["members"])), epochs, secs]))
    return lines + ["", f"Report made in {c.wall_seconds:.0f} s; flarecast {md_text(c.flarecast_version)}."]


def write_compare_cv_report(c: CVComparison, out: str | Path) -> tuple[Path, Path]:
    """Write ``report-cv.md`` and ``report-cv.html`` (self-contained) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md = compare_cv_markdown(c)
    atomic_write_text(out / "report-cv.md", md)
    atomic_write_text(out / "report-cv.html", markdown_to_html(md, out, "flarecast compare --cv"))
    return out / "report-cv.md", out / "report-cv.html"
