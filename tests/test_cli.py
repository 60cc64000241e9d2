import json
import re
import warnings
from pathlib import Path

import pytest
import typer
from rich.table import Table
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.cli._util import emit

runner = CliRunner()
COMMANDS = ["simulate", "ingest", "samples", "train", "evaluate", "compare", "cv", "forecast", "card", "batch", "demo",
            "combine", "dashboard", "fetch goes", "fetch swpc", "fetch events", "fetch sharp"]
CLI = Path(__file__).resolve().parents[1] / "flarecast" / "cli"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and f"flarecast {command}" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_every_example_and_option_help_whole(command):
    """Brackets in an example or an option's help are text, not rich markup: "train.cv.pool=[train,val,test]"
    once showed as "train.cv.pool=" in `compare --help` (and so in docs/cli.md)."""
    import inspect

    import typer.main

    cmd = typer.main.get_command(app)
    for word in command.split():
        cmd = cmd.commands[word]
    shown = " ".join(runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "1000"}).output.split())
    doc = inspect.cleandoc(cmd.callback.__doc__ or "")
    examples = [ln.strip().removeprefix("[bold]Example[/]: ") for ln in doc.splitlines()
                if ln.strip().startswith(("flarecast ", "[bold]Example[/]: "))]
    helps = [" ".join(p.help.replace("\\[", "[").split()) for p in cmd.params if getattr(p, "help", None)]
    assert examples
    for text in examples + helps:
        assert text in shown, text


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("flarecast ")


