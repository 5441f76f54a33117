"""Kill soak: SIGKILL a matrix run at random moments, rerun it to completion, compare with an
uninterrupted run.

    python -m benchmarks.faults.kill_soak --kills 20 [--seed 0] [--matrix FILE] [--threads 1]
        [--workdir DIR] [--out soak.json]

1. Runs the matrix (default: soak.yaml beside this file) once without interruption: the
   reference table, and how long each step took.
2. Starts `bench run` on a fresh results folder and kills it (SIGKILL to its process group),
   again and again, each time at a moment of one of four kinds, drawn in a shuffled, even mix:
   * training: at a uniformly random time inside a training segment (from the moment the
     trainer logs where it starts, up to the reference's training time of that cell);
   * evaluation: at a uniformly random time inside an evaluation step;
   * checkpoint write: the n-th checkpoint write, between moving the current checkpoint to
     checkpoint.prev.pt and moving the new one in (n random in 1..3);
   * store write: the n-th write transaction of the store, statements done, not committed
     (n random in 1..12: lease, result and release writes alike).
   The last two moments last microseconds, so the run kills itself there
   (`benchmarks.faults.failpoints`, a real SIGKILL). A kind with nothing left to hit (training
   once every model is trained) is replaced by one that has. A run that completes before its
   kill ends the round: its table is compared and a new round starts in a fresh folder.
3. After the last kill, reruns to completion and compares every round's final table with the
   reference (benchmarks.faults.compare): cells, set scores and per-image scores, exactly.

Prints kills survived, results lost, results duplicated, cells retrained from scratch (a
training segment that started at step 0 again, from train.log), checkpoint fallbacks and
leases left by killed runs and taken over, with the conditions measured while it ran: CPU model,
logical cores, torch threads per run, load average. Every run's output is kept in
<workdir>/logs/run-NN.log (run-00 is the reference). Exit code 0 when nothing was lost,
duplicated or changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import queue
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from .compare import Comparison, compare
from .failpoints import ENV as KILL_ENV

MATRIX = Path(__file__).with_name("soak.yaml")
ROOT = Path(__file__).resolve().parents[2]
KINDS = ("training", "evaluation", "checkpoint-write", "store-write")
_FAILPOINT_MAX = {"checkpoint-write": 3, "store-write": 12}
_STEP = re.compile(r"^\[\d+/\d+\] (.*)$")
_BENCH = "import sys; from benchmarks.cli import main; sys.exit(main())"


@dataclasses.dataclass
class Attempt:
    rc: int
    planned: str  # the kill kind planned ("" for a run to completion)
    detail: str  # e.g. "store-write:7", "after 1.31 s of training"
    landed: str  # where the kill landed; "" when the run was not killed
    seconds: float
    lines: list[str]
    step_seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # "[k/n] name" to the next line
    leases_left: int = 0  # leases of this run in the store once it was gone (a killed run cannot release its own)
    pid: int = 0


@dataclasses.dataclass
class Reference:
    step_seconds: dict[str, float]  # step name (as the run prints it) -> seconds
    train_seconds: dict[str, float]  # train cell key -> seconds of training
    train_steps: dict[str, int]  # train cell key -> its iterations
    train_keys: set[str]
    eval_keys: set[str]
    seconds: float


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults.kill_soak", description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs to deliver (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill schedule")
    parser.add_argument("--matrix", default=str(MATRIX), help="matrix YAML (default: soak.yaml beside this file)")
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads per run (default 1)")
    parser.add_argument("--workdir", default=None, help="keep every results folder here (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one run may take before the soak gives up")
    parser.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.kills < 1:
        parser.error("--kills must be at least 1")

    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    env.pop(KILL_ENV, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH", "")] if p])
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="kill-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    conditions = _conditions(env)
    loads = [os.getloadavg()[0]]
    rng = random.Random(args.seed)
    started = time.perf_counter()
    print(f"kill soak: {args.kills} kills, seed {args.seed}, matrix {args.matrix}, work folder {work}")
    print(f"conditions: CPU {conditions['cpu']} ({conditions['logical_cores']} logical cores), "
          f"{conditions['torch_threads']} torch thread(s) per run, load average {loads[0]:.2f} at start")

    ref_dir = work / "reference"
    _fresh(ref_dir)
    first = _attempt(ref_dir, args.matrix, env, None, None, rng, args.timeout)
    _keep_log(work, 0, first)
    if first.rc != 0:
        print("the uninterrupted reference run failed:\n" + "\n".join(first.lines[-20:]), file=sys.stderr)
        return 2
    reference = _reference(ref_dir, first)
    print(f"reference: {len(reference.train_keys)} models trained, {len(reference.eval_keys)} scores, "
          f"uninterrupted in {first.seconds:.1f} s")

    schedule = [KINDS[i % len(KINDS)] for i in range(args.kills)]
    rng.shuffle(schedule)
    rounds: list[dict] = []
    kills: list[Attempt] = []
    unexpected: list[Attempt] = []
    attempts: list[Attempt] = []
    round_no, round_dir, round_kills = 1, work / "round1", 0
    _fresh(round_dir)
    while len(kills) < args.kills:
        left = _left(round_dir, reference)
        if not left["train"] and not left["eval"]:  # the matrix finished: close the round
            rounds.append(_close_round(round_no, round_dir, ref_dir, round_kills))
            round_no, round_kills = round_no + 1, 0
            round_dir = work / f"round{round_no}"
            _fresh(round_dir)
            continue
        slot, kind = _next_kind(schedule, left, rng)
        attempt = _attempt(round_dir, args.matrix, env, kind, reference, rng, args.timeout)
        attempts.append(attempt)
        _keep_log(work, len(attempts), attempt)
        loads.append(os.getloadavg()[0])
        if attempt.rc == -signal.SIGKILL:
            schedule.pop(slot)
            kills.append(attempt)
            round_kills += 1
            print(f"kill {len(kills):2d}: {kind:<16} {attempt.detail:<28} landed: {attempt.landed:<12} "
                  f"its leases left: {attempt.leases_left}")
        elif attempt.rc == 0:
            print(f"run completed before its {kind} kill ({attempt.detail or 'not reached'})")
        else:
            unexpected.append(attempt)
            print(f"run exited with code {attempt.rc} (not a kill):\n  " + "\n  ".join(attempt.lines[-5:]))
    final = _attempt(round_dir, args.matrix, env, None, None, rng, args.timeout)
    attempts.append(final)
    _keep_log(work, len(attempts), final)
    if final.rc != 0:
        unexpected.append(final)
        print(f"the final rerun exited with code {final.rc}:\n  " + "\n  ".join(final.lines[-5:]))
    rounds.append(_close_round(round_no, round_dir, ref_dir, round_kills))
    loads.append(os.getloadavg()[0])

    segments = _segments([r["dir"] for r in rounds])
    figures = _figures(kills, rounds, segments, attempts, unexpected)
    conditions |= {"load_average_start": loads[0], "load_average_end": loads[-1], "load_average_min": min(loads),
                   "load_average_max": max(loads), "wall_seconds": round(time.perf_counter() - started, 1),
                   "reference_seconds": round(first.seconds, 1)}
    _print(figures, conditions, rounds)
    if args.out:
        Path(args.out).write_text(json.dumps({"figures": figures, "conditions": conditions,
                                              "rounds": [{k: v for k, v in r.items() if k != "dir"} for r in rounds],
                                              "kills": [dataclasses.asdict(k) | {"lines": k.lines[-3:]} for k in kills]},
                                             indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    ok = not (figures["results_lost"] or figures["results_duplicated"] or figures["values_differing"]
              or figures["unexpected_exits"])
    return 0 if ok else 1


# ------------------------------------------------------------------------------------ one run
def _attempt(results: Path, matrix: str, env: dict, kind: str | None, reference: Reference | None,
             rng: random.Random, timeout: float) -> Attempt:
    """One `bench run`, killed per `kind` (None: left to finish)."""
    env = dict(env)
    detail = ""
    if kind in _FAILPOINT_MAX:
        detail = f"{kind}:{rng.randint(1, _FAILPOINT_MAX[kind])}"
        env[KILL_ENV] = detail
    cmd = [sys.executable, "-c", _BENCH, "run", "--matrix", str(matrix), "--results-dir", str(results), "--quiet",
           "--no-report", "--device", "cpu"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env,
                            cwd=ROOT, start_new_session=True)
    lines: list[str] = []
    stamps: list[float] = []
    pipe: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read, args=(proc.stdout, pipe), daemon=True)
    reader.start()
    logs = _log_sizes(results)
    deadline: float | None = None
    target = ""
    landed = ""
    while True:
        try:
            line = pipe.get(timeout=0.01)
        except queue.Empty:
            line = ""
        now = time.perf_counter()
        if line is None:  # end of output
            break
        if line:
            lines.append(line.rstrip("\n"))
            stamps.append(now)
            step = _STEP.match(lines[-1])
            if kind == "evaluation" and deadline is None and step and step.group(1).startswith("eval "):
                wait = rng.uniform(0, reference.step_seconds.get(step.group(1), 1.0))
                deadline, target, detail = now + wait, step.group(1), f"after {wait:.2f} s of the step"
        if kind == "training" and deadline is None:
            started_key, from_step = _new_segment(results, logs)
            if started_key:  # a random moment of what is left of the reference's training time
                total = reference.train_steps.get(started_key, 0)
                left = (total - from_step) / total if total > from_step else 1.0
                wait = rng.uniform(0, reference.train_seconds.get(started_key, 1.0) * left)
                deadline, target, detail = now + wait, started_key, f"after {wait:.2f} s of training"
        if deadline is not None and now >= deadline and proc.poll() is None:
            landed = _landed(kind, target, lines, results)
            _kill(proc)
            deadline = float("inf")
        if now - start > timeout:
            _kill(proc)
            lines.append(f"(the soak killed this run after {timeout:.0f} s: too slow)")
            break
    proc.wait()
    reader.join(timeout=5)
    if proc.returncode == -signal.SIGKILL and not landed:
        landed = kind.replace("-", " ") if kind in _FAILPOINT_MAX else "?"
    steps = {m.group(1): stamps[i + 1] - stamps[i] for i, m in enumerate(map(_STEP.match, lines[:-1])) if m}
    return Attempt(proc.returncode, kind or "", detail, landed, time.perf_counter() - start, lines, steps,
                   _lease_count(results, proc.pid), proc.pid)


def _lease_count(results: Path, pid: int | None = None) -> int:
    """Leases in the results folder's store (of process `pid` only, when given)."""
    store = results / "results.sqlite"
    if not store.is_file():
        return 0
    conn = sqlite3.connect(store, timeout=30)
    try:
        if pid is None:
            return conn.execute("SELECT COUNT(*) FROM leases").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM leases WHERE pid = ?", (pid,)).fetchone()[0]
    except sqlite3.Error:  # killed before the schema was written
        return 0
    finally:
        conn.close()


