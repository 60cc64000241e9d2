"""What the hostile corpus does not show: the documented acceptances (trusted modified weights, the weights'
own card, converted units, rows left out with --skip-bad, bare class letters) and that they are recorded."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from sunpy.data.test import get_test_filepath
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import InputFileError, ModelError, StoreError
from flarecast.ingest.pipeline import ingest
from flarecast.ingest.readers import read_file
from flarecast.ingest.store import check_store
from flarecast.jobs.batch import run_job
from flarecast.model.modeldir import CARD, WEIGHTS, embedded_card, model_id, read_card

CORPUS = Path(__file__).parent / "hostile" / "corpus"
SEEDS = CORPUS / "seeds"
runner = CliRunner()


@pytest.fixture
def clean_model(tmp_path) -> Path:
    """The corpus model's genuine weights alone (its card.json was edited), then a card.json rebuilt from them."""
    d = tmp_path / "model"
    d.mkdir()
    shutil.copy(CORPUS / "models" / "card-targets" / WEIGHTS, d / WEIGHTS)
    return d


def test_weights_without_card_json_use_their_own_verified_card(clean_model):
    # What a process killed between writing the weights and card.json leaves.
    card = read_card(clean_model)
    assert card.targets == [">=C", ">=M", "X"] and "weights_modified" not in card.to_dict()
    assert card.channels == embedded_card(clean_model / WEIGHTS).channels


