"""The one-call contract, checked for every registered model (tiny test variants included):
a model registered later is covered here without touching this file."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import hub
from hub.inference import checkpoint_status, create_inpainter

ALL_MODELS = hub.list_models(include_test_only=True)
SIZES = [(1, 1), (7, 13), (251, 333), (1024, 768)]
_CACHE = {}


def get(name):
    if name not in _CACHE:
        weights = "pretrained" if checkpoint_status(name) in ("builtin", "ready", "untrained") else "random"
        _CACHE[name] = create_inpainter(name, device="cpu", weights=weights)
    return _CACHE[name]


def random_case(h, w, seed, p=0.3):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(1, 3, h, w, generator=g)
    mask = (torch.rand(1, 1, h, w, generator=g) < p).float()
    mask[..., h // 2, w // 2] = 1.0
    return img, mask


def test_registry_is_populated():
    names = hub.list_models()
    assert {"cv2_telea", "cv2_ns", "biharmonic"} <= set(names)
    families = {hub.get_config(n).family for n in ALL_MODELS}
    assert {"context_encoder", "ga_context_encoder", "glcic", "deepfill_v1", "deepfill_v1_ns", "msanet", "lgnet"} <= families


def test_duplicate_registration_raises():
    from hub.registry import register

    cfg = hub.get_config("cv2_telea")
    with pytest.raises(ValueError, match="already registered"):
        register(cfg, lambda **k: None)


def test_unknown_model_message():
    with pytest.raises(hub.UnknownModelError, match="python -m hub list"):
        create_inpainter("no_such_model")


@pytest.mark.parametrize("name", ALL_MODELS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_known_pixels_exact_and_range(name, size):
    h, w = size
    inp = get(name)
    img, mask = random_case(h, w, seed=h * 7 + w)
    res = inp.run(img, mask)
    out = res.image
    assert out.shape == img.shape and out.dtype == img.dtype
    known = mask.expand_as(img) == 0
    assert torch.equal(out[known], img[known]), "known pixels must be bit-identical"
    assert torch.isfinite(out).all()
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert res.raw.shape == img.shape


@pytest.mark.parametrize("name", ALL_MODELS)
def test_empty_mask_is_identity(name):
    inp = get(name)
    img = torch.rand(2, 3, 19, 23)
    res = inp.run(img, torch.zeros(2, 1, 19, 23))
    assert torch.equal(res.image, img)
    assert res.strategies == ["identity", "identity"]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_full_mask_handled(name):
    inp = get(name)
    img = torch.rand(1, 3, 40, 36)
    out = inp(img, torch.ones(1, 1, 40, 36))
    assert out.shape == img.shape and torch.isfinite(out).all()
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("name", ALL_MODELS)
def test_batch_matches_single(name):
    inp = get(name)
    img, mask = random_case(33, 47, seed=5)
    img2, mask2 = random_case(33, 47, seed=6)
    both = inp(torch.cat([img, img2]), torch.cat([mask, mask2]))
    assert torch.allclose(both[1:], inp(img2, mask2), atol=1e-5)


def test_strategies_forced_and_auto():
    inp = get("biharmonic")  # max_side 512
    img, mask = random_case(600, 800, seed=1, p=0.0)
    mask[..., 100:140, 200:260] = 1
    assert inp.choose_strategy(mask) == "crop"
    big = torch.zeros_like(mask)
    big[..., 50:550, 50:750] = 1
    assert inp.choose_strategy(big) == "resize"
    for s in ("crop", "resize"):
        res = inp.run(img, mask, strategy=s)
        assert res.strategies == [s]
        known = mask.expand_as(img) == 0
        assert torch.equal(res.image[known], img[known])
    fixed = get("context_encoder.tiny")
    with pytest.raises(ValueError, match="only runs at"):
        fixed.run(img[..., :64, :64], torch.ones(1, 1, 64, 64), strategy="original")


def test_bad_call_arguments():
    inp = get("cv2_telea")
    with pytest.raises(ValueError):
        inp(torch.rand(3, 8, 8), torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match="does not match"):
        inp(torch.rand(1, 3, 8, 8), torch.zeros(1, 1, 8, 9))
    with pytest.raises(ValueError, match="strategy"):
        inp(torch.rand(1, 3, 8, 8), torch.zeros(1, 1, 8, 8), strategy="zoom")


def test_uint8_convenience_keeps_known_pixels(photo):
    hole = np.zeros(photo.shape[:2], bool)
    hole[20:50, 30:70] = True
    for model in ("cv2_telea", "cv2_ns"):
        out = hub.inpaint(photo, hole, model=model)
        assert out.dtype == np.uint8 and out.shape == photo.shape
        assert np.array_equal(out[~hole], photo[~hole])
        assert not np.array_equal(out[hole], photo[hole] * 0)
    assert np.array_equal(hub.inpaint(photo, np.zeros_like(hole)), photo)


def test_classical_fill_is_plausible(photo):
    """On a smooth image diffusion must fill a small hole close to the truth."""
    hole = np.zeros(photo.shape[:2], bool)
    hole[40:48, 60:68] = True
    for model in ("cv2_telea", "cv2_ns", "biharmonic"):
        out = hub.inpaint(photo, hole, model=model)
        err = np.abs(out[hole].astype(int) - photo[hole].astype(int)).mean()
        assert err < 12, (model, err)


def test_network_input_after_resize_has_empty_hole_and_no_leak():
    """After a resize strategy the network sees exactly zeros in the (resized) hole, as in
    training; known pixels carry only known values (the hole's content never leaks in); a
    thin stroke does not widen into a hole at the model's size."""
    inp = get("context_encoder.tiny")  # fixed 32x32: a 300x300 photo is resized
    seen = {}
    original = inp._predict

    def spy(image, mask, prefill=None):
        seen["image"], seen["mask"] = image.clone(), mask.clone()
        return original(image, mask, prefill)

    inp._predict = spy
    try:
        mask = torch.zeros(1, 1, 300, 300)
        mask[..., 101:103, :] = 1  # a thin stroke, not aligned with the resize grid
        mask[..., 180:260, 40:120] = 1  # a thick hole, several model pixels wide
        img = torch.where(mask.bool().expand(1, 3, 300, 300), torch.tensor(1.0), torch.tensor(0.25))
        res = inp.run(img, mask, strategy="resize")
    finally:
        inp._predict = original
    hole = seen["mask"].expand_as(seen["image"]) > 0.5
    assert hole.any() and float(seen["image"][hole].abs().max()) == 0.0
    assert torch.allclose(seen["image"][~hole], torch.tensor(0.25))  # no hole value mixed in
    rows = seen["mask"][0, 0].amax(dim=1)
    assert float(rows[:16].max()) == 0.0  # the 2-px stroke at row 101 of 300 is no hole at 32 px
    # its pixels take the mean of the known pixels around them
    assert torch.allclose(res.image[..., 101:103, 150], torch.tensor(0.25), atol=1e-5)


def test_prefill_reaches_the_network_hole_only():
    """The mosaic task: a prefill is what the network sees in the hole; known pixels unchanged."""
    inp = get("glcic.tiny")
    seen = {}
    original = inp.net.forward

    def spy(x, mask):
        seen["x"] = x.clone()
        return original(x, mask)

    inp.net.forward = spy
    try:
        img, mask = random_case(32, 32, seed=3)
        fill = torch.full_like(img, 0.75)
        res = inp.run(img, mask, prefill=fill)
    finally:
        inp.net.forward = original
    hole = mask.expand_as(img) > 0.5
    assert torch.allclose(seen["x"][hole], torch.full_like(seen["x"][hole], 0.5))  # 0.75 in [-1, 1]
    assert torch.equal(res.image[~hole], img[~hole])
    with pytest.raises(ValueError, match="prefill"):
        inp.run(img, mask, prefill=fill[..., :8])
