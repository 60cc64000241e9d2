"""The demo: focal loss against cross-entropy, trained identically, scored on the test years beside the baselines.

By default it runs on the real observations shipped in the package (:mod:`flarecast.sample_data`): ingest the
GOES-15 hourly XRS-B series and the NGDC flare reports -> samples -> train CE and focal with several seeds
(:func:`train_setting`) -> score on the test split with seed spread and bootstrap intervals
(:func:`flarecast.studies.comparison.summarise`) -> the case-study table, a verdict per target and a
self-contained ``report.html``; beside it, SWPC's 3-day table (C, M, X per UT day) for the last test day from one
small day model trained in the same pinned workers (:mod:`flarecast.jobs.demo_days`). ``simulated=True`` keeps the
older path on simulated GOES-16 files.

The two losses share data, model, optimiser, epochs and seeds; :func:`demo_configs` changes only ``train.loss``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flarecast import __version__, sample_data
from flarecast.config import RunConfig, builtin_config, load_config
from flarecast.errors import ConfigError
from flarecast.evaluate import baselines
from flarecast.evaluate.scoring import evaluate_model
from flarecast.ingest.pipeline import IngestWarning, ingest
from flarecast.ingest.store import read_events
from flarecast.jobs import demo_days
from flarecast.jsonio import write_json
from flarecast.model.documents import Comparison
from flarecast.model.inference import predict, resolve_device
from flarecast.model.modeldir import load_model
from flarecast.progress import Advance, NullProgress, Progress
from flarecast.report.demo import write_demo_report
from flarecast.report.text import comparison_markdown, comparison_rows, verdict
from flarecast.samples.build import Samples, samples_from_store
from flarecast.simulate.generate import simulate
from flarecast.studies.comparison import Method, split_warnings, summarise
from flarecast.train.loop import train
from flarecast.util import atomic_write_text

DEMO_LOSSES = {"CE": {"alpha": None, "gamma": 0.0}, "focal": {"alpha": 0.25, "gamma": 2.0}}
DEMO_METHODS = (Method("CE", "ce", None, 0.0), Method("focal", "focal", 0.25, 2.0))
"""The real-data demo's two loss settings, named as in its table (focal: alpha 0.25, gamma 2)."""
DEFAULT_SEEDS = 3
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
    comparison: Comparison
    report_path: Path


def run_demo(out: str | Path = "runs/demo", *, simulated: bool = False, seeds: int = DEFAULT_SEEDS,
             config: RunConfig | None = None, overrides: list[str] | None = None, n_boot: int = 1000,
             progress: Progress | None = None) -> DemoResult:
    """Run the demo into ``out``: ``comparison.json`` and ``report.html`` (real data) or ``report.md`` (simulated).

    Parameters
    ----------
    out : path
        Folder for the store, the models, the report and its figures.
    simulated : bool, keyword-only
        Simulate two years of GOES-16 files instead of reading the embedded real data (one seed).
    seeds : int, keyword-only
        Training seeds per loss (``train.seed`` .. ``train.seed + seeds - 1``); real data only.
    config, overrides : keyword-only
        The run config (default: the built-in ``demo-real`` or ``demo``) and dotted overrides of it.
    """
    progress = progress or NullProgress()
    if simulated:
        return _simulated_demo(Path(out), config or load_config(builtin_config("demo"), overrides), progress)
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds}: expected at least 1 (3 or more to see the seed-to-seed spread)")
    return _real_demo(Path(out), config or load_config(builtin_config("demo-real"), overrides), seeds, n_boot, progress)


def train_setting(cfg: RunConfig, samples: Samples, method: Method, seeds: Sequence[int], out: Path,
                  progress: Progress, pool: Executor | None = None) -> dict[tuple[str, int], dict[str, Any]]:
    """Train one loss setting with every seed; each run's validation and test probabilities and its card facts.

    This is the demo's only training step, returning the shape :func:`summarise` reads (``(name, seed)`` ->
    ``{"val", "test", "info"}``), so a cross-validated ensemble can take its place without touching the rest.
    Seeds run in ``pool`` (worker processes made by :func:`training_pool`) when given, else here one by one.
    """
    bar: Advance = progress.task(f"Training {method.name} x {len(seeds)} seeds", len(seeds))
    dirs = {seed: out / "models" / method.dirname / f"seed{seed}" for seed in seeds}
    if pool is None:
        _WORKER.update(samples=samples, cfg=cfg)
        try:
            return {(method.name, seed): _train_seed(method, seed, dirs[seed], bar) for seed in seeds}
        finally:
            _WORKER.clear()
    futures = {pool.submit(_train_seed, method, seed, dirs[seed]): seed for seed in seeds}
    runs = {}
    for fut in as_completed(futures):
        runs[(method.name, futures[fut])] = fut.result()
        bar(1)
    return runs


