"""The demo: simulate -> ingest -> samples -> train CE and focal identically -> evaluate on test -> compare.

The two runs share data, model, optimiser, epochs and seed; :func:`demo_configs` changes only ``train.loss``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flarecast import __version__
from flarecast.config import RunConfig, builtin_config, load_config
from flarecast.evaluate.scoring import evaluate_model
from flarecast.ingest.pipeline import ingest
from flarecast.jsonio import write_json
from flarecast.progress import NullProgress, Progress
from flarecast.report.text import comparison_markdown, comparison_rows
from flarecast.samples.build import samples_from_store
from flarecast.simulate.generate import simulate
from flarecast.train.loop import train

DEMO_LOSSES = {"CE": {"alpha": None, "gamma": 0.0}, "focal": {"alpha": 0.25, "gamma": 2.0}}
TABLE_TARGETS = ("X", ">=M")


def demo_configs(base: RunConfig) -> dict[str, RunConfig]:
    """The demo's runs: ``base`` with only ``train.loss.alpha`` and ``train.loss.gamma`` changed."""
    return {
        name: base.replace(**{"train.loss.alpha": loss["alpha"], "train.loss.gamma": loss["gamma"]})
        for name, loss in DEMO_LOSSES.items()
    }


@dataclass(frozen=True)
class DemoResult:
    out: Path
    comparison: dict[str, Any]
    report_path: Path


def run_demo(out: str | Path = "runs/demo", *, config: RunConfig | None = None, overrides: list[str] | None = None,
             progress: Progress | None = None) -> DemoResult:
    """Run the whole demo into ``out`` and write ``comparison.json`` and ``report.md`` there."""
    t0 = time.perf_counter()
    progress = progress or NullProgress()
    out = Path(out)
    cfg = config or load_config(builtin_config("demo"), overrides)
    sim = cfg.simulate
    raw, store_path = out / "raw", out / "store.zarr"

    simulate(raw, days=sim.days, seed=sim.seed, start=sim.start, activity=sim.activity,
             progress=progress.task("Simulating GOES-16 days", sim.days))
    goes_files = sorted((raw / "goes").glob("*.nc"))
    event_files = sorted((raw / "events").glob("*.txt"))
    ingest("goes", goes_files, store=store_path, progress=progress.task("Ingesting GOES files", len(goes_files)))
    ingest("events", event_files, store=store_path,
           progress=progress.task("Ingesting event files", len(event_files)))
    samples = samples_from_store(store_path, cfg.samples)
    counts = samples.counts()

    results, evals = {}, {}
    for name, run_cfg in demo_configs(cfg).items():
        n_train = counts["splits"]["train"]["windows"]
        bar = progress.task(f"Training {name}", run_cfg.train.epochs * n_train)
        results[name] = train(samples, run_cfg, out / "models" / name, on_batch=bar)
        evals[name] = evaluate_model(out / "models" / name, samples, split="test")
        write_json(out / "models" / name / "metrics.json", evals[name])

    comparison = {
        "flarecast_version": __version__,
        "config": cfg.to_dict(),
        "losses": {name: run_cfg.train.loss.label for name, run_cfg in demo_configs(cfg).items()},
        "convention": cfg.samples.convention,
        "samples": counts,
        "test": {
            "windows": counts["splits"]["test"]["windows"],
            "from": counts["splits"]["test"].get("from"),
            "to": counts["splits"]["test"].get("to"),
            "positives": {t: counts["splits"]["test"]["positives"][t] for t in TABLE_TARGETS},
        },
        "methods": {name: comparison_rows(ev, TABLE_TARGETS) for name, ev in evals.items()},
        "baselines": {b: comparison_rows(evals["CE"], TABLE_TARGETS, method=b)
                      for b in ("persistence", "climatology", "logistic", "trees")},
        "training": {name: {"best_epoch": r.best_epoch, "epochs_run": r.epochs_run, "seconds": round(r.seconds, 1),
                            "windows_per_s": round(r.windows_per_s, 1)} for name, r in results.items()},
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }
    write_json(out / "comparison.json", comparison)
    report = out / "report.md"
    report.write_text(comparison_markdown(comparison))
    return DemoResult(out, comparison, report)
