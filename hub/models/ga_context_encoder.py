"""Context encoder trained with a gradient attention loss.

Paper: Sadowski & Grzegorzczak, "Image Inpainting with Gradient Attention"
(shared/papers/004), Table 1 and sec. 3.

Implemented: the fully convolutional dilated autoencoder of Table 1 ("CelebA inpainting"):
conv3-32, conv3-64/2, conv3-64, conv3-128/2, conv3-128 x2, dilated conv3-128 with rates 2, 4,
8, 16, conv3-128 x2, deconv3-64/2, conv3-64, deconv3-32/2, conv3-32, then a 3x3 output
convolution to RGB; its WGAN-GP discriminator (conv3-64/2, conv3-128/2, conv3-256/2,
conv3-256/2, fc-1); and the fully connected MNIST variant (fc-256 ... fc-256 on 28x28).
The loss L_inp = M*(l1 + alpha*grad_l1) + (1-M)*l1 lives with the trainer (hub/training).

Departures: Table 1 lists no activation or output layer; ELU activations and a clipped
linear output follow the networks it cites as its base (Iizuka et al. 2017, Yu et al. 2018),
and a final conv3-3 maps the last 32 channels to RGB. The paper zeroes nothing explicitly;
the input here is [image with hole zeroed, mask], like every model of the hub.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import nn

from ..layers import ConvAct
from ..registry import ModelConfig, register_model

PAPER = "Sadowski & Grzegorzczak, Image Inpainting with Gradient Attention (shared/papers/004)"


class GradientAttentionCE(nn.Module):
    """forward(x, mask) -> {"out"}; x in [-1, 1] with the hole zeroed."""

    def __init__(self, width: int = 32, dilations=(2, 4, 8, 16), in_ch: int = 4):
        super().__init__()
        c1, c2, c4 = width, 2 * width, 4 * width
        layers = [
            ConvAct(in_ch, c1, 3), ConvAct(c1, c2, 3, stride=2), ConvAct(c2, c2, 3),
            ConvAct(c2, c4, 3, stride=2), ConvAct(c4, c4, 3), ConvAct(c4, c4, 3),
        ]
        layers += [ConvAct(c4, c4, 3, dilation=d) for d in dilations]
        layers += [
            ConvAct(c4, c4, 3), ConvAct(c4, c4, 3),
            nn.ConvTranspose2d(c4, c2, 4, 2, 1), nn.ELU(), ConvAct(c2, c2, 3),
            nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ELU(), ConvAct(c1, c1, 3),
            ConvAct(c1, 3, 3, act=None),
        ]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"out": torch.clamp(self.net(torch.cat([x, mask], dim=1)), -1.0, 1.0)}


class GradientAttentionFC(nn.Module):
    """The fully connected MNIST model of Table 1: fc-256 fc-128 fc-64 fc-32 fc-64 fc-128 fc-256
    between a 28x28 input and a 28x28 output."""

    def __init__(self, size: int = 28, channels: int = 1, hidden=(256, 128, 64, 32, 64, 128, 256)):
        super().__init__()
        n = size * size * channels
        dims = [n] + list(hidden)
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers += [nn.Linear(dims[-1], n)]
        self.net = nn.Sequential(*layers)
        self.shape = (channels, size, size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        y = self.net(x.flatten(1)).reshape(x.shape[0], *self.shape)
        return {"out": torch.clamp(y, -1.0, 1.0)}


class GradientAttentionCritic(nn.Module):
    """conv3-64/2, conv3-128/2, conv3-256/2, conv3-256/2, fc-1 (Table 1, WGAN-GP critic)."""

    def __init__(self, image_size: int = 128, widths=(64, 128, 256, 256)):
        super().__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, 2, 1), nn.LeakyReLU(0.2)]
            c = w
        s = image_size // 2 ** len(widths)
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * s * s, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_discriminator(image_size: int = 128, widths=(64, 128, 256, 256)) -> nn.Module:
    return GradientAttentionCritic(image_size, widths)


_BASE = dict(family="ga_context_encoder", paper=PAPER, input_range=(-1.0, 1.0), pad_mod=4,
             description="Dilated fully convolutional context encoder (gradient attention loss)")


@register_model(ModelConfig(name="ga_context_encoder.base", arch=dict(width=32), native_size=128, test_only=True, **_BASE))
def ga_context_encoder_base(**kw) -> GradientAttentionCE:
    return GradientAttentionCE(**kw)


@register_model(ModelConfig(name="ga_context_encoder.tiny", arch=dict(width=4), native_size=32, test_only=True, **_BASE))
def ga_context_encoder_tiny(**kw) -> GradientAttentionCE:
    return GradientAttentionCE(**kw)


@register_model(ModelConfig(name="ga_context_encoder.mnist_fc", arch=dict(size=28, channels=3), native_size=28,
                            fixed_size=True, test_only=True, **{**_BASE, "pad_mod": 1,
                            "description": "Fully connected MNIST-size variant of Table 1"}))
def ga_context_encoder_mnist_fc(**kw) -> GradientAttentionFC:
    return GradientAttentionFC(**kw)
