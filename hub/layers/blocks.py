"""Small convolution blocks shared by the model families (torch only)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
import torch.nn.functional as F


def same_padding(kernel: int, dilation: int = 1) -> int:
    return dilation * (kernel - 1) // 2


class ConvAct(nn.Sequential):
    """Conv2d with 'same' padding (for stride 1) followed by an activation (or none)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1,
                 act: Optional[str] = "elu", bias: bool = True):
        layers = [nn.Conv2d(cin, cout, k, stride, same_padding(k, dilation), dilation, bias=bias)]
        a = make_act(act)
        if a is not None:
            layers.append(a)
        super().__init__(*layers)


class UpConvAct(nn.Module):
    """Nearest-neighbour x2 upsampling then a 3x3 conv (DeepFill's 'gen_deconv'): avoids
    the checkerboard of strided transposed convolutions."""

    def __init__(self, cin: int, cout: int, act: Optional[str] = "elu"):
        super().__init__()
        self.conv = ConvAct(cin, cout, 3, 1, 1, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def make_act(act: Optional[str]) -> Optional[nn.Module]:
    if act is None:
        return None
    return {
        "elu": lambda: nn.ELU(inplace=False),
        "relu": lambda: nn.ReLU(inplace=False),
        "lrelu": lambda: nn.LeakyReLU(0.2, inplace=False),
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
    }[act]()


def mask_channels(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[x, ones, mask]: the input layout of Yu et al.'s generators (the ones channel lets
    the network see the image border through zero padding)."""
    return torch.cat([x, torch.ones_like(mask), mask], dim=1)
