"""Stand-in weight files of the right shapes, for plumbing tests and timing — NOT real weights.

Values are random (seeded) or constant, so metrics computed with them are meaningless; they
only let the code paths (file resolution, library loading, batching, devices) run where the
real files cannot be downloaded, and give representative run times (compute does not depend
on the values). Tensors are stored as expanded views of small random blocks, so a stand-in
for a 233 MB checkpoint is a few MB on disk.

The NRQM stand-in is a valid NRQM_model.mat whose forests are single leaves: its NRQM is the
constant `NRQM_STANDIN_VALUE` for every image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import weights

NRQM_STANDIN_VALUE = 5.0


def _compact_state_dict(module_factory, seed: int = 0) -> dict:
    """Random tensors with the state-dict shapes of the model built by `module_factory`.

    Built on the meta device (no memory, no init cost). Conv kernels are random per
    (out, in) channel pair and constant over the kernel window (scaled so that activations keep
    their scale); linear layers vary along the output dim only (expanded columns: tiny files);
    BatchNorm is the identity, biases are zero.
    """
    import torch

    with torch.device("meta"):
        model = module_factory()
    g = torch.Generator().manual_seed(seed)
    out = {}
    for key, t in model.state_dict().items():
        if not t.dtype.is_floating_point:
            out[key] = torch.zeros(t.shape, dtype=t.dtype)
        elif key.endswith("running_var") or (t.dim() == 1 and key.endswith(".weight")):
            out[key] = torch.ones(t.shape)
        elif t.dim() == 4:
            # constant over the window: a smooth input sums coherently, so scale by 1/area
            area = t.shape[2] * t.shape[3]
            block = torch.randn(t.shape[0], t.shape[1], 1, 1, generator=g) * np.sqrt(2.0 / t.shape[1]) / area
            out[key] = block.expand(t.shape)
        elif t.dim() >= 2:
            fan_in = int(np.prod(t.shape[1:]))
            col = torch.randn((t.shape[0],) + (1,) * (t.dim() - 1), generator=g) / np.sqrt(fan_in)
            out[key] = col.expand(t.shape)
        else:
            out[key] = torch.zeros(t.shape)
    return out


def write_alexnet(path: Path) -> Path:
    import torch
    import torchvision

    torch.save(_compact_state_dict(lambda: torchvision.models.alexnet(weights=None)), path)
    return path


def write_vgg16(path: Path) -> Path:
    import torch
    import torchvision

    torch.save(_compact_state_dict(lambda: torchvision.models.vgg16(weights=None)), path)
    return path


def write_fid_inception(path: Path) -> Path:
    """pytorch-fid's FID Inception state dict shapes (torchvision Inception3, 1008 classes)."""
    import torch
    from pytorch_fid.inception import _inception_v3

    torch.save(_compact_state_dict(
        lambda: _inception_v3(num_classes=1008, aux_logits=False, weights=None)), path)
    return path


def write_nrqm(path: Path, value: float = NRQM_STANDIN_VALUE) -> Path:
    """NRQM_model.mat in the layout pyiqa reads: model.linear (4x1), model.rf{1..3} forests.

    Each forest has 2 one-node trees (a leaf predicting 1.0); linear = [value, 0, 0, 0], so the
    NRQM of every image is `value`.
    """
    import scipy.io

    def forest():
        one = np.ones((1, 2))
        return {
            "lDau": np.zeros((1, 2), np.int32),  # 0 -> k = -1: stop at the root
            "rDau": np.zeros((1, 2), np.int32),
            "unused2": np.zeros((1, 2)),
            "unused3": np.zeros((1, 2)),
            "cutValue": np.zeros((1, 2)),
            "nodePred": one,                   # leaf prediction
            "bestAttr": np.ones((1, 2), np.int32),  # 1-based feature index
        }

    rf = np.empty((1, 3), dtype=object)
    for i in range(3):
        rf[0, i] = forest()
    model = {"linear": np.array([[value], [0.0], [0.0], [0.0]]), "rf": rf}
    scipy.io.savemat(str(path), {"model": model})
    return path


def write_all(directory: Path, files: tuple[str, ...] | None = None) -> Path:
    """Write stand-ins of the named files (default: every missing-here file) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    writers = {
        weights.ALEXNET.filename: write_alexnet,
        weights.VGG16.filename: write_vgg16,
        weights.FID_INCEPTION.filename: write_fid_inception,
        weights.NRQM_MODEL.filename: write_nrqm,
    }
    for name in files or tuple(writers):
        writers[name](directory / name)
    return directory
