"""Batch job files as pydantic models (flarecast.jobs.jobfile): refusals in one line naming the file, the step,
the key and what is allowed; typed steps; skip keys that stay what they were before the models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast.config import COMPARE_DEFAULTS, DEFAULT_STORE
from flarecast.errors import ConfigError
from flarecast.jobs.batch import run_job
from flarecast.jobs.jobfile import STEPS, load_job
from flarecast.jobs.steps import digest

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MIXED = """\
store: data/s.zarr
urls: {swpc: 'http://a'}
steps:
  f1: {run: fetch, source: goes, from: 2017-09-04, to: 2017-09-08, satellite: 16, timeout: 30, retries: 0}
  f2: {run: fetch, source: swpc, products: xrays-7-day, urls: {ncei: 'http://b'}}
  f3: {run: fetch, source: events, days: 3, events_source: hek}
  f4: {run: fetch, source: sharp, days: 2, harp: 377, nrt: true, out: data/raw/s}
  i: {run: ingest, kind: goes, paths: "data/raw/*.csv", basis: swpc, satellite: 15, skip_bad: true}
  t: {run: train, config: demo, overrides: train.epochs=1}
  t2: {run: train, config: configs/x.yaml, store: other.zarr}
  c: {run: compare, config: demo, seeds: 1, alphas: 0.25, gammas: 2, balanced_alpha: 1, pos_weight: 9, workers: 2}
  e: {run: evaluate, model: models/m, plots: false}
  fc: {run: forecast, model: models/m, fallbacks: models/f, at: 2017-09-06T12:00:00, out: x.json}
  fc2: {run: forecast, model: models/m, from: 2017-09-06, to: 2017-09-07, every: 6h, strict: false, format: ccmc, out: y.json, skip_refused: true}
  d: {run: dashboard, models: models/m, at: "2017-09-06T12:00"}
"""
# sha256 of each step's resolved settings as the hand-checked dicts of flarecast before the models (commit
# 0b481cb, `{**STEP_KEYS[run], "store": ..., **step}`) gave them: a change here changes every step's skip key,
# and the logs of earlier runs would no longer skip anything.
KEYS_BEFORE = {
    "mixed.yaml": {
        "f1": "61b5d733b6e13d515d08c46746e0511451ab2808d32fee4ec767531a4d0c1e13",
        "f2": "cb1949b3c8b403fd3adb6392b2f32847fd16a17aeac341a4d40b902b828bd60c",
        "f3": "02def94a33f8543cea2ff62736d78c0c3c894e0ab7cafafa984624b6161a8164",
        "f4": "55b53614c2222dd84bb71a1000ff9addf22ea8bf7a2a0bc99e6a68fa021a4ded",
        "i": "cbb6cdbf320c95a23f5f253de0c326de429dbdc35a2ae04e42e4a07b3d55fb02",
        "t": "37e2e61ada27c83965b6d41474327ab5ff8d4f2abad4ca61ed48f8ed42c4a165",
    },
    "batch.yaml": {
        "ingest-goes": "19432bd4e70e336cdf50ed7f50bb7703b8dabf5237f8327c0f3073b7b05508bc",
        "ingest-events": "a77b5214a3f045924588f687dfc3ce7027474662f4dd254f2bd259d28b94e069",
        "train": "6ad78a55434de5c6b309f3f2bb70f9973f2eeb302a07b2824ee11813fa1676ee",
        "evaluate": "b37b1540ee08bc6ff687682c0b65214986ec24832e35a33f95f6c2c85782a03b",
        "forecast": "9751ef4455ef2341f88caba586261a573fb0886829611f5a4fdbdfc8be0aeda2",
    },
}
STEPS_OF = {name: step["run"] for name, step in yaml.safe_load(MIXED)["steps"].items()}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jobs") / "mixed.yaml"
    path.write_text(MIXED)
    return path


def test_skip_keys_hash_the_same_settings_as_before_the_models(mixed):
    for path in (mixed, CONFIGS / "batch.yaml"):
        steps = load_job(path).steps
        assert {n: digest(steps[n].settings) for n in KEYS_BEFORE[path.name]} == KEYS_BEFORE[path.name]


def test_settings_are_the_step_as_written_with_its_defaults(mixed):
    """What the key hashes: the values as written (0.25, 1), while the step's attributes are typed."""
    step = load_job(mixed).steps["c"]
    assert step.settings == {"run": "compare", "store": "data/s.zarr", "config": "demo", "overrides": (),
                             "out": "runs/compare", "seeds": 1, "alphas": 0.25, "gammas": 2, "balanced_alpha": 1,
                             "pos_weight": 9, "workers": 2}
    assert (step.alphas, step.gammas, step.pos_weight, step.balanced_alpha) == ("0.25", "2", "9", 1.0)
    assert type(step.balanced_alpha) is float


