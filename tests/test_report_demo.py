"""The demo report's pieces: the X-flare episode, the verdict sentences, the generated CLI reference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from flarecast.model.documents import Comparison
from flarecast.report.demo import largest_x_episode, plain_verdict

ROOT = Path(__file__).resolve().parents[1]


def _events(rows):
    peak = np.array([np.datetime64(p, "ns") for p, _, _ in rows])
    return xr.Dataset({"peak": ("event", peak), "peak_flux": ("event", np.array([f for _, f, _ in rows])),
                       "goes_class": ("event", np.array([c for _, _, c in rows]))})


def test_the_episode_is_the_largest_group_of_x_flares_inside_the_period():
    events = _events([
        ("2013-05-01T00:00", 5e-4, "X5.0"),  # before the period
        ("2013-06-01T10:00", 2e-4, "X2.0"), ("2013-06-02T10:00", 3e-4, "X3.0"),  # two, 1 day apart
        ("2013-07-01T00:00", 1.5e-4, "X1.5"), ("2013-07-03T23:00", 1.5e-4, "X1.5"),  # 2 d 23 h apart: one group
        ("2013-07-06T12:00", 1.5e-4, "X1.5"),  # 2 d 13 h after: still the same group
        ("2013-07-05T00:00", 5e-5, "M5.0"),  # not X
        ("2013-09-01T00:00", 1.2e-4, "X0.8"),  # X on the true basis, M0.84 on the SWPC basis
    ])
    lo, hi, flares = largest_x_episode(events, "2013-05-28", "2013-12-31", "true")
    assert [str(p)[:16] for p, _ in flares] == ["2013-07-01T00:00", "2013-07-03T23:00", "2013-07-06T12:00"]
    assert (str(lo)[:16], str(hi)[:16]) == ("2013-06-29T00:00", "2013-07-07T12:00")
    assert flares[0][1] == "X1.5 07-01 00:00"
    # Equal sizes: the group with the larger flare wins.
    lo, hi, flares = largest_x_episode(events, "2013-05-28", "2013-06-30", "swpc")
    assert [text for _, text in flares] == ["X2.0 06-01 10:00", "X3.0 06-02 10:00"]
    assert largest_x_episode(events, "2013-08-01", "2013-10-01", "swpc")[2] == []
    assert len(largest_x_episode(events, "2013-08-01", "2013-10-01", "true")[2]) == 1


def _comparison(ce_hss, ce_sd, focal_hss, focal_sd, beats, difference, spread):
    def cell(mean, sd):
        return {"mean": mean, "std": sd}

    return Comparison.build(
        samples={}, convention="swpc", test={}, baselines={}, threshold_rule={"rule": "hss", "chosen_on": "validation split"},
        verdicts={"X": {"score": "hss", "beats": beats, "difference": difference, "spread": spread}},
        methods={"CE": {"targets": {"X": {"hss": cell(ce_hss, ce_sd), "recall": cell(0.5, 0.1)}}},
                 "focal": {"targets": {"X": {"hss": cell(focal_hss, focal_sd), "recall": cell(0.3, 0.2)}}}})


@pytest.mark.parametrize("args, ending", [
    ((0.38, 0.06, 0.16, 0.17, False, -0.22, 0.17), "exceeds the seed-to-seed spread (0.17), so cross-entropy beats "
                                                    "focal loss on X here."),
    ((0.40, 0.03, 0.42, 0.01, False, 0.02, 0.03), "is within the seed-to-seed spread (0.03), so focal loss does not "
                                                   "beat cross-entropy on X here."),
    ((0.30, 0.01, 0.45, 0.02, True, 0.15, 0.02), "so focal loss beats cross-entropy on X here."),
    ((0.30, float("nan"), 0.45, float("nan"), None, 0.15, float("nan")), "no comparison can be made (a score is "
                                                                          "undefined, or one seed leaves no spread)."),
])
def test_the_verdict_sentence_says_who_wins_only_beyond_the_seed_spread(args, ending):
    sentence = plain_verdict(_comparison(*args), "X")
    assert sentence.startswith(f"X: focal loss has test HSS {args[2]:.2f}")
    assert sentence.endswith(ending)


def _hook():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "hooks" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_holds_every_command_help():
    import typer.main

    from flarecast.cli import app

    text = _hook().cli_reference()
    for name in typer.main.get_command(app).commands:
        assert f"### `flarecast {name}`" in text and f"Usage: flarecast {name}" in text, name
    assert "\x1b[" not in text  # no terminal colour codes in the page


def test_every_docs_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert len(pages) >= 20
    assert [p for p in pages if f": {p}" not in nav] == []


def test_the_demo_report_page_shows_no_raw_markdown(tmp_path):
    """report.html showed the >=M verdict as a block quote ("- >=M: ..." became "=M: ..." in a quote). The page
    rendered from the recorded run (docs/demo-run.json) holds no block quote and no text node with Markdown
    syntax left in it, and both verdicts read whole."""
    from html.parser import HTMLParser

    from flarecast.report.demo import demo_markdown
    from flarecast.report.formats import markdown_to_html

    recorded = Comparison.read(ROOT / "docs" / "demo-run.json")
    page = markdown_to_html(demo_markdown(recorded, recorded.figures), tmp_path, "flarecast demo")

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.nodes, self.tags = [], set()

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)

        def handle_data(self, data):
            if data.strip():
                self.nodes.append(data.strip())

    parsed = Text()
    parsed.feed(page)
    assert "blockquote" not in parsed.tags and {"table", "ul", "h2"} <= parsed.tags
    assert [n for n in parsed.nodes if "**" in n or n.startswith(("- >=", "> ", "|---")) or "|---" in n] == []
    for verdict in recorded.plain_verdicts.values():
        assert verdict in parsed.nodes
