"""NOAA active-region reports: SWPC's Solar Region Summary (SRS) text files, the SRS archive table, and SWPC's
real-time ``solar_regions.json``, as one row per numbered region per report (the store's ``regions`` group).

| reader | files |
|---|---|
| ``swpc-srs-text`` | daily SRS text files (``20150101SRS.txt``), parsed by ``sunpy.io.special.srs.read_srs`` |
| ``srs-archive-csv`` | the SRS table 1996-2018 (``SRS_data_new_19960101_20181231.csv``) |
| ``swpc-regions-json`` | ``solar_regions.json`` (``flarecast fetch swpc``), with SWPC's C/M/X probabilities |

Row (:data:`REGION_COLUMNS`): ``time`` is the report's issue time (SRS: 00:30 UTC; locations are valid at
24:00 UTC the day before), ``region`` the full NOAA number (``full_ar``: 2246 in 2015 is 12246),
``latitude``/``longitude`` in degrees (+N, +W of the central meridian, as sunpy gives them), ``location`` the
same as SRS text (``N19W56``), ``carrington_longitude``, ``mcintosh`` (Zurich, penumbra and compactness
letters: ``Dai``), ``area`` (millionths of the hemisphere), ``extent`` (longitudinal extent, degrees), ``spots``,
``hale`` (``Beta-Gamma-Delta``), and ``p_c``, ``p_m``, ``p_x``: SWPC's probabilities (0..1) of a C, M, X flare
from the region in the next day, NaN where the source gives none (SRS files and the archive never do);
``c_events``, ``m_events``, ``x_events``: the number of C, M and X flares SWPC attributes to the region on the day
the report describes (``solar_regions.json``'s ``c/m/x_xray_events``; NaN where not given): the region's flare
history when the flare list names no region (:func:`flarecast.samples.regions.region_history`).

Only regions with sunspots (SRS part I) are rows: plages without spots (part IA) and regions due to return
(part II) have no McIntosh class or area to forecast from; they are counted in ``ignored``.

``solar_regions.json`` dates each record by ``observed_date``, the day the locations describe; the SRS with
those locations is issued at 00:30 UTC the next day, which is the ``time`` stored (AR 3664 has
``observed_date`` 2024-05-13 at S19W87, which is where it was at the end of 13 May, not the start).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import ReaderResult, check_times
from flarecast.ingest.readers.events import full_ar
from flarecast.ingest.readers.goes_text import parse_utc
from flarecast.ingest.readers.reader import Reader, first_line
from flarecast.ingest.readers.rows import TRUNCATED, BadRows, read_text, text_table
from flarecast.ingest.readers.swpc_json import records

REGION_COLUMNS = ("time", "region", "latitude", "longitude", "location", "carrington_longitude", "mcintosh",
                  "area", "extent", "spots", "hale", "p_c", "p_m", "p_x", "c_events", "m_events", "x_events")
_FLOATS = ("latitude", "longitude", "carrington_longitude", "area", "extent", "spots", "p_c", "p_m", "p_x",
           "c_events", "m_events", "x_events")
EVENTS = ("c_events", "m_events", "x_events")
_STRINGS = ("location", "mcintosh", "hale")

MCINTOSH = re.compile(r"^[ABCDEFH][XRSAHK][XOIC]$")
"""A McIntosh class: modified Zurich class, largest spot's penumbra, spot distribution (McIntosh 1990)."""

HALE = {"A": "Alpha", "B": "Beta", "G": "Gamma", "BG": "Beta-Gamma", "BD": "Beta-Delta", "GD": "Gamma-Delta",
        "BGD": "Beta-Gamma-Delta"}
"""SWPC's JSON codes of the Mount Wilson (Hale) magnetic classes, and the names SRS text writes."""
_HALE_NAMES = {v.upper(): v for v in HALE.values()}

ISSUE_OFFSET = np.timedelta64(30, "m")
"""An SRS is issued at 00:30 UTC, for locations valid at 24:00 UTC the day before."""

MAX_AREA = 10_000
"""Millionths of the hemisphere: the largest group on record (April 1947) was ~6100."""


def canonical_mcintosh(text) -> str:
    """``"DAI"``, ``"dai"``, ``" Dai "`` -> ``"Dai"``; blank stays blank. Validity is checked by the caller."""
    t = str(text or "").strip()
    return t[:1].upper() + t[1:].lower() if t else ""


