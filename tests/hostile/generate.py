"""Write the hostile-input corpus: bad variants of real files, bad models, bad configs and jobs, and cases.json.

Every case is one ``flarecast`` command line that must be refused with exit code 2, one line on stderr, no
traceback, and the store (and the case's working folder) byte-identical afterwards; ``tests/test_hostile.py``
runs them all. The variants start from the real files in ``../shared/data/real`` (``FLARECAST_REAL_DATA``) and
sunpy's test files, cut down to a few lines each so that the whole corpus stays small (it is committed).

Run from the repository root (it trains one tiny model on simulated data, ~1 minute)::

    python tests/hostile/generate.py

Placeholders in cases.json: ``{corpus}`` (this folder's ``corpus/``), ``{store}`` (a store the test builds),
``{work}`` (an empty folder per case, filled from the case's ``setup``: work path -> corpus file or text).
"""

from __future__ import annotations

import bz2
import json
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import h5py
import netCDF4
import numpy as np
from sunpy.data.test import get_test_filepath

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REAL = Path(os.environ.get("FLARECAST_REAL_DATA", HERE.parents[2] / "shared" / "data" / "real"))
CASES: list[dict] = []


def case(name: str, args: list[str], expect: str, *, why: str, setup: dict | None = None) -> None:
    """One refusal: ``expect`` is a fragment the one-line message must hold."""
    CASES.append({"id": name, "args": args, "expect": expect, "why": why, "setup": setup or {}})


def write(rel: str, data: bytes | str) -> str:
    path = CORPUS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("latin-1") if isinstance(data, str) else data)
    return "{corpus}/" + rel


def lines_of(path: Path, n: int) -> list[str]:
    with open(path, encoding="latin-1", newline="") as fh:
        return fh.read().splitlines(keepends=True)[:n]


def ingest(kind: str, file: str, *extra: str) -> list[str]:
    return ["ingest", kind, file, "--store", "{store}", *extra]


