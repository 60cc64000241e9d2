"""Write the demo's output that README.md and docs/demo.md quote from a recorded run, so the docs cannot drift.

The recorded run is ``docs/demo-run.json``: the ``comparison.json`` of ``flarecast demo`` (``runs/demo``) as it
was measured. Each quoting page holds the output between the lines ``<!-- demo-output -->`` and
``<!-- /demo-output -->``; this script renders the recorded run exactly as ``flarecast demo`` prints it (through
:func:`flarecast.report.tables.demo_summary`, piped width) and rewrites those blocks: docs/demo.md the whole output,
README.md (a front page of at most 200 lines) all but the 3-day table. ``--check`` rewrites
nothing and exits 1 when a page differs (``tests/test_readme.py`` runs the same check).

    python scripts/doc_tables.py                       # rewrite the blocks from docs/demo-run.json
    python scripts/doc_tables.py --record runs/demo    # first copy runs/demo/comparison.json there
    python scripts/doc_tables.py --check
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
from pathlib import Path

from rich.console import Console

from flarecast.cli._util import _show
from flarecast.model.documents import Comparison
from flarecast.report.tables import demo_summary

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "docs" / "demo-run.json"
PAGES = (ROOT / "README.md", ROOT / "docs" / "demo.md")
DAY_TABLE = {"README.md": False, "demo.md": True}
"""Whether a page quotes the demo's 3-day table (the README leaves it to docs/demo.md)."""
BEGIN, END = "<!-- demo-output -->", "<!-- /demo-output -->"
PIPED_WIDTH = 160
"""The width ``flarecast`` prints at when its output is piped (:mod:`flarecast.cli._util`)."""


def demo_output(comparison: Comparison, out: str = "runs/demo", *, days: bool = True) -> str:
    """What ``flarecast demo --out OUT`` printed for ``comparison``, trailing spaces removed; without its 3-day
    table unless ``days``."""
    if not days:
        comparison = comparison.with_(day_forecast=None)
    console = Console(width=PIPED_WIDTH, file=io.StringIO(), record=True, color_system=None)
    for item in demo_summary(comparison):
        _show(console, item)
    _show(console, f"wrote {out}/comparison.json and {out}/report.html")
    lines = [ln.rstrip() for ln in console.export_text().splitlines()]
    return "\n".join(lines).strip("\n") + "\n"


def block(comparison: Comparison, *, days: bool = True) -> str:
    """The Markdown between the markers: the output as a ``text`` code block."""
    return f"{BEGIN}\n```text\n{demo_output(comparison, days=days)}```\n{END}"


def rewrite(text: str, comparison: Comparison, page: str = "page") -> str:
    """``text`` with its one marked block replaced by :func:`block`; a page without exactly one is an error."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"{page}: expected one {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN)
    return head + block(comparison, days=DAY_TABLE.get(page, True)) + rest.split(END, 1)[1]


def load(path: Path = RECORDED) -> Comparison:
    return Comparison.read(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path, help="copy DIR/comparison.json (a demo run's folder) to docs/demo-run.json first")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page differs from the recording")
    args = ap.parse_args(argv)
    if args.record:
        shutil.copyfile(args.record / "comparison.json", RECORDED)
    comparison, stale = load(), []
    for page in PAGES:
        text = page.read_text()
        new = rewrite(text, comparison, page.name)
        if new != text:
            stale.append(page.name)
            if not args.check:
                page.write_text(new)
    if args.check and stale:
        print(f"{', '.join(stale)}: the demo output differs from {RECORDED.name}; run python scripts/doc_tables.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
