"""Training throughput of the real loop per arch, precision, memory format, compile and batch source.

    python -m benchmarks.perf.train_throughput [--device auto|cpu|cuda] [--archs edsr-baseline,...]
        [--precisions fp32,tf32,bf16,fp16] [--channels-last off,on] [--compile off,on]
        [--sources gpu,loader,host] [--steps 20] [--warmup 5] [--batch N] [--patch P]
        [--old-loop] [--out results.json]

A benchmark, not a test. Each configuration runs the trainer's loop body (`source.batch(step)`,
`train_step` with the precision's autocast/scalers, the device-side `StepMeter`, a read-back
every `--log-every` steps) on a no-KD L1 run of the arch at its paper's batch and patch, on a
synthetic training set (random uint8 images: throughput does not depend on content). Times are
wall time over --steps steps after --warmup, bracketed by device synchronisation.

Columns: images/s (batch / step time); FLOP/step counted once per arch with
torch.utils.flop_counter (forward + backward of one fp32 step; 2 FLOPs per multiply-add); the
achieved FLOP/s; on CUDA the MFU against the device's dense peak for the precision (table
below: fp32 for fp32, TF32 tensor cores for tf32, bf16/fp16 tensor cores for bf16/fp16) and the
peak memory of the steps; overhead %: the share of the step the harness adds over `train_step`
alone on a batch already on the device (batch source, loss meter, read-backs, and one
checkpoint write every --checkpoint-every steps, timed once and amortised).

--old-loop adds, per arch, the loop this harness had before its fast path: fp32, batches cut
on the main thread, and every loss term read back to the host at every step (the old NaN
check and logging), so the speed-up is a ratio measured in the same process on the same machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.archs import build_arch
from benchmarks.precision import Precision
from benchmarks.profile import TrainProfile
from benchmarks.step_meter import StepMeter
from benchmarks.train import CHECKPOINT, Optimization, _save_checkpoint, compile_networks, train_step
from benchmarks.trainer_data import TrainPairs, make_batch_source
from methods import build_method

#: arch presets at their papers' training batch and LR patch (EDSR/CLSD x2 48; SRGAN x4 96/4; ESRGAN x4 128/4)
ARCHS = {
    "edsr-baseline": ("edsr", {"num_blocks": 16, "num_feat": 64}, 2, 16, 48),
    "edsr-32x256": ("edsr", {"num_blocks": 32, "num_feat": 256, "res_scale": 0.1}, 2, 16, 48),
    "srresnet": ("srresnet", {"num_blocks": 16, "num_feat": 64}, 4, 16, 24),
    "rrdbnet": ("rrdbnet", {"num_feat": 64, "num_blocks": 23, "num_grow": 32}, 4, 16, 32),
}
#: dense peak TFLOP/s by device-name fragment and precision (NVIDIA data sheets, SXM parts)
PEAKS = {"H100": {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4},
         "H200": {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4},
         "A100": {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0}}


@dataclasses.dataclass(frozen=True)
class Config:
    arch: str
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    source: str = "host"
    old_loop: bool = False

    def label(self) -> str:
        if self.old_loop:
            return f"{self.arch} old loop (fp32, host, read-back every step)"
        return (f"{self.arch} {self.precision}{' NHWC' if self.channels_last else ''}"
                f"{' compiled' if self.compile else ''} {self.source}")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _setup(cfg: Config, args, device: torch.device, pairs_cache: dict):
    name, options, scale, batch, patch = ARCHS[cfg.arch]
    batch, patch = args.batch or batch, args.patch or patch
    torch.manual_seed(0)
    method = build_method("baseline", build_arch(name, scale, **options)).to(device).train()
    if cfg.channels_last:
        method.to(memory_format=torch.channels_last)
    profile = TrainProfile(name="bench", iterations=1, batch_size=batch, patch_size=patch, lr=1e-4,
                           precision=cfg.precision)
    optim = Optimization.for_profile(method, profile)
    if (scale, patch) not in pairs_cache:
        rng = np.random.default_rng(0)
        side = max(4 * patch * scale, 256)
        images = [rng.integers(0, 256, (side, side, 3), dtype=np.uint8) for _ in range(args.images)]
        pairs_cache[(scale, patch)] = TrainPairs.build(images, scale, patch)
    source = make_batch_source(pairs_cache[(scale, patch)], patch_size=patch, scale=scale, augment=True, seed=0,
                               batch_size=batch, pixel_range=1, device=device, source=cfg.source,
                               workers=args.workers)
    if cfg.compile:
        compile_networks(method)
    return method, optim, source, batch


def _loop(cfg: Config, method, optim, source, device, args, steps: int, start: int, fixed=None) -> float:
    """Seconds for `steps` steps of the loop body; `fixed` (lr, hr): train_step alone on that batch."""
    precision = Precision(cfg.precision)
    context, scalers = precision.forward_context(device), precision.scalers(optim.optimizers, device)
    meter = StepMeter()
    _sync(device)
    t0 = time.perf_counter()
    with precision.backend_flags(device):
        for step in range(start, start + steps):
            lr, hr = fixed if fixed is not None else source.batch(step)
            if cfg.channels_last and fixed is None:
                lr, hr = (t.contiguous(memory_format=torch.channels_last) for t in (lr, hr))
            result = train_step(method, optim, lr, hr, step, context, scalers)
            if fixed is not None:
                continue
            if cfg.old_loop:
                _ = {k: float(v) for k, v in result.losses.items()}  # the old per-step NaN check and log
            else:
                meter.add(result.losses)
                if (step + 1) % args.log_every == 0:
                    meter.read(step + 1)
    _sync(device)
    return time.perf_counter() - t0


def _flops(method, optim, lr, hr) -> int:
    with FlopCounterMode(display=False) as counter:
        train_step(method, optim, lr, hr, 0)
    return int(counter.get_total_flops())


def _checkpoint_seconds(method, optim) -> float:
    """One checkpoint written by the trainer itself: serialised, hashed, synced to disk."""
    with tempfile.TemporaryDirectory(prefix="bench-ckpt-") as tmp:
        t0 = time.perf_counter()
        _save_checkpoint(Path(tmp) / CHECKPOINT, method, optim, None, 1, 0.0)
        return time.perf_counter() - t0


def measure(cfg: Config, args, device: torch.device, pairs_cache: dict, flops_cache: dict) -> dict:
    method, optim, source, batch = _setup(cfg, args, device, pairs_cache)
    try:
        _loop(cfg, method, optim, source, device, args, args.warmup, 0)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        seconds = _loop(cfg, method, optim, source, device, args, args.steps, args.warmup) / args.steps
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
        fixed = source.batch(0)
        compute = _loop(cfg, method, optim, source, device, args, args.steps, 0, fixed=fixed) / args.steps
        if cfg.arch not in flops_cache:
            flops_cache[cfg.arch] = _flops(method, optim, *fixed)
        ckpt = _checkpoint_seconds(method, optim) / args.checkpoint_every
    finally:
        source.close()
    flop_s = flops_cache[cfg.arch] / seconds
    row = {"config": cfg.label(), **dataclasses.asdict(cfg), "batch": batch, "ms_per_step": 1e3 * seconds,
           "images_per_s": batch / seconds, "gflop_per_step": flops_cache[cfg.arch] / 1e9,
           "tflop_per_s": flop_s / 1e12, "overhead_pct": 100 * (seconds + ckpt - compute) / (seconds + ckpt),
           "peak_gib": peak, "source_desc": source.describe()}
    peak_tflops = _peak(device, cfg.precision)
    row["mfu_pct"] = 100 * flop_s / (peak_tflops * 1e12) if peak_tflops else None
    return row


def _peak(device: torch.device, precision: str) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((p[precision] for frag, p in PEAKS.items() if frag in name), None)


def configs(args) -> list[Config]:
    out = []
    for arch in args.archs:
        if args.old_loop:
            out.append(Config(arch, old_loop=True))
        for prec, cl, comp, src in itertools.product(args.precisions, args.channels_last, args.compile, args.sources):
            out.append(Config(arch, prec, cl == "on", comp == "on", src))
    return out


def _table(rows: list[dict]) -> str:
    head = "| config | ms/step | images/s | GFLOP/step | TFLOP/s | MFU % | peak GiB | overhead % | vs first row of arch |"
    lines = [head, "|" + "---|" * 9]
    base: dict[str, float] = {}
    for r in rows:
        base.setdefault(r["arch"], r["ms_per_step"])
        fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
        lines.append(f"| {r['config']} | {r['ms_per_step']:.2f} | {r['images_per_s']:.1f} | {r['gflop_per_step']:.1f} | "
                     f"{r['tflop_per_s']:.2f} | {fmt(r['mfu_pct'], '.1f')} | {fmt(r['peak_gib'], '.2f')} | "
                     f"{r['overhead_pct']:.1f} | {base[r['arch']] / r['ms_per_step']:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.perf.train_throughput", description=__doc__.split("\n")[0])
    listed = lambda s: [x for x in s.split(",") if x]  # noqa: E731
    p.add_argument("--device", default="auto")
    p.add_argument("--archs", type=listed, default=list(ARCHS))
    p.add_argument("--precisions", type=listed, default=["fp32", "tf32", "bf16", "fp16"])
    p.add_argument("--channels-last", type=listed, default=["off", "on"])
    p.add_argument("--compile", type=listed, default=["off"])
    p.add_argument("--sources", type=listed, default=["gpu"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=0, help="override the papers' batch")
    p.add_argument("--patch", type=int, default=0, help="override the papers' LR patch")
    p.add_argument("--images", type=int, default=8, help="synthetic training images")
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers for the loader source")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--old-loop", action="store_true")
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    unknown = set(args.archs) - set(ARCHS)
    if unknown:
        p.error(f"unknown arch {sorted(unknown)[0]!r}; choose from {', '.join(ARCHS)}")
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    conditions = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
                  "torch": torch.__version__, "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
                  "load_start": os.getloadavg()[0], "steps": args.steps, "warmup": args.warmup}
    rows, pairs_cache, flops_cache = [], {}, {}
    for cfg in configs(args):
        try:
            rows.append(measure(cfg, args, device, pairs_cache, flops_cache))
        except Exception as exc:  # one configuration failing (e.g. compile without a compiler) is a row, not the end
            print(f"{cfg.label()}: failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}", flush=True)
            continue
        print(f"{rows[-1]['config']}: {rows[-1]['ms_per_step']:.2f} ms/step", flush=True)
    conditions["load_end"] = os.getloadavg()[0]
    print(json.dumps(conditions))
    print(_table(rows))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"conditions": conditions, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
