"""Contextual attention (Yu et al., "Generative Image Inpainting with Contextual Attention",
CVPR 2018; summarised in shared/papers/000 sec. III-B and 001 sec. III-C).

Hole (foreground) features are rebuilt from known (background) feature patches:
1. match: 3x3 patches of a 2x-downsampled feature map; cosine similarity of every
   foreground position with every background patch (one batched matmul);
2. attend: softmax over background patches with scale lambda (10); patches that touch
   the hole are excluded, so holes attend only to valid context;
3. propagate: scores are summed along the diagonal (fg and bg moved together) over
   fuse_k neighbours, left-right then top-down, so neighbours agree on coherent shifts;
4. reconstruct: the attention weights paste 2*rate x 2*rate raw patches of the
   full-resolution map (a transposed convolution, written as matmul + fold).
No Python loop runs over positions or batch items.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def _diagonal_sum(s: torch.Tensor, k: int) -> torch.Tensor:
    """For s shaped (N, a, b): out[n, i, j] = sum_{t=-r..r} s[n, i+t, j+t] (zero outside),
    r = k // 2, i.e. a k x k identity-kernel convolution of each (a, b) slice, done as
    shifted additions (memory-bound, much faster than a one-channel conv here)."""
    out = s.clone()
    a, b = s.shape[-2:]
    for t in range(1, k // 2 + 1):
        if t < a and t < b:
            out[:, : a - t, : b - t] += s[:, t:, t:]
            out[:, t:, t:] += s[:, : a - t, : b - t]
    return out


def propagate(scores: torch.Tensor, fg_hw: Tuple[int, int], bg_hw: Tuple[int, int], fuse_k: int) -> torch.Tensor:
    """Attention propagation on scores (B, P, L), P = fg positions, L = bg patches (row-major).

    s'(x,y,x',y') = sum_i s(x+i, y, x'+i, y') (left-right), then
    s^(x,y,x',y') = sum_j s'(x, y+j, x', y'+j) (top-down), with i, j in [-k//2, k//2]
    and zero beyond the map. (Yu et al.'s code convolves the flattened score image with an
    identity kernel, which also sums across row ends; this follows the formula exactly.)
    """
    if fuse_k <= 1:
        return scores
    B, P, L = scores.shape
    hf, wf = fg_hw
    hb, wb = bg_hw
    s = scores.reshape(B, hf, wf, hb, wb).permute(0, 1, 3, 2, 4).reshape(B * hf * hb, wf, wb)
    s = _diagonal_sum(s, fuse_k)  # left-right: x and x' move together
    s = s.reshape(B, hf, hb, wf, wb).permute(0, 3, 4, 1, 2).reshape(B * wf * wb, hf, hb)
    s = _diagonal_sum(s, fuse_k)  # top-down: y and y' move together
    s = s.reshape(B, wf, wb, hf, hb).permute(0, 3, 1, 4, 2)
    return s.reshape(B, P, L)


def contextual_attention(
    fg: torch.Tensor,
    bg: torch.Tensor,
    mask: Optional[torch.Tensor] = None,
    ksize: int = 3,
    rate: int = 2,
    fuse_k: int = 3,
    softmax_scale: float = 10.0,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rebuild `fg` from patches of `bg`.

    fg, bg: (B, C, H, W) feature maps (same size); mask: (B, 1, h, w) at any size, 1 = hole
    (resized here). Returns (output (B, C, H, W), attention (B, P, L) on the matching grid,
    best-match offsets (B, 2, Hm, Wm) in matching-grid units as (dy, dx)).
    """
    B, C, H, W = fg.shape
    # Raw 2r x 2r patches of the full-resolution background, stride r: the paste-back kernels.
    kr = 2 * rate if rate > 1 else ksize
    pad_r = (kr - rate) // 2 if rate > 1 else ksize // 2
    if rate > 1:
        f = F.interpolate(fg, scale_factor=1.0 / rate, mode="nearest")
        b = F.interpolate(bg, scale_factor=1.0 / rate, mode="nearest")
    else:
        f, b = fg, bg
    hf, wf = f.shape[-2:]
    hb, wb = b.shape[-2:]
    # Matching patches (B, L, C*k*k), normalised; foreground patches (B, C*k*k, P).
    pad = ksize // 2
    w = F.unfold(b, ksize, padding=pad).transpose(1, 2)
    w_norm = w / w.norm(dim=2, keepdim=True).clamp_min(1e-4)
    fp = F.unfold(f, ksize, padding=pad)
    scores = torch.bmm(w_norm, fp).transpose(1, 2)  # (B, P, L): cosine-like similarity
    # Valid background patches: the whole 3x3 footprint is known.
    if mask is None:
        valid = torch.ones(B, 1, hb * wb, dtype=fg.dtype, device=fg.device)
    else:
        m = F.interpolate(mask.float(), size=(hb, wb), mode="nearest")
        m = F.unfold(m, ksize, padding=pad).mean(dim=1, keepdim=True)  # (B, 1, L)
        valid = (m == 0).to(fg.dtype)
    scores = propagate(scores, (hf, wf), (hb, wb), fuse_k)
    logits = (scores * softmax_scale).masked_fill(valid == 0, float("-inf"))
    any_valid = valid.sum(dim=2, keepdim=True) > 0
    logits = torch.where(any_valid, logits, torch.zeros_like(logits))
    attn = torch.softmax(logits, dim=2) * valid  # (B, P, L)
    # Best match per foreground position, as a (dy, dx) offset on the matching grid.
    idx = attn.argmax(dim=2)  # (B, P)
    by, bx = idx // wb, idx % wb
    pos = torch.arange(hf * wf, device=fg.device)
    offsets = torch.stack([by - (pos // wf)[None], bx - (pos % wf)[None]], dim=1).reshape(B, 2, hf, wf)
    offsets = offsets * any_valid.reshape(B, 1, 1, 1)
    # Paste back: out = fold(raw_patches^T @ attention), i.e. a transposed convolution.
    raw = F.unfold(bg, kr, padding=pad_r, stride=rate)  # (B, C*kr*kr, L)
    if raw.shape[2] != hb * wb:
        raise ValueError(f"feature size {H}x{W} must be a multiple of rate={rate}")
    cols = torch.bmm(raw, attn.transpose(1, 2))  # (B, C*kr*kr, P)
    out = F.fold(cols, (H, W), kr, padding=pad_r, stride=rate)
    # Each output pixel receives (kr/rate)^2 overlapping patch contributions.
    out = out / float((kr // rate) ** 2 if rate > 1 else ksize * ksize)
    return out, attn, offsets.float()


def offsets_to_rgb(offsets: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Colour-code best-match offsets (B, 2, h, w) as in 001 Fig. 8: hue = direction,
    saturation = distance (normalised per image); pixels outside the hole are white."""
    dy, dx = offsets[:, 0], offsets[:, 1]
    mag = torch.sqrt(dx * dx + dy * dy)
    maxmag = mag.flatten(1).amax(dim=1).clamp_min(1e-6)[:, None, None]
    hue = (torch.atan2(-dy, -dx) / (2 * math.pi)) % 1.0  # [0, 1)
    sat = (mag / maxmag).clamp(0, 1)
    val = torch.ones_like(sat)
    rgb = _hsv_to_rgb(hue, sat, val)
    if mask is not None:
        m = F.interpolate(mask.float(), size=rgb.shape[-2:], mode="nearest")
        rgb = rgb * m + (1 - m)
    return rgb


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    i = i.long() % 6
    r = torch.stack([v, q, p, p, t, v], 1).gather(1, i[:, None]).squeeze(1)
    g = torch.stack([t, v, v, q, p, p], 1).gather(1, i[:, None]).squeeze(1)
    b = torch.stack([p, p, t, v, v, q], 1).gather(1, i[:, None]).squeeze(1)
    return torch.stack([r, g, b], dim=1)
