"""The simulated Sun: active regions, their disk passages (HARPs, NOAA ARs), flares, the X-ray series and the
SHARP keyword table. :mod:`flarecast.simulate.generate` draws them in order and writes the files; the model and its
references are described in that module's docstring."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from astropy.time import Time, TimeDelta

from flarecast.classes import LETTER_FLUX, format_class
from flarecast.simulate.formats import FLAG_BAD, FLAG_E_INTERP, FLAG_GOOD, MINUTES_PER_DAY

# -- the Sun ------------------------------------------------------------------------------------------
SYNODIC_DAYS = 27.275
BURN_IN_DAYS = 90.0  # regions emerging before `start` populate the disk on day one
EMERGENCE_PER_DAY = 0.3  # x activity
LOG10_FLUX_MEAN, LOG10_FLUX_SD = 21.6, 0.45
FLUX_FLOOR = 1.5e20  # Mx: a decayed region's remnant
RISE_FRACTION = 0.3  # share of a region's life spent emerging
MIN_PASSAGE_DAYS = 0.5
DOUBLE_AR_FRACTION = 0.15
COMPLEXITY_PER_LN_ACTIVITY = 0.7  # complex regions are commoner at maximum (Jaeggli & Norton 2016)
SHARP_CADENCE_MIN = 96
# SHARP relations fitted to the real sample (log10 USFLUX -> log10 AREA, MEANGBZ, R_VALUE)
AREA_FIT, MEANGBZ_FIT, R_FIT = (0.872, -15.49), (3.33, -50.5), (1.21, -23.17)
# -- flares -------------------------------------------------------------------------------------------
FLARE_RATE_PER_DAY = 1.7  # flares >= B1 a day from a 1e22 Mx region of average complexity
RATE_FLUX_POWER, RATE_COMPLEXITY, EMERGING_BOOST = 1.3, 0.5, 1.5
ALPHA, F_MIN, F_MAX = 1.85, 1e-7, 3e-3
CAP_AT_1E22, CAP_FLUX_POWER, CAP_MIN = 2e-3, 1.5, 3e-5
UNATTRIBUTED_PER_DAY, UNATTRIBUTED_CAP = 0.3, 1e-5  # x activity
RISE_MIN, DECAY_MIN = 4.0, 9.0  # minutes, for a C1 flare
HARDNESS_AT_C1, HARDNESS_POWER = 0.12, 0.25  # XRS-A / XRS-B of the flare itself at its peak
DECAY_SPAN = 12.0  # e-folding times a flare is followed for (e^-12: below any background)
# -- background and instrument --------------------------------------------------------------------------
BG_FLOOR, BG_FLOOR_DEX, BG_FLOOR_DAYS = 2.5e-8, 0.15, 5.0
REGION_BG_AT_1E22, REGION_BG_POWER, LIMB_RAMP_DAYS = 1.5e-7, 1.3, 0.5
NOISE_B, NOISE_A = 0.02, 0.03
GAPS_PER_DAY, GAP_MEAN_MIN, GAP_MAX_MIN, SINGLE_FILLS_PER_DAY = 0.08, 30.0, 180, 0.3
INFO_FLAG_RUNS_PER_DAY, INFO_FLAG_MEAN_MIN = 0.3, 45.0
# -- catalogue ------------------------------------------------------------------------------------------
RISE_CRITERION = 1.4  # NOAA: flux at the end of the rise >= 1.4 x flux at its start
MAX_DAYS = 7305  # 20 years: the series are held in memory (~0.2 MB a day)
ANCHOR = date(2018, 1, 1)  # numbering anchors from the real SHARP sample: HARP 7220, AR 12694 ...
HARP_AT_ANCHOR, HARP_PER_DAY, NOAA_AT_ANCHOR, NOAA_PER_DAY = 7220, 2.57, 12694, 0.57  # ... and daily rates


@dataclass(frozen=True)
class Regions:
    """Emerged active regions; times in days since ``start`` 00:00 UTC."""

    t_emerge: np.ndarray
    lifetime: np.ndarray
    flux_max: np.ndarray
    complexity: np.ndarray
    phase: np.ndarray  # days into the synodic period at emergence: visible while < SYNODIC_DAYS / 2

    def flux(self, i: np.ndarray, t: np.ndarray) -> np.ndarray:
        """USFLUX (Mx) of regions ``i`` at times ``t``: emerges to its maximum, then decays."""
        x = np.clip((t - self.t_emerge[i]) / self.lifetime[i], 0.0, 1.0) / RISE_FRACTION
        return FLUX_FLOOR + self.flux_max[i] * (x * np.exp(1.0 - x)) ** 2

    def emerging(self, i: np.ndarray, t: np.ndarray) -> np.ndarray:
        return (t - self.t_emerge[i]) < RISE_FRACTION * self.lifetime[i]


@dataclass(frozen=True)
class Harps:
    """Visible disk passages of regions, numbered like SHARP HARPs and NOAA ARs (noaa2 = 0: none)."""

    region: np.ndarray
    t_on: np.ndarray
    t_off: np.ndarray
    harpnum: np.ndarray
    noaa: np.ndarray
    noaa2: np.ndarray


@dataclass(frozen=True)
class Flares:
    """Every simulated flare, sorted by onset; ``peak_flux`` is the flare's own XRS-B peak above background."""

    t_onset: np.ndarray  # days since start
    rise: np.ndarray  # minutes
    decay: np.ndarray  # minutes, e-folding
    peak_flux: np.ndarray  # W m^-2, true basis
    hardness: np.ndarray  # XRS-A / XRS-B at the peak
    harp: np.ndarray  # index into Harps, -1: not from a numbered region
    noaa: np.ndarray  # NOAA AR the flare is attributed to, 0: none