def canonical_hale(text) -> str:
    """``"BETA-GAMMA"``, ``"Beta-Gamma"``, ``"BG"`` -> ``"Beta-Gamma"``; blank stays blank; unknown: None."""
    t = str(text or "").strip().upper().replace(" ", "")
    if not t or t in ("--", "NONE", "NAN"):
        return ""
    return HALE.get(t) or _HALE_NAMES.get(t)


def location_text(lat: float, lon: float) -> str:
    """``(19, 56)`` -> ``"N19W56"`` (+N, +W, as SRS writes locations); NaN gives ``""``."""
    if not (np.isfinite(lat) and np.isfinite(lon)):
        return ""
    return f"{'S' if lat < 0 else 'N'}{abs(round(lat)):02d}{'E' if lon < 0 else 'W'}{abs(round(lon)):02d}"


_LOCATION = re.compile(r"^([NS])(\d{1,2})([EW])(\d{1,3})$")


def parse_location(text: str) -> tuple[float, float] | None:
    """``"N19W56"`` -> ``(19.0, 56.0)``, ``"S06E48"`` -> ``(-6.0, -48.0)``; None when it is not a location."""
    m = _LOCATION.match(str(text).strip().upper())
    if m is None:
        return None
    lat = float(m.group(2)) * (-1 if m.group(1) == "S" else 1)
    lon = float(m.group(4)) * (-1 if m.group(3) == "E" else 1)
    return (lat, lon) if abs(lat) <= 90 and abs(lon) <= 180 else None


