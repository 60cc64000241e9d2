"""Readers for SWPC's real-time JSON products (``services.swpc.noaa.gov/json/goes/primary/``).

| reader | files | basis |
|---|---|---|
| ``swpc-xrays-json`` | ``xrays-7-day.json``, ``xrays-1-day.json`` (and ``-3-day``, ``-6-hour``): X-ray flux | by satellite |
| ``swpc-flares-json`` | ``xray-flares-7-day.json``: the flares SWPC's real-time detector found | by satellite |

X-ray products hold two records per minute, one per band: ``energy`` ``"0.1-0.8nm"`` is XRS-B (the class band),
``"0.05-0.4nm"`` is XRS-A. ``flux`` is the electron-corrected flux (``observed_flux - electron_correction``)
and is what flarecast keeps; ``electron_contaminaton`` (SWPC's spelling) marks a minute whose correction is
large, which becomes the mask reason ``electron``.

Flux basis: records from GOES-16 and later are true irradiance, as GOES-R L2 files are; records from GOES 13-15
(SWPC's primary before December 2019) carry the SWPC scaling (true = flux / 0.7 for XRS-B, / 0.85 for
XRS-A), so the basis follows each record's ``satellite``. A file that spans a change of primary satellite is
split by satellite and each part converted on its own basis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.errors import InputFileError, ParseError
from flarecast.ingest.readers.base import ReaderResult, check_times, goes_frame
from flarecast.ingest.readers.events_csv import table_events
from flarecast.ingest.readers.goes_text import parse_utc
from flarecast.ingest.readers.reader import Reader
from flarecast.ingest.readers.rows import BadRows
from flarecast.safeio import load_json

BANDS = {"0.05-0.4nm": "xrsa", "0.1-0.8nm": "xrsb"}
"""SWPC ``energy`` label -> flarecast channel."""

FIRST_TRUE_SATELLITE = 16
"""GOES-R (16 and later) report true irradiance; earlier GOES carry the SWPC scaling factors."""


def records(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """The file's list of records as a table; refuses anything else, naming the first key that lacks."""
    try:
        data = load_json(path)
    except ParseError as exc:
        raise InputFileError(path, f"not readable JSON ({exc.reason}); re-fetch it") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputFileError(path, "expected a JSON list of records (objects), as SWPC serves them")
    table = pd.DataFrame.from_records(data)
    table.index = pd.RangeIndex(1, len(table) + 1, name="record")  # record numbers in messages, from 1
    missing = [k for k in required if k not in table.columns]
    if data and missing:
        raise InputFileError(path, f"records lack {missing}: expected SWPC's fields {list(required)}")
    return table


def _satellites(path: Path, table: pd.DataFrame) -> np.ndarray:
    sat = pd.to_numeric(table["satellite"], errors="coerce")
    if sat.isna().any():
        i = int(np.flatnonzero(sat.isna().to_numpy())[0])
        raise InputFileError(path, f"record {i}: satellite {table['satellite'].iloc[i]!r} is not a GOES number")
    return sat.to_numpy().astype(np.int64)


