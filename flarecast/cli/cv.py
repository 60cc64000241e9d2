"""``flarecast cv``: a CV ensemble's skill on each held-out period, beside persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit
from flarecast.cli.options import JsonOpt


@command("cv")
def cv_cli(
    model: Annotated[Path, typer.Argument(help="Ensemble directory written by `flarecast train` with train.cv.")],
    rule: Annotated[str | None, typer.Option(help="Threshold rule to score instead of the card's: tss, hss, cost:R "
                                             "or climatology:M (chosen on the other folds; no retraining).")] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates per interval.")] = 1000,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the scores to this JSON file.")] = None,
    as_json: JsonOpt = False,
):
    """Score a CV ensemble's out-of-fold predictions per held-out period (and pooled) beside persistence.

    Each period is forecast as if unseen: its fold's members, a calibration and a threshold fitted on the other
    folds only. Intervals (95%) resample whole UTC days (GOES) or regions (SHARP).

    [bold]Examples[/]:
      flarecast cv models/goes-hourly
      flarecast cv models/goes-hourly --json --out runs/goes-loyo.json
      flarecast cv models/goes-hourly --rule hss
    """
    from flarecast.report.tables import oof_summary
    from flarecast.studies.oof import score_oof

    emit(score_oof(model, rule=rule, n_boot=n_boot, out_file=out_file), as_json, oof_summary, wrote=[out_file])

