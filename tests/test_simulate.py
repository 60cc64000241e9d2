"""Simulated data: real file layouts (against the real NOAA/JSOC files when ../shared/data/real exists),
byte reproducibility, catalogue/light-curve agreement and the flare statistics the docstring promises.

Files are read with netCDF4/pandas directly, not through flarecast.ingest, so these tests pin the formats
independently of the readers.
"""

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
from astropy.time import Time
from scipy.stats import spearmanr

from flarecast.classes import format_class, parse_class
from flarecast.errors import ConfigError
from flarecast.simulate.generate import generate, simulate

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
REAL_GOES = REAL / "goes" / "sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc"
REAL_EVENTS = REAL / "events" / "swpc_edited" / "2016" / "20160101events.txt"
REAL_SHARP = REAL / "sharp" / "sharp_keywords_fold0.csv"
needs_real = pytest.mark.skipif(not REAL.exists(), reason="../shared/data/real not present")

GOES_VARS = ("xrsa_flux", "xrsb_flux", "xrsa_flag", "xrsb_flag", "xrsa_num", "xrsb_num", "time")
BAD_DATA_BIT = 2  # NOAA flag_masks/flag_values: (flag & 3) == 2 is bad_data


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    calls = []
    summary = simulate(out, days=6, seed=11, start="2018-03-01", activity=4.0, progress=calls.append)
    return out, summary, calls


@pytest.fixture(scope="module")
def long_quiet():
    """2000 days at activity 1, in memory: enough flares for the statistics below."""
    return generate(days=2000, seed=3, activity=1.0)


def _sha256_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _xrsb_series(out: Path) -> tuple[np.ndarray, np.ndarray]:
    """All days' XRS-B (raw, fills kept) and flags, concatenated in date order."""
    flux, flag = [], []
    for p in sorted((out / "goes").glob("*.nc")):
        with netCDF4.Dataset(p) as nc:
            nc.set_auto_mask(False)
            flux.append(nc["xrsb_flux"][:])
            flag.append(nc["xrsb_flag"][:])
    return np.concatenate(flux), np.concatenate(flag)


def _xra_rows(out: Path, first_day: date) -> pd.DataFrame:
    """XRA rows by SWPC's fixed columns, times as minutes since ``first_day`` (Max/End may wrap to the next day)."""
    rows = []
    for p in sorted((out / "events").glob("*events.txt")):
        day0 = (date(int(p.name[:4]), int(p.name[4:6]), int(p.name[6:8])) - first_day).days * 1440
        for line in p.read_text().splitlines():
            if line[43:46] != "XRA":
                continue
            begin, peak, end = (day0 + int(line[c:c + 2]) * 60 + int(line[c + 2:c + 4]) for c in (11, 18, 28))
            peak += 1440 * (peak < begin)
            end += 1440 * (end < begin)
            rows.append({"line": line, "begin": begin, "peak": peak, "end": end, "cls": line[58:66].strip(),
                         "integrated": float(line[66:73]), "region": line[76:80].strip()})
    return pd.DataFrame(rows)


# --- reproducibility ----------------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        simulate(tmp_path / name, days=3, seed=seed, activity=3.0)
    a, b, c = (_sha256_tree(tmp_path / name) for name in "abc")
    assert len(a) == 3 + 3 + 1 + 1 and a == b
    differing = {k for k in a if a[k] != c[k]}
    assert {"goes/sci_xrsf-l2-avg1m_g16_d20180101_v2-2-0.nc", "sharp/sharp_keywords.csv"} <= differing


def test_rerun_in_the_same_directory_removes_the_earlier_runs_files(tmp_path):
    simulate(tmp_path, days=4, seed=0)
    (tmp_path / "goes" / "notes.txt").write_text("mine")
    simulate(tmp_path, days=2, seed=0)
    assert sorted(p.name for p in (tmp_path / "goes").iterdir()) == [
        "notes.txt", "sci_xrsf-l2-avg1m_g16_d20180101_v2-2-0.nc", "sci_xrsf-l2-avg1m_g16_d20180102_v2-2-0.nc"]
    assert len(list((tmp_path / "events").iterdir())) == 2


