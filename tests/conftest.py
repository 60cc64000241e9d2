"""Shared fixtures: a small simulated store (through the real readers) and the path of the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: `make test` and CI run each with a fixed seed, so a run is repeatable and a red CI is a change,
# not a draw (an example found once is added with @example). HYPOTHESIS_PROFILE=explore draws new examples,
# five times as many: `HYPOTHESIS_PROFILE=explore .venv/bin/pytest -q tests/hostile/test_parsers.py`.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (CI and developers have ../shared beside the repository)")
    return REAL


@pytest.fixture(scope="session")
def sim_store(tmp_path_factory) -> Path:
    """40 simulated days at solar-maximum activity, ingested into a Zarr store."""
    from flarecast.ingest.pipeline import ingest
    from flarecast.simulate.generate import simulate

    root = tmp_path_factory.mktemp("sim")
    simulate(root / "raw", days=40, seed=3, activity=4.0)
    store = root / "store.zarr"
    ingest("goes", [root / "raw" / "goes"], store=store)
    ingest("events", [root / "raw" / "events"], store=store)
    return store


@pytest.fixture(scope="session")
def tiny_model(sim_store, tmp_path_factory) -> Path:
    """A GOES model (demo config, tiny settings) trained one epoch on the simulated store."""
    from flarecast.config import builtin_config, load_config
    from flarecast.samples.build import samples_from_store
    from flarecast.train.loop import train

    cfg = load_config(builtin_config("demo"), TINY + ["train.epochs=1"])
    out = tmp_path_factory.mktemp("model") / "m"
    train(samples_from_store(sim_store, cfg.samples), cfg, out)
    return out


TINY = ["samples.cadence=30min", "model.hidden=8", "train.batch_size=64", "train.device=cpu"]


def flatten(d, prefix=""):
    """Nested dict -> (dotted key, value) pairs, to compare two configs key by key."""
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


GAPS = ((40, 1.0), (95, 2.5), (160, 0.4), (230, 3.0), (300, 1.5), (377, 0.5), (450, 2.0), (520, 1.0), (610, 2.2),
        (690, 0.3))
"""(first day, length in days) of the X-ray gaps of :func:`two_years`: whole days and partial ones."""


@pytest.fixture(scope="session")
def two_years(tmp_path_factory):
    """Two simulated years (2018-2019) as an hourly ``time,xrsa,xrsb`` CSV with the :data:`GAPS` blanked and a
    plain-CSV flare catalogue (complete through the gaps, as other satellites' catalogues are), ingested into a
    store. Returns ``(store, hourly frame as ingested)``."""
    import numpy as np
    import pandas as pd

    from flarecast.ingest.pipeline import ingest
    from flarecast.simulate.generate import generate

    sim = generate(days=730, seed=5, activity=2.0)
    root = tmp_path_factory.mktemp("two-years")
    t0 = pd.Timestamp(sim.start)
    minutes = t0 + pd.to_timedelta(np.arange(sim.xrsb.size), "min")
    flux = pd.DataFrame({c: np.where(getattr(sim, c) > 0, getattr(sim, c), np.nan) for c in ("xrsa", "xrsb")},
                        index=minutes).resample("1h").max()
    for first, length in GAPS:
        flux.loc[t0 + pd.Timedelta(days=first): t0 + pd.Timedelta(days=first + length) - pd.Timedelta("1h")] = np.nan
    flux.rename_axis("time").to_csv(root / "xrs_hourly.csv", date_format="%Y-%m-%dT%H:%M:%S")
    cat = sim.catalogue
    at = lambda m: (t0 + pd.to_timedelta(m, "min")).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    pd.DataFrame({"class": cat.classes, "start": at(cat.begin), "peak": at(cat.peak), "end": at(cat.end),
                  "noaa_ar": cat.noaa}).to_csv(root / "flares.csv", index=False)
    store = root / "store.zarr"
    ingest("goes", [root / "xrs_hourly.csv"], store=store, basis="true")
    ingest("events", [root / "flares.csv"], store=store, basis="true")
    return store, flux


HOURLY = ["samples.cadence=1h", "samples.stride=6h", "model.hidden=8", "train.batch_size=256", "train.device=cpu",
          "train.epochs=1"]


@pytest.fixture(scope="session")
def hourly_model(two_years, tmp_path_factory):
    """A CE model trained one epoch on :func:`two_years` (1 h steps, 24 h window, targets >=C, >=M, X)."""
    from flarecast.config import builtin_config, load_config
    from flarecast.samples.build import samples_from_store
    from flarecast.train.loop import train

    cfg = load_config(builtin_config("demo"), HOURLY)
    out = tmp_path_factory.mktemp("hourly-model") / "m"
    train(samples_from_store(two_years[0], cfg.samples), cfg, out)
    return out


@pytest.fixture(scope="session")
def day_model(sim_store, tmp_path_factory):
    """A model of 3 UT forecast days (cumulative head, ordinal CE) trained one epoch on the simulated store (shared by
    tests/test_horizons.py and tests/test_combine.py)."""
    from flarecast.config import builtin_config, load_config
    from flarecast.samples.build import samples_from_store
    from flarecast.train.loop import train

    cfg = load_config(builtin_config("demo"), TINY + [
        "train.epochs=1", "samples.days=3", "model.head=cumulative", "train.loss.name=ordinal"])
    out = tmp_path_factory.mktemp("days") / "m"
    train(samples_from_store(sim_store, cfg.samples), cfg, out)
    return out, cfg
