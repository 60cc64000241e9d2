"""The saved region model and the full disk from regions and flux (issue 24): the saved model predicts what the
fitted one did, an edited card is refused, and `forecast --latest` from `fetch swpc` files alone prints each
region and the full disk, coherent, through a combination that stores the region model as a member."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from flarecast.errors import ModelError
from flarecast.model.region_file import CARD, read_region_model
from flarecast.samples.regions import region_history
from flarecast.train.region_dir import save_region_model
from flarecast.train.regions import fit_region_model
from tests.conftest import REAL

YEARS = ("2012", "2013")
REPO = Path(__file__).parents[1]


def test_the_saved_region_model_predicts_exactly_what_the_fitted_one_did(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3)) * [1.0, 100.0, 0.01] + [0.0, 500.0, 3.0]
    y_xor = ((x[:, 0] > 0) ^ (x[:, 2] > 3)).astype(int)  # trees separate it, a line cannot
    y_lin = (x[:, 1] > 520).astype(int)
    with threadpool_limits(1):
        model, _ = fit_region_model(x, {">=C": y_xor, ">=M": y_lin, "X": np.zeros(300, int)},
                                    np.repeat([0, 1], 150), ["a", "b", "c"])
    assert model.methods[">=C"] == "trees" and model.models["X"] is None
    save_region_model(tmp_path, model, {"horizon": "24h", "convention": "swpc"})
    saved = read_region_model(tmp_path)
    x_new = np.vstack([x[:50], [[np.nan, 510.0, 3.0]]])  # a missing value takes the trees' learnt side
    for target in (">=C", ">=M", "X"):
        assert np.array_equal(saved.predict(x_new, target), model.predict(x_new, target)), target
    card = json.loads((tmp_path / CARD).read_text())
    assert card["params"][">=C"]["kind"] == "trees" and card["params"]["X"] == {"kind": "rate"}
    npz = tmp_path / "trees.npz"
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 1  # one bit of one tree
    npz.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="trees.npz: differs from what was trained"):
        read_region_model(tmp_path)


def test_later_days_label_each_region_from_its_own_flares_in_each_24_hours():
    from flarecast.samples.regions import region_samples
    from tests.test_regions import catalogue, reports

    s = region_samples(reports(), catalogue(), convention="true", days=3)
    # the catalogue ends with the C1 at T0 + 4 d: the reports of T0 and T0 + 1 d have three covered days
    assert s.table["time"].nunique() == 2
    # 11429 (rows 0 and 2): M2 at T0 + 3 h (day 1 of T0), C5 at T0 + 26 h (day 2 of T0, day 1 of T0 + 1 d),
    # C1 at T0 + 4 d (day 3 of T0 + 1 d, the end of its window); 11430 never flares
    assert s.labels(">=M").tolist() == [1, 0, 0, 0] and s.labels(">=C").tolist() == [1, 0, 1, 0]
    assert s.labels(">=C@d2").tolist() == [1, 0, 0, 0] and s.labels(">=M@d2").tolist() == [0, 0, 0, 0]
    assert s.labels(">=C@d3").tolist() == [0, 0, 1, 0]


def test_history_comes_from_swpcs_event_counts_where_the_flare_list_names_no_region():
    # AR 3664 in solar_regions.json (May 2024): 5 M flares on the 13th; the 11th and 12th by hand
    t = pd.to_datetime(["2024-05-12T00:30", "2024-05-13T00:30", "2024-05-14T00:30", "2024-05-14T00:30"])
    table = pd.DataFrame({"time": t, "region": [13664, 13664, 13664, 13668],
                          "c_events": [2, 1, 0, np.nan], "m_events": [1, 3, 5, np.nan], "x_events": [0, 1, 0, np.nan]})
    h = region_history(table, None)
    assert h["n_c_1d"].tolist() == [3, 5, 5, 0] and h["n_m_1d"].tolist() == [1, 4, 5, 0]
    assert h["n_c_3d"].tolist() == [3, 8, 13, 0] and h["n_m_3d"].tolist() == [1, 5, 10, 0]
    assert h["prev_rank"].tolist() == [2, 3, 2, 0]  # the largest of the day: M, X, M; none for the SRS-only row


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A store of real 2012-2013 data (SRS archive rows, SWPC's flare list with region numbers, GOES-15 hourly
    XRS-B), a tiny flux model trained on it, a region model on the reports to March 2013 and their combination
    fitted on April-June 2013."""
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent")
    from typer.testing import CliRunner

    from flarecast.cli import app
    from flarecast.config import load_config
    from flarecast.forecast.combine import fit_combination
    from flarecast.ingest.pipeline import ingest
    from flarecast.samples.build import samples_from_store
    from flarecast.train.loop import train

    real = REAL
    root = tmp_path_factory.mktemp("regions")
    srs = (real / "events/swpc_flarelists/SRS_data_new_19960101_20181231.csv").read_text().splitlines()
    (root / "srs.csv").write_text("\n".join([srs[0]] + [ln for ln in srs[1:] if ln.split(",")[9][:4] in YEARS]) + "\n")
    fl = (real / "events/swpc_flarelists/swpc_flarelist_20100101-20210810.csv").read_text().splitlines()
    (root / "flares.csv").write_text("\n".join([fl[0]] + [ln for ln in fl[1:] if ln.split(",")[1][:4] in YEARS]) + "\n")
    store = root / "store.zarr"
    ingest("regions", [root / "srs.csv"], store=store)
    ingest("events", [root / "flares.csv"], store=store)
    ingest("goes", [real / "goes/goes15_xrsb_hourly_max.csv"], store=store, basis="swpc", satellite=15)
    cfg = load_config(REPO / "configs/real-goes-hourly.yaml", [
        'samples.targets=[">=C", ">=M", "X"]', "samples.stride=6h", "model.hidden=8", "train.epochs=1",
        "train.batch_size=256", "train.device=cpu"])
    flux = root / "flux"
    train(samples_from_store(store, cfg.samples), cfg, flux)
    with threadpool_limits(1):  # the command, as a user runs it
        result = CliRunner().invoke(app, ["train-regions", "--store", str(store), "--to", "2013-03-31", "--out",
                                          str(root / "regions"), "--days", "3", "--json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert card["training"]["to"] <= "2013-03-31" and set(card["methods"].values()) <= {"logistic", "trees"}
    comb = root / "comb"
    fit_combination([flux, root / "regions"], store=store, start="2013-04-01", end="2013-06-30", out=comb)
    return {"root": root, "store": store, "flux": flux, "regions": root / "regions", "comb": comb, "card": card}


@pytest.fixture(scope="module")
def swpc(tmp_path_factory):
    return swpc_files(tmp_path_factory.mktemp("swpc"))


def swpc_files(folder):
    """What `flarecast fetch swpc` saves for 4-8 September 2017: the 7-day X-ray flux and flare list (GOES-16,
    SWPC's layout) and solar_regions.json (the SRS archive's regions of 20 August to 9 September, with each
    region's C/M/X flare counts of the day from SWPC's flare list)."""
    from flarecast.ingest.readers import read_file
    from tests.archive import SHARED_DAYS, avg1m_name
    from tests.swpc_fixture import flare_records, region_records, write_json, xray_records

    xrays = write_json(folder / "xrays-7-day.json",
                       [r for d in SHARED_DAYS for r in xray_records(REAL / "goes" / avg1m_name(d))])
    flares = write_json(folder / "xray-flares-7-day.json", flare_records(
        REAL / "events/goes16_flare_summary_2017_2024.csv", "2017-09-04", "2017-09-08"))
    srs = read_file(REAL / "events/swpc_flarelists/SRS_data_new_19960101_20181231.csv", "regions").data
    srs = srs[(srs["time"] >= "2017-08-21") & (srs["time"] <= "2017-09-09T00:30")]
    events = read_file(REAL / "events/swpc_flarelists/swpc_flarelist_20100101-20210810.csv", "events").data
    regions = write_json(folder / "solar_regions.json", region_records(srs, events))
    return xrays, flares, regions


def test_forecast_latest_from_swpc_files_alone_prints_each_region_and_the_full_disk(setup, swpc):
    from typer.testing import CliRunner

    from flarecast.cli import app
    from flarecast.forecast.files import validate
    from flarecast.forecast.region_member import region_member

    xrays, flares, regions = swpc
    args = ["forecast", str(setup["comb"]), "--goes", str(xrays), "--events", str(flares), "--regions", str(regions),
            "--latest"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # issued at the end of the flux (00:00 on the 9th), from the SRS of 00:30 on the 9th (the Sun at 24:00 on the 8th)
    rows = doc["regions"]
    assert {r["issue_time"] for r in rows} == {"2017-09-09T00:00:00Z"} and rows[0]["report_time"] == "2017-09-09T00:30:00Z"
    assert [r["region"] for r in rows] == [12673, 12674, 12677, 12678, 12679]
    for r in rows:
        p = r["probability"]
        for day in ("", "@d2", "@d3"):  # the next 24 h, then the second and third 24 h after the report
            assert 0 <= p["X" + day] <= p[">=M" + day] <= p[">=C" + day] <= 1
    by = {r["region"]: r for r in rows}
    # "33420,12673,S09W70,119,1060,DKC,10,19,BETA-GAMMA-DELTA,2017-09-09 00:30" in the archive
    assert (by[12673]["location"], by[12673]["mcintosh"], by[12673]["hale"]) == ("S09W70", "Dkc", "Beta-Gamma-Delta")
    assert by[12673]["swpc"] == {">=C": None, ">=M": None, "X": None}  # the archive has no SWPC probabilities
    # AR 12673 (the X9.3 of the 6th, the X1.3 of the 7th, M flares on the 8th) has the highest M probability
    assert max(rows, key=lambda r: r["probability"][">=M"])["region"] == 12673
    assert set(doc["inputs"]) == {"goes", "events", "regions"}  # the files each member read, fingerprinted
    validate(doc)  # forecast.schema.json, per-region rows included
    disk = {f["target"]: f["probability"] for f in doc["forecasts"]}
    assert 0 <= disk["X"] <= disk[">=M"] <= disk[">=C"] <= 1
    # the combination by hand: sigmoid(b + w_flux logit(flux member) + w_regions logit(1 - prod(1 - p)))
    card = json.loads((setup["comb"] / "combination.json").read_text())
    assert [m["source"] for m in card["members"]] == ["goes", "regions"]
    product = {t: 1 - np.prod([1 - r["probability"][t] for r in rows]) for t in disk}
    from flarecast.forecast.issue import forecast
    from flarecast.forecast.request import Inputs, IssueTimes

    flux = forecast(setup["flux"], Inputs(goes=[xrays], events=[flares]), IssueTimes(latest=True))
    p_flux = {f["target"]: f["probability"] for f in flux["forecasts"]}
    logit = lambda p: np.log(np.clip(p, 1e-4, 1 - 1e-4) / (1 - np.clip(p, 1e-4, 1 - 1e-4)))  # noqa: E731
    for t in card["targets"]:
        w = card["weights"][t]
        z = w["intercept"] + w["coef"][0] * logit(p_flux[t]) + w["coef"][1] * logit(product[t])
        assert disk[t] == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-6) or t == "X"  # X may be lowered to M's
    text = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "M+ d2" in text.output and "X d3" in text.output
    assert "regions at 2017-09-09T00:00:00Z" in text.output and "12673" in text.output and "Dkc" in text.output
    assert region_member(setup["regions"], setup["store"], ["2013-05-01T00:00:00Z"])[0]  # the store's own SRS too


def test_an_edited_region_card_or_a_missing_input_is_refused_in_one_line(setup, swpc, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from flarecast.cli import app

    edited = tmp_path / "regions"
    shutil.copytree(setup["regions"], edited)
    card = json.loads((edited / CARD).read_text())
    card["thresholds"][">=M"] = 0.01
    (edited / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"field 'thresholds\.>=M' differs from what was trained"):
        read_region_model(edited)
    result = CliRunner().invoke(app, ["card", str(edited)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "field 'thresholds.>=M' differs from what was trained" in result.output
    result = CliRunner().invoke(app, ["card", str(setup["regions"])])
    assert result.exit_code == 0 and "out-of-fold Brier" in result.output and "X@d3" in result.output
    comb = tmp_path / "comb"
    shutil.copytree(setup["comb"], comb)
    doc = json.loads((comb / "combination.json").read_text())
    doc["members"][1]["path"] = str(edited)
    (comb / "combination.json").write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["forecast", str(comb), "--store", str(setup["store"]), "--at",
                                      "2013-05-01T00:00"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "differs from what was trained" in result.output
    # a combination with a region member and no region reports: one line naming the option to add
    xrays, flares, regions = swpc
    result = CliRunner().invoke(app, ["forecast", str(setup["comb"]), "--goes", str(xrays), "--events", str(flares),
                                      "--latest"])
    assert result.exit_code == 2 and "no --regions files were given" in result.output, result.output
    result = CliRunner().invoke(app, ["forecast", str(setup["flux"]), "--goes", str(xrays), "--events", str(flares),
                                      "--regions", str(regions), "--latest"])
    assert result.exit_code == 2 and "--regions files are read by a combination" in result.output


def test_the_region_forecast_path_imports_no_scikit_learn():
    import subprocess
    import sys

    code = ("import sys, flarecast.forecast.ops, flarecast.forecast.region_member, flarecast.model.region_file; "
            "print(sorted(m for m in ('sklearn', 'torch', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_a_region_member_reads_swpcs_record_alone_with_its_probabilities_and_flare_counts(setup, tmp_path):
    from flarecast.forecast.region_member import region_member, region_table
    from flarecast.ingest.pipeline import ingest
    from tests.test_readers_regions import AR3664

    path = tmp_path / "solar_regions.json"  # AR 3664 at the west limb, 5 M flares on the 13th; a day before, none
    path.write_text(json.dumps([AR3664, {**AR3664, "observed_date": "2024-05-12", "m_xray_events": 0,
                                         "location": "S19W74", "longitude": 74}]))
    store = tmp_path / "s.zarr"
    ingest("regions", [path], store=store)  # no flare catalogue: the history is SWPC's counts
    fd, doc = region_member(setup["regions"], store, ["2024-05-14T00:00:00Z", "2024-05-17T00:00:00Z"])
    (row,) = doc["regions"]
    assert (row["region"], row["report_time"], row["location"]) == (13664, "2024-05-14T00:30:00Z", "S19W87")
    assert row["swpc"] == {">=C": 0.99, ">=M": 0.75, "X": 0.40}
    assert fd[("2024-05-14T00:00:00Z", ">=M")] == pytest.approx(row["probability"][">=M"])  # one region: itself
    assert doc["refused"][0]["issue_time"] == "2024-05-17T00:00:00Z"  # the report is 72 h old by then
    table = region_table(store, read_region_model(setup["regions"])).set_index("time")
    last = table.loc[pd.Timestamp("2024-05-14T00:30")]
    assert (last["n_m_1d"], last["n_m_3d"], last["prev_rank"], last["age_days"]) == (5, 5, 2, 1)


@pytest.mark.parametrize("edit", ["left", "feature", "value", "scale", "rate", "kind"])
def test_a_region_model_resealed_after_an_edit_that_breaks_it_is_refused_in_one_line(tmp_path, edit):
    """The seal is no signature: whoever recomputes the digests can change the files. What would send a tree walk
    outside its arrays (an IndexError, a hang) or give a number that is not a probability is refused on load."""
    from flarecast.model.region_file import card_digests, file_sha256

    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    with threadpool_limits(1):
        model, _ = fit_region_model(x, {">=C": ((x[:, 0] > 0) ^ (x[:, 2] > 0)).astype(int),
                                        ">=M": (rng.random(300) < 1 / (1 + np.exp(-1.5 * x[:, 1]))).astype(int),
                                        "X": np.zeros(300, int)},  # >=M: a logistic truth, which a line fits best
                                    np.repeat([0, 1], 150), ["a", "b", "c"])
    save_region_model(tmp_path, model, {"horizon": "24h", "convention": "swpc"})
    card = json.loads((tmp_path / CARD).read_text())
    assert card["params"][">=C"]["kind"] == "trees" and card["params"][">=M"]["kind"] == "logistic"
    key = card["params"][">=C"]["key"]
    with np.load(tmp_path / "trees.npz") as z:
        trees = {k: z[k].copy() for k in z.files}
    if edit == "left":
        trees[f"{key}_left"][0] = 10**6  # past the last node
    elif edit == "feature":
        trees[f"{key}_feature"][0] = 7  # 3 features
    elif edit == "value":
        trees[f"{key}_value"][-1] = np.nan
    elif edit == "scale":
        card["params"][">=M"]["scale"][1] = 0.0
    elif edit == "rate":
        card["rates"]["X"] = 1.5
    else:
        card["params"]["X"]["kind"] = "pickle"
    np.savez(tmp_path / "trees.npz", **trees)
    card["trees_sha256"] = file_sha256(tmp_path / "trees.npz")
    card.pop("fields_sha256")
    card["fields_sha256"] = card_digests(card)
    (tmp_path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="the region model is damaged or was edited: retrain it") as exc:
        read_region_model(tmp_path)
    assert "\n" not in str(exc.value)
