"""Catalogue merging: one event per flare, the primary catalogue's values, the other region kept, coverage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from flarecast.ingest.merge import merge_events
from flarecast.ingest.pipeline import ingest
from flarecast.ingest.readers.base import ReaderResult
from flarecast.ingest.store import read_events, write_groups

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
SWPC_0702 = "events/swpc_edited/2012/20120702events.txt"
SWPC_0712 = "events/swpc_edited/2012/20120712events.txt"
NGDC_2012 = "events/ngdc/goes-xrs-report_2012.txt"


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return REAL


def events(rows: list[tuple]) -> ReaderResult:
    """(peak, class, flux, AR[, start]) rows as a reader would return them."""
    peak = np.array([r[0] for r in rows], dtype="datetime64[ns]")
    start = np.array([r[4] if len(r) > 4 else "NaT" for r in rows], dtype="datetime64[ns]")
    frame = pd.DataFrame(
        {
            "start": start,
            "peak": peak,
            "end": np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]"),
            "goes_class": [r[1] for r in rows],
            "peak_flux": np.array([r[2] for r in rows], dtype=float),
            "noaa_ar": np.array([r[3] for r in rows], dtype=np.int32),
            "class_basis": ["swpc"] * len(rows),
        }
    )
    return ReaderResult(data=frame, reader="test", rows_read=len(rows))


def one_flare(ds: xr.Dataset, peak: str) -> dict:
    at = np.abs(ds["peak"].values - np.datetime64(peak, "ns")) <= np.timedelta64(5, "m")
    assert at.sum() == 1, ds.isel(event=at)
    return {k: ds[k].values[at][0] for k in ds.data_vars}


@pytest.mark.parametrize("order", ["ngdc_first", "swpc_first"])
def test_regions_in_conflict_give_one_flare_with_swpc_region_whatever_the_order(real, tmp_path, order):
    files = [real / SWPC_0702, real / SWPC_0712]
    store = tmp_path / "s.zarr"
    for part in ([real / NGDC_2012], files) if order == "ngdc_first" else (files, [real / NGDC_2012]):
        ingest("events", part, store=store)
    ds = read_events(store)
    # NGDC puts the M5.6 in AR 11514 and the X1.4 in AR 11522; SWPC (which ranks first) says 11515 and 11520.
    m56, x14 = one_flare(ds, "2012-07-02T10:52"), one_flare(ds, "2012-07-12T16:49")
    assert (m56["goes_class"], m56["noaa_ar"], m56["noaa_ar_alt"]) == ("M5.6", 11515, 11514)
    assert (x14["goes_class"], x14["noaa_ar"], x14["noaa_ar_alt"]) == ("X1.4", 11520, 11522)
    assert x14["source"] == "swpc-edited-events:20120712events.txt;ngdc-xrs-report:goes-xrs-report_2012.txt"
    assert ds.sizes["event"] == 2037  # the NGDC 2012 records; every SWPC flare of those days is among them


def test_primary_values_win_and_gaps_are_filled():
    old, _ = merge_events(
        None,
        [("plain-events-csv:a.csv", events([("2012-01-01T10:00", "M1.0", 1e-5, 0, "2012-01-01T09:50")]))],
    )
    new = events([("2012-01-01T10:02", "M1.2", 1.2e-5 / 0.7, 11400)])
    ds, added = merge_events(old, [("swpc-edited-events:b.txt", new)])
    assert added == [0] and ds.sizes["event"] == 1
    e = one_flare(ds, "2012-01-01T10:02")
    assert (e["goes_class"], e["noaa_ar"], e["noaa_ar_alt"]) == ("M1.2", 11400, 0)
    assert e["peak"] == np.datetime64("2012-01-01T10:02")
    assert e["start"] == np.datetime64("2012-01-01T09:50")  # the primary has none: kept from the other source
    assert e["source"] == "swpc-edited-events:b.txt;plain-events-csv:a.csv"


def test_simultaneous_flares_pair_with_their_own_regions():
    a = events([("2013-05-01T12:00", "C5.0", 5e-6, 11700), ("2013-05-01T12:03", "C4.0", 4e-6, 11701)])
    b = events([("2013-05-01T12:01", "C4.2", 4.2e-6, 11701), ("2013-05-01T12:02", "C4.8", 4.8e-6, 11700)])
    ds, added = merge_events(None, [("ngdc-xrs-report:a", a), ("hek-csv:b", b)])
    assert added == [2, 0]
    assert list(ds["noaa_ar"].values) == [11700, 11701] and not ds["noaa_ar_alt"].values.any()


def test_an_unclassed_report_never_replaces_a_class():
    a = events([("2000-03-01T08:00", "M2.0", 2e-5, 8900)])
    b = events([("2000-03-01T08:01", "", np.nan, 8901)])
    ds, _ = merge_events(None, [("hek-csv:a", a), ("swpc-edited-events:b", b)])
    e = one_flare(ds, "2000-03-01T08:00")
    assert (e["goes_class"], e["peak_flux"], e["noaa_ar"], e["noaa_ar_alt"]) == ("M2.0", 2e-5, 8900, 8901)


def test_store_written_before_noaa_ar_alt_existed_merges(tmp_path):
    old, _ = merge_events(
        None, [("ngdc-xrs-report:a", events([("2005-01-20T07:00", "X7.1", 7.1e-4 / 0.7, 10720)]))]
    )
    store = tmp_path / "s.zarr"
    write_groups(store, {"events": old.drop_vars("noaa_ar_alt")})
    ds, added = merge_events(
        read_events(store).load(),
        [("swpc-edited-events:b", events([("2005-01-20T07:01", "X7.1", 7.1e-4 / 0.7, 10720)]))],
    )
    assert added == [0] and ds["noaa_ar_alt"].values.tolist() == [0]


def test_events_group_records_coverage_per_catalogue(real, tmp_path):
    store = tmp_path / "s.zarr"
    ingest("events", [real / SWPC_0702, real / SWPC_0712], store=store)
    ingest("events", [real / "events/sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc"], store=store)
    ds = read_events(store)
    coverage = json.loads(ds.attrs["coverage"])
    assert coverage == {
        "swpc-edited-events": ["2012-07-02 00:35:00", "2012-07-12 16:49:00"],  # first and last XRA max
        "goes-flsum-nc": ["2017-09-06 02:01:00", "2017-09-06 23:39:00"],
    }
    prov = json.loads(ds.attrs["provenance"])
    assert [p["time_range"][0][:10] for p in prov] == ["2012-07-02", "2012-07-12", "2017-09-06"]
