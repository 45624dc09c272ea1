"""Pixel metrics: l1, l1_hole, mse, psnr, ssim, tv (definitions in hub/metrics/__init__.py)."""
from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np

PSNR_CAP = 100.0
# Bumped whenever a definition changes: the benchmark store keys rows by it.
METRIC_VERSION = "pixel-1"


def _f(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 255.0
    return x.astype(np.float64)


def l1(out: np.ndarray, gt: np.ndarray) -> float:
    return float(np.abs(_f(out) - _f(gt)).mean() * 100.0)


def l1_hole(out: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> float:
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return 0.0
    return float(np.abs(_f(out) - _f(gt))[m].mean() * 100.0)


def mse(out: np.ndarray, gt: np.ndarray) -> float:
    d = (_f(out) - _f(gt)) * 255.0
    return float((d * d).mean())


def psnr(out: np.ndarray, gt: np.ndarray) -> float:
    e = mse(out, gt)
    if e <= 0.0:
        return PSNR_CAP
    return float(min(PSNR_CAP, 10.0 * math.log10(255.0**2 / e)))


def ssim(out: np.ndarray, gt: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    a, b = _f(out), _f(gt)
    if min(a.shape[:2]) < 7:
        return float("nan")
    return float(
        structural_similarity(
            b, a, channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )


def tv(out: np.ndarray) -> float:
    x = _f(out) * 255.0
    dx = np.abs(np.diff(x, axis=1)).mean() if x.shape[1] > 1 else 0.0
    dy = np.abs(np.diff(x, axis=0)).mean() if x.shape[0] > 1 else 0.0
    return float(dx + dy)


def pixel_metrics(out: np.ndarray, gt: np.ndarray, mask: Optional[np.ndarray] = None) -> Dict[str, float]:
    """All pixel metrics of one composited output against its ground truth."""
    res = {"l1": l1(out, gt), "mse": mse(out, gt), "psnr": psnr(out, gt), "ssim": ssim(out, gt), "tv": tv(out)}
    if mask is not None:
        res["l1_hole"] = l1_hole(out, gt, mask)
    return res