@dataclass(frozen=True)
class Catalogue:
    """The flares a catalogue lists, sorted by begin; minutes since ``start``."""

    flare: np.ndarray  # index into Flares
    begin: np.ndarray
    peak: np.ndarray
    end: np.ndarray
    peak_flux: np.ndarray  # float32 total XRS-B at ``peak``, as in the netCDF file (gaps aside)
    integrated_flux: np.ndarray  # J m^-2, begin to end
    noaa: np.ndarray

    @property
    def classes(self) -> list[str]:
        return [format_class(float(f)) for f in self.peak_flux]



# -- regions ------------------------------------------------------------------------------------------------
def emerge_regions(rng: np.random.Generator, days: int, activity: float) -> Regions:
    n = rng.poisson(EMERGENCE_PER_DAY * activity * (days + BURN_IN_DAYS))
    flux_max = 10 ** np.clip(rng.normal(LOG10_FLUX_MEAN, LOG10_FLUX_SD, n), 21.0, 23.0)
    return Regions(
        t_emerge=np.sort(rng.uniform(-BURN_IN_DAYS, days, n)),
        lifetime=np.clip(12.0 * (flux_max / 5e21) ** 0.4 * rng.lognormal(0.0, 0.35, n), 3.0, 90.0),
        flux_max=flux_max,
        complexity=rng.normal(COMPLEXITY_PER_LN_ACTIVITY * math.log(activity), 1.0, n),
        phase=rng.uniform(0.0, SYNODIC_DAYS, n),
    )