def _read(stream, pipe: queue.Queue) -> None:
    for line in stream:
        pipe.put(line)
    pipe.put(None)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _log_sizes(results: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in (results / "runs").glob("*/train.log")}


def _new_segment(results: Path, seen: dict[Path, int]) -> tuple[str, int]:
    """(key, starting step) of a run folder whose train.log gained a segment start since `seen`."""
    for path in (results / "runs").glob("*/train.log"):
        size = path.stat().st_size
        if size > seen.get(path, 0):
            seen[path] = size
            last = path.read_text().splitlines()[-1:]
            parts = last[0].split("\t") if last else []
            if len(parts) >= 3 and parts[1] != "finish":
                return path.parent.name, int(parts[2])
    return "", 0


def _landed(kind: str, target: str, lines: list[str], results: Path) -> str:
    """Where an external kill is landing, from the run's last output and train logs."""
    if kind == "training":
        log = results / "runs" / target / "train.log"
        last = log.read_text().splitlines()[-1:] if log.is_file() else []
        return "after training (saving the model or storing it)" if last and "\tfinish\t" in last[0] else "training"
    last_step = max((i for i, l in enumerate(lines) if _STEP.match(l)), default=-1)
    if last_step == len(lines) - 1:
        return "evaluation" if lines[last_step].split("] ", 1)[1].startswith("eval ") else "another step"
    return "between steps (storing a result or taking a lease)"


