"""Model zoo: gradients everywhere, no NaN, loss terms on known values, contextual attention
and MSA-Net's mask update on hand-made cases."""
from __future__ import annotations

import pytest
import torch

import hub
from hub.layers import contextual_attention, propagate
from hub.models.msanet import update_mask
from hub.registry import get_entry
from hub.training import losses as L

TINY = [n for n in hub.list_models(include_test_only=True) if n.endswith(".tiny")]


@pytest.mark.parametrize("name", TINY)
def test_forward_backward_every_parameter_gets_gradient(name):
    torch.manual_seed(0)
    entry = get_entry(name)
    net = entry.builder(**entry.config.arch)
    size = entry.config.native_size if entry.config.fixed_size else 64
    x = torch.rand(2, 3, size, size) * 2 - 1
    mask = torch.zeros(2, 1, size, size)
    mask[..., size // 4 : size // 2, size // 4 : size // 2 + 3] = 1
    x = x * (1 - mask)
    out = net(x, mask)
    loss = sum(v.float().pow(2).mean() for k, v in out.items() if k not in ("attention_rgb", "feats"))
    if "feats" in out:
        loss = loss + sum(f.pow(2).mean() for f in out["feats"])
    loss.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"parameters without a finite gradient: {missing[:5]}"
    zero = [n for n, p in net.named_parameters() if float(p.grad.abs().sum()) == 0.0]
    assert not zero, f"parameters with an all-zero gradient: {zero[:5]}"
    assert all(torch.isfinite(v).all() for k, v in out.items() if k != "feats")


def test_grad_l1_known_values():
    x = torch.rand(1, 3, 8, 8)
    assert float(L.grad_l1_map(x, x).sum()) == 0.0
    ramp = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 1, 8, 8)
    flat = torch.zeros(1, 1, 8, 8)
    # a ramp of slope 1 in x against a flat image: |dx| = 1 on columns 1..7, dy = 0
    g = L.grad_l1_map(ramp, flat)
    assert torch.allclose(g[..., 1:], torch.ones(1, 1, 8, 7)) and float(g[..., 0].sum()) == 0.0
    # shifting an image by a constant does not change its gradient
    assert float(L.grad_l1_map(x + 0.3, x).abs().max()) < 1e-6


def test_gradient_attention_loss_composition():
    pred, gt = torch.zeros(1, 1, 10, 10), torch.full((1, 1, 10, 10), 0.5)
    mask = torch.zeros(1, 1, 10, 10)
    # constant error 0.5 everywhere, zero gradient error: L_inp = 0.5 whatever alpha
    assert abs(float(L.gradient_attention_loss(pred, gt, mask, alpha=1.0)) - 0.5) < 1e-6
    ramp = torch.arange(10.0).view(1, 1, 1, 10).expand(1, 1, 10, 10) / 10
    full = torch.ones_like(mask)
    a0 = float(L.gradient_attention_loss(ramp, torch.zeros_like(ramp), full, alpha=0.0))
    a1 = float(L.gradient_attention_loss(ramp, torch.zeros_like(ramp), full, alpha=1.0))
    assert abs(a0 - float(ramp.mean())) < 1e-6
    assert abs((a1 - a0) - 0.1 * 9 / 10) < 1e-6  # grad term: 0.1 on 9 of 10 columns


def test_l2_hole_and_discount_known_values():
    pred, gt = torch.zeros(1, 3, 6, 6), torch.ones(1, 3, 6, 6)
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., 1:5, 1:5] = 1
    assert float(L.l2_hole(pred, gt, mask)) == pytest.approx(1.0)
    w = L.spatial_discount(mask, gamma=0.9)
    assert float(w[0, 0, 0, 0]) == 0.0
    assert float(w[0, 0, 1, 1]) == pytest.approx(0.9)   # boundary ring: distance 1
    assert float(w[0, 0, 2, 2]) == pytest.approx(0.81)  # inner: distance 2


def test_gram_and_style_loss_known_value():
    f = torch.ones(1, 2, 2, 2)
    g = L.gram(f)
    assert torch.allclose(g, torch.full((1, 2, 2), 4.0 / 8.0))
    assert float(L.style_loss([f], [f])) == 0.0
    # eq. 12: ||F_out - F_gt||_2 / (W H C) = sqrt(8) / 8 for a 2x2x2 map of ones
    assert float(L.perceptual_loss([f], [f * 0])) == pytest.approx(8**0.5 / 8)
    assert float(L.perceptual_loss([f], [f * 0], "l1")) == pytest.approx(1.0)


