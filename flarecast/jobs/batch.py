"""Batch jobs: named steps (fetch, ingest, train, evaluate, compare, forecast) run in order, each skipped when done.

A job is a YAML file (``configs/batch.yaml`` is a daily-forecast example)::

    store: data/store.zarr          # default store of every step
    log: runs/batch/daily.json      # the JSON job log
    steps:
      ingest-goes: {run: ingest, kind: goes, paths: ["data/raw/goes/*.nc"]}
      train: {run: train, config: demo, overrides: [train.epochs=3], out: models/daily}
      evaluate: {run: evaluate, model: models/daily, split: test, out: runs/batch/eval}
      forecast: {run: forecast, model: models/daily, latest: true, out: "runs/forecasts/{issue}.json"}

A forecast step refuses issue times whose input is missing unless ``strict: false``: then the ``fallbacks``
(model directories) and the catalogue and climatology rules of :mod:`flarecast.forecast.fallback` forecast them,
flagged degraded; ``format: ccmc`` writes the CCMC scoreboard's JSON. A ``dashboard`` step writes
``out/index.html`` for ``models`` at ``at`` or the latest time (:mod:`flarecast.jobs.dashboard`).

A ``compare`` step runs ``flarecast compare`` (keys ``config``, ``overrides``, ``out``, ``seeds``, ``alphas``,
``gammas``, ``balanced_alpha``, ``pos_weight``, ``workers``, as the command's options);
``configs/batch-real-goes.yaml`` runs the focal-vs-CE study on the shared real GOES data as one job.

A ``fetch`` step runs ``flarecast fetch`` (keys ``source`` goes|swpc|events|sharp, ``from``/``to`` or ``days``
(the last N UTC days up to today), ``satellite``, ``resolution``, ``products``, ``events_source``, ``harp``,
``nrt``, ``out``, ``retries``, ``timeout``, ``urls``); the job's ``urls`` mapping (``ncei``, ``swpc``, ...)
sets the archives' base URLs for every fetch step (see :mod:`flarecast.ingest.fetch.settings`). A fetch step
runs every time (only the archive knows whether there is something new) and never fails for a file that did
not arrive: its note counts the failures and names the first, and the job goes on with what is there.
``configs/batch-live.yaml`` is the daily loop: fetch, ingest, forecast.


Relative paths start at the job's ``root`` (``--root`` overrides it; default: the current folder). Every path a
job writes (an ingest step's store, the log, fetch/train/evaluate/compare/forecast ``out``) must resolve inside
the root, ``..`` and symbolic links followed: a job is refused before its first step otherwise. An output file that exists and was not written
by an earlier run of the same job (its sha256 is not the one the log recorded) is not overwritten without
``--force``; nor is a log file that is not this job's log. A train
``config`` without a ``/`` or suffix names a built-in config. A forecast ``out`` may hold ``{issue}``, replaced
by the last issue time (``20170906T1200Z``), so a daily job keeps one file per day.

Skipping: each step's key is the sha256 of its resolved settings and of what it reads: the sha256 of every
input file (ingest), the resolved run config (train, compare), the model id (evaluate, forecast), and a
fingerprint of the store groups it reads (the sha256s of the files ingested into them). A step is skipped when the log's
``done`` map (every step completed by any earlier run) holds the same key for it and its outputs (a store
group, model weights, a file) still have the fingerprints recorded then. Re-running a finished job therefore
reads and hashes, and writes only the log.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flarecast.config import COMPARE_DEFAULTS, DEFAULT_STORE, apply_overrides, read_yaml
from flarecast.errors import ConfigError, FlarecastError
from flarecast.jobs.confine import Owned, file_sha, inside, known_outputs, resolve

LOG_FORMAT = "flarecast-batch-log/1"
JOB_KEYS = ("root", "store", "log", "urls", "steps")
STEP_KEYS = {
    "fetch": {"source": None, "from": None, "to": None, "days": None, "satellite": None, "resolution": "avg1m",
              "products": None, "events_source": "flsum", "harp": None, "nrt": False, "out": None, "retries": 3,
              "timeout": 60.0, "urls": None},
    "ingest": {"kind": None, "paths": None, "basis": None, "satellite": None, "skip_bad": False},
    "train": {"config": None, "overrides": [], "out": "models/latest"},
    "evaluate": {"model": None, "split": "test", "out": None, "plots": True},
    "compare": {"config": None, "overrides": [], "out": "runs/compare", **COMPARE_DEFAULTS, "workers": None},
    "forecast": {"model": None, "fallbacks": [], "out": None, "at": [], "latest": False, "from": None, "to": None,
                 "every": None, "skip_refused": False, "strict": True, "format": "flarecast"},
    "dashboard": {"models": None, "out": "runs/dashboard", "at": None, "latest": True},
}
"""Keys of each step kind and their defaults; every step also takes ``store``."""
REQUIRED = {"fetch": ("source",), "ingest": ("kind", "paths"), "train": ("config",), "evaluate": ("model",),
            "compare": ("config",), "forecast": ("model", "out"), "dashboard": ("models",)}


class BatchStepError(FlarecastError):
    """A step of a batch job failed; the message names the step, its exit code is the step's error's."""

    def __init__(self, name: str, run: str, exc: FlarecastError):
        self.exit_code = exc.exit_code
        super().__init__(f"step {name!r} ({run}) failed: {exc}")


@dataclass
class _Plan:
    inputs: dict[str, Any]  # what the key hashes (besides the step's settings); the log keeps a summary
    run: Callable[[], str]  # does the work, returns a one-line note
    outputs: Callable[[dict], dict[str, Any]]  # fingerprints of what it writes, given those the last log holds
    always: bool = False  # a fetch asks the archives every time: only they know whether there is anything new


def load_job(path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Read and check a job file; ``overrides`` are ``key.path=value`` (value parsed as YAML)."""
    path = Path(path)
    job = read_yaml(path, what="job file", example="configs/batch.yaml",
                    expected=f"a mapping with keys {list(JOB_KEYS)}")
    apply_overrides(job, overrides, example="steps.train.out=models/x")
    unknown = sorted(set(job) - set(JOB_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; expected one of {list(JOB_KEYS)}")
    steps = job.get("steps")
    if not isinstance(steps, dict) or not steps:
        raise ConfigError(f"{path}: 'steps' must map step names to steps, such as train: {{run: train, config: demo}}")
    urls = job.get("urls") or {}
    if not isinstance(urls, dict):
        raise ConfigError(f"{path}: 'urls' must map archives to base URLs, such as ncei: https://mirror.example/goes")
    out = {"root": job.get("root", "."), "store": job.get("store", DEFAULT_STORE),
           "log": job.get("log", f"runs/batch/{path.stem}.json"), "urls": urls, "steps": {}}
    for name, step in steps.items():
        if not isinstance(step, dict) or step.get("run") not in STEP_KEYS:
            raise ConfigError(f"{path}: step {name!r} needs 'run' set to one of {list(STEP_KEYS)}")
        allowed = {**STEP_KEYS[step["run"]], "store": out["store"]}
        bad = sorted(set(step) - set(allowed) - {"run"})
        if bad:
            raise ConfigError(f"{path}: step {name!r} ({step['run']}) has unknown key {bad[0]!r}; expected "
                              f"{sorted(allowed)}")
        lacking = [k for k in REQUIRED[step["run"]] if step.get(k) is None]
        if lacking:
            raise ConfigError(f"{path}: step {name!r} ({step['run']}) lacks {lacking}")
        out["steps"][str(name)] = {**allowed, **step}
        if step["run"] == "fetch":  # job-wide base URLs, a step's own ones first
            out["steps"][str(name)]["urls"] = {**urls, **(step.get("urls") or {})}
    return out


def run_job(path: str | Path, *, overrides: list[str] | None = None, root: str | Path | None = None,
            force: bool = False, on_step: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Run a job's steps in order, skipping those already done; return the job log (also written to ``log``).

    Raises
    ------
    BatchStepError
        For the first step that fails with a flarecast error; the log records it and the steps before it.
    """
    from flarecast.util import atomic_write_bytes

    t0 = time.perf_counter()
    job = load_job(path, overrides)
    base = Path(root if root is not None else job["root"])
    log_path = inside(base, job["log"], "log")
    done = _done_steps(log_path, Path(path), force)
    for name, step in job["steps"].items():  # every write path and known output, before any step runs
        for key in ("store", "out") if step["run"] == "ingest" else ("out",):  # other steps only read the store
            if step.get(key):
                inside(base, str(step[key]).replace("{issue}", "20000101T0000Z"), f"step {name!r} {key}")
        if step["run"] == "evaluate" and not step["out"]:
            inside(base, step["model"], f"step {name!r} out (the model directory)")
        owned = Owned(name, (done.get(name) or {}).get("outputs") or {}, force)
        for out, key in known_outputs(step, base):
            owned.claim(out, owned.outputs.get(key))
    log = {"format": LOG_FORMAT, "job": str(path), "root": str(base), "log": str(log_path),
           "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "running", "failed_step": None,
           "seconds": 0.0, "steps": [], "done": done}

    def save() -> None:
        log["seconds"] = round(time.perf_counter() - t0, 3)
        atomic_write_bytes(log_path, (json.dumps(log, indent=2) + "\n").encode())

    for name, step in job["steps"].items():
        s0 = time.perf_counter()
        record: dict[str, Any] = {"name": name, "run": step["run"], "status": "failed", "key": None, "inputs": {},
                                  "outputs": {}, "note": "", "error": None}
        log["steps"].append(record)
        try:
            prev = done.get(name, {})
            plan = _PLANS[step["run"]](step, base, Owned(name, prev.get("outputs") or {}, force))
            record["key"] = _digest({"settings": step, "inputs": plan.inputs})
            record["inputs"] = _summary(plan.inputs)
            if (not force and not plan.always and prev.get("key") == record["key"]
                    and prev.get("outputs") == plan.outputs(prev.get("outputs") or {})):
                record.update(status="skipped", outputs=prev["outputs"], note="same inputs, outputs unchanged")
            else:
                record["note"] = plan.run()
                record.update(status="done", outputs=plan.outputs({}))
                done[name] = {"key": record["key"], "outputs": record["outputs"]}
        except FlarecastError as exc:
            record.update(error=str(exc), seconds=round(time.perf_counter() - s0, 3))
            log.update(status="failed", failed_step=name)
            save()
            raise BatchStepError(name, step["run"], exc) from exc
        except BaseException as exc:  # a bug or an interrupt: record it, keep the traceback
            record.update(error=repr(exc), seconds=round(time.perf_counter() - s0, 3))
            log.update(status="failed", failed_step=name)
            save()
            raise
        record["seconds"] = round(time.perf_counter() - s0, 3)
        save()
        if on_step:
            on_step(record)
    log["status"] = "ok"
    save()
    return log


def _plan_fetch(step: dict, base: Path, owned: Owned) -> _Plan:
    from flarecast.ingest.fetch import DEFAULT_OUT, SOURCES, base_urls, fetch

    source = step["source"]
    if source not in SOURCES:
        raise ConfigError(f"fetch step: source {source!r} is not one of {list(SOURCES)}")
    base_urls(step["urls"])  # a bad URL fails here, before any step runs
    out = inside(base, step["out"] or DEFAULT_OUT[source], "out")
    options = {"urls": step["urls"], "retries": int(step["retries"]), "timeout": float(step["timeout"])}
    if source == "swpc":
        options["products"] = _as_list(step["products"]) or None
    else:
        options.update(_fetch_days(step))
        options.update({"goes": {"satellite": step["satellite"], "resolution": step["resolution"]},
                        "events": {"events_source": step["events_source"], "satellite": step["satellite"]},
                        "sharp": {"harp": step["harp"], "nrt": bool(step["nrt"])}}[source])

    def run() -> str:
        report = fetch(source, out=out, **options)
        lines = report.failure_lines
        return report.summary + (f"; first failure: {lines[0]}" if lines else "")

    def outputs(_before: dict) -> dict[str, Any]:
        return {"files": sorted(p.name for p in out.glob("*") if p.is_file() and not p.name.endswith(".part"))}

    return _Plan({"out": str(out), "days": [options.get("start"), options.get("end")]}, run, outputs, always=True)


def _fetch_days(step: dict) -> dict[str, str]:
    """``from``/``to`` as given, else the last ``days`` UTC days up to today."""
    if step["from"] is not None or step["to"] is not None:
        if step["from"] is None or step["to"] is None:
            raise ConfigError("fetch step: give both 'from' and 'to', or 'days'")
        return {"start": str(step["from"]), "end": str(step["to"])}
    days = step["days"]
    if not isinstance(days, int) or days < 1:
        raise ConfigError(f"fetch step: days = {days!r}: expected a whole number of days >= 1 (or from/to)")
    today = datetime.now(UTC).date()
    return {"start": str(today - timedelta(days=days - 1)), "end": str(today)}


def _plan_ingest(step: dict, base: Path, owned: Owned) -> _Plan:
    from flarecast.ingest.pipeline import IngestReport, expand_paths, ingest
    from flarecast.util import sha256_file as sha256

    store = inside(base, step["store"], "store")
    paths = [str(resolve(base, p)) for p in _as_list(step["paths"])]
    files = expand_paths(paths, IngestReport(kind=step["kind"], store=str(store)), step["skip_bad"])
    digests = {str(f): sha256(f) for f in files}

    def run() -> str:
        report = ingest(step["kind"], files, store=store, skip_bad=step["skip_bad"], basis=step["basis"],
                        satellite=step["satellite"])
        return f"{len(files)} files, {report.rows_added} rows added, {len(report.skipped)} skipped"

    return _Plan({"store": str(store), "files": digests}, run, lambda _: {step["kind"]: _group(store, step["kind"])})


def _step_config(step: dict, base: Path):
    """The run config a train or compare step names: a built-in name, or a YAML path from the job's root."""
    from flarecast.config import builtin_config, load_config

    name = str(step["config"])
    config = builtin_config(name) if "/" not in name and not Path(name).suffix else resolve(base, name)
    return load_config(config, _as_list(step["overrides"]))


def _plan_train(step: dict, base: Path, owned: Owned) -> _Plan:
    store, out = resolve(base, step["store"]), inside(base, step["out"], "out")
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

    inputs = {"config": cfg.to_dict(), "store": str(store), "data": {g: _group(store, g) for g in groups}}
    return _Plan(inputs, run, outputs)


def _plan_compare(step: dict, base: Path, owned: Owned) -> _Plan:
    from flarecast.evaluate.comparison import parse_alphas, parse_gammas, parse_pos_weight

    store, out = resolve(base, step["store"]), inside(base, step["out"], "out")
    cfg = _step_config(step, base)
    # Parsed now, so a bad grid fails before any earlier step's work is wasted on it.
    alphas, gammas = parse_alphas(str(step["alphas"])), parse_gammas(str(step["gammas"]))
    pos_weight = parse_pos_weight(str(step["pos_weight"]))
    groups = (cfg.samples.source, "events")

    def run() -> str:
        from flarecast.evaluate.comparison import compare
        from flarecast.samples.build import samples_from_store

        result = compare(cfg, samples_from_store(store, cfg.samples), out, seeds=int(step["seeds"]), alphas=alphas,
                         gammas=gammas, balanced_alpha=float(step["balanced_alpha"]), pos_weight=pos_weight,
                         workers=step["workers"], store=str(store))
        beats = [t for t, v in result.comparison["verdicts"].items() if v.get("beats")]
        return (f"{len(result.comparison['methods'])} settings x {step['seeds']} seeds into {result.report_md}; "
                f"focal beats CE for: {', '.join(beats) or 'no target'}")

    inputs = {"config": cfg.to_dict(), "store": str(store), "data": {g: _group(store, g) for g in groups}}
    return _Plan(inputs, run, lambda _: {"comparison.json": file_sha(out / "comparison.json")})


def _plan_evaluate(step: dict, base: Path, owned: Owned) -> _Plan:
    from flarecast.model.modeldir import model_id, read_card

    store, model = resolve(base, step["store"]), resolve(base, step["model"])
    out = inside(base, step["out"] or step["model"], "out")
    groups = (read_card(model).run_config().samples.source, "events")

    def run() -> str:
        from flarecast.evaluate.scoring import evaluate

        result = evaluate(model, store, split=step["split"], out_dir=out, plots=bool(step["plots"]))
        return f"{result['n_windows']} {step['split']} windows scored into {out / 'metrics.json'}"

    inputs = {"model_id": model_id(model), "store": str(store), "data": {g: _group(store, g) for g in groups}}
    return _Plan(inputs, run, lambda _: {"metrics.json": file_sha(out / "metrics.json")})


def _plan_forecast(step: dict, base: Path, owned: Owned) -> _Plan:
    from flarecast.forecast.ops import issue_forecast, write_any
    from flarecast.model.modeldir import model_id

    store = resolve(base, step["store"])
    models = [resolve(base, m) for m in [step["model"], *_as_list(step["fallbacks"])]]
    written: dict[str, Any] = {}

    def run() -> str:
        doc = issue_forecast(models, store=store, at=_as_list(step["at"]), latest=bool(step["latest"]),
                             start=step["from"], end=step["to"], every=step["every"], strict=bool(step["strict"]),
                             skip_refused=bool(step["skip_refused"]))
        last = max((r["issue_time"] for r in doc["forecasts"]), default="")  # 2017-09-06T12:00:00Z
        stamp = last[:16].replace("-", "").replace(":", "") + "Z" if last else "none"
        path = inside(base, str(step["out"]).replace("{issue}", stamp), "out")
        # A daily job writes a new file per day; one it wrote before is its own when the log recorded it.
        owned.claim(path, owned.outputs.get("sha256") if owned.outputs.get("file") == str(path) else None)
        written["path"] = write_any(doc, path, step["format"])
        degraded = doc.get("coverage_report", {}).get("degraded", 0)
        return f"{len(doc['forecasts'])} rows, {len(doc['refused'])} refused, {degraded} degraded, into {path}"

    def outputs(before: dict) -> dict[str, Any]:
        # Before a run, the file the last log names (an "{issue}" name depends on the data); after, the new one.
        path = written.get("path") or before.get("file")
        return {"file": str(path), "sha256": file_sha(Path(path))} if path else {}

    inputs = {"model_ids": [_model_key(m, model_id) for m in models], "store": str(store),
              "data": {g: _group(store, g) for g in ("goes", "sharp", "events")}}
    return _Plan(inputs, run, outputs)


def _plan_dashboard(step: dict, base: Path, owned: Owned) -> _Plan:
    from flarecast.model.modeldir import model_id

    store, out = resolve(base, step["store"]), inside(base, step["out"], "out")
    models = [resolve(base, m) for m in _as_list(step["models"])]

    def run() -> str:
        from flarecast.jobs.dashboard import dashboard

        page = dashboard(models, store=store, at=step["at"], latest=bool(step["latest"]) and step["at"] is None,
                         out=out)
        return f"wrote {page}"

    inputs = {"model_ids": [_model_key(m, model_id) for m in models], "store": str(store),
              "data": {g: _group(store, g) for g in ("goes", "sharp", "events")}}
    return _Plan(inputs, run, lambda _: {"index.html": file_sha(out / "index.html")})


def _model_key(path: Path, model_id) -> str:
    """A model's id, or the sha256 of a combination's card (``flarecast combine``)."""
    card = path / "combination.json"
    return file_sha(card) if card.is_file() else model_id(path)


_PLANS = {"fetch": _plan_fetch, "ingest": _plan_ingest, "train": _plan_train, "evaluate": _plan_evaluate,
          "compare": _plan_compare, "forecast": _plan_forecast, "dashboard": _plan_dashboard}


def _done_steps(log_path: Path, job: Path, force: bool) -> dict[str, dict]:
    """The last log's ``done`` map: for each step ever completed, its key and output fingerprints then.

    Kept across runs (not only the last run's steps), so that after a failed run the steps past the failure,
    which did not run, are still known to be done. A file at ``log_path`` that is not a log of this job (by
    format and job file name) is refused unless ``force``: the job would overwrite it.
    """
    if not log_path.exists():
        return {}
    try:
        log = json.loads(log_path.read_text())
        ours = log.get("format") == LOG_FORMAT and Path(str(log.get("job"))).name == job.name
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        log, ours = {}, False
    if not ours:
        if not force:
            raise ConfigError(f"log {log_path} exists and is not a log of job {job.name}; nothing was changed: pass "
                              "--force to overwrite it, or set another log path")
        return {}
    done = log.get("done", {})
    return done if isinstance(done, dict) else {}


def _group(store: Path, group: str) -> str | None:
    """Fingerprint of a store group: the sha256 of its provenance (the files ingested into it); None if absent."""
    from flarecast.errors import StoreError
    from flarecast.ingest import store as st

    try:
        prov = st.provenance(st.read_group(store, group))
    except StoreError:
        return None
    return _digest(sorted(p["sha256"] for p in prov))


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _summary(inputs: dict[str, Any]) -> dict[str, Any]:
    """The log's view of a step's inputs: file lists shrink to a count and one digest."""
    return {k: ({"count": len(v), "sha256": _digest(v)} if k == "files" else v) for k, v in inputs.items()
            if k != "config"} | ({"config_sha256": _digest(inputs["config"])} if "config" in inputs else {})


def _as_list(v) -> list:
    return [] if v is None else list(v) if isinstance(v, list | tuple) else [v]
