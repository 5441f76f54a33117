"""Execute a load cell: a checkpoint (or a parameter-free arch) into an srkd-bench model file."""

from __future__ import annotations

from pathlib import Path

from ..archs import build_arch, count_params
from ..archs.zoo import load_pretrained
from ..model_files import save_model
from .jobs import Job, Outcome, model_path


def run_load(job: Job) -> Outcome:
    spec = job.spec
    scale = int(spec["scale"])
    if spec.get("weights"):
        model = load_pretrained(spec["arch"], spec["weights"], scale, **spec["options"])
    else:
        model = build_arch(spec["arch"], scale, **spec["options"])
    path = save_model(model, model_path(Path(job.run_dir), ""))
    return Outcome(job.key, "ok", params=count_params(model), outputs={"": str(path)},
                   info={"weights": spec.get("weights")})