CPU_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE"}
"""What the demo's training processes start with, so that x86-64 CPUs with AVX2 run the same float32 kernels.
Each of these changed the trained weights when varied on one machine (docs/demo.md): torch's own kernels and
oneDNN's convolutions use the widest vector unit they find (AVX-512 where present: ``avx2``/``AVX2`` cap them),
and MKL picks its code per CPU model and vendor (``COMPATIBLE``: its one branch that is the same on Intel and
AMD). Each worker also uses one thread."""


@contextmanager
def training_pool(cfg: RunConfig, samples: Samples, runs: int) -> Iterator[Executor | None]:
    """Worker processes for :func:`train_setting` on the CPU, one per available core (at most ``runs``), even
    where that is one: fresh processes in which torch starts with :data:`CPU_KERNELS` and one thread,
    so the demo's numbers do not depend on the machine's core count, vector unit or CPU vendor (and one process
    per core is faster on few cores than one process whose threads contend). None on a GPU: runs then train one
    after the other in this process, and the numbers are the GPU's."""
    if resolve_device(cfg.train.device).type == "cuda":
        yield None
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    saved = {k: os.environ.get(k) for k in CPU_KERNELS}
    os.environ.update(CPU_KERNELS)  # inherited by the workers, which are started as tasks arrive
    # spawn: forking a process in which torch has started threads can deadlock
    pool = ProcessPoolExecutor(max(1, min(cores, runs)), mp_context=mp.get_context("spawn"),
                               initializer=_init_worker, initargs=(samples, cfg))
    try:
        yield pool
    finally:
        pool.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_WORKER: dict[str, Any] = {}


def _init_worker(samples: Samples, cfg: RunConfig) -> None:
    import torch

    torch.set_num_threads(1)
    _WORKER.update(samples=samples, cfg=cfg)


def _train_seed(method: Method, seed: int, model_dir: Path, bar: Advance | None = None) -> dict[str, Any]:
    samples: Samples = _WORKER["samples"]
    run_cfg = _WORKER["cfg"].replace(**method.overrides, **{"train.seed": seed})
    result = train(samples, run_cfg, model_dir)
    model, card = load_model(model_dir, device=str(resolve_device(run_cfg.train.device)))
    dev = next(model.parameters()).device
    run = {"val": predict(model, samples, samples.indices("val"), device=dev),
           "test": predict(model, samples, samples.indices("test"), device=dev),
           "info": {"seed": seed, "thresholds": card.thresholds, "best_epoch": result.best_epoch,
                    "epochs_run": result.epochs_run, "seconds": round(result.seconds, 1), "device": str(dev)}}
    if bar is not None:
        bar(1)
    return run


def _real_demo(out: Path, cfg: RunConfig, seeds: int, n_boot: int, progress: Progress) -> DemoResult:
    t0 = time.perf_counter()
    store = out / "store.zarr"
    goes, events = [sample_data.goes_hourly()], sample_data.ngdc_reports()
    with warnings.catch_warnings(record=True) as caught:  # kept in comparison.json, not printed over the table
        warnings.simplefilter("always", IngestWarning)
        ingest("goes", goes, store=store, basis=sample_data.GOES_BASIS, satellite=sample_data.GOES_SATELLITE,
               progress=progress.task("Ingesting GOES-15 hourly", len(goes)))
        ingest("events", events, store=store, progress=progress.task("Ingesting NGDC reports", len(events)))
    samples = samples_from_store(store, cfg.samples)
    missing = [t for t in TABLE_TARGETS if t not in samples.targets]
    if missing:
        raise ConfigError(f"samples.targets = {list(samples.targets)}: the demo's table needs {missing} too")

    day_cfg = demo_days.day_config(cfg)
    day_samples = samples_from_store(store, day_cfg.samples)

    seed_list = list(range(cfg.train.seed, cfg.train.seed + seeds))
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    with training_pool(cfg, samples, len(seed_list)) as pool:
        day_bar = progress.task("Training the 3-day model", 1)
        day_run = demo_days.start_training(day_samples, day_cfg, out, pool)
        for method in DEMO_METHODS:
            runs.update(train_setting(cfg, samples, method, seed_list, out, progress, pool))
        day_training = day_run.result() if isinstance(day_run, Future) else day_run
        day_bar(1)
    scoring = progress.task("Scoring with bootstrap intervals", 1)
    summary = summarise(samples, cfg, list(DEMO_METHODS), seed_list, runs, n_boot)
    scoring(1)
    score = cfg.train.threshold_score
    comparison = summary.with_(
        verdicts={t: verdict(summary.methods, t, score=score) for t in TABLE_TARGETS},
        warnings=split_warnings(summary.samples, TABLE_TARGETS),
        flarecast_version=__version__, data="embedded real sample (flarecast.sample_data)",
        sample_data=sample_data.provenance(), config=cfg.to_dict(), store=str(store),
        losses={m.name: cfg.replace(**m.overrides).train.loss.label for m in DEMO_METHODS},
        seeds=seed_list, training_kernels=_kernels(cfg),
        ingest_warnings=[str(w.message) for w in caught if w.category is IngestWarning],
        day_forecast=demo_days.day_forecast(out, store, day_samples, day_training),
        wall_seconds=round(time.perf_counter() - t0, 1))
    comparison, report = write_demo_report(comparison, out, **_figure_inputs(samples, cfg, runs, seed_list, store))
    comparison = comparison.with_(wall_seconds=round(time.perf_counter() - t0, 1))
    write_json(out / Comparison.FILE, comparison)
    return DemoResult(out, comparison, report)


