"""What the commands print, as rich renderables built from the same plain results ``--json`` prints.

The command line only parses and calls; it prints what these functions return (:func:`flarecast.cli._util.emit`),
so the table and the JSON cannot disagree.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table


def samples_summary(counts: dict[str, Any]) -> list:
    """Windows, classes and positives per split, dropped windows, gaps and the split plan of ``flarecast samples``."""
    sharp = counts["source"] == "sharp"
    targets = counts["targets"]
    table = Table(title=f"Samples from {counts['store']} ({counts['source']}, {counts['convention']} classes, "
                        f"horizon {counts['horizon']})")
    cols = ["split", "windows", *(["regions"] if sharp else []), "from", "to", "quiet", "C", "M", "X",
            *[f"pos {t}" for t in targets]]
    for col in cols:
        table.add_column(col, justify="left" if col in ("split", "from", "to") else "right")
    for name, sp in counts["splits"].items():
        table.add_row(name, str(sp["windows"]), *([str(sp["regions"])] if sharp else []), sp.get("from", "-"),
                      sp.get("to", "-"), *[str(v) for v in sp["classes"].values()],
                      *[str(sp["positives"][t]) for t in targets])
    g, runs = counts["gaps"], counts["runs"]
    longest = "; ".join(f"{r['from']} to {r['to']} ({r['steps']} steps"
                        + (f", HARP {r['region']})" if r["region"] >= 0 else ")") for r in g["longest"][:3])
    lines = [
        table,
        "dropped windows: " + ", ".join(f"{k} {v}" for k, v in counts["dropped"].items()),
        f"gaps: {g['missing_steps']} of {g['steps']} steps fully missing" + (f"; longest {longest}" if longest else ""),
        "split plan: " + ", ".join(f"{r['split']} {r['from'][:10]}..{r['to'][:10]}" for r in runs[:12])
        + (f" ... ({len(runs)} runs)" if len(runs) > 12 else ""),
    ]
    if counts.get("index"):
        lines.append(f"wrote the sample index to {counts['index']}")
    return lines
