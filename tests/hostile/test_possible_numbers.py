"""Issue 21, class 3: only possible numbers leave the program.

Cards are bound to what was trained (an edit of any field that changes what a forecast means is refused naming
the field; ensemble members stay inside their directory), every probability, threshold and rate a card holds is
range-checked on load, forecasts are coherent across classes by construction, the writers refuse an impossible
number, and other forecasters' files that break the rules are refused with the count and the first bad record.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import ImpossibleNumberError, InputFileError, ModelError
from flarecast.forecast import forecast
from flarecast.forecast.ccmc import read_ccmc, write_ccmc
from flarecast.forecast.files import read_forecasts, write_forecasts
from flarecast.forecast.numbers import make_coherent
from flarecast.forecast.providers import read_provider
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.forecast.swpc import read_swpc
from flarecast.jsonio import dumps
from flarecast.model.card import EnsembleCard, field_digests
from flarecast.model.ensemble import COMBINE
from flarecast.model.modeldir import CARD, WEIGHTS, load_model, read_card, save_ensemble_card, save_model

runner = CliRunner()
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- an ensemble of two members of the session's tiny model ------------------------------------------------------
@pytest.fixture(scope="module")
def ensemble(tiny_model, tmp_path_factory) -> Path:
    """Two members (the tiny model and a perturbed copy), isotonic maps per target: a complete ensemble that
    forecasts from the session's simulated store."""
    root = tmp_path_factory.mktemp("ens") / "e"
    net, card = load_model(tiny_model)
    save_model(root / "members" / "m0", net, card)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    save_model(root / "members" / "m1", net, card)
    keep = ("code_version", "loss", "channels", "targets", "normalisation", "config", "climatology")
    doc = {k: v for k, v in card.to_dict().items() if k in keep}
    iso = {"method": "isotonic", "x": [0.0, 0.5, 1.0], "y": [0.0, 0.4, 0.9]}
    save_ensemble_card(root, {
        **doc, "kind": "ensemble", "combine": COMBINE, "decision": {
            "rule": "tss", "chosen_on": "pooled out-of-fold predictions", "thresholds": card.thresholds},
        "calibration": dict.fromkeys(card.targets, iso),
        "members": [{"dir": f"members/m{k}", "fold": f"block{k}", "seed": 0} for k in range(2)],
        "cv": {"scheme": "blocked", "folds": [], "oof_file": "oof.parquet", "oof_scores": {}}})
    return root


@pytest.fixture
def edited(ensemble, tmp_path):
    """A copy of the ensemble and a function that rewrites its card.json (``allow_nan``: NaN written as such)."""
    d = tmp_path / "e"
    shutil.copytree(ensemble, d)

    def edit(change) -> dict:
        doc = json.loads((d / CARD).read_text())
        change(doc)
        (d / CARD).write_text(json.dumps(doc, indent=2))
        return doc
    return d, edit


def _set(doc, path, value):
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def test_the_ensemble_loads_and_forecasts_probabilities_in_order(ensemble, sim_store):
    card = read_card(ensemble)
    assert isinstance(card, EnsembleCard) and set(card.fields_sha256) >= {"normalisation.mean", "members[1].dir"}
    doc = forecast(ensemble, Inputs(store=sim_store),
                   IssueTimes(start="2018-01-20T00:00", end="2018-01-25T00:00", every="6h"))
    _assert_possible(doc)


def _assert_possible(doc):
    by = {}
    for r in doc["forecasts"]:
        assert 0.0 <= r["probability"] <= 1.0 and r["decision"] == (r["probability"] >= r["threshold"])
        by.setdefault((r["issue_time"], r["region"]), {})[r["target"]] = r["probability"]
    assert by
    for p in by.values():
        assert p["X"] <= p[">=M"] <= p[">=C"]


