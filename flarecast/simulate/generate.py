"""Simulate GOES-16 XRS light curves, an SWPC flare catalogue and SHARP keywords, in the real file formats.

The demo and the tests read these files through the same readers as real data (file layouts: see
:mod:`flarecast.simulate.formats`). The physics only has to be plausible, but the statistics a
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

from flarecast import __version__
from flarecast.classes import LETTER_FLUX
from flarecast.errors import ConfigError
from flarecast.simulate.flx1s import write_flx1s_days
from flarecast.simulate.formats import (
    FLAG_BAD,
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
from flarecast.simulate.sun import (
    MAX_DAYS,
    NOISE_A,
    NOISE_B,
    SHARP_CADENCE_MIN,
    Catalogue,
    Flares,
    Harps,
    Regions,
    background,
    catalogue,
    draw_flares,
    emerge_regions,
    flare_light_curves,
    passages,
    quality,
    sharp_table,
)
from flarecast.util import atomic_write_text


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
    one_second: bool = False,
) -> SimulationSummary:
    """Simulate ``days`` days and write them in the real GOES-16, SWPC and JSOC formats under ``outdir``.

    Writes ``goes/sci_xrsf-l2-avg1m_g16_dYYYYMMDD_v2-2-0.nc`` and ``events/YYYYMMDDevents.txt`` per UTC
    day, ``sharp/sharp_keywords.csv`` and ``simulation.json`` (the summary without ``outdir``). With
    ``one_second``, also ``goes-1s/sci_xrsf-l2-flx1s_g16_dYYYYMMDD_v2-2-0.nc`` per day: the same light
    curves at 1-second cadence (86,400 records, ~1.2 MB a day; :mod:`flarecast.simulate.flx1s`), in their
    own folder so that ingesting ``goes/`` does not mix cadences. Files of an earlier simulation in
    ``outdir`` (one with a ``simulation.json``) are removed first, so readers never mix two runs.
    ``progress(n)`` is called after each written day (of each cadence) with ``n`` = 1.

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
    if one_second:
        (out / "goes-1s").mkdir(exist_ok=True)
        write_flx1s_days(out / "goes-1s", sim.start, sim.seed, {"xrsa": sim.xrsa, "xrsb": sim.xrsb},
                         sim.flag, sim.num, provenance, progress)
    write_sharp_csv(out / "sharp" / "sharp_keywords.csv", sim.sharp)
    summary = _summary(sim, out, one_second)
    # outdir is left out of the file, so the same simulation written elsewhere is byte-identical
    record = {k: v for k, v in summary.to_dict().items() if k != "outdir"}
    atomic_write_text(out / "simulation.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
    return summary


def generate(*, days: int, seed: int, start: str = "2018-01-01", activity: float = 1.0) -> Simulation:
    """Run the simulation in memory, writing nothing: what :func:`simulate` writes, as arrays."""
    start_date = _validate(days, seed, start, activity)
    n = days * MINUTES_PER_DAY
    rng_regions, rng_flares, rng_sharp, rng_noise, rng_gaps = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5))
    regions = emerge_regions(rng_regions, days, activity)
    harps = passages(rng_regions, regions, days, start_date)
    flares = draw_flares(rng_flares, regions, harps, days, activity)

    bg_b = background(rng_noise, regions, harps, days, activity)
    flare_b, flare_a = flare_light_curves(flares, n)
    clean_b = bg_b + flare_b
    noisy_b = (clean_b * (1 + NOISE_B * rng_noise.standard_normal(n))).astype(np.float32)
    bg_a = bg_b * 0.045 * (bg_b / 1e-6) ** 0.4  # softer when quiet: A/B ~ 0.02 at B1, 0.045 at C1
    noisy_a = ((bg_a + flare_a) * (1 + NOISE_A * rng_noise.standard_normal(n))).astype(np.float32)

    flag, num = quality(rng_gaps, n)
    listed = catalogue(flares, bg_b, flare_b, noisy_b)
    bad = flag == FLAG_BAD
    return Simulation(
        start=start_date, days=int(days), seed=int(seed), activity=float(activity), regions=regions, harps=harps,
        flares=flares, catalogue=listed, xrsa=np.where(bad, FLUX_FILL, noisy_a),
        xrsb=np.where(bad, FLUX_FILL, noisy_b), flag=flag, num=num,
        sharp=sharp_table(rng_sharp, regions, harps, days, start_date),
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


def _summary(sim: Simulation, out: Path, one_second: bool = False) -> SimulationSummary:
    letters = [c[0] for c in sim.catalogue.classes]
    counts = {letter: letters.count(letter) for letter in LETTER_FLUX}
    return SimulationSummary(
        outdir=str(out), days=sim.days, seed=sim.seed, start=sim.start.isoformat(), activity=sim.activity,
        n_regions=int(sim.sharp["HARPNUM"].nunique()),
        n_noaa_regions=int(np.count_nonzero(sim.harps.noaa) + np.count_nonzero(sim.harps.noaa2)),
        flare_counts=counts, n_x_flares=counts["X"], n_m_flares=counts["M"],
        n_unattributed_flares=int(np.count_nonzero(sim.catalogue.noaa == 0)),
        files={"goes": sim.days, "events": sim.days, "sharp": 1} | ({"goes_1s": sim.days} if one_second else {}),
        gap_fraction=round(float(np.mean(sim.flag == FLAG_BAD)), 6),
    )
