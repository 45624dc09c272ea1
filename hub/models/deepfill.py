"""Coarse-to-fine generative inpainting with contextual attention (DeepFill v1).

Papers:
- Yu, Lin, Yang, Shen, Lu, Huang, "Generative Image Inpainting with Contextual Attention",
  CVPR 2018 (the architecture).
- Charef & Ouqour, "Coarse-to-fine inpainting with contextual attention" (shared/papers/000,
  sec. III): coarse network, then a refinement network with a parallel contextual attention
  pathway.
- Nikhil et al. (shared/papers/001 sec. III-C and V): the same network, the hyper-parameters
  of its Table I, and the `hole_ns` variant whose hole is pre-filled by Navier-Stokes.

Implemented, layer for layer after Yu et al.: input [x, ones, mask];
coarse network: conv5-c, conv3-2c/2, conv3-2c, conv3-4c/2, conv3-4c x2, dilated conv3-4c at
2/4/8/16, conv3-4c x2, up+conv3-2c, conv3-2c, up+conv3-c, conv3-c/2, conv3-3, clipped to
[-1, 1]. Refinement: the coarse result pasted into the hole, then two encoders in parallel,
a dilated one (hallucination) and one ending in contextual attention (3x3 patches, rate 2,
lambda = 10, fuse_k = 3; hub/layers/contextual_attention.py), concatenated and decoded like
the coarse decoder. ELU everywhere, no normalisation (the stable variant of 001 III-B).
`cnum` is the base width (Yu et al.: 32). The attention branch also returns the best-match
offsets as a colour image (001 Fig. 8), exposed as "attention_rgb".
Departures: none in the architecture; hole_ns pre-filling happens in the Inpainter/trainer
(it is not differentiable), the network itself is the same.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import nn
import torch.nn.functional as F

from ..layers import ConvAct, UpConvAct, contextual_attention, mask_channels, offsets_to_rgb
from ..registry import ModelConfig, register_model
from .critics import GlobalLocalCritics

PAPER = "Yu et al., Generative Image Inpainting with Contextual Attention, CVPR 2018; shared/papers/000 sec. III; 001 sec. III-C"


def _dilated_trunk(c: int, dilations) -> list:
    return [ConvAct(c, c, 3, dilation=d) for d in dilations]


def _decoder(cin: int, cnum: int) -> nn.Sequential:
    return nn.Sequential(
        ConvAct(cin, 4 * cnum, 3), ConvAct(4 * cnum, 4 * cnum, 3),
        UpConvAct(4 * cnum, 2 * cnum), ConvAct(2 * cnum, 2 * cnum, 3),
        UpConvAct(2 * cnum, cnum), ConvAct(cnum, max(cnum // 2, 3), 3),
        ConvAct(max(cnum // 2, 3), 3, 3, act=None),
    )


class CoarseNet(nn.Module):
    def __init__(self, cnum: int, dilations=(2, 4, 8, 16)):
        super().__init__()
        c = cnum
        self.encoder = nn.Sequential(
            ConvAct(5, c, 5), ConvAct(c, 2 * c, 3, stride=2), ConvAct(2 * c, 2 * c, 3),
            ConvAct(2 * c, 4 * c, 3, stride=2), ConvAct(4 * c, 4 * c, 3), ConvAct(4 * c, 4 * c, 3),
            *_dilated_trunk(4 * c, dilations),
        )
        self.decoder = _decoder(4 * c, cnum)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.decoder(self.encoder(mask_channels(x, mask))), -1.0, 1.0)


class RefineNet(nn.Module):
    def __init__(self, cnum: int, dilations=(2, 4, 8, 16), ca_rate: int = 2, fuse_k: int = 3, softmax_scale: float = 10.0):
        super().__init__()
        c = cnum
        self.hallucinate = nn.Sequential(
            ConvAct(5, c, 5), ConvAct(c, c, 3, stride=2), ConvAct(c, 2 * c, 3),
            ConvAct(2 * c, 2 * c, 3, stride=2), ConvAct(2 * c, 4 * c, 3), ConvAct(4 * c, 4 * c, 3),
            *_dilated_trunk(4 * c, dilations),
        )
        self.attend_in = nn.Sequential(
            ConvAct(5, c, 5), ConvAct(c, c, 3, stride=2), ConvAct(c, 2 * c, 3),
            ConvAct(2 * c, 4 * c, 3, stride=2), ConvAct(4 * c, 4 * c, 3), ConvAct(4 * c, 4 * c, 3, act="relu"),
        )
        self.attend_out = nn.Sequential(ConvAct(4 * c, 4 * c, 3), ConvAct(4 * c, 4 * c, 3))
        self.decoder = _decoder(8 * c, cnum)
        self.ca = dict(rate=ca_rate, fuse_k=fuse_k, softmax_scale=softmax_scale)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        xin = mask_channels(x, mask)
        h = self.hallucinate(xin)
        a = self.attend_in(xin)
        m_small = F.interpolate(mask, size=a.shape[-2:], mode="nearest")
        a, _, offsets = contextual_attention(a, a, m_small, ksize=3, **self.ca)
        a = self.attend_out(a)
        y = torch.clamp(self.decoder(torch.cat([h, a], dim=1)), -1.0, 1.0)
        return y, offsets


class DeepFillV1(nn.Module):
    """forward(x, mask) -> {"out": refined, "coarse": coarse, "attention_rgb": offsets as colour}."""

    def __init__(self, cnum: int = 32, dilations=(2, 4, 8, 16), ca_rate: int = 2, fuse_k: int = 3, softmax_scale: float = 10.0):
        super().__init__()
        self.coarse = CoarseNet(cnum, dilations)
        self.refine = RefineNet(cnum, dilations, ca_rate, fuse_k, softmax_scale)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        coarse = self.coarse(x, mask)
        merged = coarse * mask + x * (1 - mask)
        out, offsets = self.refine(merged, mask)
        attn_rgb = offsets_to_rgb(offsets, F.interpolate(mask, size=offsets.shape[-2:], mode="nearest"))
        attn_rgb = F.interpolate(attn_rgb, size=x.shape[-2:], mode="nearest")
        return {"out": out, "coarse": coarse, "attention_rgb": attn_rgb}


def build_discriminator(image_size: int, local_size: int, cnum: int = 64) -> nn.Module:
    return GlobalLocalCritics(image_size, local_size, cnum)


_BASE = dict(family="deepfill_v1", paper=PAPER, input_range=(-1.0, 1.0), pad_mod=8,
             description="Coarse-to-fine network with contextual attention (DeepFill v1)")
_NS = dict(_BASE, family="deepfill_v1_ns", prefill="ns",
           description="DeepFill v1 with the hole pre-filled by Navier-Stokes (hole_ns, 001 sec. V)")


@register_model(ModelConfig(name="deepfill_v1.base", arch=dict(cnum=32), native_size=256, max_side=512, test_only=True, **_BASE))
def deepfill_v1_base(**kw) -> DeepFillV1:
    return DeepFillV1(**kw)


@register_model(ModelConfig(name="deepfill_v1.small", arch=dict(cnum=16), native_size=128, max_side=128, test_only=True, **_BASE))
def deepfill_v1_small(**kw) -> DeepFillV1:
    """Half the paper's width: the variant trained on 2 CPU cores."""
    return DeepFillV1(**kw)


@register_model(ModelConfig(name="deepfill_v1.tiny", arch=dict(cnum=4), native_size=32, test_only=True, **_BASE))
def deepfill_v1_tiny(**kw) -> DeepFillV1:
    return DeepFillV1(**kw)


@register_model(ModelConfig(name="deepfill_v1_ns.base", arch=dict(cnum=32), native_size=256, max_side=512, test_only=True, **_NS))
def deepfill_v1_ns_base(**kw) -> DeepFillV1:
    return DeepFillV1(**kw)


@register_model(ModelConfig(name="deepfill_v1_ns.tiny", arch=dict(cnum=4), native_size=32, test_only=True, **_NS))
def deepfill_v1_ns_tiny(**kw) -> DeepFillV1:
    return DeepFillV1(**kw)
