"""The forecaster's morning page: one self-contained HTML file (figures embedded as PNG data URIs, no script, no
network), rendered from plain data that :func:`flarecast.jobs.dashboard.dashboard` gathers.

Sections: the latest full-disk probabilities of each model with its threshold, decision and base rate; the
per-region probabilities of the region models; the last days of GOES XRS with the catalogue's flares marked;
the last 30 days of forecasts against what happened; each model's card in brief.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

from flarecast import classes
from flarecast.report.days import day_name
from flarecast.report.formats import forecast_pct

CSS = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.yes{background:#fdd;font-weight:bold}.deg{color:#a60}
img{max-width:100%}.note{color:#555;font-size:.9em}"""


def render(page: dict[str, Any]) -> str:
    """The HTML of the page.

    ``page`` holds ``title``, ``issue_time``, ``store``, ``latest`` (full-disk rows: model, target, probability,
    threshold, decision, base_rate, method, degraded, reason; threshold, decision and base rate may be None),
    ``regions`` (rows: model, harp, noaa_ars, target, probability, threshold, decision), ``xrs`` (``time``,
    ``xrsb``, optional ``xrsa``, ``flares``: peak times and true fluxes, ``convention`` of the flare names) or
    None, ``history`` (rows: issue_time, target, probability, threshold, observed or None while pending),
    ``cards`` (rows of key/value pairs per model), ``notes`` and, for a model of forecast days, ``days`` (the 3-day
    table of :func:`flarecast.report.days.day_table`).
    """
    parts = [f"<h1>{_e(page['title'])}</h1>",
             f"<p>Issued <b>{_e(page['issue_time'])}</b> from store <code>{_e(page['store'])}</code>.</p>"]
    parts += [f"<p class='note'>{_e(n)}</p>" for n in page.get("notes", [])]
    days = page.get("days") or {}
    if len(days.get("days", ())) > 1:  # a model of forecast days: SWPC's 3-day table first
        parts += ["<h2>Next days: full-disk probabilities</h2>", _table(
            ["class", *(f"day {d['day']}: {day_name(d)}" for d in days["days"])],
            [[f"Class {r['class']}", *(forecast_pct(p) for p in r["probabilities"])]
             for r in days["rows"]], left=(0,))]
    parts += ["<h2>Full-disk probabilities</h2>", _table(
        ["model", "target", "probability", "threshold", "decision", "base rate", "method"],
        [[r["model"], r["target"], _p(r["probability"]), _p(r["threshold"]), _decision(r["decision"]),
          _p(r["base_rate"]),
          (r["method"] + (f" (degraded: {r['reason']})" if r["degraded"] else ""), "deg" if r["degraded"] else "")]
         for r in page["latest"]], left=(0, 1, 6))]
    parts += [f"<p class='note'>{_e(why)}</p>" for why in map(_why_yes, page["latest"]) if why]
    if page["regions"]:
        parts += ["<h2>Per-region probabilities</h2>", _table(
            ["model", "HARP", "NOAA ARs", "target", "probability", "threshold", "decision"],
            [[r["model"], str(r["harp"]), " ".join(map(str, r["noaa_ars"])) or "-", r["target"], _p(r["probability"]),
              _p(r["threshold"]), _decision(r["decision"])]
             for r in page["regions"]], left=(0, 3))]
    parts.append("<h2>GOES XRS, last 7 days</h2>")
    parts.append(_img(_xrs_png(page["xrs"]), "GOES XRS flux with flares") if page["xrs"] is not None else
                 "<p class='note'>The store holds no GOES XRS series for these days.</p>")
    parts.append("<h2>Last 30 days: forecasts against what happened</h2>")
    if page["history"]:
        parts.append(_img(_history_png(page["history"]), "daily forecasts and observed flares"))
        head, rows = _history_table(page["history"])
        parts.append(_table(head, rows, left=(0,)))
    else:
        parts.append("<p class='note'>No forecast in the last 30 days.</p>")
    parts.append("<h2>Model cards</h2>")
    for name, rows in page["cards"].items():
        parts += [f"<h3>{_e(name)}</h3>", _table(["key", "value"], [[k, v] for k, v in rows], left=(0, 1))]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>" + _e(page["title"]) +
            f"</title><style>{CSS}</style></head><body>" + "\n".join(parts) + "</body></html>\n")


def _why_yes(r: dict[str, Any]) -> str | None:
    """Beside a YES: the numbers behind it, so that an X "YES" at p = 0.12 reads as what it is."""
    if not r.get("decision") or r.get("threshold") is None:
        return None
    base = r.get("base_rate")
    ratio = f", {r['probability'] / base:.1f} times the training base rate {base:.3f}" if base else ""
    rule = f"; the threshold was {r['rule']}" if r.get("rule") else ""
    return (f"{r['model']} {r['target']} YES: probability {r['probability']:.3f} is at or above the threshold "
            f"{r['threshold']:.3f}{ratio}{rule}. A YES means the probability passed the rule's cut-off, not that a "
            "flare is likely.")


