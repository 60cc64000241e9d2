"""Merging new catalogue events and SHARP records into the stored ones (in memory: these groups are small).

A full flare catalogue is ~50,000 events and a SHARP keyword export a few hundred thousand records, so
both groups are merged as whole arrays; GOES series, which reach billions of rows, stream
(:mod:`flarecast.ingest.merge_goes`).

Catalogue overlap. Two entries from different files are one flare when their peaks are within
:data:`EVENT_MATCH_TOLERANCE` and their true-basis peak fluxes within :data:`EVENT_FLUX_RATIO`, whatever
NOAA region each names (catalogues do disagree on regions: NGDC puts the M5.6 of 2012-07-02 in AR 11514,
SWPC in 11515); pairs naming the same region are matched first, then the nearest peaks. The flare keeps
the times, class and region of its highest-ranked catalogue (:data:`CATALOGUE_PRIORITY`), whatever the
order of ingestion; lower-ranked catalogues only fill what it lacks (start, end, region). A region that
another catalogue gives differently is kept in ``noaa_ar_alt``, and ``source`` lists every catalogue,
the primary first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from flarecast.ingest.readers.base import ReaderResult
from flarecast.ingest.readers.sharp import KEYWORD_UNITS
from flarecast.ingest.store import as_str

EVENT_MATCH_TOLERANCE = np.timedelta64(5, "m")
"""Two catalogue entries are one flare when their peaks are this close (and the flux rule holds)."""
EVENT_FLUX_RATIO = 2.0
"""... and their true-basis peak fluxes are within this factor (revisions and C9.x/M1.0 edge cases)."""

CATALOGUE_PRIORITY = (
    "swpc-edited-events",
    "swpc-flarelist-csv",
    "ngdc-xrs-report",
    "goes-flsum-nc",
    "goes-flsum-csv",
    "hek-csv",
    "plain-events-csv",
)
"""Readers, most trusted first. SWPC's edited events are the record SWPC forecasters edit and number
regions in; SWPC's lists copy them; NGDC's yearly reports transcribe the same events and, where they
differ, name a neighbouring region (2012-07-02 M5.6: 11514 for SWPC's 11515; 2012-07-12 X1.4: 11522 for
11520, the region the literature gives). The GOES-R flare summary has no regions; HEK and plain CSVs are
copies of unknown vintage."""

EVENT_COLUMNS = (
    "start",
    "peak",
    "end",
    "goes_class",
    "peak_flux",
    "noaa_ar",
    "noaa_ar_alt",
    "class_basis",
    "source",
)
_DTYPES = (
    dict.fromkeys(("start", "peak", "end"), "datetime64[ns]")
    | dict.fromkeys(("goes_class", "class_basis", "source"), object)
    | {"peak_flux": np.float64, "noaa_ar": np.int32, "noaa_ar_alt": np.int32}
)


def _rank(source: str) -> int:
    reader = source.split(":", 1)[0]
    return CATALOGUE_PRIORITY.index(reader) if reader in CATALOGUE_PRIORITY else len(CATALOGUE_PRIORITY)


def merge_events(old: xr.Dataset | None, new: list[tuple[str, ReaderResult]]) -> tuple[xr.Dataset, list[int]]:
    """Stored events plus new ones; a new event matching a known flare is absorbed into it (module docstring).

    Parameters
    ----------
    old : xarray.Dataset or None
        The stored ``events`` group, loaded.
    new : list of (source, ReaderResult)
        Each file's events, ``source`` being ``reader:file``.

    Returns
    -------
    (xarray.Dataset, list of int)
        The merged group and the events each file added (the rest matched known flares).
    """
    stored = {c: _stored(old, c) for c in EVENT_COLUMNS}
    # Known events live in chunks (the store, then each file's new rows) so that a daily file is only
    # compared with the chunks its time span overlaps, not with the whole catalogue.
    chunks = [stored]
    span = np.full(
        (len(new) + 1, 2), np.datetime64("NaT"), dtype="datetime64[ns]"
    )  # first/last peak per chunk
    span[0] = _span(stored["peak"])
    added = []
    # Columns of every file at once: pulling them out of thousands of small frames one by one costs more
    # than the matching itself.
    sizes = [len(res.data) for _, res in new]
    frames = [res.data for _, res in new if len(res.data)]
    every = pd.concat(frames, ignore_index=True) if frames else None
    columns = {c: every[c].to_numpy(_DTYPES[c]) for c in EVENT_COLUMNS if every is not None and c in every}
    ends = np.cumsum(sizes)
    for (source, _), n, end in zip(new, sizes, ends.tolist(), strict=True):
        if not n:
            added.append(0)
            continue
        ev = {c: v[end - n : end] for c, v in columns.items()}
        ev["noaa_ar_alt"] = np.zeros(n, dtype=np.int32)
        ev["source"] = np.full(n, source, dtype=object)
        lo, hi = ev["peak"].min() - EVENT_MATCH_TOLERANCE, ev["peak"].max() + EVENT_MATCH_TOLERANCE
        near = np.flatnonzero((span[: len(chunks), 1] >= lo) & (span[: len(chunks), 0] <= hi))
        refs = [(k, np.flatnonzero((chunks[k]["peak"] >= lo) & (chunks[k]["peak"] <= hi))) for k in near]
        where_k = np.concatenate([np.full(rows.size, k) for k, rows in refs] + [np.zeros(0, dtype=np.int64)])
        where_r = np.concatenate([rows for _, rows in refs] + [np.zeros(0, dtype=np.int64)])
        cand = {
            c: np.concatenate([chunks[k][c][rows] for k, rows in refs] + [np.zeros(0, _DTYPES[c])])
            for c in EVENT_COLUMNS
        }
        matches = _matches(cand, ev)
        for i, m in matches.items():
            _absorb(chunks[where_k[m]], int(where_r[m]), ev, i, source)
        for k in {int(where_k[m]) for m in matches.values()}:
            span[k] = _span(chunks[k]["peak"])  # a primary's peak may have moved by up to the tolerance
        fresh = np.ones(n, dtype=bool)
        fresh[list(matches)] = False
        added.append(int(fresh.sum()))
        chunks.append({c: ev[c][fresh] for c in EVENT_COLUMNS})
        span[len(chunks) - 1] = _span(chunks[-1]["peak"])
    table = {c: np.concatenate([ch[c] for ch in chunks]).astype(_DTYPES[c]) for c in EVENT_COLUMNS}
    order = np.argsort(table["peak"], kind="stable")
    t = {c: table[c][order] for c in EVENT_COLUMNS}
    ds = xr.Dataset(
        {
            "start": ("event", t["start"], {"long_name": "UTC, NaT if unknown"}),
            "peak": ("event", t["peak"], {"long_name": "UTC"}),
            "end": ("event", t["end"], {"long_name": "UTC, NaT if unknown"}),
            "goes_class": (
                "event",
                as_str(t["goes_class"]),
                {"long_name": "class as reported, on class_basis"},
            ),
            "class_basis": ("event", as_str(t["class_basis"]), {"long_name": "swpc or true"}),
            "peak_flux": ("event", t["peak_flux"], {"units": "W m-2", "flux_basis": "true"}),
            "noaa_ar": ("event", t["noaa_ar"], {"long_name": "NOAA active region, 0 = none"}),
            "noaa_ar_alt": (
                "event",
                t["noaa_ar_alt"],
                {"long_name": "NOAA active region another catalogue gives for this flare, 0 = none"},
            ),
            "source": (
                "event",
                as_str(t["source"]),
                {"long_name": "reader:file, ';'-joined across catalogues, the primary first"},
            ),
        },
        attrs={
            "match_tolerance_s": int(EVENT_MATCH_TOLERANCE // np.timedelta64(1, "s")),
            "match_flux_ratio": EVENT_FLUX_RATIO,
            "catalogue_priority": ",".join(CATALOGUE_PRIORITY),
        },
    )
    return ds, added


def _stored(old: xr.Dataset | None, column: str) -> np.ndarray:
    if old is None:
        return np.array([], dtype=_DTYPES[column])
    if column not in old.variables:  # stores written before noaa_ar_alt existed
        return np.zeros(old.sizes["event"], dtype=_DTYPES[column])
    return old[column].values.astype(_DTYPES[column])


def _absorb(known: dict[str, np.ndarray], r: int, ev: dict[str, np.ndarray], i: int, source: str) -> None:
    """Fold new event ``i`` into known event ``r``: the higher-ranked catalogue's values win."""
    sources = str(known["source"][r]).split(";")
    promote = _rank(source) < _rank(sources[0]) and np.isfinite(ev["peak_flux"][i])
    primary_ar, other_ar = int(known["noaa_ar"][r]), int(ev["noaa_ar"][i])
    if promote:
        for c in ("peak", "goes_class", "peak_flux", "class_basis"):
            known[c][r] = ev[c][i]
        for c in ("start", "end"):
            if not np.isnat(ev[c][i]):
                known[c][r] = ev[c][i]
        if source not in sources:
            known["source"][r] = f"{source};{known['source'][r]}"
        primary_ar, other_ar = other_ar, primary_ar
    else:
        for c in ("start", "end"):
            if np.isnat(known[c][r]):
                known[c][r] = ev[c][i]
        if source not in sources:
            known["source"][r] = f"{known['source'][r]};{source}"
    if primary_ar == 0:
        primary_ar, other_ar = other_ar, 0
    known["noaa_ar"][r] = primary_ar
    if other_ar and other_ar != primary_ar and known["noaa_ar_alt"][r] == 0:
        known["noaa_ar_alt"][r] = other_ar


