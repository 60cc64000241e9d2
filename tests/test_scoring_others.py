"""Scoring other forecasters' files on the same days, with paired differences computed by hand."""

import json

import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import InputFileError
from flarecast.forecast.ccmc import read_ccmc, validate_ccmc
from flarecast.forecast.providers import read_provider, score_files, score_forecast_files
from flarecast.ingest.pipeline import ingest
from flarecast.jsonio import dumps

runner = CliRunner()
# Days 1-6 of June 2019; an M flare on days 2 and 5, a C flare on day 3; B flares before and after bound the
# catalogue's span.
A = [0.1, 0.8, 0.3, 0.2, 0.6, 0.1]
B = [0.2, 0.4, 0.1, 0.5, 0.3, 0.2]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("others")
    (root / "flares.csv").write_text(
        "class,start,peak,end,noaa_ar\n"
        "B1.0,2019-05-31T09:50,2019-05-31T10:00,2019-05-31T10:20,0\n"
        "M1.2,2019-06-02T11:50,2019-06-02T12:00,2019-06-02T12:30,12741\n"
        "C3.0,2019-06-03T05:50,2019-06-03T06:00,2019-06-03T06:20,12741\n"
        "M2.0,2019-06-05T17:50,2019-06-05T18:00,2019-06-05T18:40,12742\n"
        "B2.0,2019-06-09T09:50,2019-06-09T10:00,2019-06-09T10:20,0\n")
    store = root / "store.zarr"
    ingest("events", [root / "flares.csv"], store=store, basis="swpc")  # classes as NOAA published them
    # Provider a: a plain CSV issued at 00:00, with one more day (June 7) than b forecasts.
    rows = [f"2019-06-0{d + 1}T00:00:00Z,>=M,{p}" for d, p in enumerate(A)] + ["2019-06-07T00:00:00Z,>=M,0.9"]
    (root / "a.csv").write_text("issue_time,target,probability\n" + "\n".join(rows) + "\n")
    # Provider b: CCMC scoreboard submissions (full-disk MPlus only, C/CPlus unknown).
    subs = [{"forecast_submission": {
        "model": {"short_name": "B"}, "issue_time": f"2019-06-0{d + 1}T00:00Z", "mode": "historical",
        "forecasts": [{"event_type": "flare", "prediction_window": {"start": f"2019-06-0{d + 1}T00:00Z",
                                                                    "end": f"2019-06-0{d + 2}T00:00Z"},
                       "full_disk": {"probabilities": {"C": None, "M": None, "X": None, "CPlus": None, "MPlus": p}},
                       "regions": []}]}} for d, p in enumerate(B)]
    (root / "b.json").write_text(json.dumps(subs))
    return store, root / "a.csv", root / "b.json"


def test_two_providers_are_scored_on_the_same_days_with_hand_computed_differences(files):
    store, a, b = files
    result = score_files([a, b], store=store, n_boot=500)
    e = result.targets[">=M"]
    assert list(result.targets) == [">=M"] and e["days"] == 6  # June 7 is a's alone
    # Labels [0, 1, 0, 0, 1, 0]; the BSS reference is their rate 1/3: BS_clim = (4/9 + 2 * 4/9) / 6 = 2/9.
    assert e["positives"] == {"a": 2, "b": 2} and e["base_rate"] == pytest.approx(1 / 3)
    # a: BS = 0.35 / 6, BSS = 1 - (0.35 / 6) / (2 / 9) = 0.7375; at 0.5 it forecasts days 2 and 5: TSS 1.
    # b: BS = 1.19 / 6, BSS = 0.1075; at 0.5 only day 4 (a false alarm): POD 0, POFD 1/4, TSS -0.25.
    assert e["scores"]["a"]["bss"]["value"] == pytest.approx(0.7375)
    assert e["scores"]["b"]["bss"]["value"] == pytest.approx(0.1075)
    assert (e["scores"]["a"]["tss"]["value"], e["scores"]["b"]["tss"]["value"]) == pytest.approx((1.0, -0.25))
    (pair,) = e["paired"]
    assert (pair["a"], pair["b"]) == ("a", "b")
    assert pair["bss"]["value"] == pytest.approx(0.63) and pair["tss"]["value"] == pytest.approx(1.25)
    for m in ("bss", "tss"):
        lo, hi = pair[m]["ci"]
        assert lo <= pair[m]["value"] <= hi


