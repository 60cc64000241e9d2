"""What each kind of batch step does (:mod:`flarecast.jobs.batch` runs them): a plan per step kind.

A plan names what the step's skip key hashes besides its settings (the sha256 of its input files, the resolved
run config, model ids, fingerprints of the store groups it reads), does the work and fingerprints what it wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flarecast.errors import FlarecastError
from flarecast.jobs.confine import Owned, file_sha, inside, resolve
from flarecast.jobs.jobfile import (
    CompareStep,
    DashboardStep,
    EvaluateStep,
    FetchStep,
    ForecastStep,
    IngestStep,
    Step,
    TrainStep,
)


@dataclass
class Plan:
    inputs: dict[str, Any]  # what the key hashes (besides the step's settings); the log keeps a summary
    run: Callable[[], str]  # does the work, returns a one-line note
    outputs: Callable[[dict], dict[str, Any]]  # fingerprints of what it writes, given those the last log holds
    always: bool = False  # a fetch asks the archives every time: only they know whether there is anything new
    failures: Callable[[], int] = lambda: 0  # after run: what it could not do and went on without (failed downloads)


def plan(step: Step, base: Path, owned: Owned) -> Plan:
    """The plan of one step, its paths from the job's root ``base``; ``owned``: what it may overwrite."""
    return _PLANS[step.run](step, base, owned)


def _plan_fetch(step: FetchStep, base: Path, owned: Owned) -> Plan:
    from flarecast.ingest.fetch import DEFAULT_OUT, base_urls, fetch

    base_urls(step.urls)  # the environment's URLs too: a bad one fails here, before this step fetches
    out = inside(base, step.out or DEFAULT_OUT[step.source], "out")
    options: dict[str, Any] = {"urls": step.urls, "retries": step.retries, "timeout": step.timeout,
                               "deadline": step.deadline, "file_deadline": step.file_deadline}
    if step.source == "swpc":
        options["products"] = list(step.products or ()) or None
    else:
        options.update(_fetch_days(step))
        options.update({"goes": {"satellite": step.satellite, "resolution": step.resolution},
                        "events": {"events_source": step.events_source, "satellite": step.satellite},
                        "sharp": {"harp": step.harp, "nrt": step.nrt}}[step.source])

    failed: list[int] = [0]

    def run() -> str:
        report = fetch(step.source, out=out, **options)
        lines = report.failure_lines
        failed[0] = len(lines)
        return report.summary + (f"; first failure: {lines[0]}" if lines else "")

    def outputs(_before: dict) -> dict[str, Any]:
        return {"files": sorted(p.name for p in out.glob("*") if p.is_file() and not p.name.endswith(".part"))}

    return Plan({"out": str(out), "days": [options.get("start"), options.get("end")]}, run, outputs, always=True,
                failures=lambda: failed[0])


def _fetch_days(step: FetchStep) -> dict[str, str]:
    """``from``/``to`` as given, else the last ``days`` UTC days up to today (the job file has one or the other)."""
    if step.start is not None:
        return {"start": step.start, "end": step.end}
    today = datetime.now(UTC).date()
    return {"start": str(today - timedelta(days=step.days - 1)), "end": str(today)}


def _plan_ingest(step: IngestStep, base: Path, owned: Owned) -> Plan:
    from flarecast.ingest.pipeline import IngestReport, expand_paths, ingest
    from flarecast.util import sha256_file as sha256

    store = inside(base, step.store, "store")
    paths = [str(resolve(base, p)) for p in step.paths]
    files = expand_paths(paths, IngestReport(kind=step.kind, store=str(store)), step.skip_bad)
    digests = {str(f): sha256(f) for f in files}

    def run() -> str:
        report = ingest(step.kind, files, store=store, skip_bad=step.skip_bad, basis=step.basis,
                        satellite=step.satellite)
        return f"{len(files)} files, {report.rows_added} rows added, {len(report.skipped)} skipped"

    return Plan({"store": str(store), "files": digests}, run, lambda _: {step.kind: group_key(store, step.kind)})


