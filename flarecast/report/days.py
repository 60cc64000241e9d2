"""SWPC's 3-day table from a forecast document: one row per class, one column per forecast day.

A model trained with ``samples.days`` forecasts ``>=C@d1`` ... ``X@d3``; its rows carry each day's window
(``valid_from``, ``valid_to``: :func:`flarecast.forecast.days.window`). The table shows one issue time's
full-disk probabilities as SWPC's forecasters read them ("Class M 60% 55% 50%"). A model of one horizon has one
column, its window (t, t + horizon].

>>> print(format_day_table(day_table(doc)))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flarecast.classes import split_target, target_rank
from flarecast.report.formats import forecast_pct

CLASS_NAMES = {">=C": "C", ">=M": "M", "X": "X"}
"""A target's class as the 3-day table names it (SWPC's "Class M")."""


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
    heads = [day_name(d) for d in table["days"]]
    first = f"issued {table['issue_time']}"
    width = max(len(first), 8)
    lines = [first.ljust(width) + "".join(h.rjust(9) for h in heads)]
    for row in table["rows"]:
        cells = [forecast_pct(p) for p in row["probabilities"]]
        lines.append(f"Class {row['class']}".ljust(width) + "".join(c.rjust(9) for c in cells))
    return "\n".join(lines)


def day_name(day: dict[str, Any]) -> str:
    """A UT day as ``Dec 22``; a window that is not one UT day as its length after issue (``+24h``)."""
    start, end = pd.Timestamp(day["from"]), pd.Timestamp(day["to"])
    if start == start.normalize() and end - start == pd.Timedelta(days=1):
        return start.strftime("%b %d")
    return f"day {day['day']}"
