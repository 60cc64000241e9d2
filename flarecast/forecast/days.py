"""Forecast days in forecast documents: each row's window, and the 3-day table SWPC's forecasters read.

A model trained with ``samples.days`` (targets ``>=C@d1`` ... ``X@d3``) forecasts each class on each day; its
rows carry the day's window, ``valid_from`` to ``valid_to``, the same interval its labels were made on
(:func:`flarecast.samples.labels.day_windows`): with ``day_windows: ut``, an issue at 22:00 UT on the 21st gives
day 1 = the 22nd 00-24 UT. A model of one horizon has one window, (t, t + horizon], and its targets count as day 1.

>>> table = day_table(doc)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from flarecast.classes import split_target, target_rank
from flarecast.config import SampleConfig
from flarecast.samples.labels import day_windows
from flarecast.util import iso

CLASS_NAMES = {">=C": "C", ">=M": "M", "X": "X"}
"""A target's class as the 3-day table names it (SWPC's "Class M")."""


def window(cfg: SampleConfig, issue: np.datetime64, target: str) -> tuple[str, str]:
    """``(valid_from, valid_to)`` of ``target``'s forecast issued at ``issue`` (ISO strings, UTC): the window its
    label covers, ``(valid_from, valid_to]``."""
    _, day = split_target(target)
    issue = np.datetime64(issue, "ns")
    if not day:
        return iso(issue), iso(issue + cfg.horizon_length)
    lo, hi = day_windows(np.array([issue]), day, cfg.day_windows)
    return iso(lo[0, day - 1]), iso(hi[0, day - 1])


def day_table(doc: dict[str, Any], issue_time: str | None = None) -> dict[str, Any]:
    """The full-disk probabilities of one issue time (default: the latest) as SWPC's 3-day table: one row per
    class (C, M, X), one column per forecast day, named by its window.

    Returns ``{"issue_time", "days": [{"day", "from", "to"}], "rows": [{"class", "probabilities": [p or None]}]}``.
    """
    rows = [r for r in doc["forecasts"] if r["region"] is None]
    if not rows:
        return {"issue_time": None, "days": [], "rows": []}
    issue_time = issue_time or max(r["issue_time"] for r in rows)
    mine = [r for r in rows if r["issue_time"] == issue_time]
    days: dict[int, tuple[str, str]] = {}
    cells: dict[tuple[str, int], float] = {}
    for r in mine:
        cls, day = split_target(r["target"])
        day = max(day, 1)
        days.setdefault(day, (r.get("valid_from") or r["issue_time"], r["valid_to"]))
        cells[(cls, day)] = float(r["probability"])
    order = sorted(days)
    classes = sorted({split_target(r["target"])[0] for r in mine}, key=target_rank)
    return {"issue_time": issue_time,
            "days": [{"day": d, "from": days[d][0], "to": days[d][1]} for d in order],
            "rows": [{"class": CLASS_NAMES[c], "probabilities": [cells.get((c, d)) for d in order]} for c in classes]}


def format_day_table(table: dict[str, Any]) -> str:
    """The table as text, percentages as SWPC prints them::

        issued 2024-12-21T22:00:00Z   Dec 22   Dec 23   Dec 24
        Class C                          99%      95%      90%
    """
    if not table["rows"]:
        return "no full-disk forecast"
    heads = [_day_name(d) for d in table["days"]]
    first = f"issued {table['issue_time']}"
    width = max(len(first), 8)
    lines = [first.ljust(width) + "".join(h.rjust(9) for h in heads)]
    for row in table["rows"]:
        cells = ["-" if p is None else f"{round(100 * p):d}%" for p in row["probabilities"]]
        lines.append(f"Class {row['class']}".ljust(width) + "".join(c.rjust(9) for c in cells))
    return "\n".join(lines)


def _day_name(day: dict[str, Any]) -> str:
    """A UT day as ``Dec 22``; a window that is not one UT day as its length after issue (``+24h``)."""
    start, end = pd.Timestamp(day["from"]), pd.Timestamp(day["to"])
    if start == start.normalize() and end - start == pd.Timedelta(days=1):
        return start.strftime("%b %d")
    return f"day {day['day']}"
