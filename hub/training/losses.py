"""Training losses of the papers (torch only).

Images here are in the network's own range; masks are (N, 1, H, W), 1 = hole.
"""
from __future__ import annotations

import logging
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)


def masked_mean(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of x over the pixels where weight > 0, weighted (broadcast over channels)."""
    w = weight.expand_as(x)
    return (x * w).sum() / w.sum().clamp_min(1e-8)


def l2_hole(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Context encoder reconstruction loss: ||M * (x - F(x))||^2, averaged over hole pixels."""
    return masked_mean((pred - target) ** 2, mask)


def spatial_discount(mask: torch.Tensor, gamma: float = 0.9) -> torch.Tensor:
    """Yu et al.'s spatially discounted weights: gamma ** (distance to the nearest known
    pixel) inside the hole, 0 outside. The distance is the chessboard distance, computed
    by repeated 3x3 max-pool erosion of the hole (exact for that metric)."""
    hole = mask > 0.5
    weight = torch.zeros_like(mask)
    current = hole.float()
    d = 0
    while bool(current.any()) and d < max(mask.shape[-2:]):
        d += 1
        # pixels still in the eroded hole are at distance >= d from the known region
        eroded = 1.0 - F.max_pool2d(1.0 - current, 3, 1, 1)
        ring = (current > 0.5) & (eroded < 0.5)
        weight = torch.where(ring, torch.full_like(mask, gamma**d), weight)
        current = eroded
    return weight


def discounted_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, gamma: float = 0.9) -> torch.Tensor:
    """Spatially discounted L1 on the hole plus plain L1 on the known area (Yu et al.'s ae loss)."""
    w = spatial_discount(mask, gamma)
    hole_term = (torch.abs(pred - target) * w).sum() / (w.sum().clamp_min(1e-8) * pred.shape[1])
    known_term = masked_mean(torch.abs(pred - target), 1 - mask)
    return hole_term + known_term


def image_gradients(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Backward differences of 004 sec. 3: (I[i,j] - I[i-1,j], I[i,j] - I[i,j-1]), zero on the first row/column."""
    dy = torch.zeros_like(x)
    dx = torch.zeros_like(x)
    dy[..., 1:, :] = x[..., 1:, :] - x[..., :-1, :]
    dx[..., :, 1:] = x[..., :, 1:] - x[..., :, :-1]
    return dy, dx


def grad_l1_map(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """|grad I - grad R| per pixel (sum of the two directions)."""
    py, px = image_gradients(pred)
    ty, tx = image_gradients(target)
    return torch.abs(py - ty) + torch.abs(px - tx)


def dilate(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    if pixels <= 0:
        return mask
    return F.max_pool2d(mask, 2 * pixels + 1, 1, pixels)


def gradient_attention_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, alpha: float = 1.0, margin: int = 3) -> torch.Tensor:
    """L_inp = M * (l1 + alpha * grad_l1) + (1 - M) * l1 (004 sec. 3), M = the hole grown by
    `margin` pixels ("1s in the missing region with several pixels margin"), averaged per pixel."""
    m = dilate(mask, margin)
    l1 = torch.abs(pred - target)
    per_pixel = m * (l1 + alpha * grad_l1_map(pred, target)) + (1 - m) * l1
    return per_pixel.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 on random interpolates.
    With `weight` (Yu et al.'s mask), the gradient norm is taken over the hole only."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(x_hat)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    if weight is not None:
        grad = grad * weight
    norm = grad.flatten(1).norm(dim=1)
    return ((norm - 1.0) ** 2).mean()


def gram(f: torch.Tensor) -> torch.Tensor:
    """Gram matrix normalised by C*H*W (the K_i of 002 eq. 15)."""
    B, C, H, W = f.shape
    v = f.reshape(B, C, H * W)
    return torch.bmm(v, v.transpose(1, 2)) / (C * H * W)


def norm_per_element(d: torch.Tensor) -> torch.Tensor:
    """||d||_2 / (number of elements): the normalisation of 002 eqs. 11 and 12 (a norm, not
    its square, divided by W*H*C)."""
    return d.flatten().norm(p=2) / d.numel()


def perceptual_loss(feats_out: Sequence[torch.Tensor], feats_gt: Sequence[torch.Tensor], kind: str = "l2") -> torch.Tensor:
    """sum_i of a distance between F_i^out and F_i^gt: "l2" is 002 eq. 12, ||.||_2 / (W_i H_i C_i);
    "l1" is the mean absolute difference (LGNet's perceptual loss)."""
    total = feats_out[0].new_zeros(())
    for a, b in zip(feats_out, feats_gt):
        d = a - b.detach()
        total = total + (norm_per_element(d) if kind == "l2" else d.abs().mean())
    return total


def style_loss(feats_out: Sequence[torch.Tensor], feats_gt: Sequence[torch.Tensor]) -> torch.Tensor:
    """sum_i mean |G(F_i^out) - G(F_i^gt)| (002 eq. 15)."""
    total = feats_out[0].new_zeros(())
    for a, b in zip(feats_out, feats_gt):
        total = total + torch.abs(gram(a) - gram(b.detach())).mean()
    return total


def _hub_unreachable(repo: str) -> str:
    """A reason when the weights are neither cached nor downloadable (checked in
    milliseconds, instead of minutes of download retries); "" otherwise."""
    import socket

    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(repo, "model.safetensors"), str):
            return ""
    except Exception:
        pass
    try:
        socket.getaddrinfo("huggingface.co", 443)
        return ""
    except OSError:
        return f"pretrained VGG16 weights ({repo}) unavailable: not cached and huggingface.co cannot be reached"


class VGGFeatures(torch.nn.Module):
    """VGG16 features through timm (`features_only`) for LGNet's perceptual and style losses.

    Needs ImageNet-pretrained weights. `load()` returns None, with the reason logged, when
    they cannot be obtained (no network, nothing cached): the trainer then disables those
    loss terms and records that in the model card. Random VGG features are never used.
    """

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1))

    @classmethod
    def load(cls) -> Tuple[Optional["VGGFeatures"], str]:
        reason = _hub_unreachable("timm/vgg16.tv_in1k")
        if reason:
            log.warning("perceptual/style losses disabled: %s", reason)
            return None, reason
        try:
            import timm

            model = timm.create_model("vgg16.tv_in1k", pretrained=True, features_only=True, out_indices=(1, 2, 3))
        except Exception as exc:  # no weights offline: any hub/network error ends here
            reason = f"pretrained VGG16 weights unavailable ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
            log.warning("perceptual/style losses disabled: %s", reason)
            return None, reason
        return cls(model), ""

    def forward(self, x01: torch.Tensor) -> List[torch.Tensor]:
        return self.model((x01 - self.mean) / self.std)
