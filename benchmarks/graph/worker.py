"""Run one job in a fresh process: `python -m benchmarks.graph.worker JOB.json OUTCOME.json [--plugin P]`.

The job file is all the worker knows (cell fields, input model paths, folders); the outcome
is written as JSON for the driver, which alone writes the result store.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .dispatch import run_job
from .jobs import Job


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.graph.worker")
    parser.add_argument("job")
    parser.add_argument("outcome")
    parser.add_argument("--plugin", action="append", default=[])
    args = parser.parse_args(argv)
    from methods import load_plugin

    for plugin in args.plugin:
        load_plugin(plugin)
    outcome = run_job(Job.from_json(Path(args.job).read_text()))
    tmp = Path(args.outcome).with_suffix(".tmp")
    tmp.write_text(outcome.to_json())
    os.replace(tmp, args.outcome)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