# ------------------------------------------------------------------------------------ bookkeeping
def _keep_log(work: Path, number: int, attempt: Attempt) -> None:
    """work/logs/run-NN.log: the run's output, and how it ended."""
    (work / "logs").mkdir(exist_ok=True)
    head = f"# pid {attempt.pid}, exit code {attempt.rc}; planned kill: {attempt.planned or 'none'} " \
           f"{attempt.detail}; landed: {attempt.landed or '-'}; its leases left: {attempt.leases_left}\n"
    (work / "logs" / f"run-{number:02d}.log").write_text(head + "\n".join(attempt.lines) + "\n")


def _fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def _reference(ref_dir: Path, run: Attempt) -> Reference:
    conn = sqlite3.connect(ref_dir / "results.sqlite")
    try:
        rows = conn.execute("SELECT key, seconds, info_json FROM cells WHERE kind = 'train' AND status = 'ok'").fetchall()
        evals = {r[0] for r in conn.execute("SELECT key FROM cells WHERE kind = 'eval' AND status = 'ok'")}
    finally:
        conn.close()
    return Reference(dict(run.step_seconds), {k: float(secs or 1.0) for k, secs, _ in rows},
                     {k: int(json.loads(info or "{}").get("steps", 0)) for k, _, info in rows}, {r[0] for r in rows},
                     evals, run.seconds)


