"""LGNet: image inpainting with local and global refinement.

Paper: Sriram, Chaitanya, Kumar, "Image Inpainting With Local And Global Refinement"
(shared/papers/003), sec. III, after Quan et al.'s three-stage design.

Implemented, three stages with merges between them (sec. III):
1. coarse network: an encoder-decoder with skip connections (U-Net) down to 1/16 and two
   dilated convolutions at the bottom, for a receptive field larger than the image;
   I_out^C, merged I_mer^C = I_in*(1-M) + I_out^C*M;
2. local refinement NetL on [I_mer^C, M]: shallow, a small receptive field, built of
   two-layer residual blocks at half resolution; I_out^L, merged I_mer^L;
3. global refinement NetG on [I_mer^L, M]: an encoder-decoder whose decoder carries three
   attention modules on 16x16, 32x32 and 64x64 grids (hub/layers/attention.py,
   MaskedNonLocal: keys pooled onto that grid, hole cells excluded); I_out^G.
The three outputs are exposed ("coarse", "local", "out") for the per-stage losses (L1,
perceptual and style on VGG features, SN-PatchGAN; hub/training).
Departures: the paper's attention module is not specified beyond its resolutions; a masked
non-local block stands in. The text describes NetG's input ambiguously; it gets the merged
image and the mask, like NetL. Outputs are clipped to [-1, 1] as in the stable variants.
"""
from __future__ import annotations

from typing import Dict, Sequence

import torch
from torch import nn
import torch.nn.functional as F

from ..layers import ConvAct, MaskedNonLocal, UpConvAct
from ..registry import ModelConfig, register_model
from .critics import PatchGAN

PAPER = "Sriram, Chaitanya, Kumar, Image Inpainting With Local And Global Refinement (shared/papers/003)"


class UNet(nn.Module):
    """Encoder-decoder with skip connections; optional attention modules in the decoder."""

    def __init__(self, cin: int, width: int, depth: int = 4, dilations: Sequence[int] = (2, 4), attention_grids: Sequence[int] = ()):
        super().__init__()
        widths = [min(width * 2**i, 8 * width) for i in range(depth + 1)]
        self.stem = ConvAct(cin, widths[0], 5, act="elu")
        self.down = nn.ModuleList([ConvAct(widths[i], widths[i + 1], 3, stride=2) for i in range(depth)])
        self.bottom = nn.Sequential(*[ConvAct(widths[-1], widths[-1], 3, dilation=d) for d in dilations])
        self.up = nn.ModuleList([UpConvAct(widths[i + 1], widths[i]) for i in reversed(range(depth))])
        self.fuse = nn.ModuleList([ConvAct(2 * widths[i], widths[i], 3) for i in reversed(range(depth))])
        # Attention on the 1/16, 1/8 and 1/4 maps (16, 32 and 64 cells at 256 px): the
        # bottom of the U and the outputs of the first two decoder stages.
        self.attn = nn.ModuleDict()
        for grid in attention_grids:
            stage = {16: -1, 32: 0, 64: 1}[grid]
            key = "bottom" if stage < 0 else str(stage)
            self.attn[key] = MaskedNonLocal(widths[depth - 1 - stage] if stage >= 0 else widths[depth], grid)
        self.to_rgb = ConvAct(widths[0], 3, 3, act=None)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        skips = []
        for d in self.down:
            skips.append(h)
            h = d(h)
        h = self._attend("bottom", self.bottom(h), mask)
        for i, (up, fuse) in enumerate(zip(self.up, self.fuse)):
            h = self._attend(str(i), fuse(torch.cat([up(h), skips[-1 - i]], dim=1)), mask)
        return torch.clamp(self.to_rgb(h), -1.0, 1.0)

    def _attend(self, key: str, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if key not in self.attn:
            return h
        return self.attn[key](h, F.interpolate(mask, size=h.shape[-2:], mode="nearest"))


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(ConvAct(c, c, 3), ConvAct(c, c, 3, act=None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x + self.body(x))


class LocalRefine(nn.Module):
    """Shallow network with a small receptive field: stem, one stride-2 conv, residual blocks, up."""

    def __init__(self, width: int, blocks: int = 4):
        super().__init__()
        self.net = nn.Sequential(
            ConvAct(4, width, 3), ConvAct(width, 2 * width, 3, stride=2),
            *[ResBlock(2 * width) for _ in range(blocks)],
            UpConvAct(2 * width, width), ConvAct(width, 3, 3, act=None),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.net(x), -1.0, 1.0)


class LGNet(nn.Module):
    """forward(x, mask) -> {"out": I_out^G, "coarse": I_out^C, "local": I_out^L}; x in [-1, 1], hole zeroed."""

    def __init__(self, width: int = 32, local_width: int = 32, local_blocks: int = 4, global_width: int = 32):
        super().__init__()
        self.coarse = UNet(4, width, depth=4, dilations=(2, 4))
        self.local = LocalRefine(local_width, local_blocks)
        self.globl = UNet(4, global_width, depth=4, dilations=(), attention_grids=(16, 32, 64))

    @staticmethod
    def merge(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x * (1 - mask) + y * mask

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        coarse = self.coarse(torch.cat([x, mask], dim=1), mask)
        local = self.local(torch.cat([self.merge(x, coarse, mask), mask], dim=1))
        out = self.globl(torch.cat([self.merge(x, local, mask), mask], dim=1), mask)
        return {"out": out, "coarse": coarse, "local": local}


def build_discriminator(width: int = 64) -> nn.Module:
    return PatchGAN(width)


_BASE = dict(family="lgnet", paper=PAPER, input_range=(-1.0, 1.0), pad_mod=16,
             description="Three-stage network: coarse U-Net, local refinement, global refinement with attention")


@register_model(ModelConfig(name="lgnet.base", arch=dict(width=32), native_size=256, max_side=512, test_only=True, **_BASE))
def lgnet_base(**kw) -> LGNet:
    return LGNet(**kw)


@register_model(ModelConfig(name="lgnet.small", arch=dict(width=16, local_width=16, global_width=16), native_size=128,
                            max_side=128, test_only=True, **_BASE))
def lgnet_small(**kw) -> LGNet:
    """Half the widths: the variant trained on 2 CPU cores."""
    return LGNet(**kw)


@register_model(ModelConfig(name="lgnet.tiny", arch=dict(width=4, local_width=4, local_blocks=1, global_width=4),
                            native_size=32, test_only=True, **_BASE))
def lgnet_tiny(**kw) -> LGNet:
    return LGNet(**kw)
