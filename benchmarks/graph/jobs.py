"""What an executor hands a worker and gets back: plain JSON, no shared Python state.

A `Job` carries one cell's own fields, the paths of its input models and where to write; a
worker (this process, a subprocess, a remote task) runs it with `dispatch.run_job` and returns
an `Outcome`, which only the driver writes to the store. Every cell's code imports this module,
so it stays small and free of behaviour.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any


MODELS_DIR = "models"  # under a cell's run folder: <output>.pt
MAIN_FILE = "main.pt"


@dataclasses.dataclass(frozen=True)
class Job:
    key: str  # for an eval job: the model reference's key
    kind: str  # "train" | "load" | "derive" | "eval"
    spec: dict[str, Any]  # the cell's own fields (kind-specific)
    inputs: dict[str, str]  # role -> model file
    run_dir: str
    data_dir: str | None = None
    device: str = "cpu"
    progress: bool = False
    label: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Job":
        return cls(**json.loads(text))


@dataclasses.dataclass(frozen=True)
class Outcome:
    key: str
    status: str  # "ok" | "failed"
    error: str = ""
    seconds: float | None = None
    params: int = 0
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)  # output name -> model file
    scores: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # eval: per metric
    conditions: str = "{}"
    created: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Outcome":
        return cls(**json.loads(text))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def model_path(run_dir: str | Path, output: str) -> Path:
    return Path(run_dir) / MODELS_DIR / (f"{output}.pt" if output else MAIN_FILE)
