"""A forecast row: one typed document, one function that builds it, the one way rows are written and read.

Every row of a forecast document (a model's own, a fallback's, a combination's) is built by :func:`make_row`:
the decision is ``probability >= threshold`` there and nowhere else, ``valid_to`` is ``issue_time + horizon``
there and nowhere else. Files are read back through :class:`ForecastRow` (:func:`flarecast.forecast.files.
read_forecasts`). The row's columns are :data:`ROW_FIELDS` (every row) and :data:`DEGRADED_FIELDS` (rows of a
forecast with fallbacks); a new column is a new field of :class:`ForecastRow` (and of the schema's ``row``).

>>> make_row("2017-09-06T12:00:00Z", "24h", "X", 0.3, threshold=0.2, base_rate=0.01, coverage=1.0,
...          model_id="m1", convention="swpc")["valid_to"]
'2017-09-07T12:00:00Z'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from flarecast.util import iso, utc


class ForecastRow(BaseModel):
    """One forecast: the probability that a ``target`` class flare peaks in ``(issue_time, valid_to]`` on the full
    disk (``region`` None) or in a HARP ``region``, with its decision, threshold and base rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issue_time: str
    valid_to: str
    valid_from: str | None = None
    target: str
    region: int | None
    noaa_ars: list[int]
    probability: float
    decision: bool
    threshold: float
    base_rate: float
    coverage: float
    model_id: str
    convention: str
    degraded: bool | None = None
    method: str | None = None
    reason: str | None = None

    @classmethod
    def read(cls, row: dict[str, Any]) -> Self:
        """A row read from a file (already checked against the schema)."""
        return cls.model_validate(row)

    def to_dict(self) -> dict[str, Any]:
        """The row as written: :data:`ROW_FIELDS`, :data:`DEGRADED_FIELDS` when the row carries them, and
        ``valid_from`` for a forecast day's row (:data:`DAY_FIELDS`)."""
        drop = (set() if self.degraded is not None else set(DEGRADED_FIELDS)) | \
            (set() if self.valid_from is not None else set(DAY_FIELDS))
        return self.model_dump(exclude=drop or None)

    def csv_record(self, *, degraded: bool) -> dict[str, str | int | float]:
        """The row as a CSV record: ``region`` empty for the full disk, ``noaa_ars`` space-separated, booleans in
        lower case, numbers as ``repr`` (every digit: reading the file back gives the same floats, so the same
        decisions); with ``degraded``, the degraded columns too (a row without them is the model's own)."""
        r = self.to_dict()  # valid_from only on a forecast day's row (the writer leaves it empty on others)
        out = {**r, "region": "" if r["region"] is None else r["region"], "noaa_ars": " ".join(map(str, r["noaa_ars"])),
               "decision": str(r["decision"]).lower(), "probability": repr(r["probability"]),
               "threshold": repr(r["threshold"]), "base_rate": repr(r["base_rate"])}
        if not degraded:
            return out
        own = self.degraded is None
        return {**out, "degraded": "false" if own else str(self.degraded).lower(),
                "method": "model" if own else self.method, "reason": "" if own else self.reason or ""}


DEGRADED_FIELDS = ("degraded", "method", "reason")
"""Columns a row may add (:mod:`flarecast.forecast.fallback`); files without them read as not degraded."""
DAY_FIELDS = ("valid_from",)
"""The column of a forecast day's row (``X@d2``): its window is (valid_from, valid_to], not (issue_time, valid_to]."""
ROW_FIELDS = tuple(f for f in ForecastRow.model_fields if f not in DEGRADED_FIELDS + DAY_FIELDS)
"""Columns of every forecast row (CSV header; keys of the JSON ``forecasts`` items)."""


def valid_to(issue_time: str | np.datetime64, horizon: str | np.timedelta64 | pd.Timedelta) -> str:
    """The end of the forecast window of ``issue_time``: ``issue_time + horizon`` as ISO UTC text."""
    t = utc(issue_time, what="issue time") if isinstance(issue_time, str) else issue_time
    return iso(t + pd.Timedelta(horizon).to_timedelta64())


def make_row(issue_time: str | np.datetime64, horizon: str | np.timedelta64 | pd.Timedelta, target: str,
             probability: float, *, threshold: float, base_rate: float, coverage: float, model_id: str,
             convention: str, region: int | None = None, noaa_ars: Sequence[int] = (),
             method: str | None = None, reason: str | None = None,
             window: tuple[str, str] | None = None) -> dict[str, Any]:
    """The forecast row of one issue time, region and target (see the module docstring). ``method`` (``model``,
    ``fallback_model``, ``catalogue_poisson``, ``climatology``, ``combination``): add the degraded columns, the row
    being degraded unless its method is the model's own or a combination's. ``window``: a forecast day's
    ``(valid_from, valid_to)`` (:func:`flarecast.forecast.days.window`), instead of (issue_time, issue_time +
    horizon]."""
    t = iso(issue_time) if not isinstance(issue_time, str) else issue_time
    p = float(probability)
    degraded = None if method is None else method not in ("model", "combination")
    start, end = window if window is not None else (None, valid_to(issue_time, horizon))
    return ForecastRow(issue_time=t, valid_from=start, valid_to=end, target=target, region=region,
                       noaa_ars=[int(a) for a in noaa_ars], probability=p, decision=p >= threshold, threshold=threshold,
                       base_rate=base_rate, coverage=coverage, model_id=model_id, convention=convention,
                       degraded=degraded, method=method, reason=reason).to_dict()


def degrade(row: dict[str, Any], method: str, reason: str | None) -> dict[str, Any]:
    """``row`` with its degraded columns: forecast by ``method`` because of ``reason`` (None: not degraded)."""
    base = {k: row[k] for k in ROW_FIELDS + DAY_FIELDS if k in row}  # a forecast day's row keeps its window
    return {**base, "degraded": method not in ("model", "combination"), "method": method, "reason": reason}