def test_bad_config_is_one_line_error_and_nonzero_exit(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("train:\n  loss: {alpha: 3}\n")
    result = runner.invoke(app, ["train", str(cfg), "--store", str(tmp_path / "s.zarr")])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "alpha = 3" in lines[0] and "Traceback" not in result.output


def test_unknown_ingest_kind(tmp_path):
    result = runner.invoke(app, ["ingest", "flux", str(tmp_path)])
    assert result.exit_code == 2 and "expected one of ['goes', 'sharp', 'events', 'regions']" in result.output


def test_ingest_prints_each_warning_once(tmp_path):
    """The leap-second warning is printed under the table, not a second time as a Python warning with a
    source line of flarecast/cli/ingest.py."""
    csv = tmp_path / "hourly.csv"
    csv.write_text("time,xrsb\n" + "".join(f"{t},1e-6\n" for t in (
        "2012-06-30T22:00:00Z", "2012-06-30T23:00:00Z", "2012-07-01T00:00:00Z", "2012-07-01T01:00:00Z")))
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        result = runner.invoke(app, ["ingest", "goes", str(csv), "--basis", "swpc", "--satellite", "15",
                                     "--store", str(tmp_path / "s.zarr")])
    assert result.exit_code == 0, result.output
    assert result.output.count("spans the leap second 2012-06-30 23:59:60 UTC") == 1
    assert [str(w.message) for w in escaped if "leap second" in str(w.message)] == []


def test_missing_store_is_a_clear_error(tmp_path):
    from flarecast.config import builtin_config

    result = runner.invoke(app, ["samples", str(builtin_config("demo")), "--store", str(tmp_path / "none.zarr")])
    assert result.exit_code != 0 and "flarecast ingest goes" in result.output


def test_out_naming_a_file_where_a_folder_goes_is_one_line_not_a_traceback(tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    result = runner.invoke(app, ["demo", "--out", str(taken)])
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {taken}") and "pass a folder or a new path (--out)" in lines[0]
    assert taken.read_text() == "mine"


def test_a_path_error_without_a_file_name_is_still_one_line(capsys):
    from flarecast.cli._util import user_errors

    def refuse():
        raise PermissionError("read-only file system")

    with pytest.raises(typer.Exit) as stop:
        user_errors(refuse)()
    assert stop.value.exit_code == 2
    assert capsys.readouterr().err.strip() == ("error: read-only file system; not allowed here: pass a path you can "
                                               "write to")


def test_emit_prints_the_json_alone_or_the_rendering_then_the_files_written(capsys):
    data = {"rows": [1, 2], "note": "[x] kept"}
    emit(data, True, lambda d: "table", wrote=["a.json"], stderr=lambda d: "failed")
    shown = capsys.readouterr()
    assert json.loads(shown.out) == data and shown.err == ""

    def render(d):
        table = Table("row")
        for r in d["rows"]:
            table.add_row(str(r))
        return [table, f"{len(d['rows'])} rows"]

    emit(data, False, render, wrote=[Path("runs/a.json"), None, "runs/[b].md"],
         stderr=lambda d: [f"[bold red]failed:[/] row {r}" for r in d["rows"]])
    shown = capsys.readouterr()
    lines = shown.out.splitlines()
    assert lines[-2:] == ["2 rows", "wrote runs/a.json and runs/[b].md"]  # a path's brackets are not markup
    assert [ln.strip("│ ") for ln in lines if ln.startswith("│")] == ["1", "2"]
    assert shown.err.splitlines() == ["failed: row 1", "failed: row 2"]


def test_commands_print_only_through_emit():
    """Every command prints its result through cli._util.emit (and progress through the progress bar):
    no print, echo, console or stdout call anywhere else in flarecast/cli."""
    printing = re.compile(r"\bprint\(|\.print\(|print_json|typer\.echo|\.std(out|err)\.write|_util import .*\b(out|err)\b")
    found = [f"{path.name}:{n}: {line.strip()}" for path in sorted(CLI.glob("*.py")) if path.name != "_util.py"
             for n, line in enumerate(path.read_text().splitlines(), 1) if printing.search(line)]
    assert found == []


@pytest.mark.parametrize("source", ["goes", "swpc", "events", "sharp"])
def test_every_fetch_command_takes_the_shared_options(source):
    shown = runner.invoke(app, ["fetch", source, "--help"], env={"COLUMNS": "200"}).output
    options = re.findall(r"^│[ *]+(--[a-z-]+)", shown, flags=re.M)  # first column of the options panel
    shared = ["--out", "--dry-run", "--ingest", "--store", *(["--retries"] if source != "sharp" else []),
              "--timeout", "--deadline", "--file-deadline", "--json"]
    own = {"goes": ["--from", "--to", "--satellite", "--resolution"], "swpc": ["--product"],
           "events": ["--from", "--to", "--source", "--satellite"],
           "sharp": ["--from", "--to", "--harp", "--nrt", "--cadence", "--keyword"]}[source]
    assert options == [*own, *shared, "--help"]


def test_simulate_prints_the_flare_counts_its_json_holds(tmp_path):
    shown = runner.invoke(app, ["simulate", str(tmp_path / "a"), "--days", "3", "--seed", "2", "--activity", "4"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(runner.invoke(app, ["simulate", str(tmp_path / "b"), "--days", "3", "--seed", "2",
                                          "--activity", "4", "--json"]).stdout)
    printed = re.search(r"flares by class ([^;]+);", shown.stdout).group(1)
    assert {c: int(n) for c, n in (pair.split() for pair in printed.split(", "))} == data["flare_counts"]
    assert sum(data["flare_counts"].values()) > 0 and f"to {tmp_path / 'a'} " in shown.stdout



def _row(renderables, first: str) -> list[str]:
    """The cells of the printed table row that starts with ``first``."""
    from rich.console import Console

    console = Console(width=400, record=True)
    console.print(*renderables)
    line = next(ln for ln in console.export_text().splitlines() if ln.startswith(f"│ {first} "))
    return [c.strip() for c in line.strip("│ ").split("│")]


NAN = float("nan")


def test_cv_table_shows_undefined_scores_and_intervals_as_n_a():
    """``flarecast cv``'s table writes a score and its interval as every other table does (report.formats.value_ci):
    an interval left undefined (too few resamples with an event) is ``n/a``, not ``nan`` (nor dropped as a rich
    style tag); a value read back from the JSON file (null) is ``n/a`` too."""
    from flarecast.report.tables import oof_summary

    row = {"period": "2013", "n": 200, "positives": 3, "threshold": 0.25,
           "ensemble": {"tss": {"value": 0.4149, "ci": [NAN, NAN]}, "hss": {"value": 0.3, "ci": [0.1049, 0.5]},
                        "bss": {"value": None, "ci": [None, None]}, "bss_raw": {"value": NAN, "ci": [NAN, NAN]}},
           "persistence": {k: {"value": 0.0, "ci": [-0.2, 0.2]} for k in ("tss", "hss", "bss")},
           "beats_persistence": {"thresholds": [[0.2, 0.35]], "at_threshold": True}}
    result = {"threshold_rule": "tss", "calibration": {"X": "platt"}, "bootstrap": {"unit": "UTC day"},
              "targets": {"X": [row]}}
    assert _row(oof_summary(result), "2013") == [
        "2013", "200", "3", "0.25", "0.41 [n/a, n/a]", "0.30 [0.10, 0.50]", "n/a [n/a, n/a]", "n/a [n/a, n/a]",
        "0.00 [-0.20, 0.20]", "0.00 [-0.20, 0.20]", "0.00 [-0.20, 0.20]", "0.20-0.35 *"]
    legend = oof_summary(result)[-1]  # once cut short after "a * marks a period whose transferred threshold does"
    assert legend.startswith("last column: ") and legend.endswith("beat persistence on both too")


def test_ingest_table_says_why_a_file_added_nothing():
    """A file already in the store is not read: its row says so instead of a reader "-" and a time range " to "."""
    from flarecast.report.tables import ingest_summary

    report = {"files": [{"path": "data/a.csv", "reader": "-", "rows_read": 0, "masked": {}, "rows_added": 0,
                         "duplicates_skipped": 0, "time_range": None, "note": "already in store (same sha256)"},
                        {"path": "data/b.csv", "reader": "goes-plain-csv", "rows_read": 2, "masked": {},
                         "rows_added": 2, "duplicates_skipped": 0,
                         "time_range": ["2011-01-01 00:00:00", "2011-01-01 01:00:00"]}]}
    assert _row(ingest_summary(report), "a.csv")[-1] == "already in store (same sha256)"
    assert _row(ingest_summary(report), "b.csv")[-1] == "2011-01-01 00:00:00 to 2011-01-01 01:00:00"


def test_providers_table_keeps_undefined_intervals():
    from flarecast.model.documents import Scores
    from flarecast.report.text import EVAL_COLUMNS, providers_table

    undefined = {"value": 0.5, "ci": [NAN, NAN]}
    scores = {"threshold": 0.5, "positives": 2, **{m: undefined for m in EVAL_COLUMNS}}
    targets = {"X": {"days": 30, "from": "2013-01-01", "to": "2013-01-30", "base_rate": 0.07,
                     "scores": {"noaa": scores, "ours": scores},
                     "paired": [{"a": "noaa", "b": "ours", "tss": undefined, "bss": undefined}]}}
    result = Scores.build(files=[], store="s.zarr", reference="noaa", bootstrap={}, convention="swpc",
                          targets=targets, notes=[])
    shown = providers_table(result)
    assert _row(shown, "noaa") == ["noaa", "0.500", "2", *["0.50 [n/a, n/a]"] * len(EVAL_COLUMNS)]
    assert _row(shown, "noaa - ours")[5] == "0.50 [n/a, n/a]"


@pytest.mark.parametrize("command", ["", "forecast", "fetch goes"])
def test_dash_h_is_help_and_flags_show_no_value_hint(command):
    """`flarecast -h` was refused ("No such option: -h"), and on/off flags showed as `--json <bool>`, as if they
    took a value; options that take one keep their hint."""
    result = runner.invoke(app, [*command.split(), "-h"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage: flarecast" in result.output and "<bool>" not in result.output
    if command == "forecast":
        assert re.search(r"--json\s+Print machine-readable", result.output)
        assert re.search(r"--device\s+<str>", result.output)


@pytest.mark.parametrize("command", [["forecast", "{m}", "--latest"], ["card", "{m}"], ["evaluate", "{m}"]])
def test_a_model_folder_that_does_not_exist_is_named_as_such(tmp_path, command):
    """A mistyped model path said "no weights.safetensors", as if the folder were there but incomplete."""
    missing = tmp_path / "models" / "gose"
    result = runner.invoke(app, [w.format(m=missing) for w in command])
    assert result.exit_code == 2
    assert f"{missing}: no such model directory" in result.output and "safetensors" not in result.output


def test_an_unreachable_archive_names_the_variable_for_a_mirror(tmp_path):
    """fetch's cannot-connect line did not say how to point it elsewhere: the FLARECAST_*_URL variables were
    only in docs/fetch.md. Now the failure is followed by the variable and its value, and --help lists it."""
    import socket

    with socket.socket() as s:  # a port nothing listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{s.getsockname()[1]}"
    result = runner.invoke(app, ["fetch", "swpc", "--product", "solar_regions", "--retries", "0", "--timeout", "5",
                                 "--out", str(tmp_path)], env={"FLARECAST_SWPC_URL": base, "COLUMNS": "300"})
    assert result.exit_code == 1
    assert f"{base}/json/solar_regions.json: cannot connect" in result.output
    assert f"set FLARECAST_SWPC_URL (now {base})" in result.output
    shown = " ".join(runner.invoke(app, ["fetch", "events", "--help"], env={"COLUMNS": "300"}).output.split())
    assert all(v in shown for v in ("FLARECAST_NCEI_URL", "FLARECAST_SWPC_EVENTS_URL", "FLARECAST_HEK_URL"))


def test_the_command_line_starts_without_the_heavy_libraries():
    """`flarecast --help` took ~1.5 s: importing the CLI imported pandas (through flarecast.config) for every
    command. Commands import what they need when they run; the CLI itself imports none of these."""
    import subprocess
    import sys

    heavy = ("pandas", "numpy", "torch", "xarray", "pydantic", "aiohttp", "flarecast.config", "flarecast.ingest")
    code = f"import sys, flarecast.cli; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_train_and_cv_lines_name_folds_with_their_dates_and_no_python_dicts():
    """train's line printed "thresholds {'>=M': 0.24, 'X': 0.1}" and "folds ['block0', ...]", and cv's table named
    folds block0..block4 without saying which days they held out."""
    from flarecast.report.tables import oof_summary, train_summary
    from flarecast.train.run import EnsembleFit, SingleFit

    held = {"from": "2011-01-01T00:00:00", "to": "2011-07-14T23:00:00"}
    (line,) = train_summary(EnsembleFit(model_dir="m", members=5, seconds=43.2, folds=["block0"],
                                        fold_periods=[{"period": "block0", "held_out": held}], threshold_rule="hss",
                                        calibration={">=M": "isotonic", "X": "platt"},
                                        thresholds={">=M": 0.2412, "X": 0.1}))
    assert "folds block0 2011-01-01..2011-07-14;" in line
    assert "calibration >=M isotonic, X platt; thresholds >=M 0.24, X 0.10 by rule hss" in line
    assert not re.search(r"[{}\[\]']", line.replace("`flarecast cv m`", ""))
    (single,) = train_summary(SingleFit(model_dir="m", best_epoch=1, epochs_run=2, val_score=0.5,
                                        thresholds={"X": 0.1}, seconds=1.0))
    assert single.endswith("thresholds X 0.10)")
    row = {"period": "block0", "held_out": held, "n": 200, "positives": 3, "threshold": 0.25,
           "ensemble": {k: {"value": 0.1, "ci": [0.0, 0.2]} for k in ("tss", "hss", "bss", "bss_raw")},
           "persistence": {k: {"value": 0.0, "ci": [-0.2, 0.2]} for k in ("tss", "hss", "bss")},
           "beats_persistence": {"thresholds": [], "at_threshold": False}}
    result = {"threshold_rule": "tss", "calibration": {"X": "platt"}, "bootstrap": {"unit": "UTC day"},
              "targets": {"X": [row, {**row, "period": "pooled", "held_out": None}]}}
    assert _row(oof_summary(result), "block0 2011-01-01..2011-07-14")[:2] == ["block0 2011-01-01..2011-07-14", "200"]
    assert _row(oof_summary(result), "pooled")[0] == "pooled"
