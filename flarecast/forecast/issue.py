"""Forecasts on new data: probabilities for (t, t + horizon] at issue times t, from a model directory and a store.

The windows are built the way the model's training windows were: the card's sample config (channels,
cadence, window, resampling, history), the grid builders of :mod:`flarecast.samples.goes` and
:mod:`flarecast.samples.sharp`, and the card's normalisation statistics (never re-fitted on the new data).
Only the records the requested windows need are read, plus one step before them for the difference channels.
Files are written and read, and scored against a catalogue, by :mod:`flarecast.forecast.files`.

Refusals (:class:`ForecastRefusal`, nothing is forecast): an issue time outside the data (the window would
start before the first record, or t is after the last); a window whose missing fraction is over the card's
``samples.max_missing``; with ``skip_refused`` those issue times are listed in ``refused`` instead. Inputs
whose channels, cadence or units do not fit the card raise :class:`~flarecast.errors.ModelError`.

SHARP models forecast every region recorded at t whose records reach back a whole window (a younger region
is listed in ``refused`` as ``region_too_young`` and never raises); models with flare-history channels also read
the catalogue, which must start before the window's look-back and is taken as complete up to t.

Issue times lie on the model's step grid (multiples of the cadence since 1970-01-01 UTC), as training windows
did; others are refused with the two nearest grid times. The output is a plain document (schema
``flarecast/schemas/forecast.schema.json``); the same model and inputs give the same document.

>>> doc = forecast("models/latest", Inputs(store="data/store.zarr"), IssueTimes(latest=True))  # doctest: +SKIP
>>> doc["forecasts"][0]["probability"]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flarecast import __version__
from flarecast.classes import coherent
from flarecast.config import SampleConfig, is_common
from flarecast.errors import ConfigError, ModelError, SampleError
from flarecast.forecast import days
from flarecast.forecast.numbers import coherence
from flarecast.forecast.request import Inputs, IssueTimes, open_inputs
from flarecast.forecast.rows import make_row
from flarecast.ingest import store as st
from flarecast.ingest.columns import Columns, open_columns
from flarecast.model.card import ModelCard
from flarecast.model.modeldir import model_id
from flarecast.model.predictor import load_predictor
from flarecast.samples.at_times import windows_at
from flarecast.samples.features import uses_history
from flarecast.samples.goes import NEEDS_XRSA
from flarecast.samples.labels import FULL_DISK, Catalogue
from flarecast.util import duration, duration_text, iso, utc

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr

FORMAT = "flarecast-forecast/1"


class ForecastRefusal(SampleError):
    """An issue time cannot be forecast: outside the data, or too much input missing over its window."""


def forecast(model_dir: str | Path, inputs: Inputs, times: IssueTimes, *, skip_refused: bool = False,
             device: str = "cpu", batch_size: int = 512, trust_modified: bool = False) -> dict[str, Any]:
    """Forecast every target of a model at the requested issue times.

    Parameters
    ----------
    model_dir : str or Path
        Model directory written by ``flarecast train``.
    inputs : Inputs
        Store to read, or files (``goes``, ``events``, ``sharp``), which are then ingested into a temporary
        store first (:class:`~flarecast.forecast.request.Inputs`).
    times : IssueTimes
        Issue times: a list of UTC times (``at``), the latest time the data allow (``latest``), or every
        ``every`` (default: the config's stride) from ``start`` to ``end`` inclusive. Exactly one way
        (:class:`~flarecast.forecast.request.IssueTimes`).
    skip_refused : bool, keyword-only
        List refused issue times in ``refused`` and forecast the others, instead of raising.
    device : str, keyword-only
        ``cpu`` (the default: numpy, no torch; bit-reproducible), ``cuda`` or ``auto`` (torch).
    trust_modified : bool, keyword-only
        Use weights whose sha256 differs from the card's (refused otherwise); the document then says
        ``weights_modified: true``.

    Returns
    -------
    dict
        The forecast document (schema ``forecast.schema.json``): header, ``forecasts`` rows, ``refused``.

    Raises
    ------
    ForecastRefusal
        For the first refused issue time, unless ``skip_refused``.
    ModelError
        When the inputs' channels, cadence or units do not fit the model card.
    """
    # on the CPU numpy runs the network: a forecast never imports torch (two seconds of a cold start)
    predictor, card = load_predictor(model_dir, device=device, trust_modified=trust_modified)
    cfg = card_samples(card, model_dir)
    mid = model_id(model_dir, trust_modified=trust_modified)
    history = uses_history(cfg)
    given = inputs.files
    lacking = [k for k in (cfg.source, *(["events"] if history else [])) if inputs.store is None and not given[k]]
    if lacking and inputs.has_files:
        raise ConfigError(f"model {mid} reads {cfg.source} data{' and the flare catalogue' if history else ''}: "
                          f"add --{' --'.join(lacking)} FILES")
    with open_inputs(inputs) as path:
        data = read_input(path, "goes") if cfg.source == "goes" else st.read_sharp(path)
        check_units(data, cfg)
        cat = Catalogue.from_events(read_input(path, "events")) if history else None
        first, last = data_span(data, cfg)
        issue = issue_times(cfg, first, last, times)
        win = windows_at(data, cat, cfg, issue, norm=card.norm(), data_start=first, data_end=last)
        inputs = {g: _fingerprint(path, g) for g in (cfg.source, "events") if g == cfg.source or cat is not None}
    strict = [r for r in win.refused if r["reason"] != "region_too_young"]
    if strict and not skip_refused:
        r = strict[0]
        raise ForecastRefusal(f"issue time {r['issue_time']}{_region_text(r['region'])}: {r['detail']} "
                              f"({len(strict)} refusals, {issue.size} issue times); forecast other times, or "
                              "pass --skip-refused to list refusals and forecast the rest")
    probs, lowered = coherent(predictor(win, np.arange(win.end_index.size), batch_size), card.targets)
    horizon = pd.Timedelta(cfg.horizon).to_timedelta64()
    rows = [make_row(win.issue_time[i], horizon, target, probs[i, j], threshold=card.threshold(target),
                     window=days.window(cfg, win.issue_time[i], target) if cfg.days else None,
                     base_rate=card.base_rate(target), coverage=round(float(win.coverage[i]), 4), model_id=mid,
                     convention=cfg.convention, region=None if win.region[i] == FULL_DISK else int(win.region[i]),
                     noaa_ars=win.noaa_ars[i])
            for i in range(win.issue_time.size) for j, target in enumerate(card.targets)]
    return {
        "format": FORMAT, "flarecast_version": __version__, "model_id": mid, "loss": card.loss,
        "source": cfg.source, "convention": cfg.convention, "cadence": cfg.cadence, "window": cfg.window,
        "horizon": cfg.horizon, "channels": list(card.channels), "targets": list(card.targets),
        "thresholds": dict(card.thresholds), "climatology": dict(card.climatology),
        "max_missing": cfg.max_missing, "inputs": inputs, "issue_times": int(issue.size),
        "forecasts": rows, "refused": win.refused, **({"weights_modified": True} if card.weights_modified else {}),
        **({"coherence": coherence({}, lowered)} if lowered else {}),
    }


def card_samples(card: ModelCard, model_dir: str | Path) -> SampleConfig:
    """The sample config of a card, checked against the card's own channel list (its window is its config's)."""
    cfg = card.run_config(str(Path(model_dir) / "card.json")).samples
    bad = card.input_mismatch(channels=list(cfg.channels))
    if bad:
        raise ModelError(f"{model_dir}: card {bad[0]} = {bad[1]!r} but its config gives {bad[2]!r}; the card "
                         "was edited or is corrupt: retrain the model")
    return cfg


def read_input(store: Path, group: str) -> xr.Dataset | Columns:
    """The GOES or events group a forecast reads, through zarr alone (:func:`~flarecast.ingest.columns.open_columns`:
    no xarray objects, so no dask in a cold start, and of the GOES series only the rows its windows select) when
    the group is in the store's plain layout, else through the store's reader; both give the same values."""
    cols = open_columns(store, group)
    return cols if cols is not None else st.read_group(store, group)


def check_units(data: xr.Dataset | Columns, cfg: SampleConfig) -> None:
    """Refuse inputs whose flux or keyword units differ from those the model was trained on (the store's own)."""
    if cfg.source == "goes":
        want = {"xrsb": "W m-2", **({"xrsa": "W m-2"} if set(cfg.channels) & set(NEEDS_XRSA) else {})}
        basis = data.attrs.get("flux_basis", "true")
        if basis != "true":
            raise ModelError(f"GOES inputs have flux_basis {basis!r}; the model was trained on true irradiance: "
                             "re-ingest the files with flarecast (it converts to the true basis)")
    else:
        from flarecast.ingest.readers.sharp import KEYWORD_UNITS  # astropy: imported for SHARP inputs only

        want = {c.removeprefix("log_"): KEYWORD_UNITS.get(c.removeprefix("log_")) for c in cfg.channels
                if not is_common(c)}
    for name, unit in want.items():
        if name not in data.variables:
            raise ModelError(f"the model's channels {list(cfg.channels)} need {name!r}, which the inputs lack: "
                             f"use inputs with {name!r}, or a model trained without it")
        have = data[name].attrs.get("units")
        if unit is not None and have != unit:
            raise ModelError(f"input {name!r} is in {have!r}; the model expects {unit!r}: convert the inputs or "
                             "re-ingest them with flarecast's readers")


def data_span(data: xr.Dataset | Columns, cfg: SampleConfig) -> tuple[np.datetime64, np.datetime64]:
    """First record time and the time the last record's interval ends (GOES times stamp interval starts)."""
    t = np.sort(np.asarray(data["time"].values, dtype="datetime64[ns]")) if cfg.source == "sharp" else \
        np.asarray(data["time"].values, dtype="datetime64[ns]")
    if t.size < 2:
        raise SampleError(f"the inputs hold {t.size} {cfg.source.upper()} records: expected at least one window")
    native = np.median(np.diff(t[-1000:]).astype(np.int64)).astype("timedelta64[ns]")
    step = pd.Timedelta(cfg.cadence).to_timedelta64()
    if native > step:
        raise ModelError(f"the inputs' cadence {duration_text(native)} is coarser than the model's "
                         f"{cfg.cadence}: use inputs at {cfg.cadence} or finer, or a model trained at their cadence")
    return t[0], t[-1] + (native if cfg.source == "goes" else np.timedelta64(0, "ns"))


def issue_times(cfg: SampleConfig, data_start, data_end, times: IssueTimes) -> np.ndarray:
    """Issue times on the model's step grid, sorted and unique; ``latest`` is the last step end the data reach."""
    at, latest, start, end, every = times.at, times.latest, times.start, times.end, times.every
    step = pd.Timedelta(cfg.cadence).value
    ways = [bool(at), latest, start is not None or end is not None]
    if sum(ways) != 1:
        raise ConfigError("choose issue times one way: --at T, --latest, or --from T --to T [--every DT]")
    if latest:
        return np.array([np.datetime64(data_end, "ns").astype(np.int64) // step * step], dtype="datetime64[ns]")
    if at:
        times = np.array([_on_grid(utc(a, what="--at"), step, "--at") for a in at], dtype="datetime64[ns]")
        return np.unique(times)
    if start is None or end is None:
        raise ConfigError("--from and --to go together: give both (and optionally --every)")
    t0, t1 = _on_grid(utc(start, what="--from"), step, "--from"), utc(end, what="--to")
    every_td = duration(every or cfg.stride, what="--every")
    if every_td.value % step:
        raise ConfigError(f"--every {every}: not a multiple of the model's cadence {cfg.cadence}")
    if t1 < t0:
        raise ConfigError(f"--to {end} is before --from {start}")
    return np.arange(t0, t1 + np.timedelta64(1, "ns"), every_td.to_timedelta64()).astype("datetime64[ns]")


def _on_grid(t: np.datetime64, step: int, name: str) -> np.datetime64:
    v = t.astype(np.int64)
    if v % step:
        lo = np.datetime64(int(v // step * step), "ns")
        raise ConfigError(f"{name} {iso(t)} is not on the model's step grid ({duration_text(step)} steps): use "
                          f"{iso(lo)} or {iso(lo + np.timedelta64(step, 'ns'))}")
    return t


def _fingerprint(store: Path, group: str) -> dict[str, Any]:
    prov = st.provenance(st.group_attrs(store, group))
    digest = hashlib.sha256("".join(sorted(p["sha256"] for p in prov)).encode()).hexdigest()[:16]
    return {"files": len(prov), "fingerprint": digest}


def _region_text(region) -> str:
    return "" if region is None else f" (HARP {region})"


