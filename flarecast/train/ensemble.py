"""Train a cross-validated ensemble: one model per fold and seed, out-of-fold predictions, calibration, thresholds.

Every (fold, seed) member is an ordinary training run (:func:`flarecast.train.train`) on the fold's split
(:mod:`flarecast.train.cv`): it trains on the fold's training time, stops early on the last part of it, and
predicts the held-out block (its out-of-fold, OOF, predictions). Members run one after another, in ``workers``
local processes, or as tasks of a dask.distributed cluster (``train.cv.cluster``); each fixes its own seed and
torch thread count, so every path writes the same bytes.

The ensemble directory (:mod:`flarecast.model.modeldir`) holds ``members/<fold>-s<seed>-<sha>/``,
``oof-<sha>.parquet`` (one row per held-out window: fold, labels, the members' mean probability ``p_raw[T]`` (with
``train.cv.blend``, the blend of the networks' ``p_net[T]`` and the logistic members' ``p_linear[T]``), the
calibrated ``p[T]``, and the transferred ``p_xfit[T]`` and ``threshold_xfit[T]`` made from the *other* folds only),
with a blend ``linear-<sha>.safetensors``, and ``card.json`` (written last: the commit point) with the members,
the combine rule, the calibration maps, the thresholds and their rule, and the pooled OOF scores. Members, the
OOF file and the logistic members' file are named by the first 12 hex digits of their sha256 (a member by its
weights'), so training again into a directory writes nothing the current card names: until the new card
replaces it, the last complete ensemble stays whole and loads, however the training ends; what no card names any
more is removed after the new card is written.
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from flarecast import classes, metrics
from flarecast.config import CVConfig, RunConfig
from flarecast.errors import ConfigError, ModelError
from flarecast.metrics.thresholds import ThresholdRule
from flarecast.model.card import Decision
from flarecast.model.ensemble import COMBINE, apply_calibration, calibrate
from flarecast.model.inference import predict
from flarecast.model.linear import (
    WindowLogistic,
    fit_window_logistic,
    gathered_stats,
    save_linear,
)
from flarecast.model.modeldir import WEIGHTS, load_model, read_card, save_ensemble_card
from flarecast.samples.build import Samples
from flarecast.train.calibration import (
    choose_blend,
    choose_calibration,
    choose_chain_calibration,
    fit_calibration,
)
from flarecast.train.checkpoint import CHECKPOINT
from flarecast.train.cv import Fold, make_folds
from flarecast.train.loop import train
from flarecast.util import atomic_path, sha256_file

MEMBERS = "members"
BLENDED = "weighted mean probability: w x mean of the networks + (1 - w) x mean of the logistic members"
_CARD_KEYS = ("code_version", "loss", "channels", "targets", "normalisation", "data_fingerprint", "device", "model")
"""What an ensemble's card takes from its first member's (the window is its own config's: ``config.samples``)."""


@dataclass(frozen=True)
class MemberSpec:
    """One member's run: its fold, seed, split array, output directory and torch thread count."""

    fold: int
    seed: int
    split: np.ndarray
    out: str
    threads: int


@dataclass(frozen=True)
class MemberResult:
    fold: int
    seed: int
    dir: str
    test_idx: np.ndarray
    probs: np.ndarray  # [test windows, targets] raw member probabilities
    best_epoch: int
    epochs_run: int
    seconds: float


@dataclass(frozen=True)
class EnsembleResult:
    model_dir: Path
    members: list[MemberResult]
    folds: list[dict]
    thresholds: dict[str, float]
    calibration: dict[str, str]
    seconds: float


def fit_member(samples: Samples, cfg: RunConfig, spec: MemberSpec) -> MemberResult:
    """Train one member on its fold and predict its held-out windows (on the CPU: the same bytes everywhere)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(spec.threads)
    try:
        fold = replace(samples, split=spec.split)
        # A member is one plain run: its card holds its seed and no CV settings, so where it ran (processes, a
        # cluster) leaves no trace in its bytes.
        member_cfg = cfg.replace(**{"train.seed": spec.seed, "train.cv": CVConfig().model_dump()})
        result = train(fold, member_cfg, spec.out)
        (Path(spec.out) / CHECKPOINT).unlink(missing_ok=True)  # a member is never resumed: keep the directory small
        net, _ = load_model(spec.out)
        idx = np.flatnonzero(spec.split == "test")
        probs = predict(net, fold, idx, device=torch.device("cpu"))
    finally:
        torch.set_num_threads(threads)
    return MemberResult(spec.fold, spec.seed, spec.out, idx, probs, result.best_epoch, result.epochs_run,
                        result.seconds)


def train_ensemble(samples: Samples, cfg: RunConfig, model_dir: str | Path, *,
                   on_member: Callable[[MemberResult], None] | None = None) -> EnsembleResult:
    """Train the CV ensemble of ``cfg.train.cv`` on ``samples`` and write its directory (see the module docstring)."""
    cv = cfg.train.cv
    model_dir = Path(model_dir)
    if (model_dir / WEIGHTS).is_file():
        raise ModelError(f"{model_dir} holds a single model ({WEIGHTS}); write the ensemble to a new --out")
    t0 = time.perf_counter()
    folds = make_folds(samples, cv)
    threads = max(1, (os.cpu_count() or 1) // cv.workers)
    staging = model_dir / MEMBERS / ".partial"  # named by content once trained (see the module docstring)
    specs = [MemberSpec(i, seed, fold.split, str(staging / f"{fold.name}-s{seed}"), threads)
             for i, fold in enumerate(folds) for seed in cv.seeds]
    results = sorted(_run(samples, cfg, specs, on_member), key=lambda r: (r.fold, r.seed))
    oof, fold_id, p_raw = _oof(results)
    linear, p_linear = _fit_linear(samples, folds, oof) if cv.blend == "logistic" else ([], None)
    summaries = [_summary(samples, f) for f in folds]
    calibration, thresholds, scores, frame, weights = _decide(samples, cfg, oof, fold_id, p_raw, folds, p_linear)
    results = [replace(r, dir=str(_by_content(Path(r.dir), Path(r.dir).name, model_dir / MEMBERS)))
               for r in results]
    with atomic_path(model_dir / "oof.tmp.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    oof_file = _by_content(model_dir / "oof.tmp.parquet", "oof", model_dir).name
    if linear:
        save_linear(model_dir / "linear.tmp.safetensors", linear, [f.name for f in folds])
        linear_file = _by_content(model_dir / "linear.tmp.safetensors", "linear", model_dir).name
    first = read_card(results[0].dir).to_dict()
    card = {key: first[key] for key in _CARD_KEYS if key in first}
    card.update({
        "kind": "ensemble", "config": cfg.to_dict(), "combine": COMBINE if not linear else BLENDED,
        "members": [{"dir": str(Path(r.dir).relative_to(model_dir)), "fold": folds[r.fold].name, "seed": r.seed,
                     "best_epoch": r.best_epoch, "epochs_run": r.epochs_run} for r in results],
        "calibration": calibration, "decision": Decision.of(cv.decision(), thresholds).to_dict(),
        "climatology": {t: float(samples.y[oof, j].mean()) for j, t in enumerate(samples.targets)},
        "cv": {"scheme": cv.scheme, "by": cv.by, "folds": summaries, "oof_file": oof_file, "oof_scores": scores},
    })
    if linear:
        card["blend"] = {"method": "logistic", "weights": weights, "folds": [f.name for f in folds],
                         "file": linear_file, "sha256": ""}  # the digest is filled in by save_ensemble_card
    _remove_unnamed(model_dir, save_ensemble_card(model_dir, card))
    return EnsembleResult(model_dir, results, summaries, thresholds,
                          {t: c["method"] for t, c in calibration.items()}, time.perf_counter() - t0)


def _by_content(path: Path, stem: str, into: Path) -> Path:
    """Move a trained member's directory (digest of its weights) or the OOF file ``path`` to ``into`` as
    ``<stem>-<first 12 hex digits of its sha256>``; where that exists it holds the same bytes, and is kept."""
    member = path.is_dir()
    digest = sha256_file(path / WEIGHTS if member else path)[:12]
    final = into / f"{stem}-{digest}{'' if member else path.suffix}"
    if member and final.exists():
        shutil.rmtree(path)
    else:
        os.replace(path, final)
    return final


def _remove_unnamed(model_dir: Path, card) -> None:
    """After the new card is written: the members, staged members and OOF files it does not name."""
    keep = {(model_dir / m.dir).resolve() for m in card.members}
    for entry in (model_dir / MEMBERS).iterdir():
        if entry.resolve() in keep:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for stale in model_dir.glob("oof*.parquet"):
        if stale.name != card.cv.oof_file:
            stale.unlink()
    for stale in model_dir.glob("linear*.safetensors"):
        if card.blend is None or stale.name != card.blend.file:
            stale.unlink()


def _run(samples: Samples, cfg: RunConfig, specs: list[MemberSpec], on_member) -> list[MemberResult]:
    cv = cfg.train.cv
    done = []

    def finished(result: MemberResult) -> None:
        done.append(result)
        if on_member:
            on_member(result)

    if cv.cluster:
        for result in _run_dask(samples, cfg, specs):
            finished(result)
    elif cv.workers == 1:
        for spec in specs:
            finished(fit_member(samples, cfg, spec))
    else:
        # spawn, not fork: a forked copy of a process whose torch threads already ran can deadlock.
        with ProcessPoolExecutor(cv.workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                 initargs=(samples, cfg)) as pool:
            for future in as_completed([pool.submit(_fit_in_worker, spec) for spec in specs]):
                finished(future.result())
    return done


_WORKER: dict[str, Any] = {}


def _init_worker(samples: Samples, cfg: RunConfig) -> None:
    _WORKER.update(samples=samples, cfg=cfg)


def _fit_in_worker(spec: MemberSpec) -> MemberResult:
    return fit_member(_WORKER["samples"], _WORKER["cfg"], spec)


def _run_dask(samples: Samples, cfg: RunConfig, specs: list[MemberSpec]):
    """Members as tasks of a dask.distributed cluster: ``local`` starts a LocalCluster of ``workers`` processes.

    A remote cluster's workers must see the model directory's path (a shared file system).
    """
    cv = cfg.train.cv
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ConfigError(f"train.cv.cluster = {cv.cluster!r} needs dask.distributed: pip install "
                          "'flarecast[cluster]', or leave train.cv.cluster empty for local processes") from None
    cluster = LocalCluster(n_workers=cv.workers, threads_per_worker=1, processes=True) if cv.cluster == "local" else None
    try:
        with Client(cluster if cluster is not None else cv.cluster) as client:
            shared = client.scatter(samples, broadcast=True)
            futures = [client.submit(fit_member, shared, cfg, spec, pure=False) for spec in specs]
            for future in dask_completed(futures):
                yield future.result()
    finally:
        if cluster is not None:
            cluster.close()


def _oof(results: list[MemberResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out window indices, their fold and their fold's members' mean probabilities, sorted by window."""
    by_fold: dict[int, list[MemberResult]] = {}
    for r in results:
        by_fold.setdefault(r.fold, []).append(r)
    idx = np.concatenate([rs[0].test_idx for rs in by_fold.values()])
    fold = np.concatenate([np.full(rs[0].test_idx.size, f) for f, rs in by_fold.items()])
    probs = np.concatenate([np.mean([r.probs for r in rs], axis=0) for rs in by_fold.values()])
    if np.unique(idx).size != idx.size:
        raise ModelError("a window is held out by two folds: the fold plan is wrong")
    order = np.argsort(idx, kind="stable")
    return idx[order], fold[order], probs[order].astype(np.float64)


def _fit_linear(samples: Samples, folds: list[Fold], oof: np.ndarray) -> tuple[list[WindowLogistic], np.ndarray]:
    """One logistic member per fold, fitted on the windows its networks trained and stopped on, and its
    predictions of the fold's held-out windows: the members and ``[oof windows, targets]``."""
    members, p = [], np.empty((oof.size, len(samples.targets)))
    for fold in folds:
        seen = np.flatnonzero(np.isin(fold.split, ("train", "val")))
        member = fit_window_logistic(gathered_stats(samples, seen), samples.y[seen])
        held = fold.indices("test")
        p[np.searchsorted(oof, held)] = predict(member, samples, held, device=torch.device("cpu"))
        members.append(member)
    return members, p


def _summary(samples: Samples, fold: Fold) -> dict:
    out = fold.summary(samples)
    train = fold.indices("train")
    out["climatology"] = {t: float(samples.y[train, j].mean()) for j, t in enumerate(samples.targets)}
    return out


def _decide(samples: Samples, cfg: RunConfig, oof: np.ndarray, fold: np.ndarray, p_net: np.ndarray,
            folds: list[Fold], p_linear: np.ndarray | None):
    """Calibration maps, thresholds and OOF scores per target, the OOF frame and, with logistic members
    (``p_linear``), the networks' blend weight per target."""
    cv = cfg.train.cv
    rule = cv.decision()
    frame = samples.to_frame().iloc[oof].reset_index(drop=True)
    frame = frame.drop(columns=["split"]).assign(fold=[folds[f].name for f in fold], prev_flux=samples.prev_flux[oof])
    calibration, thresholds, scores, weights = {}, {}, {}, {}
    p_raw = p_net
    if p_linear is not None:
        y_all = samples.y[oof].astype(np.float64)
        weights = {t: choose_blend(y_all[:, j], p_net[:, j], p_linear[:, j]) for j, t in enumerate(samples.targets)}
        w = np.array([weights[t] for t in samples.targets])
        p_raw = w * p_net + (1 - w) * p_linear
    chained = _chained(samples, cfg, oof, fold, p_raw)
    for j, t in enumerate(samples.targets):
        y = samples.y[oof, j].astype(np.float64)
        base = float(y.mean())
        if chained is None:
            cal, brier, _ = choose_calibration(y, p_raw[:, j], fold, cv.calibration, cv.min_step)
            p = apply_calibration(p_raw[:, j], cal)
            parts = None if p_linear is None else (p_net[:, j], p_linear[:, j])
            p_x, thr_x = transferred(y, p_raw[:, j], fold, cal["method"], rule, parts=parts, min_step=cv.min_step)
        else:
            cal, brier, p, p_x = chained[0][j], chained[1][j], chained[2][:, j], chained[3][:, j]
            thr_x = _transferred_thresholds(y, p_x, fold, rule)
        thr = rule.choose(y, p, base_rate=base)
        calibration[t], thresholds[t] = cal, thr
        scores[t] = {
            "base_rate": base, "positives": int(y.sum()), "windows": int(y.size),
            "calibration_brier": brier, "method": cal["method"],
            "raw": _table(y, p_raw[:, j], thr, base), "calibrated": _table(y, p, thr, base),
            "transferred": _table(y, p_x, thr_x, base, thresholds=True),
        }
        frame[f"y[{t}]"] = y.astype(bool)
        frame[f"p_raw[{t}]"] = p_raw[:, j]
        if p_linear is not None:
            frame[f"p_net[{t}]"], frame[f"p_linear[{t}]"] = p_net[:, j], p_linear[:, j]
        frame[f"p[{t}]"] = p
        frame[f"p_xfit[{t}]"] = p_x
        frame[f"threshold_xfit[{t}]"] = thr_x
    return calibration, thresholds, scores, frame, weights


def _chained(samples: Samples, cfg: RunConfig, oof: np.ndarray, fold: np.ndarray, p_raw: np.ndarray):
    """For an ordinal head: the maps along each day's chain of nested classes, their cross-fitted Brier scores,
    the calibrated and the cross-fitted probabilities ``[oof, targets]`` (:func:`choose_chain_calibration`);
    None for independent heads (each target calibrated on its own)."""
    if cfg.model.head == "independent":
        return None
    cv, chains = cfg.train.cv, classes.nested(samples.targets)
    y = samples.y[oof].astype(np.float64)
    maps, briers, crossed = choose_chain_calibration(y, p_raw, fold, chains, cv.calibration, cv.min_step)
    return maps, briers, calibrate(p_raw, maps, chains), crossed


def _transferred_thresholds(y, p_x, fold, rule: ThresholdRule) -> np.ndarray:
    """Each fold's threshold chosen by ``rule`` on the other folds' cross-fitted probabilities."""
    thr = np.empty_like(p_x)
    for f in np.unique(fold):
        mine = fold == f
        thr[mine] = rule.choose(y[~mine], p_x[~mine], base_rate=float(y[~mine].mean()))
    return thr


def transferred(y, p_raw, fold, method: str, rule: ThresholdRule, *, parts=None,
                min_step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Each fold's probabilities and threshold made from the *other* folds alone: calibration fitted there,
    threshold chosen there by ``rule``; what a held-out period would have been forecast with. ``parts``: the
    networks' and the logistic members' probabilities of a blend, whose weight is then chosen there too."""
    p_x, thr_x = np.empty_like(p_raw), np.empty_like(p_raw)
    for f in np.unique(fold):
        mine = fold == f
        if parts is not None:
            w = choose_blend(y[~mine], parts[0][~mine], parts[1][~mine])
            p_raw = w * parts[0] + (1 - w) * parts[1]
        cal = fit_calibration(y[~mine], p_raw[~mine], method, min_step)
        p_x[mine] = apply_calibration(p_raw[mine], cal)
        thr_x[mine] = rule.choose(y[~mine], apply_calibration(p_raw[~mine], cal), base_rate=float(y[~mine].mean()))
    return p_x, thr_x


def _table(y, p, thr, base: float, *, thresholds: bool = False) -> dict[str, float]:
    """Pooled OOF scores; ``thr`` is one threshold or, with ``thresholds``, one per window (per fold)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.UndefinedScoreWarning)
        c = metrics.contingency(y, p >= thr)
        out = {"brier": metrics.brier_score(y, p), "bss": metrics.bss(y, p, climatology=base),
               "roc_auc": metrics.roc_auc(y, p), "tss": metrics.tss(c), "hss": metrics.hss(c),
               "recall": metrics.recall(c), "far": metrics.far(c)}
    if not thresholds:
        out["threshold"] = float(thr)
    return out
