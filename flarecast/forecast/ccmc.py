"""The CCMC flare scoreboard's JSON: write a forecast document as submissions, read other forecasters' ones.

One submission per issue time, with one forecast per prediction window: (t, t + horizon], or, for a model of
forecast days (``X@d2``, :mod:`flarecast.samples.labels`), each day's window as its rows say (``valid_from``,
``valid_to``), day 1 first; a reader takes a submission's k-th window (by start) as day k. Each holds the
full-disk probabilities and each region's, in the scoreboard's bins (``flarecast/schemas/ccmc-flare-scoreboard.schema.json`` says what the layout
is based on). flarecast's targets map onto the cumulative bins: ``>=C`` is ``CPlus``, ``>=M`` is ``MPlus``, ``X``
is ``X``; the exclusive bins follow by difference (``M = MPlus - X``, ``C = CPlus - MPlus``, floored at 0, since
separate sigmoid heads need not be monotone) where both ends are forecast, and are null otherwise: a bin the model
does not forecast is unknown, not 0. A SHARP model's full-disk entry is its regions combined,
``1 - prod(1 - p_i)`` (:func:`flarecast.forecast.combine.regions_to_full_disk`).

>>> doc = forecast("models/latest", Inputs(store="data/store.zarr"), IssueTimes(latest=True))  # doctest: +SKIP
>>> write_ccmc(doc, "runs/ccmc.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd

from flarecast.classes import day_target, split_target
from flarecast.errors import ConfigError, ImpossibleNumberError, InputFileError, ParseError
from flarecast.forecast.combine import regions_to_full_disk
from flarecast.forecast.numbers import TOL, check_provider, check_rows
from flarecast.jsonio import dumps
from flarecast.safeio import load_json
from flarecast.util import atomic_write_bytes

SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "ccmc-flare-scoreboard.schema.json"
BINS = {">=C": "CPlus", ">=M": "MPlus", "X": "X"}
"""flarecast target -> the scoreboard's cumulative bin."""
SHORT_NAME = "flarecast"


def to_ccmc(doc: dict[str, Any], *, mode: str = "forecast", short_name: str = SHORT_NAME) -> list[dict[str, Any]]:
    """The scoreboard submissions of a forecast document, one per issue time with a forecast."""
    if mode not in ("forecast", "historical"):
        raise ConfigError(f"mode {mode!r}: expected 'forecast' or 'historical'")
    by_time: dict[str, list[dict[str, Any]]] = {}
    for r in doc["forecasts"]:
        by_time.setdefault(r["issue_time"], []).append(r)
    regional = doc["source"] == "sharp"
    full = regions_to_full_disk(doc, list(by_time)) if regional else {}
    out = []
    for t, rows in by_time.items():
        windows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in rows:
            windows.setdefault((_z(r.get("valid_from") or t), _z(r["valid_to"])), []).append(r)
        out.append({"forecast_submission": {
            "model": {"short_name": short_name, "spase_id": None, "model_id": doc["model_id"]},
            "issue_time": _z(t), "mode": mode,
            "forecasts": [_window(t, start, end, own, full if regional else None)
                          for (start, end), own in sorted(windows.items())],
        }})
    return out


def _window(t: str, start: str, end: str, rows: list[dict[str, Any]], full: dict | None) -> dict[str, Any]:
    """One prediction window's forecast: its rows' classes in the scoreboard's bins (``X@d2`` is ``X``)."""
    fd = [r for r in rows if r["region"] is None]
    if full is not None:
        names = {r["target"] for r in rows}
        full_disk = {"probabilities": _bins({_class(g): full[(t, g)] for g in names}), "degraded": False,
                     "method": "regions"}
    elif fd:
        full_disk = {"probabilities": _bins({_class(r["target"]): r["probability"] for r in fd}),
                     "degraded": any(r.get("degraded", False) for r in fd), "method": fd[0].get("method", "model")}
    else:
        full_disk = None
    regions = []
    for region in sorted({r["region"] for r in rows if r["region"] is not None}):
        own = [r for r in rows if r["region"] == region]
        ars = list(own[0]["noaa_ars"])
        regions.append({"noaa_ar": ars[0] if ars else None, "noaa_ars": ars, "harp": region,
                        "probabilities": _bins({_class(r["target"]): r["probability"] for r in own})})
    return {"event_type": "flare", "prediction_window": {"start": start, "end": end}, "full_disk": full_disk,
            "regions": regions}


def _class(target: str) -> str:
    return split_target(target)[0]


def write_ccmc(doc: dict[str, Any], path: str | Path, *, mode: str = "forecast") -> Path:
    """Write the submissions (one object for one issue time, else an array), validated against the schema."""
    path = Path(path)
    if path.suffix != ".json":
        raise ConfigError(f"--out {str(path)!r}: the scoreboard format is JSON; give a file name ending in .json")
    check_rows(doc["forecasts"], str(path))  # the last guard: no impossible number is written
    subs = to_ccmc(doc, mode=mode)
    if not subs:
        raise ConfigError("no forecast to write: every issue time was refused")
    check_bins(subs, str(path))
    body = subs[0] if len(subs) == 1 else subs
    validate_ccmc(body, what=str(path))
    atomic_write_bytes(path, (dumps(body) + "\n").encode())
    return path


