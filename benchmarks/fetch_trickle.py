"""The installed `flarecast fetch` of each source against a server that trickles (headers, then one byte every
1.5 s): how long from the process start, from the first request to the failure line, and to the exit.

    PYTHONPATH=$PWD python benchmarks/fetch_trickle.py [--deadline 5]

The first column includes the imports (seconds on a loaded machine); the deadline bounds the second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.archive import GOES16_AVG1M, NCEI_ROOT, avg1m_name  # noqa: E402
from tests.hostile.servers import Hostile, listing, trickle  # noqa: E402

CASES = {  # name: (routes, fetch arguments, variable, base path)
    "goes (listing)": ({f"{GOES16_AVG1M}/": b"<html>"}, ["goes", "--from", "2017-09-06", "--to", "2017-09-06",
                                                         "--satellite", "16"], "FLARECAST_NCEI_URL", NCEI_ROOT),
    "goes (file)": ({f"{GOES16_AVG1M}/{avg1m_name('20170906')}": b"\x89HDF"},
                    ["goes", "--from", "2017-09-06", "--to", "2017-09-06", "--satellite", "16"],
                    "FLARECAST_NCEI_URL", NCEI_ROOT),
    "swpc": ({"/json/goes/primary/xrays-7-day.json": b"["}, ["swpc", "--product", "xrays-7-day"],
             "FLARECAST_SWPC_URL", ""),
    "events --source hek": ({"/hek/her": b'{"result": ['}, ["events", "--source", "hek", "--from", "2011-02-14",
                                                          "--to", "2011-02-15"], "FLARECAST_HEK_URL", "/hek/her"),
    "sharp": ({"/cgi-bin/ajax/jsoc_info": b'{"keywords": ['}, ["sharp", "--from", "2013-11-01", "--to",
                                                               "2013-11-02"], "FLARECAST_JSOC_URL", ""),
}


def run(name: str, deadline: float) -> tuple[float, float, float, str]:
    routes, args, variable, base = CASES[name]
    server = Hostile()
    for path, first in routes.items():
        server.routes[path] = trickle(first)
    if "file" in name:
        server.routes[f"{GOES16_AVG1M}/"] = listing(f"{GOES16_AVG1M}/", [avg1m_name("20170906")])
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "flarecast", "fetch", *args, "--timeout", "3", "--deadline",
                                 str(deadline), "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, env={variable: server.url(base), "PATH": "/usr/bin:/bin",
                                                          "PYTHONPATH": str(ROOT)})
        line = proc.stderr.readline()
        told = time.monotonic()
        proc.communicate(timeout=120)
        ended = time.monotonic()
    first = server.server.first_request
    server.close()
    return ended - started, told - first, ended - first, f"exit {proc.returncode}: {line.strip()[-60:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=5.0)
    deadline = parser.parse_args().deadline
    print(f"{'source':<22}{'wall':>8}{'request->line':>15}{'request->exit':>15}  failure line (end)")
    for name in CASES:
        wall, to_line, to_exit, line = run(name, deadline)
        print(f"{name:<22}{wall:>7.1f}s{to_line:>14.2f}s{to_exit:>14.2f}s  {line}")


if __name__ == "__main__":
    main()