# --- GOES -------------------------------------------------------------------------------------------------------
def goes_cases() -> None:
    l2 = Path(get_test_filepath("sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc"))
    raw = l2.read_bytes()
    case("goes-empty", ingest("goes", write("goes/empty_g16.nc", b"")), "the file is empty",
         why="a zero-byte download")
    case("goes-l2-cut-in-half", ingest("goes", write("goes/sci_xrsf-l2-avg1m_g16_cut.nc", raw[: len(raw) // 2])),
         "sci_xrsf-l2-avg1m_g16_cut.nc", why="an HDF5 file cut mid-download")
    for unit, tag in (("counts", "counts"), ("furlongs/fortnight", "furlongs")):
        path = CORPUS / f"goes/sci_xrsf-l2-avg1m_g16_units-{tag}.nc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        with h5py.File(path, "r+") as h:
            h["xrsb_flux"].attrs["units"] = np.bytes_(unit.encode())
        case(f"goes-l2-units-{tag}", ingest("goes", "{corpus}/" + path.relative_to(CORPUS).as_posix()),
             f"units '{unit}'", why="flux units that are not an irradiance (or unknown) are refused, not assumed")
    sharp_header = "T_REC,HARPNUM,NOAA_ARS,USFLUX,AREA,MEANGBZ,R_VALUE\n2013.11.01_00:00:00_TAI,3330,11887,3.4e+21,2059.6,19.0,3.1\n"
    case("goes-wrong-product", ingest("goes", write("goes/sharp_given_as_goes.csv", sharp_header)),
         "it reads as jsoc-sharp-csv (sharp data); ingest it with `flarecast ingest sharp`",
         why="a SHARP export given to `ingest goes`: refused, naming the command that reads it")
    head = "time,xrsa,xrsb\n"
    rows = [f"2017-09-06 11:{m:02d}:00,1.0e-7,2.0e-6\n" for m in range(6)]
    plain = {
        "duplicated-time": head + "".join(rows[:3]) + rows[2] + "".join(rows[3:]),
        "unordered-time": head + rows[0] + rows[2] + rows[1] + "".join(rows[3:]),
        "leap-second": head + "2016-12-31 23:59:59,1e-7,2e-6\n2016-12-31 23:59:59,1e-7,2e-6\n2017-01-01 00:00:00,1e-7,2e-6\n",
        "truncated-last-line": head + "".join(rows) + "2017-09-06 11:06:00,1.0e-7,2.0e",
        "short-row": head + "".join(rows[:3]) + "2017-09-06 11:03:00,1.0e-7\n" + "".join(rows[4:]),
        "feb-30": head + rows[0] + "2017-02-30 11:01:00,1.0e-7,2.0e-6\n",
        "fill-time": head + rows[0] + "-9999,1.0e-7,2.0e-6\n",
        "not-a-number": head + rows[0] + "2017-09-06 11:01:00,1.0e-7,lots\n",
        "wrong-units-values": head + rows[0] + "2017-09-06 11:01:00,1.0e-7,25.0\n",
    }
    expect = {"duplicated-time": "duplicated at row", "unordered-time": "out of order at row",
              "leap-second": "leap second", "truncated-last-line": "line 8: the file ends mid-line",
              "short-row": "line 5: 2 fields, expected 3", "feb-30": "line 3: time '2017-02-30 11:01:00'",
              "fill-time": "line 3: time '-9999'", "not-a-number": "line 3: xrsb = 'lots'",
              "wrong-units-values": "wrong units"}
    for name, text in plain.items():
        case(f"goes-plain-{name}", ingest("goes", write(f"goes/plain_{name}.csv", text), "--basis", "true"),
             expect[name], why=f"plain GOES CSV: {name.replace('-', ' ')}")
    case("goes-plain-no-basis", ingest("goes", "{corpus}/goes/plain_feb-30.csv"), "does not say its flux basis",
         why="a plain CSV without --basis")
    case("goes-bad-basis-value", ingest("goes", "{corpus}/goes/plain_feb-30.csv", "--basis", "watts"),
         "basis 'watts' is not one of", why="a bad CLI value")
    ngdc_csv = REAL / "goes/g15_xrs_1m_20170901_20170930.csv.bz2"
    text = bz2.decompress(ngdc_csv.read_bytes()).decode("latin-1")
    head_end = text.index("\ndata:") + len("\ndata:\n")
    body = text[head_end:].splitlines(keepends=True)
    good = text[:head_end] + "".join(body[:6])
    cut = good + body[6][:30]
    case("goes-ngdc-csv-cut-row", ingest("goes", write("goes/g15_xrs_1m_20170901_cut.csv", cut)),
         "the file ends mid-line", why="NGDC CSV cut mid-row (its files have no final line break)")
    compressed = bz2.compress(good.encode("latin-1"))
    case("goes-ngdc-bz2-truncated", ingest("goes", write("goes/g15_xrs_1m_20170901_trunc.csv.bz2",
                                                        compressed[: len(compressed) // 2])),
         "g15_xrs_1m_20170901_trunc.csv.bz2", why="a compressed file cut short")
    small = CORPUS / "goes/g15_xrs_1m_20170701_small.nc"
    _small_netcdf3(REAL / "goes/g15_xrs_1m_20170701_20170731.nc", small, 1440)
    data = small.read_bytes()
    small.unlink()
    case("goes-ngdc-nc3-truncated", ingest("goes", write("goes/g15_xrs_1m_20170701_trunc.nc", data[: int(len(data) * 0.6)])),
         "the file is truncated or corrupt", why="a truncated netCDF-3 file (was: 'time out of order ... 1970-01-01')")


def _small_netcdf3(src: Path, dst: Path, n: int) -> None:
    """The first ``n`` records of a real NGDC netCDF-3 file, all variables and attributes kept."""
    with netCDF4.Dataset(src) as a, netCDF4.Dataset(dst, "w", format="NETCDF3_CLASSIC") as b:
        a.set_auto_maskandscale(False)
        b.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
        for name, dim in a.dimensions.items():
            b.createDimension(name, None if dim.isunlimited() else len(dim))
        for name, var in a.variables.items():
            out = b.createVariable(name, var.dtype, var.dimensions)
            out.set_auto_maskandscale(False)
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs()})
            out[:] = var[:n] if var.dimensions and a.dimensions[var.dimensions[0]].isunlimited() else var[:]


# --- flare catalogues -----------------------------------------------------------------------------------------
def events_cases() -> None:
    # The first five records stay intact (the reader is chosen by them); record 6 is the bad one.
    ngdc = lines_of(REAL / "events/ngdc/goes-xrs-report_2011.txt", 7)
    head, rec, tail = "".join(ngdc[:5]), ngdc[5].rstrip("\r\n").ljust(85), ngdc[6]
    variants = {
        "cut-record": (head + rec[:70], "line 6: the file ends mid-record at column 70 of 85"),
        "short-record": (head + rec[:50] + "\r\n" + tail, "line 6: not an NGDC XRS record"),
        "feb-30": (head + rec[:5] + "110230" + rec[11:] + "\r\n" + tail, "line 6: bad date"),
        "negative-ar": (head + rec[:80] + "-1158" + rec[85:] + "\r\n" + tail, "line 6: NOAA AR '-1158'"),
        "bad-class": (head + rec[:59] + "Z 21" + rec[63:] + "\r\n" + tail, "line 6: flare class 'Z21'"),
    }
    for name, (text, expect) in variants.items():
        case(f"events-ngdc-{name}", ingest("events", write(f"events/goes-xrs-report_2011_{name}.txt", text)), expect,
             why=f"NGDC XRS report: {name.replace('-', ' ')}")
    swpc_path = REAL / "events/swpc_edited/2011/20110215events.txt"
    swpc = lines_of(swpc_path, 400)
    xra = next(i for i, s in enumerate(swpc) if " XRA " in s and "X2.2" in s)
    cut = "".join(swpc[:xra]) + swpc[xra].rstrip("\r\n")[:-2]  # region 1158 would become a phantom 11
    case("events-swpc-cut", ingest("events", write("events/20110215events_cut.txt", cut)),
         f"line {xra + 1}: the file ends mid-line", why="SWPC edited events cut inside the region number")
    bare = "".join(swpc[:xra]) + swpc[xra].replace("X2.2", "X   ") + "".join(swpc[xra + 1 :])
    case("events-swpc-bare-letter", ingest("events", write("events/20110216events_bare.txt", bare)),
         "has no magnitude", why="a class letter with no magnitude (was read as X1.0)")
    hour = "".join(swpc[:xra]) + swpc[xra][:11] + "2575" + swpc[xra][15:] + "".join(swpc[xra + 1 :])
    case("events-swpc-bad-time", ingest("events", write("events/20110217events_time.txt", hour)), "is not HHMM",
         why="an impossible begin time")
    flist = lines_of(REAL / "events/swpc_flarelists/swpc_flarelist_20100101-20210810.csv", 6)
    fl_variants = {
        "cut": ("".join(flist[:5]) + flist[5][:25], "line 6: the file ends mid-line"),
        "short-row": ("".join(flist[:3]) + ",".join(flist[3].split(",")[:6]) + "\n" + "".join(flist[4:]),
                      "line 4: 6 fields, expected 12"),
        "negative-ar": (flist[0] + flist[1].replace(",11039,", ",-11039,") + "".join(flist[2:]),
                        "line 2: noaa_ar (NOAA AR) '-11039'"),
        "feb-30": ("".join(flist[:2]) + flist[2].replace("20100102", "20100230", 1) + "".join(flist[3:]),
                   "line 3: start_time '2010-02-30"),
    }
    for name, (text, expect) in fl_variants.items():
        case(f"events-swpc-list-{name}", ingest("events", write(f"events/swpc_flarelist_{name}.csv", text)), expect,
             why=f"SWPC flare list CSV: {name.replace('-', ' ')}")
    hek = lines_of(REAL / "events/hek_goes_2010_2019.csv", 5)
    case("events-hek-cut", ingest("events", write("events/hek_cut.csv", "".join(hek[:4]) + hek[4][:50])),
         "line 5: the file ends mid-line", why="HEK export cut mid-line")
    case("events-hek-short-row", ingest("events", write("events/hek_short.csv", "".join(hek[:2]) + ";".join(
        hek[2].split(";")[:6]) + "\n" + "".join(hek[3:]))), "line 3: 6 fields, expected 11", why="HEK row cut short")
    flsum = lines_of(REAL / "events/goes16_flare_summary_2017_2024.csv", 7)
    case("events-flsum-cut", ingest("events", write("events/goes16_flsum_cut.csv", "".join(flsum[:6]) + flsum[6][:30])),
         "line 7: the file ends mid-line", why="GOES-R flare summary CSV cut mid-line")
    case("events-flsum-feb-30", ingest("events", write("events/goes16_flsum_feb30.csv", "".join(flsum[:2]) + flsum[2].replace(
        "2017-02-09", "2017-02-30") + "".join(flsum[3:]))), "line 3: time '2017-02-30", why="impossible date")
    sfn = lines_of(REAL / "events/solar_events_1996_2022.csv", 6)
    row = sfn[2].rstrip("\n").split(",")
    plain = {
        "cut": ("".join(sfn[:5]) + sfn[5][:20], "line 6: the file ends mid-line"),
        "short-row": ("".join(sfn[:2]) + ",".join(row[:3]) + "\n" + "".join(sfn[3:]), "line 3: 3 fields"),
        "negative-ar": ("".join(sfn[:2]) + ",".join([*row[:-1], "-7"]) + "\n" + "".join(sfn[3:]),
                        "line 3: Active Region Number (NOAA AR) '-7'"),
        "feb-30": ("".join(sfn[:2]) + ",".join([row[0], row[1], row[2].replace("07-31", "02-30"), *row[3:]]) + "\n"
                   + "".join(sfn[3:]), "line 3: Peak Time '1996-02-30"),
        "bad-class": ("".join(sfn[:2]) + ",".join(["Z2.2", *row[1:]]) + "\n" + "".join(sfn[3:]),
                      "line 3: flare class 'Z2.2'"),
    }
    for name, (text, expect) in plain.items():
        case(f"events-plain-{name}", ingest("events", write(f"events/solar_events_{name}.csv", text)), expect,
             why=f"plain events CSV (SolarFlareNet layout): {name.replace('-', ' ')}")
    case("events-empty", ingest("events", write("events/empty.csv", b"")), "the file is empty", why="empty file")


# --- SHARP -----------------------------------------------------------------------------------------------------
def sharp_cases() -> None:
    src = lines_of(REAL / "sharp/sharp_keywords_fold0.csv", 8)
    r = src[3].rstrip("\r\n")
    variants = {
        "cut": ("".join(src[:7]) + src[7][:48], "line 8: the file ends mid-line"),
        "short-row": ("".join(src[:3]) + ",".join(r.split(",")[:5]) + "\r\n" + "".join(src[4:]), "line 4: 5 fields, expected 7"),
        "feb-30": ("".join(src[:3]) + r.replace("2013.11.01", "2013.02.30") + "\r\n" + "".join(src[4:]),
                   "line 4: T_REC '2013.02.30_"),
        "hour-25": ("".join(src[:3]) + r[:11] + "25" + r[13:] + "\r\n" + "".join(src[4:]), "is not a time of day"),
        "negative-harp": ("".join(src[:3]) + r.replace(",3330,", ",-3330,") + "\r\n" + "".join(src[4:]),
                          "line 4: HARPNUM '-3330' is not a positive integer"),
        "zero-harp": ("".join(src[:3]) + r.replace(",3330,", ",0,") + "\r\n" + "".join(src[4:]), "HARPNUM '0'"),
        "negative-ar": ("".join(src[:3]) + r.replace(",11887,", ",-11887,") + "\r\n" + "".join(src[4:]), "NOAA_ARS '-11887'"),
        "junk-keyword": ("".join(src[:3]) + r.rsplit(",", 1)[0] + ",high\r\n" + "".join(src[4:]), "R_VALUE = 'high'"),
        "duplicated": ("".join(src[:4]) + src[3] + "".join(src[4:]), "is duplicated"),
        "no-harpnum": (src[0].replace("HARPNUM", "HARP") + "".join(src[1:]), "not a known sharp product"),
    }
    for name, (text, expect) in variants.items():
        case(f"sharp-{name}", ingest("sharp", write(f"sharp/sharp_keywords_{name}.csv", text)), expect,
             why=f"SHARP keyword CSV: {name.replace('-', ' ')}")


# --- models, configs, batch jobs --------------------------------------------------------------------------------
TINY = ["samples.cadence=30min", "model.hidden=8", "train.batch_size=64", "train.device=cpu", "train.epochs=1"]


def model_cases() -> None:
    from flarecast.config import builtin_config, load_config
    from flarecast.ingest.pipeline import ingest as do_ingest
    from flarecast.samples.build import samples_from_store
    from flarecast.simulate.generate import simulate
    from flarecast.train.loop import train

    with tempfile.TemporaryDirectory() as tmp:
        # The store tests/conftest.py's sim_store builds: the models fit it, so only the model is wrong.
        simulate(Path(tmp) / "raw", days=40, seed=3, activity=4.0)
        store = Path(tmp) / "store.zarr"
        do_ingest("goes", [Path(tmp) / "raw" / "goes"], store=store)
        do_ingest("events", [Path(tmp) / "raw" / "events"], store=store)
        cfg = load_config(builtin_config("demo"), TINY)
        good = Path(tmp) / "model"
        train(samples_from_store(store, cfg.samples), cfg, good)
        base = CORPUS / "models"
        shutil.rmtree(base, ignore_errors=True)

        def variant(name: str, edit) -> str:
            d = base / name
            shutil.copytree(good, d, ignore=shutil.ignore_patterns("checkpoint.safetensors", "train_log.jsonl"))
            edit(d)
            return "{corpus}/models/" + name

        def flip(d: Path) -> None:
            w = bytearray((d / "weights.safetensors").read_bytes())
            for k in range(len(w) - 64, len(w), 8):  # the tensor data sits after the JSON header
                w[k] ^= 0x10
            (d / "weights.safetensors").write_bytes(bytes(w))

        def card_edit(**changes):
            def edit(d: Path) -> None:
                card = json.loads((d / "card.json").read_text())
                card.update(changes(card) if callable(changes) else changes)
                (d / "card.json").write_text(json.dumps(card, indent=2))
            return edit

        flipped = variant("flipped-weights", flip)
        case("model-flipped-weights-card", ["card", flipped], "the weights were modified after training",
             why="bytes flipped in the weights (was: other probabilities, exit 0)")
        case("model-flipped-weights-forecast", ["forecast", flipped, "--store", "{store}", "--latest"],
             "the weights were modified", why="the same model, loaded to forecast")
        chans = json.loads((good / "card.json").read_text())["channels"]
        swapped = variant("card-channels-swapped", card_edit(channels=[chans[1], chans[0], *chans[2:]]))
        case("model-card-channels-swapped", ["card", swapped], "was saved with",
             why="card.json edited to another channel list (was: silently other inputs)")
        fewer = variant("card-channels-fewer", card_edit(channels=chans[:-1]))
        case("model-card-channels-fewer", ["card", fewer], "says channels",
             why="card.json with another channel count (was: a tensor-size traceback)")
        targets = variant("card-targets", card_edit(targets=[">=M"]))
        case("model-card-targets", ["card", targets], "says targets", why="card.json with other targets")

        def not_safetensors(d: Path) -> None:
            (d / "weights.safetensors").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))

        case("model-weights-pickle", ["card", variant("weights-pickle", not_safetensors)],
             "not a readable safetensors file", why="a pickle given as weights")

        def cut(d: Path) -> None:
            w = (d / "weights.safetensors").read_bytes()
            (d / "weights.safetensors").write_bytes(w[: len(w) - 100])

        case("model-weights-cut", ["card", variant("weights-cut", cut)], "weights.safetensors",
             why="weights cut short")
    config = write("configs/demo-tiny.yaml", builtin_config("demo").read_text())
    pickled = write("models/checkpoint-pickle.safetensors", pickle.dumps({"epoch": 3, "state": [0.1, 0.2]}))
    case("train-resume-pickle-checkpoint",
         ["train", config, *TINY, "--store", "{store}", "--out", "{work}/m", "--resume"],
         "not a flarecast checkpoint", setup={"m/checkpoint.safetensors": pickled},
         why="a pickle given as checkpoint.safetensors to train --resume (was: a traceback)")


def config_cases() -> None:
    from flarecast.config import builtin_config

    demo = builtin_config("demo").read_text()
    bad = {
        "alpha-3": (demo.replace("alpha: null", "alpha: 3"), "alpha"),
        "unknown-key": (demo.replace("  lr: 0.002", "  lr: 0.002\n  learning_rate: 0.1"), "learning_rate"),
        "not-yaml": ("samples: [unclosed\n", "not valid YAML"),
        "negative-epochs": (demo.replace("epochs: 6", "epochs: -1"), "epochs"),
    }
    for name, (text, expect) in bad.items():
        case(f"config-{name}", ["train", write(f"configs/{name}.yaml", text), "--store", "{store}", "--out", "{work}/m"],
             expect, why=f"bad config: {name.replace('-', ' ')}")
    case("cli-bad-override", ["train", "{corpus}/configs/demo-tiny.yaml", "train.epochs=many", "--store", "{store}",
                              "--out", "{work}/m"], "epochs", why="a bad command-line override")
    case("cli-train-bad-device", ["train", "{corpus}/configs/demo-tiny.yaml", "--device", "quantum", "--store", "{store}",
                                  "--out", "{work}/m"], "quantum", why="a bad CLI value")


def batch_cases() -> None:
    def job(name: str, text: str) -> str:
        return write(f"jobs/{name}.yaml", text)

    ingest_step = "steps:\n  ingest: {run: ingest, kind: goes, paths: [raw/goes.csv], basis: true}\n"
    cases = {
        "store-dotdot": ("store: ../outside.zarr\n" + ingest_step, "outside the job's root"),
        "store-absolute": ("store: /tmp/flarecast-hostile-outside.zarr\n" + ingest_step, "outside the job's root"),
        "log-absolute": ("store: s.zarr\nlog: /tmp/flarecast-hostile-log.json\n" + ingest_step, "outside the job's root"),
        "forecast-out-dotdot": ("store: s.zarr\nsteps:\n  fc: {run: forecast, model: m, latest: true, "
                                "out: '../../{issue}.json'}\n", "outside the job's root"),
        "train-out-symlink": ("store: s.zarr\nsteps:\n  t: {run: train, config: demo, out: link/m}\n",
                              "outside the job's root"),
    }
    for name, (text, expect) in cases.items():
        setup = {"root/link": {"symlink": ".."}} if name == "train-out-symlink" else {}
        case(f"batch-{name}", ["batch", job(name, text), "--root", "{work}/root"], expect, setup=setup,
             why=f"batch job writing outside --root: {name.replace('-', ' ')}")
    foreign = job("foreign-output", "store: s.zarr\nlog: runs/log.json\nsteps:\n  t: {run: train, config: demo, "
                                    "out: models/m, overrides: [" + ", ".join(TINY) + "]}\n")
    case("batch-existing-output", ["batch", foreign, "--root", "{work}/root"], "was not written by an earlier run",
         setup={"root/models/m/weights.safetensors": {"text": "someone else's weights"}},
         why="an output the job did not write is not overwritten without --force")
    case("batch-foreign-log", ["batch", foreign, "--root", "{work}/root"], "is not a log of job",
         setup={"root/runs/log.json": {"text": "my notes, not a batch log\n"}}, why="a log file the job did not write")
    refused = {  # job files refused for what they hold, in one line, before any step runs
        "unknown-step-key": ("steps:\n  train: {run: train, config: demo, epoch: 3}\n",
                             "step 'train' (train): unknown key 'epoch'; expected one of ['config', 'out', ",
                             "a misspelt step key"),
        "wrong-type": ("steps:\n  fetch: {run: fetch, source: goes, days: 2, retries: many}\n",
                       "step 'fetch' (fetch): retries = 'many': expected an integer", "a step value of the wrong type"),
        "out-of-range": ("steps:\n  fetch: {run: fetch, source: goes, days: 0}\n",
                         "step 'fetch' (fetch): days = 0: expected a number greater than or equal to 1",
                         "a step value out of range"),
        "unknown-run": ("steps:\n  t: {run: fit, config: demo}\n", "step 't': run = 'fit': expected one of ['fetch', ",
                        "a step of no known kind"),
    }
    for name, (text, expect, why) in refused.items():
        case(f"batch-{name}", ["batch", job(name, text), "--root", "{work}/root"], expect, why=why)
    good = "{corpus}/goes/plain_feb-30.csv"
    case("store-is-a-file", ["ingest", "goes", good, "--basis", "true", "--skip-bad", "--store", "{work}/notes.txt"],
         "is a file, not a flarecast store", setup={"notes.txt": {"text": "important notes\n"}},
         why="an ordinary file given as --store (was: moved aside, a new store made)")
    case("store-is-a-folder", ["ingest", "goes", good, "--basis", "true", "--skip-bad", "--store", "{work}/photos"],
         "not a flarecast store", setup={"photos/cat.txt": {"text": "meow\n"}}, why="a folder that is not a store")


SEEDS = {
    # reader: (real file, lines kept, kind); small real files every text reader reads cleanly: the fuzzers' seeds.
    "goes-ngdc-csv": ("goes/g15_xrs_1m_20170901_20170930.csv.bz2", None, "goes"),
    "goes-plain-csv": ("goes/goes15_xrsb_hourly_max.csv", 30, "goes"),
    "swpc-edited-events": ("events/swpc_edited/2011/20110215events.txt", None, "events"),
    "ngdc-xrs-report": ("events/ngdc/goes-xrs-report_2011.txt", 30, "events"),
    "goes-flsum-csv": ("events/goes16_flare_summary_2017_2024.csv", 31, "events"),
    "swpc-flarelist-csv": ("events/swpc_flarelists/swpc_flarelist_20100101-20210810.csv", 30, "events"),
    "hek-csv": ("events/hek_goes_2010_2019.csv", 30, "events"),
    "plain-events-csv": ("events/solar_events_1996_2022.csv", 30, "events"),
    "jsoc-sharp-csv": ("sharp/sharp_keywords_fold0.csv", 30, "sharp"),
}


def seed_files() -> None:
    """The fuzzers' seeds: the first lines of a real file per text reader (NGDC CSV: header and 30 rows)."""
    for reader, (rel, n, kind) in SEEDS.items():
        src = REAL / rel
        if rel.endswith(".bz2"):
            text = bz2.decompress(src.read_bytes()).decode("latin-1")
            cut = text.index("\ndata:") + len("\ndata:\n")
            data = text[:cut] + "".join(text[cut:].splitlines(keepends=True)[:31]).rstrip("\r\n")
        else:
            data = "".join(lines_of(src, n)) if n else src.read_text(encoding="latin-1")
        name = Path(rel).name.removesuffix(".bz2")
        write(f"seeds/{kind}/{reader}/{name}", data)


def main() -> None:
    if not REAL.is_dir():
        sys.exit(f"real data folder {REAL} is absent: set FLARECAST_REAL_DATA (see PROVENANCE.md)")
    for sub in ("goes", "events", "sharp", "configs", "jobs", "seeds"):
        shutil.rmtree(CORPUS / sub, ignore_errors=True)
    seed_files()
    goes_cases()
    events_cases()
    sharp_cases()
    model_cases()
    config_cases()
    batch_cases()
    (HERE / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    print(f"{len(CASES)} cases, corpus {size / 1e6:.2f} MB in {CORPUS}")


if __name__ == "__main__":
    main()
