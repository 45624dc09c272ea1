"""The one inpainting call: `Inpainter(image, mask) -> image` for every model of the hub.

An Inpainter is a template method (after IOPaint's InpaintModel): `run` validates the
input, picks a strategy per sample (run at the original size, resize to the model's
size, or crop a window around the hole), pads to the model's modulo, runs the model in
its own value range, and composites so that known pixels are bit-identical to the input.
Subclasses supply only `_predict` for one window.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from . import ops
from .checkpoint import CheckpointError, load_into, load_weights, resolve, sha256_file
from .registry import ModelConfig, get_entry

STRATEGIES = ("auto", "original", "resize", "crop")
# Names how a window is resampled to the model's size and back; part of the benchmark's
# cache identity of every model that resizes, so a change here recomputes their rows.
RESAMPLING = "downscale_known/1"


def resamples_at(config: ModelConfig, side: int) -> bool:
    """Whether the "auto" strategy runs this model at another size than a side x side photo
    (so its output depends on RESAMPLING): fixed-size models off their size, others above
    their largest side (the rule of `Inpainter.choose_strategy`)."""
    return (config.fixed_size and side != config.native_size) or side > config.max_side


@dataclass
class InpaintResult:
    """Output of `Inpainter.run`.

    image:      composited output (N, 3, H, W) in [0, 1]; known pixels equal the input's.
    raw:        the model's prediction at the input size, before compositing; outside the
                window the model saw (crop strategy) it holds the input. When the model ran
                at a smaller size, pixels that were partly known there hold their known mean.
    extras:     per-model images at the input size (e.g. "attention" for contextual
                attention models), or empty.
    strategies: the strategy used for each sample ("identity" for an empty mask).
    """

    image: torch.Tensor
    raw: torch.Tensor
    extras: Dict[str, torch.Tensor] = field(default_factory=dict)
    strategies: List[str] = field(default_factory=list)


class Inpainter:
    """Base class. Call it with image (N,3,H,W) float [0,1] and mask (N,1,H,W) {0,1}, 1 = hole."""

    def __init__(self, config: ModelConfig, device: torch.device, precision: str = "fp32"):
        if precision not in ("fp32", "bf16"):
            raise ValueError("precision must be 'fp32' or 'bf16'")
        self.config = config
        self.device = device
        self.precision = precision

    @property
    def name(self) -> str:
        return self.config.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, device={self.device})"

    # -- the public call ---------------------------------------------------------------
    def __call__(self, image: torch.Tensor, mask: torch.Tensor, strategy: str = "auto") -> torch.Tensor:
        return self.run(image, mask, strategy).image

    @torch.no_grad()
    def run(self, image: torch.Tensor, mask: torch.Tensor, strategy: str = "auto",
            prefill: Optional[torch.Tensor] = None) -> InpaintResult:
        """`prefill` (like image) is what a network sees inside the hole instead of zeros: the
        mosaic task of paper 001 puts a mosaic there. Classical solvers ignore it."""
        image, mask = self._validate(image, mask, strategy)
        if prefill is not None and prefill.shape != image.shape:
            raise ValueError(f"prefill {tuple(prefill.shape)} must match image {tuple(image.shape)}")
        outs, raws, used = [], [], []
        extras: Dict[str, List[torch.Tensor]] = {}
        for i in range(image.shape[0]):
            img, m = image[i : i + 1], mask[i : i + 1]
            if not bool(m.any()):
                outs.append(img.clone())
                raws.append(img.clone())
                used.append("identity")
                continue
            chosen = self.choose_strategy(m, strategy)
            raw, ext = self._run_one(img, m, chosen, None if prefill is None else prefill[i : i + 1])
            outs.append(ops.composite(img, raw, m))
            raws.append(raw)
            used.append(chosen)
            for k, v in ext.items():
                extras.setdefault(k, []).append(v)
        ext_cat = {k: torch.cat(v) for k, v in extras.items() if len(v) == image.shape[0]}
        return InpaintResult(torch.cat(outs), torch.cat(raws), ext_cat, used)

    # -- strategy ------------------------------------------------------------------------
    def choose_strategy(self, mask: torch.Tensor, requested: str = "auto") -> str:
        cfg = self.config
        H, W = mask.shape[-2:]
        if requested == "original":
            if cfg.fixed_size:
                raise ValueError(f"{cfg.name} only runs at {cfg.native_size}x{cfg.native_size}; use 'resize' or 'crop'")
            return "original"
        if requested in ("resize", "crop"):
            return requested
        if not cfg.fixed_size and max(H, W) <= cfg.max_side:
            return "original"
        # Too large for the model: crop around the hole when that window is at most half the
        # photo (keeps full resolution near the hole), else resize the whole photo.
        t, l, b, r = self._crop_window(mask)
        return "crop" if (b - t) * (r - l) <= 0.5 * H * W else "resize"

    def _crop_window(self, mask: torch.Tensor) -> Tuple[int, int, int, int]:
        H, W = mask.shape[-2:]
        bbox = ops.hole_bbox(mask)
        assert bbox is not None
        side = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
        margin = max(16, side // 2)
        min_side = self.config.native_size or 0
        return ops.square_window(bbox, margin, min_side, (H, W))

    def _target_size(self, h: int, w: int) -> Tuple[int, int]:
        """Size a window of (h, w) is run at: native for fixed-size models, else at most max_side."""
        cfg = self.config
        if cfg.fixed_size:
            return cfg.native_size, cfg.native_size
        s = min(1.0, cfg.max_side / max(h, w))
        return max(1, round(h * s)), max(1, round(w * s))

    def _run_one(self, img: torch.Tensor, m: torch.Tensor, strategy: str,
                 prefill: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        H, W = img.shape[-2:]
        if strategy == "crop":
            t, l, b, r = self._crop_window(m)
        else:
            t, l, b, r = 0, 0, H, W
        win_img, win_mask = img[..., t:b, l:r], m[..., t:b, l:r]
        h, w = b - t, r - l
        th, tw = (h, w) if strategy == "original" else self._target_size(h, w)
        shrink = (th, tw) != (h, w) and th <= h and tw <= w
        if shrink:
            # Known pixels are averaged without the hole; only pixels that are all hole stay
            # hole at the model's size, so thin strokes do not widen (ops.downscale_known).
            small_img, small_mask = ops.downscale_known(win_img, win_mask, (th, tw))
        else:
            # Enlarging (fixed-size models on small windows): zero the hole before resampling
            # and call every pixel that straddles the hole border a hole, as in training.
            small_mask = ops.resize_mask(win_mask, (th, tw))
            small_img = ops.prepare_input(ops.resize_image(ops.prepare_input(win_img, win_mask), (th, tw)), small_mask)
        small_fill = None if prefill is None else ops.resize_image(prefill[..., t:b, l:r], (th, tw))
        pred, ext = self._predict(small_img, small_mask, small_fill)
        if shrink:
            # Partly known source pixels are known at the model's size: keep their known mean.
            pred = ops.composite(small_img, pred, small_mask)
        pred = ops.resize_image(pred, (h, w))
        raw = img.clone()
        raw[..., t:b, l:r] = pred
        full_ext = {}
        for k, v in ext.items():
            canvas = torch.zeros(1, v.shape[1], H, W, dtype=v.dtype, device=v.device)
            canvas[..., t:b, l:r] = ops.resize_image(v, (h, w))
            full_ext[k] = canvas
        return raw, full_ext

    # -- to implement ----------------------------------------------------------------------
    def _predict(self, image: torch.Tensor, mask: torch.Tensor,
                 prefill: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Predict one window: image (1,3,h,w) in [0,1] with the hole zeroed, mask (1,1,h,w),
        optional prefill for the hole. Returns the prediction in [0,1] at (h, w) and extras."""
        raise NotImplementedError

    # -- validation --------------------------------------------------------------------
    def _validate(self, image: torch.Tensor, mask: torch.Tensor, strategy: str) -> Tuple[torch.Tensor, torch.Tensor]:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        if not isinstance(image, torch.Tensor) or not isinstance(mask, torch.Tensor):
            raise TypeError("image and mask must be torch tensors (use hub.inpaint for numpy arrays)")
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"image must be shaped (N, 3, H, W), got {tuple(image.shape)}")
        if mask.dim() != 4 or mask.shape[1] != 1:
            raise ValueError(f"mask must be shaped (N, 1, H, W), got {tuple(mask.shape)}")
        if mask.shape[0] != image.shape[0] or mask.shape[-2:] != image.shape[-2:]:
            raise ValueError(f"mask {tuple(mask.shape)} does not match image {tuple(image.shape)}")
        if not image.is_floating_point():
            raise TypeError("image must be a float tensor in [0, 1]")
        return image, (mask > 0.5).to(image.dtype)