def _left(results: Path, reference: Reference) -> dict[str, bool]:
    store = results / "results.sqlite"
    if not store.is_file():
        return {"train": True, "eval": True}
    conn = sqlite3.connect(store, timeout=30)
    try:
        done = {r[0] for r in conn.execute("SELECT key FROM cells WHERE status = 'ok'")}
    except sqlite3.Error:
        return {"train": True, "eval": True}
    finally:
        conn.close()
    return {"train": bool(reference.train_keys - done), "eval": bool(reference.eval_keys - done)}


def _next_kind(schedule: list[str], left: dict[str, bool], rng: random.Random) -> tuple[int, str]:
    """(index in the schedule it stands for, kind): the first kind with something left to hit, or
    a random feasible kind in place of the first one (taken off the schedule once a kill lands)."""
    feasible = {"training": left["train"], "checkpoint-write": left["train"], "evaluation": left["eval"],
                "store-write": True}
    for i, kind in enumerate(schedule):
        if feasible[kind]:
            return i, kind
    return 0, rng.choice([k for k in KINDS if feasible[k]])


def _close_round(number: int, folder: Path, ref_dir: Path, kills: int) -> dict:
    result: Comparison = compare(ref_dir / "results.sqlite", folder / "results.sqlite")
    state = "equal to the reference" if result.equal else "DIFFERS from the reference"
    print(f"round {number}: {kills} kills, then completed; {result.compared} entries compared, {state}"
          + (f" (lost {len(result.lost)}, extra {len(result.extra)}, duplicated {result.duplicated}, "
             f"differing {len(result.differing)}, max |diff| {result.max_abs_diff:g})" if not result.equal else ""))
    return {"round": number, "dir": folder, "kills": kills, "compared": result.compared, "equal": result.equal,
            "leases_at_end": _lease_count(folder),
            "lost": list(result.lost), "extra": list(result.extra), "duplicated": result.duplicated,
            "differing": list(result.differing), "max_abs_diff": result.max_abs_diff}


