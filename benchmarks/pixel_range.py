"""Training in [0, 255]: EDSR-PyTorch's `rgb_range 255` for networks whose contract is [0, 1].

EDSR-PyTorch and the FAKD code feed the network uint8 values as floats in [0, 255]; the EDSR
MeanShift subtracts 255 x the DIV2K mean, and every loss is computed on [0, 255] tensors. So a
pixel L1 is 255 x its [0, 1] value, while normalised terms (FAKD's affinities, the contrastive
ratios of contrastive KD and CLSD) are not: their weight relative to L1 depends on the range.

This harness's models map [0, 1] to [0, 1] (benchmarks/archs); an arch with an `rgb_range`
option (EDSR, RCAN) scales its input up to that range before its first layer and its output
back down, so its convolutions see exactly the values of the official code. Training at
`pixel_range` R therefore needs two things, both done here:

* the arch is built with `rgb_range = R` (`arch_options`), unless its options give one;
* during training the networks take and return [0, R] tensors (`pixel_io`): a forward
  pre-hook divides the input by R, a forward hook multiplies the output by R, so every image a
  method sees (student, teacher and peer outputs, the batch from the batch source) is in [0, R] and
  its losses are the official code's. Module paths (feature taps) are unchanged. The hooks go
  when the block ends, so the saved student keeps the [0, 1] contract and is evaluated through
  the usual path; by positive homogeneity it computes the same function as its [0, 1] twin.

Networks a method builds itself (projection heads use `io_range` of the student they extend; a
VGG or a discriminator inside a method) see [0, R] images: R = 255 is meant for the
EDSR-family reproductions, whose losses are written for any range.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any, Iterable, Iterator, Mapping

from torch import nn

from .archs import ARCHS
from .errors import BenchError

_ATTR = "_bench_io_range"


def arch_options(arch: str, options: Mapping[str, Any], pixel_range: int) -> dict[str, Any]:
    """`options` with `rgb_range = pixel_range` when the arch has that option and none is given."""
    out = dict(options)
    if pixel_range != 1 and "rgb_range" not in out and \
            "rgb_range" in inspect.signature(ARCHS.get(arch)).parameters:
        out["rgb_range"] = pixel_range
    return out


def check_same_range(source: nn.Module, target: nn.Module, what: str) -> None:
    """Copying weights between networks of different `rgb_range` would silently change the
    function (the mean shifts and biases live on different scales): a one-line error instead."""
    a, b = getattr(source, "rgb_range", None), getattr(target, "rgb_range", None)
    if a is not None and b is not None and float(a) != float(b):
        raise BenchError(f"{what}: weights for rgb_range {a:g} cannot start a network trained at "
                         f"rgb_range {b:g} (profile pixel_range); train them at the same range")


def io_range(model: nn.Module) -> float:
    """The range `model` currently takes and returns images in (1 outside `pixel_io`)."""
    return float(getattr(model, _ATTR, 1.0))


@contextlib.contextmanager
def pixel_io(models: Iterable[nn.Module], pixel_range: int, inputs_only: Iterable[nn.Module] = ()) -> Iterator[None]:
    """While the block runs, each of `models` takes and returns images in [0, pixel_range];
    each of `inputs_only` (an image classifier, e.g. a discriminator) takes them."""
    if pixel_range == 1:
        yield
        return
    scale = float(pixel_range)
    handles = []
    touched = []

    def scale_in(_module, args):
        return (args[0] / scale, *args[1:])

    def scale_out(_module, _args, output):
        return output * scale

    for model in dict.fromkeys(models):
        handles.append(model.register_forward_pre_hook(scale_in))
        handles.append(model.register_forward_hook(scale_out))
        setattr(model, _ATTR, scale)
        touched.append(model)
    for model in dict.fromkeys(inputs_only):
        handles.append(model.register_forward_pre_hook(scale_in))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
        for model in touched:
            if hasattr(model, _ATTR):
                delattr(model, _ATTR)
