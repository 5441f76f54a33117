"""Run a job by its kind: the one place that knows every cell kind's executing module.

Kept apart from jobs.py (which every cell's code imports), so that this dispatch table is in
no cell's code version.
"""

from __future__ import annotations

import dataclasses
import json
import traceback
from typing import Callable

from ..errors import BenchError
from .jobs import Job, Outcome, now


def guarded(job: Job, body: Callable[[], Outcome]) -> Outcome:
    """Run `body`; any failure becomes a failed Outcome with a one-line error (never raises)."""
    from ..conditions import describe

    conditions = json.dumps(describe(_device(job.device)))
    try:
        return dataclasses.replace(body(), conditions=conditions, created=now())
    except KeyboardInterrupt:
        raise
    except BenchError as exc:
        return Outcome(job.key, "failed", error=str(exc), conditions=conditions, created=now())
    except Exception as exc:  # recorded, the matrix goes on
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return Outcome(job.key, "failed", error=detail, conditions=conditions, created=now())


def _device(name: str):
    import torch

    return torch.device(name)


def run_job(job: Job) -> Outcome:
    """Dispatch a job to the module that executes its kind."""
    if job.kind == "train":
        from .run_train import run_train as fn
    elif job.kind == "load":
        from .run_load import run_load as fn
    elif job.kind == "derive":
        from .run_derive import run_derive as fn
    elif job.kind == "eval":
        from .run_eval import run_eval as fn
    else:
        raise BenchError(f"unknown job kind {job.kind!r}")
    return guarded(job, lambda: fn(job))
