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
    # 30 daily forecasts per target before the issue time, each judged once its window has ended.
    assert html.count("<td class='l'>&gt;=M</td>") >= 31 and "pending" in html


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
