"""Only possible numbers: forecasts coherent across classes, a last check before any forecast is written, and
the same rules for other forecasters' files before they are scored.

The targets are nested (an X flare is at or above M, which is at or above C), so a forecast must say
``P(X) <= P(>=M) <= P(>=C)``, on each forecast day (``X@d2 <= >=M@d2``; days are not compared). A network's separate sigmoid heads, or a combination's separate regressions, need
not; :func:`make_coherent` makes every forecast document so by construction: a higher class's probability is
lowered to the next lower class's (never the other way, so no probability is raised by the rule), the decision
follows the new probability, and the document's ``coherence.lowered`` counts the rows changed.

:func:`check_rows` is the writers' last guard (JSON, CSV, CCMC scoreboard, SWPC provider CSV): a probability,
threshold, base rate or coverage that is not a finite number in [0, 1], a decision that is not ``probability >=
threshold``, or classes out of order raise :class:`~flarecast.errors.ImpossibleNumberError` and nothing is written:
such a number can only come from a bug, and is never clipped silently.

:func:`check_provider` is what every reader of ``evaluate --forecasts`` applies: a file with any record that
breaks these rules (a probability outside [0, 1] or not a number, ``valid_to`` not after ``issue_time``, one issue
time, region and target twice with different probabilities, classes out of order, CCMC exclusive bins summing past
1) is refused in one line that names the first such record and counts them all: it is never scored in part.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast.classes import TARGET_RANK, split_target, target_rank
from flarecast.errors import FlareClassError, ImpossibleNumberError, InputFileError

TOL = 1e-9
"""Slack for sums and differences of floats read back from text (C = CPlus - MPlus, ...)."""
ORDER = sorted(TARGET_RANK, key=TARGET_RANK.get)
"""Targets from the lowest class up: ``>=C``, ``>=M``, ``X``."""


def make_coherent(rows: list[dict[str, Any]]) -> int:
    """Lower each row's probability to the next lower class's forecast of the same forecast day at the same issue
    time and region (in place, with its decision); returns the number of rows lowered."""
    lowered = 0
    for group in _groups(rows).values():
        for chain in _chains(group):
            below = None
            for target in chain:
                r = group[target]
                if below is not None and r["probability"] > below:
                    r["probability"] = below
                    r["decision"] = below >= r["threshold"]
                    lowered += 1
                below = r["probability"]
    return lowered


def _chains(targets: Iterable[str]) -> list[list[str]]:
    """The target names grouped by forecast day (``X`` and ``X@d1`` apart), each from the lowest class up;
    names that are no target are left out (the readers refuse them)."""
    days: dict[str, list[str]] = {}
    for t in targets:
        try:
            cls, _ = split_target(t)
        except FlareClassError:
            continue
        days.setdefault(str(t)[len(cls):], []).append(t)
    return [sorted(names, key=target_rank) for _, names in sorted(days.items())]


def coherence(doc: dict[str, Any], lowered: int) -> dict[str, Any]:
    """The document's ``coherence`` entry after ``lowered`` more rows were lowered."""
    before = doc.get("coherence", {}).get("lowered", 0)
    return {"rule": "P(X) <= P(>=M) <= P(>=C): a higher class's probability is lowered to the lower class's",
            "lowered": before + lowered}


def check_rows(rows: Sequence[dict[str, Any]], what: str) -> None:
    """Raise :class:`~flarecast.errors.ImpossibleNumberError` at the first row that holds an impossible number
    (see the module docstring); ``what`` names the output."""
    for n, r in enumerate(rows):
        for key in ("probability", "threshold", "base_rate", "coverage"):
            if key in r and not _unit(r[key]):
                raise ImpossibleNumberError(f"{what}: row {n} ({r.get('issue_time')}, {r.get('target')}): {key} "
                                            f"{r[key]!r} is not a number in [0, 1]; nothing was written (a bug: "
                                            "please report it)")
        if "decision" in r and r["decision"] != (r["probability"] >= r["threshold"]):
            raise ImpossibleNumberError(f"{what}: row {n} ({r.get('issue_time')}, {r.get('target')}): decision "
                                        f"{r['decision']} but probability {r['probability']} and threshold "
                                        f"{r['threshold']}; nothing was written (a bug: please report it)")
    for (t, region), group in _groups(rows).items():
        bad = _disorder({k: v["probability"] for k, v in group.items()})
        if bad:
            raise ImpossibleNumberError(f"{what}: issue time {t}{'' if region is None else f' region {region}'}: "
                                        f"{bad[1]}; nothing was written (a bug: please report it)")


