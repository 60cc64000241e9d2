"""``flarecast evaluate MODEL``: build the samples of a store with the model's config, score them
(:func:`flarecast.evaluate.scoring.evaluate_samples`) and write ``metrics.json``, ``report.md``, ``report.html``
and the plots.

Scoring lives in :mod:`flarecast.evaluate`, which never imports ``report``; writing the documents that render a
result is done here, above both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from flarecast.config import RunConfig
from flarecast.evaluate import baselines
from flarecast.evaluate.bootstrap import N_BOOT
from flarecast.evaluate.periods import check_by
from flarecast.evaluate.scoring import ALL_WINDOWS_BLOCK, Forecasts, evaluate_samples
from flarecast.model.documents import Metrics
from flarecast.model.modeldir import read_card
from flarecast.samples.build import Samples, samples_from_store
from flarecast.util import atomic_write_text, utc


def evaluate(model_dir: str | Path, store: str | Path, *, split: str | None = "test", period=None,
             train_store: str | Path | None = None, out_dir: str | Path | None = None, plots: bool = True,
             device: str = "cpu", n_boot: int = N_BOOT, seed: int = 0, by: str | None = None,
             trust_modified: bool = False) -> Metrics:
    """Build samples from ``store`` with the model's config and normalisation, score them, write the outputs.

    With ``split=None`` every window of ``store`` is scored (see the module docstring); ``train_store``, the
    store the model was trained on, lets the tabular baselines be fitted on the model's training split there,
    and the evaluated windows be checked against the model's training and validation periods.
    ``out_dir`` receives ``metrics.json``, ``report.md`` and, with ``plots``, the PNGs of
    :func:`flarecast.report.plots.write_plots`.
    """
    card = read_card(model_dir, trust_modified=trust_modified)
    cfg: RunConfig = card.run_config(str(Path(model_dir) / "card.json"))
    norm = card.norm()
    eval_cfg = cfg if split is not None else cfg.replace(**{"samples.split.block": ALL_WINDOWS_BLOCK})
    samples = samples_from_store(store, eval_cfg.samples, norm=norm)
    check_by(by)
    tabular, overlap = None, None
    if train_store is not None:
        train_samples = samples_from_store(train_store, cfg.samples, norm=norm)
        tabular = baselines.fit_tabular(train_samples, threshold_score=card.threshold_score or "hss")
        overlap = _overlap(samples, train_samples, cfg)
    result, fc = evaluate_samples(model_dir, samples, split=split, period=period, tabular=tabular, device=device,
                                  n_boot=n_boot, seed=seed, by=by, trust_modified=trust_modified)
    if overlap is not None and split is None:
        result = result.with_notes(*([f"{overlap['windows']} evaluated windows reach into the model's training or "
                                      "validation periods: those scores are not out-of-sample"]
                                     if overlap["windows"] else []),
                                   store=str(store), overlap_with_training=overlap)
    elif split is None:
        result = result.with_notes("every window of the store was scored: out-of-sample only if the store holds no "
                                   "data the model was trained or validated on (pass --train-store to check)",
                                   store=str(store))
    else:
        result = result.with_notes(store=str(store))
    if out_dir is not None:
        result = _write_outputs(Path(out_dir), result, fc, store, plots)
    return result


def _overlap(samples: Samples, train_samples: Samples, cfg: RunConfig) -> dict[str, Any]:
    """Evaluated windows whose span [t - window, t + horizon] meets a train or val run of the model's split plan."""
    window, horizon = cfg.samples.window_length, cfg.samples.horizon_length
    runs = [r for r in train_samples.runs if r["split"] in ("train", "val")]
    lo = samples.issue_time - window
    hi = samples.issue_time + horizon
    hit = np.zeros(samples.issue_time.size, bool)
    for r in runs:
        hit |= (hi > utc(r["from"])) & (lo < utc(r["to"]))
    return {"windows": int(hit.sum()), "runs": runs}


def _write_outputs(out_dir: Path, result: Metrics, fc: Forecasts, store, plots: bool) -> Metrics:
    """Write ``metrics.json`` (with the figures' names under ``plots``), ``report.md``, ``report.html`` and the
    figures; return the document written."""
    from flarecast.jsonio import write_json
    from flarecast.report.formats import markdown_to_html
    from flarecast.report.text import evaluation_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, list[str]] = {}
    if plots:
        from flarecast.report.plots import read_flares, write_plots

        written = write_plots(fc, out_dir, flares=read_flares(store, result.convention))
        figures = {t: [p.name for p in paths] for t, paths in written.items()}
    result = result.with_notes(plots=figures)
    write_json(out_dir / "metrics.json", result)
    md = evaluation_markdown(result)
    atomic_write_text(out_dir / "report.md", md)
    atomic_write_text(out_dir / "report.html", markdown_to_html(md, out_dir, "flarecast evaluate"))  # figures embedded
    return result
