"""SR outputs and HR references of stored models, for the report's visual comparisons.

An SR image comes from the PNG `bench run --save-images` wrote (runner.RunContext.sr_dir), or,
when none was saved, is made again: the model file the store records for the row, run on the
test image's LR input (official or MATLAB-bicubic, as in evaluation) and rounded to uint8 like
the evaluated output. HR references likewise: the saved modcropped PNG, else the test set.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import BenchError
from .graph.cells import cell_key
from .runner import HR_DIR, RunContext
from .spec import RunSpec
from .store import ResultStore

SAVED = "saved"
REGENERATED = "re-generated"


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


class ModelOutputs:
    """HR and SR images by (dataset, scale, image); see the module docstring."""

    def __init__(self, store: ResultStore, results_dir: Path, data_dir: str | None = None, device: str = "auto"):
        self.store = store
        self.ctx = RunContext(results_dir=Path(results_dir), data_dir=data_dir, device=device, progress=False)
        self._models: dict[str, object] = {}

    def _pair(self, dataset: str, scale: int, image: str):
        pairs = _pairs(dataset, scale, self.ctx.data_dir)
        for pair in pairs:
            if pair.name == image:
                return pair
        names = ", ".join(p.name for p in pairs[:6])
        raise BenchError(f"image {image!r} is not in test set {dataset} (e.g. {names})")

    def hr(self, dataset: str, scale: int, image: str) -> np.ndarray:
        """The modcropped HR reference."""
        from data_manifest.names import display_name

        saved = self.ctx.results_dir / HR_DIR / display_name(dataset) / f"x{scale}" / f"{image}.png"
        if saved.is_file():
            return _read_png(saved)
        return np.asarray(self._pair(dataset, scale, image).hr)

    def sr(self, spec: RunSpec, dataset: str, image: str) -> tuple[np.ndarray, str]:
        """The row's SR output of `image` and where it came from (SAVED or REGENERATED)."""
        from data_manifest.names import display_name

        saved = self.ctx.sr_dir(spec.model) / display_name(dataset) / f"x{spec.scale}" / f"{image}.png"
        if saved.is_file():
            return _read_png(saved), SAVED
        from .evaluate import super_resolve

        model = self._model(spec)
        lr = self._pair(dataset, spec.scale, image).lr
        return super_resolve(model, lr, self.ctx.torch_device()), REGENERATED

    def _model(self, spec: RunSpec):
        from .model_files import load_model

        record = self.store.record(cell_key(spec.cell))
        if record is None or record.status != "ok":
            raise BenchError(f"row {spec.label!r} x{spec.scale} has no finished model in {self.store.path}")
        path = record.outputs.get(spec.model.output)
        if path is None or not Path(path).is_file():
            raise BenchError(f"row {spec.label!r} x{spec.scale}: model file {path or '(none recorded)'} is missing")
        if path not in self._models:
            self._models[path] = load_model(path).to(self.ctx.torch_device()).eval()
        return self._models[path]


@lru_cache(maxsize=8)
def _pairs(dataset: str, scale: int, data_dir: str | None):
    from data_manifest import load_eval_set

    return tuple(load_eval_set(dataset, scale, data_dir))
