"""Ingest at scale: months of 1-second GOES-16 files against the h5py read floor, sunpy, and a dask cluster.

For each size (days of ``sci_xrsf-l2-flx1s_g16`` files, 86,400 rows a day: 31 days = 2.7 M rows, 365 days =
31.5 M rows) each method runs once in a fresh Python process, so that its peak resident memory (VmHWM) is
its own:

* ``h5py``: the floor. ``time``, ``xrsa_flux``, ``xrsb_flux``, ``xrsa_flags``, ``xrsb_flags`` of every file
  read with h5py, one file at a time, in one process (read only, nothing kept);
* ``ingest``: :func:`flarecast.ingest.ingest` of the same files into an empty store (read, validate, mask,
  stage, merge, write the Zarr store and swap it in; local worker processes read the files);
* ``sunpy``: ``sunpy.timeseries.TimeSeries(path).to_dataframe()`` per file, on the first ``--sunpy-files``
  files only (~0.7 s a file: a year would take minutes), so its rows/s is measured on that sample;
* ``merged`` (``--merged``): ingest with the append path of :mod:`flarecast.ingest.merge_goes` switched off,
  so that every staged row is read back, merged and written again (what ingest did before it);
* ``cluster1`` / ``cluster2`` (``--cluster``): ingest on a ``dask.distributed`` ``LocalCluster`` of 1 and of
  2 worker processes (1 thread each), for the sizes listed in ``--cluster-days``; the clock runs from the
  ingest call to its return, after the cluster has started and its workers have imported flarecast
  (``cluster_start_s``).

The floor is measured before and after the other methods and the faster of the two counts (the load of a
shared machine drifts during a run; the faster floor gives the stricter ratio).

Printed per size and method: seconds, rows, rows/s, the ratio of rows/s to the h5py floor's in the same run,
CPU seconds of the method's process and its child processes (``cpu_s``: user + system, imports excluded; the
load of a shared machine stretches seconds, not CPU time), peak RSS of the method's process (``peak_mb``) and
of its largest child process (``child_peak_mb``: ingest's
reading workers; a LocalCluster's workers are not its children and are reported by the cluster as
``workers_peak_mb``), and the load average when it finished (the machine is shared).

The files are simulated once (``flarecast.simulate``, seed 1, from 2018-01-01) into ``--cache``
(default ``$FLARECAST_BENCH_CACHE`` or ``/tmp/flarecast-bench``) and reused; a size of N days ingests the
first N files.

    python benchmarks/scale_ingest.py                                  # 2 and 6 days, ~1 min
    nice -n 10 python benchmarks/scale_ingest.py --days 31 92 365 --merged --cluster --cluster-days 31

The last line printed is JSON: per size, each method's figures, ``ingest_vs_h5py`` and
``peak_vs_smallest`` (ingest's peak RSS / its peak at the smallest size).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

VARS = ("time", "xrsa_flux", "xrsb_flux", "xrsa_flags", "xrsb_flags")


def cache_files(cache: Path, days: int) -> list[Path]:
    """The first ``days`` simulated 1-s files of the smallest cached simulation that has enough; else simulate them."""
    for d in sorted(cache.glob("flx1s-seed1-*d"), key=lambda p: int(p.name.split("-")[-1][:-1])):
        files = sorted((d / "goes-1s").glob("sci_xrsf-l2-flx1s_*.nc"))
        if len(files) >= days and (d / "simulation.json").exists():
            return files[:days]
    from flarecast.simulate.generate import simulate

    n = days
    out = cache / f"flx1s-seed1-{n}d"
    print(f"simulating {n} days of 1-s files into {out} (once; ~1.2 MB and ~1 s a day)", file=sys.stderr)
    simulate(out, days=n, seed=1, start="2018-01-01", one_second=True)
    return sorted((out / "goes-1s").glob("sci_xrsf-l2-flx1s_*.nc"))[:days]


# -- methods, each run in its own process ----------------------------------------------------------------
def run_h5py(files: list[Path], _work: Path) -> tuple[int, dict]:
    import h5py

    n = 0
    for f in files:
        with h5py.File(f, "r") as h:
            cols = [h[v][()] for v in VARS]
            n += len(cols[0])
    return n, {}


def run_sunpy(files: list[Path], _work: Path) -> tuple[int, dict]:
    import sunpy.timeseries

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sum(len(sunpy.timeseries.TimeSeries(str(f)).to_dataframe()) for f in files), {}


def run_ingest(files: list[Path], work: Path) -> tuple[int, dict]:
    from flarecast.ingest.pipeline import ingest

    store = work / "store.zarr"
    shutil.rmtree(store, ignore_errors=True)
    try:
        return ingest("goes", files, store=store).rows_added, {"store_mb": round(_du(store) / 2**20, 1)}
    finally:
        shutil.rmtree(store, ignore_errors=True)


def run_ingest_merged(files: list[Path], work: Path) -> tuple[int, dict]:
    import flarecast.ingest.merge_goes as mg

    mg.appends = lambda stored, staged: False  # as before the append path: every staged row read and rewritten
    return run_ingest(files, work)


def run_cluster(files: list[Path], work: Path, workers: int) -> tuple[int, dict]:
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      local_directory=str(work / "dask")) as cluster, Client(cluster) as client:
        client.run(lambda: __import__("flarecast.ingest.pipeline"))  # workers import before the clock starts
        started = time.perf_counter() - t
        t = time.perf_counter()
        rows, extra = run_ingest(files, work)
        seconds = time.perf_counter() - t
        peaks = client.run(_own_hwm)
    return rows, extra | {"seconds": seconds, "cluster_start_s": round(started, 1),
                          "workers_peak_mb": max(peaks.values()) // 2**20}


def _own_hwm() -> int:
    with open("/proc/self/status") as fh:
        return next(int(s.split()[1]) * 1024 for s in fh if s.startswith("VmHWM:"))


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


METHODS = {"h5py": run_h5py, "sunpy": run_sunpy, "ingest": run_ingest, "merged": run_ingest_merged,
           "cluster1": lambda f, w: run_cluster(f, w, 1), "cluster2": lambda f, w: run_cluster(f, w, 2)}


IMPORTS = {"h5py": ("h5py",), "sunpy": ("sunpy.timeseries",), "ingest": ("flarecast.ingest.pipeline",),
           "merged": ("flarecast.ingest.pipeline",),
           "cluster1": ("flarecast.ingest.pipeline", "distributed"), "cluster2": ("flarecast.ingest.pipeline", "distributed")}


def child(method: str, file_list: Path, work: Path) -> None:
    import importlib
    import resource

    for module in IMPORTS[method]:  # imports are not timed: a user pays them once a session
        importlib.import_module(module)
    files = [Path(p) for p in file_list.read_text().split("\n") if p]
    cpu0 = sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
    t = time.perf_counter()
    rows, extra = METHODS[method](files, work)
    seconds = time.perf_counter() - t
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    cpu = sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": _own_hwm() // 2**20,
                      "child_peak_mb": kids // 2**20, "cpu_s": round(cpu - cpu0, 2),
                      **extra}))  # extra["seconds"]: the ingest alone


def measure(method: str, files: list[Path], work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    listing = work / f"files-{method}.txt"
    listing.write_text("\n".join(map(str, files)))
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, __file__, "--child", method, str(listing), str(work)],
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit(f"{method} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["seconds"] = round(out["seconds"], 2)
    out["rows_per_s"] = round(out["rows"] / out["seconds"])
    out["load"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, nargs="+", default=[2, 6], help="sizes, in daily files")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("FLARECAST_BENCH_CACHE", "/tmp/flarecast-bench")))
    ap.add_argument("--sunpy-files", type=int, default=3)
    ap.add_argument("--cluster", action="store_true", help="also ingest on a LocalCluster of 1 and 2 workers")
    ap.add_argument("--cluster-days", type=int, nargs="*", default=None, help="sizes for --cluster (default: smallest)")
    ap.add_argument("--merged", action="store_true",
                    help="also ingest with the append path off (``merged``: staged rows read and written again)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    files = cache_files(args.cache, max(args.days))
    cluster_days = set(args.cluster_days or [min(args.days)]) if args.cluster else set()
    work = args.cache / f"work-{os.getpid()}"
    result = {"benchmark": "scale_ingest", "product": "flx1s", "cores": os.cpu_count(), "sizes": {}}
    try:
        for days in sorted(args.days):
            methods = ["h5py", "ingest", "sunpy"] + (["merged"] if args.merged else [])
            methods += ["cluster1", "cluster2"] if days in cluster_days else []
            size: dict = {}
            for m in methods + ["h5py_again"]:  # the floor before and after the others: the load drifts
                method = m.removesuffix("_again")
                size[m] = measure(method, files[: min(days, args.sunpy_files)] if m == "sunpy" else files[:days], work)
                print(f"{days:4d} d  {m:>10}: {size[m]}", file=sys.stderr)
            floor = max(size["h5py"]["rows_per_s"], size.pop("h5py_again")["rows_per_s"])
            size["h5py_floor_rows_per_s"] = floor  # the faster of the two: the stricter ratio
            for m in methods:
                size[m]["vs_h5py"] = round(size[m]["rows_per_s"] / floor, 3)
            size["ingest_vs_h5py"] = size["ingest"]["vs_h5py"]
            if "cluster2" in size:
                size["cluster2_vs_cluster1"] = round(size["cluster2"]["rows_per_s"] / size["cluster1"]["rows_per_s"], 3)
            result["sizes"][str(days)] = size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first = result["sizes"][str(min(args.days))]["ingest"]["peak_mb"]
    for size in result["sizes"].values():
        size["peak_vs_smallest"] = round(size["ingest"]["peak_mb"] / first, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