def regions_result(path: Path, cols: dict[str, np.ndarray], reader: str, rows: BadRows, lines: np.ndarray,
                   *, ignored: dict[str, int] | None = None) -> ReaderResult:
    """Check and assemble region rows: what every region reader shares.

    ``cols`` holds :data:`REGION_COLUMNS` (``location`` may be absent: it is written from latitude and
    longitude); row ``i`` is line (or record) ``lines[i]``. A region number that is not positive, a McIntosh
    class that is not one, a Hale class that is not one, a negative or impossible area or spot count, a
    probability outside 0..1 or an impossible latitude is a bad row. A region reported twice in one report
    is refused: the store keeps one row per (time, region).
    """
    n = len(lines)
    time = np.asarray(cols["time"], dtype="datetime64[ns]")
    region = np.asarray(cols["region"], dtype=np.int64)
    region = full_ar(region, time) if n else region
    floats = {c: np.asarray(cols.get(c, np.full(n, np.nan)), dtype=np.float64) for c in _FLOATS}
    mcintosh = np.array([canonical_mcintosh(v) for v in cols["mcintosh"]], dtype=object)
    hale = np.array([canonical_hale(v) for v in cols["hale"]], dtype=object)
    for i in range(n):
        why = None
        if np.isnat(time[i]):
            why = "no report time"
        elif region[i] <= 0:
            why = f"region {region[i]} is not a NOAA region number (a positive integer)"
        elif mcintosh[i] and not MCINTOSH.match(mcintosh[i].upper()):
            why = f"McIntosh class {mcintosh[i]!r} is not one: expected Zurich [ABCDEFH], penumbra [XRSAHK], " \
                  "distribution [XOIC], as 'Dai'"
        elif hale[i] is None:
            why = f"magnetic class {cols['hale'][i]!r} is not a Hale class: expected one of {list(HALE.values())}"
        elif not np.isnan(floats["area"][i]) and not 0 <= floats["area"][i] <= MAX_AREA:
            why = f"area {floats['area'][i]:g} is not 0..{MAX_AREA} millionths of the hemisphere"
        elif not np.isnan(floats["spots"][i]) and (floats["spots"][i] < 0 or floats["spots"][i] % 1):
            why = f"spot count {floats['spots'][i]:g} is not a whole number >= 0"
        elif not np.isnan(floats["latitude"][i]) and abs(floats["latitude"][i]) > 90:
            why = f"latitude {floats['latitude'][i]:g} is not in -90..90"
        else:
            bad_p = [c for c in ("p_c", "p_m", "p_x") if not np.isnan(floats[c][i]) and not 0 <= floats[c][i] <= 1]
            bad_n = [c for c in EVENTS if not np.isnan(floats[c][i]) and (floats[c][i] < 0 or floats[c][i] % 1)]
            if bad_p:
                why = f"{bad_p[0]} = {floats[bad_p[0]][i] * 100:g}% is not a probability in 0..100%"
            elif bad_n:
                why = f"{bad_n[0]} = {floats[bad_n[0]][i]:g} is not a flare count (a whole number >= 0)"
        if why:
            rows.bad(int(lines[i]), why)
    keep = ~np.isin(np.asarray(lines), rows.lines)
    location = cols.get("location")
    if location is None:
        location = [location_text(a, b) for a, b in zip(floats["latitude"], floats["longitude"], strict=True)]
    data = pd.DataFrame({
        "time": time[keep], "region": region[keep].astype(np.int32),
        **{c: floats[c][keep] for c in ("latitude", "longitude")},
        "location": np.asarray(location, dtype=object)[keep],
        "carrington_longitude": floats["carrington_longitude"][keep],
        "mcintosh": mcintosh[keep], "area": floats["area"][keep], "extent": floats["extent"][keep],
        "spots": floats["spots"][keep], "hale": hale[keep].astype(object),
        **{c: floats[c][keep] for c in ("p_c", "p_m", "p_x", *EVENTS)},
    }, columns=list(REGION_COLUMNS))
    data = data.sort_values(["time", "region"], kind="stable", ignore_index=True)
    dup = data.duplicated(["time", "region"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputFileError(path, f"region {data['region'].iloc[i]} is reported twice at {data['time'].iloc[i]}; "
                                   "expected one row per region per report (fix or split the file)")
    check_times(path, np.unique(data["time"].to_numpy("datetime64[ns]")), "report time")
    masked = {f"{c}:missing": int(data[c].isna().sum()) for c in ("area", "spots") if data[c].isna().any()}
    return ReaderResult(data=data, reader=reader, rows_read=n, masked=masked, warnings=rows.notes,
                        ignored={**(ignored or {}), **rows.ignored})


class SrsText(Reader, name="swpc-srs-text", kind="regions", basis="none",
              description="SWPC Solar Region Summary text (':Product: ...SRS.txt', read by sunpy)"):
    """A daily SRS text file, parsed by sunpy's ``read_srs``; part I (regions with sunspots) becomes rows."""

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        head = first_line(path).strip()
        return head.startswith(":Product:") and "SRS" in head.upper()

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        """Rows of part I; the issue time from the ``:Issued:`` line (sunpy's ``meta['issued']``)."""
        from sunpy.io.special.srs import read_srs

        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad)
        if not read_text(path).endswith("\n"):
            # sunpy would read a cut last line as a region with the fields it kept
            raise InputFileError(path, TRUNCATED)
        try:
            table = read_srs(str(path))
        except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
            raise InputFileError(path, f"sunpy cannot parse it as an SRS ({type(exc).__name__}: {exc}); "
                                       "re-download it") from None
        issued = table.meta.get("issued")
        if issued is None:
            raise InputFileError(path, "no ':Issued:' line: expected an SRS header with the issue time")
        part = np.asarray(table["ID"]).astype(str) if len(table) else np.array([], dtype=str)
        spotted = part == "I"
        sub = table[spotted] if len(table) else table
        n = int(spotted.sum())

        def col(name, fill=np.nan):
            if name not in sub.colnames:
                return np.full(n, fill)
            values = sub[name]
            return np.asarray(values.filled(fill) if hasattr(values, "filled") else values)

        def text(name):
            if name not in sub.colnames:
                return [""] * n
            return [v.decode() if isinstance(v, bytes) else ("" if v is np.ma.masked else str(v))
                    for v in sub[name].tolist()]

        cols = {
            "time": np.full(n, np.datetime64(issued, "ns")),
            "region": col("Number", 0).astype(np.int64),
            "latitude": col("Latitude").astype(float), "longitude": col("Longitude").astype(float),
            "carrington_longitude": col("Carrington Longitude").astype(float),
            "mcintosh": text("Z"), "area": col("Area").astype(float),
            "extent": col("Longitudinal Extent").astype(float),
            "spots": col("Number of Sunspots", -1).astype(float), "hale": text("Mag Type"),
        }
        cols["spots"][cols["spots"] < 0] = np.nan
        other = {k: int((part == p).sum()) for k, p in (("plages_without_spots", "IA"), ("due_to_return", "II"))
                 if (part == p).any()}
        return regions_result(path, cols, cls.name, rows, np.arange(1, n + 1), ignored=other)


class SrsArchiveCsv(Reader, name="srs-archive-csv", kind="regions", basis="none",
                    description="SRS archive table (ar_noaanum, LOCATION, ..., Z, ..., MAGTYPE, date)"):
    """The table of SRS part I rows 1996-2018, as shipped (``SRS_data_new_19960101_20181231.csv``).

    Its header names 12 columns and every data row holds 13: the first field of a row is a row counter the
    header does not name. The file is read as it is: the counter is dropped and the 12 names apply to the
    fields after it (``ar_noaanum`` = region, ``Z`` = McIntosh class, ``Longitude_extent``, ``No_sunspots``,
    ``MAGTYPE``, ``date`` = issue time). Of the three trailing names (``NM``, ``NONE``, ``BETA``) only ``NM``
    ever holds a value, once: the spot count of a row whose ``No_sunspots`` is blank (AR 7948 on 1996-02-28),
    which is read as its spot count.
    """

    header_columns = ("ar_noaanum", "location", "magtype")

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad)
        text = read_text(path)
        header, _, body = text.partition("\n")
        names = [h.strip() for h in header.split(",")]
        # One more name, for the unnamed counter, so every field has a column and none shifts.
        raw = text_table(path, ",".join(["_row", *names]) + "\n" + body, rows)
        raw.columns = [c.strip().lower() for c in raw.columns]
        raw = raw[~np.isin(raw.index.to_numpy(), rows.lines)]

        def num(c):
            t = raw[c].astype(str).str.strip()
            v = pd.to_numeric(t.replace({"": "nan"}), errors="coerce")
            for line, cell in zip(raw.index[v.isna() & (t != "")], t[v.isna() & (t != "")], strict=True):
                rows.bad(int(line), f"{c} = {cell!r} is not a number")
            return v.to_numpy(np.float64)

        region = num("ar_noaanum")
        spots = num("no_sunspots")
        if "nm" in raw.columns:
            spots = np.where(np.isnan(spots), num("nm"), spots)
        lat, lon = np.full(len(raw), np.nan), np.full(len(raw), np.nan)
        for i, (line, loc) in enumerate(zip(raw.index, raw["location"].astype(str), strict=True)):
            ll = parse_location(loc)
            if ll is None:
                rows.bad(int(line), f"LOCATION {loc!r} is not a location: expected as 'N11W06'")
            else:
                lat[i], lon[i] = ll
        cols = {
            "time": parse_utc(raw["date"], "date", rows), "region": np.nan_to_num(region, nan=0).astype(np.int64),
            "latitude": lat, "longitude": lon, "location": raw["location"].astype(str).str.strip().str.upper(),
            "carrington_longitude": num("carrington_long"), "mcintosh": raw["z"].tolist(), "area": num("area"),
            "extent": num("longitude_extent"), "spots": spots, "hale": raw["magtype"].tolist(),
        }
        return regions_result(path, cols, cls.name, rows, raw.index.to_numpy())


