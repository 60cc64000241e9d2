"""The ``flarecast`` command line. Each command parses its options and calls one library function.

User errors (:class:`~flarecast.errors.FlarecastError`) print one line on stderr and exit non-zero; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flarecast import __version__
from flarecast.errors import FlarecastError

app = typer.Typer(
    name="flarecast",
    help="Solar flare forecasting from GOES XRS and SHARP series: ingest, samples, train, evaluate, forecast.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Piped output keeps whole table rows on one line (rich would otherwise wrap them at 80 columns).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

StoreOpt = Annotated[Path, typer.Option("--store", "-s", help="Zarr store to read and write.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
DEFAULT_STORE = Path("data/store.zarr")


def user_errors(fn):
    """Turn library errors into one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FlarecastError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/]: finished files and models are left as they were")
            raise typer.Exit(130) from None

    return wrapper


def _progress(enabled: bool = True):
    from flarecast.progress import RichProgress

    return RichProgress(enabled=enabled and sys.stderr.isatty())


def _print_json(data) -> None:
    from flarecast.jsonio import dumps

    sys.stdout.write(dumps(data) + "\n")


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False):
    if version:
        out.print(f"flarecast {__version__}")
        raise typer.Exit()


@app.command("simulate")
@user_errors
def simulate_cli(
    outdir: Annotated[Path, typer.Argument(help="Folder to write goes/, events/ and sharp/ into.")],
    days: Annotated[int, typer.Option(help="Number of UTC days to simulate.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    start: Annotated[str, typer.Option(help="First UTC day (YYYY-MM-DD).")] = "2018-01-01",
    activity: Annotated[float, typer.Option(help="Active-region emergence rate; 1 moderate, 4 solar maximum.")] = 1.0,
    as_json: JsonOpt = False,
):
    """Write simulated data in real formats: GOES-16 L2 avg1m netCDF, SWPC edited events, JSOC SHARP CSV.

    [bold]Example[/]: flarecast simulate data/sim --days 60 --seed 1
    """
    from flarecast.simulate import simulate

    with _progress(not as_json) as p:
        summary = simulate(outdir, days=days, seed=seed, start=start, activity=activity,
                           progress=p.task("Simulating days", days))
    if as_json:
        _print_json(summary.to_dict())
    else:
        out.print(f"wrote {days} days to {outdir}: flares by class {summary.to_dict().get('flares_by_class')}")


@app.command("ingest")
@user_errors
def ingest_cli(
    kind: Annotated[str, typer.Argument(help="What the files hold: goes, sharp or events.")],
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (searched recursively) or globs.")],
    store: StoreOpt = DEFAULT_STORE,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files, list them, go on.")] = False,
    basis: Annotated[str | None, typer.Option(help="Flux basis of a plain CSV: swpc or true.")] = None,
    satellite: Annotated[int | None, typer.Option(help="GOES satellite number of a plain CSV.")] = None,
    as_json: JsonOpt = False,
):
    """Read GOES XRS, SHARP or flare-catalogue files into the store (atomic, idempotent).

    [bold]Examples[/]:
      flarecast ingest goes data/raw/goes/*.nc
      flarecast ingest events ../shared/data/real/events/ngdc --store data/store.zarr
      flarecast ingest goes hourly.csv --basis swpc --satellite 15 --json
    """
    if kind not in ("goes", "sharp", "events"):
        raise FlarecastError(f"kind {kind!r}: expected one of ['goes', 'sharp', 'events']")
    from flarecast.ingest import ingest

    with _progress(not as_json) as p:
        report = ingest(kind, paths, store=store, skip_bad=skip_bad, basis=basis, satellite=satellite,
                        progress=p.task(f"Ingesting {kind}", None))
    data = report.to_dict()
    if as_json:
        _print_json(data)
        return
    from flarecast.report import ingest_table

    out.print(ingest_table(data))


@app.command("samples")
@user_errors
def samples_cli(
    config: Annotated[Path, typer.Argument(help="YAML config with a samples section.")],
    overrides: Annotated[list[str] | None, typer.Argument(help="Dotted overrides: samples.window=12h")] = None,
    store: StoreOpt = DEFAULT_STORE,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the sample index (.parquet or .nc).")] = None,
    as_json: JsonOpt = False,
):
    """Build windows, labels and splits; print class counts per split and target, dropped windows and gaps.

    The index file has one row per window: issue_time (UTC), region (HARP; empty for full-disk), label
    (0 quiet, 1 C, 2 M, 3 X), one boolean column per target, split.

    [bold]Example[/]: flarecast samples configs/real-goes-hourly.yaml samples.horizon=12h --out samples.parquet
    """
    from flarecast.config import load_config
    from flarecast.samples import samples_from_store, write_index

    cfg = load_config(config, overrides)
    samples = samples_from_store(store, cfg.samples)
    counts = samples.counts()
    if out_file is not None:
        write_index(samples, out_file)
    if as_json:
        _print_json(counts)
        return
    from rich.table import Table

    sharp = cfg.samples.source == "sharp"
    table = Table(title=f"Samples from {store} ({cfg.samples.source}, {cfg.samples.convention} classes, "
                        f"horizon {cfg.samples.horizon})")
    cols = ["split", "windows", *(["regions"] if sharp else []), "from", "to", "quiet", "C", "M", "X",
            *[f"pos {t}" for t in samples.targets]]
    for col in cols:
        table.add_column(col, justify="left" if col in ("split", "from", "to") else "right")
    for name, sp in counts["splits"].items():
        table.add_row(name, str(sp["windows"]), *([str(sp["regions"])] if sharp else []), sp.get("from", "-"),
                      sp.get("to", "-"), *[str(v) for v in sp["classes"].values()],
                      *[str(sp["positives"][t]) for t in samples.targets])
    out.print(table)
    out.print("dropped windows: " + ", ".join(f"{k} {v}" for k, v in counts["dropped"].items()))
    g = counts["gaps"]
    longest = "; ".join(f"{r['from']} to {r['to']} ({r['steps']} steps"
                        + (f", HARP {r['region']})" if r["region"] >= 0 else ")") for r in g["longest"][:3])
    out.print(f"gaps: {g['missing_steps']} of {g['steps']} steps fully missing" + (f"; longest {longest}" if longest else ""))
    out.print("split plan: " + ", ".join(f"{r['split']} {r['from'][:10]}..{r['to'][:10]}" for r in counts["runs"][:12])
              + (f" ... ({len(counts['runs'])} runs)" if len(counts["runs"]) > 12 else ""))
    if out_file is not None:
        out.print(f"wrote the sample index to {out_file}")


@app.command("train")
@user_errors
def train_cli(
    config: Annotated[Path, typer.Argument(help="YAML config (samples, model, train sections).")],
    overrides: Annotated[list[str] | None, typer.Argument(help="Dotted overrides: train.loss.gamma=2")] = None,
    store: StoreOpt = DEFAULT_STORE,
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")] = Path("models/latest"),
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda (overrides train.device).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/checkpoint.safetensors.")] = False,
    as_json: JsonOpt = False,
):
    """Train the temporal CNN with the config's loss; write weights, card.json and the training log.

    The model directory is rewritten atomically after every epoch; an interrupted run keeps the last good
    model and continues with --resume. Under torchrun it trains with DistributedDataParallel.

    [bold]Examples[/]:
      flarecast train configs/real-goes-hourly.yaml --out models/goes-focal train.loss.alpha=0.25 train.loss.gamma=2
      flarecast train configs/real-goes-hourly.yaml --device cuda train.epochs=30
      flarecast train configs/real-goes-hourly.yaml --out models/goes-focal --resume
      torchrun --nproc_per_node=2 -m flarecast train configs/real-goes-hourly.yaml --out models/ddp
    """
    from flarecast.config import load_config
    from flarecast.samples import samples_from_store
    from flarecast.train import train

    ov = list(overrides or []) + ([f"train.device={device}"] if device else [])
    cfg = load_config(config, ov)
    samples = samples_from_store(store, cfg.samples)
    n = samples.indices("train").size
    with _progress(not as_json) as p:
        advance = p.task(f"Training {cfg.train.loss.label}", cfg.train.epochs * n)

        def show_epoch(entry: dict) -> None:  # loss and validation scores beside the bar, one line per epoch
            pr = ", ".join(f"{t} {v:.3f}" for t, v in entry["val_pr_auc"].items() if v == v)
            advance(0, info=f"epoch {entry['epoch']}: loss {entry['train_loss']:.4f}, val PR AUC {pr}")

        result = train(samples, cfg, out_dir, resume=resume, on_batch=advance, on_epoch=show_epoch)
    summary = {"model_dir": str(result.model_dir), "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "val_score": result.val_score, "thresholds": result.thresholds, "seconds": round(result.seconds, 2)}
    if as_json:
        _print_json(summary)
    else:
        out.print(f"model written to {result.model_dir} (best epoch {result.best_epoch} of {result.epochs_run}, "
                  f"validation mean PR AUC {result.val_score:.3f}, thresholds {result.thresholds})")


@app.command("evaluate")
@user_errors
def evaluate_cli(
    model: Annotated[Path | None, typer.Argument(help="Model directory written by `flarecast train`.")] = None,
    store: StoreOpt = DEFAULT_STORE,
    forecasts: Annotated[Path | None, typer.Option(
        "--forecasts", help="Backtest: score this file of `flarecast forecast` (.json or .csv) against the "
                            "store's flare catalogue, instead of a MODEL.")] = None,
    split: Annotated[str | None, typer.Option(help="train, val or test (default test) of the model's split plan.")] = None,
    all_windows: Annotated[bool, typer.Option("--all", help="Score every window of the store, no split: for a "
                                              "store holding only data the model never saw.")] = False,
    start: Annotated[str | None, typer.Option("--from", help="Score every window issued from this UTC time on.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="... and before this UTC time (not included).")] = None,
    train_store: Annotated[Path | None, typer.Option(help="Store the model was trained on: fits the logistic "
                                                     "baseline there (needed with --all, --from, --to).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for metrics.json, report.md and plots.")] = None,
    plots: Annotated[bool, typer.Option(help="Write PNG plots into --out.")] = True,
    as_json: JsonOpt = False,
):
    """Score a model beside climatology, persistence and logistic regression, with bootstrap intervals.

    Intervals resample whole UTC days (GOES) or whole regions (SHARP). Each target is scored at the threshold
    chosen on validation (method `model`) and at 0.5 (`model@0.5`).

    [bold]Examples[/]:
      flarecast evaluate models/latest --split test --out runs/eval
      flarecast evaluate models/goes --store data/goes-2014.zarr --all --train-store data/goes-hourly.zarr --out runs/eval-2014
      flarecast evaluate models/goes --from 2013-01-01 --to 2014-01-01 --json
      flarecast evaluate --forecasts runs/forecasts/september.csv --store data/store.zarr --out runs/backtest
    """
    if (model is None) == (forecasts is None):
        raise FlarecastError("give a MODEL directory, or --forecasts FILE for a backtest (one of the two)")
    if forecasts is not None:
        from flarecast.forecast_file import backtest

        result = backtest(forecasts, store=store)
        if out_dir is not None:
            from flarecast.jsonio import write_json

            out_dir.mkdir(parents=True, exist_ok=True)
            write_json(out_dir / "metrics.json", result)
        if as_json:
            _print_json(result)
            return
        from flarecast.report import metrics_table

        out.print(metrics_table(result))
        return
    from flarecast.evaluate import evaluate

    ranged = all_windows or start is not None or end is not None
    if split is not None and ranged:
        raise FlarecastError("--split cannot be combined with --all, --from or --to: choose one selection")
    period = (start, end) if start is not None or end is not None else None
    result = evaluate(model, store, split=None if ranged else (split or "test"), period=period,
                      train_store=train_store, out_dir=out_dir, plots=plots)
    if as_json:
        _print_json(result)
        return
    from flarecast.report import metrics_table

    out.print(metrics_table(result))
    if out_dir is not None:
        out.print(f"wrote {out_dir / 'metrics.json'} and {out_dir / 'report.md'}")


@app.command("compare")
@user_errors
def compare_cli(
    config: Annotated[Path, typer.Argument(help="YAML config (samples, model, train sections).")],
    overrides: Annotated[list[str] | None, typer.Argument(help="Dotted overrides: train.epochs=5")] = None,
    store: StoreOpt = DEFAULT_STORE,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report, comparison.json and runs/.")] = Path("runs/compare"),
    seeds: Annotated[int, typer.Option(help="Training seeds per loss setting.")] = 5,
    alphas: Annotated[str, typer.Option(help="Focal alpha grid; none = no class weight.")] = "none,0.25,0.5,0.75",
    gammas: Annotated[str, typer.Option(help="Focal gamma grid.")] = "0.5,1,2,3,5",
    balanced_alpha: Annotated[float, typer.Option(help="alpha of the alpha-balanced CE baseline.")] = 0.75,
    pos_weight: Annotated[str, typer.Option(help="pos_weight of the weighted BCE baseline: 'odds' (each target's "
                                            "training odds) or one number for every target.")] = "odds",
    workers: Annotated[int | None, typer.Option(help="Parallel trainings (default: one per GPU, else per core).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda (overrides train.device).")] = None,
    as_json: JsonOpt = False,
):
    """Train CE, alpha-balanced CE, weighted BCE and focal loss over alpha x gamma, K seeds each; one report.

    Every run uses the same samples, network, optimiser and epochs. Writes OUT/report.md, OUT/report.html
    (case-study table, heat maps, one verdict per target) and OUT/comparison.json; a re-run into the same
    OUT reuses finished runs.

    [bold]Examples[/]:
      flarecast compare configs/real-goes-hourly.yaml --store data/goes-hourly.zarr --out runs/compare-goes
      flarecast compare flarecast/configs/demo.yaml --store runs/demo/store.zarr --seeds 2 --alphas none,0.25 --gammas 2
    """
    from flarecast.compare import compare, parse_alphas, parse_gammas, parse_pos_weight
    from flarecast.config import load_config
    from flarecast.samples import samples_from_store

    cfg = load_config(config, list(overrides or []) + ([f"train.device={device}"] if device else []))
    grid_a, grid_g, pw = parse_alphas(alphas), parse_gammas(gammas), parse_pos_weight(pos_weight)
    samples = samples_from_store(store, cfg.samples)
    with _progress(not as_json) as p:
        result = compare(cfg, samples, out_dir, seeds=seeds, alphas=grid_a, gammas=grid_g,
                         balanced_alpha=balanced_alpha, pos_weight=pw, workers=workers, progress=p,
                         store=str(store))
    if as_json:
        _print_json(result.comparison)
        return
    from flarecast.report import compare_table

    out.print(compare_table(result.comparison))
    for v in result.comparison["verdicts"].values():
        out.print(v["sentence"], highlight=False)
    for w in result.comparison.get("warnings", []):
        out.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"wrote {result.report_md}, {result.report_html} and {out_dir / 'comparison.json'} "
              f"in {result.comparison['wall_seconds']:.0f} s")


@app.command("demo")
@user_errors
def demo_cli(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the simulated data, store, models and report.")] = Path("runs/demo"),
    overrides: Annotated[list[str] | None, typer.Argument(help="Dotted overrides: simulate.days=365 train.epochs=5")] = None,
    as_json: JsonOpt = False,
):
    """Simulate, ingest, train cross-entropy and focal models identically, compare them on the test split.

    Writes OUT/comparison.json and OUT/report.md. About 5-10 minutes on 2 CPU cores.

    [bold]Examples[/]:
      flarecast demo
      flarecast demo --out runs/quick simulate.days=240 train.epochs=3
    """
    from flarecast.demo import run_demo
    from flarecast.report import comparison_table

    with _progress(not as_json) as p:
        result = run_demo(out_dir, overrides=overrides, progress=p)
    if as_json:
        _print_json(result.comparison)
        return
    out.print(comparison_table(result.comparison))
    out.print(f"wrote {result.out / 'comparison.json'} and {result.report_path} "
              f"in {result.comparison['wall_seconds']:.0f} s")


FilesOpt = Annotated[list[str] | None, typer.Option(
    help="Files, folders or quoted globs to ingest into a temporary store (repeat the option for more).")]


@app.command("forecast")
@user_errors
def forecast_cli(
    model: Annotated[Path, typer.Argument(help="Model directory written by `flarecast train`.")],
    store: Annotated[Path | None, typer.Option("--store", "-s", help="Store to read (default data/store.zarr "
                                                                     "unless files are given).")] = None,
    goes: FilesOpt = None,
    events: FilesOpt = None,
    sharp: FilesOpt = None,
    at: Annotated[list[str] | None, typer.Option("--at", help="Issue time (UTC, on the model's step grid); "
                                                              "repeat for more.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Issue at the last step the data reach.")] = False,
    start: Annotated[str | None, typer.Option("--from", help="First issue time of a series.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last issue time of a series (inclusive).")] = None,
    every: Annotated[str | None, typer.Option(help="Step of the series (default: the model's stride).")] = None,
    skip_refused: Annotated[bool, typer.Option(
        "--skip-refused", help="List refused issue times in the output and forecast the rest.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the forecasts (.json or .csv).")] = None,
    device: Annotated[str, typer.Option(help="cpu (bit-reproducible), cuda or auto.")] = "cpu",
    as_json: JsonOpt = False,
):
    """Issue probabilities for (t, t + horizon] at issue times t, with the decision at the card's threshold.

    Refuses (one line, exit 2) an issue time outside the data or a window with more input missing than the
    model tolerates, and inputs whose channels, cadence or units do not fit the model card.

    [bold]Examples[/]:
      flarecast forecast models/latest --latest --out runs/forecast.json
      flarecast forecast models/latest --goes 'data/raw/goes/*.nc' --at 2017-09-06T12:00
      flarecast forecast models/latest --from 2017-09-05 --to 2017-09-08 --every 1h --out september.csv
    """
    from flarecast.forecast import forecast
    from flarecast.forecast_file import write_forecasts

    files = bool(goes or events or sharp)
    doc = forecast(model, store=store if store is not None or files else DEFAULT_STORE, goes=goes or (),
                   events=events or (), sharp=sharp or (), at=at or (), latest=latest, start=start, end=end,
                   every=every, skip_refused=skip_refused, device=device)
    if out_file is not None:
        write_forecasts(doc, out_file)
    if as_json:
        _print_json(doc)
        return
    from rich.table import Table

    table = Table(title=f"Forecasts of model {doc['model_id']} ({doc['loss']}): largest flare in the next "
                        f"{doc['horizon']}, {doc['convention']} classes")
    for col in ("issue time", "region", "target", "probability", "threshold", "decision", "coverage"):
        table.add_column(col, justify="left" if col in ("issue time", "target", "decision") else "right")
    rows = doc["forecasts"]
    for r in rows[-30:]:
        table.add_row(r["issue_time"], "" if r["region"] is None else str(r["region"]), r["target"],
                      f"{r['probability']:.3f}", f"{r['threshold']:.3f}", "YES" if r["decision"] else "no",
                      f"{r['coverage']:.0%}")
    if len(rows) > 30:
        table.caption = f"last 30 of {len(rows)} rows" + (f"; all in {out_file}" if out_file else "; use --out")
    out.print(table)
    for r in doc["refused"][:5]:
        out.print(f"refused {r['issue_time']}: {r['detail']}")
    if len(doc["refused"]) > 5:
        out.print(f"... {len(doc['refused'])} issue times refused in all")
    if out_file is not None:
        out.print(f"wrote {len(rows)} rows to {out_file}")


@app.command("card")
@user_errors
def card_cli(
    model: Annotated[Path, typer.Argument(help="Model directory written by `flarecast train`.")],
    as_json: JsonOpt = False,
):
    """Print a model's card: what it forecasts, from which inputs, how it was trained and validated.

    [bold]Examples[/]:
      flarecast card models/latest
      flarecast card models/latest --json
    """
    from flarecast.modeldir import model_id, read_card

    card = {"model_id": model_id(model), **read_card(model)}
    if as_json:
        _print_json(card)
        return
    from rich.table import Table

    cfg = card["config"]["samples"]
    table = Table(title=f"Model {card['model_id']} ({model})", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    rows = [
        ("loss", card.get("loss", "")),
        ("forecasts", f"largest flare peaking in the next {card['horizon']}: " + ", ".join(card["targets"])),
        ("class convention", card["convention"]),
        ("source", f"{cfg['source']}: window {cfg['window']} at {card['cadence']} steps ({card['window_steps']}), "
                   f"at most {cfg['max_missing']:.0%} missing"),
        ("channels", ", ".join(f"{c} (mean {m:.3g}, std {s:.3g})" for c, m, s in zip(
            card["channels"], card["normalisation"]["mean"], card["normalisation"]["std"], strict=True))),
        ("thresholds", ", ".join(f"{t} {v:.3f}" for t, v in card["thresholds"].items())
         + f" (chosen on validation by {card.get('threshold_score', '?')})"),
        ("climatology", ", ".join(f"{t} {v:.3f}" for t, v in card["climatology"].items()) + " (training base rate)"),
        ("validation", f"best epoch {card.get('best_epoch')}: PR AUC " + ", ".join(
            f"{t} {v:.3f}" for t, v in (card.get("val") or {}).get("val_pr_auc", {}).items() if v is not None)),
        ("network", ", ".join(f"{k} {v}" for k, v in card["model"].items())),
        ("data", f"fingerprint {card['data_fingerprint']}"),
        ("weights", f"sha256 {card['weights_sha256']}"),
        ("code", f"flarecast {card.get('code_version')}, trained on {card.get('device')}"),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    out.print(table)


@app.command("batch")
@user_errors
def batch_cli(
    job: Annotated[Path, typer.Argument(help="Job YAML: a store, a log file and named steps.")],
    overrides: Annotated[list[str] | None, typer.Argument(
        help="Dotted overrides of the job: steps.train.overrides=[train.epochs=1]")] = None,
    root: Annotated[Path | None, typer.Option(help="Folder the job's relative paths start from "
                                                   "(default: the job's `root`, else the current folder).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run every step, even those already done.")] = False,
    as_json: JsonOpt = False,
):
    """Run a job's steps in order (ingest, train, evaluate, compare, forecast), skipping those already done.

    A step is done when the job log records it with the same inputs (file sha256s, config, store contents,
    model weights) and its outputs are still as it left them; re-running a finished job changes nothing.
    The JSON job log is rewritten after every step; a failed step stops the job with a non-zero exit.

    [bold]Examples[/]:
      flarecast batch configs/batch.yaml
      flarecast batch configs/batch.yaml --root / steps.forecast.latest=true
      flarecast batch configs/batch-real-goes.yaml steps.compare.workers=14
    """
    from flarecast.batch import run_job

    def show(step: dict) -> None:
        if not as_json:
            err.print(f"{step['name']:<16} {step['status']:<8} {step['seconds']:7.1f} s  {step.get('note', '')}",
                      highlight=False)

    log = run_job(job, overrides=overrides, root=root, force=force, on_step=show)
    if as_json:
        _print_json(log)
    else:
        out.print(f"job {log['status']} in {log['seconds']:.1f} s; log written to {log['log']}")
