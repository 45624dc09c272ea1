"""The Inpainting Hub: classic deep inpainting models and classical baselines behind one call.

    import hub
    hub.list_models()                              # registered names
    inp = hub.create_inpainter("cv2_telea")        # image (N,3,H,W) [0,1], mask (N,1,H,W) 1=hole
    out = inp(image, mask)                         # composited: known pixels unchanged
    rgb_out = hub.inpaint(rgb_uint8, hole_bool, model="cv2_ns")

Heavy modules (torch) load on first use, so `import hub` stays cheap.
"""
from __future__ import annotations

from .registry import ModelConfig, UnknownModelError, get_config, list_models

__all__ = [
    "ModelConfig", "UnknownModelError", "get_config", "list_models",
    "create_inpainter", "inpaint", "checkpoint_status", "is_available",
    "load_image", "load_mask", "save_image", "ImageLoadError", "CheckpointError",
]

_LAZY = {
    "create_inpainter": "inference", "inpaint": "inference", "checkpoint_status": "inference",
    "is_available": "inference", "Inpainter": "inference", "InpaintResult": "inference",
    "load_image": "io", "load_mask": "io", "save_image": "io", "ImageLoadError": "io",
    "CheckpointError": "checkpoint",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'hub' has no attribute {name!r}")