def validate_ccmc(body: Any, *, what: str = "scoreboard JSON") -> None:
    """Raise :class:`~flarecast.errors.InputFileError` naming the first place ``body`` breaks the schema."""
    import jsonschema

    sch = json.loads(SCHEMA_PATH.read_text())
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(sch).iter_errors(body))
    if err is not None:
        where = "/".join(map(str, err.absolute_path)) or "top level"
        raise InputFileError(what, f"does not follow {SCHEMA_PATH.name} at {where}: {err.message}")


def read_ccmc(path: str | Path) -> pd.DataFrame:
    """Rows ``issue_time, valid_to, target, probability, region`` (region: HARP, else NOAA AR, else NaN for the
    full disk) of a scoreboard JSON file; ``CPlus``/``MPlus`` are summed from the exclusive bins when absent."""
    path = Path(path)
    try:
        body = load_json(path)
    except ParseError as exc:
        raise InputFileError(path, f"not a readable JSON file ({exc.reason})") from None
    validate_ccmc(body, what=str(path))
    rows, found = [], []
    for n, sub in enumerate(body if isinstance(body, list) else [body]):
        s = sub["forecast_submission"]
        starts = sorted({pd.Timestamp(f["prediction_window"]["start"]) for f in s["forecasts"]})
        for f in s["forecasts"]:
            start, end = f["prediction_window"]["start"], f["prediction_window"]["end"]
            day = starts.index(pd.Timestamp(start)) + 1  # the k-th window is day k; day 1 keeps the bare class
            entries = [(None, f["full_disk"]["probabilities"])] if f["full_disk"] else []
            entries += [(r["harp"] if r["harp"] is not None else r["noaa_ar"], r["probabilities"])
                        for r in f["regions"]]
            for region, bins in entries:
                record = f"submission {n} ({start}, {'full disk' if region is None else f'region {region}'})"
                total = sum(v for v in (bins.get("C"), bins.get("M"), bins.get("X")) if _number(v))
                if total > 1 + TOL:
                    found.append((record, f"the exclusive bins C, M, X sum to {total:.6g} > 1"))
                for target, p in _cumulative(bins).items():
                    name = target if day == 1 else day_target(target, day)
                    rows.append({"issue_time": start, "valid_to": end, "target": name, "probability": p,
                                 "issued": s["issue_time"],
                                 "region": region, "record": record})
    frame = pd.DataFrame(rows, columns=["issue_time", "valid_to", "target", "probability", "region", "record",
                                        "issued"])
    # Checked per submission: two issue times may forecast the same day's window with different numbers.
    check_provider(frame.assign(issue_time=frame["issued"]), path, found=found)
    return frame.drop(columns=["record", "issued"])


def check_bins(subs: list[dict[str, Any]], what: str) -> None:
    """The writer's last guard on scoreboard bins: each a number in [0, 1], the exclusive ones summing to at
    most 1, the cumulative ones in order (:mod:`flarecast.forecast.numbers`)."""
    for sub in subs:
        for f in sub["forecast_submission"]["forecasts"]:
            entries = ([f["full_disk"]] if f["full_disk"] else []) + list(f["regions"])
            for e in entries:
                bins = e["probabilities"]
                bad = [k for k, v in bins.items() if v is not None and not (_number(v) and 0 <= v <= 1)]
                total = sum(bins[k] or 0.0 for k in ("C", "M", "X"))
                order = [bins[k] for k in ("CPlus", "MPlus", "X") if bins[k] is not None]
                if bad or total > 1 + TOL or any(b > a + TOL for a, b in pairwise(order)):
                    raise ImpossibleNumberError(f"{what}: issue time {sub['forecast_submission']['issue_time']}: "
                                                f"bins {bins} are not possible probabilities; nothing was written "
                                                "(a bug: please report it)")


def _bins(p: dict[str, float]) -> dict[str, float | None]:
    c, m, x = p.get(">=C"), p.get(">=M"), p.get("X")
    return {"C": None if c is None or m is None else max(c - m, 0.0),
            "M": None if m is None or x is None else max(m - x, 0.0),
            "X": x, "CPlus": c, "MPlus": m}


def _cumulative(bins: dict[str, float | None]) -> dict[str, float]:
    x = bins["X"]
    m = bins["MPlus"] if bins["MPlus"] is not None else (None if bins["M"] is None or x is None else bins["M"] + x)
    c = bins["CPlus"] if bins["CPlus"] is not None else (None if bins["C"] is None or m is None else bins["C"] + m)
    return {t: v for t, v in ((">=C", c), (">=M", m), ("X", x)) if v is not None}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _z(t: str) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
