"""Property tests: random sizes and masks, for the fast models of each kind."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings, strategies as st

import hub
from hub import ops
from hub.inference import create_inpainter

MODELS = {n: create_inpainter(n, device="cpu") for n in ("cv2_telea", "cv2_ns", "deepfill_v1.tiny", "context_encoder.tiny", "lgnet.tiny")}


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), density=st.floats(0.0, 1.0), seed=st.integers(0, 2**31 - 1),
       name=st.sampled_from(sorted(MODELS)))
def test_known_pixels_and_range_hold(h, w, density, seed, name):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(1, 3, h, w, generator=g)
    mask = (torch.rand(1, 1, h, w, generator=g) < density).float()
    out = MODELS[name](img, mask)
    known = mask.expand_as(img) == 0
    assert torch.equal(out[known], img[known])
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 300), w=st.integers(1, 300), mod=st.sampled_from([1, 4, 8, 16, 32]))
def test_pad_then_crop_is_identity(h, w, mod):
    x = torch.rand(1, 3, h, w)
    y, hw = ops.pad_to_modulo(x, mod)
    assert y.shape[-2] % mod == 0 and y.shape[-1] % mod == 0
    assert torch.equal(ops.crop_to(y, hw), x)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(2, 200), w=st.integers(2, 200), th=st.integers(1, 120), tw=st.integers(1, 120), seed=st.integers(0, 1000))
def test_resized_mask_covers_the_hole(h, w, th, tw, seed):
    """Downsampling then upsampling the mask back never uncovers an original hole pixel."""
    g = torch.Generator().manual_seed(seed)
    m = (torch.rand(1, 1, h, w, generator=g) < 0.1).float()
    small = ops.resize_mask(m, (th, tw))
    back = ops.resize_mask(small, (h, w))
    if th <= h and tw <= w:
        assert bool((back >= m).all())


@settings(max_examples=40, deadline=None)
@given(h=st.integers(2, 200), w=st.integers(2, 200), th=st.integers(1, 120), tw=st.integers(1, 120),
       density=st.floats(0.0, 1.0), seed=st.integers(0, 1000))
def test_downscale_keeps_known_pixels_and_hides_the_hole(h, w, th, tw, density, seed):
    """A pixel is hole at the small size only if all pixels under it are hole; known pixels hold
    the mean of known pixels only: whatever the hole holds, the result does not change."""
    th, tw = min(th, h), min(tw, w)
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(1, 3, h, w, generator=g)
    m = (torch.rand(1, 1, h, w, generator=g) < density).float()
    small, sm = ops.downscale_known(img, m, (th, tw))
    other, sm2 = ops.downscale_known(torch.where(m.bool().expand_as(img), 1 - img, img), m, (th, tw))
    assert torch.equal(sm, sm2) and torch.allclose(small, other, atol=1e-6)
    assert not bool(small[sm.bool().expand_as(small)].any())
    assert float(small.min()) >= 0 and float(small.max()) <= 1
    # a small pixel is hole exactly when the conservative resize of the known area finds no known pixel
    assert torch.equal(sm, ops.resize_mask(1 - m, (th, tw)) == 0)


def test_downscale_of_a_thin_stroke():
    img = torch.full((1, 3, 8, 8), 0.5)
    m = torch.zeros(1, 1, 8, 8)
    m[..., 3, :] = 1          # one row: every 2x2 block under it keeps a known row
    m[..., 6:8, 0:2] = 1      # one full 2x2 block
    img[m.bool().expand_as(img)] = 1.0
    small, sm = ops.downscale_known(img, m, (4, 4))
    assert sm[0, 0].tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
    assert torch.allclose(small[..., :3, :], torch.tensor(0.5)) and float(small[..., 3, 0].max()) == 0.0


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 64), w=st.integers(1, 64), seed=st.integers(0, 10_000))
def test_uint8_api_roundtrip(h, w, seed):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    hole = rng.random((h, w)) < 0.3
    out = hub.inpaint(rgb, hole, model="cv2_telea")
    assert np.array_equal(out[~hole], rgb[~hole])