def test_wgan_gradient_penalty_of_linear_critic():
    lin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1, bias=False))
    with torch.no_grad():
        lin[1].weight.fill_(0.0)
        lin[1].weight[0, 0] = 2.0  # gradient norm 2 everywhere -> penalty (2-1)^2 = 1
    gp = L.gradient_penalty(lin, torch.rand(4, 3, 2, 2), torch.rand(4, 3, 2, 2))
    assert float(gp) == pytest.approx(1.0)


def test_contextual_attention_copies_matching_patch():
    torch.manual_seed(0)
    C, H, W = 16, 16, 16
    bg = torch.randn(1, C, H, W)
    mask = torch.zeros(1, 1, H, W)
    mask[..., 4:8, 4:8] = 1  # hole
    fg = bg.clone()
    # the hole's features (with a 1-pixel ring) equal the background region shifted by (+7, +6)
    fg[..., 3:9, 3:9] = bg[..., 10:16, 9:15]
    out, attn, offsets = contextual_attention(fg, bg, mask, ksize=3, rate=1, fuse_k=1, softmax_scale=100.0)
    # inside the hole (away from its border) attention peaks on the shifted patch
    for y in range(5, 7):
        for x in range(5, 7):
            p = y * W + x
            best = int(attn[0, p].argmax())
            assert (best // W, best % W) == (y + 7, x + 6)
            assert tuple(offsets[0, :, y, x].tolist()) == (7.0, 6.0)
    assert torch.allclose(out[..., 5:7, 5:7], bg[..., 12:14, 11:13], atol=1e-3)
    # hole patches never receive attention
    valid = torch.ones(H, W)
    valid[3:9, 3:9] = 0
    assert float(attn[0][:, valid.flatten() == 0].sum()) == 0.0


def test_contextual_attention_rate2_shapes_and_validity():
    x = torch.randn(2, 8, 32, 32)
    m = torch.zeros(2, 1, 32, 32)
    m[:, :, 8:20, 8:20] = 1
    out, attn, off = contextual_attention(x, x, m, rate=2)
    assert out.shape == x.shape and attn.shape == (2, 256, 256) and off.shape == (2, 2, 16, 16)
    assert torch.allclose(attn.sum(dim=2), torch.ones(2, 256))


def test_propagation_on_hand_made_scores():
    """fg 1x3, bg 1x3: a single score at (fg 1, bg 1) spreads along the diagonal."""
    s = torch.zeros(1, 3, 3)
    s[0, 1, 1] = 1.0
    out = propagate(s, (1, 3), (1, 3), fuse_k=3)
    expected = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    assert torch.allclose(out[0], expected)
    # top-down: fg 3x1, bg 3x1
    out2 = propagate(s, (3, 1), (3, 1), fuse_k=3)
    assert torch.allclose(out2[0], expected)
    # no propagation with fuse_k = 1
    assert torch.equal(propagate(s, (1, 3), (1, 3), 1), s)


def test_msanet_mask_update_grows_by_pooling_footprint():
    valid = torch.zeros(1, 1, 16, 16)
    valid[..., :, :4] = 1  # known: the 4 left columns
    new = update_mask(valid, kernel=3, stride=2)
    assert new.shape == (1, 1, 8, 8)
    # output column j covers input columns 2j-1..2j+1: valid while 2j-1 <= 3, i.e. j <= 2
    assert new[0, 0, 0].tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    again = update_mask(new, kernel=3, stride=2)
    assert again[0, 0, 0].tolist() == [1, 1, 0, 0]
    # relative to the map, the valid region grows: 4/16 -> 3/8 -> 2/4
    assert float(new.mean()) > float(valid.mean()) and float(again.mean()) > float(new.mean())


def test_propagation_matches_the_formula_on_random_scores():
    """s'(x,y,x',y') = sum_i s(x+i,y,x'+i,y'), then the same top-down, checked by brute force."""
    torch.manual_seed(1)
    hf, wf, hb, wb = 4, 5, 3, 6
    s = torch.randn(2, hf * wf, hb * wb)
    S = s.reshape(2, hf, wf, hb, wb)
    lr = torch.zeros_like(S)
    for x in range(wf):
        for xp in range(wb):
            for i in (-1, 0, 1):
                if 0 <= x + i < wf and 0 <= xp + i < wb:
                    lr[:, :, x, :, xp] += S[:, :, x + i, :, xp + i]
    ref = torch.zeros_like(S)
    for y in range(hf):
        for yp in range(hb):
            for j in (-1, 0, 1):
                if 0 <= y + j < hf and 0 <= yp + j < hb:
                    ref[:, y, :, yp, :] += lr[:, y + j, :, yp + j, :]
    assert torch.allclose(propagate(s, (hf, wf), (hb, wb), 3), ref.reshape(2, hf * wf, hb * wb), atol=1e-5)