# --- GOES-16 netCDF -----------------------------------------------------------------------------------------
def test_goes_file_time_encoding_is_noaas(sim_dir):
    out, _, _ = sim_dir
    with netCDF4.Dataset(out / "goes" / "sci_xrsf-l2-avg1m_g16_d20180301_v2-2-0.nc") as nc:
        t = nc["time"][:]
        assert nc.file_format == "NETCDF4" and nc.dimensions["time"].isunlimited()
        assert nc.platform == "g16" and nc.id == "sci_xrsf-l2-avg1m_g16_d20180301_v2-2-0.nc"
        assert nc.time_coverage_start == "2018-03-01T00:00:00.000Z"
        assert nc.time_coverage_end == "2018-03-02T00:00:00.000Z"
        assert "simulated" in nc.comment.lower() and "seed=11" in nc.source
    # 2000-01-01T12:00 to 2018-03-01T00:00 is 6633.5 days: the epoch is noon, not midnight
    assert t.dtype == np.float64 and t[0] == 6633.5 * 86400 and t.size == 1440
    assert np.all(np.diff(t) == 60.0)


@needs_real
def test_goes_variables_match_the_real_goes16_file(sim_dir):
    out, _, _ = sim_dir
    ours = netCDF4.Dataset(out / "goes" / "sci_xrsf-l2-avg1m_g16_d20180302_v2-2-0.nc")
    real = netCDF4.Dataset(REAL_GOES)
    with ours, real:
        assert ours.file_format == real.file_format
        for attr in ("title", "Conventions", "platform", "time_coverage_resolution", "instrument"):
            assert ours.getncattr(attr) == real.getncattr(attr), attr
        assert "XRS" in ours.summary  # what sunpy's GOES source looks for
        for name in GOES_VARS:
            o, r = ours[name], real[name]
            assert (o.dtype, o.dimensions) == (r.dtype, r.dimensions), name
            for attr in ("units", "_FillValue", "valid_min", "valid_max", "flag_masks", "flag_values",
                         "flag_meanings", "long_name"):
                if attr in r.ncattrs():
                    np.testing.assert_array_equal(o.getncattr(attr), r.getncattr(attr), err_msg=f"{name}.{attr}")
                    assert np.asarray(o.getncattr(attr)).dtype == np.asarray(r.getncattr(attr)).dtype
            assert o.filters()["zlib"] == r.filters()["zlib"]


@needs_real
def test_gaps_look_like_the_real_files_gaps(sim_dir):
    """Real GOES-16: fill -9999 with flag bad_data (2) and num 0; informational flags on valid data."""
    out, _, _ = sim_dir
    for path in (REAL_GOES, *sorted((out / "goes").glob("*.nc"))):
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_mask(False)
            flux, flag, num = nc["xrsb_flux"][:], nc["xrsb_flag"][:], nc["xrsb_num"][:]
        fill = flux == -9999.0
        assert np.array_equal(fill, (flag & 3) == BAD_DATA_BIT), path.name
        assert np.all(num[fill] == 0) and np.all(flux[~fill] > 0), path.name


def test_gaps_are_rare_but_present(long_quiet):
    fill = long_quiet.xrsb == -9999.0
    runs = np.count_nonzero(np.diff(fill.astype(int)) == 1)
    assert 0.0005 < fill.mean() < 0.01 and runs > 100
    assert np.array_equal(fill, long_quiet.xrsa == -9999.0)
    informational = (long_quiet.flag != 0) & ~fill
    assert 0.002 < informational.mean() < 0.03


def test_sunpy_reads_the_goes_file_as_goes16(sim_dir):
    ts = pytest.importorskip("sunpy.timeseries")
    out, _, _ = sim_dir
    series = ts.TimeSeries(str(out / "goes" / "sci_xrsf-l2-avg1m_g16_d20180303_v2-2-0.nc"))
    assert series.observatory == "GOES-16"
    frame = series.to_dataframe()
    assert len(frame) == 1440 and frame.index[0] == pd.Timestamp("2018-03-03")


