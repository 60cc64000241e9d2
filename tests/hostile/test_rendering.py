"""Nothing a page renders runs (issue 21, class 4): text from data shows as text on every HTML page flarecast writes.

Each page type is rendered by its real renderer twice: once with plain names, once with hostile text (drawn by
hypothesis, and the known payloads) in every slot that comes from data: fold names (a region file's stem), method
and target names, model directories, config values, warnings, verdict sentences, figure names, the dashboard's
store, models, reasons and card rows. The two pages must have the same elements with the same attribute names:
the hostile text adds no element, no attribute, no table cell and no link, and it appears in the page's text.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flarecast.model.documents import Metrics
from flarecast.report.compare import compare_markdown
from flarecast.report.compare_cv import compare_cv_markdown, write_compare_cv_report
from flarecast.report.dashboard import render
from flarecast.report.demo import demo_markdown
from flarecast.report.formats import markdown_to_html, md_text
from flarecast.report.text import evaluation_markdown

PAYLOADS = [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "a | b", "</td><td>x", "[x](javascript:alert(1))",
    "![x](javascript:alert(1))", "<javascript:alert(1)>", "<http://evil.example>", "**bold** _it_ `code`",
    "1. listed", "- bullet", "# heading", "---", "> quote", "&lt;b&gt; &amp;", "a\\|b", "x\\", "line\nbreak\r\n|c|",
    "\" onmouseover=\"alert(1)", "' onerror='alert(1)", "<!-- c -->", "<![CDATA[x]]>", "`` ` ``", "~~~", "    code",
]
TEXT = st.one_of(st.sampled_from(PAYLOADS),
                 st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
                 st.text(alphabet="<>&\"'`|\\[]()!*_#-=.:/ \njavascript", max_size=40))


class Tags(HTMLParser):
    """Every start tag with its attribute names, attributes that name event handlers or script URLs, the page's
    text (entities decoded), the text of each table cell, the ``src`` of each image and the title."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: Counter = Counter()
        self.bad: list = []
        self.text: list[str] = []
        self.cells: list[str] = []
        self.srcs: list[str] = []
        self.title = ""
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags[(tag, tuple(sorted(k for k, _ in attrs)))] += 1
        for k, v in attrs:
            if k.startswith("on") or (v or "").strip().lower().startswith(("javascript:", "vbscript:")):
                self.bad.append((tag, k, v))
        if tag == "img":
            self.srcs.append(dict(attrs).get("src", ""))
        if tag in ("td", "th", "title"):
            self._open = tag
        if tag in ("td", "th"):
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open == "title":
            self.title += data
        elif self._open:
            self.cells[-1] += data


