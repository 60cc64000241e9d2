"""Parsers that cannot be turned on the host (issue 21, class 5), and the read-side faults of class 6.

- The bounded YAML and JSON readers (:mod:`flarecast.safeio`): nested aliases ("billion laughs"), deep nesting
  and duplicate keys at any depth are refused fast, in one line of bounded length; so are long values.
- Remote text that becomes a saved file: a HEK record whose fields hold line breaks, quotes, ``;`` or commas
  gives exactly one line with the same values, or the answer is refused; it never adds a row.
- Read-side faults: a missing or damaged OOF file in ``cv``, a 100k-deep JSON card, a non-UTF-8 byte or an empty
  CSV in ``evaluate --forecasts``: one line and exit code 2.
"""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from werkzeug import Response

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ConfigError, FetchError, FlarecastError, ModelError, ParseError
from flarecast.ingest.fetch import fetch_events, fetch_sharp
from flarecast.ingest.fetch.events import hek_line
from flarecast.ingest.readers import read_file
from flarecast.jobs.jobfile import load_job
from flarecast.safeio import DEPTH, LINE, YAML_BYTES, load_yaml, loads_json, loads_yaml
from flarecast.studies import oof

runner = CliRunner()
FIXED = st.sampled_from(["\n", "\r", "\r\n", '"', "'", ";", ",", "\x00", "\x85", "\u2028", "\t", " ", "|"])
TEXT = st.lists(st.one_of(FIXED, st.text(max_size=5)), max_size=6).map("".join)
"""Text rich in what breaks a line-based file: line breaks of every kind, quotes, separators."""


def one_line(message: str) -> bool:
    """One line, and bounded: the value quoted in it is cut (LINE characters), the rest are words."""
    return "\n" not in message and len(message) < 2 * LINE + 400


def bomb(levels: int, width: int) -> str:
    """A "billion laughs" YAML job file: ``width ** levels`` strings from ``levels * width`` aliases."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines + [f"steps: *a{levels - 1}", ""])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(levels=st.integers(1, 9), width=st.integers(1, 9))
def test_nested_aliases_are_refused_fast_in_one_line(tmp_path, levels, width):
    job = tmp_path / "bomb.yaml"
    job.write_text(bomb(levels, width))
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_job(job)
    assert time.perf_counter() - start < 1.0
    assert "alias *a0" in str(err.value) and one_line(str(err.value))


def test_the_issue_bomb_is_one_line_from_the_cli(tmp_path):
    """The issue's case: 346 bytes of nested aliases took 24 s and 2.7 GB and printed a 351 MB line."""
    job = tmp_path / "bomb.yaml"
    job.write_text(bomb(9, 9))
    start = time.perf_counter()
    res = runner.invoke(app, ["batch", str(job)])
    assert res.exit_code == 2 and time.perf_counter() - start < 5
    assert res.stderr.count("\n") == 1 and "aliases and anchors are not allowed" in res.stderr


@settings(max_examples=25, deadline=None)
@given(depth=st.integers(DEPTH + 1, 100_000), kind=st.sampled_from("[{"))
def test_nesting_deeper_than_the_bound_is_refused_in_one_line(depth, kind):
    open_, close = (("[", "]") if kind == "[" else ('{"a":', "}"))
    text = open_ * depth + "1" + close * depth
    with pytest.raises(ParseError, match=f"nest more than {DEPTH} levels") as err:
        loads_json(text, "card.json")
    assert one_line(str(err.value))


@pytest.mark.parametrize("depth", [DEPTH + 1, 100_000])
@pytest.mark.parametrize("kind", ["flow", "block"])
def test_yaml_nesting_deeper_than_the_bound_is_refused_fast(depth, kind):
    if kind == "flow":
        text = "[" * depth + "1" + "]" * depth
    else:  # as a job file nests: a mapping per level, two more spaces each
        text = "".join(f"{'  ' * i}k{i}:\n" for i in range(min(depth, 2000))) + "  " * min(depth, 2000) + "v: 1\n"
    start = time.perf_counter()
    with pytest.raises(ParseError, match=f"nest more than {DEPTH} levels") as err:
        loads_yaml(text, "job.yaml")
    assert time.perf_counter() - start < 5 and one_line(str(err.value))


