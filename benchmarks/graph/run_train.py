"""Execute a train cell: build the student, apply `init`, train the method, save its networks.

Runs from the job alone (spec + input model files), so it works the same in this process, a
subprocess or a remote worker.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from torch import nn

from data_manifest import load_train_images
from data_manifest.lr_cache import lr_cache_dir
from methods import METHODS, build_method
from methods.base import TrainContext

from ..archs import build_arch, count_params
from ..archs.zoo import load_state_dict_strict
from ..distributed import from_env, local_device
from ..model_files import load_model, save_model
from ..pixel_range import arch_options, check_same_range, pixel_io
from ..profile import TrainProfile
from ..sparsity import keep_zeros, same_shapes
from ..train import train
from ..trainer_data import TrainPairs, make_batch_source
from .jobs import Job, Outcome, model_path


def run_train(job: Job) -> Outcome:
    spec = job.spec
    profile = TrainProfile(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec["profile"].items()})
    scale, seed = int(spec["scale"]), int(spec["seed"])
    dist = from_env(torch.device(job.device).type)  # several ranks under torchrun / srun
    device = torch.device(local_device(job.device, dist))
    # The seed comes first and the inputs are rebuilt before the student (in role order), as the
    # harness has always done, so a student's initialisation is the same as in earlier versions.
    torch.manual_seed(seed)
    inputs = {role: load_model(path).to(device) for role, path in sorted(job.inputs.items())}
    student = build_arch(spec["arch"], scale, **arch_options(spec["arch"], spec["options"], profile.pixel_range))
    student, init_note = _start_from_init(student, inputs.get("init"), job.inputs.get("init", ""))
    ctx = TrainContext(scale=scale, lr_patch=profile.patch_size, batch_size=profile.batch_size,
                       device=str(device), iterations=profile.iterations)
    fields = [f.name for f in dataclasses.fields(METHODS.get(spec["method"]).Config)]
    cfg = profile.cfg_for(fields, json.loads(spec["cfg_json"]))
    run_dir = Path(job.run_dir)
    # pixel_range 255: every image the method sees is in [0, 255] while it is built and trained
    images = [student] + [net for role, net in inputs.items() if role in ("teacher", "peer")]
    with pixel_io(images, profile.pixel_range, inputs_only=[inputs[r] for r in ("discriminator",) if r in inputs]):
        method = build_method(spec["method"], student, cfg, ctx=ctx, inputs=inputs)
        pairs = TrainPairs.build(load_train_images(spec["train_set"], job.data_dir), scale, profile.patch_size,
                                 cache_dir=lr_cache_dir(job.data_dir))
        source = make_batch_source(pairs, patch_size=profile.patch_size, scale=scale, augment=profile.augment,
                                   seed=seed, batch_size=profile.batch_size, pixel_range=profile.pixel_range,
                                   device=device, source=profile.data_source,
                                   workers=None if profile.data_workers < 0 else profile.data_workers,
                                   rank=dist.rank, world_size=dist.world_size)
        try:
            outcome = train(method, source, profile, run_dir, device, job.progress,
                            desc=f"{job.label} x{scale} s{seed}", dist=dist)
        finally:
            source.close()
    outputs: dict[str, str] = {}
    if not dist.is_main:  # rank 0 saves the models and reports the outcome
        return Outcome(job.key, "ok", seconds=outcome.seconds, info={"rank": dist.rank})
    for i, (name, net) in enumerate(method.saved_models().items()):
        outputs[name] = str(save_model(net, model_path(run_dir, name)))
        if i == 0:
            outputs[""] = outputs[name]  # the main model, what a plain reference to the cell means
    return Outcome(job.key, "ok", seconds=outcome.seconds, params=count_params(method.sr_model()),
                   outputs=outputs, info={"steps": outcome.steps, "last_losses": outcome.last_losses,
                                          "sr_models": list(method.sr_models()), "resumed": outcome.resumed,
                                          "precision": outcome.precision, "data": outcome.data,
                                          "processes": dist.world_size, **({"init": init_note} if init_note else {})})


def _start_from_init(student: nn.Module, init: nn.Module | None, path: str) -> tuple[nn.Module, str]:
    """The student a cell trains: the fresh arch with the init's weights; a structurally pruned
    init (built as the same arch and options, now with fewer channels) is trained as it is. The zeros of an unstructured-pruned
    init stay zero (masked). Returns the student and a note for the run's record ("" when plain)."""
    if init is None:
        return student, ""
    where = f"init weights ({path})"
    check_same_range(init, student, where)
    note = ""
    derived = getattr(init, "arch_info", None) == getattr(student, "arch_info", None)  # same arch and options
    if derived and not same_shapes(init, student):  # channels pruned away; any other mismatch fails below
        student, note = init.train(), f"the init model's pruned structure, {count_params(init):,} parameters"
    else:
        load_state_dict_strict(student, init.state_dict(), where)
    kept = keep_zeros(student)
    if kept:
        note += ("; " if note else "") + f"{kept:,} pruned (zero) weights of the init kept at zero"
    return student, note