def _span(peaks: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
    nat = np.datetime64("NaT", "ns")
    return (peaks.min(), peaks.max()) if peaks.size else (nat, nat)


def _matches(table: dict[str, np.ndarray], ev: dict[str, np.ndarray]) -> dict[int, int]:
    """New event index -> known event index, each known event claimed at most once.

    Pairs naming the same region (or one without a region) are taken before pairs whose regions differ,
    then the nearest peaks, so two simultaneous flares of two regions pair up with their own regions.
    """
    order = np.argsort(table["peak"], kind="stable")
    peaks = table["peak"][order]
    lo = np.searchsorted(peaks, ev["peak"] - EVENT_MATCH_TOLERANCE, side="left")
    hi = np.searchsorted(peaks, ev["peak"] + EVENT_MATCH_TOLERANCE, side="right")
    count = hi - lo
    i = np.repeat(np.arange(count.size), count)  # every (new, known) pair with peaks close enough
    j = order[np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)]
    f1, f2 = table["peak_flux"][j], ev["peak_flux"][i]
    with np.errstate(invalid="ignore"):
        too_far = (
            np.isfinite(f1) & np.isfinite(f2) & (np.maximum(f1, f2) > EVENT_FLUX_RATIO * np.minimum(f1, f2))
        )
    i, j = i[~too_far], j[~too_far]
    a1, a2 = table["noaa_ar"][j], ev["noaa_ar"][i]
    differ = (a1 != 0) & (a2 != 0) & (a1 != a2)
    dt = np.abs(table["peak"][j].view(np.int64) - ev["peak"][i].view(np.int64))
    best = np.lexsort((j, i, dt, differ))
    out: dict[int, int] = {}
    claimed: set[int] = set()
    for new, known in zip(i[best].tolist(), j[best].tolist(), strict=True):
        if new not in out and known not in claimed:
            out[new] = known
            claimed.add(known)
    return out


