"""README as a front page: short, its quick-start commands exist and run, every command it shows parses, its
links point at pages of the docs site."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
import typer.main
from typer.testing import CliRunner

from flarecast.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
COMMAND = typer.main.get_command(app)


def _blocks(text: str) -> list[list[str]]:
    """The lines of every fenced bash block, continuation lines joined, comments dropped."""
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [[ln.split(" #")[0].strip() for ln in b.replace("\\\n", " ").splitlines() if ln.strip()] for b in blocks]


def _quick_start() -> list[str]:
    return _blocks(README.split("## Quick start", 1)[1])[0]


def _parse(words: list[str]) -> click.Context:
    """Resolve ``flarecast WORDS`` to its command and parse every option and argument, running nothing."""
    cmd, args, path = COMMAND, list(words), []
    while isinstance(cmd, click.Group) and args and args[0] in cmd.commands:
        path.append(args.pop(0))
        cmd = cmd.commands[path[-1]]
    return cmd.make_context(" ".join(["flarecast", *path]), args)


def test_readme_is_a_front_page():
    assert len(README.splitlines()) <= 200
    assert _quick_start() == ["make demo", "make test"]


@pytest.mark.parametrize("target", ["demo", "test"])
def test_quick_start_make_targets_exist_and_run_what_the_readme_says(target):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    if target == "demo":
        assert ".venv/bin/flarecast demo" in lines
        result = CliRunner().invoke(app, ["demo", "--help"])  # the run itself: tests/test_demo.py, on tiny settings
        assert result.exit_code == 0 and "--simulated" in result.output
    else:
        assert any(ln.startswith(".venv/bin/pytest") for ln in lines)
        assert any("mkdocs build --strict" in ln for ln in lines)
        assert any("lint-imports" in ln for ln in lines)


def test_every_flarecast_command_in_the_readme_parses():
    commands = [ln for block in _blocks(README) for ln in block if ln.startswith("flarecast ")]
    assert len(commands) >= 4
    for line in commands:
        _parse(shlex.split(line)[1:])  # raises click.UsageError on an unknown command, option or value


def test_readme_links_to_pages_of_the_docs_site():
    links = re.findall(r"\]\((docs/[^)#]+)", README)
    assert len(links) >= 5
    for link in links:
        assert (ROOT / link).is_file(), link
    nav = (ROOT / "mkdocs.yml").read_text()
    for link in links:
        assert Path(link).name in nav, f"{link} is not in the mkdocs nav"


def test_every_flarecast_command_in_the_docs_parses():
    commands = [(page.name, ln) for page in sorted((ROOT / "docs").glob("*.md"))
                for block in _blocks(page.read_text()) for ln in block
                if ln.startswith("flarecast ") and "$(" not in ln]  # a shell substitution is not a literal path
    assert len(commands) >= 15
    for page, line in commands:
        try:
            _parse(shlex.split(line)[1:])
        except click.UsageError as exc:
            raise AssertionError(f"docs/{page}: {line!r}: {exc}") from exc


def test_docs_site_is_offline_clean_and_shows_no_escaped_pipes():
    """The site loaded Google Fonts (theme.font unset), and `goes\\|sharp` in a table cell's code span showed its
    backslash: Python-Markdown keeps a pipe inside backticks in the cell without one."""
    import yaml

    theme = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["theme"]
    assert theme.get("font") is False
    escaped = [page.name for page in (ROOT / "docs").glob("*.md") if "\\|" in page.read_text()]
    assert escaped == []


def test_the_demo_output_quoted_in_the_docs_is_the_recorded_runs():
    """README.md and docs/demo.md quoted a demo table no fresh run printed. The quoted output is now rendered by
    scripts/doc_tables.py from the recorded run docs/demo-run.json, through the same function `flarecast demo`
    prints with; this fails when a page drifts from it, or the recording from the demo's own config and pins."""
    import importlib.util
    import json

    from flarecast.config import builtin_config, load_config
    from flarecast.jobs.demo import CPU_KERNELS

    spec = importlib.util.spec_from_file_location("doc_tables", ROOT / "scripts" / "doc_tables.py")
    doc_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doc_tables)
    recorded = doc_tables.load()
    for page in doc_tables.PAGES:
        text = page.read_text()
        assert doc_tables.rewrite(text, recorded, page.name) == text, f"{page.name}: run python scripts/doc_tables.py"
    shown = doc_tables.demo_output(recorded)
    for name in ("CE", "focal"):  # each network's X recall cell, from the numbers the run recorded
        cell = recorded.methods[name]["targets"]["X"]["recall"]
        assert re.search(rf"\n  {name} +{cell['mean']:.2f}±{cell['std']:.2f} ", shown), name
    assert recorded.config == json.loads(json.dumps(load_config(builtin_config("demo-real")).to_dict()))
    assert recorded.training_kernels == {"device": "cpu", **CPU_KERNELS, "threads": 1}
    assert doc_tables.main(["--check"]) == 0
