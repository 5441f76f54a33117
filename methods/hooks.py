"""Intermediate features by module path, through forward hooks (architectures stay untouched)."""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from benchmarks.errors import BenchError


class FeatureTap:
    """Records the outputs of the modules at `paths` (e.g. 'body.3') on every forward.

    A bad path fails at construction with the valid module names. `pop()` returns the
    features of the last forward and clears them, so stale features are never reused.
    """

    def __init__(self, model: nn.Module, paths: Sequence[str]):
        modules = dict(model.named_modules())
        self.paths = list(paths)
        self._features: dict[str, Tensor] = {}
        self._handles = []
        for path in self.paths:
            if path not in modules:
                top = [n for n in modules if n and "." not in n]
                raise BenchError(
                    f"feature path {path!r} not found in {type(model).__name__}; "
                    f"top-level modules: {', '.join(top)}"
                )
            self._handles.append(modules[path].register_forward_hook(self._hook(path)))

    def _hook(self, path: str):
        def record(_module: nn.Module, _inputs, output) -> None:
            self._features[path] = output

        return record

    def pop(self) -> dict[str, Tensor]:
        missing = [p for p in self.paths if p not in self._features]
        if missing:
            raise RuntimeError(f"no features recorded for {missing}; call the model first")
        features, self._features = self._features, {}
        return {p: features[p] for p in self.paths}

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
