"""Forecast files: JSON documents or CSV rows, their JSON Schema, and backtests against a flare catalogue.

A JSON file holds the whole document :func:`flarecast.forecast.forecast` returns; a CSV file holds its rows
(columns :data:`ROW_FIELDS`; ``region`` empty for full-disk, ``noaa_ars`` space-separated). Every row carries what
scoring it needs (issue time, valid_to, threshold, base rate, class convention, region and ARs), so a backtest
works on either format and on files concatenated from several runs.

A backtest labels each row from the store's catalogue exactly as training labels windows (largest class
peaking in (issue_time, valid_to]; a region's own ARs only) and scores it with ``flarecast evaluate``'s scoring
(:func:`flarecast.evaluate.score_forecasts`, bootstrap over UTC days or regions): ``model`` (the rows'
threshold), ``model@0.5``, ``climatology`` (the rows' base rate) and ``persistence``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import ConfigError, InputFileError, ParseError, SampleError
from flarecast.forecast.numbers import check_provider, check_rows
from flarecast.forecast.rows import DAY_FIELDS, DEGRADED_FIELDS, ROW_FIELDS, ForecastRow
from flarecast.safeio import JSON_BYTES, load_json, read_text
from flarecast.samples import labels
from flarecast.samples.labels import FULL_DISK, Catalogue
from flarecast.util import atomic_open, atomic_write_text, iso

if TYPE_CHECKING:
    from flarecast.model.documents import Metrics

SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "forecast.schema.json"
SUFFIXES = (".json", ".csv")


def write_forecasts(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the document as JSON (``.json``) or its rows as CSV (``.csv``), beside ``path`` then renamed there: a
    process killed or a disk filled while it writes leaves the previous file whole."""
    from flarecast.jsonio import dumps

    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ConfigError(f"--out {str(path)!r}: expected a file name ending in one of {list(SUFFIXES)}")
    check_rows(doc["forecasts"], str(path))  # the last guard: no impossible number is written
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        atomic_write_text(path, dumps(doc) + "\n")
        return path
    with atomic_open(path, "w", newline="") as fh:
        # The degraded columns only where the rows carry them: a file of `--strict` forecasts reads back as written.
        extra = DEGRADED_FIELDS if any("degraded" in r for r in doc["forecasts"]) else ()
        # valid_from only in a file of forecast days: a file of one horizon reads back as written.
        day = DAY_FIELDS if any(r.get("valid_from") for r in doc["forecasts"]) else ()
        w = csv.DictWriter(fh, fieldnames=ROW_FIELDS[:1] + day + ROW_FIELDS[1:] + extra, lineterminator="\n",
                           extrasaction="ignore")
        w.writeheader()
        for r in doc["forecasts"]:
            w.writerow(ForecastRow.read(r).csv_record(degraded=bool(extra)))
    return path


def schema() -> dict[str, Any]:
    """The forecast document's JSON Schema (draft 2020-12)."""
    return json.loads(SCHEMA_PATH.read_text())


def validate(doc: Any, *, what: str = "forecast document", rows_only: bool = False) -> None:
    """Raise :class:`~flarecast.errors.InputFileError` naming the first place ``doc`` breaks the schema.

    ``rows_only`` checks a list of rows (a CSV file) against the schema's row definition.
    """
    import jsonschema

    sch = schema()
    if rows_only:
        sch = {"$schema": sch["$schema"], "$defs": sch["$defs"], "type": "array", "items": {"$ref": "#/$defs/row"}}
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(sch).iter_errors(doc))
    if err is not None:
        where = "/".join(map(str, err.absolute_path)) or "top level"
        raise InputFileError(what, f"does not follow {SCHEMA_PATH.name} at {where}: {err.message}")


