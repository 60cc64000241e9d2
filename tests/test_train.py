import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from flarecast.config import builtin_config, load_config
from flarecast.errors import ModelError
from flarecast.ingest import store as st
from flarecast.model.modeldir import WEIGHTS, load_model, read_card
from flarecast.samples.build import build_samples
from flarecast.train.checkpoint import CHECKPOINT
from flarecast.train.loop import train
from tests.conftest import TINY


def samples_for(store, overrides):
    cfg = load_config(builtin_config("demo"), TINY + overrides)
    goes = st.read_goes(store)
    return build_samples(goes, st.read_events(store), cfg.samples, provenance=goes.attrs["provenance"]), cfg


def test_same_seed_gives_byte_identical_weights(sim_store, tmp_path):
    samples, cfg = samples_for(sim_store, ["train.epochs=2", "train.patience=5"])
    a = train(samples, cfg, tmp_path / "a")
    b = train(samples, cfg, tmp_path / "b")
    assert (tmp_path / "a" / WEIGHTS).read_bytes() == (tmp_path / "b" / WEIGHTS).read_bytes()
    assert a.final_digest == b.final_digest
    c = train(samples, cfg.replace(**{"train.seed": 1}), tmp_path / "c")
    assert c.final_digest != a.final_digest


def test_resumed_run_equals_uninterrupted_run(sim_store, tmp_path):
    samples, cfg = samples_for(sim_store, ["train.epochs=3", "train.patience=5"])
    whole = train(samples, cfg, tmp_path / "whole")

    class Stop(Exception):
        pass

    def stop_after_first(entry):
        if entry["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        train(samples, cfg, tmp_path / "cut", on_epoch=stop_after_first)
    resumed = train(samples, cfg, tmp_path / "cut", resume=True)
    assert resumed.epochs_run == 3
    assert resumed.final_digest == whole.final_digest
    assert json.loads((tmp_path / "cut" / "train_log.jsonl").read_text().splitlines()[-1])["epoch"] == 3


def test_balanced_sampling_draws_each_class_about_equally(sim_store):
    from flarecast.train.loop import balanced_sampler

    samples, _ = samples_for(sim_store, [])
    labels = samples.label[samples.indices("train")]
    present = np.unique(labels)
    drawn = labels[list(balanced_sampler(samples, torch.Generator().manual_seed(0)))]
    shares = np.bincount(drawn, minlength=4)[present] / drawn.size
    assert np.bincount(labels, minlength=4)[present].min() < 0.2 * labels.size  # the input is skewed...
    np.testing.assert_allclose(shares, 1 / present.size, atol=0.06)  # ...the draws are not


def test_resume_refuses_another_config(sim_store, tmp_path):
    samples, cfg = samples_for(sim_store, ["train.epochs=1"])
    train(samples, cfg, tmp_path / "m")
    with pytest.raises(ModelError, match="another config"):
        train(samples, cfg.replace(**{"train.lr": 0.1}), tmp_path / "m", resume=True)


def test_card_is_read_from_the_weights_when_card_json_is_stale(sim_store, tmp_path):
    samples, cfg = samples_for(sim_store, ["train.epochs=1"])
    train(samples, cfg, tmp_path / "m")
    card_path = tmp_path / "m" / "card.json"
    good = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**good, "weights_sha256": "0" * 64, "loss": "stale"}))
    assert read_card(tmp_path / "m").loss == good["loss"]
    model, card = load_model(tmp_path / "m")
    assert card.thresholds == good["decision"]["thresholds"]


@pytest.mark.slow
def test_sigkill_mid_epoch_leaves_a_loadable_model_and_resume_finishes(sim_store, tmp_path):
    cfg = builtin_config("demo")
    out = tmp_path / "model"
    args = [sys.executable, "-m", "flarecast", "train", str(cfg), "--store", str(sim_store), "--out", str(out),
            *TINY, "train.epochs=6", "train.patience=6", "samples.cadence=15min", "model.hidden=16"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (out / CHECKPOINT).exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be interrupted"
    time.sleep(0.05)  # the first checkpoint is written: the process is now inside epoch 2 (or later)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    model, card = load_model(out)  # the last good model loads
    assert 1 <= card.best_epoch < 6
    done = subprocess.run(args + ["--resume", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["epochs_run"] == 6
    log = [json.loads(ln) for ln in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in log] == list(range(1, 7))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_rank(rank, world, port, store, out, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    samples, cfg = samples_for(store, ["train.epochs=2", "train.patience=5"])
    result = train(samples, cfg, out)
    queue.put((rank, result.final_digest))


@pytest.mark.slow
def test_ddp_two_cpu_processes_end_with_identical_weights(sim_store, tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_ddp_rank, args=(r, 2, port, sim_store, tmp_path / "ddp", queue)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    digests = dict(queue.get(timeout=10) for _ in range(2))
    assert digests[0] == digests[1]
    assert (tmp_path / "ddp" / WEIGHTS).exists()  # rank 0 wrote the model
    samples, cfg = samples_for(sim_store, ["train.epochs=2", "train.patience=5"])
    single = train(samples, cfg, tmp_path / "single")
    assert single.final_digest != digests[0]  # each rank saw half of every epoch: not the single-process run


def test_a_target_with_no_positive_training_window_is_named(sim_store):
    from flarecast.report.tables import train_summary
    from flarecast.samples.build import samples_from_store
    from flarecast.train.run import SingleFit, no_events

    s = samples_from_store(sim_store, load_config(builtin_config("demo"), TINY).samples)
    x = s.targets.index("X")
    m = s.targets.index(">=M")
    quiet = np.flatnonzero((s.y[:, m] == 1) & (s.y[:, x] == 0))[:40]  # 40 M windows, none followed by an X flare
    flaring = np.flatnonzero(s.y[:, x] == 1)[:5]
    (line,) = no_events(s, {"the quiet part": quiet, "the flaring part": flaring})
    assert line.startswith("X: no positive window in the quiet part (40 windows)")
    # Every target with positives in both parts gives no line; an empty part gives none either.
    assert no_events(s, {"all": np.arange(len(s.y)), "nothing": np.array([], dtype=np.int64)}) == []
    shown = train_summary(SingleFit(model_dir="m", best_epoch=1, epochs_run=2, val_score=0.5, thresholds={},
                                    seconds=1.0, warnings=[line]))
    assert shown[0].startswith("[yellow]warning:[/] X: no positive window") and shown[1].startswith("model written")
