"""Training-step time of the GAN methods (papers 001 and 003) relative to their own no-KD run,
with the teacher's and the discriminators' share.

    python -m benchmarks.perf.gan_step_time [--batch 16] [--patch 24] [--scale 4] [--steps 10]
        [--warmup 2] [--device auto|cpu|cuda] [--threads N] [--vgg random|imagenet] [--out results.json]

A benchmark, not a test. One step is one call of the trainer's `benchmarks.train.train_step` on a
fixed random batch (sampling and the host-to-device copy are not timed), with one Adam per
parameter group (lr 1e-4). ms/step is the median of --steps timed steps after --warmup ones.

Pairs (each method beside the no-KD run that trains the same networks without the KD term):
paper 001, SRResNet 8x32 student, 16x64 teacher: `gan2gan` vs `srgan` (the no-KD Student),
`gan2g` vs `srgan-content` (G with l_c alone); paper 003, SRResNet 32x64 pair: `srgan-ml` with
`mutual: kl` (ML) and `soft` (ML*) vs `mutual: none` (Independent), and one `srgan` for scale.
Methods are built once and stepped round-robin (a different one first each round), so warm-up
and changes in the machine's load hit every method alike. Defaults are the papers' batch 16
and SRGAN's HR patch 96 (LR 24 at x4); the discriminator is the SRGAN D with 64 base filters;
the VGG19 is random by default (the same shape and cost as the ImageNet one, whose file may be
missing).

Shares. The teacher's forward is timed alone (no_grad, same batch), times the teacher forwards
counted in a step by a forward pre-hook. A group's time is measured around the method's loss
generator: from asking for the group to its yield (its forwards and losses) plus from the yield
to the next request (the trainer's backward and optimizer step). "D share" is the D groups'
(D, or D_a + D_b) time over the step: the discriminators' own update. D's forward and backward
inside G's adversarial term are part of the G groups' time. In a pair, both generators' SR
forwards are made before G_a's terms and both discriminators' forwards before D_a's, so G_a and
D_a carry time that G_b and D_b do not (compare sums, not a and b).

Paper 004 (`--papers 004 --patch 32`): the RRDBNet 23x16 student with every-RRDB regressors
from the 23x64 teacher (`esrgan-prune-kd`) vs the same networks with lambda_distill 0 (no
teacher forward, no regressors in the loss), vgg128 D. Unstructured pruning keeps the teacher's
shape, so its cost is the unpruned teacher's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from .step_time import _sync, device_name, resolve_device

#: paper 004's students: ESRGAN's RaGAN with the VGG-128 D (HR patch 128: run with --patch 32)
_ESRGAN = {"discriminator": "vgg128"}
#: (paper, row label, method, cfg, baseline label); sizes (student, teacher) per paper below.
PAIRS = [
    ("001", "Student (no KD)", "srgan", {}, None),
    ("001", "GAN2GAN", "gan2gan", {}, "Student (no KD)"),
    ("001", "G only, l_c (no KD)", "srgan-content", {}, None),
    ("001", "GAN2G", "gan2g", {}, "G only, l_c (no KD)"),
    ("003", "one SRGAN", "srgan", {}, None),
    ("003", "Independent pair", "srgan-ml", {"mutual": "none"}, None),
    ("003", "ML pair", "srgan-ml", {"mutual": "kl"}, "Independent pair"),
    ("003", "ML* pair", "srgan-ml", {"mutual": "soft"}, "Independent pair"),
    ("004", "Student_16 (no KD)", "esrgan-prune-kd", {**_ESRGAN, "lambda_distill": 0.0}, None),
    ("004", "Student_16 prune-KD", "esrgan-prune-kd", _ESRGAN, "Student_16 (no KD)"),
]
SIZES = {"001": ((8, 32), (16, 64)), "003": ((32, 64), None), "004": ((23, 16), (23, 64))}
ARCHS = {"004": "rrdbnet"}  # others: srresnet


class TimedLosses:
    """Replaces `method.losses`; accumulates per-group seconds of the current step."""

    def __init__(self, method, device: torch.device):
        self.inner, self.device = method.losses, device
        self.groups: dict[str, float] = defaultdict(float)
        method.losses = self

    def __call__(self, lr, hr, step):
        t = time.perf_counter()
        for item in self.inner(lr, hr, step):
            _sync(self.device)
            now = time.perf_counter()
            self.groups[item[0]] += now - t
            yield item
            _sync(self.device)
            t = time.perf_counter()
            self.groups[item[0]] += t - now


class Bench:
    """One method built at its paper's sizes with a fixed random batch, ready to step."""

    def __init__(self, paper: str, method: str, cfg: dict, opts: dict[str, Any]):
        from benchmarks.archs import build_arch
        from benchmarks.train import Optimization, train_step
        from methods import METHODS, build_method
        from methods.base import TrainContext

        self.device = device = torch.device(opts["device"])
        self.train_step, self.opts = train_step, opts
        scale, batch, patch = opts["scale"], opts["batch"], opts["patch"]
        torch.manual_seed(0)
        (sb, sf), teacher_size = SIZES[paper]
        arch = ARCHS.get(paper, "srresnet")
        student = build_arch(arch, scale, num_blocks=sb, num_feat=sf)
        self.teacher, self.calls = None, 0  # (a method may run the teacher while it is built)
        if METHODS.get(method).needs_teacher:
            self.teacher = build_arch(arch, scale, num_blocks=teacher_size[0],
                                      num_feat=teacher_size[1]).to(device)
            self.teacher.register_forward_pre_hook(self._count)
        ctx = TrainContext(scale=scale, lr_patch=patch, batch_size=batch, device=str(device))
        self.method = build_method(method, student, {"vgg_weights": opts["vgg"], **cfg}, teacher=self.teacher,
                                   ctx=ctx).to(device).train()
        self.optim = Optimization.uniform(self.method, 1e-4)
        self.timer = TimedLosses(self.method, device)
        gen = torch.Generator().manual_seed(1)
        self.lr = torch.rand(batch, 3, patch, patch, generator=gen).to(device)
        self.hr = torch.rand(batch, 3, patch * scale, patch * scale, generator=gen).to(device)
        self.calls, self.teacher_calls, self.i = 0, 0, 0
        self.steps: list[float] = []
        self.groups: dict[str, list[float]] = defaultdict(list)
        self.alone: list[float] = []

    def _count(self, *_: Any) -> None:
        self.calls += 1

    def step(self, timed: bool) -> None:
        self.timer.groups.clear()
        before = self.calls
        _sync(self.device)
        t0 = time.perf_counter()
        self.train_step(self.method, self.optim, self.lr, self.hr, self.i)
        _sync(self.device)
        self.i += 1
        if timed:
            self.steps.append(time.perf_counter() - t0)
            self.teacher_calls += self.calls - before
            for g, sec in self.timer.groups.items():
                self.groups[g].append(sec)
        if self.teacher is not None:  # the teacher forward alone, same batch
            _sync(self.device)
            t0 = time.perf_counter()
            self.method.teacher_forward(self.lr)
            _sync(self.device)
            if timed:
                self.alone.append(time.perf_counter() - t0)

    def result(self) -> dict[str, Any]:
        ms = 1000 * statistics.median(self.steps)
        group_ms = {g: 1000 * statistics.median(v) for g, v in self.groups.items()}
        d_ms = sum(v for g, v in group_ms.items() if g.startswith("D"))
        teacher_ms = 1000 * statistics.median(self.alone) if self.alone else None
        per_step = self.teacher_calls / len(self.steps)
        return {"ms_per_step": ms, "step_ms_all": [1000 * t for t in self.steps], "group_ms": group_ms,
                "d_share_pct": 100 * d_ms / ms if d_ms else None,
                "teacher_calls_per_step": per_step if self.teacher is not None else None,
                "teacher_forward_ms": teacher_ms,
                "teacher_share_pct": 100 * per_step * teacher_ms / ms if teacher_ms is not None else None,
                "trainable_params": sum(p.numel() for ps in self.method.param_groups().values() for p in ps)}


