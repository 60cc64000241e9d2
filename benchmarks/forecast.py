"""Forecast latency: one forecast from a cold process, and many issue times in one call.

``cold_s`` is the wall time of ``python -m flarecast forecast MODEL --store S --latest --out F`` in a fresh process,
what a scheduled job pays: interpreter start, imports, loading the model, reading the store, building the
window, inference and writing the file (median of ``--repeats``). ``per_issue_ms`` is the wall time of one
in-process :func:`flarecast.forecast.forecast` call over ``--issues`` consecutive issue times (one every model
step, ending at the latest), divided by their number; ``warm_single_ms`` is one issue time in a warm process, so
``cold_s - warm_single_ms / 1000`` is what starting a process costs.

Without ``--model`` and ``--store`` it simulates ``--days`` of GOES-16-format data, ingests them and trains the
built-in demo config's network (15-minute steps, 24-hour window, 32 channels wide) for one epoch on few windows:
the weights do not matter for speed, their shape does.

    python benchmarks/forecast.py                       # CPU
    python benchmarks/forecast.py --device cuda         # inference on the GPU (the cold run stays on the CPU)
    python benchmarks/forecast.py --model models/latest --store data/store.zarr

The last line printed is JSON with ``cold_s``, ``per_issue_ms``, ``warm_single_ms``, ``issues`` and the setting.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def prepare(work: Path, days: int) -> tuple[Path, Path]:
    from flarecast.config import builtin_config, load_config
    from flarecast.ingest.pipeline import ingest
    from flarecast.samples.build import samples_from_store
    from flarecast.simulate.generate import simulate
    from flarecast.train.loop import train

    simulate(work / "raw", days=days, seed=0, activity=4.0)
    store = work / "store.zarr"
    ingest("goes", [work / "raw" / "goes"], store=store)
    ingest("events", [work / "raw" / "events"], store=store)
    cfg = load_config(builtin_config("demo"), ["train.epochs=1", "train.device=cpu", "samples.stride=2h"])
    train(samples_from_store(store, cfg.samples), cfg, work / "model")
    return work / "model", store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--days", type=int, default=30, help="simulated days (when no --model/--store)")
    ap.add_argument("--issues", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import pandas as pd

    from flarecast.forecast.issue import forecast
    from flarecast.forecast.request import Inputs, IssueTimes
    from flarecast.model.modeldir import read_card

    with tempfile.TemporaryDirectory(prefix="flarecast-bench-") as tmp:
        work = Path(tmp)
        model, store = (args.model, args.store) if args.model and args.store else prepare(work, args.days)
        cmd = [sys.executable, "-m", "flarecast", "forecast", str(model), "--store", str(store), "--latest",
               "--out", str(work / "cold.json")]
        cold = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cold.append(time.perf_counter() - t0)
        latest = json.loads((work / "cold.json").read_text())["forecasts"][0]["issue_time"]

        card_cadence = read_card(model).cadence
        cadence = pd.Timedelta(card_cadence)
        start = pd.Timestamp(latest).tz_localize(None) - (args.issues - 1) * cadence
        forecast(model, Inputs(store=store),
                 IssueTimes(at=[latest]), device=args.device)  # warm-up: imports, first-call set-up
        t0 = time.perf_counter()
        forecast(model, Inputs(store=store), IssueTimes(at=[latest]), device=args.device)
        single = time.perf_counter() - t0
        t0 = time.perf_counter()
        doc = forecast(model, Inputs(store=store),
                       IssueTimes(start=str(start), end=latest, every=str(cadence)),
                       device=args.device, skip_refused=True)
        many = time.perf_counter() - t0
    issued = len({r["issue_time"] for r in doc["forecasts"]})
    result = {"benchmark": "forecast", "device": args.device, "cold_s": round(statistics.median(cold), 3),
              "cold_runs_s": [round(c, 3) for c in cold], "warm_single_ms": round(1000 * single, 2),
              "issues": issued, "refused": len(doc["refused"]), "batch_s": round(many, 3),
              "per_issue_ms": round(1000 * many / max(issued, 1), 3), "cadence": card_cadence}
    print(f"cold forecast {result['cold_s']} s; {issued} issue times in {many:.2f} s "
          f"({result['per_issue_ms']} ms each); one issue time warm {result['warm_single_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