# --- SWPC edited events -------------------------------------------------------------------------------------
HEADER_COLUMNS = "#Event    Begin    Max       End  Obs  Q  Type  Loc/Frq   Particulars       Reg#"


def test_events_header_and_xra_columns(sim_dir):
    out, _, _ = sim_dir
    lines = (out / "events" / "20180302events.txt").read_text().split("\n")
    assert lines[:3] == [":Product: 20180302events.txt", ":Created: 2018 Mar 05 0357 UT", ":Date: 2018 03 02"]
    assert lines[8] == "#                            Edited Events for 2018 Mar 02"
    assert lines[10] == HEADER_COLUMNS and lines[11] == "#" + "-" * 79
    assert all(line.startswith("#") for line in lines[3:12])
    xra = [line for line in lines if line[43:46] == "XRA"]
    assert xra and all(len(line) == 80 for line in xra)
    for line in xra:
        assert line[34:37] == "G16" and line[48:52] == "1-8A" and line[39] == "5"
        parse_class(line[58:66].strip())
        assert line[76:80].strip() == "" or line[76:80].isdigit()


@needs_real
def test_events_layout_matches_a_real_swpc_file(sim_dir):
    out, _, _ = sim_dir
    real = REAL_EVENTS.read_text().split("\n")
    ours = (out / "events" / "20180302events.txt").read_text().split("\n")
    assert real[10] == ours[10] == HEADER_COLUMNS and real[11] == ours[11]
    assert [line[:1] for line in real[:13]] == [line[:1] for line in ours[:13]]
    real_xra = next(line for line in real if line[43:46] == "XRA" and line[76:80].strip())
    our_xra = next(line for line in ours if line[43:46] == "XRA" and line[76:80].strip())
    def blanks(line):  # columns 0-3: right-aligned event number; 5: SWPC's optional "+"
        return [i for i, ch in enumerate(line) if ch == " " and i > 5]

    assert len(our_xra) == len(real_xra) and blanks(our_xra) == blanks(real_xra)


def test_catalogue_class_is_the_written_xrsb_at_max(sim_dir):
    out, _, _ = sim_dir
    flux, _ = _xrsb_series(out)
    rows = _xra_rows(out, date(2018, 3, 1))
    inside = rows[rows.peak < flux.size]
    checked = 0
    for r in inside.itertuples():
        at_max = flux[r.peak]
        if at_max == -9999.0:  # a gap at the peak: the catalogue keeps the flare, the file has no value
            continue
        assert format_class(float(at_max)) == r.cls, r.line
        neighbours = flux[max(r.peak - 1, 0):r.peak + 2]
        assert at_max == neighbours[neighbours != -9999.0].max(), r.line
        assert r.begin <= r.peak <= r.end
        checked += 1
    assert checked >= 0.9 * len(inside) and checked > 20
    assert {"M", "C", "B"} <= {c[0] for c in inside.cls}


def test_integrated_flux_is_the_sum_from_begin_to_end(sim_dir):
    out, _, _ = sim_dir
    flux, _ = _xrsb_series(out)
    for r in _xra_rows(out, date(2018, 3, 1)).itertuples():
        window = flux[r.begin:r.end + 1].astype(float)
        if r.end >= flux.size or (window == -9999.0).any():
            continue
        assert f"{window.sum() * 60:.1E}" == r.line[66:73], r.line


def test_summary_matches_the_files(sim_dir):
    out, summary, calls = sim_dir
    assert calls == [1] * 6
    rows = _xra_rows(out, date(2018, 3, 1))
    counts = rows.cls.str[0].value_counts().to_dict()
    assert {k: v for k, v in summary.flare_counts.items() if v} == counts
    assert summary.n_x_flares == counts.get("X", 0) and summary.n_m_flares == counts.get("M", 0)
    assert summary.files == {"goes": 6, "events": 6, "sharp": 1}
    assert summary.n_unattributed_flares == int((rows.region == "").sum()) > 0
    on_disk = json.loads((out / "simulation.json").read_text())
    assert on_disk == {k: v for k, v in summary.to_dict().items() if k != "outdir"}
    assert on_disk["flux_basis"] == "true" and on_disk["seed"] == 11


