"""Training loop: one temporal CNN, one loss, early stopping on validation, thresholds chosen on validation.

Seeds fix Python, NumPy and torch, so the same config on the CPU gives the same weights. On CUDA the forward
pass runs under bf16 autocast (the loss is computed in float32), batches are copied from pinned memory without
blocking. The model directory is rewritten atomically after every improving epoch, so an interrupted run
leaves the last good model in place.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flarecast import __version__, classes, metrics
from flarecast.config import LossConfig, RunConfig
from flarecast.errors import ConfigError
from flarecast.jsonio import dumps
from flarecast.model.card import Decision
from flarecast.model.inference import autocast, predict, resolve_device
from flarecast.model.modeldir import save_model
from flarecast.model.network import TemporalCNN
from flarecast.samples.build import Samples, WindowDataset, collate_batch
from flarecast.train.checkpoint import Progress, load_checkpoint, save_checkpoint
from flarecast.train.losses import binary_focal_loss, ordinal_focal_loss
from flarecast.util import atomic_write_bytes

EpochCallback = Callable[[dict], None]


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    best_epoch: int
    epochs_run: int
    val_score: float
    thresholds: dict[str, float]
    seconds: float
    windows_per_s: float
    final_digest: str  # sha256 of the last epoch's parameters: equal across DDP ranks and same-seed CPU runs


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds third-party code that uses the legacy global state
    torch.manual_seed(seed)


def run_epoch(model, loader, opt, sched, loss_cfg: LossConfig, *, device: torch.device, bf16: bool = True,
              on_batch: Callable[[int], None] | None = None, targets: Sequence[str] | None = None) -> tuple[float, int]:
    """One pass over ``loader``; returns the mean training loss and the number of windows seen.

    ``targets`` (the heads' names, in order) is needed when ``loss_cfg.pos_weight`` names a weight per target.
    """
    model.train()
    total, n = torch.zeros((), device=device), 0
    pos_weight = loss_cfg.pos_weight
    if isinstance(pos_weight, dict):
        if targets is None:
            raise ConfigError("train.loss.pos_weight names targets: pass run_epoch(..., targets=samples.targets)")
        pos_weight = loss_cfg.pos_weights(targets)
    if pos_weight is not None:
        pos_weight = torch.as_tensor(pos_weight, dtype=torch.float32, device=device)
    if loss_cfg.name == "ordinal" and targets is None:
        raise ConfigError("train.loss.name = 'ordinal' groups the targets by day: pass run_epoch(..., targets=...)")
    chains = classes.nested(targets) if loss_cfg.name == "ordinal" else []
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast(device, bf16):
            logits = model(x)
        if chains:
            loss = ordinal_focal_loss(logits.float(), y, chains, alpha=loss_cfg.alpha, gamma=loss_cfg.gamma)
        else:
            loss = binary_focal_loss(logits.float(), y, alpha=loss_cfg.alpha, gamma=loss_cfg.gamma,
                                     pos_weight=pos_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        total += loss.detach() * len(x)  # no .item(): a host sync per batch would stall the GPU
        n += len(x)
        if on_batch:
            on_batch(len(x))
    return float(total) / max(n, 1), n


def train(samples: Samples, cfg: RunConfig, model_dir: str | Path, *, resume: bool = False,
          on_epoch: EpochCallback | None = None, on_batch: Callable[[int], None] | None = None) -> TrainResult:
    """Train on the ``train`` split, stop early on the ``val`` split, write the model directory.

    Started by ``torchrun`` (``WORLD_SIZE`` > 1 in the environment), each process trains on its share of every
    epoch through DistributedDataParallel; every rank scores validation itself, so all take the same
    early-stopping decision without talking, and only rank 0 writes.
    """
    tc = cfg.train
    tc.loss.pos_weights(samples.targets)  # a per-target pos_weight must name exactly these targets
    dist = _Distributed.from_env(tc.device)
    device = dist.device or resolve_device(tc.device)
    seed_everything(tc.seed)
    model_dir = Path(model_dir)
    if dist.is_main:
        model_dir.mkdir(parents=True, exist_ok=True)
    net = TemporalCNN(len(samples.channels), len(samples.targets), samples.window_steps, cfg.model,
                      targets=samples.targets).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    gen = torch.Generator().manual_seed(tc.seed)
    dataset = WindowDataset(samples, "train")
    sampler = dist.sampler(dataset, tc.seed) if tc.sampling == "shuffle" else balanced_sampler(samples, gen)
    if sampler is not None and tc.sampling == "balanced" and dist.world_size > 1:
        raise ConfigError("train.sampling = 'balanced' is not supported under torchrun; use 'shuffle'")
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=tc.batch_size, shuffle=sampler is None, sampler=sampler, drop_last=False,
        collate_fn=collate_batch, generator=gen, pin_memory=device.type == "cuda",
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tc.lr, total_steps=tc.epochs * max(1, len(loader)))
    state = Progress()
    if resume:
        state = load_checkpoint(model_dir, net, opt, sched, gen, cfg.to_dict())
    model = dist.wrap(torch.compile(net) if tc.compile else net)
    val_idx = samples.indices("val")
    train_y = samples.y[samples.indices("train")]
    climatology = {t: float(train_y[:, j].mean()) for j, t in enumerate(samples.targets)}

    t0 = time.perf_counter()
    seen_before = state.seen
    while state.epoch < tc.epochs and state.bad_epochs < tc.patience:
        state.epoch += 1
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(state.epoch)
        mean_loss, n = run_epoch(model, loader, opt, sched, tc.loss, device=device, bf16=tc.precision == "bf16",
                                 on_batch=on_batch, targets=samples.targets)
        state.seen += n
        probs = predict(net, samples, val_idx, device=device)
        with warnings.catch_warnings():  # a target with no validation positives has no PR AUC: NaN, ignored
            warnings.simplefilter("ignore", metrics.UndefinedScoreWarning)
            val_pr = {t: metrics.pr_auc(samples.y[val_idx, j], probs[:, j]) for j, t in enumerate(samples.targets)}
        finite = [v for v in val_pr.values() if np.isfinite(v)]
        score = float(np.mean(finite)) if finite else float("-inf")
        entry = {"epoch": state.epoch, "train_loss": mean_loss, "val_pr_auc": val_pr, "val_score": score,
                 "lr": sched.get_last_lr()[0]}
        state.log.append(entry)
        # The first epoch always counts: with no validation positives at all every score is undefined (-inf),
        # and a run must still leave a model behind.
        improved = score > state.best or state.best_epoch == 0
        if improved:
            state.best, state.best_epoch, state.bad_epochs = score, state.epoch, 0
            state.thresholds = {t: tc.decision().choose(samples.y[val_idx, j], probs[:, j])
                                for j, t in enumerate(samples.targets)}
        else:
            state.bad_epochs += 1
        if dist.is_main:
            if improved:
                card = _card(samples, cfg, net, state.thresholds, climatology, state.log, state.best_epoch, device)
                save_model(model_dir, net, card)
            save_checkpoint(model_dir, net, opt, sched, gen, state, cfg.to_dict())
            log_text = "".join(dumps(e, indent=None) + "\n" for e in state.log)
            atomic_write_bytes(model_dir / "train_log.jsonl", log_text.encode())
            if on_epoch:
                on_epoch(entry)
    seconds = time.perf_counter() - t0
    digest = hashlib.sha256(b"".join(p.detach().cpu().numpy().tobytes() for p in net.parameters())).hexdigest()
    dist.close()
    return TrainResult(model_dir, state.best_epoch, state.epoch, state.best, state.thresholds, seconds,
                       (state.seen - seen_before) / max(seconds, 1e-9), digest)


def balanced_sampler(samples: Samples, gen: torch.Generator) -> torch.utils.data.WeightedRandomSampler:
    """Class-balanced sampling, a baseline to focal loss: each ordinal class (quiet, C, M, X) is drawn about
    equally often per epoch, rare classes repeated, common ones thinned; the epoch keeps its length."""
    labels = samples.label[samples.indices("train")]
    counts = np.bincount(labels, minlength=4).astype(float)
    weights = 1.0 / counts[labels]
    return torch.utils.data.WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.double), len(labels),
                                                  replacement=True, generator=gen)


class _Distributed:
    """DistributedDataParallel set-up read from the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK)."""

    def __init__(self, world_size: int = 1, rank: int = 0, device: torch.device | None = None, owned: bool = False):
        self.world_size, self.rank, self.device, self.owned = world_size, rank, device, owned

    @classmethod
    def from_env(cls, device_name: str) -> _Distributed:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as tdist

        use_cuda = device_name != "cpu" and torch.cuda.is_available()
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
        if use_cuda:
            torch.cuda.set_device(device)
        owned = not tdist.is_initialized()
        if owned:
            tdist.init_process_group(backend="nccl" if use_cuda else "gloo")
        return cls(world, tdist.get_rank(), device, owned)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sampler(self, dataset, seed: int):
        if self.world_size <= 1:
            return None
        return torch.utils.data.DistributedSampler(dataset, num_replicas=self.world_size, rank=self.rank,
                                                   shuffle=True, seed=seed)

    def wrap(self, model):
        if self.world_size <= 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def close(self) -> None:
        if self.owned:
            import torch.distributed as tdist

            tdist.destroy_process_group()


def _card(samples: Samples, cfg: RunConfig, model: TemporalCNN, thresholds, climatology, log, best_epoch, device):
    return {
        "code_version": __version__,
        "config": cfg.to_dict(),
        "loss": cfg.train.loss.label,
        "channels": list(samples.channels),
        "targets": list(samples.targets),
        "normalisation": {"mean": samples.norm_mean.tolist(), "std": samples.norm_std.tolist()},
        "data_fingerprint": samples.fingerprint,
        "decision": Decision.of(cfg.train.decision(), thresholds).to_dict(),
        "climatology": climatology,
        "best_epoch": best_epoch,
        "val": log[best_epoch - 1],
        "device": device.type,
        "model": {"levels": model.levels, "receptive_field": model.receptive_field,
                  "n_parameters": model.n_parameters()},
    }

