"""The typed documents that cross stages: ``metrics.json`` (:class:`~flarecast.model.documents.Metrics`) and the
training summary (:class:`~flarecast.train.run.SingleFit`, :class:`~flarecast.train.run.EnsembleFit`)."""

import json

import numpy as np
import pytest
from pydantic import ValidationError

from flarecast.errors import ModelError
from flarecast.jsonio import dumps, write_json
from flarecast.metrics.forecasts import method_thresholds
from flarecast.model.documents import Metrics
from flarecast.train.run import EnsembleFit, SingleFit

ENTRY = {"threshold": 0.2, "n": np.int64(48), "positives": 3, "recall": {"value": float("nan"), "ci": [0.1, 0.9]}}
BOOT = {"unit": "UTC day", "groups": 2, "n_boot": 10, "level": 0.95, "seed": 0}


def _backtest_like() -> Metrics:
    # A backtest's keys start with file and store; an evaluation's end with store: each keeps its own order.
    return Metrics.build(file="f.csv", store="s.zarr", model_ids=["abc"], loss=None, split="backtest",
                         period={"from": None, "to": None}, n_windows=48, source="goes", convention="swpc",
                         climatology={"X": 0.01}, bootstrap=BOOT, thresholds=method_thresholds({"X": 0.2}),
                         baselines={"logistic": None, "trees": None}, dropped={"beyond_catalogue": 1},
                         notes=["n"], degraded={"windows": 0, "by_method": {}}, targets={"X": {"model": ENTRY}})


def test_metrics_json_is_written_in_the_order_built_and_read_back_to_the_same_bytes(tmp_path):
    m = _backtest_like()
    assert list(m.to_dict())[:3] == ["file", "store", "model_ids"]
    write_json(tmp_path / "a.json", m)
    text = (tmp_path / "a.json").read_text()
    assert json.loads(text)["targets"]["X"]["model"]["recall"]["value"] is None  # NaN written as null
    back = Metrics.read(tmp_path / "a.json")
    assert back.thresholds["model@0.5"] == {"X": 0.5} and back.bootstrap.groups == 2 and back.period.start is None
    write_json(tmp_path / "b.json", back)
    assert (tmp_path / "b.json").read_text() == text
    later = m.with_notes("added", plots={"X": ["roc_X.png"]})
    assert later.notes == ["n", "added"] and m.notes == ["n"] and list(later.to_dict())[-1] == "plots"
    evaluated = Metrics.build(model="m", model_id="abc", **{k: v for k, v in m.to_dict().items()
                                                         if k not in ("file", "store", "model_ids")})
    assert list(evaluated.with_notes(store="s").to_dict())[-1] == "store"


def test_a_metrics_json_with_a_wrong_value_is_refused_in_one_line(tmp_path):
    doc = json.loads(dumps(_backtest_like()))
    (tmp_path / "m.json").write_text(json.dumps({**doc, "n_windows": "48"}))
    with pytest.raises(ModelError, match=r"n_windows = '48'.*metrics.json of `flarecast evaluate`") as err:
        Metrics.read(tmp_path / "m.json")
    assert "\n" not in str(err.value)
    (tmp_path / "cut.json").write_text(dumps(doc)[:100])
    with pytest.raises(ModelError, match="not JSON"):
        Metrics.read(tmp_path / "cut.json")
    with pytest.raises(AttributeError):
        _backtest_like().n_window  # noqa: B018  (a misspelt key fails where it is read)


def test_method_thresholds_give_the_model_its_own_and_the_rest_one_half():
    t = method_thresholds({"X": 0.2, ">=M": 0.3})
    assert t == {"model": {"X": 0.2, ">=M": 0.3}, "model@0.5": {"X": 0.5, ">=M": 0.5},
                 "climatology": {"X": 0.5, ">=M": 0.5}, "persistence": {"X": 0.5, ">=M": 0.5}}
    t["climatology"]["X"] = 0.1
    assert t["persistence"]["X"] == 0.5  # each method its own dict


def test_training_summaries_print_their_kind_first_and_refuse_an_unknown_field():
    single = SingleFit(model_dir="m", best_epoch=1, epochs_run=2, val_score=float("nan"), thresholds={"X": 0.1},
                       seconds=1.5)
    assert list(json.loads(dumps(single))) == ["kind", "model_dir", "best_epoch", "epochs_run", "val_score",
                                               "thresholds", "seconds", "warnings"]
    assert json.loads(dumps(single))["val_score"] is None
    ens = EnsembleFit(model_dir="m", members=2, folds=["b0"], fold_periods=[], thresholds={}, threshold_rule="tss",
                      calibration={}, seconds=1.0)
    assert ens.to_dict()["kind"] == "ensemble" and list(ens.to_dict())[1] == "model_dir"
    with pytest.raises(ValidationError, match="best_epoc"):
        SingleFit(model_dir="m", best_epoc=1, epochs_run=2, val_score=0.5, thresholds={}, seconds=1.0)
    with pytest.raises(ValidationError, match="best_epoch"):
        SingleFit(model_dir="m", best_epoch="1", epochs_run=2, val_score=0.5, thresholds={}, seconds=1.0)
