"""Alpha ramps (linear, sigmoid, gated) and the blend of a seed's output into the host stream.

A ramp of ``total_steps`` epochs maps step ``k`` to ``alpha_at_step(algorithm, k, total_steps)``: 0.0 exactly at
``k = 0`` and 1.0 exactly at ``k >= total_steps``. ``gated`` follows the linear ramp; a learned per-sample gate
``g in (0, 1)`` then bends it to ``w = a + a(1 - a)(2g - 1)``, which stays in ``[a^2, a(2 - a)]`` (inside [0, 1]),
is 0 when ``a = 0`` and exactly 1 when ``a = 1``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from esper.leyline import BLEND_ALGORITHM_IDS, check_topology
from esper.leyline.validation import check_float, check_int, check_str

#: Steepness of the sigmoid ramp (alpha rises from ~0 to ~1 over the middle of the ramp).
SIGMOID_STEEPNESS = 12.0


def check_blend_algorithm(algorithm_id: object) -> str:
    """Return ``algorithm_id`` if known; a non-str raises ``TypeError``, an unknown id ``ValueError`` (both list
    the valid ids)."""
    return check_str("blend_algorithm_id", algorithm_id, BLEND_ALGORITHM_IDS)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def ramp_alpha(algorithm_id: str, progress: float) -> float:
    """Alpha at ramp ``progress`` in [0, 1] (clipped). Exactly 0.0 at 0 and exactly 1.0 at 1."""
    check_blend_algorithm(algorithm_id)
    p = min(1.0, max(0.0, check_float("progress", progress)))
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    if algorithm_id == "sigmoid":
        half = SIGMOID_STEEPNESS / 2.0
        low, high = _sigmoid(-half), _sigmoid(half)
        return (_sigmoid(SIGMOID_STEEPNESS * (p - 0.5)) - low) / (high - low)
    return p  # linear, and the base ramp of gated


def alpha_at_step(algorithm_id: str, step: int, total_steps: int) -> float:
    """Alpha after ``step`` of ``total_steps`` ramp steps (``step >= total_steps`` gives exactly 1.0)."""
    check_int("total_steps", total_steps, low=1)
    check_int("step", step, low=0)
    if step >= total_steps:  # also keeps huge ints out of the float division
        check_blend_algorithm(algorithm_id)
        return 1.0
    return ramp_alpha(algorithm_id, step / total_steps)


def gated_weight(alpha: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """Per-sample blend weight ``a + a(1 - a)(2g - 1)``: 0 at ``a = 0``, exactly 1 at ``a = 1``."""
    return alpha + alpha * (1.0 - alpha) * (2.0 * gate - 1.0)


def blend(host: torch.Tensor, seed: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``host + weight * (seed - host)``: host at weight 0, seed at weight 1."""
    return host + weight * (seed - host)


class BlendGate(nn.Module):
    """Small learned gate for the ``gated`` algorithm.

    CNN: one gate per sample from globally pooled features, shape (B, 1, 1, 1). Transformer: one gate per token
    from that token's features, shape (B, T, 1) (pooling over time would leak future tokens into a causal model).
    Zero-initialised, so ``g = 0.5`` and the weight equals the ramp alpha at germination.
    """

    def __init__(self, channels: int, topology: str = "cnn", device: str | torch.device = "cpu") -> None:
        super().__init__()
        check_int("channels", channels, low=1)
        self.topology = check_topology(topology)
        self.proj = nn.Linear(channels, 1, device=device)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.topology == "cnn":
            return torch.sigmoid(self.proj(x.mean(dim=(2, 3))))[:, :, None, None]
        return torch.sigmoid(self.proj(x))


__all__ = [
    "SIGMOID_STEEPNESS",
    "BlendGate",
    "alpha_at_step",
    "blend",
    "check_blend_algorithm",
    "gated_weight",
    "ramp_alpha",
]