def _segments(folders: list[Path]) -> dict[str, list[tuple[str, int]]]:
    """Per trained cell (round/key): its train.log segments as (event, starting step)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for folder in folders:
        for log in sorted((folder / "runs").glob("*/train.log")):
            events = []
            for line in log.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and parts[1] != "finish":
                    events.append((parts[1], int(parts[2])))
            found[f"{folder.name}/{log.parent.name}"] = events
    return found


def _figures(kills: list[Attempt], rounds: list[dict], segments: dict, attempts: list[Attempt],
             unexpected: list[Attempt]) -> dict:
    from_scratch = {"no checkpoint yet": 0, "checkpoints unusable": 0}
    cells_from_scratch = set()
    for cell, events in segments.items():
        for event, step in events[1:]:
            if step == 0:
                cells_from_scratch.add(cell)
                from_scratch["checkpoints unusable" if event == "restart" else "no checkpoint yet"] += 1
    survived = sum(r["kills"] for r in rounds if r["equal"])
    return {
        "kills": len(kills),
        "kills_by_kind": dict(Counter(k.planned for k in kills)),
        "kills_by_landing": dict(Counter(k.landed for k in kills)),
        "kills_survived": survived if not unexpected else 0,
        "rounds": len(rounds),
        "results_compared": sum(r["compared"] for r in rounds),
        "results_lost": sum(len(r["lost"]) for r in rounds),
        "results_duplicated": sum(r["duplicated"] + len(r["extra"]) for r in rounds),
        "values_differing": sum(len(r["differing"]) for r in rounds),
        "max_abs_diff": max((r["max_abs_diff"] for r in rounds), default=0.0),
        "cells_retrained_from_scratch": len(cells_from_scratch),
        "restarts_from_step_0": from_scratch,
        "checkpoint_fallbacks": sum(e == "fallback" for events in segments.values() for e, _ in events),
        "resumes_from_checkpoint": sum(e in ("resume", "fallback") for events in segments.values() for e, _ in events),
        "kills_leaving_a_lease": sum(k.leases_left > 0 for k in kills),
        "leases_taken_over": sum(sum("taking over" in line for line in a.lines) for a in attempts),
        "kills_whose_lease_was_taken_over": sum(
            any(re.search(rf"^    taking over .* pid {k.pid} \(", line) for a in attempts for line in a.lines)
            for k in kills),
        "leases_at_end": sum(r["leases_at_end"] for r in rounds),
        "unexpected_exits": len(unexpected),
        "runs": len(attempts),
    }


def _print(f: dict, c: dict, rounds: list[dict]) -> None:
    print()
    print(f"kills survived:               {f['kills_survived']} of {f['kills']} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(f['kills_by_kind'].items()))})")
    print(f"  landed:                     {', '.join(f'{k} {v}' for k, v in sorted(f['kills_by_landing'].items()))}")
    print(f"results lost:                 {f['results_lost']} of {f['results_compared']} compared "
          f"({f['rounds']} round{'s' if f['rounds'] != 1 else ''})")
    print(f"results duplicated:           {f['results_duplicated']}")
    print(f"values differing:             {f['values_differing']} (max |diff| {f['max_abs_diff']:g})")
    print(f"cells retrained from scratch: {f['cells_retrained_from_scratch']} "
          f"(restarts at step 0: {f['restarts_from_step_0']['no checkpoint yet']} killed before the cell's first "
          f"checkpoint, {f['restarts_from_step_0']['checkpoints unusable']} with unusable checkpoints)")
    print(f"resumed from a checkpoint:    {f['resumes_from_checkpoint']} "
          f"(of which from checkpoint.prev.pt: {f['checkpoint_fallbacks']})")
    print(f"leases left by kills:         {f['kills_leaving_a_lease']} of {f['kills']} kills left their lease; "
          f"{f['kills_whose_lease_was_taken_over']} of those taken over by a later run "
          f"({f['leases_taken_over']} takeovers in all), {f['leases_at_end']} left at the end")
    print(f"unexpected exits:             {f['unexpected_exits']} ({f['runs']} runs in all)")
    print(f"conditions: CPU {c['cpu']}, {c['logical_cores']} logical cores, {c['torch_threads']} torch thread(s) "
          f"per run; load average {c['load_average_start']:.2f} at start, {c['load_average_end']:.2f} at end "
          f"(min {c['load_average_min']:.2f}, max {c['load_average_max']:.2f} between runs); python "
          f"{c['python']}, torch {c['torch']}; wall time {c['wall_seconds']:.0f} s "
          f"(uninterrupted reference run {c['reference_seconds']:.0f} s)")


def _conditions(env: dict) -> dict:
    """CPU model, logical cores, and the torch threads and versions a run gets (asked of a child
    process with the runs' environment: this process may have imported torch with other settings)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = subprocess.run([sys.executable, "-c", "import platform, torch; "
                            "print(torch.get_num_threads(), torch.__version__, platform.python_version())"],
                           capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    threads, torch_version, python = probe.stdout.split()
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "torch_threads": int(threads), "python": python,
            "torch": torch_version}


if __name__ == "__main__":
    raise SystemExit(main())