def _kernels(cfg: RunConfig) -> dict[str, Any]:
    """How the networks were trained, as :func:`training_pool` set it up: what makes the numbers comparable."""
    device = resolve_device(cfg.train.device).type
    if device == "cuda":
        return {"device": "cuda", "note": "trained on the GPU: numbers differ from the CPU's (docs/demo.md)"}
    return {"device": device, **CPU_KERNELS, "threads": 1}


def _figure_inputs(samples: Samples, cfg: RunConfig, runs, seeds, store: Path) -> dict[str, Any]:
    """What the report's figures show: each loss's seed-mean test probability and mean threshold, the
    logistic baseline, persistence, and the catalogue's flares."""
    test = samples.indices("test")
    probs = {m.name: np.mean([runs[(m.name, s)]["test"] for s in seeds], axis=0) for m in DEMO_METHODS}
    thresholds = {m.name: {t: float(np.mean([runs[(m.name, s)]["info"]["thresholds"][t] for s in seeds]))
                           for t in samples.targets} for m in DEMO_METHODS}
    logistic = baselines.fit_tabular(samples, methods=["logistic"], threshold_score=cfg.train.threshold_score)["logistic"]
    probs["logistic"] = logistic.predict(samples, test)
    thresholds["logistic"] = dict(logistic.thresholds)
    persistence = np.stack([baselines.persistence(samples.prev_flux[test], t, samples.config.convention)
                            for t in samples.targets], axis=1)
    train_y = samples.y[samples.indices("train")]
    return {"targets": tuple(samples.targets), "issue_time": samples.issue_time[test], "y": samples.y[test],
            "probs": probs, "thresholds": thresholds, "persistence": persistence,
            "climatology": {t: float(train_y[:, j].mean()) for j, t in enumerate(samples.targets)},
            "events": read_events(store)}


def _simulated_demo(out: Path, cfg: RunConfig, progress: Progress) -> DemoResult:
    t0 = time.perf_counter()
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

    comparison = Comparison.build(
        flarecast_version=__version__,
        data="simulated",
        config=cfg.to_dict(),
        losses={name: run_cfg.train.loss.label for name, run_cfg in demo_configs(cfg).items()},
        convention=cfg.samples.convention,
        threshold_rule=cfg.train.decision().choice(),  # the models' (the tabular baselines' follow their cards)
        samples=counts,
        test={
            "windows": counts["splits"]["test"]["windows"],
            "from": counts["splits"]["test"].get("from"),
            "to": counts["splits"]["test"].get("to"),
            "positives": {t: counts["splits"]["test"]["positives"][t] for t in TABLE_TARGETS},
        },
        methods={name: comparison_rows(ev, TABLE_TARGETS) for name, ev in evals.items()},
        baselines={b: comparison_rows(evals["CE"], TABLE_TARGETS, method=b)
                   for b in ("persistence", "climatology", "logistic", "trees")},
        training={name: {"best_epoch": r.best_epoch, "epochs_run": r.epochs_run, "seconds": round(r.seconds, 1),
                         "windows_per_s": round(r.windows_per_s, 1)} for name, r in results.items()},
        wall_seconds=round(time.perf_counter() - t0, 1),
    )
    write_json(out / Comparison.FILE, comparison)
    report = out / "report.md"
    atomic_write_text(report, comparison_markdown(comparison))
    return DemoResult(out, comparison, report)
