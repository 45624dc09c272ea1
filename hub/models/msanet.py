"""MSA-Net: multi-scale attention network for image inpainting.

Paper: Qin, Bai, Zhao, "Multi-scale attention network for image inpainting", Computer Vision
and Image Understanding, 2020 (shared/papers/002), sec. 3.

Implemented:
- shallow feature extraction, then a multi-scale attention group (MSAG) of MSAUs. Each MSAU
  (sec. 3.2): a stride-2 downsampling convolution + ReLU (eq. 1); four parallel dilated
  3x3 convolutions with rates 1, 2, 4, 8 (eq. 2); fusing spatial attention on each scale
  (eq. 3, sec. 3.3.1); augmented channel attention over the concatenated scales (eq. 4,
  sec. 3.3.2, r = 4, W_c = W_a + W_r); an aggregating 1x1 convolution ("Reduce", Table 1);
- the max-pooling mask update (sec. 3.4) at every downsampling layer: the valid map
  (1 = known) is max-pooled with the layer's kernel and stride, so the valid region grows by
  the pooling footprint, and it is concatenated to the features entering the next layer;
- image restoration (sec. 3.3.3): three IRUs, each a stride-2 transposed convolution
  followed by channel then spatial attention (eq. 10), and a 3x3 convolution to RGB;
- the features for the loss of sec. 3.5 (aggregated multi-scale output of the last MSAU and
  the three restoration deconvolutions) are returned as "feats".
Widths follow Table 1 for MSAU1 (four scales of 48 channels, 192 in all).
Departures: the paper gives no input range or output activation: inputs are in [0, 1] and
the output is a linear convolution (clamped at inference). Sigmoids squash both attention
maps (unstated in the paper, standard in CBAM).
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch
from torch import nn
import torch.nn.functional as F

from ..layers import AugmentedChannelAttention, ConvAct, FusingSpatialAttention
from ..registry import ModelConfig, register_model

PAPER = "Qin, Bai, Zhao, Multi-scale attention network for image inpainting, CVIU 2020 (shared/papers/002)"


def update_mask(valid: torch.Tensor, kernel: int, stride: int = 2) -> torch.Tensor:
    """The max-pooling mask update: a position is valid if any valid input lies under the
    kernel footprint (valid: 1 = known, 0 = hole)."""
    return F.max_pool2d(valid, kernel, stride, padding=kernel // 2)


class MSAU(nn.Module):
    """Multi-scale attention unit (downsampling conv, 4 dilated scales, FSA per scale, ACA, 1x1)."""

    def __init__(self, cin: int, cout: int, scale_width: int, rates: Sequence[int] = (1, 2, 4, 8), kernel: int = 3, reduction: int = 4):
        super().__init__()
        self.kernel = kernel
        self.down = ConvAct(cin + 1, cout, kernel, stride=2, act="relu")
        self.scales = nn.ModuleList([ConvAct(cout, scale_width, 3, dilation=r, act="relu") for r in rates])
        self.spatial = nn.ModuleList([FusingSpatialAttention(scale_width) for _ in rates])
        self.channel = AugmentedChannelAttention(scale_width * len(rates), reduction)
        self.aggregate = nn.Conv2d(scale_width * len(rates), cout, 1)

    def forward(self, x: torch.Tensor, valid: torch.Tensor):
        fd = self.down(torch.cat([x, valid], dim=1))
        valid = update_mask(valid, self.kernel)
        fs = torch.cat([sa(conv(fd)) for conv, sa in zip(self.scales, self.spatial)], dim=1)
        return F.relu(self.aggregate(self.channel(fs))), valid


class IRU(nn.Module):
    """Image restoration unit: transposed conv (x2), then channel attention, then spatial attention."""

    def __init__(self, cin: int, cout: int, reduction: int = 4):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 4, 2, 1)
        self.channel = AugmentedChannelAttention(cout, reduction)
        self.spatial = FusingSpatialAttention(cout)

    def forward(self, x: torch.Tensor):
        u = F.relu(self.deconv(x))
        return self.spatial(self.channel(u)), u


class MSANet(nn.Module):
    """forward(x, mask) -> {"out": image in [0, 1] (linear), "feats": loss feature maps}."""

    def __init__(self, width: int = 64, msau_widths: Sequence[int] = (192, 256), scale_width: int = 48, restore_widths: Sequence[int] = (128, 64, 32)):
        super().__init__()
        c = width
        self.shallow = nn.Sequential(ConvAct(4, c, 3, act="relu"), ConvAct(c, c, 3, act="relu"))
        self.fe_down = ConvAct(c + 1, 2 * c, 3, stride=2, act="relu")
        units, cin = [], 2 * c
        for w in msau_widths:
            units.append(MSAU(cin, w, scale_width))
            cin = w
        self.msag = nn.ModuleList(units)
        restore, rin = [], cin
        for w in restore_widths:
            restore.append(IRU(rin, w))
            rin = w
        self.restore = nn.ModuleList(restore)
        self.to_rgb = nn.Conv2d(rin, 3, 3, padding=1)
        self.downsamplings = 1 + len(msau_widths)
        if len(restore_widths) != self.downsamplings:
            raise ValueError("MSA-Net needs one IRU per downsampling layer")

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        valid = 1.0 - mask
        h = self.shallow(torch.cat([x, mask], dim=1))
        h = self.fe_down(torch.cat([h, valid], dim=1))
        valid = update_mask(valid, 3)
        for unit in self.msag:
            h, valid = unit(h, valid)
        feats: List[torch.Tensor] = [h]
        for iru in self.restore:
            h, u = iru(h)
            feats.append(u)
        return {"out": self.to_rgb(h), "feats": feats}


_BASE = dict(family="msanet", paper=PAPER, input_range=(0.0, 1.0), pad_mod=8,
             description="Multi-scale attention network (MSAUs, mask update, channel-spatial IRUs)")


@register_model(ModelConfig(name="msanet.base", arch=dict(width=64), native_size=256, max_side=512, test_only=True, **_BASE))
def msanet_base(**kw) -> MSANet:
    return MSANet(**kw)


@register_model(ModelConfig(name="msanet.small", arch=dict(width=32), native_size=128, max_side=128, test_only=True, **_BASE))
def msanet_small(**kw) -> MSANet:
    """Half the stem width: the variant trained on 2 CPU cores."""
    return MSANet(**kw)


@register_model(ModelConfig(name="msanet.tiny", arch=dict(width=8, msau_widths=(16, 16), scale_width=8, restore_widths=(16, 8, 8)),
                            native_size=32, test_only=True, **_BASE))
def msanet_tiny(**kw) -> MSANet:
    return MSANet(**kw)