def merge_sharp(old: xr.Dataset | None, new: list[tuple[str, ReaderResult]]) -> tuple[xr.Dataset, list[int]]:
    """Stored and new records, one per (harpnum, time), the stored one kept; keyword columns are unioned."""
    parts = [] if old is None else [old.to_dataframe().reset_index(drop=True)]
    parts += [r.data for _, r in new]
    origin = np.concatenate([np.full(len(p), i - (old is not None)) for i, p in enumerate(parts)])
    rows = pd.concat(parts, ignore_index=True).assign(_origin=origin)
    rows = rows.drop_duplicates(["harpnum", "time"], keep="first")
    added = [int((rows["_origin"] == i).sum()) for i in range(len(new))]
    rows = rows.drop(columns="_origin").sort_values(["harpnum", "time"], kind="stable", ignore_index=True)
    keywords = [c for c in rows.columns if c not in ("harpnum", "time", "noaa_ars")]
    unknown = "unknown (not in flarecast's JSOC table)"
    ds = xr.Dataset(
        {
            k: ("record", rows[k].to_numpy(np.float64), {"units": KEYWORD_UNITS.get(k, unknown)})
            for k in keywords
        },
        coords={
            "harpnum": ("record", rows["harpnum"].to_numpy(np.int32)),
            "time": (
                "record",
                rows["time"].to_numpy("datetime64[ns]"),
                {"long_name": "UTC (from T_REC TAI)"},
            ),
            "noaa_ars": (
                "record",
                as_str(rows["noaa_ars"]),
                {"long_name": "NOAA ARs, comma-separated, '' none"},
            ),
        },
    )
    return ds, added