def test_steps_are_typed_with_the_jobs_defaults(mixed):
    job = load_job(mixed)
    assert (job.root, job.log, job.store) == (".", "runs/batch/mixed.json", "data/s.zarr")
    f1, f2, f3 = job.steps["f1"], job.steps["f2"], job.steps["f3"]
    # YAML reads 2017-09-04 as a date: the step keeps the text; 30 seconds as a number of seconds.
    assert (f1.start, f1.end, f1.satellite, f1.timeout, f1.retries) == ("2017-09-04", "2017-09-08", 16, 30.0, 0)
    assert f1.urls == {"swpc": "http://a"} and f2.urls == {"swpc": "http://a", "ncei": "http://b"}
    assert f2.products == ("xrays-7-day",) and (f2.retries, f2.timeout, f2.resolution) == (3, 60.0, "avg1m")
    assert (f3.events_source, f3.days, f3.start) == ("hek", 3, None)
    assert job.steps["i"].paths == ("data/raw/*.csv",) and job.steps["t"].overrides == ("train.epochs=1",)
    assert job.steps["t2"].store == "other.zarr" and job.steps["e"].store == "data/s.zarr"
    assert job.steps["fc"].at == ("2017-09-06 12:00:00",) and job.steps["fc"].fallbacks == ("models/f",)
    assert (job.steps["fc2"].start, job.steps["fc2"].every, job.steps["fc2"].format) == ("2017-09-06", "6h", "ccmc")
    assert job.steps["d"].models == ("models/m",) and job.steps["d"].latest is True