def test_modified_weights_refused_then_trusted_and_recorded(clean_model, tmp_path):
    (clean_model / CARD).write_text(json.dumps(read_card(clean_model).to_dict()))
    clean_id = model_id(clean_model)
    flipped = CORPUS / "models" / "flipped-weights"
    with pytest.raises(ModelError, match="modified after training"):
        read_card(flipped)
    card = read_card(flipped, trust_modified=True)
    assert card.weights_modified is True
    assert model_id(flipped, trust_modified=True) != clean_id
    result = runner.invoke(app, ["card", str(flipped), "--trust-modified", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["weights_modified"] is True


def test_trusted_forecast_says_weights_modified(sim_store):
    from flarecast.forecast.issue import forecast
    from flarecast.forecast.request import Inputs, IssueTimes

    doc = forecast(CORPUS / "models" / "flipped-weights", Inputs(store=sim_store),
                   IssueTimes(latest=True), trust_modified=True)
    assert doc["weights_modified"] is True and doc["forecasts"]
    with pytest.raises(ModelError, match="modified"):
        forecast(CORPUS / "models" / "flipped-weights", Inputs(store=sim_store), IssueTimes(latest=True))


def test_erg_units_are_converted_to_the_same_w_m2_values(tmp_path):
    src = Path(get_test_filepath("sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc"))
    erg = tmp_path / src.name.replace("_truncated", "_erg")
    shutil.copy(src, erg)
    with h5py.File(erg, "r+") as h:
        for name in ("xrsa_flux", "xrsb_flux"):
            v = h[name][()]
            h[name][...] = np.where(v == -9999, v, v * 1000)  # 1 W m-2 = 1000 erg cm-2 s-1
            h[name].attrs["units"] = np.bytes_(b"erg/cm2/s")
    a, b = read_file(src, "goes").data, read_file(erg, "goes").data
    assert np.allclose(a["xrsb"], b["xrsb"], rtol=1e-6, equal_nan=True)
    assert (a["xrsb_mask"] == b["xrsb_mask"]).all() and np.nanmax(b["xrsb"]) < 1e-4


def test_the_w_m2_spellings_read_without_astropy_are_what_astropy_reads():
    """flux_scale answers 1 for W_M2's spellings without importing astropy; astropy agrees for each, and
    other irradiance units still go through it."""
    from flarecast.ingest.readers.base import W_M2, _irradiance_scale, flux_scale

    for text in W_M2:
        assert _irradiance_scale(text) == 1.0 == flux_scale("f.nc", "xrsb_flux", text.encode())
    assert flux_scale("f.nc", "xrsb_flux", "mW/m2") == pytest.approx(1e-3)
    with pytest.raises(InputFileError, match="units 'W'"):
        flux_scale("f.nc", "xrsb_flux", "W")


def test_skip_bad_leaves_bad_rows_out_and_names_them(tmp_path):
    seed = SEEDS / "sharp" / "jsoc-sharp-csv" / "sharp_keywords_fold0.csv"
    lines = seed.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace(lines[4][:10], "2013.02.30")
    bad = tmp_path / "sharp.csv"
    bad.write_text("".join(lines) + lines[5][:30])
    with pytest.raises(InputFileError, match=rf"line {len(lines) + 1}: the file ends mid-line"):
        read_file(bad, "sharp")
    bad.write_text("".join(lines))
    with pytest.raises(InputFileError, match=r"line 5: T_REC '2013.02.30_.*' is not a calendar date"):
        read_file(bad, "sharp")
    bad.write_text("".join(lines) + lines[5][:30])
    res = read_file(bad, "sharp", skip_bad=True)
    assert len(res.data) == len(lines) - 2 and res.ignored == {"bad_rows": 2}
    assert sorted(w.split(": ")[1] for w in res.warnings) == sorted(["line 5", f"line {len(lines) + 1}"])
    assert res.data["USFLUX"].min() > 1e20  # the cut row (USFLUX cut short) is not among them


def test_bare_class_letter_is_kept_uncertain_without_a_flux(tmp_path):
    seed = (SEEDS / "events" / "ngdc-xrs-report" / "goes-xrs-report_2011.txt").read_text(encoding="latin-1")
    lines = seed.splitlines(keepends=True)
    lines[7] = lines[7][:60] + "   " + lines[7][63:]  # "C 21" -> "C": the letter alone, as the 1999 report has
    path = tmp_path / "goes-xrs-report_2011.txt"
    path.write_text("".join(lines), encoding="latin-1")
    res = read_file(path, "events")
    row = res.data.iloc[7]
    assert res.masked["class_uncertain"] == 1 and row["goes_class"] == lines[7][59] and np.isnan(row["peak_flux"])


def test_bare_letters_of_the_real_1999_report(real_data):
    res = read_file(real_data / "events/ngdc/goes-xrs-report_1999.txt", "events")
    uncertain = res.data[res.data["goes_class"].str.len() == 1]
    assert res.masked["class_uncertain"] == 3 == len(uncertain) and uncertain["peak_flux"].isna().all()


def test_store_check_allows_new_and_empty_paths_only(tmp_path):
    check_store(tmp_path / "new.zarr")
    (tmp_path / "empty").mkdir()
    check_store(tmp_path / "empty")
    plain = SEEDS / "goes" / "goes-plain-csv" / "goes15_xrsb_hourly_max.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ingest("goes", [plain], store=tmp_path / "empty", basis="swpc")
    check_store(tmp_path / "empty")  # now a flarecast store
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("a")
    with pytest.raises(StoreError, match="not a flarecast store"):
        check_store(tmp_path / "notes")


def test_force_overwrites_a_foreign_log_and_a_rerun_rewrites_its_own(tmp_path):
    root = tmp_path / "root"
    (root / "raw").mkdir(parents=True)
    shutil.copy(SEEDS / "goes" / "goes-plain-csv" / "goes15_xrsb_hourly_max.csv", root / "raw" / "h.csv")
    job = tmp_path / "job.yaml"
    job.write_text("store: s.zarr\nlog: runs/log.json\nsteps:\n"
                   "  ingest: {run: ingest, kind: goes, paths: [raw/h.csv], basis: swpc}\n")
    (root / "runs").mkdir()
    (root / "runs" / "log.json").write_text("not a log\n")
    from flarecast.errors import ConfigError

    with pytest.raises(ConfigError, match="is not a log of job job.yaml"):
        run_job(job, root=root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run_job(job, root=root, force=True)["status"] == "ok"
        again = run_job(job, root=root)  # its own log now: read, steps skipped, log rewritten
    assert again["steps"][0]["status"] == "skipped"


def test_a_train_step_does_not_replace_an_ensemble_it_did_not_write(tmp_path):
    """An ensemble directory has no weights of its own: its card.json (which records its members' digest) is what
    tells the job's own ensemble from another, before the first step runs."""
    import json

    from flarecast.errors import ConfigError
    from flarecast.jobs.batch import LOG_FORMAT, BatchStepError

    root = tmp_path / "root"
    model = root / "models" / "e"
    model.mkdir(parents=True)
    card = json.dumps({"format": "flarecast-ensemble/1", "weights_sha256": "ab" * 32})
    (model / "card.json").write_text(card)
    job = tmp_path / "job.yaml"
    job.write_text("store: s.zarr\nlog: runs/log.json\nsteps:\n  t: {run: train, config: demo, out: models/e}\n")
    with pytest.raises(ConfigError, match=r"step 't': .*/models/e/card.json exists and was not written by an earlier"):
        run_job(job, root=root)
    assert (model / "card.json").read_text() == card and not (root / "runs").exists()
    # The job's own ensemble (its log recorded that digest) passes: the step runs, and fails for want of a store.
    (root / "runs").mkdir()
    (root / "runs" / "log.json").write_text(json.dumps({"format": LOG_FORMAT, "job": str(job), "done": {
        "t": {"key": "-", "outputs": {"weights_sha256": "ab" * 32}}}}))
    with pytest.raises(BatchStepError, match=r"step 't' \(train\) failed"):
        run_job(job, root=root)