def test_a_file_against_itself_differs_by_exactly_zero_in_every_resample(files, tmp_path):
    # Unpaired resamples would give a wide interval around 0; paired ones give [0, 0].
    store, a, _ = files
    copy = tmp_path / "a2.csv"
    copy.write_text(a.read_text())
    (pair,) = score_files([a, copy], store=store, n_boot=300).targets[">=M"]["paired"]
    assert pair["bss"] == {"value": 0.0, "ci": [0.0, 0.0]} and pair["tss"] == {"value": 0.0, "ci": [0.0, 0.0]}


def test_regions_alone_are_combined_and_bad_files_are_named(files, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("issue_time,target,probability,region\n2019-06-02T00:00Z,>=M,0.5,12741\n"
                    "2019-06-02T00:00Z,>=M,0.2,12742\n")
    frame, thresholds, convention = read_provider(path)
    assert frame["probability"].tolist() == pytest.approx([1 - 0.5 * 0.8]) and thresholds == {} and convention is None
    bad = tmp_path / "pct.csv"
    bad.write_text("issue_time,target,probability\n2019-06-02T00:00Z,>=M,35\n")
    with pytest.raises(InputFileError, match="probability 35"):
        read_provider(bad)
    other = tmp_path / "q.csv"
    other.write_text("issue_time,target,probability\n2019-06-02T00:00Z,>=Q,0.3\n")
    with pytest.raises(InputFileError, match=r"target\(s\) \['>=Q'\]"):
        read_provider(other)


def test_scoreboard_json_reads_back_and_breaks_loudly(files, tmp_path):
    _, _, b = files
    frame = read_ccmc(b)
    assert frame["probability"].tolist() == B and set(frame["target"]) == {">=M"}
    broken = json.loads(b.read_text())
    broken[0]["forecast_submission"]["forecasts"][0]["full_disk"]["probabilities"]["MPlus"] = 1.4
    with pytest.raises(InputFileError, match="0/forecast_submission/forecasts/0/full_disk"):
        validate_ccmc(broken, what="b.json")


def test_other_providers_files_are_scored_on_common_days_alone_or_together(files, tmp_path):
    store, a, b = files
    both = score_forecast_files([a, b], store=store, n_boot=300, out=tmp_path / "both")
    assert dumps(both) == dumps(score_files([a, b], store=store, n_boot=300))
    assert (tmp_path / "both" / "scores.json").read_text().strip() == dumps(both)
    alone = score_forecast_files([a], store=store, n_boot=300)  # a plain CSV: scored, not backtested
    assert [f["name"] for f in alone.files] == ["a"] and alone.targets[">=M"]["paired"] == []
    assert alone.targets[">=M"]["days"] == 7  # June 1-7: no other file to share days with


def test_evaluate_forecasts_prints_the_paired_comparison(files, tmp_path):
    store, a, b = files
    result = runner.invoke(app, ["evaluate", "--forecasts", str(a), str(b), "--store", str(store),
                                 "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert "6 common days" in result.output and "a - b" in result.output and "1.25" in result.output
    saved = json.loads((tmp_path / "cmp" / "scores.json").read_text())
    assert saved["targets"][">=M"]["paired"][0]["tss"]["value"] == pytest.approx(1.25)


def test_swpc_fetches_are_one_forecaster_scored_beside_another_file(files, tmp_path):
    from tests.test_swpc_probabilities import two_fetches

    store, a, _ = files
    first, second = two_fetches(tmp_path)
    result = score_files([a, second, first], store=store, n_boot=300)
    assert [f["name"] for f in result.files] == ["a", "swpc"]
    assert result.files[1]["files"] == [str(second), str(first)] and result.files[1]["rows"] == 54
    e = result.targets[">=M"]
    assert list(result.targets) == [">=M"] and e["days"] == 6  # June 1-6; a alone forecasts June 7
    # SWPC issued at 22:00 UT the day before: M 5, 40, 10, 10, 30, 5 % for June 1-6 (June 4 as first issued).
    # Labels [0, 1, 0, 0, 1, 0]: BS = 0.875 / 6, BSS = 1 - (0.875 / 6) / (2 / 9) = 0.34375; none reaches 0.5: TSS 0.
    assert e["positives"] == {"a": 2, "swpc": 2}
    assert e["scores"]["swpc"]["bss"]["value"] == pytest.approx(0.34375)
    assert e["scores"]["swpc"]["tss"]["value"] == pytest.approx(0.0)
    (pair,) = e["paired"]
    assert (pair["a"], pair["b"]) == ("a", "swpc")
    assert pair["bss"]["value"] == pytest.approx(0.7375 - 0.34375) and pair["tss"]["value"] == pytest.approx(1.0)


def test_swpc_alone_is_scored_on_every_target_it_forecasts(files, tmp_path):
    from tests.test_swpc_probabilities import two_fetches

    store, _, _ = files
    result = score_forecast_files(list(two_fetches(tmp_path)), store=store, n_boot=300)
    assert list(result.targets) == [">=C", ">=M", "X", ">=C@d2", ">=M@d2", "X@d2", ">=C@d3", ">=M@d3", "X@d3"]
    assert result.targets[">=C"]["days"] == 6
    # >=C labels [0, 1, 1, 0, 1, 0] (M, C, M flares on June 2, 3, 5), p = 0.40, 0.90, 0.75, 0.75, 0.95, 0.50:
    # BS = 1.0475 / 6 against 0.25, BSS 0.30167; at 0.5 TP 3, FP 2, TN 1: TSS = 1 - 2/3.
    c = result.targets[">=C"]["scores"]["swpc"]
    assert c["bss"]["value"] == pytest.approx(1 - 1.0475 / 6 / 0.25) and c["tss"]["value"] == pytest.approx(1 / 3)
    # Day 2 on its own window, two UT days after issue: issued May 31 .. June 5, M 5, 40, 10, 10, 30, 5 % for
    # June 2 .. 7, whose labels are [1, 0, 0, 1, 0, 0]: BS = 1.975 / 6 against 2/9, BSS = 1 - 1.975 * 9 / 12.
    m2 = result.targets[">=M@d2"]
    assert m2["from"] == "2019-06-02T00:00:00Z" and m2["positives"] == {"swpc": 2}
    assert m2["scores"]["swpc"]["bss"]["value"] == pytest.approx(1 - 1.975 * 9 / 12)


def test_evaluate_forecasts_takes_the_swpc_archive_by_glob(files, tmp_path):
    from tests.test_swpc_probabilities import two_fetches

    store, a, _ = files
    first, second = two_fetches(tmp_path)
    result = runner.invoke(app, ["evaluate", "--forecasts", str(a), str(first), str(second), "--store", str(store),
                                 "--json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.output)
    assert scored["targets"][">=M"]["paired"][0]["bss"]["value"] == pytest.approx(0.39375)
    bad = tmp_path / "solar_probabilities_20190601T210000Z.json"
    bad.write_text('[{"date": "2019-06-01", "m_class_1_day": 10}]')
    result = runner.invoke(app, ["evaluate", "--forecasts", str(a), str(first), str(bad), "--store", str(store)])
    assert result.exit_code == 2 and "cannot be in a file fetched at 2019-06-01T21:00:00Z" in result.output
