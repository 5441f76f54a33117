"""teacher-init: the slicing rule (blocks, channels, upsampler groups, mean shift/rgb_range,
res_scale) checked functionally and element by element."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmarks.archs import build_arch
from benchmarks.errors import BenchError
from methods import build_method


def test_same_size_student_reproduces_the_teacher_across_range_and_res_scale():
    torch.manual_seed(0)
    teacher = build_arch("edsr", 2, num_blocks=3, num_feat=8, res_scale=0.1, rgb_range=255.0)
    student = build_arch("edsr", 2, num_blocks=3, num_feat=8)  # res_scale 1, rgb_range 1
    method = build_method("teacher-init", student, {}, teacher=teacher)
    x = torch.rand(2, 3, 6, 6)
    with torch.no_grad():
        assert torch.allclose(method.student(x), teacher(x), atol=1e-5)


def _dead_upper_channels(model: nn.Module, keep: int, full: int) -> None:
    """Zero every weight from channels >= keep into channels < keep (upsampler: into groups
    < keep), so the first `keep` channels form a self-contained sub-network."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d) and m.in_channels == full:
                rows = m.out_channels * keep // full if m.out_channels != 3 else 3
                m.weight[:rows, keep:] = 0


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_channel_slice_is_the_teachers_sub_network(scale):
    torch.manual_seed(0)
    teacher = build_arch("edsr", scale, num_blocks=2, num_feat=16)
    _dead_upper_channels(teacher, 8, 16)
    student = build_arch("edsr", scale, num_blocks=2, num_feat=8)
    build_method("teacher-init", student, {}, teacher=teacher)
    x = torch.rand(2, 3, 5, 5)
    with torch.no_grad():
        assert torch.allclose(student(x), teacher(x), atol=1e-5)
    up_s, up_t = student.tail[0][0].weight, teacher.tail[0][0].weight  # (f*f*c, c, 3, 3)
    f2 = up_t.shape[0] // 16
    assert torch.equal(up_s, up_t.view(16, f2, 16, 3, 3)[:8, :, :8].reshape(8 * f2, 8, 3, 3))


def test_first_blocks_and_the_trunk_conv(tiny_teacher, tiny_student):
    build_method("teacher-init", tiny_student, {}, teacher=tiny_teacher)  # 6x16 -> 4x8
    s, t = tiny_student.state_dict(), tiny_teacher.state_dict()
    assert torch.equal(s["body.3.body.0.weight"], t["body.3.body.0.weight"][:8, :8])
    assert torch.equal(s["body.4.weight"], t["body.6.weight"][:8, :8])  # trunk <- trunk
    assert torch.equal(s["body.4.bias"], t["body.6.bias"][:8])
    assert torch.equal(s["head.0.weight"], t["head.0.weight"][:8])
    assert torch.equal(s["tail.1.weight"], t["tail.1.weight"][:, :8])
    assert torch.equal(s["sub_mean.bias"], t["sub_mean.bias"])


def test_incompatible_pairs_are_bench_errors(tiny_teacher, make_edsr):
    with pytest.raises(BenchError, match="children"):
        build_method("teacher-init", make_edsr(num_blocks=8), {}, teacher=tiny_teacher)
    with pytest.raises(BenchError, match="slice"):
        build_method("teacher-init", make_edsr(num_feat=32), {}, teacher=tiny_teacher)
    with pytest.raises(BenchError):
        build_method("teacher-init", build_arch("edsr", 4, num_blocks=4, num_feat=8), {},
                     teacher=tiny_teacher)
    with pytest.raises(BenchError, match="same family"):
        build_method("teacher-init", make_edsr(), {}, teacher=nn.Sequential(nn.Conv2d(3, 3, 3)))
