"""Samples and one training epoch over years of 1-minute GOES data: time and peak memory as the years grow.

For each size (``--years``) a fresh Python process loads the imports and builds the model, then:

1. ``series``: makes the synthetic 1-minute series in store layout (time, XRS-A/B, masks, satellite:
   20 bytes a minute, ``series_mb``; as ``benchmarks/samples.py``: 0.5 % of minutes masked in 1-hour gaps);
2. ``samples``: :func:`flarecast.samples.build.build_samples` (5 channels, 24-hour windows of 1440 steps,
   1-hour stride, 24-hour horizon); the input series is then dropped, as ``flarecast train`` does;
3. ``loader``: one epoch of the data path: every training window, shuffled, through
   :class:`flarecast.samples.WindowDataset` and a PyTorch DataLoader (batch 256; strided views: each batch
   gathered from the normalised series, no window copied ahead), each batch consumed by a mean;
4. ``train``: the temporal CNN (hidden 16, 1 thread, fp32) trained on the first ``--train-batches`` batches of
   that epoch (``0``: the whole epoch). On the CPU a 1440-step window costs ~50 ms to train on, so a full
   5-year epoch (~30,000 windows) takes ~25 min on a shared 2-core machine; the windows/s of a part is the
   epoch's, and the activations (what a batch adds, the same at any number of years) peak in the first batch.

Printed per size: seconds and windows (or rows) per second of each stage, the process's peak resident memory
above its size before the data existed (``peak_mb``, VmHWM; imports, the model and a warm-up build on 30 days
excluded, so that lazily loaded code is not counted as data), and
``peak_vs_series`` = that peak / ``series_mb`` (target: at most 2 for the epoch's data path); ``load`` is the
load average when the stage ended (shared machine).

    python benchmarks/scale_train.py                        # 0.25 and 0.5 years, ~1 min
    nice -n 10 python benchmarks/scale_train.py --years 1 3 5

The last line printed is JSON: per size, each stage's figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def child(years: float, hidden: int, batch: int, train_batches: int) -> dict:
    import torch
    from common import hwm_bytes, reset_peak_rss, rss_bytes, trim_heap
    from samples import stored_series

    from flarecast.config import LossConfig, ModelConfig, SampleConfig
    from flarecast.model.network import TemporalCNN
    from flarecast.samples.build import WindowDataset, build_samples, collate_batch
    from flarecast.train.loop import run_epoch, seed_everything

    torch.set_num_threads(1)
    cfg = SampleConfig(cadence="1min", window="24h", horizon="24h", stride="1h", max_missing=0.2)
    seed_everything(0)
    model = TemporalCNN(len(cfg.channels), len(cfg.targets), cfg.window_steps, ModelConfig(hidden=hidden))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = LossConfig(alpha=0.25, gamma=2.0)
    # warm-up on 30 days: the modules and buffers the first build and batch load lazily are then resident, so
    # that what the sizes add is data, not code
    goes, events = stored_series(30)
    warm = build_samples(goes, events, cfg)
    next(iter(torch.utils.data.DataLoader(WindowDataset(warm, "train"), batch_size=batch, collate_fn=collate_batch)))
    del goes, events, warm
    trim_heap()
    base = rss_bytes()
    reset_peak_rss()
    days = round(years * 365.25)
    out: dict = {"years": years, "days": days}

    t = time.perf_counter()
    goes, events = stored_series(days)
    series = sum(v.nbytes for v in goes.variables.values())
    out["series"] = {"rows": goes.sizes["time"], "seconds": round(time.perf_counter() - t, 2),
                     "series_mb": round(series / 2**20, 1)}

    t = time.perf_counter()
    samples = build_samples(goes, events, cfg)
    dt = time.perf_counter() - t
    del goes, events
    trim_heap()
    out["samples"] = {"windows": int(samples.end_index.size), "seconds": round(dt, 2),
                      "rows_per_s": round(out["series"]["rows"] / dt), "windows_per_s": round(samples.end_index.size / dt),
                      "peak_mb": round((hwm_bytes() - base) / 2**20, 1),
                      "held_mb": round((rss_bytes() - base) / 2**20, 1), "load": round(os.getloadavg()[0], 2)}

    loader = torch.utils.data.DataLoader(WindowDataset(samples, "train"), batch_size=batch, shuffle=True,
                                         collate_fn=collate_batch)
    reset_peak_rss()
    t, n = time.perf_counter(), 0
    for x, _ in loader:
        float(x.mean())
        n += len(x)
    dt = time.perf_counter() - t
    out["loader"] = {"windows": n, "seconds": round(dt, 2), "windows_per_s": round(n / dt, 1),
                     "peak_mb": round((hwm_bytes() - base) / 2**20, 1), "load": round(os.getloadavg()[0], 2)}

    part = loader if not train_batches else list(itertools.islice(iter(loader), train_batches))
    reset_peak_rss()
    t = time.perf_counter()
    _, n = run_epoch(model, part, opt, None, loss, device=torch.device("cpu"), bf16=False)
    dt = time.perf_counter() - t
    out["train"] = {"windows": n, "seconds": round(dt, 2), "windows_per_s": round(n / dt, 1),
                    "peak_mb": round((hwm_bytes() - base) / 2**20, 1), "load": round(os.getloadavg()[0], 2)}
    for stage in ("samples", "loader", "train"):
        out[stage]["peak_vs_series"] = round(out[stage]["peak_mb"] / out["series"]["series_mb"], 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--years", type=float, nargs="+", default=[0.25, 0.5])
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--train-batches", type=int, default=4, help="batches trained on (0: the whole epoch)")
    ap.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.hidden, args.batch, args.train_batches)))
        return
    result = {"benchmark": "scale_train", "cadence": "1min", "window_steps": 1440, "sizes": {}}
    for years in args.years:
        res = subprocess.run([sys.executable, __file__, "--child", str(years), "--hidden", str(args.hidden),
                              "--batch", str(args.batch), "--train-batches", str(args.train_batches)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"{years} years failed:\n{res.stderr[-3000:]}")
        size = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"{years:5.2f} y: {size}", file=sys.stderr)
        result["sizes"][str(years)] = size
    print(json.dumps(result))


if __name__ == "__main__":
    main()
