"""The morning dashboard: a self-contained page that headless Chromium renders without console errors, showing the
probabilities of the forecast file it was made from."""

import json
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from flarecast.cli import app

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def page(two_years, hourly_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("dash")
    result = runner.invoke(app, ["dashboard", str(hourly_model), "--store", str(two_years[0]), "--at",
                                 "2019-03-10T00:00", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_page_is_one_file_with_its_figures_inside(page):
    html = (page / "index.html").read_text()
    assert html.count("src='data:image/png;base64,") == 2  # XRS and the 30-day history
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html) and "<script" not in html
    doc = json.loads((page / "forecast.json").read_text())
    assert doc["forecasts"][0]["issue_time"] == "2019-03-10T00:00:00Z"
    for r in doc["forecasts"]:
        assert f"<td>{r['probability']:.3f}</td>" in html
    # 30 daily forecasts before the issue time, each judged once its window has ended: one row per issue time
    # with a readable time and every target side by side (they were raw ISO times, a row per target).
    rows = re.findall(r"<tr><td class='l'>(\d{4}-\d\d-\d\d \d\d:\d\d UTC)</td>(.*?)</tr>", html)
    assert len(rows) >= 31 and len({t for t, _ in rows}) == len(rows) and "pending" in html
    targets = {r["target"] for r in doc["forecasts"]}
    assert all(cells.count("<td") == 2 * len(targets) for _, cells in rows)  # P(target) and what happened, each
    assert re.search(r"<th>P\(&gt;=M\) \(threshold 0\.\d{3}\)</th><th>&gt;=M happened</th><th>P\(X\)", html)
    # every YES names its threshold, base rate and rule beside it; no card row without a value
    for r in doc["forecasts"]:
        if r["decision"]:
            assert f"{r['target']} YES: probability {r['probability']:.3f}".replace(">", "&gt;") in html
            assert "by maximising" in html
    assert "<td class='l'>-</td></tr>" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_chromium_renders_the_page_without_console_errors(page, tmp_path):
    url = (page / "index.html").resolve().as_uri()
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
                          "--v=0", "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [ln for ln in run.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == [], console
    dom = run.stdout
    assert "Full-disk probabilities" in dom and "GOES XRS, last 7 days" in dom
    doc = json.loads((page / "forecast.json").read_text())
    for r in doc["forecasts"]:
        assert f">{r['probability']:.3f}<" in dom, r
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}",
                    "--window-size=1200,1600", url], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_chromium_renders_the_demo_report_without_raw_markdown(tmp_path):
    """report.html of the recorded demo run, rendered by headless Chromium: the DOM holds no block quote and no
    text with Markdown syntax left in it, and the page screenshots."""
    from pathlib import Path

    from flarecast.model.documents import Comparison
    from flarecast.report.demo import demo_markdown
    from flarecast.report.formats import markdown_to_html

    path = Path(__file__).resolve().parents[1] / "docs" / "demo-run.json"
    recorded = json.loads(path.read_text())
    page = tmp_path / "report.html"
    page.write_text(markdown_to_html(demo_markdown(Comparison.read(path), recorded["figures"]), tmp_path,
                                     "flarecast demo"))
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert "<blockquote" not in dom and "**" not in dom and "|---" not in dom
    assert all(v.replace(">", "&gt;") in dom for v in recorded["plain_verdicts"].values())
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}",
                    "--window-size=1400,2000", page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_ensemble_card_shows_its_members_calibration_and_blend_weights():
    """The model card left out the ensemble and the logistic blend (the networks' weight 0.25 for >=M) and showed
    "validation PR AUC: -"; an ensemble now lists its members, calibration and blend weights."""
    from types import SimpleNamespace as NS

    from flarecast.jobs.dashboard import _ensemble_rows

    card = NS(kind="ensemble", members=[None] * 5, cv=NS(scheme="blocked", folds=[NS(name=f"block{i}") for i in range(5)]),
              calibration={">=M": NS(method="isotonic"), "X": NS(method="platt")}, blend=NS(weights={">=M": 0.25, "X": 0.6}))
    rows = dict(_ensemble_rows(card))
    assert rows["ensemble"].startswith("5 networks (blocked CV, folds block0, block1, block2, block3, block4)")
    assert rows["calibration"] == ">=M isotonic, X platt"
    assert rows["logistic blend"].startswith("networks' weight >=M 0.25, X 0.60;")
    assert _ensemble_rows(NS(kind="single")) == []
