"""LPIPS through the `lpips` package (Zhang et al. 2018, v0.1): `lpips` (AlexNet), `lpips-vgg`.

RGB input scaled to [-1, 1] (lpips' `normalize=True`), after shaving `crop_border` pixels; one
value per image pair, lower is better. The linear layers ship in the lpips wheel; the trunk
(torchvision ImageNet weights) is resolved by `weights` and handed to torchvision via
`weights.hub_checkpoints`.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import Metric, MetricResult, register_metric
from . import runtime, weights


class LPIPS(Metric):
    lower_better = True
    needs_ref = True
    value_range = (0.0, 1.0)
    tolerance = 0.01
    batch = 8

    def __init__(self, name: str, net: str):
        self.name = name
        self.net = net

    def model(self):
        trunk, lin = weights.WEIGHT_FILES[self.name]
        trunk_path = weights.resolve(self.name, trunk)
        lin_path = weights.resolve(self.name, lin)
        dev = runtime.device()

        def build():
            import lpips

            with weights.hub_checkpoints({trunk.filename: trunk_path}), warnings.catch_warnings():
                # lpips calls torchvision's deprecated `pretrained=True`: same weights, noisy
                warnings.filterwarnings("ignore", message=".*(pretrained|weight enum).*", category=UserWarning)
                m = lpips.LPIPS(net=self.net, model_path=str(lin_path), verbose=False)
            return m.to(dev).eval()

        return runtime.cached_model(("lpips", self.net, str(trunk_path), str(lin_path), str(dev)),
                                    build)

    def score(self, srs, hrs, crop_border: int = 0) -> MetricResult:
        import torch

        if hrs is None:
            raise ValueError(f"metric {self.name!r} needs reference images")
        model = self.model()
        dev = runtime.device()
        a = [runtime.shave(runtime.as_rgb(s), crop_border) for s in srs]
        b = [runtime.shave(runtime.as_rgb(h), crop_border) for h in hrs]
        for x, y in zip(a, b):
            if x.shape != y.shape:
                raise ValueError(f"image shapes differ: SR {x.shape} vs HR {y.shape}")
        out = np.full(len(a), np.nan)
        for idx in runtime.shape_batches([x.shape for x in a], self.batch):
            with torch.no_grad():
                v = model(runtime.to_tensor([a[i] for i in idx], dev),
                          runtime.to_tensor([b[i] for i in idx], dev), normalize=True)
            out[idx] = v.reshape(-1).double().cpu().numpy()
        return MetricResult(tuple(float(v) for v in out),
                            float(out.mean()) if len(out) else float("nan"),
                            f"LPIPS v0.1 {self.net}, RGB, crop {crop_border}")


register_metric(LPIPS("lpips", "alex"))
register_metric(LPIPS("lpips-vgg", "vgg"))
