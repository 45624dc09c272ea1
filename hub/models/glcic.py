"""GLCIC, globally and locally consistent image completion, in its stable variant.

Papers:
- Iizuka, Simo-Serra, Ishikawa, "Globally and Locally Consistent Image Completion",
  ACM TOG 36(4), 2017: a completion network of convolutions with dilated convolutions in
  the middle (rates 2, 4, 8, 16) at 1/4 resolution, trained against a global and a local
  discriminator.
- The stable variant of shared/papers/001 sec. III-B (after Yu et al. 2018): no batch
  normalisation, ELU instead of ReLU, output clipped to [-1, 1] instead of tanh/sigmoid,
  WGAN-GP with separate global and local critics (hub/models/critics.py), and a spatially
  discounted L1 loss (gamma = 0.9); hyper-parameters of 001 Table I.

Implemented: Iizuka's completion network layer by layer (conv5x5-64, conv3-128/2, conv3-128,
conv3-256/2, conv3-256 x2, dilated conv3-256 at 2/4/8/16, conv3-256 x2, deconv4-128/2,
conv3-128, deconv4-64/2, conv3-32, conv3-3) with the stable-variant changes above. Width is
`width` (Iizuka: 64); the input is [image with hole zeroed, ones, mask].
Departures: the ones channel (Yu et al.'s border cue) is added to Iizuka's RGB+mask input.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import nn

from ..layers import ConvAct, mask_channels
from ..registry import ModelConfig, register_model
from .critics import GlobalLocalCritics

PAPER = "Iizuka et al., GLCIC, TOG 2017; stable variant of shared/papers/001 sec. III-B"


class GLCICGenerator(nn.Module):
    def __init__(self, width: int = 64, dilations=(2, 4, 8, 16)):
        super().__init__()
        c1, c2, c4 = width, 2 * width, 4 * width
        layers = [
            ConvAct(5, c1, 5), ConvAct(c1, c2, 3, stride=2), ConvAct(c2, c2, 3),
            ConvAct(c2, c4, 3, stride=2), ConvAct(c4, c4, 3), ConvAct(c4, c4, 3),
        ]
        layers += [ConvAct(c4, c4, 3, dilation=d) for d in dilations]
        layers += [
            ConvAct(c4, c4, 3), ConvAct(c4, c4, 3),
            nn.ConvTranspose2d(c4, c2, 4, 2, 1), nn.ELU(), ConvAct(c2, c2, 3),
            nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ELU(), ConvAct(c1, max(c1 // 2, 3), 3),
            ConvAct(max(c1 // 2, 3), 3, 3, act=None),
        ]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"out": torch.clamp(self.net(mask_channels(x, mask)), -1.0, 1.0)}


def build_discriminator(image_size: int, local_size: int, cnum: int = 64) -> nn.Module:
    return GlobalLocalCritics(image_size, local_size, cnum)


_BASE = dict(family="glcic", paper=PAPER, input_range=(-1.0, 1.0), pad_mod=4,
             description="GLCIC completion network, stable variant (ELU, no BN, clipped output)")


@register_model(ModelConfig(name="glcic.base", arch=dict(width=64), native_size=256, max_side=512, test_only=True, **_BASE))
def glcic_base(**kw) -> GLCICGenerator:
    return GLCICGenerator(**kw)


@register_model(ModelConfig(name="glcic.small", arch=dict(width=32), native_size=128, max_side=128, test_only=True, **_BASE))
def glcic_small(**kw) -> GLCICGenerator:
    """Half the paper's width: the variant trained on 2 CPU cores."""
    return GLCICGenerator(**kw)


@register_model(ModelConfig(name="glcic.tiny", arch=dict(width=4), native_size=32, test_only=True, **_BASE))
def glcic_tiny(**kw) -> GLCICGenerator:
    return GLCICGenerator(**kw)