def _step_config(step: TrainStep | CompareStep, base: Path):
    """The run config a train or compare step names: a built-in name, or a YAML path from the job's root."""
    from flarecast.config import builtin_config, load_config

    name = step.config
    config = builtin_config(name) if "/" not in name and not Path(name).suffix else resolve(base, name)
    return load_config(config, list(step.overrides))


def _plan_train(step: TrainStep, base: Path, owned: Owned) -> Plan:
    store, out = resolve(base, step.store), inside(base, step.out, "out")
    cfg = _step_config(step, base)
    groups = (cfg.samples.source, "events")

    def run() -> str:
        from flarecast.samples.build import samples_from_store
        from flarecast.train.ensemble import train_ensemble
        from flarecast.train.loop import train

        samples = samples_from_store(store, cfg.samples)
        if cfg.train.cv.scheme != "none":  # the config asks for the CV ensemble, as `flarecast train` gives it
            ens = train_ensemble(samples, cfg, out)
            return (f"ensemble of {len(ens.members)} members, calibration {ens.calibration}, thresholds "
                    f"{ens.thresholds} by rule {cfg.train.cv.threshold}")
        result = train(samples, cfg, out)
        return f"best epoch {result.best_epoch} of {result.epochs_run}, thresholds {result.thresholds}"

    def outputs(_) -> dict:
        from flarecast.model.modeldir import read_card

        try:  # a model's weights, or an ensemble's members'; None when there is no (complete) model yet
            return {"weights_sha256": read_card(out).weights_sha256}
        except FlarecastError:
            return {"weights_sha256": None}

    inputs = {"config": cfg.to_dict(), "store": str(store), "data": {g: group_key(store, g) for g in groups}}
    return Plan(inputs, run, outputs)


def _plan_compare(step: CompareStep, base: Path, owned: Owned) -> Plan:
    from flarecast.config import COMPARE_CV_GAMMAS
    from flarecast.studies.comparison import parse_alphas, parse_gammas, parse_pos_weight

    store, out = resolve(base, step.store), inside(base, step.out, "out")
    cfg = _step_config(step, base)
    given = step.model_fields_set
    grid_g = COMPARE_CV_GAMMAS if step.cv and "gammas" not in given else step.gammas  # left out: --cv's grid
    alphas, gammas, pos_weight = parse_alphas(step.alphas), parse_gammas(grid_g), parse_pos_weight(step.pos_weight)
    groups = (cfg.samples.source, "events")
    result_file = "comparison-cv.json" if step.cv else "comparison.json"

    def run() -> str:
        from flarecast.samples.build import samples_from_store
        from flarecast.studies.compare_cv import compare_cv
        from flarecast.studies.comparison import compare

        samples = samples_from_store(store, cfg.samples)
        grid = {"alphas": alphas, "gammas": gammas, "balanced_alpha": step.balanced_alpha, "pos_weight": pos_weight,
                "workers": step.workers, "store": str(store)}
        if step.cv:  # seeds left out: the config's train.cv.seeds
            c = compare_cv(cfg, samples, out, seeds=step.seeds if "seeds" in given else None, rule=step.rule,
                           **grid).comparison
            beats = [t for t, v in c["verdicts"].items() if any((v.get("beats") or {}).values())]
            return (f"{len(c['methods'])} methods out of fold into {out / result_file}; focal a=0.25 g=2 beats CE "
                    f"for: {', '.join(beats) or 'no target'}")
        result = compare(cfg, samples, out, seeds=step.seeds, **grid)
        beats = [t for t, v in result.comparison["verdicts"].items() if v.get("beats")]
        return (f"{len(result.comparison['methods'])} settings x {step.seeds} seeds into {result.report_md}; "
                f"focal beats CE for: {', '.join(beats) or 'no target'}")

    inputs = {"config": cfg.to_dict(), "store": str(store), "data": {g: group_key(store, g) for g in groups}}
    return Plan(inputs, run, lambda _: {result_file: file_sha(out / result_file)})