class SwpcRegionsJson(Reader, name="swpc-regions-json", kind="regions", basis="none",
                      description="SWPC solar_regions.json (observed_date, region, spot_class, mag_class, "
                      "c/m/x_flare_probability)"):
    """SWPC's real-time region list: about a month of daily records, each region repeated daily."""

    json_keys = ("observed_date", "region")
    FIELDS = ("observed_date", "region")

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad, unit="record")
        table = records(path, cls.FIELDS)  # SWPC's list of records, refused whole where it is not one

        def num(c, scale=1.0):
            if c not in table.columns:
                return np.full(len(table), np.nan)
            v = pd.to_numeric(table[c], errors="coerce")
            for i in np.flatnonzero(v.isna().to_numpy() & table[c].notna().to_numpy()):
                rows.bad(int(table.index[i]), f"{c} = {table[c].iloc[i]!r} is not a number")
            return v.to_numpy(np.float64) * scale

        def text(c):
            return table[c].fillna("").astype(str).tolist() if c in table.columns else [""] * len(table)

        observed = parse_utc(table["observed_date"] if len(table) else pd.Series([], dtype=str), "observed_date",
                             rows)
        issued = observed.astype("datetime64[D]").astype("datetime64[ns]") + np.timedelta64(1, "D") + ISSUE_OFFSET
        lat, lon = num("latitude"), num("longitude")
        cols = {
            "time": issued, "region": np.nan_to_num(num("region"), nan=0).astype(np.int64),
            "latitude": lat, "longitude": lon, "carrington_longitude": num("carrington_longitude"),
            "mcintosh": text("spot_class"), "area": num("area"), "extent": num("extent"),
            "spots": num("number_spots"), "hale": text("mag_class"),
            "p_c": num("c_flare_probability", 0.01), "p_m": num("m_flare_probability", 0.01),
            "p_x": num("x_flare_probability", 0.01),
            **{f"{c}_events": num(f"{c}_xray_events") for c in "cmx"},
        }
        given = [str(v).strip().upper() for v in text("location")]
        cols["location"] = [g if parse_location(g) else location_text(a, b)
                            for g, a, b in zip(given, lat, lon, strict=True)]
        return regions_result(path, cols, cls.name, rows, table.index.to_numpy())
