"""``flarecast evaluate`` and ``flarecast compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit, progress_bar
from flarecast.cli.options import (
    DEFAULT_STORE,
    ConfigArg,
    JsonOpt,
    OverridesArg,
    StoreOpt,
    TrainDeviceOpt,
    TrustOpt,
)
from flarecast.defaults import COMPARE_CV_GAMMAS, COMPARE_DEFAULTS
from flarecast.errors import FlarecastError


@command("evaluate")
def evaluate_cli(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Model directory written by `flarecast train`; with --forecasts, forecast files.",
        metavar="MODEL | FILE...")] = None,
    store: StoreOpt = DEFAULT_STORE,
    forecasts: Annotated[bool, typer.Option(
        "--forecasts", help="Score forecast files against the store's flare catalogue instead of a MODEL: one "
                            "flarecast file is backtested (with and without degraded rows); several files, or "
                            "other providers' (CSV issue_time,target,probability[,region], CCMC scoreboard "
                            "JSON, SWPC's solar_probabilities JSON: all such files are one forecaster), are scored "
                            "on the same days with paired differences against the first.")] = False,
    threshold: Annotated[float, typer.Option(help="Decision threshold of files that carry none (other "
                                                  "providers'), with --forecasts.")] = 0.5,
    horizon: Annotated[str, typer.Option(help="Horizon of CSV rows without valid_to, with --forecasts.")] = "24h",
    split: Annotated[str | None, typer.Option(help="train, val or test (default test) of the model's split plan.")] = None,
    all_windows: Annotated[bool, typer.Option("--all", help="Score every window of the store, no split: for a "
                                              "store holding only data the model never saw.")] = False,
    start: Annotated[str | None, typer.Option("--from", help="Score every window issued from this UTC time on.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="... and before this UTC time (not included).")] = None,
    train_store: Annotated[Path | None, typer.Option(help="Store the model was trained on: fits the logistic and "
                                                     "trees baselines there (needed with --all, --from, --to).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Also score every method per period: 'year' (calendar "
                                           "year of issue time), with intervals from that year's days.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for metrics.json, report.md, report.html and plots.")] = None,
    plots: Annotated[bool, typer.Option(help="Write PNG plots into --out.")] = True,
    trust_modified: TrustOpt = False,
    as_json: JsonOpt = False,
):
    """Score a model beside climatology, persistence, logistic regression and boosted trees, with bootstrap intervals.

    Intervals resample whole UTC days (GOES) or whole regions (SHARP). Each target is scored at the threshold
    chosen on validation (method `model`) and at 0.5 (`model@0.5`).

    [bold]Examples[/]:
      flarecast evaluate models/latest --split test --out runs/eval
      flarecast evaluate models/goes --store data/goes-2014.zarr --all --train-store data/goes-hourly.zarr --out runs/eval-2014
      flarecast evaluate models/goes --from 2013-01-01 --to 2014-01-01 --json
      flarecast evaluate models/goes-hourly --store data/goes-hourly.zarr --by year --out runs/eval-by-year
      flarecast evaluate --forecasts runs/forecasts/september.csv --store data/store.zarr --out runs/backtest
      flarecast evaluate --forecasts runs/flarecast.csv runs/noaa.json --store data/store.zarr
      flarecast evaluate --forecasts runs/flarecast.csv data/raw/swpc/solar_probabilities_*.json --store data/store.zarr
      flarecast evaluate --forecasts data/raw/swpc/solar_regions_*.json --store data/regions.zarr
    """
    paths = list(paths or [])
    if not paths:
        raise FlarecastError("give a MODEL directory, or --forecasts FILE [FILE ...] to score forecast files")
    if not forecasts and len(paths) > 1:
        raise FlarecastError(f"{len(paths)} paths given: evaluate one MODEL, or add --forecasts to score files")
    if forecasts and by is not None:
        raise FlarecastError("--by scores a MODEL's windows period by period; scoring --forecasts files has no "
                             "period breakdown: drop --by, or evaluate the model")
    ranged = all_windows or start is not None or end is not None
    if split is not None and ranged:
        raise FlarecastError("--split cannot be combined with --all, --from or --to: choose one selection")
    from flarecast.report.tables import evaluation_summary

    if forecasts and _all_region_files(paths):
        from flarecast.report.tables import region_scores_summary
        from flarecast.studies.regions import score_swpc_regions_in_store

        emit(score_swpc_regions_in_store(paths, store, threshold=threshold), as_json, region_scores_summary)
        return
    if forecasts:
        from flarecast.forecast.providers import score_forecast_files

        result = score_forecast_files(paths, store=store, threshold=threshold, horizon=horizon, out=out_dir)
        emit(result, as_json, evaluation_summary)
        return
    from flarecast.studies.evaluation import evaluate

    result = evaluate(paths[0], store, split=None if ranged else (split or "test"),
                      period=(start, end) if start is not None or end is not None else None, train_store=train_store,
                      out_dir=out_dir, plots=plots, by=by, trust_modified=trust_modified)
    emit(result, as_json, evaluation_summary,
         wrote=[out_dir / "metrics.json", out_dir / "report.md", out_dir / "report.html"] if out_dir is not None else ())


@command("compare")
def compare_cli(
    config: ConfigArg,
    overrides: OverridesArg = None,
    store: StoreOpt = DEFAULT_STORE,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report, comparison.json and runs/.")] = Path("runs/compare"),
    seeds: Annotated[int | None, typer.Option(help=f"Training seeds per loss setting (default {COMPARE_DEFAULTS['seeds']}"
                                               "; with --cv: members per fold, default train.cv.seeds).")] = None,
    alphas: Annotated[str, typer.Option(help="Focal alpha grid; none = no class weight.")] = COMPARE_DEFAULTS["alphas"],
    gammas: Annotated[str | None, typer.Option(help=f"Focal gamma grid (default {COMPARE_DEFAULTS['gammas']}; with "
                                               f"--cv: {COMPARE_CV_GAMMAS}).")] = None,
    balanced_alpha: Annotated[float, typer.Option(help="alpha of the alpha-balanced CE baseline.")] = COMPARE_DEFAULTS["balanced_alpha"],
    pos_weight: Annotated[str, typer.Option(help="pos_weight of the weighted BCE baseline: 'odds' (each target's "
                                            "training odds) or one number for every target.")] = COMPARE_DEFAULTS["pos_weight"],
    workers: Annotated[int | None, typer.Option(help="Parallel trainings (default: one per GPU, else per core; with "
                                                "--cv: members at once, default train.cv.workers).")] = None,
    device: TrainDeviceOpt = None,
    cv: Annotated[bool, typer.Option("--cv", help="Train the config's cross-validated ensemble (train.cv) per loss "
                                     "setting and score every method, with persistence, logistic regression and "
                                     "trees, on the out-of-fold windows, per held-out period (docs/compare.md).")] = False,
    rule: Annotated[str | None, typer.Option(help="With --cv: threshold rule of every method's decisions, chosen on "
                                             "the other folds: tss, hss, cost:R or climatology:M (default: "
                                             "train.cv.threshold); changes no training.")] = None,
    as_json: JsonOpt = False,
):
    """Train CE, alpha-balanced CE, weighted BCE and focal loss over alpha x gamma, K seeds each; one report.

    Every run uses the same samples, network, optimiser and epochs. Writes OUT/report.md, OUT/report.html
    (case-study table, heat maps, one verdict per target) and OUT/comparison.json; a re-run into the same
    OUT reuses finished runs.

    With --cv every loss setting is a CV ensemble (OUT/SETTING/), scored out of fold per held-out period beside
    persistence, logistic regression and trees, all at thresholds chosen on the other folds; the verdict quotes
    focal alpha 0.25, gamma 2 against CE, with paired bootstrap intervals. Writes OUT/report-cv.md,
    OUT/report-cv.html and OUT/comparison-cv.json; a re-run into the same OUT reuses finished ensembles.

    [bold]Examples[/]:
      flarecast compare configs/real-goes-hourly.yaml --store data/goes-hourly.zarr --out runs/compare-goes
      flarecast compare flarecast/configs/demo.yaml --store runs/demo/store.zarr --seeds 2 --alphas none,0.25 --gammas 2
      flarecast compare configs/real-goes-hourly.yaml --cv --store data/goes-hourly.zarr --out runs/compare-cv-goes train.cv.by=year "train.cv.pool=[train,val,test]"
      flarecast compare configs/real-goes-hourly.yaml --cv --rule hss --store data/goes-hourly.zarr --out runs/compare-cv-goes train.cv.by=year "train.cv.pool=[train,val,test]"
    """
    from flarecast.report.tables import compare_cv_summary, compare_summary
    from flarecast.studies.run import run_compare

    with progress_bar(not as_json) as p:
        result = run_compare(config, overrides, store=store, out=out_dir, device=device, seeds=seeds, alphas=alphas,
                             gammas=gammas, balanced_alpha=balanced_alpha, pos_weight=pos_weight, workers=workers,
                             cv=cv, rule=rule, progress=p)
    emit(result.comparison, as_json, compare_cv_summary if cv else compare_summary,
         wrote=[result.report_md, result.report_html, out_dir / ("comparison-cv.json" if cv else "comparison.json")])


def _all_region_files(paths) -> bool:
    """Every path is SWPC's per-region list (``solar_regions.json``): scored per region, not per day."""
    from flarecast.ingest.readers.regions import SwpcRegionsJson

    return all(Path(p).is_file() and SwpcRegionsJson.can_read(p) for p in paths)
