"""Labels and flare-history channels from the flare catalogue (the store's ``events`` group).

The label of a window issued at t is the largest class among the flares peaking in (t, t + horizon]: every
flare for a full-disk GOES window, only the flares of the region's NOAA active regions for a SHARP window.
Peak fluxes are stored on the true basis; :func:`flarecast.classes.ordinal` applies the C/M/X thresholds on
the basis the config's class convention names.

The catalogue only vouches for the time it covers. A window whose label interval reaches outside
[first peak, last peak] of the catalogue would be labelled quiet for want of data, so it is dropped instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.config import HISTORY_CHANNELS, history_channel
from flarecast.errors import SampleError

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr

FULL_DISK = -1
"""Region number of full-disk (GOES) windows."""


@dataclass(frozen=True)
class Catalogue:
    """Flares sorted by peak time: peak (datetime64[ns]), true-basis peak flux, NOAA AR (0 = none)."""

    peak: np.ndarray
    flux: np.ndarray
    noaa_ar: np.ndarray
    _by_ar: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_events(cls, events: xr.Dataset) -> Catalogue:
        """Read the store's ``events`` group; rows without a peak time or a finite flux cannot label anything."""
        for name in ("peak", "peak_flux"):
            if name not in events.variables:
                raise SampleError(f"the events group has no {name!r} variable: re-ingest the flare catalogue")
        peak = np.asarray(events["peak"].values, dtype="datetime64[ns]")
        flux = np.asarray(events["peak_flux"].values, dtype=float)
        ar = (np.asarray(events["noaa_ar"].values, dtype=np.int64) if "noaa_ar" in events.variables
              else np.zeros(peak.size, dtype=np.int64))
        ok = ~np.isnat(peak) & np.isfinite(flux) & (flux > 0)
        if not ok.any():
            raise SampleError("the events group holds no flare with a peak time and flux: ingest a flare catalogue")
        order = np.argsort(peak[ok], kind="stable")
        return cls(peak[ok][order], flux[ok][order], ar[ok][order])

    @property
    def span(self) -> tuple[np.datetime64, np.datetime64]:
        """First and last peak time: the period the catalogue is known to cover."""
        return self.peak[0], self.peak[-1]

    def one_per_peak(self) -> Catalogue:
        """One entry per peak time, the largest. The X-ray flux has one maximum at a time, so two entries
        peaking in the same minute are one flare that two catalogues attributed to different regions."""
        if self.peak.size < 2:
            return self
        order = np.lexsort((-self.flux, self.peak))
        first = np.concatenate(([True], self.peak[order][1:] != self.peak[order][:-1]))
        idx = order[first]
        return Catalogue(self.peak[idx], self.flux[idx], self.noaa_ar[idx])

    def of_regions(self, ars) -> Catalogue:
        """Only the flares attributed to one of the NOAA ``ars`` (an empty list gives no flare)."""
        if self._by_ar is None:
            # Sorted once by AR (stable: peak order kept within an AR), so each region costs two searchsorted.
            order = np.argsort(self.noaa_ar, kind="stable")
            object.__setattr__(self, "_by_ar", (order, self.noaa_ar[order]))
        order, sorted_ar = self._by_ar
        ars = np.asarray(list(ars), dtype=np.int64)
        a, b = np.searchsorted(sorted_ar, ars, side="left"), np.searchsorted(sorted_ar, ars, side="right")
        idx = np.sort(np.concatenate([order[i:j] for i, j in zip(a, b, strict=True)] + [np.zeros(0, np.int64)]))
        return Catalogue(self.peak[idx], self.flux[idx], self.noaa_ar[idx])


