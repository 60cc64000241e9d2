"""Simulate GOES-16 XRS light curves, an SWPC flare catalogue and SHARP keywords, in the real file formats.

The demo and the tests read these files through the same readers as real data (file layouts: see
:mod:`flarecast.simulate_formats`). The physics only has to be plausible, but the statistics a
forecaster learns from should look like the Sun's. ``activity`` 1 is a moderate Sun, 3-4 solar maximum.

Active regions (SHARP HARPs, NOAA ARs)
    Regions emerge as a Poisson process, 0.3 x activity a day (~2 on the disk at activity 1, ~8 at 4).
    Complex regions are commoner near maximum (Jaeggli & Norton 2016), so a region's hidden complexity
    c ~ N(0.7 ln(activity), 1). Peak unsigned flux USFLUX is log-normal (10^(21.6 +- 0.45) Mx, clipped to
    1e21..1e23); flux rises for the first 30 % of the region's life, ~12 d x (flux / 5e21 Mx)^0.4, and
    decays for the rest. The synodic rotation (27.275 d) shows a region for at most ~13.6 d per passage;
    each visible passage gets its own HARPNUM and NOAA number, increasing with first appearance and
    anchored to the real numbering (HARP ~7220, AR 12694 on 2018-01-01); ~15 % of HARPs hold two NOAA ARs.
    AREA, MEANGBZ and R_VALUE follow log10 USFLUX with the linear fits and scatter of the real SHARP
    sample (``shared/data/real/sharp``, Sun et al. 2022); R_VALUE (Schrijver 2007) also carries the
    complexity c, and is 0 (no strong-gradient polarity inversion line) in small, simple regions: ~1/3 of
    rows at activity 1, as in the real sample. Rows every 96 minutes on JSOC's TAI grid, like that
    sample; projection effects near the limb are not modelled.

Flares
    Each region flares as a Poisson process with rate 1.7/day x (USFLUX/1e22)^1.3 x e^(0.5 c), x 1.5
    while its flux emerges: flux, R_VALUE and flux emergence are among the best single predictors
    (Leka & Barnes 2003, 2007; Schrijver 2007; Bobra & Couvidat 2015), a learnable but imperfect signal.
    Own peak fluxes follow dN/dF ~ F^-1.85 above B1 (1e-7 W m^-2), truncated per region at
    2e-3 x (USFLUX/1e22)^1.5 x e^(0.5 c) (at least M3), so the largest flares come from large complex
    regions, and everywhere at 3e-3 (X30 true; the largest recorded, 2003-11-04, was X28 SWPC-scaled).
    The truncation steepens the pooled distribution: a maximum-likelihood fit gives alpha ~1.85-1.9 above
    B1 and ~1.85-1.95 above C1, within the 1.8-2.0 of Hudson (1991) and Aschwanden et al. (2016).
    About 10 % of flares (<= M1) come from no numbered region and have an empty region field.

    XRS-B: sin^2 rise over ~4 min x (F/1e-6)^0.2, exponential decay with e-folding ~9 min x (F/1e-6)^0.25,
    both log-normally scattered: catalogue durations have medians of ~8 (B), 11 (C), 20 (M) and 25-40 (X)
    minutes, growing with class as in Veronig et al. (2002). XRS-A peaks earlier and cools faster; the
    flare's own A/B at peak is 0.12 x (F/1e-6)^0.25, so the written A/B at Max is ~0.05 (B), ~0.08 (C),
    ~0.2 (M), ~0.45 (X), against ~0.01-0.05 for the quiet background.

Background and instrument
    A floor ~2.5e-8 x activity^0.5 W m^-2 wandering by 0.15 dex over ~5 days, plus each visible
    region's quiescent emission 1.5e-7 x (USFLUX/1e22)^1.3 (ramped over 0.5 d at the limbs): median XRS-B
    ~B1 at activity 1, ~B5 at activity 4, within the quiet-Sun range 1e-8..1e-6. Multiplicative noise
    2 % (XRS-B), 3 % (XRS-A). Gaps: ~0.08 runs a day of 1-180 minutes plus ~0.3 isolated minutes
    (-9999, flag ``bad_data``, num 0; ~0.2 % of minutes). ~1 % of valid minutes carry the informational
    flag ``e_correction_interp`` (16), as real GOES-16 files do: mask on the ``bad_data`` bit, not on
    "flag != 0".

Catalogue
    One ``XRA`` row per flare NOAA's detection would find: own peak >= B1, total XRS-B at its peak
    >= 1.4 x the minute before onset (NOAA's rise criterion), and the flare dominating the flux at its
    peak. Begin = onset minute; Max = the local maximum of the written 1-minute XRS-B next to the flare's
    peak; End = when the flare has decayed to half its peak above background (NOAA's definition). The
    class is the total XRS-B (background included) at Max, as written in the netCDF file, on the TRUE
    irradiance basis (GOES-16): ~1.43 x the class a pre-2020 SWPC-scaled catalogue would give.
    Resulting skew at activity 1: an M or X flare peaks in ~4-6 % of 24-hour windows, an X in ~0.4-1 %;
    at activity 4, ~25-30 % and ~3-4.5 %.

Reproducibility: the same arguments give byte-identical files (``numpy.random.SeedSequence`` streams;
file dates derive from data dates, never from the clock).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.time import Time, TimeDelta

from flarecast import __version__
from flarecast.classes import LETTER_FLUX, format_class
from flarecast.errors import ConfigError
from flarecast.simulate.formats import (
    FLAG_BAD,
    FLAG_E_INTERP,
    FLAG_GOOD,
    FLUX_FILL,
    MINUTES_PER_DAY,
    event_rows,
    events_filename,
    goes_filename,
    prepare_outdir,
    write_events_day,
    write_goes_day,
    write_sharp_csv,
)

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


@dataclass(frozen=True)
class Simulation:
    """Everything :func:`simulate` writes, in memory: 1-minute series start at ``start`` 00:00 UTC."""

    start: date
    days: int
    seed: int
    activity: float
    regions: Regions
    harps: Harps
    flares: Flares
    catalogue: Catalogue
    xrsa: np.ndarray  # float32, -9999 in gaps
    xrsb: np.ndarray
    flag: np.ndarray  # uint8, same for both channels
    num: np.ndarray  # uint8 samples averaged
    sharp: pd.DataFrame


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation wrote; also saved as ``outdir/simulation.json``."""

    outdir: str
    days: int
    seed: int
    start: str
    activity: float
    n_regions: int  # HARPs (visible passages) with at least one SHARP row
    n_noaa_regions: int
    flare_counts: dict[str, int]  # catalogue rows per class letter, true basis
    n_x_flares: int
    n_m_flares: int
    n_unattributed_flares: int
    files: dict[str, int]
    gap_fraction: float  # share of minutes written as fill
    flux_basis: str = "true"
    satellite: str = "g16"
    sharp_cadence_minutes: int = SHARP_CADENCE_MIN
    flarecast_version: str = __version__

    def to_dict(self) -> dict:
        return asdict(self)