def _history_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list]]:
    """One row per issue time, every target side by side (probability and what happened), times as
    ``2013-10-25 00:00 UTC``; each target's threshold (the latest) in its column's heading."""
    targets = list(dict.fromkeys(r["target"] for r in rows))
    last = {r["target"]: r["threshold"] for r in rows}
    head = ["issue time"]
    for t in targets:
        head += [f"P({t})" + (f" (threshold {last[t]:.3f})" if last[t] is not None else ""), f"{t} happened"]
    by_time: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_time.setdefault(r["issue_time"], {})[r["target"]] = r
    out = []
    for time_ in sorted(by_time):
        cells = [_readable(time_)]
        for t in targets:
            r = by_time[time_].get(t)
            seen = "-" if r is None else "pending" if r["observed"] is None else ("yes" if r["observed"] else "no")
            cells += ["-" if r is None else _p(r["probability"]), (seen, "yes" if seen == "yes" else "")]
        out.append(cells)
    return head, out


def _readable(iso: str) -> str:
    """``2013-10-25T00:00:00Z`` -> ``2013-10-25 00:00 UTC``."""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 and iso[10] == "T" else iso


def _table(head: list[str], rows: list[list], left=()) -> str:
    def cell(tag: str, i: int, v) -> str:
        text, cls = v if isinstance(v, tuple) else (v, "")
        classes_ = " ".join(c for c in (cls, "l" if i in left else "") if c)
        return f"<{tag}{f' class={chr(39)}{classes_}{chr(39)}' if classes_ else ''}>{_e(text)}</{tag}>"

    out = ["<table><tr>" + "".join(cell("th", i, h) for i, h in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows]
    return "".join(out) + "</table>"


def _xrs_png(xrs: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.semilogy(xrs["time"], xrs["xrsb"], lw=0.8, color="C3", label="XRS-B 0.1-0.8 nm")
    if xrs.get("xrsa") is not None and np.isfinite(xrs["xrsa"]).any():
        ax.semilogy(xrs["time"], xrs["xrsa"], lw=0.8, color="C0", label="XRS-A 0.05-0.4 nm")
    peaks, flux = xrs["flares"]
    labelled = set()
    for t, f in zip(peaks, flux, strict=True):
        kind = "M or X flare peak (catalogue)" if f >= 1e-5 else "C flare peak (catalogue)"
        ax.axvline(t, color="0.6" if f >= 1e-5 else "0.88", lw=0.6, zorder=0, label=None if kind in labelled else kind)
        labelled.add(kind)
        if f >= 1e-5:  # C flares are many: lines only; M and X are named
            name = classes.format_class(float(classes.from_true(f, "xrsb", xrs["convention"])))
            ax.annotate(name, (t, f), fontsize=7, rotation=90, va="bottom", ha="center")
    for name, level in (("C", 1e-6), ("M", 1e-5), ("X", 1e-4)):
        ax.axhline(level, color="0.85", lw=0.6, zorder=0)
        ax.text(1.002, level, name, transform=ax.get_yaxis_transform(), fontsize=8, va="center")
    ax.set(ylabel="W m$^{-2}$ (true irradiance)", xlabel="time (UTC)", title="GOES XRS flux, last 7 days")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)  # beside the axes: it hides no data
    return _png(fig)


def _history_png(rows: list[dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(r["target"] for r in rows))
    fig, axes = plt.subplots(len(targets), 1, figsize=(10, 1.8 * len(targets) + 0.6), sharex=True, squeeze=False)
    for ax, target in zip(axes[:, 0], targets, strict=True):
        own = [r for r in rows if r["target"] == target]
        t = np.array([np.datetime64(r["issue_time"].rstrip("Z")) for r in own])
        ax.plot(t, [r["probability"] for r in own], marker="o", ms=3, lw=1, label=f"P({_plain(target)})")
        ax.axhline(own[-1]["threshold"], color="0.5", ls="--", lw=0.8, label="threshold")
        hit = np.array([r["observed"] is True for r in own])
        ax.scatter(t[hit], np.ones(hit.sum()), marker="v", color="C3", zorder=3, label="flare happened")
        ax.set_ylim(-0.02, 1.08)
        ax.set(ylabel=f"P({_plain(target)})", title=f"{_plain(target)}: daily forecast and what happened")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)  # beside the axes: it hides no event
    axes[-1, 0].set_xlabel("issue time (UTC)")
    return _png(fig)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{_e(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _p(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def _decision(d: bool | None) -> tuple[str, str]:
    return ("-", "") if d is None else ("YES", "yes") if d else ("no", "")


def _plain(text) -> str:
    """Text from data as matplotlib shows it: ``$`` would start mathtext (and a parse error)."""
    return str(text).replace("$", r"\$")


def _e(v) -> str:
    return html.escape(str(v), quote=True)
