"""Small text formatters the tables and reports share, and the Markdown-to-HTML step of every HTML report.

A score (:func:`fmt`), a score with its interval (:func:`value_ci`), a seed mean with its spread and interval
(:func:`mean_cell`), a rate in per cent (:func:`percent`), a forecast probability in per cent
(:func:`forecast_pct`), how thresholds were chosen (:func:`threshold_sentence`),
the heading of a score column (:data:`LABELS`), the lines of a Markdown table (:func:`md_head`, :func:`md_row`),
and a Markdown report as one self-contained HTML page (:func:`markdown_to_html`). They read entries of the
documented JSON results.

Text from data (file, fold, region and method names, config values, warnings) enters Markdown only through
:func:`md_text`, :func:`md_code` or a table cell, which escape it: a fold named ``<img src=x onerror=alert(1)>`` or
``a | b`` renders as that text, never as an element or a new cell. :func:`markdown_to_html` also renders with raw
HTML off, so a string that slips past the escaping still shows as text.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flarecast.metrics.thresholds import ThresholdRule

LABELS = {"far": "FAR", "pofd": "POFD", "tss": "TSS", "hss": "HSS", "bss": "BSS", "roc_auc": "ROC AUC",
          "pr_auc": "PR AUC"}
"""Column headings of the scores whose heading is not their name; other names are their own heading."""


def fmt(v: float | None, pct: bool = False) -> str:
    """``0.55``, or ``55%`` with ``pct``; ``n/a`` for None and NaN (an undefined score).

    >>> fmt(0.5512), fmt(0.836, pct=True), fmt(float("nan"))
    ('0.55', '84%', 'n/a')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{100 * v:.0f}%" if pct else f"{v:.2f}"


def value_ci(s: dict[str, Any]) -> str:
    """``0.55 [0.41, 0.66]``: a score entry's ``value`` and ``ci`` (``n/a`` where undefined).

    >>> value_ci({"value": 0.5512, "ci": [0.405, float("nan")]})
    '0.55 [0.41, n/a]'
    """
    return f"{fmt(s['value'])} [{fmt(s['ci'][0])}, {fmt(s['ci'][1])}]"


def mean_cell(s: dict[str, Any]) -> str:
    """``0.55 ± 0.08 [0.41, 0.66]``: seed mean, standard deviation over seeds, interval of the seed mean."""
    if s["mean"] is None or not math.isfinite(s["mean"]):
        return "n/a"
    std = f" ± {s['std']:.2f}" if s.get("std") is not None and math.isfinite(s["std"]) else ""
    ci = s.get("ci")
    interval = f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else ""
    # A score undefined for some seeds (no event forecast, say) averages the others: say how many.
    defined = f" ({len(s['values']) - s['undefined']} of {len(s['values'])} seeds)" if s.get("undefined") else ""
    return f"{s['mean']:.2f}{std}{interval}{defined}"


def percent(rate: float) -> str:
    """``19.6%``, or ``0.03%`` for rates under 1% (a rare class would read 0.0%)."""
    return f"{rate:.1%}" if rate >= 0.01 or rate == 0 else f"{rate:.2%}"


def forecast_pct(p: float | None) -> str:
    """A forecast probability as a forecaster reads it, in whole per cent (``-`` for none): ``<1%`` and ``>99%``
    at the ends, where rounding would print an impossible ``0%`` or ``100%``.

    >>> [forecast_pct(p) for p in (None, 0.0, 0.003, 0.2049, 0.9962, 1.0)]
    ['-', '0%', '<1%', '20%', '>99%', '100%']
    """
    if p is None:
        return "-"
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1:
        return ">99%"
    return f"{round(100 * p):d}%"