# --- SHARP keywords -----------------------------------------------------------------------------------------
def test_sharp_csv_layout_and_tai_strings_round_trip(sim_dir):
    out, summary, _ = sim_dir
    raw = (out / "sharp" / "sharp_keywords.csv").read_bytes()
    assert raw.startswith(b"T_REC,HARPNUM,NOAA_ARS,USFLUX,AREA,MEANGBZ,R_VALUE\r\n")
    table = pd.read_csv(out / "sharp" / "sharp_keywords.csv", dtype={"NOAA_ARS": str})
    assert table.HARPNUM.nunique() == summary.n_regions
    assert table.groupby("HARPNUM").T_REC.apply(lambda s: s.is_monotonic_increasing).all()
    tai = Time([s[:-4].replace(".", "-", 2).replace("_", "T") for s in table.T_REC], scale="tai")
    utc = tai.utc
    # 2018: TAI - UTC = 37 s, so the 00:00:00_TAI record is 23:59:23 UTC the day before
    assert np.allclose((tai.mjd - Time(utc.isot, scale="utc").mjd) * 86400, 37.0, atol=1e-3)
    back = Time(utc.isot, scale="utc").tai.strftime("%Y.%m.%d_%H:%M:%S_TAI")
    assert list(back) == list(table.T_REC)
    minutes = np.array([int(s[11:13]) * 60 + int(s[14:16]) for s in table.T_REC])
    assert np.all(minutes % 96 == 0) and all(s[17:19] == "00" for s in table.T_REC)
    assert table.USFLUX.between(1e20, 1e23).all() and (table.AREA > 0).all() and (table.R_VALUE >= 0).all()
    events_regions = {r for r in _xra_rows(out, date(2018, 3, 1)).region if r}
    sharp_regions = {f"{int(n) % 10000:04d}" for ars in table.NOAA_ARS for n in ars.split(",")}
    assert events_regions <= sharp_regions


def test_sharp_records_stay_on_the_tai_grid_across_a_leap_second():
    sharp = generate(days=3, seed=1, start="2016-12-30", activity=4.0).sharp
    t_rec = np.array(sorted(set(sharp.T_REC)))
    assert t_rec.size == 3 * 15 and t_rec[0] == "2016.12.30_00:00:00_TAI" and t_rec[-1] == "2017.01.01_22:24:00_TAI"
    assert all(s.endswith(":00_TAI") for s in t_rec)
    # what a reader must do: TAI - UTC is 36 s until the leap second at TAI 2017-01-01T00:00:36, then 37 s
    utc = Time(["2017-01-01T00:00:00", "2017-01-01T01:36:00"], scale="tai").utc.isot
    assert list(utc) == ["2016-12-31T23:59:24.000", "2017-01-01T01:35:23.000"]


@needs_real
def test_sharp_number_formats_match_the_real_export(sim_dir):
    out, _, _ = sim_dir
    real = REAL_SHARP.read_text().splitlines()[1]
    ours = (out / "sharp" / "sharp_keywords.csv").read_text().splitlines()[1]
    pattern = r"^\d{4}\.\d\d\.\d\d_\d\d:\d\d:00_TAI,\d+,\"?[\d,]+\"?,\d\.\d{6}e\+\d\d,[\d.]+,[\d.]+,[\d.]+$"
    assert pd.Series([real, ours]).str.match(pattern).all()


# --- statistics the docstring promises ------------------------------------------------------------------------
def _mle_index(flux: np.ndarray, f_min: float) -> float:
    f = flux[flux >= f_min]
    return 1.0 + f.size / np.log(f / f_min).sum()


def test_peak_flux_power_law_index(long_quiet):
    own = long_quiet.flares.peak_flux
    assert 1.8 <= _mle_index(own, 1e-7) <= 2.0
    assert 1.8 <= _mle_index(own, 1e-6) <= 2.0
    assert own.max() <= 3e-3