class NetworkInpainter(Inpainter):
    """A learned model: a torch module whose forward(x, mask) returns {"out": ..., ...}."""

    def __init__(self, config: ModelConfig, net: torch.nn.Module, device: torch.device, precision: str = "fp32"):
        super().__init__(config, device, precision)
        self.net = net.to(device).eval()
        self._prefill: Optional[Callable] = None
        if config.prefill == "ns":
            from .models.classical import navier_stokes_prefill

            self._prefill = navier_stokes_prefill

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def _predict(self, image, mask, prefill=None):
        cfg = self.config
        x = image
        if prefill is not None:
            x = ops.prepare_input(image, mask, prefill)
        elif self._prefill is not None:
            x = ops.prepare_input(image, mask, self._prefill(image, mask))
        x, hw = ops.pad_to_modulo(x, cfg.pad_mod)
        m, _ = ops.pad_to_modulo(mask, cfg.pad_mod)
        x = ops.to_range(x.to(self.device), *cfg.input_range)
        m = m.to(self.device)
        use_bf16 = self.precision == "bf16"
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            out = self.net(x, m)
        pred = ops.crop_to(ops.from_range(out["out"].float(), *cfg.input_range), hw).to(image.device)
        extras = {}
        if "attention_rgb" in out:
            extras["attention"] = ops.crop_to(out["attention_rgb"].float(), hw).to(image.device)
        return pred, extras


