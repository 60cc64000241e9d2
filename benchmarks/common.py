"""Shared helpers for the benchmarks: a synthetic 1-minute GOES series in store layout, and memory readings."""

from __future__ import annotations

import resource

import numpy as np
import pandas as pd
import xarray as xr


def synthetic_goes(days: int, seed: int = 0, start: str = "2015-01-01") -> tuple[xr.Dataset, xr.Dataset]:
    """A 1-minute XRS series (log-random-walk background plus flare spikes) and its event list."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    t = pd.date_range(start, periods=n, freq="1min").values
    walk = np.cumsum(rng.normal(0, 0.002, n))
    logb = -6.5 + walk - np.linspace(walk[0], walk[-1], n) + rng.normal(0, 0.02, n)
    n_ev = max(1, days * 3)
    at = np.sort(rng.integers(0, n - 60, n_ev))
    peak = 10 ** (-6 + rng.pareto(0.9, n_ev) * 0.5).clip(1e-6, 2e-3)
    xrsb = 10**logb
    for i, p in zip(at, peak, strict=True):
        xrsb[i : i + 30] += p * np.exp(-np.arange(30) / 8)
    goes = xr.Dataset(
        {"xrsb": ("time", xrsb.astype("float32")), "xrsa": ("time", (xrsb * 0.05).astype("float32"))},
        coords={"time": t},
    )
    events = xr.Dataset({"peak": ("event", t[at]), "peak_flux": ("event", peak)})
    return goes, events


def trim_heap() -> None:
    """Return freed heap pages to the OS (glibc), so resident size reflects what is alive, not what was."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's resident memory (Linux); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def hwm_bytes() -> int:
    """High-water mark of resident memory since the last :func:`reset_peak_rss` (VmHWM), in bytes."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return peak_rss_bytes()