def range_max(times: np.ndarray, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Largest ``values`` with ``times`` in (lo, hi] for each pair; NaN where none. ``times`` sorted.

    A sparse table answers each range in O(1) after O(n log n) set-up, so labelling decades of hourly windows
    against tens of thousands of events stays vectorised.
    """
    a = np.searchsorted(times, lo, side="right")
    b = np.searchsorted(times, hi, side="right")
    out = np.full(a.shape, np.nan)
    nonempty = b > a
    if not nonempty.any():
        return out
    table = [np.asarray(values, dtype=float)]
    while 2 ** len(table) <= len(values):
        prev, half = table[-1], 2 ** (len(table) - 1)
        table.append(np.maximum(prev[:-half], prev[half:]))
    a, b = a[nonempty], b[nonempty]
    k = np.floor(np.log2(b - a)).astype(int)
    res = np.empty(a.size)
    for level in np.unique(k):
        sel = k == level
        t = table[level]
        res[sel] = np.maximum(t[a[sel]], t[b[sel] - 2**level])
    out[nonempty] = res
    return out


def next_and_previous(cat: Catalogue, issue: np.ndarray, horizon: np.timedelta64) -> tuple[np.ndarray, np.ndarray]:
    """Largest true peak flux in (t, t + horizon] (the label) and in (t - horizon, t] (persistence)."""
    return (range_max(cat.peak, cat.flux, issue, issue + horizon),
            range_max(cat.peak, cat.flux, issue - horizon, issue))


def label_fluxes(cat: Catalogue, issue: np.ndarray, horizon: np.timedelta64, region: np.ndarray | None = None,
                 region_ars: dict[int, list[int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Largest true peak flux in (t, t + horizon] (the label's) and in (t - horizon, t] (persistence's).

    Full-disk windows (``region`` None or -1) see every flare; a region's windows see only the flares of the
    NOAA ARs ``region_ars[region]`` lists. Apply :func:`flarecast.classes.ordinal` for the ordinal label.
    """
    if region is None or (region == FULL_DISK).all():
        return next_and_previous(cat, issue, horizon)
    nxt, prev = np.full(issue.size, np.nan), np.full(issue.size, np.nan)
    for r in np.unique(region).tolist():
        sel = region == r
        own = cat if r == FULL_DISK else cat.of_regions((region_ars or {}).get(r, []))
        nxt[sel], prev[sel] = next_and_previous(own, issue[sel], horizon)
    return nxt, prev


_DAY = np.timedelta64(1, "D")


def day_windows(issue: np.ndarray, days: int, mode: str = "ut") -> tuple[np.ndarray, np.ndarray]:
    """The label intervals ``(lo, hi]`` ``[issue, day]`` of each forecast day after each issue time.

    ``ut``: day d is the UT day d days after the day of issue, 00-24 UT (SWPC's days: an issue at 22:00 UT on the
    24th forecasts the 25th, 26th and 27th; a flare peaking in the last 2 h of the 24th counts for no day).
    ``issue``: day d is (t + (d - 1) x 24 h, t + d x 24 h], the 24/48/72 h horizons. Like every label window,
    both are open at the start and closed at the end (a peak at exactly 00:00:00 ends the day before), so a
    forecast row's (valid_from, valid_to] is scored as it was trained.

    >>> lo, hi = day_windows(np.array(["2024-12-21T22:00"], "datetime64[ns]"), 2)
    >>> [str(v)[:16] for v in lo[0]], [str(v)[:16] for v in hi[0]]
    (['2024-12-22T00:00', '2024-12-23T00:00'], ['2024-12-23T00:00', '2024-12-24T00:00'])
    """
    issue = np.asarray(issue, dtype="datetime64[ns]")
    d = np.arange(1, days + 1) * _DAY
    if mode == "ut":
        start = issue.astype("datetime64[D]").astype("datetime64[ns]")[:, None] + d[None, :]
        return start, start + _DAY
    if mode == "issue":
        end = issue[:, None] + d[None, :]
        return end - _DAY, end
    raise SampleError(f"samples.day_windows = {mode!r}: expected one of ['ut', 'issue']")


def target_windows(issue: np.ndarray, targets, horizon: np.timedelta64, mode: str = "ut") -> tuple[np.ndarray, np.ndarray]:
    """The label intervals ``(valid_from, valid_to]`` ``[issue, target]`` of each target: a forecast day's
    (:func:`day_windows`, ``X@d2``: day 2), or ``(t, t + horizon]`` for a target of the one horizon.

    >>> lo, hi = target_windows(np.array(["2024-12-21T22:00"], "datetime64[ns]"), [">=M", "X@d2"],
    ...                         np.timedelta64(24, "h"))
    >>> [str(v)[:16] for v in lo[0]], [str(v)[:16] for v in hi[0]]
    (['2024-12-21T22:00', '2024-12-23T00:00'], ['2024-12-22T22:00', '2024-12-24T00:00'])
    """
    issue = np.asarray(issue, dtype="datetime64[ns]")
    days = [classes.split_target(t)[1] for t in targets]
    lo = np.repeat(issue[:, None], len(days), axis=1)
    hi = lo + np.asarray(horizon).astype("timedelta64[ns]")
    if max(days, default=0):
        d_lo, d_hi = day_windows(issue, max(days), mode)
        for j, d in enumerate(days):
            if d:
                lo[:, j], hi[:, j] = d_lo[:, d - 1], d_hi[:, d - 1]
    return lo, hi


def day_fluxes(cat: Catalogue, issue: np.ndarray, days: int, mode: str, region: np.ndarray | None = None,
               region_ars: dict[int, list[int]] | None = None) -> np.ndarray:
    """Largest true peak flux ``[issue, day]`` on each forecast day (:func:`day_windows`); NaN: no flare.

    Full-disk windows see every flare, a region's windows only its NOAA ARs' (as :func:`label_fluxes`).
    """
    lo, hi = day_windows(issue, days, mode)
    return window_fluxes(cat, lo, hi, region, region_ars)


def window_fluxes(cat: Catalogue, lo: np.ndarray, hi: np.ndarray, region: np.ndarray | None = None,
                  region_ars: dict[int, list[int]] | None = None) -> np.ndarray:
    """Largest true peak flux in each window (lo, hi] (arrays ``[window, ...]``, one row per entry of
    ``region``); NaN: no flare. Full-disk rows see every flare, a region's rows only its NOAA ARs'."""
    out = np.full(lo.shape, np.nan)
    regions = [FULL_DISK] if region is None else np.unique(region).tolist()
    for r in regions:
        sel = np.ones(lo.shape[0], bool) if region is None else region == r
        own = cat if r == FULL_DISK else cat.of_regions((region_ars or {}).get(r, []))
        out[sel] = range_max(own.peak, own.flux, lo[sel].ravel(), hi[sel].ravel()).reshape(lo[sel].shape)
    return out


def history(names, cat: Catalogue, step_end: np.ndarray, lookback: np.timedelta64, convention: str) -> np.ndarray:
    """Flare-history channels ``[len(names), step]`` over (s - look-back, s] for each step end s.

    ``history_class`` is the ordinal class (0-3) of the largest flare; ``history_ge_c``, ``history_ge_m`` and
    ``history_x`` count the flares at or above C, M and X. The look-back is ``lookback`` (``samples.history``),
    or the days a regime channel names (``history_ge_m_27d``: 27 days). Flares peaking at s are known at s: a
    peak is a measured maximum, not a forecast. Entries sharing a peak time count once (see
    :meth:`Catalogue.one_per_peak`).
    """
    out = np.empty((len(names), step_end.size), dtype=np.float32)
    cat = cat.one_per_peak()
    rank = classes.ordinal(cat.flux, convention)
    for i, full in enumerate(names):
        spec = history_channel(full)
        if spec is None:
            raise SampleError(f"channel {full!r} is not a flare-history channel: expected one of {list(HISTORY_CHANNELS)}, "
                              "optionally with a look-back in days such as 'history_ge_m_27d'")
        name, span = spec
        lo = step_end - (lookback if span is None else pd.Timedelta(span).to_timedelta64())
        if name == "history_class":
            out[i] = classes.ordinal(range_max(cat.peak, cat.flux, lo, step_end), convention)
        else:
            at_least = {"history_ge_c": 1, "history_ge_m": 2, "history_x": 3}[name]
            t = cat.peak[rank >= at_least]
            out[i] = np.searchsorted(t, step_end, side="right") - np.searchsorted(t, lo, side="right")
    return out


def region_ars(harpnum: np.ndarray, noaa_ars: np.ndarray, harp_map: dict[int, set[int]] | None = None
               ) -> dict[int, list[int]]:
    """NOAA active regions of each HARP: every number its records list in ``NOAA_ARS``, plus the map's."""
    out: dict[int, set[int]] = {int(h): set() for h in np.unique(harpnum).tolist()}
    for h, text in set(zip(harpnum.tolist(), np.asarray(noaa_ars).astype(str).tolist(), strict=True)):
        out[h].update(int(n) for n in re.split(r"[,\s;]+", text) if n.isdigit() and int(n) > 0)
    for h in out:
        out[h] |= (harp_map or {}).get(h, set())
    return {h: sorted(v) for h, v in out.items()}


def read_harp_map(path: str | Path) -> dict[int, set[int]]:
    """A HARP -> NOAA AR file: one ``HARPNUM NOAA_AR[,NOAA_AR...]`` per line (``#`` comments allowed).

    Raises
    ------
    SampleError
        When the file is missing or a line is not two integer fields.
    """
    path = Path(path)
    if not path.is_file():
        raise SampleError(
            f"samples.harp_map = {str(path)!r} does not exist (relative paths start at the working directory "
            f"{Path.cwd()}): give the path of a 'HARPNUM NOAA_AR' file or remove the key"
        )
    out: dict[int, set[int]] = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = re.split(r"[\s,;]+", text)
        if len(parts) < 2 or not all(p.isdigit() for p in parts):
            raise SampleError(f"{path}: line {n} {line!r}: expected 'HARPNUM NOAA_AR[,NOAA_AR...]' as integers")
        out.setdefault(int(parts[0]), set()).update(int(p) for p in parts[1:] if int(p) > 0)
    return out