def simulate(
    outdir: str | Path,
    *,
    days: int,
    seed: int,
    start: str = "2018-01-01",
    activity: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> SimulationSummary:
    """Simulate ``days`` days and write them in the real GOES-16, SWPC and JSOC formats under ``outdir``.

    Writes ``goes/sci_xrsf-l2-avg1m_g16_dYYYYMMDD_v2-2-0.nc`` and ``events/YYYYMMDDevents.txt`` per UTC
    day, ``sharp/sharp_keywords.csv`` and ``simulation.json`` (the summary without ``outdir``). Files of
    an earlier simulation in ``outdir`` (one with a ``simulation.json``) are removed first, so readers
    never mix two runs. ``progress(n)`` is called after each written day with ``n`` = 1.

    Examples
    --------
    >>> s = simulate("data/sim", days=30, seed=0, activity=3.0)  # doctest: +SKIP
    >>> s.flare_counts["M"]  # doctest: +SKIP
    """
    sim = generate(days=days, seed=seed, start=start, activity=activity)
    out = prepare_outdir(outdir)
    provenance = (f"flarecast {__version__} simulate(days={sim.days}, seed={sim.seed}, "
                  f"start='{sim.start.isoformat()}', activity={sim.activity!r})")
    cat = sim.catalogue
    rows_by_day = event_rows(cat.begin, cat.peak, cat.end, cat.classes, cat.integrated_flux, cat.noaa)
    for d in range(sim.days):
        day = sim.start + timedelta(days=d)
        sl = slice(d * MINUTES_PER_DAY, (d + 1) * MINUTES_PER_DAY)
        channels = {ch: {"flux": x[sl], "flag": sim.flag[sl], "num": sim.num[sl]}
                    for ch, x in (("xrsa", sim.xrsa), ("xrsb", sim.xrsb))}
        write_goes_day(out / "goes" / goes_filename(day), day, channels, provenance)
        write_events_day(out / "events" / events_filename(day), day, rows_by_day.get(d, []), sim.seed)
        if progress is not None:
            progress(1)
    write_sharp_csv(out / "sharp" / "sharp_keywords.csv", sim.sharp)
    summary = _summary(sim, out)
    # outdir is left out of the file, so the same simulation written elsewhere is byte-identical
    record = {k: v for k, v in summary.to_dict().items() if k != "outdir"}
    (out / "simulation.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return summary


def generate(*, days: int, seed: int, start: str = "2018-01-01", activity: float = 1.0) -> Simulation:
    """Run the simulation in memory, writing nothing: what :func:`simulate` writes, as arrays."""
    start_date = _validate(days, seed, start, activity)
    n = days * MINUTES_PER_DAY
    rng_regions, rng_flares, rng_sharp, rng_noise, rng_gaps = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5))
    regions = _emerge_regions(rng_regions, days, activity)
    harps = _passages(rng_regions, regions, days, start_date)
    flares = _draw_flares(rng_flares, regions, harps, days, activity)

    bg_b = _background(rng_noise, regions, harps, days, activity)
    flare_b, flare_a = _flare_light_curves(flares, n)
    clean_b = bg_b + flare_b
    noisy_b = (clean_b * (1 + NOISE_B * rng_noise.standard_normal(n))).astype(np.float32)
    bg_a = bg_b * 0.045 * (bg_b / 1e-6) ** 0.4  # softer when quiet: A/B ~ 0.02 at B1, 0.045 at C1
    noisy_a = ((bg_a + flare_a) * (1 + NOISE_A * rng_noise.standard_normal(n))).astype(np.float32)

    flag, num = _quality(rng_gaps, n)
    catalogue = _catalogue(flares, bg_b, flare_b, noisy_b)
    bad = flag == FLAG_BAD
    return Simulation(
        start=start_date, days=int(days), seed=int(seed), activity=float(activity), regions=regions, harps=harps,
        flares=flares, catalogue=catalogue, xrsa=np.where(bad, FLUX_FILL, noisy_a),
        xrsb=np.where(bad, FLUX_FILL, noisy_b), flag=flag, num=num,
        sharp=_sharp_table(rng_sharp, regions, harps, days, start_date),
    )


