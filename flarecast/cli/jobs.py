"""Whole pipelines: ``flarecast demo`` and ``flarecast batch``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit, markup_safe, progress_bar
from flarecast.cli.options import JsonOpt, OverridesArg


@command("demo")
def demo_cli(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the store, models, report and figures.")] = Path("runs/demo"),
    overrides: OverridesArg = None,
    simulated: Annotated[bool, typer.Option("--simulated", help="Run on two simulated years of GOES-16 files "
                                                                  "instead of the embedded real data.")] = False,
    seeds: Annotated[int, typer.Option("--seeds", help="Training seeds per loss (real data).")] = 3,
    as_json: JsonOpt = False,
):
    """Train cross-entropy and focal loss (alpha 0.25, gamma 2) identically and compare them on the test years.

    By default on the real data shipped in the package: GOES-15 hourly XRS-B maxima 2011-2013 and the NOAA/NGDC
    flare reports 2010-2013 (test split 2013-05-28 to 2013-12-31). Prints the case-study table (X and >=M recall,
    HSS, TSS: seed mean, spread and 95% interval, beside persistence, climatology and logistic regression) and
    a verdict per target; writes OUT/comparison.json, OUT/report.html (self-contained) and the figures as PNG.
    A few minutes on 2 CPU cores.

    [bold]Examples[/]:
      flarecast demo
      flarecast demo --out runs/quick --seeds 1 train.epochs=2
      flarecast demo --simulated --out runs/demo-sim simulate.days=240 train.epochs=3
    """
    from flarecast.jobs.demo import run_demo
    from flarecast.report.tables import demo_summary

    with progress_bar(not as_json) as p:
        result = run_demo(out_dir, simulated=simulated, seeds=seeds, overrides=overrides, progress=p)
    emit(result.comparison, as_json, demo_summary, wrote=[result.out / "comparison.json", result.report_path])


@command("batch")
def batch_cli(
    job: Annotated[Path, typer.Argument(help="Job YAML: a store, a log file and named steps.")],
    overrides: Annotated[list[str] | None, typer.Argument(
        help=markup_safe("Dotted overrides of the job: steps.train.overrides=[train.epochs=1]"))] = None,
    root: Annotated[Path | None, typer.Option(help="Folder the job's relative paths start from "
                                                   "(default: the job's `root`, else the current folder).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run every step, even those already done, and overwrite outputs (and a log) this job did not write.")] = False,
    as_json: JsonOpt = False,
):
    """Run a job's steps in order (fetch, ingest, train, evaluate, compare, forecast, dashboard), skipping those
    already done.

    The job file is checked when it is loaded, overrides included, before any step runs: an unknown key, a
    missing one, a wrong type or a value outside the allowed ones is refused in one line naming the file, the
    step, the key and what is allowed, and nothing is written (docs/batch.md lists each step kind's keys).

    A step is done when the job log records it with the same inputs (file sha256s, config, store contents,
    model weights) and its outputs are still as it left them; re-running a finished job changes nothing.
    The JSON job log is rewritten after every step; a failed step stops the job with a non-zero exit.
    A job killed at any point is run again as it is: it reruns the step it was in over that step's own
    partial outputs (the log named them before the step began) and says so in its log. One run of a job at a
    time: a second is refused while the first holds the lock beside the log.

    [bold]Examples[/]:
      flarecast batch configs/batch.yaml
      flarecast batch configs/batch.yaml --root / steps.forecast.latest=true
      flarecast batch configs/batch-real-goes.yaml steps.compare.workers=14
    """
    from flarecast.jobs.batch import run_job
    from flarecast.report.tables import batch_step, batch_summary

    with progress_bar(not as_json) as p:  # a line on stderr as each step ends
        log = run_job(job, overrides=overrides, root=root, force=force, on_step=lambda step: p.note(batch_step(step)))
    emit(log, as_json, batch_summary)
