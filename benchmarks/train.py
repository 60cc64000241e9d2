"""Training throughput and memory: flarecast's loop over strided windows vs a plain PyTorch loop.

The plain loop is what a first script does: materialise every training window into one tensor, wrap it in a
``TensorDataset`` and a ``DataLoader``. Both train the same model with the same loss for one epoch. Each
variant runs in its own process so its memory is its own. Two memory figures, both above the resident size
after imports and model creation: ``data_mb``, what the data path holds when the epoch starts (flarecast: the
normalised series; plain: the copied windows), and ``epoch_peak_mb``, the high-water mark during the epoch,
which on the CPU also holds the network's activations (the same for both variants).

    python benchmarks/train.py                       # CPU, fp32
    python benchmarks/train.py --device cuda --precision both   # adds bf16 autocast vs fp32 on a GPU

The last line printed is JSON with ``speedup`` (windows/s / plain loop's) and ``memory_ratio``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def run_variant(args) -> dict:
    import torch
    from common import hwm_bytes, reset_peak_rss, rss_bytes, synthetic_goes, trim_heap

    from flarecast.config import LossConfig, ModelConfig, SampleConfig
    from flarecast.model.network import TemporalCNN
    from flarecast.samples.build import WindowDataset, build_samples, collate_batch
    from flarecast.train.loop import run_epoch, seed_everything

    torch.set_num_threads(args.threads) if args.threads else None
    device = torch.device(args.device)
    cfg = SampleConfig(cadence=args.cadence, window="24h", horizon="24h", stride="1h")
    goes, events = synthetic_goes(args.days)
    seed_everything(0)
    model = TemporalCNN(len(cfg.channels), len(cfg.targets), cfg.window_steps, ModelConfig(hidden=args.hidden)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = LossConfig(alpha=0.25, gamma=2.0)
    samples = build_samples(goes, events, cfg)
    del goes, events
    trim_heap()
    base_rss = rss_bytes() - samples.series.nbytes  # the process without the data path
    if args.variant == "flarecast":
        ds = WindowDataset(samples, "train")
        loader = torch.utils.data.DataLoader(ds, batch_size=args.batch, shuffle=True, collate_fn=collate_batch,
                                             pin_memory=device.type == "cuda")
    else:
        idx = samples.indices("train")
        x = torch.from_numpy(samples.gather(idx))  # every window copied: windows x channels x steps
        y = torch.from_numpy(samples.y[idx])
        del samples
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=args.batch,
                                             shuffle=True, pin_memory=device.type == "cuda")
    if device.type == "cuda":
        run_epoch(model, [next(iter(loader))], opt, None, loss, device=device, bf16=args.bf16)  # warm-up
        torch.cuda.synchronize()
    trim_heap()
    data_bytes = rss_bytes() - base_rss
    reset_peak_rss()
    t0 = time.perf_counter()
    mean_loss, n = run_epoch(model, loader, opt, None, loss, device=device, bf16=args.bf16)
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"variant": args.variant, "bf16": args.bf16, "windows": n, "seconds": round(dt, 3),
            "windows_per_s": round(n / dt, 1), "data_mb": round(data_bytes / 2**20, 1),
            "epoch_peak_mb": round((hwm_bytes() - base_rss) / 2**20, 1)}


def spawn(variant: str, args, bf16: bool) -> dict:
    cmd = [sys.executable, __file__, "--variant", variant, "--days", str(args.days), "--device", args.device,
           "--cadence", args.cadence, "--batch", str(args.batch), "--hidden", str(args.hidden),
           "--threads", str(args.threads)] + (["--bf16"] if bf16 else [])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"benchmark variant {variant} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=5 * 365)
    ap.add_argument("--cadence", default="5min", help="step of the windows (24-hour windows)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--precision", choices=["fp32", "bf16", "both"], default="fp32")
    ap.add_argument("--variant", choices=["flarecast", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--bf16", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args)))
        return
    precisions = {"fp32": [False], "bf16": [True], "both": [False, True]}[args.precision]
    rows = []
    for bf16 in precisions:
        for variant in ("plain", "flarecast"):
            rows.append(spawn(variant, args, bf16))
            print(json.dumps(rows[-1]), file=sys.stderr)
    main_bf16 = precisions[-1]
    ours = next(r for r in rows if r["variant"] == "flarecast" and r["bf16"] == main_bf16)
    plain = next(r for r in rows if r["variant"] == "plain" and r["bf16"] == main_bf16)
    summary = {"benchmark": "train", "device": args.device, "days": args.days, "cadence": args.cadence,
               "windows": ours["windows"], "windows_per_s": ours["windows_per_s"],
               "plain_windows_per_s": plain["windows_per_s"],
               "speedup": round(ours["windows_per_s"] / plain["windows_per_s"], 3),
               "memory_ratio": round(max(ours["data_mb"], 0.1) / max(plain["data_mb"], 0.1), 3),
               "epoch_peak_ratio": round(max(ours["epoch_peak_mb"], 0.1) / max(plain["epoch_peak_mb"], 0.1), 3),
               "data_mb": ours["data_mb"], "plain_data_mb": plain["data_mb"],
               "epoch_peak_mb": ours["epoch_peak_mb"], "plain_epoch_peak_mb": plain["epoch_peak_mb"]}
    if args.precision == "both":
        fp32 = next(r for r in rows if r["variant"] == "flarecast" and not r["bf16"])
        summary["bf16_vs_fp32"] = round(ours["windows_per_s"] / fp32["windows_per_s"], 3)
        summary["fp32_windows_per_s"] = fp32["windows_per_s"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
