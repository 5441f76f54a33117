"""Execute evaluation cells of one model on one test set: super-resolve once, score each metric.

`spec`: dataset, scale, metrics [{key, metric}], optional save_dir / hr_save_dir (SR outputs and
modcropped references as PNG, e.g. for a DMOS study).
"""

from __future__ import annotations

from pathlib import Path

import torch

from data_manifest import dataset_info, display_name

from ..errors import MissingFileError
from ..evaluate import evaluate_model
from ..model_files import load_model
from .jobs import Job, Outcome


def run_eval(job: Job) -> Outcome:
    spec = job.spec
    model = load_model(job.inputs["model"])
    metrics = [m["metric"] for m in spec["metrics"]]
    keys = {m["metric"]: m["key"] for m in spec["metrics"]}
    save_dir = Path(spec["save_dir"]) if spec.get("save_dir") else None
    hr_dir = Path(spec["hr_save_dir"]) if spec.get("hr_save_dir") else None
    try:
        set_scores, image_scores = evaluate_model(model, int(spec["scale"]), [spec["dataset"]], metrics,
                                                  job.data_dir, torch.device(job.device), save_dir=save_dir,
                                                  progress=job.progress, hr_save_dir=hr_dir)
    except MissingFileError as exc:
        if not dataset_info(spec["dataset"]).user_supplied:
            raise
        # a set only its owner can supply (no download): "not available", retried on the next run
        note = f"not available: {exc}"
        return Outcome(job.key, "ok", scores=[{"key": keys[m], "metric": m, "dataset": display_name(spec["dataset"]),
                                               "value": None, "note": note, "images": []} for m in metrics])
    scores = []
    for s in set_scores:
        images = [(i.image, i.value) for i in image_scores if i.metric == s.metric]
        scores.append({"key": keys[s.metric], "metric": s.metric, "dataset": s.dataset, "value": s.value,
                       "note": s.note, "images": images})
    return Outcome(job.key, "ok", scores=scores)