REGION_FLOATS = ("latitude", "longitude", "carrington_longitude", "area", "extent", "spots", "p_c", "p_m", "p_x",
                 "c_events", "m_events", "x_events")
REGION_UNITS = {"latitude": "degree (+N)", "longitude": "degree (+W of the central meridian)",
                "carrington_longitude": "degree", "area": "millionths of the solar hemisphere",
                "extent": "degree (longitudinal extent)", "spots": "count",
                "p_c": "SWPC probability of a C-class flare in the next day (0..1, NaN: not given)",
                "p_m": "SWPC probability of an M-class flare in the next day (0..1, NaN: not given)",
                "p_x": "SWPC probability of an X-class flare in the next day (0..1, NaN: not given)",
                **{f"{c}_events": f"count of the region's {c.upper()}-class flares on the day the report describes "
                                  "(SWPC's {c}_xray_events; NaN: not given)" for c in "cmx"}}


REGION_PRIORITY = ("swpc-srs-text", "srs-archive-csv", "swpc-regions-json")
"""Region readers, most trusted first: the SRS text as issued, the archive table transcribed from it, then
SWPC's real-time JSON (which alone carries SWPC's probabilities)."""


def merge_regions(old: xr.Dataset | None, new: list[tuple[str, ReaderResult]]) -> tuple[xr.Dataset, list[int]]:
    """One row per (time, region). Where several sources give the same report (an SRS file and the
    ``solar_regions.json`` record of that day), each value comes from the highest-ranked source that gives it
    (:data:`REGION_PRIORITY`; ties: the stored row, then files in order), so the order of ingestion changes
    nothing: SRS's class and extent, SWPC's probabilities. ``source`` names the reader of the highest-ranked
    row. Rows added per file count the (time, region) pairs new to the store."""
    parts = [] if old is None else [old.to_dataframe().reset_index(drop=True)]
    parts += [r.data.assign(source=src.split(":", 1)[0]) for src, r in new]
    parts = [p.reindex(columns=[*p.columns, *(c for c in REGION_FLOATS if c not in p.columns)]) for p in parts]
    origin = np.concatenate([np.full(len(p), i - (old is not None)) for i, p in enumerate(parts)] + [np.zeros(0)])
    rows = pd.concat(parts, ignore_index=True).assign(_origin=origin)
    for c in ("location", "mcintosh", "hale"):
        rows[c] = rows[c].astype(object).where(rows[c].astype(str) != "", None)
    first = ~rows.duplicated(["time", "region"], keep="first")
    added = [int(((rows["_origin"] == i) & first).sum()) for i in range(len(new))]
    rank = rows["source"].map({r: k for k, r in enumerate(REGION_PRIORITY)}).fillna(len(REGION_PRIORITY))
    rows = (rows.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns=["_origin", "_rank"])
            .groupby(["time", "region"], sort=True).first().reset_index())
    ds = xr.Dataset(
        {
            **{c: ("report", rows[c].to_numpy(np.float64), {"units": REGION_UNITS[c]}) for c in REGION_FLOATS},
            "location": ("report", as_str(rows["location"]), {"long_name": "as SRS writes it: N19W56"}),
            "mcintosh": ("report", as_str(rows["mcintosh"]), {"long_name": "McIntosh class, '' unknown"}),
            "hale": ("report", as_str(rows["hale"]), {"long_name": "Mount Wilson magnetic class, '' unknown"}),
            "source": ("report", as_str(rows["source"]), {"long_name": "reader of the highest-ranked row"}),
        },
        coords={
            "time": ("report", rows["time"].to_numpy("datetime64[ns]"), {"long_name": "report issue time, UTC"}),
            "region": ("report", rows["region"].to_numpy(np.int32), {"long_name": "NOAA active region number"}),
        },
    )
    return ds, added


MERGE = {"events": merge_events, "sharp": merge_sharp, "regions": merge_regions}
"""In-memory merge per group: ``(stored dataset or None, [(source, ReaderResult)])`` to
``(dataset, rows added per file)``."""
