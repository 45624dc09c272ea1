"""LPIPS and FID: metrics that need pretrained networks.

Both use the standard loaders (the `lpips` package with torchvision's AlexNet; torchvision's
Inception v3). Where the weights cannot be had (no network and nothing cached), `load_*`
returns None and a plain reason; the benchmark then leaves the column empty with that reason
recorded. A score computed with randomly initialised trunks is never reported under these
names (tests may build such trunks explicitly to exercise the code path).
"""
from __future__ import annotations

import logging
import socket
from typing import Optional, Tuple

import numpy as np
import torch

log = logging.getLogger(__name__)

FID_MIN_SAMPLES = 50
METRIC_VERSION = "perceptual-1"


def _offline_reason() -> Optional[str]:
    """Fail fast when the weight hosts cannot even be resolved (avoids minutes of retries)."""
    try:
        socket.getaddrinfo("download.pytorch.org", 443)
        return None
    except OSError:
        return "no network access to download.pytorch.org and no cached copy"


def _cached(filename: str) -> bool:
    from pathlib import Path

    return (Path(torch.hub.get_dir()) / "checkpoints" / filename).is_file()


def _load_pretrained(what: str, cache_file: str, allow_random: bool, build):
    """build() unless the weights are neither cached nor downloadable; (object, "") or (None, reason)."""
    if not allow_random and not _cached(cache_file):
        reason = _offline_reason()
        if reason:
            return None, f"pretrained {what} unavailable: {reason}"
    try:
        return build(), ""
    except Exception as exc:  # download or hub errors of any kind end here
        return None, f"pretrained {what} unavailable ({type(exc).__name__}: {str(exc)[:120]})"


class LPIPSMetric:
    """LPIPS with the AlexNet trunk; images (N,3,H,W) in [0,1]."""

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()

    @classmethod
    def load(cls, allow_random_trunk: bool = False) -> Tuple[Optional["LPIPSMetric"], str]:
        try:
            import lpips
        except Exception as exc:  # torchvision/lpips import problems
            return None, f"lpips package unavailable ({exc})"
        return _load_pretrained(
            "AlexNet weights for LPIPS", "alexnet-owt-7be5be79.pth", allow_random_trunk,
            lambda: cls(lpips.LPIPS(pretrained=True, net="alex", pnet_rand=allow_random_trunk, verbose=False)))

    @torch.no_grad()
    def __call__(self, out01: torch.Tensor, gt01: torch.Tensor) -> np.ndarray:
        d = self.model(out01 * 2 - 1, gt01 * 2 - 1)
        return d.flatten().cpu().numpy()


class InceptionFeatures:
    """2048-d pool features of torchvision's Inception v3 (ImageNet weights), inputs resized to 299."""

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()

    @classmethod
    def load(cls, allow_random: bool = False) -> Tuple[Optional["InceptionFeatures"], str]:
        try:
            from torchvision.models import Inception_V3_Weights, inception_v3
        except Exception as exc:
            return None, f"torchvision unavailable ({exc})"

        def build():
            weights = None if allow_random else Inception_V3_Weights.IMAGENET1K_V1
            model = inception_v3(weights=weights, aux_logits=True, init_weights=allow_random)
            model.fc = torch.nn.Identity()
            return cls(model)

        return _load_pretrained("Inception v3 weights for FID", "inception_v3_google-0cc3c7bd.pth", allow_random, build)

    @torch.no_grad()
    def __call__(self, x01: torch.Tensor) -> np.ndarray:
        x = torch.nn.functional.interpolate(x01, size=(299, 299), mode="bilinear", align_corners=False)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return self.model((x - mean) / std).cpu().numpy().astype(np.float64)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """FID between two feature sets: |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2)."""
    from scipy import linalg

    if len(feats_a) < FID_MIN_SAMPLES or len(feats_b) < FID_MIN_SAMPLES:
        return float("nan")
    mu_a, mu_b = feats_a.mean(0), feats_b.mean(0)
    s_a, s_b = np.cov(feats_a, rowvar=False), np.cov(feats_b, rowvar=False)
    covmean = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():
        eps = np.eye(s_a.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean))