class SwpcXrayJson(Reader, name="swpc-xrays-json", kind="goes", basis="per-row",
                   description="SWPC real-time X-ray JSON (xrays-7-day.json: time_tag, satellite, flux, energy); "
                   "basis by satellite"):
    """SWPC real-time GOES X-ray flux JSON (``xrays-7-day.json`` and friends), one record per band per minute."""

    json_keys = ("time_tag", "flux", "energy")
    FIELDS = ("time_tag", "satellite", "flux", "energy")

    @classmethod
    def read(cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None,
             skip_bad: bool = False) -> ReaderResult:
        """One row per minute with both bands; a band absent in a minute is masked as missing."""
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad, unit="record")
        table = records(path, cls.FIELDS)
        if table.empty:
            empty = np.array([], dtype=np.float64)
            return goes_frame(path, np.array([], dtype="datetime64[ns]"), {"xrsa": empty, "xrsb": empty}, {},
                              basis="true", satellite=satellite or 0, reader=cls.name)
        unknown = sorted(set(table["energy"].astype(str)) - set(BANDS))
        if unknown:
            raise InputFileError(path, f"energy {unknown[0]!r}: expected one of {list(BANDS)}")
        table["time"] = parse_utc(table["time_tag"], "time_tag", rows)
        table = table[~np.isin(table.index.to_numpy(), rows.lines)]
        table["sat"] = _satellites(path, table)
        table["channel"] = table["energy"].map(BANDS)
        flux = pd.to_numeric(table["flux"], errors="coerce")  # null (no measurement) becomes NaN: masked
        table["value"] = flux.astype(np.float64)
        flag = table["electron_contaminaton"] if "electron_contaminaton" in table.columns else False
        table["electron"] = pd.Series(flag, index=table.index).fillna(False).astype(bool)
        dup = table.duplicated(["time", "channel"]).to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise InputFileError(path, f"record {i}: a second {table['energy'].iloc[i]} value at "
                                       f"{table['time_tag'].iloc[i]}; expected one record per band per minute")
        parts, masked, warnings = [], {}, []
        for sat, group in table.groupby("sat", sort=True):
            wide = group.pivot(index="time", columns="channel", values=["value", "electron"]).sort_index()
            times = wide.index.to_numpy("datetime64[ns]")
            fluxes = {ch: wide["value"][ch].to_numpy(np.float64) if ch in wide["value"] else None
                      for ch in ("xrsa", "xrsb")}
            electron = {ch: wide["electron"][ch].fillna(False).to_numpy(bool) if ch in wide["electron"] else None
                        for ch in ("xrsa", "xrsb")}
            part = goes_frame(path, times, fluxes, {}, basis="true" if sat >= FIRST_TRUE_SATELLITE else "swpc",
                              satellite=int(sat), reader=cls.name, electron=electron)
            parts.append(part.data)
            for key, count in part.masked.items():
                masked[key] = masked.get(key, 0) + count
            warnings += part.warnings
        data = pd.concat(parts, ignore_index=True).sort_values("time", kind="stable", ignore_index=True)
        check_times(path, data["time"].to_numpy())
        sats = sorted(int(s) for s in np.unique(table["sat"]))
        return ReaderResult(data=data, reader=cls.name, rows_read=len(data), masked=masked,
                            warnings=rows.notes + warnings, attrs={"satellite": sats[-1], "satellites": sats},
                            ignored=rows.ignored)


class SwpcFlaresJson(Reader, name="swpc-flares-json", kind="events", basis="per-row",
                     description="SWPC real-time flare JSON (xray-flares-7-day.json: begin/max/end_time, max_class, "
                     "satellite)"):
    """SWPC real-time flare list JSON (``xray-flares-7-day.json``): begin, max and end time and class per flare."""

    json_keys = ("max_time", "max_class", "begin_time")
    FIELDS = ("begin_time", "max_time", "end_time", "max_class", "satellite")

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        """Finished flares only: one still in progress (no ``end_time``) is counted in ``ignored`` and left for
        the next fetch, which carries its final class; a catalogue holding both would count it twice."""
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad, unit="record")
        table = records(path, cls.FIELDS)
        if table.empty:
            return table_events(path, {k: np.array([], dtype="datetime64[ns]") for k in ("start", "peak", "end")}
                                | {"goes_class": np.array([], dtype=object), "noaa_ar": np.array([], dtype=np.int64),
                                   "class_basis": np.array([], dtype=object)}, cls.name, rows,
                                np.array([], dtype=np.int64))
        ongoing = table["end_time"].isna().to_numpy() | table["end_time"].astype(str).str.strip().isin(["", "Unk"])
        done = table[~ongoing]
        times = {k: parse_utc(done[col].fillna(""), col, rows)
                 for k, col in (("start", "begin_time"), ("peak", "max_time"), ("end", "end_time"))}
        sat = _satellites(path, done) if len(done) else np.array([], dtype=np.int64)
        cols = {
            **times,
            "goes_class": done["max_class"].fillna("").astype(str).to_numpy(),
            "noaa_ar": np.zeros(len(done), dtype=np.int64),  # the real-time list names no region
            "class_basis": np.where(sat >= FIRST_TRUE_SATELLITE, "true", "swpc").astype(object),
        }
        result = table_events(path, cols, cls.name, rows, done.index.to_numpy())
        result.ignored = {**result.ignored, **({"ongoing": int(ongoing.sum())} if ongoing.any() else {})}
        return result