def tags(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def words(text: str) -> str:
    return " ".join(text.split())


def assert_inert(page: str, plain_page: str, texts: list[str]) -> None:
    """``page`` (hostile text) has the elements and attribute names of ``plain_page``, and shows each text."""
    got, want = tags(page), tags(plain_page)
    assert got.bad == [] and got.tags == want.tags
    shown = words(" ".join(got.text))
    for t in texts:
        assert words(t) in shown or words(t).replace("\ufffd", "") in shown.replace("\ufffd", "")


# --- the comparison documents, as the reports read them -----------------------------------------------------------

def _score(v=0.5):
    return {"value": v, "ci": [v - 0.1, v + 0.1]}


def _cell(v=0.5):
    return {"mean": v, "std": 0.05, "ci": [v - 0.1, v + 0.1], "values": [v, v]}


def cv_comparison(fold: str, method: str, target: str, text: str) -> dict:
    """A ``comparison-cv.json`` with a region fold named ``fold``, a loss setting ``method``, a target ``target``
    and ``text`` in every other slot that comes from a config or a path."""
    methods = {"CE": "ce", f"focal {method}": "focal", "persistence": "baseline"}
    fold = fold if fold != "pooled" else "pooled fold"  # the name of the pooled column is taken
    periods = [fold, "pooled"]
    return {
        "cv": {"scheme": "blocked", "by": "regions", "k": 2, "seeds": [0], "pool": [text, "val"], "val": text,
               "calibration": text},
        "bootstrap": {"n_boot": 100, "unit": text},
        "methods": {n: {"kind": k, "members": [{"epochs_run": 2, "best_epoch": 1}], "calibration": {target: text},
                        "loss": text, "model_dir": f"runs/{text}", "reused": False, "seconds": 3.0}
                    for n, k in methods.items()},
        "targets": {target: {"windows": 10, "positives": 2, "periods": periods,
                             "scores": {n: {p: {**{s: _score() for s in ("recall", "hss", "tss", "far", "bss")},
                                                "threshold": 0.3} for p in periods} for n in methods},
                             "paired": {n: {p: {s: _score(0.0) for s in ("recall", "hss", "tss", "far", "bss")}
                                            for p in periods} for n in methods if n != "CE"}}},
        "folds": [{"name": fold, "held_out": {"from": "", "to": ""}, "train": {"windows": 5}, "val": {"windows": 2},
                   "test": {"windows": 3, "positives": {target: 1}}}],
        "rule": text, "quoted": {"alpha": 0.25, "gamma": 2.0, "why": text},
        "verdicts": {target: {"sentence": f"{target}: focal {method} against CE on {fold}: {text}"}},
        "wall_seconds": 5.0, "flarecast_version": text,
    }


def comparison(method: str, target: str, text: str, demo: bool = False) -> dict:
    """A ``comparison.json`` of ``flarecast compare`` (``demo``: of ``flarecast demo``) with ``text`` in its slots."""
    targets = ["X", ">=M"] if demo else [target, "X" if target != "X" else "X2"]
    scores = ("recall", "hss", "tss", "far", "precision", "pofd", "bss", "roc_auc", "pr_auc")
    row = {"targets": {t: {s: _cell() for s in scores} for t in targets}}
    focal = f"focal {method}" if not demo else "focal"
    return {
        "test": {"from": "2013-01-01", "to": "2013-12-31", "windows": 10, "groups": 5,
                 "positives": {t: 1 for t in targets}},
        "grid": {"seeds": [0, 1], "pos_weight": 3.0, "balanced_alpha": 0.75},
        "methods": {"CE": {**row, "kind": "ce", "loss": "ce", "runs": [{"device": text, "seconds": 1.0}]},
                    focal: {**row, "kind": "focal", "loss": text, "runs": [{"device": "cpu", "seconds": 1.0}]}},
        "baselines": {"persistence": row}, "targets": targets, "convention": text, "spread": text,
        "interval": text, "threshold_rule": {"rule": text, "chosen_on": text},
        "verdicts": {t: {"sentence": f"{t}: {method} {text}", "focal": focal} for t in targets},
        "samples": {"splits": {text or "test": {"windows": 10, "positives": {t: 1 for t in targets}}}},
        "warnings": [text], "parallel": {"workers": 1}, "wall_seconds": 3.0, "flarecast_version": text,
        "config": {"samples": {"window": text, "stride": text, "horizon": text}}, "seeds": [0, 1],
        "losses": {"CE": "ce", focal: text}, "plain_verdicts": {t: f"{t}: {method} {text}" for t in targets},
    }


def pages(fold: str, method: str, target: str, text: str, tmp: Path) -> dict[str, tuple[str, list[str]]]:
    """Every Markdown-made page, rendered by its real renderer, and the texts it must show."""
    cv = compare_cv_markdown(cv_comparison(fold, method, target, text))
    cmp = compare_markdown(comparison(method, target, text), {target: "heatmap_x.png"})
    demo = demo_markdown(comparison(method, target, text, demo=True), {text: "reliability_x.png"})
    return {"compare --cv": (markdown_to_html(cv, tmp, "flarecast compare --cv"), [fold, method, target, text]),
            "compare": (markdown_to_html(cmp, tmp, "flarecast compare"), [method, target, text]),
            "demo": (markdown_to_html(demo, tmp, "flarecast demo"), [method, text])}


_PLAIN: dict = {}


def _plain_pages(tmp: Path) -> dict:
    return _PLAIN.setdefault(tmp, pages("fold", "m", "T", "t", tmp))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fold=TEXT, method=TEXT, target=TEXT, text=TEXT)
def test_text_from_data_adds_no_element_to_any_report(tmp_path, fold, method, target, text):
    plain = _plain_pages(tmp_path)
    hostile = pages(fold, method, target, text, tmp_path)
    for kind, (page, texts) in hostile.items():
        assert_inert(page, plain[kind][0], texts), kind