def test_nesting_within_the_bound_is_read():
    assert loads_json("[" * DEPTH + "]" * DEPTH, "x") is not None and loads_yaml("[" * DEPTH + "]" * DEPTH, "x")


# A JSON value as pairs, so that a mapping may hold a key twice: ("obj", [(key, value), ...]) or a scalar.
KEYS = st.sampled_from(["a", "b", "steps", "train", "horizon", "x y", "ä"])
VALUES = st.recursive(st.integers(0, 9) | st.sampled_from(["s", "t"]),
                      lambda inner: st.lists(st.tuples(KEYS, inner), max_size=4).map(lambda p: ("obj", p)),
                      max_leaves=20)


def as_json(v) -> str:
    if isinstance(v, tuple) and v[0] == "obj":
        return "{" + ", ".join(f"{json.dumps(k)}: {as_json(x)}" for k, x in v[1]) + "}"
    return json.dumps(v)


def as_yaml(v, indent: int = 0) -> str:
    """Block-style YAML, as job files and configs are written (a scalar or a mapping at each level)."""
    if not (isinstance(v, tuple) and v[0] == "obj"):
        return json.dumps(v)
    if not v[1]:
        return "{}"
    pad = "  " * indent
    return "\n" + "\n".join(f"{pad}{json.dumps(k)}: {as_yaml(x, indent + 1)}" for k, x in v[1])


def first_duplicate(v) -> str | None:
    if not (isinstance(v, tuple) and v[0] == "obj"):
        return None
    keys = [k for k, _ in v[1]]
    if len(set(keys)) < len(keys):
        return "dup"
    return next((d for _, x in v[1] if (d := first_duplicate(x))), None)


@settings(max_examples=80, deadline=None)
@given(doc=st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=4).map(lambda p: ("obj", p)))
def test_a_key_given_twice_at_any_depth_is_refused_naming_it(doc):
    for text, load in ((as_json(doc), loads_json), (as_yaml(doc).lstrip("\n"), loads_yaml)):
        if first_duplicate(doc) is None:
            assert isinstance(load(text, "f"), dict)
            continue
        with pytest.raises(ParseError) as err:
            load(text, "f")
        message = str(err.value)
        assert one_line(message) and ("appears twice" in message or "given twice" in message)
        key = message.split("key ", 1)[1].split(" ", 1)[0]
        assert key.strip("'") in {"a", "b", "steps", "train", "horizon", "x", "ä"}


def test_two_steps_of_the_same_name_are_refused_naming_the_step(tmp_path):
    """The issue's case: two steps with the same key silently dropped the first."""
    job = tmp_path / "job.yaml"
    job.write_text("log: runs/x.json\nsteps:\n  train:\n    run: train\n    config: demo\n    out: models/a\n"
                   "  fc:\n    run: forecast\n    model: models/a\n    out: fc.json\n"
                   "  train:\n    run: train\n    config: demo\n    out: models/b\n")
    with pytest.raises(ConfigError) as err:
        load_job(job)
    assert str(err.value) == (f"{job}: line 11: key 'train' is given twice in one mapping (first on line 3); the "
                              "later would silently replace the earlier: remove or rename one")


def test_a_long_value_is_cut_in_the_message(tmp_path):
    huge = "9" * 10 + "x" * 1_000_000
    with pytest.raises(ConfigError) as err:
        load_config(builtin_config("demo"), [f"train.epochs={huge}"])
    message = str(err.value)
    assert one_line(message) and len(message) < 400 and "train.epochs = '9999999999xxx" in message
    assert "x..." in message and message.endswith("': expected an integer")


