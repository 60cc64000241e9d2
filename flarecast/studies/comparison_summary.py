"""The numbers of a loss comparison: per method and target, scores over seeds beside the baselines.

:func:`summarise` scores every run of :func:`flarecast.studies.comparison.compare` (and of the demo) on the
test split at the threshold its training chose on validation. Per method and target it gives the mean and the
sample standard deviation (ddof 1) over seeds, and a 95% interval of that seed-mean: every seed is scored on the
same bootstrap resamples of whole UTC days (GOES) or regions (SHARP), the seed scores are averaged resample by
resample, and the interval is the percentile range of those averages. The baselines (climatology, persistence,
the tabular models) are single fits scored the same way. :func:`split_warnings` says where validation cannot
stand in for test.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from flarecast.evaluate import baselines
from flarecast.evaluate.bootstrap import bootstrap_replicates, replicate_interval, score_with_ci
from flarecast.metrics import UndefinedScoreWarning, score_table
from flarecast.model.documents import Comparison
from flarecast.report.formats import percent
from flarecast.samples.build import Samples

SCORES = ("recall", "hss", "tss", "far", "pofd", "precision", "bss", "roc_auc", "pr_auc")
"""Scores kept per run; those of :data:`CI_SCORES` also get a seed-mean bootstrap interval."""
CI_SCORES = ("recall", "hss", "tss", "far", "bss")

MIN_VAL_POSITIVES = 24
"""Fewer validation positive windows than this (one flare's worth at hourly stride) draw a warning."""
RATE_RATIO = 2.0
"""Validation and test event rates further apart than this factor draw a warning."""


def split_warnings(counts: dict[str, Any], targets: Sequence[str]) -> list[str]:
    """Plain warnings where validation cannot stand in for test: too few validation positives, or event rates
    in validation and test a factor :data:`RATE_RATIO` or more apart (then thresholds chosen on validation
    need not carry over). ``counts`` is :meth:`Samples.counts`."""
    splits = counts["splits"]
    out = []
    for t in targets:
        pos = {k: splits[k]["positives"][t] for k in ("val", "test")}
        rate = {k: pos[k] / splits[k]["windows"] if splits[k]["windows"] else 0.0 for k in pos}
        if pos["val"] < MIN_VAL_POSITIVES:
            out.append(f"{t}: validation holds {pos['val']} positive windows, so the {t} thresholds and the focal "
                       "setting chosen for it rest on very few events")
        elif rate["test"] and not 1 / RATE_RATIO < rate["val"] / rate["test"] < RATE_RATIO:
            out.append(f"{t}: {percent(rate['val'])} of validation windows are positive but {percent(rate['test'])} of test "
                       "windows: thresholds chosen on validation may not carry over")
    return out


def summarise(samples: Samples, cfg, methods, seeds, runs, n_boot, *, mcintosh=None) -> Comparison:
    """Per method and target: seed mean, spread and 95% interval of every score on the test split, beside the
    baselines: the blocks every :class:`Comparison` of runs over seeds starts with. ``runs`` maps ``(method name,
    seed)`` to ``{"val", "test", "info"}`` as :func:`~flarecast.studies.comparison.compare` and the demo produce them
    (``info``: seed, thresholds, best_epoch, epochs_run, seconds, device). ``mcintosh``: the fitted McIntosh-Poisson
    baseline (:func:`flarecast.evaluate.mcintosh.fit_from_store`), scored beside persistence where given."""
    test_idx, val_idx = samples.indices("test"), samples.indices("val")
    sharp = samples.config.source == "sharp"
    groups = samples.region[test_idx] if sharp else samples.issue_time[test_idx].astype("datetime64[D]").astype(np.int64)
    train_y = samples.y[samples.indices("train")]
    clim = {t: float(train_y[:, j].mean()) for j, t in enumerate(samples.targets)}
    counts = samples.counts()
    out: dict[str, Any] = {
        "samples": counts, "convention": samples.config.convention, "targets": list(samples.targets),
        "spread": "sample standard deviation over seeds (ddof 1)",
        "interval": (f"95% percentile interval of the seed-mean score over {n_boot} bootstrap resamples of whole "
                     f"{'regions (HARP)' if sharp else 'UTC days'}, the same resamples for every seed"),
        "test": {"windows": int(test_idx.size), "groups": int(np.unique(groups).size),
                 "from": counts["splits"]["test"].get("from"), "to": counts["splits"]["test"].get("to"),
                 "positives": counts["splits"]["test"]["positives"]},
        "climatology": clim, "methods": {}, "baselines": {},
        # What every run's (and the tabular baselines') threshold maximised on validation; reports state it.
        "threshold_rule": cfg.train.decision().choice(),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        for m in methods:
            rs = [runs[(m.name, s)] for s in seeds]
            entry = {"kind": m.kind, "loss": cfg.replace(**m.overrides).train.loss.label, "alpha": m.alpha,
                     "gamma": m.gamma, "pos_weight": m.pos_weight,
                     "runs": [{k: r["info"][k] for k in ("seed", "thresholds", "best_epoch", "epochs_run", "seconds", "device")}
                              for r in rs], "targets": {}}
            for j, t in enumerate(samples.targets):
                entry["targets"][t] = _method_scores(samples, j, t, test_idx, val_idx, groups, rs, clim[t], n_boot)
            out["methods"][m.name] = entry
        tabular = baselines.fit_tabular(samples, threshold_score=cfg.train.threshold_score)
        base = {"climatology": (np.tile(list(clim.values()), (test_idx.size, 1)), dict.fromkeys(clim, 0.5)),
                "persistence": (np.stack([baselines.persistence(samples.prev_flux[test_idx], t, samples.config.convention)
                                          for t in samples.targets], axis=1), dict.fromkeys(clim, 0.5)),
                **({"mcintosh": (mcintosh.predict(samples, test_idx), mcintosh.thresholds)} if mcintosh else {}),
                **{m: (fit.predict(samples, test_idx), fit.thresholds) for m, fit in tabular.items()}}
        for name, (p, thr) in base.items():
            out["baselines"][name] = {"targets": {
                t: _single(score_with_ci(samples.y[test_idx, j], p[:, j], groups, threshold=thr[t],
                                         climatology=clim[t], n_boot=n_boot))
                for j, t in enumerate(samples.targets)}}
    return Comparison.build(**out)


def _method_scores(samples, j, target, test_idx, val_idx, groups, runs, clim, n_boot) -> dict[str, Any]:
    y_test, y_val = samples.y[test_idx, j], samples.y[val_idx, j]
    per_seed = {k: [] for k in SCORES}
    val_scores = {"hss": [], "tss": []}
    reps = {k: [] for k in CI_SCORES}
    for r in runs:
        thr = float(r["info"]["thresholds"][target])
        table = score_table(y_test, r["test"][:, j], threshold=thr, climatology=clim)
        for k in SCORES:
            per_seed[k].append(table[k])
        if y_val.size:
            vt = score_table(y_val, r["val"][:, j], threshold=thr, climatology=clim)
            for k in val_scores:
                val_scores[k].append(vt[k])
        # One bootstrap seed for every run: all runs are scored on the same resamples of the test groups.
        rep = bootstrap_replicates(y_test, r["test"][:, j], groups, threshold=thr, climatology=clim,
                                   n_boot=n_boot, seed=0, metrics=CI_SCORES)
        for k in CI_SCORES:
            reps[k].append(rep[k])
    out = {k: _stats(v) for k, v in per_seed.items()}
    for k in CI_SCORES:
        out[k]["ci"] = list(replicate_interval(k, np.mean(reps[k], axis=0)))
    out["val"] = {k: _stats(v) for k, v in val_scores.items()}
    out["positives"] = int(y_test.sum())
    return out


def _stats(values: list[float]) -> dict[str, Any]:
    v = np.asarray(values, dtype=np.float64)
    ok = v[np.isfinite(v)]
    return {"mean": float(ok.mean()) if ok.size else float("nan"),
            "std": float(ok.std(ddof=1)) if ok.size > 1 else float("nan"),
            "min": float(ok.min()) if ok.size else float("nan"), "max": float(ok.max()) if ok.size else float("nan"),
            "values": v.tolist(), "undefined": int(v.size - ok.size)}


def _single(s: dict[str, Any]) -> dict[str, Any]:
    """A baseline's ``score_with_ci`` entry in the methods' shape: one value, no spread."""
    out = {k: {"mean": s[k]["value"], "std": float("nan"), "values": [s[k]["value"]], "ci": s[k]["ci"]}
           for k in SCORES if k in s}
    out["threshold"] = s["threshold"]
    out["positives"] = s["positives"]
    return out
