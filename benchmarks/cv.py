"""CV ensemble cost: training a K-fold ensemble beside one model, and forecasting with it beside one model.

Builds the samples of ``--config`` from ``--store`` once (``samples_s``), then trains one model
(``train.cv.scheme=none``, ``single_train_s``) and the config's CV ensemble (``ensemble_train_s``, its
``train.cv`` with ``--k`` and ``--workers`` if given) into ``--out``. Forecast cost is in-process
:func:`flarecast.forecast.forecast` wall time over ``--issues`` consecutive issue times ending at the latest the
store allows, per issue time, for both models (after one warm-up call each); ``forecast_ratio`` is ensemble over
single. The ensemble's members each run on every batch of windows, so the ratio stays well below the member count
while reading the store and building windows dominate.

    python benchmarks/cv.py --config configs/real-goes-hourly.yaml --store data/goes-hourly.zarr --out runs/bench-cv
    python benchmarks/cv.py --out runs/bench-cv --reuse --threads 1      # forecast cost only, one torch thread

The last line printed is JSON with every figure and the setting (cores, threads, epochs, members).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=Path("configs/real-goes-hourly.yaml"))
    ap.add_argument("--store", type=Path, default=Path("data/goes-hourly.zarr"))
    ap.add_argument("--out", type=Path, default=Path("runs/bench-cv"))
    ap.add_argument("--k", type=int, help="folds (default: the config's train.cv.k)")
    ap.add_argument("--workers", type=int, help="member processes (default: the config's train.cv.workers)")
    ap.add_argument("--issues", type=int, default=200)
    ap.add_argument("--threads", type=int, help="torch threads while forecasting (default: torch's own)")
    ap.add_argument("--reuse", action="store_true", help="forecast with the models already in --out; no training")
    ap.add_argument("overrides", nargs="*", help="dotted config overrides, e.g. train.epochs=2")
    args = ap.parse_args()

    import pandas as pd
    import torch

    from flarecast.config import load_config
    from flarecast.forecast.issue import forecast
    from flarecast.forecast.request import Inputs, IssueTimes
    from flarecast.model.modeldir import read_card
    from flarecast.samples.build import samples_from_store
    from flarecast.train.ensemble import train_ensemble
    from flarecast.train.loop import train

    extra = [f"train.cv.k={args.k}"] * (args.k is not None) + [f"train.cv.workers={args.workers}"] * (
        args.workers is not None)
    cfg = load_config(args.config, ["train.device=cpu", *extra, *args.overrides])
    if cfg.train.cv.scheme == "none":
        raise SystemExit(f"{args.config}: train.cv.scheme is 'none'; benchmark a config that trains an ensemble")
    t0 = time.perf_counter()
    samples = samples_from_store(args.store, cfg.samples)
    samples_s = time.perf_counter() - t0

    single_dir, ens_dir = args.out / "single", args.out / "ensemble"
    trained = {}
    if not args.reuse:
        t0 = time.perf_counter()
        single = train(samples, cfg.replace(**{"train.cv.scheme": "none"}), single_dir)
        single_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ens = train_ensemble(samples, cfg, ens_dir)
        ens_s = time.perf_counter() - t0
        trained = {"single_train_s": round(single_s, 1), "single_epochs_run": single.epochs_run,
                   "ensemble_train_s": round(ens_s, 1), "member_epochs_run": [m.epochs_run for m in ens.members]}
    if args.threads:
        torch.set_num_threads(args.threads)

    latest = forecast(single_dir, Inputs(store=args.store), IssueTimes(latest=True))["forecasts"][0]["issue_time"]
    step = pd.Timedelta(cfg.samples.stride)
    start = pd.Timestamp(latest).tz_localize(None) - (args.issues - 1) * step
    per_issue = {}
    for name, model in (("single", single_dir), ("ensemble", ens_dir)):
        forecast(model, Inputs(store=args.store), IssueTimes(at=[latest]))  # warm-up: imports, first-call set-up
        t0 = time.perf_counter()
        doc = forecast(model, Inputs(store=args.store),
                       IssueTimes(start=str(start), end=latest, every=str(step)), skip_refused=True)
        issued = len({r["issue_time"] for r in doc["forecasts"]})
        per_issue[name] = (time.perf_counter() - t0) / max(issued, 1)
    result = {
        "benchmark": "cv", "config": str(args.config), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "epochs": cfg.train.epochs, "scheme": cfg.train.cv.scheme, "k": cfg.train.cv.k, "seeds": list(cfg.train.cv.seeds),
        "workers": cfg.train.cv.workers, "members": len(read_card(ens_dir).members),
        "samples_s": round(samples_s, 2), **trained, "forecast_threads": torch.get_num_threads(), "issues": issued, "single_forecast_ms": round(1000 * per_issue["single"], 3),
        "ensemble_forecast_ms": round(1000 * per_issue["ensemble"], 3),
        "forecast_ratio": round(per_issue["ensemble"] / per_issue["single"], 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
    }
    if trained:
        print(f"{result['members']}-member CV ensemble trained in {ens_s:.0f} s beside one model in {single_s:.0f} s "
              f"({os.cpu_count()} cores, {cfg.train.cv.workers} workers)")
    print(f"forecast {result['ensemble_forecast_ms']} ms vs {result['single_forecast_ms']} ms per issue time "
          f"(x{result['forecast_ratio']}, {result['forecast_threads']} torch threads)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
