"""CNN seed blueprints: shape-preserving maps of (B, C, H, W) that are exactly the identity at initialisation.

Each learned blueprint is a residual ``x + f(x)`` whose last layer (or residual scale) starts at zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from esper.kasmina.typed import run

MAX_GROUPS = 8
SE_REDUCTION = 4
BOTTLENECK_REDUCTION = 4


def group_count(channels: int) -> int:
    """GroupNorm groups: the largest divisor of ``channels`` dividing 8 that leaves >= 2 channels per group.

    Two channels per group keep GroupNorm valid on 1x1 maps with batch 1 (8x8 digits reach 1x1 in the third block).
    """
    groups = math.gcd(channels, MAX_GROUPS)
    while groups > 1 and channels // groups < 2:
        groups //= 2
    return groups


def _zero_(module: nn.Conv2d | nn.Linear) -> None:
    nn.init.zeros_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)


class NormSeed(nn.Module):
    """``x + scale * GroupNorm(x)`` with a per-channel scale starting at 0."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(group_count(channels), channels)
        self.scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * run(self.norm, x)


class SqueezeExciteSeed(nn.Module):
    """Channel attention: ``x * 2 sigmoid(fc2(relu(fc1(mean_hw(x)))))`` with ``fc2`` zero-initialised (gain 1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // SE_REDUCTION, 4)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        _zero_(self.fc2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gain = 2.0 * torch.sigmoid(run(self.fc2, F.relu(run(self.fc1, x.mean(dim=(2, 3))))))
        return x * gain[:, :, None, None]


class DepthwiseSeed(nn.Module):
    """``x + pw(relu(GN(dw3x3(x))))``: depthwise 3x3 then a zero-initialised pointwise 1x1."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.norm = nn.GroupNorm(group_count(channels), channels)
        self.pw = nn.Conv2d(channels, channels, 1)
        _zero_(self.pw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + run(self.pw, F.relu(run(self.norm, run(self.dw, x))))


class BottleneckSeed(nn.Module):
    """``x + expand(relu(GN(conv3x3(relu(GN(reduce(x)))))))`` with max(C/4, 2) hidden channels; expand starts at 0."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // BOTTLENECK_REDUCTION, 2)
        self.reduce = nn.Conv2d(channels, hidden, 1, bias=False)
        self.norm1 = nn.GroupNorm(group_count(hidden), hidden)
        self.conv = nn.Conv2d(hidden, hidden, 3, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(group_count(hidden), hidden)
        self.expand = nn.Conv2d(hidden, channels, 1)
        _zero_(self.expand)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(run(self.norm1, run(self.reduce, x)))
        h = F.relu(run(self.norm2, run(self.conv, h)))
        return x + run(self.expand, h)


class ConvSmallSeed(nn.Module):
    """``x + conv1x1(x)`` with the 1x1 conv zero-initialised."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)
        _zero_(self.conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + run(self.conv, x)


class ConvLightSeed(nn.Module):
    """One 3x3 block: ``x + scale * relu(GN(conv3x3(x)))`` with a per-channel scale starting at 0."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm = nn.GroupNorm(group_count(channels), channels)
        self.scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * F.relu(run(self.norm, run(self.conv, x)))


class ConvHeavySeed(nn.Module):
    """Two 3x3 blocks: ``x + GN2(conv(relu(GN1(conv(x)))))`` with GN2's affine weight and bias starting at 0."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(group_count(channels), channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(group_count(channels), channels)
        nn.init.zeros_(self.norm2.weight)
        nn.init.zeros_(self.norm2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + run(self.norm2, run(self.conv2, F.relu(run(self.norm1, run(self.conv1, x)))))


def _noop(channels: int) -> nn.Module:
    return nn.Identity()


#: name -> (factory(channels), description)
CNN_BLUEPRINTS: dict[str, tuple[Callable[[int], nn.Module], str]] = {
    "noop": (_noop, "identity (no parameters)"),
    "norm": (NormSeed, "GroupNorm residual with a learned per-channel scale starting at 0"),
    "attention": (SqueezeExciteSeed, "squeeze-excitation channel gain, exactly 1 at init"),
    "depthwise": (DepthwiseSeed, "depthwise 3x3 + zero-init pointwise residual"),
    "bottleneck": (BottleneckSeed, "1x1 reduce, 3x3, zero-init 1x1 expand residual"),
    "conv_small": (ConvSmallSeed, "zero-init 1x1 conv residual"),
    "conv_light": (ConvLightSeed, "one 3x3 conv block residual with zero-init scale"),
    "conv_heavy": (ConvHeavySeed, "two 3x3 conv blocks residual with zero-init last norm"),
}

__all__ = [
    "CNN_BLUEPRINTS",
    "BottleneckSeed",
    "ConvHeavySeed",
    "ConvLightSeed",
    "ConvSmallSeed",
    "DepthwiseSeed",
    "NormSeed",
    "SqueezeExciteSeed",
    "group_count",
]