def passages(rng: np.random.Generator, regions: Regions, days: int, start: date) -> Harps:
    """Cut each region's life into visible passages; number them in order of appearance."""
    k = np.arange(int(regions.lifetime.max(initial=0.0) // SYNODIC_DAYS) + 2)
    window_on = (regions.t_emerge - regions.phase)[:, None] + k * SYNODIC_DAYS
    t_on = np.maximum(window_on, regions.t_emerge[:, None])
    t_off = np.minimum(window_on + SYNODIC_DAYS / 2, (regions.t_emerge + regions.lifetime)[:, None])
    keep = (t_off - t_on >= MIN_PASSAGE_DAYS) & (t_off > 0) & (t_on < days)
    region = np.nonzero(keep)[0]
    t_on, t_off = t_on[keep], t_off[keep]
    order = np.argsort(t_on, kind="stable")
    region, t_on, t_off = region[order], t_on[order], t_off[order]

    since_anchor = (start - ANCHOR).days
    n = len(region)
    harpnum = max(1, HARP_AT_ANCHOR + round(HARP_PER_DAY * since_anchor)) + np.cumsum(
        1 + rng.poisson(1.5, n))  # JSOC also numbers small HARPs that NOAA never does: gaps
    double = rng.random(n) < DOUBLE_AR_FRACTION
    per_harp = 1 + double
    noaa = int(np.clip(NOAA_AT_ANCHOR + round(NOAA_PER_DAY * since_anchor), 10000, 90000)) + np.cumsum(
        per_harp) - per_harp
    return Harps(region=region, t_on=t_on, t_off=t_off, harpnum=harpnum, noaa=noaa,
                 noaa2=np.where(double, noaa + 1, 0))


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with ``count`` consecutive integer steps from ``first``: (item index, step value)."""
    item = np.repeat(np.arange(len(count)), count)
    offset = np.arange(item.size) - np.repeat(np.cumsum(count) - count, count)
    return item, first[item] + offset


# -- flares -------------------------------------------------------------------------------------------------
def _truncated_power_law(rng: np.random.Generator, cap: np.ndarray) -> np.ndarray:
    """Peak fluxes with dN/dF ~ F^-ALPHA on [F_MIN, cap], by inverting the CDF."""
    u = rng.random(cap.shape)
    e = 1.0 - ALPHA
    return F_MIN * (1.0 - u * (1.0 - (cap / F_MIN) ** e)) ** (1.0 / e)


def draw_flares(rng: np.random.Generator, regions: Regions, harps: Harps, days: int, activity: float) -> Flares:
    # Hourly rate per visible HARP; a region's state changes over days, so an hour is fine-grained enough.
    h_first = np.floor(np.clip(harps.t_on, 0, days) * 24).astype(np.int64)
    h_last = np.ceil(np.clip(harps.t_off, 0, days) * 24).astype(np.int64)
    harp, hour = _expand(h_first, np.maximum(h_last - h_first, 0))
    reg = harps.region[harp]
    t_mid = (hour + 0.5) / 24
    flux = regions.flux(reg, t_mid)
    c = regions.complexity[reg]
    rate = (FLARE_RATE_PER_DAY * (flux / 1e22) ** RATE_FLUX_POWER * np.exp(RATE_COMPLEXITY * c)
            * np.where(regions.emerging(reg, t_mid), EMERGING_BOOST, 1.0))
    count = rng.poisson(rate / 24)
    bin_of = np.repeat(np.arange(hour.size), count)
    t = (hour[bin_of] + rng.random(bin_of.size)) / 24
    inside = (t >= harps.t_on[harp[bin_of]]) & (t < harps.t_off[harp[bin_of]])
    bin_of, t = bin_of[inside], t[inside]
    cap = np.clip(CAP_AT_1E22 * (flux[bin_of] / 1e22) ** CAP_FLUX_POWER * np.exp(RATE_COMPLEXITY * c[bin_of]),
                  CAP_MIN, F_MAX)
    h = harp[bin_of]
    noaa = np.where((harps.noaa2[h] > 0) & (rng.random(h.size) < 0.5), harps.noaa2[h], harps.noaa[h])

    n_free = rng.poisson(UNATTRIBUTED_PER_DAY * activity * days)
    t = np.concatenate([t, rng.uniform(0, days, n_free)])
    cap = np.concatenate([cap, np.full(n_free, UNATTRIBUTED_CAP)])
    h = np.concatenate([h, np.full(n_free, -1)])
    noaa = np.concatenate([noaa, np.zeros(n_free, dtype=noaa.dtype)])

    peak = _truncated_power_law(rng, cap)
    scale = peak / 1e-6
    order = np.argsort(t, kind="stable")
    return Flares(
        t_onset=t[order],
        rise=np.clip(RISE_MIN * scale ** 0.2 * rng.lognormal(0, 0.45, t.size), 1.0, 120.0)[order],
        decay=np.clip(DECAY_MIN * scale ** 0.25 * rng.lognormal(0, 0.5, t.size), 2.0, 300.0)[order],
        peak_flux=peak[order],
        hardness=np.clip(HARDNESS_AT_C1 * scale ** HARDNESS_POWER, 0.05, 0.6)[order],
        harp=h[order],
        noaa=noaa[order],
    )


def _profile(dt: np.ndarray, rise: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Unit-peak light curve ``dt`` minutes after onset: sin^2 rise, exponential decay."""
    up = np.sin(0.5 * np.pi * np.clip(dt / rise, 0.0, 1.0)) ** 2
    return np.where(dt <= rise, up, np.exp(-(dt - rise) / decay))


def flare_light_curves(fl: Flares, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of all flares' own XRS-B and XRS-A flux per minute (evaluated at minute centres)."""
    t0 = fl.t_onset * MINUTES_PER_DAY
    first = np.floor(t0).astype(np.int64)
    span = np.ceil(fl.rise + DECAY_SPAN * fl.decay).astype(np.int64) + 2
    i, m = _expand(first, span)
    ok = m < n
    i, m = i[ok], m[ok]
    dt = m + 0.5 - t0[i]
    b = fl.peak_flux[i] * _profile(dt, fl.rise[i], fl.decay[i])
    # XRS-A sees the hottest plasma: it peaks earlier and cools faster than XRS-B.
    a = fl.peak_flux[i] * fl.hardness[i] * _profile(dt, 0.8 * fl.rise[i], 0.6 * fl.decay[i])
    return np.bincount(m, b, minlength=n), np.bincount(m, a, minlength=n)


# -- background, instrument and catalogue -------------------------------------------------------------------
def background(rng: np.random.Generator, regions: Regions, harps: Harps, days: int, activity: float):
    """Quiescent XRS-B per minute: a wandering floor plus every visible region's emission."""
    hours = np.arange(days * 24 + 1)
    rho = math.exp(-1.0 / (24 * BG_FLOOR_DAYS))
    step = BG_FLOOR_DEX * math.sqrt(1 - rho**2) * rng.standard_normal(hours.size)
    walk = np.empty(hours.size)
    walk[0] = BG_FLOOR_DEX * rng.standard_normal()
    for j in range(1, hours.size):  # AR(1): ~17k hourly steps for two years, negligible
        walk[j] = rho * walk[j - 1] + step[j]
    floor = BG_FLOOR * math.sqrt(activity) * 10**walk

    h_first = np.ceil(np.clip(harps.t_on, 0, days) * 24).astype(np.int64)
    h_last = np.floor(np.clip(harps.t_off, 0, days) * 24).astype(np.int64)
    harp, hour = _expand(h_first, np.maximum(h_last - h_first + 1, 0))
    t = hour / 24
    ramp = np.clip(np.minimum(t - harps.t_on[harp], harps.t_off[harp] - t) / LIMB_RAMP_DAYS, 0.0, 1.0)
    flux = regions.flux(harps.region[harp], t)
    region_bg = np.bincount(hour, REGION_BG_AT_1E22 * (flux / 1e22) ** REGION_BG_POWER * ramp,
                            minlength=hours.size)
    minute_hours = (np.arange(days * MINUTES_PER_DAY) + 0.5) / 60
    return np.interp(minute_hours, hours, floor + region_bg)


def _runs(rng: np.random.Generator, n: int, per_day: float, mean_len: float, max_len: int):
    """Indices of random runs of minutes (start uniform, length 1 + exponential)."""
    k = rng.poisson(per_day * n / MINUTES_PER_DAY)
    starts = rng.integers(0, n, k)
    lengths = np.minimum(1 + rng.exponential(mean_len, k).astype(np.int64), max_len)
    _, m = _expand(starts, lengths)
    return m[m < n]


def quality(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    flag = np.full(n, FLAG_GOOD, dtype=np.uint8)
    flag[_runs(rng, n, INFO_FLAG_RUNS_PER_DAY, INFO_FLAG_MEAN_MIN, 600)] = FLAG_E_INTERP
    flag[_runs(rng, n, GAPS_PER_DAY, GAP_MEAN_MIN, GAP_MAX_MIN)] = FLAG_BAD
    flag[_runs(rng, n, SINGLE_FILLS_PER_DAY, 0.0, 1)] = FLAG_BAD
    num = (60 - np.minimum(rng.poisson(0.3, n), 10)).astype(np.uint8)  # a few 1-s samples excluded
    num[flag == FLAG_BAD] = 0
    return flag, num


def catalogue(fl: Flares, bg_b: np.ndarray, flare_b: np.ndarray, noisy_b: np.ndarray) -> Catalogue:
    n = bg_b.size
    t0 = fl.t_onset * MINUTES_PER_DAY
    begin = np.floor(t0).astype(np.int64)
    peak = np.floor(t0 + fl.rise).astype(np.int64)
    ok = peak + 1 < n
    total = bg_b + flare_b
    pre = np.maximum(begin - 1, 0)
    peak_c = np.minimum(peak, n - 1)
    own = fl.peak_flux * _profile(peak_c + 0.5 - t0, fl.rise, fl.decay)
    ok &= total[peak_c] >= RISE_CRITERION * total[pre]  # a rise NOAA's algorithm would detect
    ok &= own >= 0.5 * flare_b[peak_c]  # this flare, not a neighbour, makes the peak
    idx = np.nonzero(ok)[0]
    m = peak[idx]
    for _ in range(10):  # climb to the local maximum of the 1-minute series, as a catalogue reads it
        right = np.minimum(m + 1, n - 1)
        left = np.maximum(m - 1, 0)
        m = np.where(noisy_b[right] > noisy_b[m], right, np.where(noisy_b[left] > noisy_b[m], left, m))
    keep = noisy_b[m] >= LETTER_FLUX["B"]
    idx, m = idx[keep], m[keep]
    # Two flares climbing to the same minute are one catalogue event: keep the larger.
    order = np.lexsort((-fl.peak_flux[idx], m))
    first_of_minute = np.r_[True, np.diff(m[order]) != 0]
    idx, m = idx[order][first_of_minute], m[order][first_of_minute]
    b = np.minimum(begin[idx], m)
    e = np.clip(np.floor(t0[idx] + fl.rise[idx] + math.log(2) * fl.decay[idx]).astype(np.int64), m, n - 1)
    cum = np.r_[0.0, np.cumsum(noisy_b.astype(np.float64))]
    integrated = (cum[e + 1] - cum[b]) * 60.0
    order = np.argsort(b, kind="stable")
    return Catalogue(flare=idx[order], begin=b[order], peak=m[order], end=e[order],
                     peak_flux=noisy_b[m][order], integrated_flux=integrated[order], noaa=fl.noaa[idx][order])


# -- SHARP keywords -----------------------------------------------------------------------------------------
def sharp_table(rng: np.random.Generator, regions: Regions, harps: Harps, days: int, start: date) -> pd.DataFrame:
    """One row per HARP per 96-minute record on JSOC's TAI grid while the HARP is on the disk."""
    per_day = MINUTES_PER_DAY // SHARP_CADENCE_MIN
    grid = Time(start.isoformat(), scale="tai") + TimeDelta(
        np.arange(days * per_day) * SHARP_CADENCE_MIN * 60.0, format="sec")
    utc = grid.utc.datetime64
    t = (utc - np.datetime64(start)) / np.timedelta64(1, "D")  # region state is modelled in UTC days
    t_rec = np.array([s[:19].replace("-", ".").replace("T", "_") + "_TAI" for s in grid.isot])
    first = np.searchsorted(t, harps.t_on)
    last = np.searchsorted(t, harps.t_off)
    harp, rec = _expand(first, last - first)
    reg = harps.region[harp]
    n = rec.size
    flux = regions.flux(reg, t[rec]) * (1 + 0.015 * rng.standard_normal(n))
    logf = np.log10(flux)
    harp_offset = rng.standard_normal((2, len(harps.region)))[:, harp]  # per-HARP scatter about the fits
    area = 10 ** (AREA_FIT[0] * logf + AREA_FIT[1] + 0.07 * harp_offset[0] + 0.02 * rng.standard_normal(n))
    meangbz = np.maximum(MEANGBZ_FIT[0] * logf + MEANGBZ_FIT[1] + 3.0 * harp_offset[1]
                         + 0.4 * rng.standard_normal(n), 3.0)
    c = regions.complexity[reg]
    r_value = R_FIT[0] * logf + R_FIT[1] + 0.6 * c + 0.25 * rng.standard_normal(n)
    # R = 0 when no strong-gradient polarity inversion line is found: in small and simple regions
    no_pil = (c + 1.5 * (logf - 21.7) + 0.6 * rng.standard_normal(n) < -0.85) | (r_value < 1.0)
    noaa_ars = [f"{a},{b}" if b else str(a) for a, b in zip(harps.noaa[harp], harps.noaa2[harp], strict=True)]
    table = pd.DataFrame({
        "T_REC": t_rec[rec], "HARPNUM": harps.harpnum[harp], "NOAA_ARS": noaa_ars,
        "USFLUX": flux, "AREA": area, "MEANGBZ": meangbz, "R_VALUE": np.where(no_pil, 0.0, r_value),
    })
    return table.sort_values(["HARPNUM", "T_REC"], kind="stable").reset_index(drop=True)