# -- validation and output --------------------------------------------------------------------------------
def _validate(days, seed, start, activity) -> date:
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"days={days!r}: expected a whole number of days from 1 to {MAX_DAYS}, such as 730")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed={seed!r}: expected a non-negative integer, such as 0")
    if isinstance(activity, bool) or not isinstance(activity, int | float) or not (
            math.isfinite(activity) and activity > 0):
        raise ConfigError(f"activity={activity!r}: expected a positive number (1 moderate, 3-4 solar maximum)")
    try:
        return date.fromisoformat(str(start))
    except ValueError:
        raise ConfigError(f"start={start!r} is not a date: expected YYYY-MM-DD, such as '2018-01-01'") from None


def _summary(sim: Simulation, out: Path) -> SimulationSummary:
    letters = [c[0] for c in sim.catalogue.classes]
    counts = {letter: letters.count(letter) for letter in LETTER_FLUX}
    return SimulationSummary(
        outdir=str(out), days=sim.days, seed=sim.seed, start=sim.start.isoformat(), activity=sim.activity,
        n_regions=int(sim.sharp["HARPNUM"].nunique()),
        n_noaa_regions=int(np.count_nonzero(sim.harps.noaa) + np.count_nonzero(sim.harps.noaa2)),
        flare_counts=counts, n_x_flares=counts["X"], n_m_flares=counts["M"],
        n_unattributed_flares=int(np.count_nonzero(sim.catalogue.noaa == 0)),
        files={"goes": sim.days, "events": sim.days, "sharp": 1},
        gap_fraction=round(float(np.mean(sim.flag == FLAG_BAD)), 6),
    )


# -- regions ------------------------------------------------------------------------------------------------
def _emerge_regions(rng: np.random.Generator, days: int, activity: float) -> Regions:
    n = rng.poisson(EMERGENCE_PER_DAY * activity * (days + BURN_IN_DAYS))
    flux_max = 10 ** np.clip(rng.normal(LOG10_FLUX_MEAN, LOG10_FLUX_SD, n), 21.0, 23.0)
    return Regions(
        t_emerge=np.sort(rng.uniform(-BURN_IN_DAYS, days, n)),
        lifetime=np.clip(12.0 * (flux_max / 5e21) ** 0.4 * rng.lognormal(0.0, 0.35, n), 3.0, 90.0),
        flux_max=flux_max,
        complexity=rng.normal(COMPLEXITY_PER_LN_ACTIVITY * math.log(activity), 1.0, n),
        phase=rng.uniform(0.0, SYNODIC_DAYS, n),
    )


def _passages(rng: np.random.Generator, regions: Regions, days: int, start: date) -> Harps:
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


def _draw_flares(rng: np.random.Generator, regions: Regions, harps: Harps, days: int, activity: float) -> Flares:
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


def _flare_light_curves(fl: Flares, n: int) -> tuple[np.ndarray, np.ndarray]:
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
def _background(rng: np.random.Generator, regions: Regions, harps: Harps, days: int, activity: float):
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


def _quality(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    flag = np.full(n, FLAG_GOOD, dtype=np.uint8)
    flag[_runs(rng, n, INFO_FLAG_RUNS_PER_DAY, INFO_FLAG_MEAN_MIN, 600)] = FLAG_E_INTERP
    flag[_runs(rng, n, GAPS_PER_DAY, GAP_MEAN_MIN, GAP_MAX_MIN)] = FLAG_BAD
    flag[_runs(rng, n, SINGLE_FILLS_PER_DAY, 0.0, 1)] = FLAG_BAD
    num = (60 - np.minimum(rng.poisson(0.3, n), 10)).astype(np.uint8)  # a few 1-s samples excluded
    num[flag == FLAG_BAD] = 0
    return flag, num


def _catalogue(fl: Flares, bg_b: np.ndarray, flare_b: np.ndarray, noisy_b: np.ndarray) -> Catalogue:
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
def _sharp_table(rng: np.random.Generator, regions: Regions, harps: Harps, days: int, start: date) -> pd.DataFrame:
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