# Concrete edits from the issue, each refused in one line that names what is wrong.
EDITS = [
    ("isotonic y [5, 5]", ["calibration", "X"], {"method": "isotonic", "x": [0, 1], "y": [5, 5]},
     "isotonic y = 5.0: expected a finite number in [0, 1]"),
    ("isotonic y NaN", ["calibration", "X", "y"], [0.0, math.nan, 0.9], "isotonic y [0.0, nan, 0.9]: expected finite"),
    ("isotonic y decreasing", ["calibration", ">=M", "y"], [0.9, 0.4, 0.0], "non-decreasing"),
    ("threshold -1", ["decision", "thresholds", ">=M"], -1, "thresholds['>=M'] = -1"),
    ("threshold NaN", ["decision", "thresholds", "X"], math.nan, "thresholds['X'] = nan"),
    ("climatology 2", ["climatology", ">=C"], 2, "climatology['>=C'] = 2"),
    ("member dir ../x", ["members", 0, "dir"], "../x", "field 'members[0].dir' differs from what was trained"),
    ("member dir absolute", ["members", 1, "dir"], "/etc", "field 'members[1].dir' differs from what was trained"),
    ("horizon", ["horizon"], "48h", "horizon = '48h' but its config gives '24h'"),  # a copy beside the config
    ("config horizon", ["config", "samples", "horizon"], "48h", "field 'config.samples.horizon' differs"),
    ("normalisation.mean", ["normalisation", "mean", 0], -5.5, "field 'normalisation.mean' differs"),
    ("isotonic y in range", ["calibration", "X", "y", 1], 0.45, "field 'calibration.X.y' differs"),
    ("member digest", ["members", 0, "weights_sha256"], "0" * 64, "field 'members[0].weights_sha256' differs"),
]


