"""The model card as a type: a card written by training reads back as a ModelCard and writes out byte for byte;
cards of older versions and cards with keys this version does not know load; a misspelt attribute or a mistyped
value fails at once, in one line."""

import hashlib
import json
import shutil
from pathlib import Path

import pydantic
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import ModelError
from flarecast.jsonio import dumps
from flarecast.model.card import Calibration, ModelCard, field_digests
from flarecast.model.modeldir import CARD, WEIGHTS, embedded_card, load_model, model_id, read_card, save_model
from flarecast.util import sha256_file

runner = CliRunner()
CORPUS = Path(__file__).parent / "hostile" / "corpus" / "models"


@pytest.fixture
def model_copy(tiny_model, tmp_path) -> Path:
    d = tmp_path / "m"
    shutil.copytree(tiny_model, d)
    return d


def _header(d: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(d / WEIGHTS), framework="pt") as fh:
        return json.loads(fh.metadata()["card"])


def test_a_card_written_by_training_round_trips_unchanged(tiny_model):
    text = (tiny_model / CARD).read_text()
    card = read_card(tiny_model)
    assert type(card) is ModelCard
    assert dumps(card.to_dict()) == text  # same keys, values and order: written back, the same bytes
    assert embedded_card(tiny_model / WEIGHTS).to_dict() == _header(tiny_model)
    # The model id is the hash of the JSON on disk, as it was when cards were dicts.
    assert model_id(tiny_model) == hashlib.sha256(json.dumps(json.loads(text), sort_keys=True).encode()).hexdigest()[:12]
    raw = json.loads(text)
    assert card.thresholds == raw["decision"]["thresholds"] and card.threshold(">=M") == raw["decision"]["thresholds"][">=M"]
    assert card.norm() == (raw["normalisation"]["mean"], raw["normalisation"]["std"])
    assert json.loads(dumps(card.run_config().to_dict())) == raw["config"] and card.weights_sha256 == sha256_file(tiny_model / WEIGHTS)


def test_an_integer_in_a_float_field_reads_back_as_written_and_keeps_the_id_of_its_float(model_copy, tmp_path):
    """A card trained with ``"thresholds": {">=M": 1.0}`` and written by hand as ``1``: every stage reads the float
    1.0, the card prints and writes back with 1 (reading does not change it), and its id is the id of the same
    card with 1.0, which is the hash of that card's JSON on disk as for any card written by training. (Editing
    the threshold itself is refused: the card must say what its weights were saved with.)"""
    net, card = load_model(model_copy)
    edited = json.loads((model_copy / CARD).read_text())
    edited["decision"]["thresholds"][">=M"] = 1.0
    (model_copy / CARD).write_text(dumps(edited))
    with pytest.raises(ModelError, match=r"card.json says decision.thresholds.>=M 1.0 but .*weights.safetensors was saved with"):
        read_card(model_copy)
    save_model(model_copy, net, {**card.to_dict(), "decision": edited["decision"]})
    doc = json.loads((model_copy / CARD).read_text())
    as_float = model_id(model_copy)
    assert as_float == hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]
    text = dumps(doc).replace('">=M": 1.0', '">=M": 1')
    assert text != dumps(doc)
    (model_copy / CARD).write_text(text)
    net, card = load_model(model_copy)
    assert card.threshold(">=M") == 1.0 and type(card.thresholds[">=M"]) is float
    assert dumps(card.to_dict()) == text and model_id(model_copy) == as_float
    shown = runner.invoke(app, ["card", str(model_copy), "--json"])
    assert json.loads(shown.output) == {"model_id": as_float, **json.loads(text)} and '">=M": 1,' in shown.output
    save_model(tmp_path / "again", net, card)  # the weights' header holds the card as read: new weights' digest
    digest = sha256_file(tmp_path / "again" / WEIGHTS)
    assert (tmp_path / "again" / CARD).read_text() == text.replace(card.weights_sha256, digest)
    assert model_id(tmp_path / "again") == hashlib.sha256(json.dumps(
        {**doc, "weights_sha256": digest}, sort_keys=True).encode()).hexdigest()[:12]


