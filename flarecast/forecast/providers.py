"""Score several forecasters' files on the same days, with the same metrics and intervals, and compare them pairwise.

Files: flarecast's own forecasts (JSON document or CSV), the CCMC flare scoreboard's JSON
(:mod:`flarecast.forecast.ccmc`), NOAA SWPC's ``solar_probabilities.json`` (:mod:`flarecast.forecast.swpc`; all
such files given are one forecaster, SWPC, its days merged from all of them), or any provider's CSV with the
columns ``issue_time,target,probability`` and optionally ``region`` and ``valid_to`` (else ``valid_to =
issue_time + horizon``). Targets are ``>=C``, ``>=M``, ``X`` (``C+``/``CPlus``, ``M+``/``MPlus`` are read as the
first two). Only full-disk forecasts are scored: an issue
time given by regions alone is combined into ``1 - prod(1 - p_i)``.

Same days: each file keeps its first issue time of each UTC day; the days scored are those every file forecasts
(and whose windows the catalogue covers), per target. Each file is labelled by its own windows (largest flare
peaking in (issue_time, valid_to]), so providers issuing at different hours are each judged on what they claimed.
Scores are those of ``flarecast evaluate``, with intervals from resampling whole days; every file is resampled with
the same days (same seed, same day order), so the paired differences in Brier skill score and TSS have paired
bootstrap intervals: the difference of the two files' scores in each resample. The Brier skill score's reference is
one constant per target for every file: the event rate over the scored days (the sample climatology). Decisions use
a flarecast file's own thresholds and ``threshold`` (default 0.5) for other providers.

:func:`score_forecast_files` is what ``flarecast evaluate --forecasts`` runs: a backtest of one flarecast file,
else :func:`score_files`.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import InputFileError, ModelError
from flarecast.evaluate.bootstrap import replicate_interval, score_with_replicates
from flarecast.forecast.ccmc import read_ccmc
from flarecast.forecast.files import ROW_FIELDS, backtest, read_forecasts
from flarecast.forecast.numbers import check_provider
from flarecast.forecast.swpc import is_swpc_probabilities, read_swpc
from flarecast.ingest import store as st
from flarecast.metrics import UndefinedScoreWarning
from flarecast.model.documents import Scores
from flarecast.safeio import JSON_BYTES, read_text
from flarecast.samples import labels

if TYPE_CHECKING:
    from flarecast.model.documents import Metrics
from flarecast.samples.labels import Catalogue
from flarecast.util import iso

TARGET_ALIASES = {">=C": ">=C", "C+": ">=C", "CPlus": ">=C", ">=M": ">=M", "M+": ">=M", "MPlus": ">=M", "X": "X",
                  "X+": "X"}
PAIRED = ("bss", "tss")


def read_provider(path: str | Path | Sequence[str | Path], *,
                  horizon: str = "24h") -> tuple[pd.DataFrame, dict[str, float], str | None]:
    """One forecaster's full-disk forecasts ``t, day, valid_to, target, probability`` (one row per UTC day and
    target), the thresholds and class convention it carries (flarecast files; empty and None for others).

    ``path``: one file, or a list of files that are one forecaster (SWPC's, :func:`forecasters`).
    """
    paths = [Path(p) for p in path] if isinstance(path, list | tuple) else [Path(path)]
    if not paths:
        raise InputFileError("--forecasts", "no file given; expected a forecast file (.json or .csv)")
    path = next((p for p in paths if not p.is_file()), paths[0])
    if not path.is_file():
        raise InputFileError(path, "no such file; expected a forecast file (.json or .csv)")
    for p in paths:  # every reader below may take the file as text: refuse what is not, in one line
        if not read_text(p, limit=JSON_BYTES).strip():
            raise InputFileError(p, "is empty; expected a forecast file (.json or .csv)")
    thresholds: dict[str, float] = {}
    convention = None
    if is_swpc_probabilities(path):
        frame = read_swpc(paths).assign(region=np.nan)
    elif len(paths) > 1:
        raise InputFileError(path, "only SWPC's solar_probabilities files are read together as one forecaster; "
                             "give the others one by one")
    elif path.suffix == ".json" and "forecast_submission" in path.read_text()[:4096]:
        frame = read_ccmc(path)
    elif path.suffix == ".json" or (path.suffix == ".csv" and set(ROW_FIELDS) <= set(_header(path))):
        rows = read_forecasts(path)
        frame = pd.DataFrame(rows)[["issue_time", "valid_to", "target", "probability", "region"]]
        own = [r for r in rows if not r.get("degraded", False)] or rows
        thresholds = {r["target"]: float(r["threshold"]) for r in own}
        convention = rows[0]["convention"] if rows else None
    elif path.suffix == ".csv":
        frame = _plain_csv(path, horizon)
    else:
        raise InputFileError(path, "expected a .json (flarecast or CCMC scoreboard) or .csv forecast file")
    if frame.empty:
        raise InputFileError(path, "holds no forecast row")
    frame["target"] = frame["target"].map(first_day)
    thresholds = {first_day(t): v for t, v in thresholds.items()}
    frame["t"] = _utc(frame["issue_time"], path)
    frame["valid_to"] = _utc(frame["valid_to"], path)
    frame["region"] = pd.to_numeric(frame["region"], errors="coerce")
    full = frame[frame["region"].isna()]
    by_regions = frame[frame["region"].notna() & ~frame.set_index(["t", "target"]).index.isin(
        full.set_index(["t", "target"]).index)]
    if not by_regions.empty:  # issue times given by regions alone: the disk flares if any region does
        combined = (by_regions.assign(q=1.0 - by_regions["probability"])
                    .groupby(["t", "valid_to", "target"], as_index=False)["q"].prod())
        full = pd.concat([full, combined.assign(probability=1.0 - combined["q"]).drop(columns="q")])
    full = full.sort_values("t").assign(day=lambda f: f["t"].dt.floor("D"))
    return full.drop_duplicates(["day", "target"])[["t", "day", "valid_to", "target", "probability"]], thresholds, \
        convention


def score_files(paths: Sequence[str | Path], *, store: str | Path, threshold: float = 0.5, horizon: str = "24h",
                n_boot: int = 1000, seed: int = 0) -> Scores:
    """Scores of each file on the days all files forecast, and paired differences against the first file
    (``scores.json``).

    Raises
    ------
    InputFileError
        A file cannot be read, or holds probabilities outside [0, 1] or unknown targets.
    ModelError
        The files share no target, or fewer than two common days.
    """
    groups = forecasters(paths)
    read = [(g, *read_provider(g, horizon=horizon)) for g in groups]
    files = [(g, f, thr) for g, f, thr, _ in read]
    # Providers other than flarecast publish classes as NOAA does: SWPC-scaled before GOES-16.
    convention = next((c for *_, c in read if c is not None), "swpc")
    names = _names(groups)
    cat = Catalogue.from_events(st.read_events(store)).one_per_peak()
    shared = set.intersection(*(set(f["target"]) for _, f, _ in files))
    targets = sorted(shared, key=lambda t: (classes.split_target(t)[1], classes.target_rank(t)))
    if not targets:
        raise ModelError(f"the files share no target: {[sorted(set(f['target'])) for _, f, _ in files]}")
    scored: dict[str, Any] = {}
    for target in targets:
        per = [f[f["target"] == target].set_index("day") for _, f, _ in files]
        days = sorted(set.intersection(*(set(p.index) for p in per)))
        per = [p.loc[days] for p in per]
        inside = np.all([(p["t"] >= cat.span[0]) & (p["valid_to"] <= cat.span[1]) for p in per], axis=0)
        per = [p[inside] for p in per]
        if len(per[0]) < 2:
            raise ModelError(f"target {target}: the files share {len(per[0])} day(s) inside the catalogue "
                             f"({iso(cat.span[0])} to {iso(cat.span[1])}); paired scores need at least 2")
        group = per[0].index.to_numpy("datetime64[D]").astype(np.int64)
        ys = [(classes.ordinal(labels.range_max(cat.peak, cat.flux, p["t"].to_numpy("datetime64[ns]"),
                                                p["valid_to"].to_numpy("datetime64[ns]")), convention)
               >= classes.target_rank(target)).astype(np.int8) for p in per]
        clim = float(np.mean(np.concatenate(ys)))
        entry: dict[str, Any] = {"days": len(group), "from": iso(per[0]["t"].min()), "to": iso(per[0]["t"].max()),
                                 "positives": {n: int(y.sum()) for n, y in zip(names, ys, strict=True)},
                                 "base_rate": clim, "scores": {}, "paired": []}
        reps = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedScoreWarning)
            for n, (_, _, thr), p, y in zip(names, files, per, ys, strict=True):
                probs = p["probability"].to_numpy(np.float64)
                cut = thr.get(target, threshold)
                entry["scores"][n], reps[n] = score_with_replicates(y, probs, group, threshold=cut, climatology=clim,
                                                                    n_boot=n_boot, seed=seed)
            for n in names[1:]:
                entry["paired"].append({"a": names[0], "b": n, **{
                    m: {"value": _diff(entry["scores"][names[0]][m]["value"], entry["scores"][n][m]["value"]),
                        "ci": list(replicate_interval(m, reps[names[0]][m] - reps[n][m]))} for m in PAIRED}})
        scored[target] = entry
    return Scores.build(
        files=[{"file": str(g[0]), **({"files": [str(p) for p in g]} if len(g) > 1 else {}), "name": n,
                "rows": int(f.shape[0]), "thresholds": thr or None} for (g, f, thr), n in zip(files, names, strict=True)],
        store=str(store), reference=names[0],
        bootstrap={"unit": "UTC day", "n_boot": n_boot, "level": 0.95, "seed": seed},
        convention=convention, targets=scored, notes=[])


def first_day(target: str) -> str:
    """A target's name for pairing: day 1's is the bare class (``X@d1`` -> ``X``), a forecaster's first window,
    as SWPC's day 1 and flarecast's 24 h forecasts are named; other days keep theirs (``X@d2``)."""
    cls, day = classes.split_target(target)
    return cls if day <= 1 else target


def score_forecast_files(paths: Sequence[str | Path], *, store: str | Path, threshold: float = 0.5,
                         horizon: str = "24h", out: str | Path | None = None, n_boot: int = 1000,
                         seed: int = 0) -> Metrics | Scores:
    """What ``flarecast evaluate --forecasts`` scores: one flarecast forecast file is backtested
    (:func:`~flarecast.forecast.files.backtest`: a ``metrics.json``, with and without degraded rows);
    several files, or another provider's, are scored on the same days (:func:`score_files`). ``out``: a folder
    to write the result into, as ``metrics.json`` (backtest) or ``scores.json``.
    """
    from flarecast.jsonio import write_json

    paths = [Path(p) for p in paths]
    if len(paths) == 1 and is_flarecast_file(paths[0]):
        result, name = backtest(paths[0], store=store, n_boot=n_boot, seed=seed), "metrics.json"
    else:
        result, name = score_files(paths, store=store, threshold=threshold, horizon=horizon, n_boot=n_boot,
                                   seed=seed), "scores.json"
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_json(Path(out) / name, result)
    return result


def forecasters(paths: Sequence[str | Path]) -> list[list[Path]]:
    """The forecasters among ``paths``, in order: each file is one, except SWPC's ``solar_probabilities`` files,
    which are one together (the daily fetches of one forecast), in the place of the first of them."""
    groups: list[list[Path]] = []
    swpc: list[Path] | None = None
    for p in map(Path, paths):
        if not is_swpc_probabilities(p):
            groups.append([p])
        elif swpc is None:
            swpc = [p]
            groups.append(swpc)
        else:
            swpc.append(p)
    return groups


def is_flarecast_file(path: Path) -> bool:
    """A flarecast forecast file (its own JSON document or CSV), which a backtest reads; a missing file counts
    as one, so that the backtest names it."""
    if not path.is_file():
        return True
    head = path.read_text(errors="replace")[:4096]
    return '"flarecast-forecast/' in head if path.suffix == ".json" else head.startswith("issue_time,valid_to,")


def _plain_csv(path: Path, horizon: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype={"target": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(path, f"not a readable CSV ({' '.join(str(exc).split())[:160]})") from None
    lacking = [c for c in ("issue_time", "target", "probability") if c not in frame.columns]
    if lacking:
        raise InputFileError(path, f"no column(s) {lacking}; expected issue_time,target,probability[,region]")
    bad = sorted(t for t in set(frame["target"]) if _alias(t) is None)
    if bad:
        raise InputFileError(path, f"target(s) {bad}: expected one of {sorted(TARGET_ALIASES)}, optionally with a "
                             "forecast day such as 'X@d2'")
    frame["target"] = frame["target"].map(_alias)
    p = pd.to_numeric(frame["probability"], errors="coerce")
    if "valid_to" not in frame.columns:
        frame["valid_to"] = (_utc(frame["issue_time"], path) + pd.Timedelta(horizon)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if "region" not in frame.columns:
        frame["region"] = np.nan
    check_provider(frame.assign(record=[f"line {n}" for n in range(2, len(frame) + 2)]), path)
    frame["probability"] = p
    return frame[["issue_time", "valid_to", "target", "probability", "region"]]


def _alias(target: str) -> str | None:
    """flarecast's name of a provider's target (``M+`` -> ``>=M``, ``MPlus@d2`` -> ``>=M@d2``); None if unknown."""
    cls, mark, day = str(target).partition(classes.DAY_MARK)
    name = TARGET_ALIASES.get(cls)
    if name is None or (mark and not (day.isdigit() and int(day) >= 1)):
        return None
    return name + mark + day


def _header(path: Path) -> list[str]:
    with open(path, newline="") as fh:
        return next(csv.reader(fh), [])


def _utc(values: pd.Series, path: Path) -> pd.Series:
    try:
        return pd.to_datetime(values, utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    except (ValueError, TypeError) as exc:
        raise InputFileError(path, f"a time cannot be read ({exc}); expected UTC ISO times") from None


def _names(groups: list[list[Path]]) -> list[str]:
    stems = ["swpc" if is_swpc_probabilities(g[0]) else g[0].stem for g in groups]
    return stems if len(set(stems)) == len(stems) else [str(g[0]) for g in groups]


def _diff(a, b) -> float:
    return float(a) - float(b) if a is not None and b is not None else float("nan")