@pytest.mark.parametrize(("name", "path", "value", "expect"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edited_ensemble_card_is_refused_naming_the_field(edited, name, path, value, expect):
    d, edit = edited
    edit(lambda doc: _set(doc, path, value))
    with pytest.raises(ModelError) as err:
        read_card(d)
    assert expect in str(err.value) and "\n" not in str(err.value)


def test_swapped_or_dropped_members_and_reordered_channels_are_refused(edited):
    d, edit = edited
    edit(lambda doc: doc["members"].reverse())
    with pytest.raises(ModelError, match=r"field 'members\[0\].dir' differs"):
        read_card(d)
    edit(lambda doc: doc["members"].reverse())
    read_card(d)  # restored: loads again
    edit(lambda doc: doc["members"].pop())
    with pytest.raises(ModelError, match=r"field 'members\[1\]\.\w+' was removed"):
        read_card(d)


def test_reordered_channels_are_refused(edited):
    d, edit = edited
    edit(lambda doc: doc["channels"].reverse())
    with pytest.raises(ModelError, match="field 'channels' differs"):
        read_card(d)


def test_forecast_with_an_isotonic_map_of_5_exits_2_in_one_line_and_writes_nothing(edited, sim_store, tmp_path):
    d, edit = edited
    edit(lambda doc: _set(doc, ["calibration", "X"], {"method": "isotonic", "x": [0, 1], "y": [5, 5]}))
    out = tmp_path / "fc.json"
    res = runner.invoke(app, ["forecast", str(d), "--store", str(sim_store), "--latest", "--out", str(out)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
    assert "calibration.X" in res.output and "isotonic y = 5.0" in res.output and not out.exists()


def test_a_card_without_its_digest_is_refused_and_a_resealed_escape_too(edited, tmp_path):
    """An ensemble card written before the digests (or with them removed) is refused with the fix; a card whose
    digests were recomputed after the edit still cannot name a member outside its directory."""
    d, edit = edited
    edit(lambda doc: doc.pop("fields_sha256"))
    with pytest.raises(ModelError, match="no fields_sha256 .*: restore it or retrain"):
        read_card(d)
    outside = tmp_path / "outside"
    shutil.copytree(d / "members" / "m0", outside)
    for rel in ("../outside", str(outside)):
        def resealed(doc, rel=rel):
            doc["members"][0]["dir"] = rel
            doc["fields_sha256"] = EnsembleCard.model_validate(doc).bound_fields()
        edit(resealed)
        with pytest.raises(ModelError, match=f"member dir '{rel}' is not a path inside the ensemble directory"):
            read_card(d)
    # A link inside the directory that leads out of it.
    (d / "members" / "link").symlink_to(outside)

    def linked(doc):
        doc["members"][0]["dir"] = "members/link"
        doc["fields_sha256"] = EnsembleCard.model_validate(doc).bound_fields()
    edit(linked)
    with pytest.raises(ModelError, match="'members/link' is not a path inside"):
        read_card(d)


def test_a_member_card_that_says_other_inputs_than_the_ensemble_is_refused(edited):
    """The ensemble's channels, horizon and normalisation must be what its members' weights were saved with,
    whatever its own digests say."""
    d, edit = edited

    def shifted(doc):
        doc["normalisation"]["mean"][0] += 0.5
        doc["fields_sha256"] = EnsembleCard.model_validate(doc).bound_fields()
    edit(shifted)
    with pytest.raises(ModelError, match="says normalisation .* but its member members/m0 was trained with"):
        read_card(d)


def _leaf_paths(ensemble) -> list[str]:
    doc = json.loads((ensemble / CARD).read_text())
    return list(field_digests({k: v for k, v in doc.items() if k != "fields_sha256"}))


def _locate(doc, field: str):
    """The container and key of a field path such as ``members[1].dir`` or ``calibration.X.y``."""
    parts = []
    for piece in field.replace("[", ".[").split("."):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    node = doc
    for p in parts[:-1]:
        node = node[p]
    return node, parts[-1]


def _changed(value, k: int):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 + k
    if isinstance(value, float):
        return value / 2 + 0.25 if value / 2 + 0.25 != value else 0.125
    if isinstance(value, str):
        return value + "x" * (k + 1)
    if isinstance(value, list):
        return [*value, value[-1]] if value else [0.5]
    if value is None:
        return 0.5
    return {"edited": k}


@SETTINGS
@given(data=st.data())
def test_any_edit_of_a_bound_field_is_refused_naming_it(ensemble, tmp_path_factory, data):
    """Whatever field of the ensemble card is changed (a number, a string, a list, a member's entry), loading
    refuses in one line that names it (the field, or the object whose rule it breaks)."""
    field = data.draw(st.sampled_from(_leaf_paths(ensemble)), label="field")
    k = data.draw(st.integers(0, 3), label="k")
    d = tmp_path_factory.mktemp("edit") / "e"
    shutil.copytree(ensemble, d)
    doc = json.loads((d / CARD).read_text())
    node, key = _locate(doc, field)
    node[key] = _changed(node[key], k)
    (d / CARD).write_text(json.dumps(doc))
    with pytest.raises(ModelError) as err:
        read_card(d)
    msg = str(err.value)
    dotted = field.replace("[", ".").replace("]", "")
    parent = field.rsplit(".", 1)[0]
    assert "\n" not in msg and any(name in msg for name in (repr(field), dotted, parent)), (field, msg)


# --- single models: card.json must say what the weights were saved with -----------------------------------------
@pytest.mark.parametrize(("path", "value", "expect"), [
    (["normalisation", "mean", 0], -5.5, "says normalisation.mean"),
    (["config", "samples", "horizon"], "48h", "says config.samples.horizon '48h'"),
    (["climatology", "X"], 0.5, "says climatology.X 0.5"),
    (["config", "samples", "convention"], "swpc", "says config.samples.convention 'swpc'"),
])
def test_a_single_models_edited_card_is_refused_naming_the_field(tiny_model, tmp_path, path, value, expect):
    d = tmp_path / "m"
    shutil.copytree(tiny_model, d)
    doc = json.loads((d / CARD).read_text())
    _set(doc, path, value)
    (d / CARD).write_text(dumps(doc))
    with pytest.raises(ModelError, match="was saved with") as err:
        read_card(d)
    assert expect in str(err.value)


def test_an_edited_card_in_the_weights_header_is_refused(tiny_model, tmp_path):
    """The card saved inside the weights carries its own digests: a header rewritten with another threshold (and
    no card.json to compare with) is refused naming the field."""
    from safetensors.torch import load_file, save_file

    d = tmp_path / "m"
    d.mkdir()
    header = read_card(tiny_model).to_dict()
    header.pop("weights_sha256")
    header["decision"]["thresholds"]["X"] = 0.01
    save_file(load_file(str(tiny_model / WEIGHTS)), str(d / WEIGHTS), metadata={"card": dumps(header, indent=None)})
    with pytest.raises(ModelError, match=r"\(the card in its header\): field 'decision.thresholds.X' differs"):
        read_card(d)


# --- coherence and the writers' guard ---------------------------------------------------------------------------
def test_a_forecast_whose_heads_disagree_is_made_coherent_and_says_so(edited, sim_store):
    """An ensemble calibrated to say P(X) = 0.9 and P(>=M) = 0.1 for every window: the forecast lowers X to
    P(>=M) on every issue time, decides on the lowered probability and counts the rows in ``coherence``."""
    d, edit = edited

    def calibrated(doc):
        doc["calibration"][">=C"] = {"method": "isotonic", "x": [0.0, 1.0], "y": [0.95, 0.95]}
        doc["calibration"]["X"] = {"method": "isotonic", "x": [0.0, 1.0], "y": [0.9, 0.9]}
        doc["calibration"][">=M"] = {"method": "isotonic", "x": [0.0, 1.0], "y": [0.1, 0.1]}
        doc["fields_sha256"] = EnsembleCard.model_validate(doc).bound_fields()
    edit(calibrated)
    doc = forecast(d, Inputs(store=sim_store),
                   IssueTimes(start="2018-01-20T00:00", end="2018-01-21T00:00", every="6h"))
    xs = [r for r in doc["forecasts"] if r["target"] == "X"]
    assert len(xs) == 5 and all(r["probability"] == pytest.approx(0.1) for r in xs)
    assert doc["coherence"]["lowered"] == 5
    _assert_possible(doc)


def test_make_coherent_lowers_the_higher_class_and_its_decision():
    rows = [{"issue_time": "t", "region": None, "target": t, "probability": p, "threshold": 0.2, "decision": p >= 0.2}
            for t, p in ((">=C", 0.3), (">=M", 0.5), ("X", 0.4))]
    assert make_coherent(rows) == 2
    assert [r["probability"] for r in rows] == [0.3, 0.3, 0.3] and all(r["decision"] for r in rows)


@pytest.mark.parametrize("bad", [5.0, math.nan, -0.1, math.inf])
@pytest.mark.parametrize("fmt", ["json", "csv", "ccmc"])
def test_the_writers_refuse_an_impossible_number_and_write_nothing(tiny_model, sim_store, tmp_path, bad, fmt):
    doc = forecast(tiny_model, Inputs(store=sim_store), IssueTimes(latest=True))
    doc["forecasts"][-1]["probability"] = bad
    out = tmp_path / f"fc.{'csv' if fmt == 'csv' else 'json'}"
    with pytest.raises(ImpossibleNumberError, match="is not a number in \\[0, 1\\]; nothing was written"):
        write_ccmc(doc, out) if fmt == "ccmc" else write_forecasts(doc, out)
    assert not out.exists()


def test_the_writers_refuse_classes_out_of_order(tiny_model, sim_store, tmp_path):
    doc = forecast(tiny_model, Inputs(store=sim_store), IssueTimes(latest=True))
    x = next(r for r in doc["forecasts"] if r["target"] == "X")
    m = next(r for r in doc["forecasts"] if r["target"] == ">=M")
    x["probability"], x["decision"] = min(1.0, m["probability"] + 0.1), min(1.0, m["probability"] + 0.1) >= x["threshold"]
    for out in (tmp_path / "a.json", tmp_path / "b.csv"):
        with pytest.raises(ImpossibleNumberError, match=r"P\(X\) = .* exceeds P\(>=M\)"):
            write_forecasts(doc, out)
        assert not out.exists()


# --- other forecasters' files -----------------------------------------------------------------------------------
def _coherent_day(rng_values):
    c, m, x = sorted(rng_values, reverse=True)
    return {">=C": c, ">=M": m, "X": x}


BREAKS = ("range", "nan", "order", "window", "duplicate")


@SETTINGS
@given(days=st.lists(st.tuples(*[st.floats(0.01, 0.8)] * 3), min_size=3, max_size=12),
       breaks=st.dictionaries(st.integers(0, 11), st.sampled_from(BREAKS), max_size=5))
def test_a_plain_provider_csv_with_broken_records_is_refused_with_their_count(days, breaks, tmp_path_factory):
    """Good days are coherent; each broken day breaks one rule once. The file is refused iff a day is broken, the
    message counts every broken record and names the first."""
    rows, extra, bad_lines = [], [], []
    breaks = {d: b for d, b in breaks.items() if d < len(days)}
    for d, values in enumerate(days):
        t = pd.Timestamp("2019-06-01") + pd.Timedelta(days=d)
        p = _coherent_day(values)
        end = t + pd.Timedelta(days=1)
        kind = breaks.get(d)
        for target in (">=C", ">=M", "X"):
            v, v_end = p[target], end
            if target == "X" and kind == "range":
                v = -0.25
            if target == "X" and kind == "nan":
                v = math.nan
            if target == "X" and kind == "order":
                v = p[">=M"] + 0.1
            if target == ">=C" and kind == "window":
                v_end = t - pd.Timedelta(hours=1)
            line = [f"{t:%Y-%m-%dT%H:%M:%SZ}", target, repr(v), f"{v_end:%Y-%m-%dT%H:%M:%SZ}"]
            rows.append(line)
            if kind in ("range", "nan", "order") and target == "X" or kind == "window" and target == ">=C":
                bad_lines.append(len(rows) + 1)
        if kind == "duplicate":
            extra.append([f"{t:%Y-%m-%dT%H:%M:%SZ}", "X", repr(p["X"] / 2), f"{end:%Y-%m-%dT%H:%M:%SZ}"])
    for line in extra:
        rows.append(line)
        bad_lines.append(len(rows) + 1)
    path = tmp_path_factory.mktemp("p") / "provider.csv"
    path.write_text("issue_time,target,probability,valid_to\n" + "".join(",".join(r) + "\n" for r in rows))
    if not breaks:
        frame, _, _ = read_provider(path)
        assert len(frame) == 3 * len(days) and frame["probability"].between(0, 1).all()
        return
    with pytest.raises(InputFileError) as err:
        read_provider(path)
    msg = str(err.value)
    assert f"{len(breaks)} impossible record(s)" in msg and f"first: line {min(bad_lines)}:" in msg, msg


def _submission(day: int, bins: dict, *, backwards: bool = False) -> dict:
    start = pd.Timestamp("2019-06-01") + pd.Timedelta(days=day)
    end = start + pd.Timedelta(hours=-1 if backwards else 24)
    t, end = f"{start:%Y-%m-%dT%H:%MZ}", f"{end:%Y-%m-%dT%H:%MZ}"
    return {"forecast_submission": {"model": {"short_name": "other"}, "issue_time": t, "mode": "historical",
                                    "forecasts": [{"event_type": "flare", "prediction_window": {"start": t, "end": end},
                                                   "full_disk": {"probabilities": bins}, "regions": []}]}}


CCMC_BREAKS = ("bins-sum", "x-above-m", "nan", "window", "duplicate")


@SETTINGS
@given(days=st.lists(st.tuples(*[st.floats(0.01, 0.3)] * 3), min_size=3, max_size=10),
       breaks=st.dictionaries(st.integers(0, 9), st.sampled_from(CCMC_BREAKS), max_size=4))
def test_a_ccmc_file_with_broken_submissions_is_refused_with_their_count(days, breaks, tmp_path_factory):
    """Exclusive bins summing past 1, X above M+, NaN, a window ending before it starts, one issue time twice
    with different values: each counted (a window counts once per target it carries), none scored."""
    subs, expected = [], 0
    breaks = {d: b for d, b in breaks.items() if d < len(days)}
    for d, values in enumerate(days):
        p = _coherent_day(values)
        bins = {"C": None, "M": None, "X": p["X"], "CPlus": p[">=C"], "MPlus": p[">=M"]}
        kind = breaks.get(d)
        if kind == "bins-sum":
            bins.update(C=0.5, M=0.4, X=0.3, MPlus=None, CPlus=0.95)
        elif kind == "x-above-m":
            bins["X"] = p[">=M"] + 0.05
        elif kind == "nan":
            bins["MPlus"] = math.nan
        subs.append(_submission(d, bins, backwards=kind == "window"))
        if kind == "duplicate":
            subs.append(_submission(d, {**bins, "X": p["X"] / 2}))
        if kind is not None:
            expected += 3 if kind == "window" else 1
    path = tmp_path_factory.mktemp("c") / "other.json"
    path.write_text(json.dumps(subs))
    if not breaks:
        frame = read_ccmc(path)
        assert len(frame) == 3 * len(days)
        return
    with pytest.raises(InputFileError) as err:
        read_ccmc(path)
    assert f"{expected} impossible record(s)" in str(err.value), str(err.value)


def test_ccmc_bins_summing_past_one_are_named(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps([_submission(0, {"C": 0.5, "M": 0.4, "X": 0.3, "CPlus": None, "MPlus": None})]))
    with pytest.raises(InputFileError, match=r"first: submission 0 \(2019-06-01T00:00Z, full disk\): the exclusive "
                                             r"bins C, M, X sum to 1\.2 > 1"):
        read_ccmc(path)


def test_an_swpc_day_whose_x_exceeds_m_is_refused(tmp_path):
    path = tmp_path / "solar_probabilities.json"
    path.write_text(json.dumps([{"date": "2019-06-02T00:00:00", "c_class_1_day": 40, "m_class_1_day": 5,
                                 "x_class_1_day": 1},
                                {"date": "2019-06-01T00:00:00", "c_class_1_day": 40, "m_class_1_day": 5,
                                 "x_class_1_day": 10}]))
    with pytest.raises(InputFileError, match=r"1 impossible record\(s\).*first: record 1 \(2019-06-01\): P\(X\) = "
                                             r"0\.1 exceeds P\(>=M\) = 0\.05"):
        read_swpc([path])


@pytest.mark.parametrize(("column", "value", "expect"), [
    ("probability", "nan", "probability nan is not a number in [0, 1]"),
    ("threshold", "nan", "threshold nan is not a number in [0, 1]"),
    ("base_rate", "nan", "base_rate nan is not a number in [0, 1]"),
])
def test_a_flarecast_csv_with_nan_or_out_of_range_numbers_is_refused(tiny_model, sim_store, tmp_path, column, value,
                                                                     expect):
    doc = forecast(tiny_model, Inputs(store=sim_store), IssueTimes(latest=True))
    path = write_forecasts(doc, tmp_path / "fc.csv")
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index(column)] = value
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=r"1 impossible record\(s\)") as err:
        read_forecasts(path)
    assert f"first: line 3: {expect}" in str(err.value)
    res = runner.invoke(app, ["evaluate", str(path), "--forecasts", "--store", str(sim_store)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and expect in res.output, res.output


def test_probabilities_read_from_every_format_are_possible(tiny_model, sim_store, tmp_path):
    """What the writers write, the readers read back unchanged (no row refused, every number possible)."""
    doc = forecast(tiny_model, Inputs(store=sim_store),
                   IssueTimes(start="2018-01-20T00:00", end="2018-01-22T00:00", every="12h"))
    for out in (tmp_path / "fc.json", tmp_path / "fc.csv"):
        assert read_forecasts(write_forecasts(doc, out)) == doc["forecasts"]
    frame = read_ccmc(write_ccmc(doc, tmp_path / "ccmc.json"))
    assert len(frame) == len(doc["forecasts"]) and np.isfinite(frame["probability"]).all()