def check_provider(frame: pd.DataFrame, path: str | Path, *, found: Iterable[tuple[str, str]] = ()) -> None:
    """Refuse a forecaster's rows that break the rules of a probability forecast, in one line naming the first
    bad record and the count.

    ``frame``: ``issue_time, valid_to, target`` (``>=C``, ``>=M``, ``X``), ``probability``, ``region`` (NaN or
    None: full disk) and ``record`` (where the row is in the file, e.g. ``line 5``); ``found``: (record, problem)
    the reader found itself (CCMC bins summing past 1).
    """
    problems = list(found)
    for col in ("probability", "threshold", "base_rate"):
        if col not in frame:
            continue
        ok = pd.to_numeric(frame[col], errors="coerce").astype(float).between(0.0, 1.0)
        problems += [(rec, f"{col} {v!r} is not a number in [0, 1]{' (divide percentages by 100)' * _big(v)}")
                     for rec, v, good in zip(frame["record"], frame[col], ok, strict=True) if not good]
    p = pd.to_numeric(frame["probability"], errors="coerce").astype(float)
    start = pd.to_datetime(frame["issue_time"], utc=True, errors="coerce")
    end = pd.to_datetime(frame["valid_to"], utc=True, errors="coerce")
    for rec, a, b, early in zip(frame["record"], frame["issue_time"], frame["valid_to"], ~(end > start), strict=True):
        if early and not (pd.isna(a) or pd.isna(b)):
            problems.append((rec, f"valid_to {b} is not after issue_time {a}"))
    keyed = frame.assign(p=p, t=start, r=frame["region"].astype(object).where(frame["region"].notna(), None))
    for (t, r, target), g in keyed.groupby(["t", "r", "target"], dropna=False, sort=False):
        if g["p"].nunique(dropna=False) > 1:
            problems.append((g["record"].iloc[1], f"issue time {_t(t)}{_region(r)} target {target} "
                             f"is given {len(g)} times with different probabilities {sorted(set(g['p']))}"))
    for (t, r), g in keyed.groupby(["t", "r"], dropna=False, sort=False):
        bad = _disorder(dict(zip(g["target"], g["p"], strict=True)))
        if bad:  # named by the last row of the class that exceeds the one below it
            problems.append((g["record"][g["target"] == bad[0]].iloc[-1], f"{bad[1]} at issue time {_t(t)}{_region(r)}"))
    if problems:
        at = {rec: i for i, rec in reversed(list(enumerate(frame["record"])))}
        rec, what = min(problems, key=lambda pr: at.get(pr[0], -1))
        raise InputFileError(path, f"{len(problems)} impossible record(s) (probabilities outside [0, 1], classes out "
                             f"of order, a window ending before it starts, conflicting duplicates), none scored; "
                             f"first: {rec}: {what}; fix or remove them")


def _groups(rows: Sequence[dict[str, Any]]) -> dict[tuple[Any, Any], dict[str, dict[str, Any]]]:
    out: dict[tuple[Any, Any], dict[str, dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((r["issue_time"], r.get("region")), {})[r["target"]] = r
    return out


def _disorder(p: dict[str, float]) -> tuple[str, str] | None:
    """The first higher class whose probability exceeds the next lower class's, and how; None when in order."""
    for chain in _chains(p):
        known = [(t, p[t]) for t in chain if p[t] is not None and not _nan(p[t])]
        for (lo, a), (hi, b) in pairwise(known):
            if b > a + TOL:
                return hi, f"P({hi}) = {b} exceeds P({lo}) = {a}"
    return None


def _unit(v: Any) -> bool:
    return isinstance(v, int | float | np.floating) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _region(r: Any) -> str:
    return "" if r is None or _nan(r) else f" region {int(r) if float(r).is_integer() else r}"


def _t(t: Any) -> str:
    return str(t) if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def _big(v: Any) -> bool:
    try:
        return 1 < float(v) <= 100
    except (TypeError, ValueError):
        return False
