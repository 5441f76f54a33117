"""Matrix throughput per executor: wall time, cells/s and the ratio to ideal for N workers.

    python -m benchmarks.perf.matrix_throughput [--executors inline,local,ray,slurm-local]
        [--workers 1,2] [--iterations 20] [--seeds 2] [--threads 1] [--json FILE]

Runs a small smoke matrix (a tiny EDSR teacher; a student without KD and with FAKD from that
teacher; bicubic; x2 and x3; `--seeds` seeds) from scratch into a fresh temporary results folder
per executor and worker count. `inline` always runs first: it is the sequential time T1, and
each of its jobs is timed, which gives the critical path C (the longest chain of job times
through the plan's dependencies, e.g. teacher -> FAKD student -> its eval). The ideal for N
workers is max(T1 / N, C); `ratio` = ideal / measured wall time (1.0 = no overhead, no idling).
`slurm-local` is the Slurm executor on submitit's local cluster (one process per cell, no
scheduler). Ray's cluster start is excluded from the wall time and printed apart. Every worker
runs with `--threads` torch/OpenMP threads (OMP_NUM_THREADS, inherited by worker processes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

MATRIX = """
name: throughput
description: smoke matrix for the executor throughput benchmark
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: [2, 3]
seeds: {seeds}
default_profile: smoke
profiles:
  smoke: {{iterations: {iterations}, batch_size: 4, patch_size: 16, lr: 1.0e-3, checkpoint_every: {iterations}}}
students:
  s: {{arch: edsr, num_blocks: 1, num_feat: 8}}
teachers:
  t: {{arch: edsr, num_blocks: 2, num_feat: 16}}
methods:
  - {{method: baseline, label: Student}}
  - {{method: fakd, label: FAKD, teacher: t}}
references:
  - {{label: Bicubic, arch: bicubic}}
"""
EXECUTORS = ("inline", "local", "ray", "slurm-local")


class Timed:
    """Wraps an executor and records each job's wall time (the inline baseline's job costs)."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, {}
        self.batch = getattr(inner, "batch", None)

    def run(self, jobs):
        for job in jobs:
            start = time.perf_counter()
            for done, outcome in self.inner.run([job]):
                self.seconds[done.key] = time.perf_counter() - start
                yield done, outcome


def critical_path(steps, seconds: dict[str, float]) -> float:
    """The longest chain of job times through the steps' dependencies (steps in dependency order)."""
    finish: dict[str, float] = {}
    for step in steps:
        finish[step.key] = max((finish.get(d, 0.0) for d in step.deps), default=0.0) + seconds.get(step.key, 0.0)
    return max(finish.values(), default=0.0)


def run_once(specs, executor, folder: Path) -> dict:
    from benchmarks.graph.plan import plan
    from benchmarks.runner import RunContext, run_matrix
    from benchmarks.store import ResultStore

    store = ResultStore(folder / "results.sqlite")
    todo = plan(specs, store)
    cells, _, _ = todo.counts()
    start = time.perf_counter()
    outcome = run_matrix(specs, store, RunContext(results_dir=folder, device="cpu", progress=False), executor=executor,
                         log=lambda _: None)
    wall = time.perf_counter() - start
    if outcome.failed:
        raise SystemExit("failed steps: " + "; ".join(outcome.failed))
    return {"wall_s": wall, "cells": cells, "jobs": len(todo.todo()), "steps": todo.todo()}


def make(name: str, workers: int, slurm_dir: Path):
    from benchmarks.graph.executors import SequentialExecutor, SubprocessExecutor

    if name == "inline":
        return SequentialExecutor()
    if name == "local":
        return SubprocessExecutor(workers=workers)
    if name == "ray":
        from benchmarks.graph.executor_ray import RayExecutor

        return RayExecutor(max_in_flight=workers, device="cpu")
    from benchmarks.graph.executor_slurm import SlurmExecutor

    return SlurmExecutor(slurm_dir, cluster="local", max_in_flight=workers, poll_s=0.2, time_min=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.matrix_throughput",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--executors", default="inline,local,ray")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads per worker")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    import torch
    import yaml

    from benchmarks.matrix import parse_matrix
    from benchmarks.reporting import with_teachers

    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.executors.split(",") if n.strip()]
    unknown = sorted(set(names) - set(EXECUTORS))
    if unknown:
        raise SystemExit(f"unknown executor(s) {', '.join(unknown)}; choose from {', '.join(EXECUTORS)}")
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    text = MATRIX.format(seeds=list(range(args.seeds)), iterations=args.iterations)
    specs = with_teachers(parse_matrix(yaml.safe_load(text), source="<throughput>").expand())
    load_before = os.getloadavg()
    print(f"machine: {os.cpu_count()} logical cores, load average {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}; {platform.platform()}; torch {torch.__version__}, "
          f"{args.threads} thread(s) per worker")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        timed = Timed(make("inline", 1, Path(tmp)))
        base = run_once(specs, timed, Path(tmp) / "inline")
        t1, crit = base["wall_s"], critical_path(base.pop("steps"), timed.seconds)
        print(f"matrix: {base['cells']} cells in {base['jobs']} jobs, {args.iterations} iterations per training; "
              f"sequential T1 {t1:.1f}s, critical path C {crit:.1f}s (from the inline job times)")
        rows.append({"executor": "inline", "workers": 1, **base, "ideal_s": t1})
        ray = None
        for name in names:
            if name == "inline":
                continue
            extra = ""
            if name == "ray" and ray is None:
                import ray

                start = time.perf_counter()
                ray.init(num_cpus=max(counts), include_dashboard=False, log_to_driver=False)
                extra = f" (cluster start {time.perf_counter() - start:.1f}s, not counted)"
            for n in counts:
                folder = Path(tmp) / f"{name}-{n}"
                folder.mkdir()
                result = run_once(specs, make(name, n, folder / "slurm"), folder)
                result.pop("steps")
                rows.append({"executor": name, "workers": n, **result, "ideal_s": max(t1 / n, crit)})
            if extra:
                print(f"ray{extra}")
        if ray is not None:
            ray.shutdown()
    print(f"{'executor':<12} {'workers':>7} {'wall s':>8} {'cells/s':>8} {'ideal s':>8} {'ratio':>6}")
    for row in rows:
        row["cells_per_s"] = row["cells"] / row["wall_s"]
        row["ratio"] = row["ideal_s"] / row["wall_s"]
        print(f"{row['executor']:<12} {row['workers']:>7} {row['wall_s']:>8.1f} {row['cells_per_s']:>8.2f} "
              f"{row['ideal_s']:>8.1f} {row['ratio']:>6.2f}")
    load_after = os.getloadavg()
    print(f"ideal = max(T1 / workers, critical path); ratio = ideal / wall. Load average after: "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "T1_s": t1, "critical_path_s": crit,
                                               "cores": os.cpu_count(), "load_before": load_before,
                                               "load_after": load_after, "threads": args.threads}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
