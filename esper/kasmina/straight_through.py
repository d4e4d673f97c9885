"""Proximal straight-through: how a TRAINING seed learns while the slot's output stays the host's, bit for bit.

A plain straight-through term ``h + (s - s.detach())`` hands the seed the task gradient ``dL/dout`` but gives it no
feedback (its output is not used), so the gradient never changes and the seed's residual ``s - x`` drifts without
bound (DEC.kasmina.15). The proximal version adds the gradient of ``(strength / 2) * mean_positions ||s - x||^2``,
the squared residual summed over channels and averaged over the batch and every position (the H x W cells of a
CNN map, the T tokens of a sequence): the seed converges to a bounded correction ``s - x ~ -n * dL/dout / strength``
(one functional gradient step, ``n`` = batch x positions) while the forward value is still exactly ``h``.

Averaging over positions (not only over the batch) keeps the pull's curvature independent of the map size: the
batch-only version had a curvature of ``strength * H * W * E|x|^2`` for a seed linear in its input (about 95 at
digits' first slot), beyond what SGD with momentum can follow, and seeds diverged to 1e15 (DEC.seedhealth.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch


class _ProximalStraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, s: torch.Tensor, x: torch.Tensor, strength: float, channel_dim: int) -> torch.Tensor:
        ctx.save_for_backward(s, x)
        ctx.strength = strength
        ctx.channel_dim = channel_dim
        return torch.zeros_like(s)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        s, x = ctx.saved_tensors
        positions = s.numel() // s.shape[ctx.channel_dim]
        return grad + ctx.strength * (s - x) / positions, None, None, None


#: ``Function.apply`` is untyped in torch; this is the one typed view of it.
_apply = cast(Callable[[torch.Tensor, torch.Tensor, float, int], torch.Tensor], _ProximalStraightThrough.apply)


def proximal_straight_through(
    h: torch.Tensor, s: torch.Tensor, x: torch.Tensor, strength: float, *, channel_dim: int = 1
) -> torch.Tensor:
    """Value ``h`` (exactly); the seed output ``s`` receives ``dL/dout + strength * (s - x) / n``.

    ``n = s.numel() / s.shape[channel_dim]`` is the number of (sample, position) pairs: batch x H x W for a CNN map
    ``(B, C, H, W)`` (``channel_dim=1``), batch x T for a sequence ``(B, T, D)`` (``channel_dim=-1``), the batch for
    ``(B, C)``. Shapes of ``h``, ``s`` and ``x`` are equal.
    """
    if not -s.dim() <= channel_dim < s.dim():
        raise ValueError(f"channel_dim must index a dimension of s (dim {s.dim()}), got {channel_dim}")
    return h + _apply(s, x.detach(), strength, channel_dim)


__all__ = ["proximal_straight_through"]