def test_calibration_numbers_read_back_as_written():
    platt = Calibration.model_validate({"method": "platt", "a": 2, "b": -0.5})
    assert (platt.a, type(platt.a)) == (2.0, float) and platt.to_dict() == {"method": "platt", "a": 2, "b": -0.5}
    assert json.dumps(platt.typed_dict()) == '{"method": "platt", "a": 2.0, "b": -0.5}'
    iso = Calibration.model_validate({"method": "isotonic", "x": [0, 0.5, 1], "y": [0, 0.25, 1.0]})
    assert json.dumps(iso.to_dict()) == '{"method": "isotonic", "x": [0, 0.5, 1], "y": [0, 0.25, 1.0]}'
    assert iso.x == [0.0, 0.5, 1.0]

def test_saving_a_read_card_writes_the_same_card(model_copy, tmp_path):
    net, card = load_model(model_copy)
    save_model(tmp_path / "again", net, card)
    assert (tmp_path / "again" / CARD).read_bytes() == (model_copy / CARD).read_bytes()
    assert (tmp_path / "again" / WEIGHTS).read_bytes() == (model_copy / WEIGHTS).read_bytes()


def test_corpus_cards_parse_to_exactly_their_json():
    docs = sorted(CORPUS.glob("*/card.json"))
    assert len(docs) == 6
    for path in docs:
        doc = json.loads(path.read_text())
        assert ModelCard.parse(doc, str(path), "-").to_dict() == doc, path


def test_an_older_card_without_later_keys_loads_and_stays_without_them(tmp_path):
    """A model as versions before weight digests wrote it: no tensors_sha256, threshold_score, val, best_epoch or
    fields_sha256, in its card and in its weights' header alike."""
    from safetensors.torch import load_file, save_file

    d = tmp_path / "old"
    d.mkdir()
    src = CORPUS / "card-targets" / WEIGHTS  # genuine weights (that case edited its card.json)
    old = {k: v for k, v in _header(src.parent).items()
           if k not in ("tensors_sha256", "threshold_score", "val", "best_epoch", "fields_sha256")}
    save_file(load_file(str(src)), str(d / WEIGHTS), metadata={"card": json.dumps(old)})
    (d / CARD).write_text(json.dumps({**old, "weights_sha256": sha256_file(d / WEIGHTS)}, indent=2))
    card = read_card(d)
    assert card.code_version == "0.1.0" and card.targets == [">=C", ">=M", "X"] and card.threshold("X") == 0.5
    assert card.threshold_score is None and card.best_epoch is None
    assert card.to_dict() == json.loads((d / CARD).read_text())  # no defaults added
    shown = runner.invoke(app, ["card", str(d)])
    assert shown.exit_code == 0, shown.output
    assert "by rule unknown" in shown.output and "best epoch None" in shown.output


