"""Image quality metrics of the leaderboard, each with a written definition.

Common ground for every metric here unless its docstring says otherwise:
- inputs are the COMPOSITED output (known pixels = ground truth) and the ground truth,
  as (H, W, 3) uint8 arrays or float arrays in [0, 1]; scores are per image, then averaged;
- "whole image" means all pixels and channels of the evaluation-size image (256x256 by
  default), so the score grows with the hole ratio, as in the papers' binned tables;
  "hole" means only the pixels of the mask.

Definitions:
- l1        whole-image mean absolute error on [0, 1], in percent (x100), as the l1(%) of
            shared/papers/000 and 003.
- l1_hole   the same, over hole pixels only (percent).
- mse       whole-image mean squared error on the 0..255 scale (as in 001 Table II).
- psnr      10*log10(255^2 / mse) in dB; capped at PSNR_CAP = 100 dB (identical images).
- ssim      scikit-image structural_similarity on RGB (channel_axis=-1), data_range 1,
            Gaussian window sigma 1.5 (11x11), population covariance: the settings of
            Wang et al. 2004; the mean over channels. Undefined (NaN) below 7x7 pixels.
- tv        total variation of the output (001): mean |horizontal difference| + mean
            |vertical difference| on the 0..255 scale, whole image. Lower is smoother;
            it says nothing about fidelity on its own.
- lpips     LPIPS (Zhang et al. 2018), AlexNet trunk, inputs in [-1, 1]; lower is better.
            Needs pretrained AlexNet weights (hub/metrics/perceptual.py).
- fid       Frechet Inception distance per bin between outputs and ground truths
            (2048-d pool features), only when a bin has at least FID_MIN_SAMPLES images.
            Needs pretrained Inception weights.
"""
from __future__ import annotations

from .pixel import PSNR_CAP, METRIC_VERSION, l1, l1_hole, mse, psnr, ssim, tv, pixel_metrics

__all__ = ["PSNR_CAP", "METRIC_VERSION", "l1", "l1_hole", "mse", "psnr", "ssim", "tv", "pixel_metrics"]
