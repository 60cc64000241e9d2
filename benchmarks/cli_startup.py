"""How long the command line takes to start: ``flarecast --help``, ``forecast --help`` and a cold ``forecast --latest``,
beside ``python -c pass`` and ``python -c "import torch"`` measured in the same run.

Each command runs in a fresh process ``--repeats`` times, the commands taking turns so that they share the
machine's load; the minimum and median wall time of each are printed with the median's ratio to ``python -c pass``
(the interpreter's own start) and to ``import torch`` (what a forecast paid before it ran the network with numpy),
and the median CPU time (user + system): on a loaded machine the wall time stretches with the load, the CPU time
much less. The targets (issue 25, 2-core machine), judged on the median wall time: ``flarecast --help`` at most
0.5 s and ``forecast --latest`` at most 2.0 s. The load average before and after is printed: on a shared machine,
compare only figures of one run.

The forecast needs a model and a store: ``--model`` and ``--store``, by default the demo's CE seed-0 model and
its store (``runs/demo``, written by ``flarecast demo``); without them the forecast row is left out.

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --repeats 9 --model models/goes --store data/goes-hourly.zarr

The last line printed is JSON: the minimum and median wall seconds and the median CPU seconds of each command,
the ratios, whether each target is met, and the load averages.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
TARGETS = {"flarecast --help": 0.5, "flarecast forecast --latest": 2.0}
"""Issue 25's limits on a 2-core machine, in seconds (median wall time of a cold process)."""


def commands(model: Path | None, store: Path | None, out: Path) -> dict[str, list[str]]:
    cmds = {
        "python -c pass": [PY, "-c", "pass"],
        "python -c 'import torch'": [PY, "-c", "import torch"],
        "flarecast --help": [PY, "-m", "flarecast", "--help"],
        "flarecast forecast --help": [PY, "-m", "flarecast", "forecast", "--help"],
    }
    if model is not None and store is not None:
        cmds["flarecast forecast --latest"] = [PY, "-m", "flarecast", "forecast", str(model), "--store", str(store),
                                               "--latest", "--out", str(out / "forecast.json")]
    return cmds


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``cmd`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "100"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", type=Path, default=Path("runs/demo/models/CE/seed0"))
    ap.add_argument("--store", type=Path, default=Path("runs/demo/store.zarr"))
    args = ap.parse_args(argv)
    have = args.model.is_dir() and args.store.is_dir()
    if not have:
        print(f"no model at {args.model} or no store at {args.store}: the forecast row is left out "
              "(run `flarecast demo` first, or pass --model and --store)", file=sys.stderr)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(args.model if have else None, args.store if have else None, Path(tmp))
        for cmd in cmds.values():  # warm the file cache and the bytecode once, untimed
            timed(cmd)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        cpu: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.repeats):
            for name, cmd in cmds.items():
                wall, used = timed(cmd)
                times[name].append(wall)
                cpu[name].append(used)
    load_after = os.getloadavg()
    median = {name: statistics.median(ts) for name, ts in times.items()}
    base, torch_s = median["python -c pass"], median["python -c 'import torch'"]
    met = {name: median[name] <= limit for name, limit in TARGETS.items() if name in median}
    print(f"{'command':<30}{'min s':>8}{'median s':>10}{'x python':>10}{'x import torch':>16}{'CPU s':>7}  target")
    for name, s in median.items():
        target = f"<= {TARGETS[name]} s: {'met' if met[name] else 'NOT met'}" if name in met else ""
        print(f"{name:<30}{min(times[name]):>8.2f}{s:>10.2f}{s / base:>10.1f}{s / torch_s:>16.2f}"
              f"{statistics.median(cpu[name]):>7.2f}  {target}")
    print(f"load average (1, 5, 15 min): {_load(load_before)} before, {_load(load_after)} after; "
          f"{os.cpu_count()} CPUs; {args.repeats} runs each")
    result = {"median_s": {k: round(v, 3) for k, v in median.items()},
              "min_s": {k: round(min(v), 3) for k, v in times.items()},
              "cpu_s": {k: round(statistics.median(v), 3) for k, v in cpu.items()},
              "ratio_to_python": {k: round(v / base, 2) for k, v in median.items()},
              "ratio_to_import_torch": {k: round(v / torch_s, 2) for k, v in median.items()},
              "targets_s": {k: v for k, v in TARGETS.items() if k in met}, "met": met,
              "repeats": args.repeats, "loadavg": [round(x, 2) for x in load_before],
              "loadavg_after": [round(x, 2) for x in load_after], "cpus": os.cpu_count()}
    print(json.dumps(result))
    return result


def _load(avg: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in avg)


if __name__ == "__main__":
    main()
