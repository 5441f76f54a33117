"""Training-step time of each distillation method relative to the baseline, with the teacher's share.

    python -m benchmarks.perf.step_time [--scale 2] [--batch 16] [--patch 48] [--steps 20]
        [--warmup 3] [--device auto|cpu|cuda] [--amp] [--amp-dtype bf16|fp16]
        [--student 16x64] [--teacher 32x256] [--methods baseline,fakd,...] [--threads N]
        [--mode isolated|sequential|interleaved] [--plugin FILE] [--out results.json]

A benchmark, not a test: it prints a markdown table and writes JSON with the conditions
(device, torch version, threads, batch, patch, scale, load average at start and end).

What one "step" is. One call of the trainer's own step, `benchmarks.train.train_step`, on a
batch already on the device: for each (group, terms) the method yields, the sum of its terms
(nothing is read back to the host: the trainer checks for NaN every log_every steps), zero_grad,
backward and Adam step (one Adam per
parameter group, built by `benchmarks.train.Optimization`: lr 1e-4, betas 0.9/0.999, a
step-decay schedule with its milestone far beyond the run), then the schedules of the groups
that stepped. Sampling and the host-to-device copy of the batch are *not* timed (the batch is
one fixed random LR batch N x 3 x P x P in [0, 1] and its HR target N x 3 x sP x sP).
Defaults are the CLSD paper's conditions: batch 16, LR patch 48 (EDSR's default), x2,
EDSR-baseline student 16x64 and EDSR teacher 32x256 (res_scale 0.1, 40.7M parameters at x2).
Models are randomly initialised (seed 0): a step's time does not depend on the weights.
Method configs are the registered defaults (paper defaults; e.g. 3 taps / 3 heads).

ms/step is the median of --steps timed steps after --warmup untimed ones, each bracketed by
torch.cuda.synchronize on a GPU. The ratio is ms/step over the baseline's (the baseline is
always measured).

Modes. `isolated` (default): each method in its own freshly spawned process, one after the
other (per-method peak RSS on CPU, no allocator state carried over). `sequential`: all in
this process, one after the other. `interleaved`: all methods built in this process, then
round-robin: each round times one step of every method (and its teacher forward alone),
starting with a different method each round. On a shared machine whose load changes while
the benchmark runs, interleaving spreads the change over all methods alike, so the *ratios*
stay meaningful; no memory is reported in that mode.

Teacher share. The teacher's forward is timed *separately*: `method.teacher_forward(lr)` alone
(no_grad, same batch, same autocast setting), --steps times after --warmup, median. The
number of teacher forwards per step is counted with a forward pre-hook on the teacher during
the timed steps, so a method that uses the teacher only at construction (teacher-init) shows
0 calls and no share. share % = calls x teacher ms / ms per step. An estimate: inside a step
fakd/lsfd also record three teacher features through forward hooks (negligible), and on a GPU
the teacher's kernels may overlap other work, so the share bounds from above what dropping
the teacher forward (e.g. caching its outputs) would save. torch.profiler was not used: its
per-op overhead would distort the very step being measured.

Peak memory. On CUDA: torch.cuda.max_memory_allocated, reset after the models and the
optimizers are built, so it covers the steps: Adam's state, the teacher's weights, the
activations (not the CUDA context, nor the allocator's cache). On CPU there is no allocator
counter; resource.getrusage(RUSAGE_SELF).ru_maxrss is the *process's* peak resident set,
cumulative over its life, so it is only reported per method with --mode isolated: the
column is that process's peak, which includes the interpreter and the imports (torch and the
harness, ~0.7 GB here), and "(+N)" is the peak minus the RSS after the imports, before any
model was built. With --mode sequential the cumulative value is written to the JSON only,
marked as such.

Busy CPUs. With several torch threads on a machine that other processes also load, OpenMP's
spin-waiting can make steps many times slower (measured here: 6.1 s vs 0.6 s per baseline
step at load 8 on 2 cores); the script warns when the load is high, and --threads 1 (or
OMP_WAIT_POLICY=PASSIVE) avoids it.

AMP (--amp, CUDA only). `train_step`'s `forward_context` is autocast (bfloat16 by default,
or float16, then with one GradScaler per parameter group passed as `scalers`): it wraps each
`next()` of the method's loss generator, i.e. the forwards and the losses; backward and the
optimizer steps run outside autocast, as PyTorch recommends; the trainer does the same for a
profile's `precision: bf16|fp16` (benchmarks/precision.py). The whole loop per precision, memory
format and batch source is measured by benchmarks.perf.train_throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

MODES = ("isolated", "sequential", "interleaved")
DEFAULT_METHODS = "baseline,teacher-init,fakd,lsfd,contrastive-kd,ds,clsd"
TEACHER_RES_SCALE = 0.1  # official EDSR 32x256 (benchmarks/archs/presets.py: edsr-teacher)
#: Every parameter group's optimizer settings: the trainer's Adam, lr decay after 200k steps.
GROUP_LR, GROUP_BETAS, GROUP_MILESTONES, GROUP_GAMMA = 1e-4, (0.9, 0.999), (200_000,), 0.5


def parse_size(text: str, what: str) -> tuple[int, int]:
    """'16x64' -> (num_blocks=16, num_feat=64)."""
    m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", text)
    if not m:
        raise SystemExit(f"--{what}: expected BLOCKSxFEATURES like 16x64, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    return dev


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU: {cpu_name()} ({os.cpu_count()} logical cores)"


class StepBench:
    """One method, built with a fresh student (and its own teacher if it needs one), ready to step."""

    def __init__(self, name: str, opts: dict[str, Any]):
        from benchmarks.archs import build_arch
        from benchmarks.precision import Precision
        from benchmarks.profile import GroupSettings
        from benchmarks.train import Optimization, train_step
        from methods import METHODS, build_method
        from methods.base import TrainContext

        self.name, self.opts = name, opts
        self.device = device = torch.device(opts["device"])
        self.amp = opts["amp"]
        self._train_step = train_step  # the trainer's step, timed as is
        scale, batch, patch = opts["scale"], opts["batch"], opts["patch"]
        torch.manual_seed(0)
        sb, sf = opts["student"]
        student = build_arch("edsr", scale, num_blocks=sb, num_feat=sf)
        self.cls = METHODS.get(name)
        self.teacher = None
        if self.cls.needs_teacher:
            tb, tf = opts["teacher"]
            self.teacher = build_arch("edsr", scale, num_blocks=tb, num_feat=tf,
                                      res_scale=TEACHER_RES_SCALE).to(device)
        ctx = TrainContext(scale=scale, lr_patch=patch, batch_size=batch, device=str(device))
        self.method = build_method(name, student, None, teacher=self.teacher, ctx=ctx).to(device).train()
        self.groups = self.method.param_groups()
        settings = GroupSettings(GROUP_LR, GROUP_BETAS, GROUP_MILESTONES, GROUP_GAMMA)
        self.optim = Optimization(self.method, {g: settings for g in self.groups})
        self.precision = Precision(self.amp or "fp32")  # the trainer's autocast and per-group scalers
        self.forward_context = self.precision.forward_context(device)
        self.scalers = self.precision.scalers(self.groups, device)
        gen = torch.Generator().manual_seed(1)
        self.lr = torch.rand(batch, 3, patch, patch, generator=gen).to(device)
        self.hr = torch.rand(batch, 3, patch * scale, patch * scale, generator=gen).to(device)
        self._calls = 0
        if self.teacher is not None:
            self.teacher.register_forward_pre_hook(self._count)
        self.step_calls = 0          # teacher forwards inside timed steps
        self.times: list[float] = []
        self.teacher_times: list[float] = []
        self._i = 0

    def _count(self, *_: Any) -> None:
        self._calls += 1

    def step(self, timed: bool) -> float:
        _sync(self.device)
        before = self._calls
        t0 = time.perf_counter()
        self._train_step(self.method, self.optim, self.lr, self.hr, self._i,
                         forward_context=self.forward_context, scalers=self.scalers)
        _sync(self.device)
        seconds = time.perf_counter() - t0
        self._i += 1
        if timed:
            self.times.append(seconds)
            self.step_calls += self._calls - before
        return seconds

    @property
    def calls_teacher(self) -> bool:
        """True once a step has run the teacher (teacher-init only uses it at construction)."""
        return self.teacher is not None and self._calls > 0

    def teacher_alone(self, timed: bool) -> float:
        _sync(self.device)
        t0 = time.perf_counter()
        with self.forward_context() if self.forward_context else contextlib.nullcontext():
            self.method.teacher_forward(self.lr)
        _sync(self.device)
        seconds = time.perf_counter() - t0
        if timed:
            self.teacher_times.append(seconds)
        return seconds

    def result(self) -> dict[str, Any]:
        from benchmarks.archs import count_params

        ms = 1000 * statistics.median(self.times)
        calls = self.step_calls / len(self.times)
        teacher_ms = 1000 * statistics.median(self.teacher_times) if self.teacher_times else None
        share = 100 * calls * teacher_ms / ms if teacher_ms is not None else None
        return {
            "method": self.name,
            "needs_teacher": self.cls.needs_teacher,
            "ms_per_step": ms,
            "step_ms_all": [1000 * t for t in self.times],
            "teacher_calls_per_step": calls,
            "teacher_forward_ms": teacher_ms,
            "teacher_forward_ms_all": [1000 * t for t in self.teacher_times],
            "teacher_share_pct": share,
            "trainable_params": sum(p.numel() for ps in self.groups.values() for p in ps),
            "student_params": count_params(self.method.sr_model()),
            "teacher_params": count_params(self.teacher) if self.teacher is not None else None,
        }


def _log(opts: dict[str, Any], text: str) -> None:
    if opts.get("log", True):
        print(text, file=sys.stderr, flush=True)


def measure_method(name: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Sequential mode: warm up, time --steps steps, then the teacher forward alone."""
    if opts["threads"]:
        torch.set_num_threads(opts["threads"])
    rss_start = _current_rss_mib()  # after the imports, before any model exists
    bench = StepBench(name, opts)
    if bench.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(bench.device)
    for i in range(opts["warmup"]):
        _log(opts, f"  {name}: warmup step {i + 1}/{opts['warmup']} {bench.step(False):.3f} s")
    for i in range(opts["steps"]):
        _log(opts, f"  {name}: step {i + 1}/{opts['steps']} {bench.step(True):.3f} s")
    peak_cuda = torch.cuda.max_memory_allocated(bench.device) if bench.device.type == "cuda" else None
    if bench.calls_teacher:
        for i in range(opts["warmup"] + opts["steps"]):
            sec = bench.teacher_alone(timed=i >= opts["warmup"])
            _log(opts, f"  {name}: teacher forward alone {sec:.3f} s")
    row = bench.result()
    row["peak_cuda_mib"] = peak_cuda / 2**20 if peak_cuda is not None else None
    row["process_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    row["rss_before_models_mib"] = rss_start
    return row


def measure_interleaved(names: list[str], opts: dict[str, Any]) -> list[dict[str, Any]]:
    """Interleaved mode: all methods in one process; each round times one step of every method
    (and its teacher forward alone), starting with a different method each round, so a change in
    the machine's load hits every method alike."""
    benches = [StepBench(n, opts) for n in names]
    for r in range(opts["warmup"] + opts["steps"]):
        timed = r >= opts["warmup"]
        k = r % len(benches)
        for bench in benches[k:] + benches[:k]:
            line = f"  round {r + 1}{'' if timed else ' (warmup)'} {bench.name}: step {bench.step(timed):.3f} s"
            if bench.calls_teacher:
                line += f", teacher forward alone {bench.teacher_alone(timed):.3f} s"
            _log(opts, line)
    rows = []
    for bench in benches:
        row = bench.result()
        row.update(peak_cuda_mib=None, process_maxrss_mib=None, rss_before_models_mib=None)
        rows.append(row)
    return rows


def _current_rss_mib() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run_isolated(name: str, opts: dict[str, Any]) -> dict[str, Any]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(measure_method, (name, opts))


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def _memory_note(device_type: str, mode: str) -> str:
    if mode == "interleaved":
        return "not measured (all methods share one process)"
    if device_type == "cuda":
        return "torch.cuda.max_memory_allocated, reset after the models and optimizers were built"
    if mode == "isolated":
        return ("ru_maxrss of each method's own spawned process (includes the interpreter and the "
                "imports); '+N' = peak minus RSS after the imports")
    return "not measured per method (ru_maxrss is per-process and cumulative)"


def markdown_table(rows: list[dict[str, Any]], device_type: str, mode: str) -> str:
    if mode == "interleaved" or (device_type != "cuda" and mode != "isolated"):
        mem_head = "peak memory (not measured in this mode)"
    elif device_type == "cuda":
        mem_head = "peak CUDA alloc (MiB)"
    else:
        mem_head = "peak RSS, own process (MiB; + over imports)"
    header = ("| method | ms/step | x baseline | teacher fwd/step | teacher fwd ms | teacher share | "
              f"trainable params | {mem_head} |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if device_type == "cuda":
            mem = _fmt(r["peak_cuda_mib"], ".0f")
        elif mode == "isolated":
            mem = _fmt(r["process_maxrss_mib"], ".0f")
            if r.get("rss_before_models_mib") is not None:
                mem += f" (+{r['process_maxrss_mib'] - r['rss_before_models_mib']:.0f})"
        else:
            mem = "-"
        calls = r["teacher_calls_per_step"] if r["needs_teacher"] else None
        lines.append(
            f"| {r['method']} | {r['ms_per_step']:.1f} | {r['ratio_to_baseline']:.2f} | "
            f"{_fmt(calls, 'g')} | {_fmt(r['teacher_forward_ms'], '.1f')} | "
            f"{_fmt(r['teacher_share_pct'], '.0f', ' %')} | {r['trainable_params'] / 1e6:.2f}M | "
            f"{mem} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.perf.step_time",
                                 description=__doc__.split("\n\n")[0] if __doc__ else None,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=48, help="LR patch size (HR = patch x scale)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per method (median)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    ap.add_argument("--amp", action="store_true", help="autocast around the losses (CUDA only)")
    ap.add_argument("--amp-dtype", choices=("bf16", "fp16"), default="bf16",
                    help="fp16 adds a GradScaler per parameter group")
    ap.add_argument("--student", default="16x64", help="EDSR student BLOCKSxFEATURES")
    ap.add_argument("--teacher", default="32x256", help="EDSR teacher BLOCKSxFEATURES (res_scale 0.1)")
    ap.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated; baseline is always added")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--mode", choices=MODES, default="isolated",
                    help="isolated: each method in its own spawned process, one after the other "
                         "(per-method peak RSS on CPU); sequential: one process, one method after the "
                         "other; interleaved: one process, round-robin steps (fairest on a busy machine)")
    ap.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                    help="import a user's method module first (not with --mode isolated)")
    ap.add_argument("--out", default=None, help="write the JSON here")
    args = ap.parse_args(argv)

    if args.steps < 1 or args.warmup < 0 or args.batch < 1 or args.patch < 1:
        raise SystemExit("--steps >= 1, --warmup >= 0, --batch >= 1, --patch >= 1")
    device = resolve_device(args.device)
    if args.amp and device.type != "cuda":
        raise SystemExit("--amp is measured on CUDA only (a profile's `precision` field trains with it; see the docstring)")
    if args.plugin and args.mode == "isolated":
        raise SystemExit("--plugin needs --mode sequential or interleaved (spawned processes do not import it)")
    from benchmarks.errors import BenchError
    from methods import METHODS, load_plugin

    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    names = ["baseline"] + [n for n in names if n != "baseline"]
    try:
        for spec in args.plugin:
            load_plugin(spec)
        for n in names:
            METHODS.get(n)  # unknown names fail before anything is timed
    except BenchError as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.threads:
        torch.set_num_threads(args.threads)
    opts = {"scale": args.scale, "batch": args.batch, "patch": args.patch, "steps": args.steps,
            "warmup": args.warmup, "device": str(device), "amp": args.amp_dtype if args.amp else None,
            "student": parse_size(args.student, "student"), "teacher": parse_size(args.teacher, "teacher"),
            "threads": args.threads}
    conditions = {
        "device": device_name(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "batch": args.batch, "lr_patch": args.patch, "hr_patch": args.patch * args.scale,
        "scale": args.scale, "steps": args.steps, "warmup": args.warmup,
        "student": f"edsr {args.student}", "teacher": f"edsr {args.teacher} res_scale {TEACHER_RES_SCALE}",
        "amp": opts["amp"], "mode": args.mode,
        "optimizer": ("Adam per parameter group (lr 1e-4, betas 0.9, 0.999), step decay "
                      "(benchmarks.train.Optimization); step = benchmarks.train.train_step"),
        "memory": _memory_note(device.type, args.mode),
        "loadavg_start": os.getloadavg(),
        "command": "python -m benchmarks.perf.step_time " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(f"# load average (1, 5, 15 min) at start: {conditions['loadavg_start']}", file=sys.stderr)
    if device.type == "cpu" and conditions["loadavg_start"][0] > (os.cpu_count() or 1) * 0.75:
        print(f"# WARNING: the machine is busy (load {conditions['loadavg_start'][0]:.1f} on "
              f"{os.cpu_count()} cores): timings are contended; with several torch threads, OpenMP's "
              "spin-waiting can make them many times slower (--threads 1, or OMP_WAIT_POLICY=PASSIVE)",
              file=sys.stderr)
    print(f"# step time: {conditions['device']}, torch {conditions['torch']}, {conditions['threads']} threads, "
          f"batch {args.batch}, LR patch {args.patch}, x{args.scale}, {args.steps} steps after {args.warmup} warmup",
          file=sys.stderr, flush=True)
    rows = []
    if args.mode == "interleaved":
        rows = measure_interleaved(names, opts)
    else:
        for n in names:
            print(f"{n} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            row = _run_isolated(n, opts) if args.mode == "isolated" else measure_method(n, opts)
            row["wall_s"] = time.perf_counter() - t0
            rows.append(row)
    conditions["loadavg_end"] = os.getloadavg()
    base = rows[0]["ms_per_step"]
    for r in rows:
        r["ratio_to_baseline"] = r["ms_per_step"] / base
        if device.type != "cuda" and args.mode == "sequential":
            r["process_maxrss_note"] = "cumulative over all methods run so far in this process"
    table = markdown_table(rows, device.type, args.mode)
    print(table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"conditions": conditions, "rows": rows, "table_md": table}, indent=2))
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