class ClassicalInpainter(Inpainter):
    """A non-learned solver working on uint8 arrays: solver(rgb (h,w,3), hole (h,w) bool) -> rgb."""

    def __init__(self, config: ModelConfig, solver: Callable[[np.ndarray, np.ndarray], np.ndarray], device: torch.device):
        super().__init__(config, device)
        self.solver = solver

    def parameter_count(self) -> int:
        return 0

    def _predict(self, image, mask, prefill=None):
        rgb = ops.to_uint8_image(image)  # diffusion uses known pixels only; a prefill is ignored
        hole = mask[0, 0].cpu().numpy() > 0.5
        out = self.solver(rgb, hole)
        return ops.to_tensor_image(out).to(image.device), {}


# -- construction --------------------------------------------------------------------------

def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def create_inpainter(
    name: str,
    device: str = "auto",
    weights: str = "pretrained",
    precision: str = "fp32",
    checkpoint_dir: Optional[str] = None,
) -> Inpainter:
    """Build a registered model ready to call.

    weights="pretrained" loads the registered checkpoint (checksum verified) and fails with
    CheckpointError when it is missing or corrupt; tiny test variants have none and start
    from a fixed seed. weights="random" skips loading (tests, architecture checks).
    """
    if weights not in ("pretrained", "random"):
        raise ValueError("weights must be 'pretrained' or 'random'")
    entry = get_entry(name)
    cfg = entry.config
    dev = resolve_device(device)
    if cfg.kind == "classical":
        return ClassicalInpainter(cfg, entry.builder(**cfg.arch), dev)
    with torch.random.fork_rng(devices=[]):  # a fixed init for weightless variants, caller's RNG untouched
        torch.manual_seed(0)
        net = entry.builder(**cfg.arch)
    if weights == "pretrained":
        if cfg.checkpoint is None:
            if not cfg.test_only:
                raise CheckpointError(f"{name} has no trained checkpoint registered")
        else:
            state = load_weights(resolve(cfg.checkpoint, checkpoint_dir), cfg.sha256)
            load_into(net, state, name)
    return NetworkInpainter(cfg, net, dev, precision)


_STATUS_CACHE: Dict[Tuple[str, float, int], str] = {}


def checkpoint_status(name: str, checkpoint_dir: Optional[str] = None) -> str:
    """"builtin" (classical), "ready", "missing", "corrupt", "untrained" (arch only)."""
    cfg = get_entry(name).config
    if cfg.kind == "classical":
        return "builtin"
    if cfg.checkpoint is None:
        return "untrained"
    path = resolve(cfg.checkpoint, checkpoint_dir)
    if not path.is_file():
        return "missing"
    st = path.stat()
    key = (str(path), st.st_mtime, st.st_size)
    if key not in _STATUS_CACHE:
        _STATUS_CACHE[key] = "ready" if sha256_file(path) == cfg.sha256 else "corrupt"
    return _STATUS_CACHE[key]


def is_available(name: str, checkpoint_dir: Optional[str] = None) -> bool:
    return checkpoint_status(name, checkpoint_dir) in ("builtin", "ready")


class InpainterCache:
    """A small thread-safe LRU of built inpainters (the app and `hub.inpaint` reuse them)."""

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._items: "OrderedDict[Tuple, Inpainter]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, **kwargs: Any) -> Inpainter:
        key = (name, tuple(sorted(kwargs.items())))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        inp = create_inpainter(name, **kwargs)
        with self._lock:
            self._items[key] = inp
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return inp


# One cache for the whole process (hub.inpaint and the app), so no model is built twice.
SHARED_CACHE = InpainterCache(capacity=32)


def inpaint(
    rgb: np.ndarray,
    mask: np.ndarray,
    model: str = "cv2_telea",
    strategy: str = "auto",
    **kwargs: Any,
) -> np.ndarray:
    """uint8 convenience: (H, W, 3) uint8 RGB and (H, W) bool hole mask -> (H, W, 3) uint8.

    Known pixels are returned exactly as given.
    """
    rgb = np.asarray(rgb)
    mask = np.asarray(mask)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got {rgb.dtype} {rgb.shape}")
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match the image's {rgb.shape[:2]}")
    hole = mask.astype(bool)
    if not hole.any():
        return rgb.copy()
    inp = SHARED_CACHE.get(model, **kwargs)
    out = inp(ops.to_tensor_image(rgb), ops.to_tensor_mask(hole), strategy=strategy)
    pred = ops.to_uint8_image(out)
    return np.where(hole[..., None], pred, rgb)


def timed_inpaint(inp: Inpainter, image: torch.Tensor, mask: torch.Tensor, strategy: str = "auto",
                  prefill: Optional[torch.Tensor] = None) -> Tuple[InpaintResult, float]:
    """Run and measure wall time in seconds (synchronising CUDA when used)."""
    if inp.device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    res = inp.run(image, mask, strategy, prefill)
    if inp.device.type == "cuda":
        torch.cuda.synchronize()
    return res, time.perf_counter() - t0
