"""Training in [0, 255] (profile `pixel_range: 255`) as EDSR-PyTorch and the FAKD code do.

Checked: the profile field, the sampler's patches, the I/O hooks; that a network trained on
[0, 255] and evaluated through the harness's path gives the uint8 outputs of its [0, 1] twin and
of EDSR-PyTorch's own forward + quantize; and that FAKD's loss balance at 255 equals the
official code's, by hand on a toy batch and against a transcription of the code on EDSRs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.archs import build_arch
from benchmarks.errors import BenchError
from benchmarks.evaluate import super_resolve
from benchmarks.pixel_range import arch_options, check_same_range, io_range, pixel_io
from benchmarks.profile import TrainProfile
from benchmarks.train import Optimization, train_step
from benchmarks.trainer_data import TrainPairs, make_batch_source
from methods import build_method

from . import official


def profile(**kw):
    return TrainProfile(name="p", iterations=2, batch_size=2, patch_size=8, lr=1e-3, **kw)


def test_profile_field_validated_and_keyed_only_when_set():
    assert "pixel_range" not in profile().identity()          # default 1 re-keys nothing
    assert profile(pixel_range=255).identity()["pixel_range"] == 255
    for bad in (3, 255.0, True, "255"):
        with pytest.raises(BenchError, match=r"profile 'p': pixel_range must be one of 1, 255"):
            profile(pixel_range=bad)
    with pytest.raises(BenchError, match="pixel_range"):
        TrainProfile.from_mapping("p", {"iterations": 1, "batch_size": 1, "patch_size": 4, "lr": 1.0,
                                        "pixel_range": 2}, "m.yaml: profiles.p")


def test_sampler_at_255_yields_the_uint8_values():
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(2)]
    pairs = TrainPairs.build(imgs, 2, 8)
    opts = {"patch_size": 8, "scale": 2, "augment": True, "seed": 3, "batch_size": 4, "device": "cpu"}
    lr1, hr1 = make_batch_source(pairs, pixel_range=1, **opts).batch(0)
    lr255, hr255 = make_batch_source(pairs, pixel_range=255, **opts).batch(0)
    assert torch.equal(hr255, hr255.round()) and float(hr255.max()) > 1   # integers 0..255
    assert torch.equal(hr255 / 255.0, hr1) and torch.equal(lr255 / 255.0, lr1)


def test_arch_options_give_rgb_range_to_archs_that_have_it():
    assert arch_options("edsr", {"num_blocks": 2}, 255) == {"num_blocks": 2, "rgb_range": 255}
    assert arch_options("edsr", {"rgb_range": 1}, 255) == {"rgb_range": 1}      # explicit wins
    assert arch_options("edsr", {}, 1) == {}                                    # default re-keys nothing
    assert arch_options("srresnet", {}, 255) == {}                              # no such option


def test_pixel_io_scales_input_and_output_and_leaves_nothing_behind():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(float(x.max()))
            return x * 2

    net, disc = Probe(), Probe()
    with pixel_io([net], 255, inputs_only=[disc]):
        assert io_range(net) == 255.0
        assert float(net(torch.full((1, 1), 255.0)).max()) == 510.0  # sees 1.0, returns 2 * 255
        disc(torch.full((1, 1), 255.0))                              # sees 1.0, returns as is
    assert seen == [1.0, 1.0]
    assert io_range(net) == 1.0 and not net._forward_hooks and not net._forward_pre_hooks
    assert not disc._forward_pre_hooks


def test_init_weights_of_another_range_are_refused():
    a = build_arch("edsr", 2, num_blocks=1, num_feat=4, rgb_range=255)
    b = build_arch("edsr", 2, num_blocks=1, num_feat=4)
    with pytest.raises(BenchError, match="rgb_range 255 cannot start a network trained at rgb_range 1"):
        check_same_range(a, b, "init weights")


def test_trained_on_255_evaluates_like_its_01_twin_and_the_official_forward():
    torch.manual_seed(0)
    net = build_arch("edsr", 2, num_blocks=2, num_feat=8, rgb_range=255)
    method = build_method("baseline", net)
    optim = Optimization.uniform(method, 1e-3)
    rng = np.random.default_rng(1)
    imgs = [rng.integers(0, 256, (48, 48, 3), dtype=np.uint8) for _ in range(2)]
    source = make_batch_source(TrainPairs.build(imgs, 2, 8), patch_size=8, scale=2, augment=True, seed=0,
                               batch_size=2, pixel_range=255, device="cpu")
    with pixel_io([net], 255):
        for step in range(5):
            lr, hr = source.batch(step)
            result = train_step(method, optim, lr, hr, step)
            assert result.losses["G/l1"] > 1.0  # an L1 on [0, 255] values
    assert not net._forward_hooks  # back to the [0, 1] contract
    # the [0, 1] twin: same weights, biases / 255, no internal range (positive homogeneity)
    twin = build_arch("edsr", 2, num_blocks=2, num_feat=8)
    twin.load_state_dict({k: v / 255.0 if k.endswith("bias") else v for k, v in net.state_dict().items()})
    lr_img = rng.integers(0, 256, (20, 18, 3), dtype=np.uint8)
    ours = super_resolve(net.eval(), lr_img, torch.device("cpu"))
    assert np.array_equal(ours, super_resolve(twin.eval(), lr_img, torch.device("cpu")))
    x255 = torch.from_numpy(lr_img).permute(2, 0, 1)[None].float()
    _, y255 = official.edsr_forward(net.state_dict(), x255, 2, 1.0, 2)
    reference = official.quantize(y255)[0].permute(1, 2, 0).to(torch.uint8).numpy()
    assert np.array_equal(ours, reference)


class _Constant(nn.Module):
    """A toy 'network': body.0 / body.1 / head give fixed 2-position features, the output is
    a constant image; enough to compute the FAKD terms by hand."""

    def __init__(self, feats: list[list[float]], out: float):
        super().__init__()
        self.feat = torch.tensor(feats).T.reshape(1, 2, 1, 2)  # (1, C=2, H=1, W=2)
        self.out = out
        self.body = nn.Sequential(nn.Identity(), nn.Identity())
        self.head = nn.Identity()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        f = self.feat.expand(x.shape[0], -1, -1, -1)
        self.body(f), self.head(f)
        return torch.full((x.shape[0], 3, 2 * x.shape[2], 2 * x.shape[3]), self.out) + 0 * self.w


@pytest.mark.parametrize("pixel_range", [1, 255])
def test_fakd_balance_by_hand(pixel_range):
    # student positions carry (1, 0) and (0, 1): A_S = I; teacher (1, 0) twice: A_T = all ones;
    # mean |A_S - A_T| = 2/4 = 0.5 per tap, x 10 -> 5 per tap, whatever the pixel range.
    student = _Constant([[1.0, 0.0], [0.0, 1.0]], out=0.2)
    teacher = _Constant([[1.0, 0.0], [1.0, 0.0]], out=0.5)
    paths = ["body.0", "body.1", "body+head"]
    lr = torch.rand(2, 3, 1, 1) * pixel_range
    hr = torch.full((2, 3, 2, 2), 0.6 * pixel_range)
    with pixel_io([student, teacher], pixel_range):
        method = build_method("fakd", student, {"student_paths": paths, "teacher_paths": paths},
                              teacher=teacher)
        (_, terms), = list(method.losses(lr, hr, 0))
    # official code at rgb_range 255: 0.5 * |51 - 153| = 51, 0.5 * |51 - 127.5| = 38.25
    rec, ts = {1: (0.2, 0.15), 255: (51.0, 38.25)}[pixel_range]
    assert terms["rec"].item() == pytest.approx(rec, rel=1e-6)
    assert terms["ts"].item() == pytest.approx(ts, rel=1e-6)
    # body+head doubles the features: same directions, same affinities -> 5 per tap
    assert terms["fa"].item() == pytest.approx(15.0, rel=1e-6)


def test_fakd_at_255_equals_the_official_code_on_a_fixed_batch():
    torch.manual_seed(7)
    student = build_arch("edsr", 2, num_blocks=4, num_feat=8, rgb_range=255)
    teacher = build_arch("edsr", 2, num_blocks=6, num_feat=12, res_scale=0.1, rgb_range=255)
    gen = torch.Generator().manual_seed(3)
    lr = torch.randint(0, 256, (2, 3, 6, 6), generator=gen).float()   # a batch as the code feeds it
    hr = torch.randint(0, 256, (2, 3, 12, 12), generator=gen).float()
    with pixel_io([student, teacher], 255):
        method = build_method("fakd", student, {}, teacher=teacher)   # default taps: the code's thirds
        (_, terms), = list(method.losses(lr, hr, 0))
    assert method.student_paths == ("body.0", "body.1", "body+head")    # 4 blocks split 1/1/2
    assert method.teacher_paths == ("body.1", "body.3", "body+head")    # 6 blocks split 2/2/2
    fms_s, sr_s = official.edsr_forward(student.state_dict(), lr, 4, 1.0, 2)
    fms_t, sr_t = official.edsr_forward(teacher.state_dict(), lr, 6, 0.1, 2)
    expected = official.fakd_loss(sr_s, sr_t, hr, fms_s, fms_t)
    for name in ("rec", "ts", "fa"):
        assert terms[name].item() == pytest.approx(expected[name].item(), rel=1e-5), name
    # the point of the range: the pixel terms are ~255x their [0, 1] values, the affinities not
    assert terms["rec"].item() > 255 * 0.01 and terms["fa"].item() < 30


def test_contrastive_ratio_does_not_scale_with_the_range_but_l1_does():
    torch.manual_seed(0)
    student = build_arch("edsr", 2, num_blocks=1, num_feat=4, rgb_range=255)
    teacher = build_arch("edsr", 2, num_blocks=2, num_feat=4, rgb_range=255)
    lr, hr = torch.rand(3, 3, 5, 5), torch.rand(3, 3, 10, 10)
    method = build_method("contrastive-kd", student, {}, teacher=teacher)
    (_, at1), = list(method.losses(lr, hr, 0))
    with pixel_io([student, teacher], 255):
        (_, at255), = list(method.losses(lr * 255, hr * 255, 0))
    assert at255["rec"].item() == pytest.approx(255 * at1["rec"].item(), rel=1e-4)
    assert at255["cl"].item() == pytest.approx(at1["cl"].item(), rel=1e-4)


def test_projection_heads_follow_the_students_range():
    torch.manual_seed(0)
    student = build_arch("edsr", 2, num_blocks=4, num_feat=4, rgb_range=255)
    method = build_method("ds", student, {"head_blocks": 1})
    lr = torch.rand(2, 3, 5, 5)
    sr1, heads1 = method.aux(lr)
    with pixel_io([student], 255):
        sr255, heads255 = method.aux(lr * 255)
    torch.testing.assert_close(sr255, sr1 * 255, rtol=1e-4, atol=1e-3)
    for a, b in zip(heads255, heads1):
        torch.testing.assert_close(a, b * 255, rtol=1e-4, atol=1e-3)
    assert F.l1_loss(heads255[0], sr255).item() == pytest.approx(255 * F.l1_loss(heads1[0], sr1).item(), rel=1e-3)