def _positive_window_fraction(sim, threshold: float) -> float:
    peaks = np.sort(sim.catalogue.peak[sim.catalogue.peak_flux >= threshold])
    issue = np.arange(0, sim.days * 1440 - 1440, 60)  # hourly issue times, window (t, t + 24 h]
    return float(np.mean(np.searchsorted(peaks, issue + 1440, "right") > np.searchsorted(peaks, issue, "right")))


def test_class_skew_at_moderate_activity(long_quiet):
    m_or_x = _positive_window_fraction(long_quiet, 1e-5)
    x = _positive_window_fraction(long_quiet, 1e-4)
    assert 0.02 <= m_or_x <= 0.08
    assert 0.0 < x <= 0.012


def test_higher_activity_gives_more_large_flares():
    quiet, busy = generate(days=365, seed=2, activity=1.0), generate(days=365, seed=2, activity=4.0)
    assert _positive_window_fraction(busy, 1e-5) > 2.5 * _positive_window_fraction(quiet, 1e-5)
    assert np.median(busy.xrsb[busy.xrsb > 0]) > 2 * np.median(quiet.xrsb[quiet.xrsb > 0])


def test_region_flare_rate_increases_with_usflux(long_quiet):
    sharp = long_quiet.sharp
    per_harp = sharp.groupby("HARPNUM").agg(usflux=("USFLUX", "mean"), rows=("USFLUX", "size"),
                                            ars=("NOAA_ARS", "first"))
    cat = long_quiet.catalogue
    c_or_above = pd.Series(cat.noaa[(cat.peak_flux >= 1e-6) & (cat.noaa > 0)]).value_counts()
    flares = [sum(c_or_above.get(int(ar), 0) for ar in ars.split(",")) for ars in per_harp.ars]
    rate = np.array(flares) / per_harp.rows
    assert spearmanr(per_harp.usflux, rate).statistic > 0.4
    assert len(per_harp) > 400


def test_m_and_x_flares_come_mostly_from_large_regions(long_quiet):
    """Big HARPs flare more often and may flare bigger: most of them give an M flare, few small ones do."""
    fl, harps = long_quiet.flares, long_quiet.harps
    flux_max = long_quiet.regions.flux_max[harps.region]
    has_m = np.zeros(len(harps.region), dtype=bool)
    has_m[fl.harp[(fl.harp >= 0) & (fl.peak_flux >= 1e-5)]] = True
    small, large = flux_max < np.quantile(flux_max, 1 / 3), flux_max > np.quantile(flux_max, 2 / 3)
    assert has_m[large].mean() > 5 * has_m[small].mean()
    assert fl.peak_flux[fl.harp < 0].max() <= 1e-5  # flares of no numbered region stay small


# --- argument checks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"days": 0}, "days=0"),
    ({"days": 2.5}, "days=2.5"),
    ({"activity": 0.0}, "activity=0.0"),
    ({"activity": float("nan")}, "activity=nan"),
    ({"seed": -1}, "seed=-1"),
    ({"start": "2018-13-01"}, "'2018-13-01'"),
])
def test_bad_arguments_raise_config_error_and_write_nothing(tmp_path, kwargs, needle):
    args = {"days": 2, "seed": 0, "start": "2018-01-01", "activity": 1.0, **kwargs}
    with pytest.raises(ConfigError, match="expected") as err:
        simulate(tmp_path / "out", **args)
    assert needle in str(err.value)
    assert not (tmp_path / "out").exists()


def test_first_day_and_numbering_follow_start():
    sim = generate(days=1, seed=0, start="2014-06-01", activity=2.0)
    assert sim.start == date(2014, 6, 1) and sim.start + timedelta(days=1) == date(2014, 6, 2)
    # the real numbering reached AR 12070 / HARP ~4200 around then: 5-digit ARs, plausible HARPs
    assert 11900 < sim.harps.noaa.min() < 12200 and 3500 < sim.harps.harpnum.min() < 5000
    assert np.all(np.diff(sim.harps.noaa) > 0) and np.all(np.diff(sim.harps.harpnum) > 0)
