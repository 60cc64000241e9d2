"""Forecast days in forecast documents: each row's window (the 3-day table is :mod:`flarecast.report.days`).

A model trained with ``samples.days`` (targets ``>=C@d1`` ... ``X@d3``) forecasts each class on each day; its
rows carry the day's window, ``valid_from`` to ``valid_to``, the same interval its labels were made on
(:func:`flarecast.samples.labels.day_windows`): with ``day_windows: ut``, an issue at 22:00 UT on the 21st gives
day 1 = the 22nd 00-24 UT. A model of one horizon has one window, (t, t + horizon], and its targets count as day 1.
"""

from __future__ import annotations

import numpy as np

from flarecast.classes import split_target
from flarecast.config import SampleConfig
from flarecast.samples.labels import day_windows
from flarecast.util import iso


def window(cfg: SampleConfig, issue: np.datetime64, target: str) -> tuple[str, str]:
    """``(valid_from, valid_to)`` of ``target``'s forecast issued at ``issue`` (ISO strings, UTC): the window its
    label covers, ``(valid_from, valid_to]``."""
    _, day = split_target(target)
    issue = np.datetime64(issue, "ns")
    if not day:
        return iso(issue), iso(issue + cfg.horizon_length)
    lo, hi = day_windows(np.array([issue]), day, cfg.day_windows)
    return iso(lo[0, day - 1]), iso(hi[0, day - 1])
