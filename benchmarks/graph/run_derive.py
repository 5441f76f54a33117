"""Execute a derive cell: a registered transform (e.g. prune) of another model, saved with its shapes."""

from __future__ import annotations

import json
from pathlib import Path

from ..archs import count_params
from ..derive import apply_transform
from ..model_files import load_model, save_model
from .jobs import Job, Outcome, model_path


def run_derive(job: Job) -> Outcome:
    source = load_model(job.inputs["source"])
    model, info = apply_transform(job.spec["transform"], source, **json.loads(job.spec["params_json"]))
    path = save_model(model, model_path(Path(job.run_dir), ""))
    return Outcome(job.key, "ok", params=count_params(model), outputs={"": str(path)}, info=info)
