"""Ingest speed against sunpy and raw h5py on the five GOES-16 avg1m days, and peak memory vs number of files.

Speed (default). The same five files (``sci_xrsf-l2-avg1m_g16_d2017090{4..8}``, 7200 rows) are

* ``ingest``: :func:`flarecast.ingest.ingest` into a fresh store each repeat: find the reader, read,
  validate (times, units, fill values, flags), convert, merge, write atomically;
* ``sunpy``: ``sunpy.timeseries.TimeSeries(path)`` per file and ``to_dataframe()`` (read only);
* ``h5py``: ``time``, ``xrsa_flux``, ``xrsb_flux`` and the two flag variables read with h5py (read only).

Each method runs ``--repeats`` times after one warm-up, in this process; the best time counts (the
machine is shared, and the best run is the one least disturbed by others). rows/s = 7200 / seconds.

    python benchmarks/ingest.py                    # ~10 s
    python benchmarks/ingest.py --memory 30 300    # + peak memory of ingesting 30 and 300 simulated days

``--memory N ...`` simulates N days of GOES-16 avg1m files (one file a day, ``flarecast.simulate``) and
ingests each set into an empty store in a fresh Python process, reporting that process's peak resident
memory (VmHWM) in MB; the reading workers (one per core, for inputs over 64 MB) hold one file at a time.

The last line printed is JSON with ``speedup`` (ingest rows/s / sunpy rows/s) and, with ``--memory``,
``memory_mb`` by number of files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
FILES = [REAL / "goes" / f"sci_xrsf-l2-avg1m_g16_d201709{d:02d}_v2-2-0.nc" for d in range(4, 9)]


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up: imports, file cache
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def with_sunpy() -> int:
    import sunpy.timeseries

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sum(len(sunpy.timeseries.TimeSeries(str(f)).to_dataframe()) for f in FILES)


def with_h5py() -> int:
    import h5py

    n = 0
    for f in FILES:
        with h5py.File(f, "r") as h:
            cols = [h[v][()] for v in ("time", "xrsa_flux", "xrsb_flux", "xrsa_flag", "xrsb_flag")]
            n += len(cols[0])
    return n


def with_ingest(root: Path) -> int:
    from flarecast.ingest.pipeline import ingest

    store = root / "store.zarr"
    shutil.rmtree(store, ignore_errors=True)
    return ingest("goes", FILES, store=store).rows_added


MEMORY_CHILD = """
import sys
from flarecast.ingest.pipeline import ingest
if __name__ == "__main__":
    report = ingest("goes", [sys.argv[1]], store=sys.argv[2])
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
    hwm = next(int(s.split()[1]) for s in open("/proc/self/status") if s.startswith("VmHWM:"))
    print(report.rows_added, len(report.files), hwm // 1024)
"""


def peak_memory(days: int, root: Path) -> dict:
    from flarecast.simulate.generate import simulate

    raw = root / f"sim{days}"
    simulate(raw, days=days, seed=1)
    script = root / "child.py"
    script.write_text(MEMORY_CHILD)
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(script), str(raw / "goes"), str(root / f"store{days}.zarr")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    rows, files, peak = map(int, out[-3:])
    return {"files": files, "rows": rows, "seconds": round(time.perf_counter() - t, 1), "peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory", type=int, nargs="*", default=[], metavar="DAYS")
    args = parser.parse_args()
    missing = [f for f in FILES if not f.is_file()]
    if missing:
        sys.exit(f"missing {missing[0]}: the benchmark needs ../shared/data/real (or FLARECAST_REAL_DATA)")
    rows = 5 * 1440
    with tempfile.TemporaryDirectory(prefix="flarecast-bench-") as tmp:
        root = Path(tmp)
        assert with_sunpy() == with_h5py() == with_ingest(root) == rows
        seconds = {
            "h5py": best_of(with_h5py, args.repeats),
            "sunpy": best_of(with_sunpy, args.repeats),
            "ingest": best_of(lambda: with_ingest(root), args.repeats),
        }
        result = {"files": len(FILES), "rows": rows, "repeats": args.repeats}
        for name, s in seconds.items():
            result[f"{name}_s"] = round(s, 4)
            result[f"{name}_rows_per_s"] = round(rows / s)
            print(f"{name:>7}: {s * 1000:7.1f} ms  {rows / s:10,.0f} rows/s", file=sys.stderr)
        result["speedup"] = round(seconds["sunpy"] / seconds["ingest"], 2)
        if args.memory:
            result["memory_mb"] = {}
            for days in args.memory:
                m = peak_memory(days, root)
                print(f"memory: {days} files, {m}", file=sys.stderr)
                result["memory_mb"][str(days)] = m
    print(json.dumps(result))


if __name__ == "__main__":
    main()
