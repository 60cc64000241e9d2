"""NOAA SWPC's own daily flare probabilities (``json/solar_probabilities.json``) as provider forecast rows.

The file is a JSON array, newest record first, one record per daily forecast over about the last 30 days::

    {"date": "2025-10-24T00:00:00", "c_class_1_day": 99, "c_class_2_day": 99, "c_class_3_day": 99,
     "m_class_1_day": 10, ..., "x_class_3_day": 1, "10mev_protons_1_day": 1, ..., "polar_cap_absorption": "green"}

- ``{c,m,x}_class_{1,2,3}_day``: the full-disk probability, in percent, of at least one flare of that class or
  above on the first, second and third forecast day. flarecast reads all nine (percent / 100): day 1's as
  ``>=C``, ``>=M`` and ``X``, day 2's and 3's as ``>=C@d2``, ..., ``X@d3`` (:func:`flarecast.classes.day_target`;
  a bare class is a forecaster's first window, so SWPC's day 1 pairs with flarecast's day 1, ``X@d1``, and with
  its 24 h forecasts); ``10mev_protons_*`` (a >10 MeV proton event) and ``polar_cap_absorption`` (a colour) are
  not scored.
- ``date``: the UT day on which SWPC issued the forecast, at 22:00 UT. Day 1 is the next UT day, 00-24 UT, so a
  row's window is ``(date + 1 d, date + 2 d]`` (day d's: ``(date + d, date + d + 1 d]``): ``issue_time`` in the rows below is that window's start (what
  the provider CSV and :func:`flarecast.forecast.providers.score_files` mean by it: each forecaster is labelled by
  its own window), ``issued`` the real issue time, 2 h earlier.

Sources (public; none is SWPC's own description of this JSON file, which we did not find):

- Layout, field names, newest-first order and percent integers: a copy of the real file saved in the repository
  GGGGk-c/hackathon (``solar_probabilities.json``, 30 records, newest ``"date": "2025-10-24T00:00:00"``); the same
  fields are typed in many dashboards' clients.
- Issue time and forecast days: SWPC's README of the Report of Solar-Geophysical Activity (RSGA), "Issue time:
  Daily at 2200 UTC. It is usually online at 2210 UTC ... predicted activity for next 3 days"
  (swpc.noaa.gov/ftpdir/forecasts/RSGA/README, archived by the UNT web archive, 2009); an RSGA issued "at 2200Z
  on 21 Dec 2024" gives "Event probabilities 22 Dec-24 Dec, Class M 60/60/60, Class X 10/10/10"
  (solar.physics.montana.edu/takeda/NOAA_reports/archive/2024/2024_RSGA/20241221RSGA.txt): the three days are
  the UT days after the day of issue. The 3-day Space Weather Predictions (``daypre.txt``) issued "2023 Oct 31
  2200 UTC" predict "2023 Nov 01, Nov 02, Nov 03" the same way.
- ``date`` is the day of issue, not the first forecast day: inferred from the same repository's commit, which
  saved ``solar-radio-flux.json`` with a newest record of 2025-10-24T22:54 beside ``solar_probabilities.json``
  with a newest ``date`` of 2025-10-24: fetched after the 22:00 issue of the 24th, whose forecast days begin on
  the 25th.
- Cumulative classes: SolarMonitor (solmon.dias.ie/forecast) tabulates SWPC's region probabilities as C+, M+, X+.

Assumptions (not verified): ``date`` is the day of issue (the inference above rests on two files saved together;
the reader checks it against every stamped file: no forecast can be issued after its file was fetched, so a
file fetched before 22:00 UT that holds that day's ``date`` is refused, naming this assumption); day 1 is the UT
day 00-24 UT after issue, not the 24 h from 22:00 UT (SolarMonitor describes NOAA's region predictions as valid
to 22:00 UT); each class probability is of that class *or above*; ``c_class_*``, which the RSGA does not carry,
is issued with M and X at 22:00 UT.

Several fetches (``flarecast fetch swpc`` saves ``solar_probabilities_{YYYYMMDDTHHMMSSZ}.json``) overlap by about
29 days. Each (day, target) is taken from the earliest fetch that holds a value for it: the forecast as first
issued, before any later revision. Files without a stamp in their name come after every stamped file, in name
order. A ``null`` or absent field is no forecast for that target and day, not 0.

>>> read_swpc(sorted(Path("data/raw/swpc").glob("solar_probabilities_*.json")))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from flarecast import classes
from flarecast.errors import InputFileError, ParseError
from flarecast.forecast.numbers import check_provider, check_rows
from flarecast.ingest.fetch.swpc import fetched_at
from flarecast.safeio import load_json
from flarecast.util import atomic_open

DAYS = (1, 2, 3)
FIELDS = {(">=C" if d == 1 else f">=C@d{d}"): f"c_class_{d}_day" for d in DAYS} | \
    {(">=M" if d == 1 else f">=M@d{d}"): f"m_class_{d}_day" for d in DAYS} | \
    {("X" if d == 1 else f"X@d{d}"): f"x_class_{d}_day" for d in DAYS}
"""flarecast target -> the field of SWPC's probability (percent) of that class on that forecast day."""
ISSUED = pd.Timedelta(hours=22)
"""SWPC issues the forecast dated D at D 22:00 UT; its day 1 is D + 1, 00-24 UT."""
COLUMNS = ("issue_time", "valid_to", "target", "probability", "issued", "fetched")
"""Rows of :func:`read_swpc`: the provider CSV's columns, plus SWPC's issue time and the file's fetch time."""


