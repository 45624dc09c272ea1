"""Discriminators (critics) shared by several families; used only by the trainer.

- WGANCritic: Yu et al. 2018's global and local critics of the stable GLCIC variant
  (shared/papers/001 sec. III-B): 5x5 stride-2 convolutions (cnum, 2cnum, 4cnum, 4cnum),
  LeakyReLU, a dense layer to one score; no normalisation (WGAN-GP forbids batch norm).
  The global critic sees the whole image, the local one a window around the hole; the two
  are separate networks, as that variant prescribes.
- PatchGAN: a spectral-normalised PatchGAN (Miyato et al. 2018) as used by LGNet
  (shared/papers/003): one real/fake score per receptive-field patch.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class WGANCritic(nn.Module):
    def __init__(self, image_size: int, cnum: int = 64, depth: int = 4):
        super().__init__()
        layers, c = [], 3
        for i in range(depth):
            w = cnum * min(2**i, 4)
            layers += [nn.Conv2d(c, w, 5, 2, 2), nn.LeakyReLU(0.2)]
            c = w
        s = max(image_size // 2**depth, 1)
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * s * s, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GlobalLocalCritics(nn.Module):
    """The pair of critics; `local_size` is the side of the hole window the local one sees."""

    def __init__(self, image_size: int, local_size: int, cnum: int = 64):
        super().__init__()
        self.global_critic = WGANCritic(image_size, cnum)
        self.local_critic = WGANCritic(local_size, cnum)
        self.local_size = local_size


class PatchGAN(nn.Module):
    def __init__(self, width: int = 64, depth: int = 4, in_ch: int = 3):
        super().__init__()
        layers, c = [], in_ch
        for i in range(depth):
            w = width * min(2**i, 8)
            stride = 2 if i < depth - 1 else 1
            layers += [spectral_norm(nn.Conv2d(c, w, 4, stride, 1)), nn.LeakyReLU(0.2)]
            c = w
        layers += [spectral_norm(nn.Conv2d(c, 1, 4, 1, 1))]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