def test_a_file_over_the_cap_is_refused_before_it_is_parsed(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * YAML_BYTES + "\n")
    with pytest.raises(ParseError, match=f"more than the {YAML_BYTES}"):
        load_yaml(big)


def test_python_tags_stay_refused(tmp_path):
    with pytest.raises(ParseError, match="not valid YAML"):
        loads_yaml("a: !!python/object/apply:os.system ['true']\n", "job.yaml")


# --- remote text that becomes a saved file -------------------------------------------------------------------------

class HekRow(dict):
    """One record of HEK's answer as sunpy hands it over (``row[key]``, ``row.colnames``)."""

    @property
    def colnames(self):
        return list(self)


def hek_record(cls: str = "C1.0", start: str = "2011-02-15T01:44:00", ar="11158", x="-40") -> HekRow:
    return HekRow(event_starttime=start, event_peaktime="2011-02-15T01:56:00", event_endtime="2011-02-15T02:06:00",
                  fl_goescls=cls, ar_noaanum=ar, hpc_x=x, hpc_y="-220")


@settings(max_examples=80, deadline=None)
@given(cls=TEXT, junk=TEXT, ar=TEXT, x=TEXT)
@example(cls="", junk="1", ar="", x="")  # CI found it: pandas read 01:44:001 as 01:44:01
@example(cls="", junk="+05:00", ar="", x="")  # an offset strftime kept out: 01:44:00 written, 20:44 meant
def test_a_hek_record_is_one_line_with_its_values_or_refused(cls, junk, ar, x):
    for record in (hek_record(cls=cls, ar=ar, x=x), hek_record(cls="M" + cls, start="2011-02-15T01:44:00" + junk)):
        try:
            line = hek_line(record)
        except ValueError as exc:
            assert one_line(str(exc)) and "record 1" in str(exc)
            continue
        fields = line.split(";")
        assert "\n" not in line and "\r" not in line and '"' not in line and len(fields) == 7
        assert fields[1] == "2011-02-15 01:44:00" and fields[4] == str(record["fl_goescls"]).strip()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(classes=st.lists(st.one_of(st.sampled_from(["C1.0", "M2.2", "X9.9", "B5", "C6,2"]), TEXT), min_size=1,
                        max_size=4))
def test_saved_hek_records_are_read_back_as_as_many_flares(tmp_path, classes):
    """Written as ``fetch events --source hek`` writes them and read by the real HEK reader: one flare per
    record (or the answer refused, or the reader refusing a class): never a row the answer did not hold."""
    try:
        lines = [hek_line(hek_record(cls=c), record=i) for i, c in enumerate(classes, start=1)]
    except ValueError:
        return
    path = tmp_path / "hek_goes_20110215_20110215.csv"
    path.write_text("".join(line + "\n" for line in lines))
    try:
        flares = read_file(path, "events").data
    except FlarecastError:
        return
    assert len(flares) == len(classes)


def test_a_newline_in_a_hek_class_is_refused_and_nothing_is_written(httpserver, tmp_path):
    """The issue's case: a class field holding a line break and a second record added a fake X9.9 flare."""
    fake = "C1.0\n2011-02-15;2011-02-15 03:00:00;2011-02-15 03:10:00;2011-02-15 03:20:00;X9.9;(0, 0);11158"
    rows = [{**hek_record(ar=11158, x=-40.0), "hpc_y": -220.0, "fl_goescls": fake, "event_type": "FL", "obs_observatory": "GOES", "frm_name": "SWPC",
             "event_coordsys": "UTC-HPC-TOPO", "event_coord1": -40.0, "event_coord2": -220.0, "event_coord3": None,
             "event_coordunit": "arcseconds"}]
    httpserver.expect_request("/hek/her").respond_with_handler(
        lambda request: Response(json.dumps({"result": rows, "overmax": False}), content_type="application/json"))
    with pytest.raises(FetchError, match=r"record 1: fl_goescls = 'C1.0\\n2011-02-15;.*holds '\\n'"):
        fetch_events("2011-02-15", "2011-02-15", source="hek", out=tmp_path,
                     urls={"hek": httpserver.url_for("/hek/her")})
    assert list(tmp_path.iterdir()) == []
    rows[0].update(fl_goescls="C1.0", event_starttime="2011-02-15T01:44:00\n2011-02-15;X9.9")  # sunpy parses times
    with pytest.raises(FetchError, match="HEK's answer cannot be read"):
        fetch_events("2011-02-15", "2011-02-15", source="hek", out=tmp_path,
                     urls={"hek": httpserver.url_for("/hek/her")})
    assert list(tmp_path.iterdir()) == []