def threshold_sentence(choice: dict[str, Any]) -> str:
    """How thresholds were chosen, from a ``threshold_rule`` block (a card's
    :meth:`~flarecast.model.card.ModelCard.threshold_choice`): the rule's one sentence
    (:meth:`flarecast.metrics.thresholds.ThresholdRule.sentence`).

    >>> threshold_sentence({"rule": "hss", "chosen_on": "validation split"})
    'chosen on the validation split by maximising HSS'
    >>> threshold_sentence({"rule": "cost:4", "chosen_on": "pooled out-of-fold predictions"})
    'chosen on the pooled out-of-fold predictions by minimising 4 x misses + false alarms'
    """
    return ThresholdRule.from_choice(choice).sentence()


class Md(str):
    """Text that is already Markdown (``**name**``, a code span): table cells pass it through unescaped."""


_INLINE = re.compile(r"([\\`*_\[\]<>&|~#!])")


def md_text(value: Any) -> Md:
    """``value`` as Markdown that renders as exactly its text, on one line: the characters that open HTML, code,
    emphasis, links, entities or table cells are backslash-escaped, and so is a first character that would start
    a list, quote or heading.

    >>> md_text("<img src=x onerror=alert(1)>.csv"), md_text("a | b"), md_text("1. fold")
    ('\\\\<img src=x onerror=alert(1)\\\\>.csv', 'a \\\\| b', '1\\\\. fold')
    """
    text = _INLINE.sub(r"\\\1", " ".join(str(value).split()))
    if m := re.match(r"^\d{1,9}[.)](?= |$)", text):  # "1. fold" would open an ordered list
        text = text[:m.end() - 1] + "\\" + text[m.end() - 1:]
    elif re.match(r"^[-+=]( |$)|^[-=]+$", text):  # a bullet, a rule, a heading's underline
        text = "\\" + text
    return Md(text)


def md_code(value: Any, *, table: bool = False) -> Md:
    """``value`` as one code span (a fence longer than any run of backticks in it); ``table``: ``|`` escaped, as
    a cell needs (GFM unescapes it inside the span)."""
    text = " ".join(str(value).split())
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    if table:
        text = text.replace("|", "\\|")
    return Md(f"{fence} {text} {fence}")  # empty: "` `", a code span of one space, as CommonMark renders it


def md_image(alt: Any, path: Any) -> Md:
    """``![alt](<path>)``: an image whose alt text and file name are data."""
    dest = re.sub(r"([<>\\])", r"\\\1", " ".join(str(path).split()))
    return Md(f"![{md_text(alt)}](<{dest}>)")


def md_row(cells) -> str:
    """One row of a Markdown table: ``| a | b |``; a cell that is not :class:`Md` is text (:func:`md_text`)."""
    return "| " + " | ".join(c if isinstance(c, Md) else md_text(c) for c in cells) + " |"


def md_head(head) -> list[str]:
    """The heading row of a Markdown table and the rule under it.

    >>> md_head(["method", "TSS"]) + [md_row(["CE", "0.55"])]
    ['| method | TSS |', '|---|---|', '| CE | 0.55 |']
    """
    head = list(head)
    return [md_row(head), "|" + "---|" * len(head)]


def markdown_to_html(text: str, base: Path, title: str = "flarecast report") -> str:
    """Render Markdown to one self-contained HTML page, PNGs under ``base`` embedded as base64.

    Raw HTML is off (``<b>`` in the text shows as ``<b>``) and markdown-it refuses ``javascript:``, ``vbscript:``
    and ``file:`` links; only PNG files inside ``base`` are embedded.
    """
    from markdown_it import MarkdownIt  # a dependency of rich

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    root = Path(base).resolve()

    def embed(match: re.Match) -> str:
        path = (root / unquote(match.group(1))).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="([^":]+\.png)"', embed, body)
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:2px 6px;"
             "text-align:right}td:first-child,th:first-child{text-align:left}"
             "img{width:100%;max-width:900px;height:auto}")  # figures at a readable size, not their pixel width
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title><style>{style}</style>"
            f"</head><body>\n{body}</body></html>\n")
