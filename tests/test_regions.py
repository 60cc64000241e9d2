"""Region samples, the McIntosh-Poisson baseline and the region model, on values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from flarecast.errors import SampleError
from flarecast.evaluate.baselines import fit_mcintosh
from flarecast.samples.labels import Catalogue
from flarecast.samples.regions import FEATURES, feature_matrix, full_disk, mcintosh_parts, region_samples
from flarecast.studies.regions import home_year
from flarecast.train.regions import fit_region_model, out_of_fold

T0 = np.datetime64("2012-03-05T00:30", "ns")
H = np.timedelta64(1, "h")
D = np.timedelta64(1, "D")


def reports() -> pd.DataFrame:
    rows = []
    for day in range(3):
        for region, k, area in ((11429, "Dkc", 1000.0 + 100 * day), (11430, "Axx", 10.0)):
            rows.append({"time": T0 + day * D, "region": region, "latitude": 18.0, "longitude": -60.0 + 13 * day,
                         "location": "", "carrington_longitude": 0.0, "mcintosh": k, "area": area, "extent": 5.0,
                         "spots": 3.0, "hale": "Beta-Gamma-Delta" if k == "Dkc" else "Alpha",
                         "p_c": np.nan, "p_m": np.nan, "p_x": np.nan})
    return pd.DataFrame(rows)


def catalogue() -> Catalogue:
    # true-basis fluxes; convention "true": 2e-5 is M2, 3e-4 X3, 5e-6 C5
    peak = np.array([T0 - 2 * D, T0 + 3 * H, T0 + 5 * H, T0 + D + 2 * H, T0 + 4 * D], dtype="datetime64[ns]")
    flux = np.array([1e-6, 2e-5, 3e-4, 5e-6, 1e-6])
    ar = np.array([11429, 11429, 0, 11429, 11429])  # the X3 names no region
    return Catalogue(peak, flux, ar)


def test_labels_persistence_and_history_count_only_the_regions_own_flares():
    s = region_samples(reports(), catalogue(), convention="true")
    t = s.table.set_index(["region", "time"])
    assert t.loc[(11429, T0), "flux_next"] == 2e-5  # M2 at +3 h; the unattributed X3 at +5 h is no one's
    assert np.isnan(t.loc[(11430, T0), "flux_next"])
    assert t.loc[(11429, T0 + D), "flux_next"] == 5e-6 and t.loc[(11429, T0 + D), "flux_prev"] == 2e-5
    assert s.labels(">=M").tolist() == [1, 0, 0, 0, 0, 0]
    assert s.persistence(">=M").tolist() == [0, 0, 1, 0, 0, 0]  # sorted by (time, region)
    assert s.counts(">=C").tolist() == [1, 0, 1, 0, 0, 0]
    assert t.loc[(11429, T0 + 2 * D), "n_c_3d"] == 2 and t.loc[(11429, T0 + 2 * D), "n_m_3d"] == 1
    assert t.loc[(11429, T0 + 2 * D), "age_days"] == 2 and t.loc[(11429, T0 + 2 * D), "d_area"] == 100
    x = feature_matrix(s)
    assert x.shape == (6, len(FEATURES)) and np.isfinite(x).all()
    assert x[0, FEATURES.index("delta")] == 1 and x[1, FEATURES.index("delta")] == 0


def test_reports_outside_the_catalogue_are_dropped_and_none_inside_is_refused():
    late = reports().assign(time=lambda f: f["time"] + 365 * D)
    with pytest.raises(SampleError, match="span"):
        region_samples(late, catalogue())
    cat = catalogue()
    s = region_samples(reports(), Catalogue(cat.peak[:4], cat.flux[:4], cat.noaa_ar[:4]), convention="true")
    assert s.table["time"].max() == T0  # the last peak is T0 + 26 h: later reports' days are not covered


def test_mcintosh_rates_fall_back_to_the_zurich_class_then_to_all_regions():
    ks = ["Dkc"] * 20 + ["Dki"] * 5 + ["Axx"] * 25
    m_counts = np.r_[np.full(20, 0.5), np.full(5, 2.0), np.zeros(25)]  # 10 flares on Dkc days, 10 on Dki days
    m = fit_mcintosh(ks, {">=M": m_counts}, 1.0)
    assert m.rates[">=M"] == {"Dkc": 0.5, "Axx": 0.0}  # Dki: 5 region-days, below the 20 needed
    assert m.zurich[">=M"]["D"] == pytest.approx(20 / 25)
    assert m.rate(["Dki", "Fkc", "Dkc"], ">=M") == pytest.approx([0.8, 0.4, 0.5])  # Fkc: never seen: 20 / 50
    assert m.predict(["Dkc"], ">=M", days=2.0)[0] == pytest.approx(1 - np.exp(-1.0))
    # full disk: 1 - prod(1 - p) = 1 - exp(-sum of rates)
    assert m.full_disk([["Dkc", "Dkc"]], ">=M")[0] == pytest.approx(1 - (1 - m.predict(["Dkc"], ">=M")[0]) ** 2)


def test_full_disk_combines_each_reports_regions_independently():
    t = np.array([T0, T0, T0 + D], dtype="datetime64[ns]")
    times, p = full_disk(t, np.array([0.5, 0.5, 0.2]))
    assert np.array_equal(times, [T0, T0 + D]) and p == pytest.approx([0.75, 0.2])


def test_out_of_fold_forecasts_never_see_their_own_group():
    x = np.arange(40, dtype=float)[:, None]
    y = np.r_[np.ones(20), np.zeros(20)].astype(int)
    groups = np.r_[np.zeros(20), np.ones(20)]
    assert out_of_fold(x, y, groups, "logistic").tolist() == [0.0] * 20 + [1.0] * 20  # the other group's rate
    with pytest.raises(SampleError, match="two or more"):
        fit_region_model(x, {">=M": y}, np.zeros(40), ["a"])


def test_region_model_picks_the_method_of_lower_out_of_fold_brier():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)  # XOR: trees separate it, a line cannot
    with threadpool_limits(1):  # OpenMP threads on a busy machine spin for minutes on such small fits
        model, oof = fit_region_model(x, {">=C": y}, np.repeat([0, 1], 150), ["a", "b"])
    assert model.methods[">=C"] == "trees" and model.oof_brier[">=C"]["trees"] < model.oof_brier[">=C"]["logistic"]
    assert oof[">=C"].shape == (300,) and model.predict(x[:3], ">=C").shape == (3,)


def test_mcintosh_parts_and_home_year():
    assert mcintosh_parts(["Dai", "Hsx", ""]).tolist() == [[3, 3, 2], [6, 2, 0], [-1, -1, -1]]
    t = pd.to_datetime(["2011-12-30", "2011-12-31", "2012-01-01", "2012-01-02", "2012-01-03"]).to_numpy()
    assert home_year(np.array([1, 1, 1, 1, 1]), t).tolist() == [2012] * 5


def test_mcintosh_windows_take_the_latest_report_and_fit_on_train_runs_only():
    from types import SimpleNamespace

    import xarray as xr

    from flarecast.evaluate.mcintosh import fit_windows

    frame = reports()
    ds = xr.Dataset({c: ("report", frame[c].to_numpy()) for c in frame.columns if c not in ("time", "region")},
                    coords={"time": ("report", frame["time"].to_numpy()), "region": ("report", frame["region"])})
    cat = catalogue()
    events = xr.Dataset({"peak": ("event", cat.peak), "peak_flux": ("event", cat.flux),
                         "noaa_ar": ("event", cat.noaa_ar)})
    issue = np.array([T0 + H, T0 + D + H, T0 + 5 * D], dtype="datetime64[ns]")
    samples = SimpleNamespace(
        issue_time=issue, targets=(">=C",), y=np.array([[1], [1], [0]], dtype=np.float32),
        config=SimpleNamespace(horizon="24h", convention="true"),
        runs=[{"split": "train", "from": str(T0 - D), "to": str(T0 + D)},  # the report of T0 only
              {"split": "val", "from": str(T0 + D), "to": str(T0 + 9 * D)}],
        indices=lambda split: np.array([1, 2]) if split == "val" else np.array([0]))
    fit = fit_windows(ds, events, samples, threshold_score="hss")
    # trained on T0's reports alone (the min_days fallbacks: 1 region-day each, so the overall rate):
    # Dkc flared once in the day after T0 (the M2; the C5 at T0 + 26 h is outside), Axx never: 1 flare / 2 days
    assert fit.n_train_reports == 2 and fit.fit.overall[">=C"] == 0.5
    p = fit.predict(samples, np.arange(3))[:, 0]
    assert p[0] == pytest.approx(1 - np.exp(-1.0))  # two regions at 0.5 a day each
    assert p[1] == pytest.approx(1 - np.exp(-1.0))  # the report of T0 + 1 d: the same two regions
    assert p[2] == pytest.approx(1 - np.exp(-1.0))  # no report within 48 h: the training mean, also 1.0 a day



def test_swpc_region_probabilities_are_scored_beside_flarecasts_on_the_same_regions_and_days(tmp_path):
    import json

    from flarecast.studies.regions import score_swpc_regions

    record = {"latitude": 18, "longitude": 0, "spot_class": "Dkc", "mag_class": "BGD", "area": 800,
              "number_spots": 20, "x_flare_probability": 5}
    days = [("2012-03-07", 1429, 90, 50), ("2012-03-07", 1430, 10, 1), ("2012-03-08", 1429, 90, 50),
            ("2012-03-08", 1430, 10, 1)]
    files = [tmp_path / "solar_regions_20120308T120000Z.json", tmp_path / "solar_regions_20120309T120000Z.json"]
    files[0].write_text(json.dumps([{**record, "observed_date": d, "region": r, "c_flare_probability": c,
                                     "m_flare_probability": m} for d, r, c, m in days[:2]]))
    # the later copy repeats 7 March with another value: the forecast as first issued is kept
    files[1].write_text(json.dumps([{**record, "observed_date": d, "region": r, "c_flare_probability": c if
                                     d != "2012-03-07" else 0, "m_flare_probability": m} for d, r, c, m in days]))
    cat = catalogue()
    extra = np.array([T0 + 3 * D + 2 * H, T0 + 6 * D], dtype="datetime64[ns]")
    cat = Catalogue(np.r_[cat.peak, extra], np.r_[cat.flux, 1.2e-5, 1e-6], np.r_[cat.noaa_ar, 11429, 0])
    order = np.argsort(cat.peak, kind="stable")
    cat = Catalogue(cat.peak[order], cat.flux[order], cat.noaa_ar[order])
    out = score_swpc_regions(files, reports(), cat, n_boot=50, convention="true")
    c = out["targets"][">=C"]
    # scored: 11429 and 11430 on 8 and 9 March 00:30; only 11429 on 8 March flares (M1.2 at +2 h, C1 at +24 h)
    assert (c["n"], c["positives"]) == (4, 1) and out["train_reports"] == 6
    assert c["scores"]["swpc"]["tss"]["value"] == pytest.approx(2 / 3)  # 11429 forecast yes twice: 1 hit, 1 false
    assert {"swpc", "persistence", "mcintosh"} <= set(c["scores"]) and "region model" not in c["scores"]
    assert out["notes"] and "two years" in out["notes"][0]


def test_regions_command_forecasts_each_region_of_the_latest_swpc_list_and_the_full_disk(tmp_path):
    import json

    from typer.testing import CliRunner

    from flarecast.cli import app
    from flarecast.ingest.pipeline import ingest

    store = tmp_path / "s.zarr"
    # training: 20 daily reports of a Dkc region (11429) and an Axx one (11430); the Dkc region has an M flare
    # in the day after 10 of them (on the odd days): rate 0.5 a day; the Axx region none
    days = pd.date_range("2012-03-01", periods=20, freq="D")
    reports_json = tmp_path / "history.json"
    reports_json.write_text(json.dumps([{"observed_date": f"{d:%Y-%m-%d}", "region": r, "spot_class": k,
                                         "mag_class": "B"} for d in days for r, k in ((1429, "Dkc"), (1430, "Axx"))]))
    flares = tmp_path / "flares.csv"
    lines = ["class,peak,noaa_ar"] + [f"M2.0,{d + pd.Timedelta(days=1, hours=6):%Y-%m-%dT%H:%M:%S},11429"
                                      for d in days[::2]]
    flares.write_text("\n".join(lines + ["B1.0,2012-02-25T00:00:00,0", "B1.0,2012-03-25T00:00:00,0"]) + "\n")
    ingest("regions", [reports_json], store=store)
    ingest("events", [flares], store=store, basis="swpc")
    now = tmp_path / "swpc"
    now.mkdir()
    (now / "solar_regions_20240514T010000Z.json").write_text(json.dumps([
        {"observed_date": "2024-05-13", "region": 3664, "spot_class": "Dkc", "mag_class": "BGD", "location": "S19W87",
         "m_flare_probability": 75},
        {"observed_date": "2024-05-13", "region": 3668, "spot_class": "Axx", "mag_class": "A", "location": "S21W30"},
        {"observed_date": "2024-05-12", "region": 3664, "spot_class": "Fkc", "mag_class": "BGD"}]))
    result = CliRunner().invoke(app, ["regions", str(now), "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["issue_time"] == "2024-05-14T00:30:00Z" and [r["region"] for r in doc["regions"]] == [13664, 13668]
    p = {r["region"]: r["probability"][">=M"] for r in doc["regions"]}
    assert p[13664] == pytest.approx(1 - np.exp(-0.5)) and p[13668] == 0.0
    assert doc["regions"][0]["swpc"][">=M"] == 0.75 and doc["regions"][1]["swpc"][">=M"] is None
    assert doc["full_disk"][">=M"] == pytest.approx(1 - np.exp(-0.5))
    assert "full_disk_with_flux" not in doc  # the flux combination is `combine`'s sealed card, not refitted here
