"""Shared fixtures: a small simulated store (through the real readers) and the path of the shared real data."""

from __future__ import annotations

from pathlib import Path

import pytest

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
