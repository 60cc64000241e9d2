"""Samples over years of 1-minute GOES data: strided views vs materialised window copies.

Both variants build the samples from the same in-memory series (5 channels at 1-minute cadence, 24-hour windows
of 1440 steps, 1-hour stride, 24-hour horizon) and then deliver every window once, in batches, to the same
consumer (a mean per batch):

* ``views``: :class:`flarecast.samples.WindowDataset` through a PyTorch ``DataLoader`` (the training path); each
  batch is gathered from the strided view of the normalised series.
* ``copy``: what a first script does: materialise all windows into one ``[window, channel, step]`` array, then
  slice batches from it (slicing, the copy's best case: no second copy, sequential reads).

Memory is the peak of the bytes allocated while building and iterating (``tracemalloc``, which numpy reports
its array buffers to), with the input series already in memory. ``memory_vs_series`` divides it by the bytes
of the stored series as the store holds it (time, XRS-A, XRS-B, their masks, satellite: 20 bytes a minute).

    python benchmarks/samples.py               # five years, about a minute and 1.5 GB for the copy
    python benchmarks/samples.py --days 365

The last line printed is JSON with ``speedup`` (windows/s of views / of the copy) and ``memory_vs_series``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

from common import synthetic_goes  # noqa: E402

from flarecast.config import SampleConfig  # noqa: E402
from flarecast.samples.build import SPLITS, WindowDataset, build_samples, collate_batch  # noqa: E402


def stored_series(days: int, seed: int = 0):
    """The synthetic series in store layout (masks, satellite) with 0.5 % of minutes masked in 1-hour gaps."""
    goes, events = synthetic_goes(days, seed=seed)
    n = goes.sizes["time"]
    rng = np.random.default_rng(seed + 1)
    mask = np.zeros(n, dtype=np.uint8)
    for start in rng.integers(0, n - 60, n // 12_000):
        mask[start : start + 60] = 1
    for var in ("xrsa", "xrsb"):
        goes[var] = goes[var].where(mask == 0)
        goes[f"{var}_mask"] = ("time", mask.copy())
    goes["satellite"] = ("time", np.full(n, 16, dtype=np.int16))
    goes["time"] = goes["time"].values.astype("datetime64[ns]")
    return goes, events


def consume(x) -> float:
    return float(torch.as_tensor(x).mean())


def run(variant: str, goes, events, cfg: SampleConfig, batch: int) -> dict:
    gc.collect()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    s = build_samples(goes, events, cfg)
    built = time.perf_counter() - t0
    n = 0
    if variant == "views":
        for split in SPLITS:
            loader = torch.utils.data.DataLoader(WindowDataset(s, split), batch_size=batch, shuffle=False,
                                                 collate_fn=collate_batch)
            for x, _ in loader:
                consume(x)
                n += len(x)
    else:
        order = np.concatenate([s.indices(split) for split in SPLITS])
        copied = s.gather(order)  # every window materialised: windows x channels x steps
        for a in range(0, order.size, batch):
            consume(copied[a : a + batch])
            n += min(batch, order.size - a)
        del copied
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] - base
    out = {"windows": n, "seconds": round(seconds, 3), "build_seconds": round(built, 3),
           "windows_per_s": round(n / seconds, 1), "peak_bytes": int(peak), "samples_series_bytes": int(s.series.nbytes)}
    del s
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=5 * 365 + 1)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--cadence", default="1min")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = SampleConfig(cadence=args.cadence, window="24h", horizon="24h", stride="1h", max_missing=0.2)
    goes, events = stored_series(args.days)
    stored = int(sum(v.nbytes for v in goes.variables.values()))
    tracemalloc.start()
    result = {}
    for variant in ("views", "copy"):
        result[variant] = run(variant, goes, events, cfg, args.batch)
        print(f"{variant}: {result[variant]}", file=sys.stderr)
    tracemalloc.stop()
    summary = {
        "benchmark": "samples", "days": args.days, "cadence": args.cadence, "window_steps": cfg.window_steps,
        "channels": len(cfg.channels), "windows": result["views"]["windows"], "stored_series_bytes": stored,
        "views": result["views"], "copy": result["copy"],
        "speedup": round(result["views"]["windows_per_s"] / result["copy"]["windows_per_s"], 2),
        "memory_vs_series": round(result["views"]["peak_bytes"] / stored, 3),
        "copy_memory_vs_series": round(result["copy"]["peak_bytes"] / stored, 3),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