def test_a_region_fold_named_as_markup_is_text_in_report_cv(tmp_path):
    """The issue's case: a region file ``<img src=x onerror=alert(1)>.csv`` makes a fold of that name; the real
    writer of ``report-cv.md`` and ``report-cv.html`` shows it as text."""
    fold = "<img src=x onerror=alert(1)>"
    md, page = write_compare_cv_report(cv_comparison(fold, "a=0.25 g=2", "X", "auto"), tmp_path)
    parsed = tags(page.read_text())
    assert {t for t, _ in parsed.tags} & {"img", "script", "a"} == set() and parsed.bad == []
    assert fold in parsed.cells  # its own cell of the folds table
    assert "<img" not in page.read_text() and "&lt;img src=x onerror=alert(1)&gt;" in page.read_text()
    assert md_text(fold) in md.read_text()  # the Markdown is escaped too, for any renderer that takes raw HTML


def test_raw_html_and_script_links_in_markdown_stay_text(tmp_path):
    page = markdown_to_html("<b>x</b>\n\n[a](javascript:alert(1)) <script>1</script>\n", tmp_path, "<t>")
    parsed = tags(page)
    assert {t for t, _ in parsed.tags} & {"b", "a", "script"} == set()
    assert parsed.title == "<t>" and "<b>x</b>" in "".join(parsed.text)


def test_only_pngs_inside_the_report_folder_are_embedded(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").write_bytes(b"\x89PNG inside")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG outside")
    page = markdown_to_html("![a](a.png) ![s](../secret.png)\n", tmp_path / "out")
    srcs = tags(page).srcs
    assert srcs[0].startswith("data:image/png;base64,") and srcs[1] == "../secret.png"


def test_evaluation_report_md_keeps_its_table_shape(tmp_path):
    """``report.md`` of ``evaluate`` is Markdown only; rendered, a method or target name adds no cell."""
    def result(name: str, target: str) -> Metrics:
        s = {"threshold": 0.3, "tp": 1, "fp": 2, "fn": 3, "tn": 4, "positives": 4,
             **{m: _score() for m in ("recall", "far", "tss", "hss", "bss", "roc_auc")}}
        return Metrics.build(
            model=name, loss=name, split="test", n_windows=10, period={"from": name, "to": "b"}, source="goes",
            convention=name, climatology={target: 0.1},
            bootstrap={"unit": "UTC day", "groups": 2, "n_boot": 10, "level": 0.95, "seed": 0},
            thresholds={"model": {target: 0.3}}, threshold_rule={"rule": "tss", "chosen_on": name}, notes=[name],
            targets={target: {name: s, "climatology": s}}, plots={target: [f"{name}.png"]})

    for name in PAYLOADS:
        plain = markdown_to_html(evaluation_markdown(result("m", "T")), tmp_path)
        assert_inert(markdown_to_html(evaluation_markdown(result(name, name + "!")), tmp_path), plain, [name])


# --- the dashboard -------------------------------------------------------------------------------------------------

def dashboard_page(text: str, history: bool = False) -> dict:
    row = {"model": text, "target": text, "probability": 0.2, "threshold": 0.3, "decision": False,
           "base_rate": 0.1, "method": text, "degraded": True, "reason": text}
    return {"title": text, "issue_time": text, "store": text, "notes": [text], "latest": [row],
            "regions": [{"model": text, "harp": 7, "noaa_ars": [11158], "target": text, "probability": 0.4,
                         "threshold": 0.3, "decision": True}],
            "xrs": None, "cards": {text: [(text, text)]},
            "history": [{"issue_time": "2011-02-15T00:00Z", "target": text, "probability": 0.2, "threshold": 0.3,
                         "observed": True}] if history else []}


@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_text_from_data_adds_no_element_to_the_dashboard(text):
    assert_inert(render(dashboard_page(text)), render(dashboard_page("t")), [text])


@pytest.mark.parametrize("target", ["$\\frac{$", "<img src=x onerror=alert(1)>"])
def test_the_dashboard_figures_take_any_target_name(target):
    """A target name goes into the history figure's legend: a ``$`` must not start matplotlib's mathtext."""
    page = render(dashboard_page(target, history=True))
    assert page.count("<img ") == 1 and tags(page).bad == []
