"""Classical (non-learned) inpainting: OpenCV Telea and Navier-Stokes, scikit-image biharmonic.

These are the statistical baselines of Nikhil et al., "Deep Learning for Image Inpainting"
(shared/papers/001, section III-A1):
- Telea, "An image inpainting technique based on the fast marching method", J. Graphics
  Tools 9(1), 2004 (`cv2.INPAINT_TELEA`);
- Bertalmio, Bertozzi, Sapiro, "Navier-Stokes, fluid dynamics, and image and video
  inpainting", CVPR 2001 (`cv2.INPAINT_NS`);
- plus the biharmonic fill of Damelin & Hoang, "On surface completion and image
  inpainting by biharmonic functions", 2018 (`skimage.restoration.inpaint_biharmonic`).

Both OpenCV methods take a neighbourhood radius; the hub's default is 5 pixels (OpenCV's
documentation example uses 3; 5 fills broad holes a little more smoothly at 256 px and
costs nothing measurable). It is a registry argument, so other radii are one line away.
"""
from __future__ import annotations

import numpy as np

from ..registry import ModelConfig, register_model

DEFAULT_RADIUS = 5

_P_001 = "Nikhil et al., Deep Learning for Image Inpainting (shared/papers/001), sec. III-A1"


class OpenCVInpaint:
    """cv2.inpaint with a fixed method and radius, on uint8 RGB."""

    def __init__(self, method: str = "telea", radius: int = DEFAULT_RADIUS):
        import cv2

        if method not in ("telea", "ns"):
            raise ValueError("method must be 'telea' or 'ns'")
        if radius < 1:
            raise ValueError("radius must be >= 1")
        self.flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        self.radius = int(radius)

    def __call__(self, rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
        import cv2

        if hole.all():
            return np.zeros_like(rgb)  # nothing known to propagate
        m = hole.astype(np.uint8) * 255
        return cv2.inpaint(np.ascontiguousarray(rgb), m, self.radius, self.flag)


class Biharmonic:
    """scikit-image's biharmonic inpainting (solves a sparse system per hole region)."""

    def __call__(self, rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
        from skimage.restoration import inpaint_biharmonic

        if hole.all():
            return np.zeros_like(rgb)
        if min(rgb.shape[:2]) < 3:
            # The biharmonic stencil needs a 2-pixel neighbourhood; fall back to the known mean.
            out = rgb.copy()
            out[hole] = rgb[~hole].mean(axis=0).round().astype(np.uint8)
            return out
        f = inpaint_biharmonic(rgb.astype(np.float64) / 255.0, hole, channel_axis=-1)
        return np.clip(np.round(f * 255.0), 0, 255).astype(np.uint8)


def navier_stokes_prefill(image, mask, radius: int = DEFAULT_RADIUS):
    """Torch helper for the hole_ns variant (001, sec. V): fill the hole with NS first.

    image (N,3,H,W) in [0,1], mask (N,1,H,W); returns a tensor like image."""
    import torch

    solver = OpenCVInpaint("ns", radius)
    outs = []
    for i in range(image.shape[0]):
        rgb = (image[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
        hole = mask[i, 0].detach().cpu().numpy() > 0.5
        filled = solver(rgb, hole) if hole.any() else rgb
        outs.append(torch.from_numpy(filled).permute(2, 0, 1).float().div(255.0))
    return torch.stack(outs).to(image.device, image.dtype)


_COMMON = dict(kind="classical", input_range=(0.0, 1.0), pad_mod=1, license="BSD/Apache (OpenCV, scikit-image); no weights")


@register_model(ModelConfig(name="cv2_telea", family="cv2_telea", paper=f"Telea 2004; {_P_001}",
                            arch={"method": "telea", "radius": DEFAULT_RADIUS}, max_side=2048,
                            description="Fast-marching diffusion (OpenCV INPAINT_TELEA)", **_COMMON))
def cv2_telea(method: str = "telea", radius: int = DEFAULT_RADIUS):
    return OpenCVInpaint(method, radius)


@register_model(ModelConfig(name="cv2_ns", family="cv2_ns", paper=f"Bertalmio et al. 2001; {_P_001}",
                            arch={"method": "ns", "radius": DEFAULT_RADIUS}, max_side=2048,
                            description="Navier-Stokes diffusion (OpenCV INPAINT_NS)", **_COMMON))
def cv2_ns(method: str = "ns", radius: int = DEFAULT_RADIUS):
    return OpenCVInpaint(method, radius)


@register_model(ModelConfig(name="biharmonic", family="biharmonic", paper="Damelin & Hoang 2018 (scikit-image)",
                            arch={}, max_side=512,
                            description="Biharmonic smooth fill (scikit-image)", **_COMMON))
def biharmonic():
    return Biharmonic()