def _plan_evaluate(step: EvaluateStep, base: Path, owned: Owned) -> Plan:
    from flarecast.model.modeldir import model_id, read_card

    store, model = resolve(base, step.store), resolve(base, step.model)
    out = inside(base, step.out or step.model, "out")
    groups = (read_card(model).run_config().samples.source, "events")

    def run() -> str:
        from flarecast.studies.evaluation import evaluate

        result = evaluate(model, store, split=step.split, out_dir=out, plots=step.plots)
        return f"{result.n_windows} {step.split} windows scored into {out / 'metrics.json'}"

    inputs = {"model_id": model_id(model), "store": str(store), "data": {g: group_key(store, g) for g in groups}}
    return Plan(inputs, run, lambda _: {"metrics.json": file_sha(out / "metrics.json")})


def _plan_forecast(step: ForecastStep, base: Path, owned: Owned) -> Plan:
    from flarecast.forecast.ops import issue_forecast, write_any
    from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes
    from flarecast.model.modeldir import model_id

    store = resolve(base, step.store)
    models = [resolve(base, m) for m in [step.model, *step.fallbacks]]
    written: dict[str, Any] = {}

    def run() -> str:
        times = IssueTimes(at=step.at, latest=step.latest, start=step.start, end=step.end, every=step.every)
        doc = issue_forecast(ForecastRequest(models, Inputs(store=store), times, strict=step.strict,
                                             skip_refused=step.skip_refused))
        last = max((r["issue_time"] for r in doc["forecasts"]), default="")  # 2017-09-06T12:00:00Z
        stamp = last[:16].replace("-", "").replace(":", "") + "Z" if last else "none"
        path = inside(base, step.out.replace("{issue}", stamp), "out")
        # A daily job writes a new file per day; one it wrote before is its own when the log recorded it.
        owned.claim(path, owned.outputs.get("sha256") if owned.outputs.get("file") == str(path) else None)
        owned.will_write(path)  # the log names the file before it exists: after a kill it is the job's own
        written["path"] = write_any(doc, path, step.format)
        degraded = doc.get("coverage_report", {}).get("degraded", 0)
        return f"{len(doc['forecasts'])} rows, {len(doc['refused'])} refused, {degraded} degraded, into {path}"

    def outputs(before: dict) -> dict[str, Any]:
        # Before a run, the file the last log names (an "{issue}" name depends on the data); after, the new one.
        path = written.get("path") or before.get("file")
        return {"file": str(path), "sha256": file_sha(Path(path))} if path else {}

    inputs = {"model_ids": [_model_key(m, model_id) for m in models], "store": str(store),
              "data": {g: group_key(store, g) for g in ("goes", "sharp", "events")}}
    return Plan(inputs, run, outputs)


def _plan_dashboard(step: DashboardStep, base: Path, owned: Owned) -> Plan:
    from flarecast.model.modeldir import model_id

    store, out = resolve(base, step.store), inside(base, step.out, "out")
    models = [resolve(base, m) for m in step.models]

    def run() -> str:
        from flarecast.jobs.dashboard import dashboard

        page = dashboard(models, store=store, at=step.at, latest=step.latest and step.at is None, out=out)
        return f"wrote {page}"

    inputs = {"model_ids": [_model_key(m, model_id) for m in models], "store": str(store),
              "data": {g: group_key(store, g) for g in ("goes", "sharp", "events")}}
    return Plan(inputs, run, lambda _: {"index.html": file_sha(out / "index.html")})


def _model_key(path: Path, model_id) -> str:
    """A model's id, or the sha256 of a combination's card (``flarecast combine``)."""
    card = path / "combination.json"
    return file_sha(card) if card.is_file() else model_id(path)


_PLANS = {"fetch": _plan_fetch, "ingest": _plan_ingest, "train": _plan_train, "evaluate": _plan_evaluate,
          "compare": _plan_compare, "forecast": _plan_forecast, "dashboard": _plan_dashboard}


def group_key(store: Path, group: str) -> str | None:
    """Fingerprint of a store group: the sha256 of its provenance (the files ingested into it); None if absent."""
    from flarecast.errors import StoreError
    from flarecast.ingest import store as st

    try:
        prov = st.provenance(st.read_group(store, group))
    except StoreError:
        return None
    return digest(sorted(p["sha256"] for p in prov))


def digest(obj: Any) -> str:
    """sha256 of ``obj`` as sorted-key JSON (dates and paths as text): step keys and fingerprints."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
