"""Fuzz every text reader: N mutants (half truncations, half single bit flips) of each reader's seed file.

Prints, per reader, how many mutants were refused (one-line InputFileError) or read, the tracebacks (any other
exception) and the partial rows stored (rows of a truncated file that are not rows of the intact file). Both
must be 0; the script exits 1 otherwise. Rows a bit flip changed into other valid values are shown apart.

    nice -n 5 python benchmarks/fuzz_readers.py            # 1,000 mutants per reader
    python benchmarks/fuzz_readers.py --mutants 100 --json

Seeds: tests/hostile/corpus/seeds (real files cut to a few lines, written by tests/hostile/generate.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.mutants import run, seed_files  # noqa: E402 - after the path insert


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=1000, help="mutants per reader (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the mutation positions")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args()
    out, t0 = {}, time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # leap-second and estimated-peak notes of mutants that are read
        for seed in seed_files():
            o = run(seed, args.mutants, Path(tmp), rng_seed=args.seed)
            out[seed[1]] = {"mutants": args.mutants, "refused": o.refused, "read": o.read,
                            "tracebacks": len(o.tracebacks), "partial_rows": o.partial_rows,
                            "rows_changed_by_bit_flips": o.rows_changed, "first_tracebacks": o.tracebacks[:3]}
    total = {k: sum(v[k] for v in out.values()) for k in ("mutants", "refused", "read", "tracebacks", "partial_rows")}
    if args.json:
        print(json.dumps({"readers": out, "total": total, "seconds": round(time.perf_counter() - t0, 1)}, indent=1))
    else:
        print(f"{'reader':22} {'mutants':>8} {'refused':>8} {'read':>6} {'tracebacks':>10} {'partial rows':>12} "
              f"{'rows changed (flips)':>20}")
        for name, v in out.items():
            print(f"{name:22} {v['mutants']:8} {v['refused']:8} {v['read']:6} {v['tracebacks']:10} "
                  f"{v['partial_rows']:12} {v['rows_changed_by_bit_flips']:20}")
            for tb in v["first_tracebacks"]:
                print(f"    traceback: {tb}")
        print(f"{'total':22} {total['mutants']:8} {total['refused']:8} {total['read']:6} {total['tracebacks']:10} "
              f"{total['partial_rows']:12}   ({time.perf_counter() - t0:.0f} s)")
    return 1 if total["tracebacks"] or total["partial_rows"] else 0


if __name__ == "__main__":
    sys.exit(main())