def is_swpc_probabilities(path: str | Path) -> bool:
    """A ``.json`` file whose beginning names one of SWPC's 1-day class fields."""
    path = Path(path)
    if path.suffix != ".json" or not path.is_file():
        return False
    head = path.read_text(errors="replace")[:4096]
    return any(f'"{field}"' in head for field in FIELDS.values())


def read_swpc(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Rows :data:`COLUMNS` (times as ISO strings, UTC), one per forecast day and target, of one or many
    ``solar_probabilities`` files; a day held by several files comes from the earliest fetch (module docstring).

    Raises
    ------
    InputFileError
        A file is not SWPC's ``solar_probabilities.json`` layout (not an array of records, a ``date`` that is
        not a UT day, a probability that is not a number in [0, 100], one day twice with different values), or
        holds a forecast issued after the fetch time in its name.
    """
    files = sorted((Path(p) for p in paths), key=_fetch_order)
    kept: dict[tuple[pd.Timestamp, str], dict[str, Any]] = {}
    for path in files:
        fetched = fetched_at(path)
        for day, target, percent in _forecasts(path):
            issued = day + ISSUED
            if fetched is not None and issued > pd.Timestamp(fetched).tz_localize(None):
                raise InputFileError(path, f"date {day:%Y-%m-%d}: a forecast issued at {_z(issued)} cannot be in a "
                                     f"file fetched at {_z(fetched)}; flarecast reads SWPC's date as the day of "
                                     "issue (docs/operations.md section 4): fetch stamps or that reading are wrong")
            ahead = pd.Timedelta(days=_ahead(target))
            kept.setdefault((day, target), {
                "issue_time": _z(day + ahead), "valid_to": _z(day + ahead + pd.Timedelta(days=1)),
                "target": target, "probability": percent / 100.0, "issued": _z(issued),
                "fetched": _z(fetched) if fetched is not None else ""})
    order = sorted(FIELDS, key=lambda t: (_ahead(t), classes.target_rank(t)))
    rows = [kept[k] for k in sorted(kept, key=lambda k: (k[0], order.index(k[1])))]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_provider_csv(paths: Sequence[str | Path], out: str | Path) -> Path:
    """Write :func:`read_swpc`'s rows as a provider CSV, which ``flarecast evaluate --forecasts`` reads."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = read_swpc(paths)
    check_rows(frame.to_dict("records"), str(out))  # the last guard: no impossible number is written
    with atomic_open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows({**r, "probability": repr(r["probability"])} for r in frame.to_dict("records"))
    return out


def _fetch_order(path: Path) -> tuple:
    when = fetched_at(path)
    return (when is None, when or datetime.min, str(path))


def _forecasts(path: Path) -> list[tuple[pd.Timestamp, str, float]]:
    """(day of issue, target, percent) of every non-null 1-day class field in one file."""
    try:
        body = load_json(path)
    except ParseError as exc:
        raise InputFileError(path, f"not a readable JSON file ({exc.reason}); expected SWPC's "
                             "solar_probabilities.json") from None
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise InputFileError(path, "expected a JSON array of records (SWPC's solar_probabilities.json), got "
                             f"{type(body).__name__}" + (" holding non-records" if isinstance(body, list) else ""))
    if body and not any(f in r for r in body for f in FIELDS.values()):
        raise InputFileError(path, f"no record has any of {list(FIELDS.values())}: not SWPC's "
                             "solar_probabilities.json")
    out: dict[tuple[pd.Timestamp, str], float] = {}
    where: dict[tuple[pd.Timestamp, str], str] = {}
    for n, record in enumerate(body):
        day = _day(record.get("date"), path, n)
        for target, field in FIELDS.items():
            value = record.get(field)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                raise InputFileError(path, f"record {n} ({day:%Y-%m-%d}): {field} {value!r}; expected a percentage "
                                     "from 0 to 100 or null")
            if out.setdefault((day, target), float(value)) != float(value):
                raise InputFileError(path, f"date {day:%Y-%m-%d} appears twice with different {field}: expected "
                                     "one forecast per day")
            where.setdefault((day, target), f"record {n} ({day:%Y-%m-%d})")
    check_provider(pd.DataFrame(  # classes in order: x_class <= m_class <= c_class on every forecast day
        [{"issue_time": day, "valid_to": day + pd.Timedelta(days=_ahead(target) + 1), "target": target,
          "probability": p / 100.0, "region": None, "record": where[(day, target)]} for (day, target), p in out.items()],
        columns=["issue_time", "valid_to", "target", "probability", "region", "record"]), path)
    return [(day, target, p) for (day, target), p in out.items()]


def _ahead(target: str) -> int:
    """Days from the day of issue to the target's forecast day: 1 for ``X``, 3 for ``X@d3``."""
    return max(classes.split_target(target)[1], 1)


def _day(value: Any, path: Path, n: int) -> pd.Timestamp:
    try:
        day = pd.Timestamp(value) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        day = None
    if day is None or day is pd.NaT or day.tzinfo is not None and day.utcoffset() != pd.Timedelta(0) \
            or day != day.normalize():
        raise InputFileError(path, f"record {n}: date {value!r}; expected a UT day such as '2025-10-24T00:00:00'")
    return day.tz_localize(None) if day.tzinfo is not None else day


def _z(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
