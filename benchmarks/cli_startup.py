"""How long the command line takes to start: ``flarecast --help``, ``forecast --help`` and a cold ``forecast --latest``,
beside ``python -c pass`` and ``python -c "import torch"`` measured in the same run.

Each command runs in a fresh process ``--repeats`` times, the commands taking turns so that they share the
machine's load; the median wall time of each is printed with its ratio to ``python -c pass`` (the interpreter's
own start) and to ``import torch`` (what any forecast must pay). The targets (issue 25, 2-core machine):
``flarecast --help`` at most 0.5 s and ``forecast --latest`` at most 2.0 s.

The forecast needs a model and a store: ``--model`` and ``--store``, by default the demo's CE seed-0 model and
its store (``runs/demo``, written by ``flarecast demo``); without them the forecast row is left out.

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --repeats 9 --model models/goes --store data/goes-hourly.zarr

The last line printed is JSON: the median seconds of each command, the ratios and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable


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


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "100"})
    return time.perf_counter() - t0


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
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(args.model if have else None, args.store if have else None, Path(tmp))
        for cmd in cmds.values():  # warm the file cache and the bytecode once, untimed
            timed(cmd)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.repeats):
            for name, cmd in cmds.items():
                times[name].append(timed(cmd))
    median = {name: statistics.median(ts) for name, ts in times.items()}
    base, torch_s = median["python -c pass"], median["python -c 'import torch'"]
    print(f"{'command':<32}{'median s':>10}{'x python':>10}{'x import torch':>16}")
    for name, s in median.items():
        print(f"{name:<32}{s:>10.2f}{s / base:>10.1f}{s / torch_s:>16.2f}")
    result = {"median_s": {k: round(v, 3) for k, v in median.items()},
              "ratio_to_python": {k: round(v / base, 2) for k, v in median.items()},
              "ratio_to_import_torch": {k: round(v / torch_s, 2) for k, v in median.items()},
              "repeats": args.repeats, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
