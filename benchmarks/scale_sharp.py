"""A SHARP store of 1,000+ active regions: ingest and per-region samples, time and peak memory by region count.

One simulation at solar-maximum activity (``flarecast.simulate``, activity 4, seed 1, ``--days`` days from
2011-01-01: ~1.4 HARPs a day) is written once into ``--cache`` (default ``$FLARECAST_BENCH_CACHE`` or
``/tmp/flarecast-bench``) and reused. For each size in ``--regions`` the SHARP rows of the first N HARPs are
written as one JSOC-style CSV, and a fresh Python process runs, each timed apart:

* ``csv``: the floor, ``pandas.read_csv`` of that CSV (read only);
* ``ingest``: ``flarecast ingest sharp`` of it into a store already holding the simulation's flare catalogue
  (read, validate, merge, write);
* ``samples``: :func:`flarecast.samples.build.samples_from_store` with ``source: sharp`` (the channels of
  ``configs/real-sharp.yaml`` without the flare-history ones, 96-minute cadence, 24-hour windows and horizon).

Printed per size: seconds, CPU seconds (``cpu_s``: the load of a shared machine stretches seconds, not CPU
time), rows (SHARP records) per second, the ratio to the CSV floor's rows per second, and
the process's peak resident memory above its size after the imports (``peak_mb``, VmHWM), with the load
average when it finished (shared machine).

    python benchmarks/scale_sharp.py                              # 100 and 300 regions, ~1 min
    nice -n 10 python benchmarks/scale_sharp.py --regions 250 500 1000 1400 --days 1100

The last line printed is JSON: per size, each stage's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def simulation(cache: Path, days: int) -> Path:
    out = cache / f"sharp-seed1-{days}d"
    if not (out / "simulation.json").exists():
        from flarecast.simulate.generate import simulate

        print(f"simulating {days} days at activity 4 into {out} (once)", file=sys.stderr)
        simulate(out, days=days, seed=1, start="2011-01-01", activity=4.0)
    return out


def subset(sim: Path, regions: int, work: Path) -> tuple[Path, int]:
    import pandas as pd

    table = pd.read_csv(sim / "sharp" / "sharp_keywords.csv", dtype={"NOAA_ARS": str})
    harps = sorted(table["HARPNUM"].unique())[:regions]
    path = work / f"sharp_{regions}.csv"
    table[table["HARPNUM"].isin(harps)].to_csv(path, index=False, lineterminator="\r\n")
    return path, len(harps)


def child(csv: Path, events_dir: Path, work: Path) -> dict:
    import astropy.time  # noqa: F401  (the SHARP reader imports it on first use; imports are not timed)
    import pandas as pd
    from common import hwm_bytes, reset_peak_rss, rss_bytes, trim_heap

    from flarecast.config import SampleConfig
    from flarecast.ingest.pipeline import ingest
    from flarecast.samples.build import samples_from_store

    store = work / "sharp.zarr"
    shutil.rmtree(store, ignore_errors=True)
    ingest("events", [events_dir], store=store)
    out = {}
    trim_heap()
    base = rss_bytes()

    def stage(name: str, fn) -> None:
        trim_heap()
        reset_peak_rss()
        t, cpu = time.perf_counter(), time.process_time()
        rows, extra = fn()
        dt = time.perf_counter() - t
        out[name] = {"rows": rows, "seconds": round(dt, 3), "cpu_s": round(time.process_time() - cpu, 3),
                     "rows_per_s": round(rows / dt),
                     "peak_mb": round((hwm_bytes() - base) / 2**20, 1), "load": round(os.getloadavg()[0], 2), **extra}

    stage("csv", lambda: (len(pd.read_csv(csv, dtype={"NOAA_ARS": str})), {}))
    stage("ingest", lambda: (ingest("sharp", [csv], store=store).rows_added, {}))
    cfg = SampleConfig(source="sharp", channels=["log_USFLUX", "log_AREA", "MEANGBZ", "R_VALUE", "missing"],
                       resample="last", cadence="96min", window="24h", horizon="24h", stride="96min",
                       targets=[">=M", "X"], convention="true", max_missing=0.2)

    def samples():
        s = samples_from_store(store, cfg)
        return out["ingest"]["rows"], {"windows": int(s.end_index.size), "regions": int(len(set(s.region.tolist())))}

    stage("samples", samples)
    for name in ("ingest", "samples"):
        out[name]["vs_csv"] = round(out[name]["rows_per_s"] / out["csv"]["rows_per_s"], 3)
    shutil.rmtree(store, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regions", type=int, nargs="+", default=[100, 300])
    ap.add_argument("--days", type=int, default=240, help="days simulated (~1.4 HARPs a day)")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("FLARECAST_BENCH_CACHE", "/tmp/flarecast-bench")))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*map(Path, args.child))))
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    sim = simulation(args.cache, args.days)
    work = args.cache / f"sharp-work-{os.getpid()}"
    work.mkdir()
    result = {"benchmark": "scale_sharp", "days": args.days, "sizes": {}}
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")])}
    try:
        for regions in args.regions:
            csv, n = subset(sim, regions, work)
            res = subprocess.run([sys.executable, __file__, "--child", str(csv), str(sim / "events"), str(work)],
                                 capture_output=True, text=True, env=env)
            if res.returncode != 0:
                sys.exit(f"{regions} regions failed:\n{res.stderr[-3000:]}")
            size = {"regions": n, **json.loads(res.stdout.strip().splitlines()[-1])}
            print(f"{n:5d} regions: {size}", file=sys.stderr)
            result["sizes"][str(n)] = size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
