"""Spatial, channel and non-local attention blocks (torch only).

- FusingSpatialAttention and AugmentedChannelAttention: MSA-Net (Qin, Bai, Zhao, CVIU 2020;
  shared/papers/002 sec. 3.3.1 and 3.3.2).
- MaskedNonLocal: the attention module of LGNet's global refinement network
  (shared/papers/003 sec. III), a masked self-attention over a pooled key grid.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class FusingSpatialAttention(nn.Module):
    """W_s = conv3x3([Phi_f, max_c(F), mean_c(F)]), F_SA = F * sigmoid(W_s).

    Phi_f is the one-channel 'deep map' of a gradual feature extractor (F -> F1 -> F2 ->
    Phi_f, shrinking channels); the two channel poolings are CBAM's. The paper leaves the
    squashing of W_s and the extractor's activations unstated: ELU inside the extractor
    (no dead units in its thin layers), a sigmoid on W_s to keep weights in (0, 1) as in CBAM.
    """

    def __init__(self, channels: int):
        super().__init__()
        c1, c2 = max(channels // 2, 1), max(channels // 4, 1)
        self.deep = nn.Sequential(
            nn.Conv2d(channels, c1, 3, padding=1), nn.ELU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ELU(),
            nn.Conv2d(c2, 1, 3, padding=1),
        )
        self.fuse = nn.Conv2d(3, 1, 3, padding=1)

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        maps = torch.cat([self.deep(x), x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.fuse(maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention_map(x)


class AugmentedChannelAttention(nn.Module):
    """W_c = W_a + W_r, F_CA = F * sigmoid(W_c).

    W_a: global average of each channel (rough statistics). W_r: channel refinement: a
    shallow 1x1 conv squeezes F to n = C/r channels (F_s), F_E = relu(conv3x3_n(F_s)),
    average pooling, a 1x1 conv to C/r (the shared perception information, r = 4) and a
    1x1 conv back to C. As for the spatial map, the sigmoid on W_c is this
    implementation's choice (the paper does not say how W_c is squashed).
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.shallow = nn.Conv2d(channels, hidden, 1)
        self.expand = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.squeeze = nn.Conv2d(hidden, hidden, 1)
        self.restore = nn.Conv2d(hidden, channels, 1)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        w_a = F.adaptive_avg_pool2d(x, 1)
        f_e = F.relu(self.expand(self.shallow(x)))
        w_r = self.restore(F.relu(self.squeeze(F.adaptive_avg_pool2d(f_e, 1))))
        return torch.sigmoid(w_a + w_r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weights(x)


class MaskedNonLocal(nn.Module):
    """Self-attention whose keys/values sit on a grid of at most `grid` x `grid` cells and
    exclude hole cells (when any known cell exists); output added with a learned gain
    that starts small (0.1), so the block starts close to the identity while every
    projection still receives a gradient from the first step."""

    def __init__(self, channels: int, grid: int, reduction: int = 8):
        super().__init__()
        inner = max(channels // reduction, 4)
        self.grid = grid
        self.q = nn.Conv2d(channels, inner, 1)
        self.k = nn.Conv2d(channels, inner, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.full((1,), 0.1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        gh, gw = min(H, self.grid), min(W, self.grid)
        kv = F.adaptive_avg_pool2d(x, (gh, gw)) if (gh, gw) != (H, W) else x
        hole = F.adaptive_max_pool2d(mask.float(), (gh, gw)).flatten(1)  # 1 where any hole
        q = self.q(x).flatten(2).transpose(1, 2)  # (B, HW, c)
        k = self.k(kv).flatten(2)  # (B, c, G)
        v = self.v(kv).flatten(2).transpose(1, 2)  # (B, G, C)
        logits = torch.bmm(q, k) / (q.shape[-1] ** 0.5)
        keep_all = (hole > 0.5).all(dim=1, keepdim=True)
        blocked = (hole > 0.5) & ~keep_all
        logits = logits.masked_fill(blocked[:, None, :], float("-inf"))
        out = torch.bmm(torch.softmax(logits, dim=-1), v).transpose(1, 2).reshape(B, C, H, W)
        return x + self.gamma * out