def test_a_line_break_in_a_sharp_keyword_is_refused_and_nothing_is_written(tmp_path):
    keys = ["T_REC", "HARPNUM", "NOAA_ARS", "USFLUX"]
    table = pd.DataFrame({"T_REC": ["2011.02.15_00:00:00_TAI"], "HARPNUM": ["377"],
                          "NOAA_ARS": ["11158\n2011.02.15_00:12:00_TAI,377,11158,9e99"], "USFLUX": ["1e22"]})
    client = SimpleNamespace(query=lambda *a, **k: table)
    with pytest.raises(FetchError, match="record 1: NOAA_ARS = .* holds '\\\\n'"):
        fetch_sharp("2011-02-15", "2011-02-15", keywords=keys[3:], client=client, out=tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- read-side faults: one line and exit code 2 --------------------------------------------------------------------

def cli_line(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.output
    return res.stderr


def oof_card(oof_file: str = "oof-1.parquet"):
    return SimpleNamespace(cv=SimpleNamespace(oof_file=oof_file), targets=("X",), blend=None)


@pytest.mark.parametrize(("content", "oof_file", "expected"), [
    (None, "oof-1.parquet", "oof-1.parquet: the out-of-fold predictions that card.json names are missing"),
    (b"PAR1 not really parquet", "oof-1.parquet", "not a readable Parquet file"),
    ("frame", "oof-1.parquet", "without column(s) ['y[X]', 'p_raw[X]'"),
    (None, "../oof-1.parquet", "is not a file name in the directory"),
])
def test_cv_with_a_missing_or_damaged_oof_file_is_one_line(tmp_path, monkeypatch, content, oof_file, expected):
    if content == "frame":
        pd.DataFrame({"fold": ["a"], "issue_time": [pd.Timestamp("2011-02-15", tz="UTC")], "region": [-1],
                      "prev_flux": [1e-6]}).to_parquet(tmp_path / oof_file)
    elif content is not None:
        (tmp_path / oof_file).write_bytes(content)
    monkeypatch.setattr(oof, "read_card", lambda _: oof_card(oof_file))
    monkeypatch.setattr(oof, "EnsembleCard", SimpleNamespace)  # the card above stands for an ensemble's
    with pytest.raises(ModelError, match=re.escape(expected)):
        oof.score_oof(tmp_path)
    assert expected in cli_line(["cv", str(tmp_path)])


def test_a_100k_deep_json_card_is_one_line(tmp_path):
    (tmp_path / "card.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "lists and objects nest more than 64 levels deep" in cli_line(["card", str(tmp_path)])


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("fc.csv", b"issue_time,target,probability\n2011-02-15T00:00Z,X,0.1\xff\n", "not UTF-8 text (byte b'\\xff'"),
    ("fc.csv", b"", "is empty"),
    ("fc.csv", b"\n\n", "is empty"),
    ("fc.json", b'{"forecasts": ' + b"[" * 100_000, "nest more than 64 levels deep"),
    ("fc.json", b'{"forecasts": [], "forecasts": []}', "appears twice"),
    ("fc.csv", b'issue_time,target,probability\n"2011', "not a readable CSV"),
])
def test_evaluate_forecasts_refuses_unreadable_files_in_one_line(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    store = tmp_path / "store.zarr"  # the file is refused before the store is opened
    assert expected in cli_line(["evaluate", "--forecasts", str(tmp_path / name), "--store", str(store)])