def test_defaults_are_the_ones_defined_once(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("steps:\n  c: {run: compare, config: demo}\n  e: {run: evaluate, model: m}\n")
    job = load_job(path)
    assert job.store == DEFAULT_STORE and {s.store for s in job.steps.values()} == {DEFAULT_STORE}
    assert {k: getattr(job.steps["c"], k) for k in COMPARE_DEFAULTS} == COMPARE_DEFAULTS
    assert (job.steps["e"].split, job.steps["e"].out, job.steps["e"].plots) == ("test", None, True)


def _refused(override: str, expected: str) -> str:
    """The refusal of ``steps.NAME.KEY=VALUE`` in one line: the step, its kind, the key, the value as YAML reads it,
    then ``expected``."""
    where, text = override.split("=", 1)
    _, name, key = where.split(".")
    return f"step {name!r} ({STEPS_OF[name]}): {key} = {yaml.safe_load(text)!r}: {expected}"


VALUE_REFUSALS = [
    # values outside the allowed ones
    ("steps.f1.resolution=hourly", "expected one of ['avg1m', 'flx1s']"),
    ("steps.f1.source=ftp", "expected one of ['goes', 'swpc', 'events', 'sharp', 'srs']"),
    ("steps.f3.events_source=noaa", "expected one of ['flsum', 'swpc', 'hek']"),
    ("steps.i.kind=goose", "expected one of ['goes', 'events', 'sharp', 'regions']"),
    ("steps.i.basis=scaled", "expected one of ['true', 'swpc']"),
    ("steps.i.paths=[]", "expected at least 1 entry"),
    ("steps.e.split=validation", "expected one of ['train', 'val', 'test']"),
    ("steps.fc.format=xml", "expected one of ['flarecast', 'ccmc']"),
    ("steps.fc2.every=-6h", "expected a positive duration"),
    ("steps.c.gammas=two", "expected comma-separated numbers such as 0.25,0.5"),
    ("steps.c.pos_weight=0", "expected 'odds' (each target's training odds) or a number > 0"),
    ("steps.f2.urls={swpc: 'ftp://a'}", "urls.swpc = 'ftp://a': expected an http:// or https:// URL such as "
                                        "https://services.swpc.noaa.gov"),
    # wrong types
    ("steps.fc.latest=maybe", "expected true or false"),
    ("steps.f1.retries=three", "expected an integer"),
    ("steps.c.balanced_alpha=half", "expected a number"),
    ("steps.t.out={a: b}", "expected text"),
]
OTHER_REFUSALS = [
    # unknown keys, the file's or a step's: the keys it takes
    (["schedule=daily"], "unknown key 'schedule'; expected one of ['log', 'root', 'steps', 'store', 'urls']"),
    (["steps.t.epochs=3"], "step 't' (train): unknown key 'epochs'; expected one of "
                           "['config', 'out', 'overrides', 'run', 'store']"),
    (["steps.f1.from_=2017-09-04"], "step 'f1' (fetch): unknown key 'from_'; expected one of ['days', "
     "'deadline', 'events_source', 'file_deadline', 'from', 'harp', 'nrt', 'out', 'products', 'resolution', 'retries', 'run', 'satellite', "
     "'source', 'store', 'timeout', 'to', 'urls']"),
    # a misspelt key is named, not the key it leaves missing
    (["steps.t={run: train, conifg: demo}"], "step 't' (train): unknown key 'conifg'; expected one of "
                                             "['config', 'out', 'overrides', 'run', 'store']"),
    (["steps.t={run: train}"], "step 't' (train): 'config' is missing: expected a built-in config name (demo, "
                               "tiny) or a run config's YAML path"),
    (["steps.d={run: dashboard}"], "step 'd' (dashboard): 'models' is missing: expected the model directories "
                                   "to show"),
    (["steps.t.run=fit"], "step 't': run = 'fit': expected one of "
                          "['fetch', 'ingest', 'train', 'evaluate', 'compare', 'forecast', 'dashboard']"),
    (["steps.t.run=null"], "step 't': 'run' is missing: expected one of "
                           "['fetch', 'ingest', 'train', 'evaluate', 'compare', 'forecast', 'dashboard']"),
    (["steps.t=[run, train]"], "step 't' = ['run', 'train']: expected a mapping such as {run: train, config: demo}"),
    (["steps={}"], "steps = {}: expected a mapping of step names to steps, such as train: {run: train, config: demo}"),
    # the one element of a list outside the allowed ones; the file's own keys
    (["steps.f2.products=[xrays-7-day, xrays]"], "step 'f2' (fetch): products = 'xrays': expected one of "
     "['xrays-7-day', 'xrays-1-day', 'xray-flares-7-day', 'solar_regions', 'solar_probabilities']"),
    (["urls={nce: 'http://x'}"], "urls = {'nce': 'http://x'}: unknown archive 'nce'; expected one of "
                                 "['ncei', 'ncei_science', 'swpc', 'swpc_events', 'jsoc', 'hek', 'srs']"),
    (["urls=[x]"], "urls = ['x']: expected a mapping of archives to base URLs, such as ncei: "
                   "https://mirror.example/goes"),
    (["store=null"], "store = None: expected text"),
    # checks across keys
    (["steps.f1.to=null"], "step 'f1' (fetch): from = '2017-09-04', to = None: give both (the first and last "
                           "day), or neither and 'days'"),
    (["steps.f3.days=null"], "step 'f3' (fetch): 'days' is missing: give days (the last N UTC days up to today) "
                             "or 'from' and 'to'"),
]


@pytest.mark.parametrize(("overrides", "message"),
                         [([o], _refused(o, expected)) for o, expected in VALUE_REFUSALS] + OTHER_REFUSALS)
def test_refusals_name_the_file_step_key_and_what_is_allowed(mixed, overrides, message):
    with pytest.raises(ConfigError) as err:
        load_job(mixed, overrides)
    assert str(err.value) == f"{mixed}: {message}"


def test_a_swpc_fetch_takes_no_days(mixed):
    assert load_job(mixed, ["steps.f2.days=null"]).steps["f2"].days is None


def test_basis_true_as_yaml_reads_it_is_the_true_basis(mixed):
    assert load_job(mixed, ["steps.i.basis=true"]).steps["i"].basis == "true"  # YAML's true is a boolean
    with pytest.raises(ConfigError, match=r"step 'i' \(ingest\): basis = False: expected text$"):
        load_job(mixed, ["steps.i.basis=false"])


RANGES = [("f1", "retries", 0), ("f3", "days", 1), ("c", "seeds", 1), ("c", "workers", 1)]


@settings(max_examples=40, deadline=None)
@given(where=st.sampled_from(RANGES), value=st.integers(-10**6, 10**6))
def test_whole_numbers_below_their_minimum_are_refused(mixed, where, value):
    name, key, low = where
    _loads_or_is_refused(mixed, name, key, value, value >= low, f"expected a number greater than or equal to {low}")


@settings(max_examples=40, deadline=None)
@given(quarters=st.integers(-400, 400), key=st.sampled_from(["timeout", "balanced_alpha"]))
def test_numbers_outside_their_range_are_refused(mixed, quarters, key):
    value = quarters / 4  # written as 2.5, -0.25, 0.0: YAML reads them back exactly
    name, ok, rule = {"timeout": ("f1", value > 0, "greater than 0"),
                      "balanced_alpha": ("c", 0 <= value <= 1, "less than or equal to 1" if value > 1 else
                                         "greater than or equal to 0")}[key]
    _loads_or_is_refused(mixed, name, key, value, ok, f"expected a number {rule}")


def _loads_or_is_refused(mixed, name: str, key: str, value, ok: bool, expected: str) -> None:
    """``steps.NAME.KEY=VALUE`` loads with that value if ``ok``, else is refused in one line ending in ``expected``."""
    override = f"steps.{name}.{key}={value!r}"
    if ok:
        assert getattr(load_job(mixed, [override]).steps[name], key) == value
        return
    with pytest.raises(ConfigError) as err:
        load_job(mixed, [override])
    assert str(err.value) == f"{mixed}: " + _refused(override, expected)


@settings(max_examples=30, deadline=None)
@given(where=st.sampled_from([("t", "out"), ("t", "config"), ("e", "model"), ("fc", "out"), ("f1", "out")]),
       value=st.lists(st.integers(0, 99), min_size=1, max_size=3) | st.dictionaries(
           st.sampled_from("abc"), st.integers(0, 9), min_size=1))
def test_paths_given_as_lists_or_mappings_are_refused(mixed, where, value):
    name, key = where
    override = f"steps.{name}.{key}={value}".replace("'", "")  # {'a': 1} as YAML: {a: 1}
    with pytest.raises(ConfigError) as err:
        load_job(mixed, [override])
    assert str(err.value) == f"{mixed}: " + _refused(override, "expected text")


@pytest.mark.parametrize("run", list(STEPS))
def test_every_step_kind_refuses_an_unknown_key_naming_its_own(tmp_path, run):
    path = tmp_path / "job.yaml"
    path.write_text(f"steps:\n  s: {{run: {run}, colour: red}}\n")
    keys = sorted(f.alias or n for n, f in STEPS[run].model_fields.items())
    with pytest.raises(ConfigError, match=re.escape(f"{path}: step 's' ({run}): unknown key 'colour'; expected "
                                                    f"one of {keys}")):
        load_job(path)


def test_a_bad_step_is_refused_before_any_step_runs(sim_store, tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(f"steps:\n  ingest: {{run: ingest, kind: goes, paths: ['{sim_store.parent}/raw/goes/*.nc'],"
                    " store: data/s.zarr}\n  forecast: {run: forecast, model: m, out: f.json, format: xml}\n")
    with pytest.raises(ConfigError, match=r"step 'forecast' \(forecast\): format = 'xml'"):
        run_job(path, root=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["job.yaml"]  # no store, no log


def test_batch_help_says_the_job_is_checked_before_any_step_and_names_every_step_kind():
    from typer.testing import CliRunner

    from flarecast.cli import app

    shown = CliRunner().invoke(app, ["batch", "--help"], env={"COLUMNS": "300"}).output
    text = " ".join(shown.split())
    assert "The job file is checked when it is loaded, overrides included, before any step runs" in text
    assert "nothing is written" in text
    kinds = re.search(r"Run a job's steps in order \(([^)]*)\)", text).group(1).split(", ")
    assert kinds == list(STEPS)