def read_forecasts(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a forecast file (JSON document or CSV), checked against the schema and read as
    :class:`~flarecast.forecast.rows.ForecastRow`."""
    path = Path(path)
    if path.suffix not in SUFFIXES or not path.is_file():
        raise InputFileError(path, f"expected an existing forecast file ending in one of {list(SUFFIXES)}")
    if path.suffix == ".json":
        try:
            doc = load_json(path)
        except ParseError as exc:
            raise InputFileError(path, f"not JSON ({exc.reason})") from None
        validate(doc, what=str(path))
        _check_numbers(doc["forecasts"], path, [f"forecasts[{i}]" for i in range(len(doc["forecasts"]))])
        return [ForecastRow.read(r).to_dict() for r in doc["forecasts"]]
    text = read_text(path, limit=JSON_BYTES)  # refuses a byte that is not UTF-8 in one line
    rows = [_typed_row(r, path, n) for n, r in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2)]
    validate(rows, what=str(path), rows_only=True)
    _check_numbers(rows, path, [f"line {n}" for n in range(2, len(rows) + 2)])
    return [ForecastRow.read(r).to_dict() for r in rows]


def _check_numbers(rows: list[dict[str, Any]], path: Path, records: list[str]) -> None:
    """The schema bounds the numbers but lets NaN through: every rule of a probability forecast, on every row."""
    cols = ["issue_time", "valid_to", "target", "probability", "region", "threshold", "base_rate"]
    frame = pd.DataFrame([{k: r.get(k) for k in cols} for r in rows], columns=cols).assign(record=records)
    check_provider(frame, path)


def _typed_row(r: dict[str, str], path: Path, line: int) -> dict[str, Any]:
    missing = [k for k in ROW_FIELDS if k not in r]
    if missing:
        raise InputFileError(path, f"line {line}: no column(s) {missing}; expected the columns {list(ROW_FIELDS)}")
    try:
        if "valid_from" in r and not r["valid_from"]:
            r = {k: v for k, v in r.items() if k != "valid_from"}  # a row of one horizon in a file of days
        return {**r, "region": int(r["region"]) if r["region"] else None,
                "noaa_ars": [int(a) for a in r["noaa_ars"].split()], "probability": float(r["probability"]),
                "decision": {"true": True, "false": False}[r["decision"]], "threshold": float(r["threshold"]),
                "base_rate": float(r["base_rate"]), "coverage": float(r["coverage"]),
                **({"degraded": {"true": True, "false": False}[r["degraded"]], "method": r["method"],
                    "reason": r["reason"] or None} if "degraded" in r else {})}
    except (ValueError, KeyError) as exc:
        raise InputFileError(path, f"line {line}: value {exc} cannot be read; expected a flarecast forecast CSV "
                             f"with columns {list(ROW_FIELDS)}") from None


def backtest(path: str | Path, *, store: str | Path, n_boot: int = 1000, seed: int = 0) -> Metrics:
    """Score a forecast file against the store's flare catalogue, as ``metrics.json`` (:class:`Metrics`).

    The rows are labelled as training labels windows and scored by :func:`flarecast.evaluate.score_forecasts`
    with the baselines climatology (the rows' base rate) and persistence; the logistic and trees baselines need
    the model's training windows, which a forecast file does not carry, so they are left out (``notes`` says so).
    Rows whose (issue_time - horizon, valid_to] reaches outside the catalogue's first to last peak are dropped
    and counted: neither the label nor persistence is known there.

    Raises
    ------
    InputFileError
        When the file breaks the schema, mixes horizons or class conventions, lacks a target for a window or
        holds one twice.
    SampleError
        When a target's rows carry several thresholds or base rates (several models: score them apart).
    ModelError
        When fewer than two bootstrap groups (UTC days, or regions) remain.
    """
    from flarecast.evaluate import baselines
    from flarecast.evaluate.scoring import Forecasts, score_forecasts
    from flarecast.ingest import store as st
    from flarecast.metrics.forecasts import method_thresholds
    from flarecast.model.documents import Bootstrap, Metrics

    frame = pd.DataFrame(read_forecasts(path))
    if frame.empty:
        raise SampleError(f"{path}: no forecast rows to score")
    frame["t"] = pd.to_datetime(frame["issue_time"]).dt.tz_localize(None).astype("datetime64[ns]")
    frame["e"] = pd.to_datetime(frame["valid_to"]).dt.tz_localize(None).astype("datetime64[ns]")
    # A forecast day's row is labelled on its own window (valid_from, valid_to]; other rows on (t, valid_to].
    starts = frame["valid_from"].fillna(frame["issue_time"]) if "valid_from" in frame else frame["issue_time"]
    frame["s"] = pd.to_datetime(starts).dt.tz_localize(None).astype("datetime64[ns]")
    by_day = "valid_from" in frame and frame["valid_from"].notna().any()
    # Rows of one horizon share it; rows of forecast days share the window's length (and persistence 24 h).
    frame["h"] = (frame["e"] - frame["s"]) if by_day else (frame["e"] - frame["t"])
    frame["r"] = frame["region"].fillna(FULL_DISK).astype(np.int64)
    for col in ("h", "convention"):
        if frame[col].nunique() != 1:
            raise InputFileError(path, f"rows mix {col} values {sorted(map(str, frame[col].unique()))}: score "
                                 "each horizon and class convention separately")
    horizon, convention = frame["h"].iloc[0].to_timedelta64(), str(frame["convention"].iloc[0])
    if by_day:
        horizon = np.timedelta64(24, "h")  # persistence's look-back for a model of forecast days
    targets = tuple(frame["target"].unique())
    frame["degraded"] = frame["degraded"].fillna(False).astype(bool) if "degraded" in frame else False
    # Degraded rows come from other models or rules with their own thresholds: the file is scored at the
    # thresholds and base rates of its own model's rows.
    own = frame[~frame["degraded"]] if (~frame["degraded"]).any() else frame
    per_target = own.groupby("target")[["threshold", "base_rate"]].nunique()
    if (per_target > 1).any(axis=None):
        raise SampleError(f"{path}: rows of one target carry several thresholds or base rates (forecasts of several "
                          "models); backtest one model's forecasts at a time")
    if frame.duplicated(["t", "r", "target"]).any():
        raise InputFileError(path, "holds some (issue_time, region, target) twice: remove the overlapping rows")
    table = frame.pivot(index=["t", "r"], columns="target", values="probability")[list(targets)]
    if table.isna().any(axis=None):
        raise InputFileError(path, f"some issue times lack a row for one of the targets {list(targets)}")
    degraded = frame.pivot(index=["t", "r"], columns="target", values="degraded").any(axis=1).to_numpy(bool)
    issue = table.index.get_level_values("t").to_numpy("datetime64[ns]")
    region = table.index.get_level_values("r").to_numpy(np.int64)

    cat = Catalogue.from_events(st.read_events(store))
    first, last = cat.span
    lo = frame.pivot(index=["t", "r"], columns="target", values="s")[list(targets)].to_numpy("datetime64[ns]")
    hi = frame.pivot(index=["t", "r"], columns="target", values="e")[list(targets)].to_numpy("datetime64[ns]")
    inside = (issue - horizon >= first) & (hi.max(axis=1) <= last)
    issue, region, prob, degraded = issue[inside], region[inside], table.to_numpy(np.float64)[inside], degraded[inside]
    lo, hi = lo[inside], hi[inside]
    ars = {int(r): list(a) for r, a in zip(frame["r"], frame["noaa_ars"], strict=True)}
    _, prev_flux = labels.label_fluxes(cat, issue, horizon, region, ars)
    rank = classes.ordinal(labels.window_fluxes(cat, lo, hi, region, ars), convention)  # [window, target]
    first_rows = own.drop_duplicates("target").set_index("target")
    clim = {t: float(first_rows.loc[t, "base_rate"]) for t in targets}
    sharp = bool((region != FULL_DISK).any())
    fc = Forecasts(
        targets, issue, region, region if sharp else issue.astype("datetime64[D]").astype(np.int64),
        "region (HARP)" if sharp else "UTC day",
        np.stack([rank[:, j] >= classes.target_rank(t) for j, t in enumerate(targets)], axis=1).astype(np.int8),
        {"model": prob,
         "climatology": np.stack([baselines.climatology(issue.size, clim[t]) for t in targets], axis=1),
         "persistence": np.stack([baselines.persistence(prev_flux, t, convention) for t in targets], axis=1)},
        method_thresholds({t: float(first_rows.loc[t, "threshold"]) for t in targets}),
        clim, windows=(lo, hi),
    )
    notes = ["logistic and trees baselines omitted: a forecast file does not carry the model's training windows"]
    if degraded.any():
        notes.append(f"{int(degraded.sum())} of {issue.size} windows are degraded (forecast by a fallback); "
                     "`targets` scores every window, `targets_undegraded` only the model's own")
    return Metrics.build(
        file=str(path), store=str(store), model_ids=sorted(map(str, frame["model_id"].unique())), loss=None,
        split="backtest", period={"from": iso(issue.min()) if issue.size else None,
                                  "to": iso(issue.max()) if issue.size else None},
        n_windows=int(issue.size), source="sharp" if sharp else "goes", convention=convention,
        climatology=clim, bootstrap=Bootstrap.of(fc, n_boot=n_boot, seed=seed),
        thresholds=fc.thresholds, baselines={"logistic": None, "trees": None},
        dropped={"beyond_catalogue": int((~inside).sum())}, notes=notes,
        degraded={"windows": int(degraded.sum()),
                  "by_method": frame[frame["degraded"]].drop_duplicates(["t", "r"])["method"].value_counts()
                  .to_dict() if degraded.any() else {}},
        targets=score_forecasts(fc, n_boot=n_boot, seed=seed),
        **({"targets_undegraded": score_forecasts(_subset(fc, ~degraded), n_boot=n_boot, seed=seed)}
           if degraded.any() else {}))


def _subset(fc, keep: np.ndarray):
    """The windows ``keep`` of a :class:`~flarecast.evaluate.Forecasts`."""
    return replace(fc, issue_time=fc.issue_time[keep], region=fc.region[keep], group=fc.group[keep], y=fc.y[keep],
                   probs={k: v[keep] for k, v in fc.probs.items()},
                   windows=None if fc.windows is None else tuple(w[keep] for w in fc.windows))

