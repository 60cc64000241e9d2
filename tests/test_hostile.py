"""The hostile-input corpus (tests/hostile, written by tests/hostile/generate.py): every case is refused cleanly.

For each case: exit code 2, exactly one line on stderr naming what is wrong, no traceback, and the store and
the case's working folder byte-identical before and after (nothing moved, nothing half-written).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flarecast.cli import app

HOSTILE = Path(__file__).parent / "hostile"
CASES = json.loads((HOSTILE / "cases.json").read_text())
runner = CliRunner()


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file (and the target of every link) under ``path``: what "byte-identical" compares."""
    if path.is_file():
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(path))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def fill(text: str, where: dict[str, str]) -> str:
    for key, value in where.items():
        text = text.replace("{" + key + "}", value)
    return text


def test_corpus_is_small_and_covers_every_reader_kind():
    size = sum(p.stat().st_size for p in (HOSTILE / "corpus").rglob("*") if p.is_file())
    assert size < 2_000_000
    prefixes = {c["id"].split("-")[0] for c in CASES}
    assert {"goes", "events", "sharp", "model", "config", "batch", "store", "train", "cli"} <= prefixes


@pytest.fixture(scope="module")
def store(sim_store, tmp_path_factory) -> Path:
    """A copy of the simulated store: a case that were accepted would change it, not the one other tests share."""
    path = tmp_path_factory.mktemp("hostile") / "store.zarr"
    shutil.copytree(sim_store, path, symlinks=True)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_input_is_refused_in_one_line_and_changes_nothing(case, store, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "root").mkdir()
    where = {"corpus": str(HOSTILE / "corpus"), "store": str(store), "work": str(work)}
    for rel, what in case["setup"].items():
        dst = work / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(what, str):
            shutil.copy(fill(what, where), dst)
        elif "symlink" in what:
            dst.symlink_to(what["symlink"])
        else:
            dst.write_text(what["text"])
    before = (tree_digest(store), tree_digest(work))
    result = runner.invoke(app, [fill(a, where) for a in case["args"]])
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert len(lines) == 1, result.stderr
    assert case["expect"] in lines[0], lines[0]
    assert (tree_digest(store), tree_digest(work)) == before
