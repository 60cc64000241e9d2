"""``flarecast compare``: cross-entropy against focal loss over alpha and gamma grids, several seeds, one report.

This module holds the grid of loss settings (:class:`Method`, :func:`loss_grid`, the option parsers) and the
runs (:func:`compare`: every method with every seed trained in worker processes, finished runs reused); the
scores over seeds are :mod:`~flarecast.studies.comparison_summary`, the report :mod:`flarecast.report`.

Every run trains on the same samples (built once and shared by every worker), with the same network, optimiser,
epochs and data; runs differ only in ``train.loss`` and ``train.seed``. The methods (:func:`loss_grid`):

- ``CE``: gamma 0, no alpha: exactly binary cross-entropy;
- ``alpha-CE``: gamma 0, alpha = ``balanced_alpha`` (0.75 by default: positives weigh 3x negatives);
- ``BCE pos_weight``: gamma 0, every positive term weighted by ``pos_weight`` (by default each target's own
  training odds (1 - r) / r, the inverse-frequency weight: ``BCE pos_weight=odds``);
- ``focal``: one method per (alpha, gamma) of the grids.

Each run's threshold is chosen on validation by the training code; every score is a test-split score at that
threshold, summarised over seeds beside the baselines (mean, spread and a bootstrap interval of the
seed-mean). The focal setting quoted against CE for a target is the one
with the best mean *validation* score, so the test split is never used to pick it.

Runs execute in worker processes (one per GPU, or one per CPU core with one torch thread each); a finished
run leaves ``forecasts.npz`` in its model directory and is not trained again when ``compare`` is re-run into
the same folder with the same config.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flarecast import __version__
from flarecast.config import COMPARE_DEFAULTS, RunConfig, format_pos_weight
from flarecast.errors import ConfigError, ParseError
from flarecast.evaluate.mcintosh import fit_from_store
from flarecast.jsonio import dumps, write_json
from flarecast.model.documents import Comparison, CVComparison
from flarecast.progress import NullProgress, Progress
from flarecast.report.compare import heatmap, verdict, write_compare_report
from flarecast.safeio import loads_json
from flarecast.samples.build import Samples
from flarecast.studies.comparison_summary import split_warnings, summarise
from flarecast.util import atomic_path

# The grid's defaults are defined once, as text, in flarecast.config.COMPARE_DEFAULTS (the CLI and jobs take text).
DEFAULT_ALPHAS: tuple[float | None, ...] = tuple(
    None if a == "none" else float(a) for a in COMPARE_DEFAULTS["alphas"].split(","))
DEFAULT_GAMMAS = tuple(float(g) for g in COMPARE_DEFAULTS["gammas"].split(","))
DEFAULT_SEEDS = COMPARE_DEFAULTS["seeds"]
BALANCED_ALPHA = COMPARE_DEFAULTS["balanced_alpha"]
FORECASTS = "forecasts.npz"


@dataclass(frozen=True)
class Method:
    """One loss setting of the comparison."""

    name: str
    kind: str  # "ce", "balanced", "pos_weight" or "focal"
    alpha: float | None
    gamma: float
    pos_weight: float | dict[str, float] | None = None

    @property
    def overrides(self) -> dict[str, Any]:
        return {"train.loss.alpha": self.alpha, "train.loss.gamma": self.gamma,
                "train.loss.pos_weight": self.pos_weight}

    @property
    def dirname(self) -> str:
        return self.name.replace(" ", "_").replace("=", "").replace(",", "").replace("(", "").replace(")", "")


def loss_grid(alphas: Sequence[float | None] = DEFAULT_ALPHAS, gammas: Sequence[float] = DEFAULT_GAMMAS, *,
              balanced_alpha: float = BALANCED_ALPHA, pos_weight: float | dict[str, float]) -> list[Method]:
    """CE, alpha-CE, BCE with ``pos_weight``, then focal loss for every (alpha, gamma); duplicates dropped.

    A per-target ``pos_weight`` (a mapping, the training odds of :func:`default_pos_weight`) names its method
    ``BCE pos_weight=odds``; a single number names it ``BCE pos_weight=W``.

    Examples
    --------
    >>> [m.name for m in loss_grid([None, 0.25], [2.0], pos_weight=9.0)]
    ['CE', 'alpha-CE 0.75', 'BCE pos_weight=9', 'focal a=none g=2', 'focal a=0.25 g=2']
    """
    if not alphas or not gammas:
        raise ConfigError(f"alphas={list(alphas)}, gammas={list(gammas)}: expected at least one value in each grid")
    methods = [Method("CE", "ce", None, 0.0), Method(f"alpha-CE {balanced_alpha:g}", "balanced", balanced_alpha, 0.0),
               Method(f"BCE pos_weight={'odds' if isinstance(pos_weight, dict) else f'{pos_weight:g}'}", "pos_weight",
                      None, 0.0, pos_weight)]
    methods += [Method(f"focal a={'none' if a is None else f'{a:g}'} g={g:g}", "focal", a, float(g))
                for a in alphas for g in gammas]
    seen, out = set(), []
    for m in methods:
        key = (m.alpha, m.gamma, None if m.pos_weight is None else format_pos_weight(m.pos_weight))
        if key not in seen:  # a gamma of 0 in the grid repeats CE or alpha-CE
            seen.add(key)
            out.append(m)
    return out


def parse_alphas(text: str) -> tuple[float | None, ...]:
    """``"none,0.25,0.5"`` -> ``(None, 0.25, 0.5)``."""
    return tuple(None if v.strip().lower() in ("none", "null") else _number("alphas", v) for v in text.split(","))


def parse_gammas(text: str) -> tuple[float, ...]:
    """``"0.5,1,2"`` -> ``(0.5, 1.0, 2.0)``."""
    return tuple(_number("gammas", v) for v in text.split(","))


def default_pos_weight(samples: Samples) -> dict[str, float]:
    """Each target's training odds (1 - r) / r: the inverse-frequency weight of its positives.

    One weight per target: a single weight from the rarest target (X) would weigh >=M positives tens of times
    too much, and the >=M head would flag nearly every window.
    """
    train_y = samples.y[samples.indices("train")]
    out = {}
    for j, t in enumerate(samples.targets):
        rate = float(train_y[:, j].mean()) if train_y.size else float("nan")
        if not 0.0 < rate < 1.0:
            raise ConfigError(f"target {t}: training event rate {rate} leaves no odds to weigh by: "
                              "pass --pos-weight with a number")
        out[t] = round((1.0 - rate) / rate, 2)
    return out


def parse_pos_weight(text: str | None) -> float | None:
    """``--pos-weight``: ``odds`` (or nothing) -> None (each target's training odds); a number -> that number."""
    if text is None or text.strip().lower() == "odds":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ConfigError(f"--pos-weight {text!r}: expected 'odds' (each target's training odds) or a number > 0")
    return value


@dataclass(frozen=True)
class CompareResult:
    """A study's folder, its document (``comparison.json``, or ``--cv``'s ``comparison-cv.json``) and its
    reports."""

    out: Path
    comparison: Comparison | CVComparison
    report_md: Path
    report_html: Path


def compare(cfg: RunConfig, samples: Samples, out: str | Path, *, seeds: int | Sequence[int] = DEFAULT_SEEDS,
            alphas=DEFAULT_ALPHAS, gammas=DEFAULT_GAMMAS, balanced_alpha: float = BALANCED_ALPHA,
            pos_weight: float | None = None, workers: int | None = None, n_boot: int = 1000,
            progress: Progress | None = None, store: str = "") -> CompareResult:
    """Train every method of :func:`loss_grid` with every seed on ``samples``; write the reports into ``out``.

    Parameters
    ----------
    cfg : RunConfig
        The base config; each run changes ``train.loss`` and ``train.seed`` only.
    samples : Samples
        Built once from ``cfg.samples``; every run and the baselines use them.
    seeds : int or sequence of int, keyword-only
        A count K (seeds ``cfg.train.seed`` .. ``+ K - 1``) or the seeds themselves.
    alphas, gammas : sequences, keyword-only
        The focal grids (None in ``alphas``: no class weight).
    balanced_alpha, pos_weight : float, keyword-only
        alpha of ``alpha-CE``; ``pos_weight`` of ``BCE pos_weight`` (None: each target's training odds,
        :func:`default_pos_weight`).
    workers : int or None, keyword-only
        Parallel training processes; None: one per visible GPU, else one per CPU core available.
    n_boot : int, keyword-only
        Bootstrap resamples for the intervals.

    Returns
    -------
    CompareResult
        ``out/comparison.json``, ``out/report.md``, ``out/report.html`` (plus heat-map PNGs and ``runs/``).
    """
    t0 = time.perf_counter()
    progress = progress or NullProgress()
    out = Path(out)
    seed_list = list(range(cfg.train.seed, cfg.train.seed + seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ConfigError("--seeds 0: expected at least one seed")
    pw = default_pos_weight(samples) if pos_weight is None else float(pos_weight)
    methods = loss_grid(alphas, gammas, balanced_alpha=balanced_alpha, pos_weight=pw)
    for m in methods:  # validate every loss setting before hours of training
        cfg.replace(**m.overrides)
    specs = [(m, s) for m in methods for s in seed_list]
    devices = _devices(cfg.train.device, workers)
    n_workers = workers or min(len(specs), len(devices))
    bar = progress.task(f"Training {len(specs)} runs on {n_workers} workers", len(specs))
    runs, reused = _run_all(cfg, samples, specs, out / "runs", devices, n_workers, bar)

    mcintosh, _ = fit_from_store(store, samples, threshold_score=cfg.train.threshold_score) if store else (None, None)
    summary = summarise(samples, cfg, methods, seed_list, runs, n_boot, mcintosh=mcintosh)
    score = cfg.train.threshold_score
    comparison = summary.with_(
        heatmap={t: heatmap(summary.methods, t, alphas, gammas, score=score) for t in samples.targets},
        verdicts={t: verdict(summary.methods, t, score=score) for t in samples.targets},
        warnings=split_warnings(summary.samples, samples.targets),
        flarecast_version=__version__, config=cfg.to_dict(), store=store,
        grid={"alphas": list(alphas), "gammas": list(gammas), "seeds": seed_list,
              "balanced_alpha": balanced_alpha, "pos_weight": pw},
        parallel={"workers": n_workers, "devices": devices[:n_workers], "reused_runs": reused},
        wall_seconds=round(time.perf_counter() - t0, 1))
    md, html = write_compare_report(comparison, out)
    write_json(out / Comparison.FILE, comparison)
    return CompareResult(out, comparison, md, html)


def _devices(device: str, workers: int | None) -> list[str]:
    """Device of each potential worker: every visible GPU once, else ``cpu`` once per available core."""
    import torch

    if device != "cpu" and torch.cuda.is_available():
        gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        return [gpus[i % len(gpus)] for i in range(max(workers or 1, len(gpus)))]
    if device == "cuda":
        raise ConfigError("train.device = 'cuda' but no CUDA device is visible: use --device cpu or auto")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return ["cpu"] * max(workers or 1, cores)


_WORKER: dict[str, Any] = {}


def _init_worker(samples: Samples, cfg: RunConfig, queue) -> None:
    import torch

    device = queue.get()
    if device.startswith("cuda"):
        torch.cuda.set_device(int(device.split(":")[1]))
    _WORKER.update(samples=samples, cfg=cfg, device="cuda" if device.startswith("cuda") else "cpu")


def _run_all(cfg, samples, specs, root: Path, devices, n_workers, bar) -> tuple[dict[tuple[str, int], dict], int]:
    """Every run's forecasts, and how many came from an earlier invocation's ``forecasts.npz``."""
    runs, todo = {}, []
    for m, s in specs:
        done = _finished(root / m.dirname / f"seed{s}", _run_config(cfg, m, s, "cpu"))
        if done is not None:
            runs[(m.name, s)] = done
            bar(1)
        else:
            todo.append((m, s, root / m.dirname / f"seed{s}"))
    reused = len(runs)
    n_workers = min(n_workers, len(todo))
    if n_workers == 0:
        return runs, reused
    if n_workers == 1:
        import torch

        threads = torch.get_num_threads()  # _train_one takes one thread, as in the workers; given back after
        try:
            _WORKER.update(samples=samples, cfg=cfg, device="cuda" if devices[0].startswith("cuda") else "cpu")
            for m, s, d in todo:
                runs[(m.name, s)] = _train_one(m, s, d)
                bar(1)
        finally:
            torch.set_num_threads(threads)
            _WORKER.clear()
        return runs, reused
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # fork after torch has started threads can deadlock
    queue = ctx.Queue()
    for d in devices[:n_workers]:
        queue.put(d)
    with ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(samples, cfg, queue)) as pool:
        futures = {pool.submit(_train_one, m, s, d): (m.name, s) for m, s, d in todo}
        for fut in as_completed(futures):
            runs[futures[fut]] = fut.result()
            bar(1)
    return runs, reused


def _run_config(cfg: RunConfig, m: Method, seed: int, device: str) -> RunConfig:
    return cfg.replace(**m.overrides, **{"train.seed": seed, "train.device": device})


def _train_one(m: Method, seed: int, model_dir: Path) -> dict[str, Any]:
    """Train one run in this process and return its validation and test probabilities (best epoch's weights)."""
    import torch

    from flarecast.model.inference import predict
    from flarecast.model.modeldir import load_model
    from flarecast.train.loop import train

    # One thread per run: many runs share the cores, and a run's numbers must not depend on how many do.
    torch.set_num_threads(1)
    samples: Samples = _WORKER["samples"]
    run_cfg = _run_config(_WORKER["cfg"], m, seed, _WORKER["device"])
    result = train(samples, run_cfg, model_dir)
    model, card = load_model(model_dir, device=_WORKER["device"])
    dev = next(model.parameters()).device
    val = predict(model, samples, samples.indices("val"), device=dev)
    test = predict(model, samples, samples.indices("test"), device=dev)
    info = {"seed": seed, "thresholds": card.thresholds, "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run, "seconds": round(result.seconds, 1), "device": _WORKER["device"],
            "config": _run_config(_WORKER["cfg"], m, seed, "cpu").to_dict()}
    with atomic_path(model_dir / FORECASTS) as tmp:  # whole or absent: a killed run's file is never half read
        np.savez(tmp, val=val, test=test, info=np.array(dumps(info, indent=None)))
    return {"val": val, "test": test, "info": info}


def _finished(model_dir: Path, run_cfg: RunConfig) -> dict[str, Any] | None:
    """A run's saved forecasts, if ``model_dir`` holds a finished run of exactly this config."""
    path = model_dir / FORECASTS
    if not path.is_file():
        return None
    try:
        with np.load(path) as f:
            info = loads_json(str(f["info"]), path)
            if not isinstance(info, dict) or info.get("config") != json.loads(dumps(run_cfg.to_dict(), indent=None)):
                return None
            return {"val": f["val"], "test": f["test"], "info": info}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, ParseError):
        return None  # a damaged or foreign file is not a finished run: the run is trained again


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"--{name} {text!r}: expected comma-separated numbers such as 0.25,0.5"
                          + (" or none" if name == "alphas" else "")) from None
