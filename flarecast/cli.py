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
        result = train(samples, cfg, out_dir, resume=resume,
                       on_batch=p.task(f"Training {cfg.train.loss.label}", cfg.train.epochs * n))
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
    model: Annotated[Path, typer.Argument(help="Model directory written by `flarecast train`.")],
    store: StoreOpt = DEFAULT_STORE,
    split: Annotated[str, typer.Option(help="train, val or test.")] = "test",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for metrics.json.")] = None,
    as_json: JsonOpt = False,
):
    """Score a model on a split beside climatology and persistence, with day-bootstrap intervals.

    [bold]Example[/]: flarecast evaluate models/latest --split test --out runs/eval
    """
    from flarecast.config import from_dict
    from flarecast.evaluate import evaluate_model
    from flarecast.modeldir import read_card
    from flarecast.samples import samples_from_store

    card = read_card(model)
    cfg = from_dict(card["config"])
    norm = (card["normalisation"]["mean"], card["normalisation"]["std"])
    samples = samples_from_store(store, cfg.samples, norm=norm)
    result = evaluate_model(model, samples, split=split)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        from flarecast.jsonio import write_json

        write_json(out_dir / "metrics.json", result)
    if as_json:
        _print_json(result)
        return
    from flarecast.report import metrics_table

    out.print(metrics_table(result))


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