def measure_interleaved(entries: list[tuple], opts: dict[str, Any]) -> list[dict[str, Any]]:
    """All methods built first; each round steps every method once (then its teacher forward
    alone), starting with a different one each round, so warm-up and load changes hit all alike."""
    benches = [Bench(paper, method, cfg, opts) for paper, _, method, cfg, _ in entries]
    for r in range(opts["warmup"] + opts["steps"]):
        k = r % len(benches)
        for bench in benches[k:] + benches[:k]:
            bench.step(timed=r >= opts["warmup"])
        print(f"  round {r + 1}/{opts['warmup'] + opts['steps']}", file=sys.stderr, flush=True)
    return [b.result() for b in benches]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.perf.gan_step_time",
                                 description=__doc__.split("\n\n")[0] if __doc__ else None,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=24, help="LR patch (HR = patch x scale)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--vgg", choices=("random", "imagenet"), default="random")
    ap.add_argument("--papers", default="001,003", help="comma-separated: 001, 003, 004")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    opts = {"scale": args.scale, "batch": args.batch, "patch": args.patch, "steps": args.steps,
            "warmup": args.warmup, "device": str(device), "vgg": args.vgg}
    papers = {p.strip() for p in args.papers.split(",")}
    entries = [e for e in PAIRS if e[0] in papers]
    rows = {label: {"paper": paper, "label": label, "method": method, "cfg": cfg, "baseline": base, **res}
            for (paper, label, method, cfg, base), res in zip(entries, measure_interleaved(entries, opts))}
    lines = ["| paper | row | method | ms/step | x own no-KD run | teacher share | D share | groups (ms) |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows.values():
        base = rows.get(r["baseline"]) if r["baseline"] else None
        ratio = f"{r['ms_per_step'] / base['ms_per_step']:.2f} (vs {base['label']})" if base else "-"
        pct = lambda v: "-" if v is None else f"{v:.0f} %"  # noqa: E731
        groups = ", ".join(f"{g} {v:.0f}" for g, v in r["group_ms"].items())
        lines.append(f"| {r['paper']} | {r['label']} | {r['method']} {json.dumps(r['cfg']) if r['cfg'] else ''} | "
                     f"{r['ms_per_step']:.0f} | {ratio} | {pct(r['teacher_share_pct'])} | {pct(r['d_share_pct'])} | "
                     f"{groups} |")
    table = "\n".join(lines)
    conditions = {"device": device_name(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
                  **{k: v for k, v in opts.items() if k != "device"}, "loadavg": os.getloadavg()}
    print(f"# {conditions}")
    print(table)
    if args.out:
        Path(args.out).write_text(json.dumps({"conditions": conditions, "rows": list(rows.values()),
                                              "table_md": table}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
