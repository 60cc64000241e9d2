"""SWPC real-time JSON in SWPC's field layout, built from the shared GOES-16 L2 avg1m files (the same minutes,
the same fluxes), and the flare JSON from the shared GOES-16 flare summary."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

BANDS = (("xrsa", "0.05-0.4nm"), ("xrsb", "0.1-0.8nm"))
E_CONTAM_SIGNIFICANT = 4
"""GOES-R L2 flag bit ``e_contam_significant`` (electrons > 50% of the observed signal): what SWPC's
``electron_contaminaton`` reports."""


def xray_records(nc: Path, satellite: int = 16) -> list[dict]:
    """Two records per minute of one L2 avg1m day, in SWPC's order and field names (NaN flux -> null)."""
    with h5py.File(nc, "r") as h:
        seconds = h["time"][()]
        cols = {ch: {v: h[f"{ch}_{v}"][()] for v in ("flux", "flux_observed", "flux_electrons", "flag")}
                for ch, _ in BANDS}
    times = pd.Timestamp("2000-01-01 12:00:00") + pd.to_timedelta(seconds, unit="s")
    out = []

    def num(x):
        return None if not np.isfinite(x) else float(x)

    for i, t in enumerate(times):
        for ch, energy in BANDS:
            c = cols[ch]
            out.append({"time_tag": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "satellite": satellite,
                        "flux": num(c["flux"][i]), "observed_flux": num(c["flux_observed"][i]),
                        "electron_correction": num(c["flux_electrons"][i]),
                        "electron_contaminaton": bool(int(c["flag"][i]) & E_CONTAM_SIGNIFICANT), "energy": energy})
    return out


def flare_records(summary_csv: Path, first: str, last: str, satellite: int = 16) -> list[dict]:
    """``xray-flares-7-day.json`` records for the flares of the GOES-16 flare summary peaking in first..last."""
    table = pd.read_csv(summary_csv)
    table["time"] = pd.to_datetime(table["time"])
    rows = table[(table["time"] >= first) & (table["time"] < pd.Timestamp(last) + pd.Timedelta(days=1))]
    out = []

    def iso(t):
        return None if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")

    for _, g in rows.groupby("flare_id", sort=True):
        by = {s: g[g["status"] == s] for s in ("EVENT_START", "EVENT_PEAK", "EVENT_END")}
        if by["EVENT_PEAK"].empty or by["EVENT_START"].empty or by["EVENT_END"].empty:
            continue  # flares the summary leaves open (a new one began first) have no end time to give
        peak = by["EVENT_PEAK"].iloc[0]
        end = by["EVENT_END"]["time"].iloc[0]
        out.append({"time_tag": iso(peak["time"]), "begin_time": iso(by["EVENT_START"]["time"].iloc[0]),
                    "begin_class": None, "max_time": iso(peak["time"]), "max_class": peak["flare_class"],
                    "max_xrlong": float(peak["xrsb_flux"]), "max_ratio": None, "max_ratio_time": None,
                    "current_int_xrlong": float(peak["integrated_flux"]), "end_time": iso(end), "end_class": None,
                    "satellite": satellite})
    return out


def write_json(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps(records))
    return path


HALE_CODES = {"Alpha": "A", "Beta": "B", "Gamma": "G", "Beta-Gamma": "BG", "Beta-Delta": "BD", "Gamma-Delta": "GD",
              "Beta-Gamma-Delta": "BGD"}


def region_records(reports: pd.DataFrame, flares: pd.DataFrame) -> list[dict]:
    """``solar_regions.json`` records in SWPC's field layout for SRS rows (``read_file(..., "regions").data``), with
    ``c/m/x_xray_events`` counted from a flare list naming regions (``read_file(..., "events").data``) over the day
    each record describes (``observed_date``: the day before the SRS issue); no SWPC probabilities (the archive
    has none)."""
    out = []
    day = flares["peak"].dt.floor("D")
    letter = flares["goes_class"].str[:1].str.upper()
    for _, r in reports.iterrows():
        observed = (r["time"] - pd.Timedelta(days=1)).floor("D")
        own = (flares["noaa_ar"] == r["region"]) & (day == observed)
        out.append({"observed_date": f"{observed:%Y-%m-%d}", "region": int(r["region"]) % 10000,
                    "latitude": r["latitude"], "longitude": r["longitude"], "location": r["location"],
                    "carrington_longitude": r["carrington_longitude"], "area": r["area"], "spot_class": r["mcintosh"],
                    "extent": r["extent"], "number_spots": r["spots"], "mag_class": HALE_CODES.get(r["hale"]),
                    **{f"{c.lower()}_xray_events": int((own & (letter == c)).sum()) for c in "CMX"},
                    "c_flare_probability": None, "m_flare_probability": None, "x_flare_probability": None})
    return out
