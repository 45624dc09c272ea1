"""Context encoder / convolutional autoencoder for inpainting.

Papers:
- Pathak, Krahenbuhl, Donahue, Darrell, Efros, "Context Encoders: Feature Learning by
  Inpainting", CVPR 2016 (as summarised in shared/papers/001 sec. II-A): an
  encoder-decoder trained with an L2 reconstruction loss on the hole plus an adversarial
  loss, L = lambda_rec * L_rec + lambda_adv * L_adv, whose encoder and decoder are joined
  by a channel-wise fully connected layer (each channel fully connected to itself across
  all positions, then a 1x1 convolution to mix channels).
- Nikhil et al., "Deep Learning for Image Inpainting" (shared/papers/001 sec. III-A2): the
  autoencoder baseline with 8 convolution blocks and 4 pooling blocks in the encoder and 4
  transposed-convolution blocks in the decoder, trained on 256x256 images with a central
  128x128 hole.

Implemented: 001's layout (4 stages of [conv3x3, conv3x3, maxpool2], widths 64-128-256-512;
4 stride-2 transposed convolutions back to RGB with tanh) with Pathak's channel-wise fully
connected bottleneck switched on by `channel_fc=True` (the registered default).
Departures: ReLU after each convolution and LeakyReLU in the discriminator follow Pathak's
code; batch normalisation is left out (the stable-variant argument of 001 sec. III-B), which
also keeps single-image inference deterministic. The channel-wise FC needs a fixed input size,
so the FC variant is registered as fixed-size (native 128x128, as in Pathak); the Inpainter
crops or resizes around the hole.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import nn

from ..layers import ConvAct
from ..registry import ModelConfig, register_model

PAPER = "Pathak et al., Context Encoders, CVPR 2016; autoencoder of shared/papers/001 sec. III-A2"


class ChannelWiseFC(nn.Module):
    """Per channel, a dense (HW x HW) map; then a 1x1 convolution across channels."""

    def __init__(self, channels: int, spatial: int):
        super().__init__()
        n = spatial * spatial
        self.spatial = spatial
        self.weight = nn.Parameter(torch.randn(channels, n, n) / n**0.5)
        self.bias = nn.Parameter(torch.zeros(channels, n))
        self.mix = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        if H != self.spatial or W != self.spatial:
            raise ValueError(f"channel-wise FC expects {self.spatial}x{self.spatial} features, got {H}x{W}")
        y = torch.einsum("bcn,cnm->bcm", x.reshape(B, C, H * W), self.weight) + self.bias
        return torch.relu(self.mix(torch.relu(y).reshape(B, C, H, W)))


class ContextEncoder(nn.Module):
    """forward(x, mask) -> {"out": image in [-1, 1]}; x in [-1, 1] with the hole zeroed."""

    def __init__(self, widths=(64, 128, 256, 512), channel_fc: bool = True, image_size: int = 128, in_ch: int = 4):
        super().__init__()
        enc, c = [], in_ch
        for w in widths:
            enc += [ConvAct(c, w, 3, act="relu"), ConvAct(w, w, 3, act="relu"), nn.MaxPool2d(2)]
            c = w
        self.encoder = nn.Sequential(*enc)
        self.bottleneck = ChannelWiseFC(c, image_size // 16) if channel_fc else nn.Identity()
        dec = []
        outs = list(reversed(widths[:-1])) + [3]
        for i, w in enumerate(outs):
            dec.append(nn.ConvTranspose2d(c, w, 4, 2, 1))
            dec.append(nn.ReLU() if i < len(outs) - 1 else nn.Tanh())
            c = w
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        z = self.encoder(torch.cat([x, mask], dim=1))
        return {"out": self.decoder(self.bottleneck(z))}


class ContextDiscriminator(nn.Module):
    """Pathak's adversarial discriminator: strided 4x4 convolutions down to a single logit."""

    def __init__(self, image_size: int = 128, width: int = 64):
        super().__init__()
        layers, c, s, w = [], 3, image_size, width
        while s > 4:
            layers += [nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2)]
            c, s, w = w, s // 2, min(w * 2, 512)
        layers += [nn.Flatten(), nn.Linear(c * s * s, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


_BASE = dict(family="context_encoder", paper=PAPER, input_range=(-1.0, 1.0), pad_mod=16,
             description="Context encoder: conv encoder, channel-wise FC, transposed-conv decoder")


def build_discriminator(image_size: int = 128, width: int = 64) -> nn.Module:
    return ContextDiscriminator(image_size, width)


@register_model(ModelConfig(name="context_encoder.base", arch=dict(widths=(64, 128, 256, 512), channel_fc=True, image_size=128),
                            native_size=128, fixed_size=True, test_only=True, **_BASE))
def context_encoder_base(**kw) -> ContextEncoder:
    return ContextEncoder(**kw)


@register_model(ModelConfig(name="context_encoder.tiny", arch=dict(widths=(4, 4, 8, 8), channel_fc=True, image_size=32),
                            native_size=32, fixed_size=True, test_only=True, **_BASE))
def context_encoder_tiny(**kw) -> ContextEncoder:
    return ContextEncoder(**kw)