def test_an_unknown_key_is_kept_on_write_back_and_printed(model_copy, tmp_path):
    doc = json.loads((model_copy / CARD).read_text())
    doc = {**doc, "reviewed_by": {"name": "duty forecaster", "on": "2026-11-30"}}
    (model_copy / CARD).write_text(dumps(doc))
    net, card = load_model(model_copy)
    assert card.reviewed_by == {"name": "duty forecaster", "on": "2026-11-30"}
    save_model(tmp_path / "copy", net, card)
    written = json.loads((tmp_path / "copy" / CARD).read_text())
    assert written["reviewed_by"] == doc["reviewed_by"] and set(written) == set(doc)
    assert _header(tmp_path / "copy")["reviewed_by"] == doc["reviewed_by"]
    shown = runner.invoke(app, ["card", str(model_copy), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {"model_id": model_id(model_copy), **doc}


def test_a_misspelt_attribute_or_an_assignment_fails_at_once(tiny_model):
    card = read_card(tiny_model)
    with pytest.raises(AttributeError, match="treshold"):
        card.tresholds  # noqa: B018
    with pytest.raises(pydantic.ValidationError):
        card.thresholds = {}


@pytest.mark.parametrize(("key", "value", "expect"), [
    ("window_steps", "48", "window_steps = '48' but its config gives 48 (samples.window / samples.cadence)"),
    ("decision", {"rule": "hss", "chosen_on": "validation split", "thresholds": {">=C": "high"}},
     "decision.thresholds.>=C = 'high'"),
    ("climatology", None, "climatology = None"),
])
def test_a_mistyped_card_value_is_refused_in_one_line(model_copy, key, value, expect):
    doc = json.loads((model_copy / CARD).read_text())
    (model_copy / CARD).write_text(dumps({**doc, key: value}))
    with pytest.raises(ModelError, match="card.json") as err:
        read_card(model_copy)
    assert expect in str(err.value) and "\n" not in str(err.value)
    shown = runner.invoke(app, ["card", str(model_copy)])
    assert shown.exit_code == 2 and expect in shown.output and len(shown.output.strip().splitlines()) == 1


def test_a_missing_card_key_is_named(model_copy):
    doc = json.loads((model_copy / CARD).read_text())
    del doc["normalisation"]
    (model_copy / CARD).write_text(dumps(doc))
    with pytest.raises(ModelError, match=r"card.json: normalisation is missing; the card was edited"):
        read_card(model_copy)


def test_a_card_written_before_the_decision_block_reads_with_one_and_keeps_its_seal(tiny_model):
    """Issue 22: the thresholds, their rule and what it was applied to are one ``decision`` block. A card from
    before (``thresholds`` and ``threshold_score``; an ensemble's ``threshold_rule``) reads with the block, is
    checked against the digests it was sealed with, and prints and hashes as written: its id does not change."""
    from flarecast.model.card import EnsembleCard

    new = read_card(tiny_model).to_dict()
    block = new.pop("decision")
    assert block["chosen_on"] == "validation split" and set(block["thresholds"]) == set(new["targets"])
    legacy = {k: v for k, v in new.items() if k not in ("fields_sha256", "weights_sha256")}
    legacy.update(thresholds=block["thresholds"], threshold_score=block["rule"])
    legacy["fields_sha256"] = field_digests(legacy)  # what training wrote then: every key but the weights' own
    card = ModelCard.parse(legacy, "old card.json", "-")
    card.check_sealed("old card.json", required=True)
    assert card.to_dict() == legacy and card.thresholds == block["thresholds"] and card.threshold_score == "hss"
    assert card.rule().sentence() == "chosen on the validation split by maximising HSS"
    edited = {**legacy, "thresholds": {**block["thresholds"], "X": 0.01}}
    with pytest.raises(ModelError, match=r"field 'thresholds.X' differs from what was trained"):
        ModelCard.parse(edited, "old card.json", "-").check_sealed("old card.json", required=True)
    # An ensemble's rule was its own key, applied to the pooled out-of-fold predictions.
    ens = {**{k: v for k, v in legacy.items() if k not in ("threshold_score", "fields_sha256")}, "kind": "ensemble",
           "format": "flarecast-ensemble/1", "threshold_rule": "cost:10", "threshold_score": "tss", "members": [],
           "combine": "mean_probability", "calibration": {},
           "cv": {"scheme": "blocked", "folds": [], "oof_file": "oof.parquet", "oof_scores": {}}}
    ecard = EnsembleCard.parse(ens, "ens card.json", "-")
    assert ecard.to_dict() == ens and ecard.threshold_rule == "cost:10" and ecard.threshold_score == "tss"
    assert ecard.rule().sentence() == "chosen on the pooled out-of-fold predictions by minimising 10 x misses + " \
                                      "false alarms"


WINDOW = ("window_steps", "cadence", "horizon", "convention")


def test_a_new_card_stores_the_window_once_in_its_config(tiny_model):
    """Issue 22: the window is stored once, in the run config; the card's window attributes are read from it."""
    raw = json.loads((tiny_model / CARD).read_text())
    assert not set(WINDOW) & set(raw) and not set(WINDOW) & set(_header(tiny_model))
    samples = raw["config"]["samples"]
    assert (samples["window"], samples["cadence"]) == ("24h", "30min")  # the demo config with TINY's cadence
    net, card = load_model(tiny_model)
    assert (card.window_steps, card.cadence, card.horizon, card.convention) == (48, "30min", samples["horizon"],
                                                                                  samples["convention"])
    assert net.window_steps == 48 and card.run_config() is card.run_config()  # validated once per card
    assert card.input_mismatch(window_steps=48, cadence="30min") is None
    assert card.input_mismatch(window_steps=96) == ("window_steps", 48, 96)


def _old_layout(tiny_model: Path) -> dict:
    """The tiny model's card in the layout written before the window was stored once: the window's copies at the
    top level beside the config, sealed as training sealed it then (every key but the weights' own)."""
    new = read_card(tiny_model).to_dict()
    samples = new["config"]["samples"]
    copies = {"window_steps": 48, "cadence": samples["cadence"], "horizon": samples["horizon"],
              "convention": samples["convention"]}
    old = {}
    for k, v in new.items():
        if k not in ("fields_sha256", "weights_sha256"):
            old[k] = v
        if k == "targets":
            old.update(copies)
    return {**old, "fields_sha256": field_digests(old)}


def _write_model(d: Path, src: Path, header: dict) -> None:
    """A model directory with ``src``'s weights, ``header`` as the card in them and card.json beside them."""
    from safetensors.torch import load_file, save_file

    d.mkdir()
    save_file(load_file(str(src / WEIGHTS)), str(d / WEIGHTS), metadata={"card": dumps(header, indent=None)})
    (d / CARD).write_text(dumps({**header, "weights_sha256": sha256_file(d / WEIGHTS)}))


def test_a_card_written_with_the_window_copies_loads_and_keeps_its_seal_and_id(tiny_model, tmp_path):
    """An old card (window copies at the top level) reads without them, its seal is checked against the keys as
    written, and it prints, writes back and hashes as written; a copy edited with its config is named by the seal."""
    old = _old_layout(tiny_model)
    card = ModelCard.parse(old, "old card.json", "-")
    card.check_sealed("old card.json", required=True)
    assert card.to_dict() == old and list(card.to_dict()) == list(old)
    assert (card.window_steps, card.cadence) == (48, "30min") and "window_steps" not in card.model_extra
    d = tmp_path / "old"
    _write_model(d, tiny_model, old)
    text = (d / CARD).read_text()
    net, loaded = load_model(d)
    assert dumps(loaded.to_dict()) == text and loaded.window_steps == net.window_steps == 48
    assert model_id(d) == hashlib.sha256(json.dumps(json.loads(text), sort_keys=True).encode()).hexdigest()[:12]
    shown = runner.invoke(app, ["card", str(d), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {"model_id": model_id(d), **json.loads(text)}
    save_model(tmp_path / "again", net, loaded)  # written back: the same card, in the layout it was read in
    assert (tmp_path / "again" / CARD).read_bytes() == (d / CARD).read_bytes()
    # A copy and its config edited together agree with each other, but not with the seal (config is first).
    edited = {**old, "horizon": "12h", "config": {**old["config"], "samples": {**old["config"]["samples"],
                                                                                 "horizon": "12h"}}}
    with pytest.raises(ModelError, match=r"field 'config.samples.horizon' differs from what was trained"):
        ModelCard.parse(edited, "old card.json", "-").check_sealed("old card.json", required=True)
    dropped = {k: v for k, v in old.items() if k != "cadence"}
    with pytest.raises(ModelError, match=r"field 'cadence' was removed"):
        ModelCard.parse(dropped, "old card.json", "-").check_sealed("old card.json", required=True)


@pytest.mark.parametrize(("key", "value", "expect"), [
    ("window_steps", 24, "window_steps = 24 but its config gives 48 (samples.window / samples.cadence)"),
    ("window_steps", 48.0, "window_steps = 48.0 but its config gives 48 (samples.window / samples.cadence)"),
    ("cadence", "1h", "cadence = '1h' but its config gives '30min' (samples.cadence)"),
    ("horizon", "12h", "horizon = '12h' but its config gives '24h' (samples.horizon)"),
])
def test_an_old_card_whose_window_copy_disagrees_with_its_config_is_refused_in_one_line(tiny_model, tmp_path, key,
                                                                                         value, expect):
    """The copy and the config were written together: a copy that differs was edited. Refused when read (before
    the seal), naming the copy, also when the card is sealed with the edit (the weights' header as the card)."""
    old = _old_layout(tiny_model)
    with pytest.raises(ModelError) as err:
        ModelCard.parse({**old, key: value}, "old card.json", "restore it")
    assert str(err.value) == f"old card.json: {expect}; restore it"
    d = tmp_path / "old"
    bad = {k: v for k, v in old.items() if k != "fields_sha256"} | {key: value}
    _write_model(d, tiny_model, {**bad, "fields_sha256": field_digests(bad)})
    shown = runner.invoke(app, ["card", str(d)])
    assert shown.exit_code == 2 and expect in shown.output and len(shown.output.strip().splitlines()) == 1
