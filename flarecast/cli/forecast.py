"""``flarecast forecast`` and ``flarecast card``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import DEFAULT_STORE, JsonOpt, TrustOpt, app, out, print_json, user_errors

FilesOpt = Annotated[list[str] | None, typer.Option(
    help="Files, folders or quoted globs to ingest into a temporary store (repeat the option for more).")]


@app.command("forecast")
@user_errors
def forecast_cli(
    models: Annotated[list[Path], typer.Argument(
        help="Model directory (`flarecast train`) or combination (`flarecast combine`); more models are fallbacks, "
             "tried in order where the first one's input is missing.", metavar="MODEL [MODEL]...")],
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
    strict: Annotated[bool, typer.Option(
        "--strict", help="No fallback: refuse issue times whose input is missing (one line, exit 2).")] = False,
    skip_refused: Annotated[bool, typer.Option(
        "--skip-refused", help="No fallback either: list refused issue times in the output and forecast the rest.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the forecasts (.json or .csv).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="flarecast (JSON or CSV by --out's suffix) or ccmc (the CCMC "
                                                      "flare scoreboard's JSON).")] = "flarecast",
    device: Annotated[str, typer.Option(help="cpu (bit-reproducible), cuda or auto.")] = "cpu",
    trust_modified: TrustOpt = False,
    as_json: JsonOpt = False,
):
    """Issue probabilities for (t, t + horizon] at issue times t, with the decision at the card's threshold.

    Every issue time gets a forecast: where the first model's input is missing beyond its tolerance, the next
    MODEL whose input is present forecasts it, else the Poisson rate of the catalogue's recent flares, else the
    card's climatology; those rows say `degraded` and why (docs/operations.md). `--strict` refuses them instead
    (one line, exit 2). Inputs whose channels, cadence or units do not fit the model card are always refused.

    [bold]Examples[/]:
      flarecast forecast models/latest --latest --out runs/forecast.json
      flarecast forecast models/goes models/sharp --from 2013-01-01 --to 2013-12-31 --every 1D --out year.csv
      flarecast forecast models/latest --goes 'data/raw/goes/*.nc' --at 2017-09-06T12:00 --strict
      flarecast forecast models/sharp --latest --format ccmc --out runs/scoreboard.json
      flarecast forecast models/edited --latest --trust-modified
    """
    from flarecast.forecast.ops import issue_forecast, write_any

    files = bool(goes or events or sharp)
    doc = issue_forecast(models, store=store if store is not None or files else DEFAULT_STORE, goes=goes or (),
                         events=events or (), sharp=sharp or (), at=at or (), latest=latest, start=start, end=end,
                         every=every, strict=strict, skip_refused=skip_refused, device=device,
                         trust_modified=trust_modified)
    if out_file is not None:
        write_any(doc, out_file, fmt)
    if as_json:
        print_json(doc)
        return
    from rich.table import Table

    table = Table(title=f"Forecasts of model {doc['model_id']} ({doc['loss']}): largest flare in the next "
                        f"{doc['horizon']}, {doc['convention']} classes")
    for col in ("issue time", "region", "target", "probability", "threshold", "decision", "coverage", "method"):
        table.add_column(col, justify="left" if col in ("issue time", "target", "decision") else "right")
    rows = doc["forecasts"]
    for r in rows[-30:]:
        table.add_row(r["issue_time"], "" if r["region"] is None else str(r["region"]), r["target"],
                      f"{r['probability']:.3f}", f"{r['threshold']:.3f}", "YES" if r["decision"] else "no",
                      f"{r['coverage']:.0%}", r.get("method", "model") + (" (degraded)" if r.get("degraded") else ""))
    if len(rows) > 30:
        table.caption = f"last 30 of {len(rows)} rows" + (f"; all in {out_file}" if out_file else "; use --out")
    out.print(table)
    for r in doc["refused"][:5]:
        out.print(f"refused {r['issue_time']}: {r['detail']}")
    if len(doc["refused"]) > 5:
        out.print(f"... {len(doc['refused'])} issue times refused in all")
    if doc.get("coverage_report", {}).get("degraded"):
        cov = doc["coverage_report"]
        out.print(f"{cov['degraded']} of {cov['issue_times']} issue times degraded: " + ", ".join(
            f"{m} {n}" for m, n in cov["by_method"].items() if n), highlight=False)
    if out_file is not None:
        out.print(f"wrote {len(rows)} rows to {out_file}")


@app.command("card")
@user_errors
def card_cli(
    model: Annotated[Path, typer.Argument(help="Model directory written by `flarecast train`.")],
    trust_modified: TrustOpt = False,
    as_json: JsonOpt = False,
):
    """Print a model's card: what it forecasts, from which inputs, how it was trained and validated.

    [bold]Examples[/]:
      flarecast card models/latest
      flarecast card models/latest --json
      flarecast card models/edited --trust-modified
    """
    from flarecast.model.modeldir import model_id, read_card

    card = {"model_id": model_id(model, trust_modified=trust_modified), **read_card(model, trust_modified=trust_modified)}
    if as_json:
        print_json(card)
        return
    from rich.table import Table

    cfg = card["config"]["samples"]
    ensemble = card.get("kind") == "ensemble"
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
         + (f" (chosen on pooled out-of-fold predictions by rule {card['threshold_rule']})" if ensemble else
            f" (chosen on validation by {card.get('threshold_score', '?')})")),
        ("climatology", ", ".join(f"{t} {v:.3f}" for t, v in card["climatology"].items()) + " (training base rate)"),
        *(_ensemble_rows(card) if ensemble else [("validation", f"best epoch {card.get('best_epoch')}: PR AUC " + ", ".join(
            f"{t} {v:.3f}" for t, v in (card.get("val") or {}).get("val_pr_auc", {}).items() if v is not None))]),
        ("network", ", ".join(f"{k} {v}" for k, v in card["model"].items())),
        ("data", f"fingerprint {card['data_fingerprint']}"),
        ("weights", f"sha256 {card['weights_sha256']}"),
        ("code", f"flarecast {card.get('code_version')}, trained on {card.get('device')}"),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    out.print(table)


def _ensemble_rows(card: dict) -> list[tuple[str, str]]:
    cv, scores = card["cv"], card["cv"]["oof_scores"]
    seeds = sorted({m["seed"] for m in card["members"]})
    return [
        ("ensemble", f"{len(card['members'])} members ({cv['scheme']} CV, folds "
                     f"{', '.join(f['name'] for f in cv['folds'])}; seeds {seeds}), {card['combine']}"),
        ("calibration", ", ".join(f"{t} {c['method']}" for t, c in card["calibration"].items())
         + " (fitted on pooled out-of-fold predictions)"),
        ("out-of-fold", "; ".join(
            f"{t}: BSS {s['raw']['bss']:.3f} raw, {s['transferred']['bss']:.3f} calibrated; TSS "
            f"{s['transferred']['tss']:.3f}, HSS {s['transferred']['hss']:.3f} at transferred thresholds"
            for t, s in scores.items())),
    ]
