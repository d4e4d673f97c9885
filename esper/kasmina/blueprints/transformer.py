"""Transformer seed blueprints: shape-preserving maps of (B, T, D) that are exactly the identity at init.

All mixing over time is causal, so a seed never lets a token see the future.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from esper.kasmina.typed import run

LORA_RANK = 8
LORA_LARGE_RANK = 32
MLP_SMALL_MULT = 2
MLP_MULT = 4


def head_count(dim: int) -> int:
    """Attention heads for a seed of width ``dim``: 4, 2 or 1, whichever divides ``dim`` first."""
    return next(h for h in (4, 2, 1) if dim % h == 0)


def _zero_linear(layer: nn.Linear) -> None:
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class LayerNormSeed(nn.Module):
    """``x + scale * LayerNorm(x)`` with a per-feature scale starting at 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.scale = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * run(self.norm, x)


class LoRASeed(nn.Module):
    """Low-rank residual ``x + up(down(x))``; ``up`` starts at 0."""

    def __init__(self, dim: int, rank: int) -> None:
        super().__init__()
        self.down = nn.Linear(dim, rank, bias=False)
        self.up = nn.Linear(rank, dim, bias=False)
        _zero_linear(self.up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + run(self.up, run(self.down, x))


class CausalAttentionSeed(nn.Module):
    """Pre-norm causal multi-head self-attention residual; the output projection starts at 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.n_head = head_count(dim)
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        _zero_linear(self.proj)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, t, d = x.shape
        q, k, v = run(self.qkv, run(self.norm, x)).chunk(3, dim=-1)
        shape = (b, t, self.n_head, d // self.n_head)
        return q.view(shape).transpose(1, 2), k.view(shape).transpose(1, 2), v.view(shape).transpose(1, 2)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        y = self._attend(*self._heads(x))
        return x + run(self.proj, y.transpose(1, 2).reshape(b, t, d))


class FlexAttentionSeed(CausalAttentionSeed):
    """Causal attention with a learned score modification: a per-head linear distance penalty (ALiBi-style).

    ``score(i, j) += -slope_h * (i - j)`` for ``j <= i``; future positions are masked. This is the score_mod that
    ``torch.nn.attention.flex_attention`` would take, applied as an additive mask to
    ``scaled_dot_product_attention`` because flex_attention has no CPU backward in torch 2.13.
    Slopes start at the ALiBi geometric sequence ``2^(-8 (h + 1) / H)``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        exponents = torch.arange(1, self.n_head + 1, dtype=torch.float32) * (-8.0 / self.n_head)
        self.slopes = nn.Parameter(torch.pow(2.0, exponents))

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        t = q.shape[-2]
        pos = torch.arange(t, device=q.device)
        distance = (pos[:, None] - pos[None, :]).to(q.dtype)
        bias = -self.slopes.to(q.dtype)[:, None, None] * distance
        bias = bias.masked_fill(distance < 0, float("-inf"))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)


class MLPSeed(nn.Module):
    """Pre-norm MLP residual ``x + fc2(gelu(fc1(LN(x))))`` with hidden width ``mult * dim``; fc2 starts at 0."""

    def __init__(self, dim: int, mult: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mult * dim)
        self.fc2 = nn.Linear(mult * dim, dim)
        _zero_linear(self.fc2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + run(self.fc2, F.gelu(run(self.fc1, run(self.norm, x))))


def _noop(dim: int) -> nn.Module:
    return nn.Identity()


def _lora(dim: int) -> nn.Module:
    return LoRASeed(dim, LORA_RANK)


def _lora_large(dim: int) -> nn.Module:
    return LoRASeed(dim, LORA_LARGE_RANK)


def _mlp_small(dim: int) -> nn.Module:
    return MLPSeed(dim, MLP_SMALL_MULT)


def _mlp(dim: int) -> nn.Module:
    return MLPSeed(dim, MLP_MULT)


#: name -> (factory(dim), description)
TRANSFORMER_BLUEPRINTS: dict[str, tuple[Callable[[int], nn.Module], str]] = {
    "noop": (_noop, "identity (no parameters)"),
    "norm": (LayerNormSeed, "LayerNorm residual with a learned scale starting at 0"),
    "lora": (_lora, f"rank-{LORA_RANK} low-rank residual"),
    "lora_large": (_lora_large, f"rank-{LORA_LARGE_RANK} low-rank residual"),
    "attention": (CausalAttentionSeed, "pre-norm causal self-attention residual"),
    "flex_attention": (FlexAttentionSeed, "causal attention with learned ALiBi-style score bias"),
    "mlp_small": (_mlp_small, f"pre-norm MLP residual, hidden {MLP_SMALL_MULT}x"),
    "mlp": (_mlp, f"pre-norm MLP residual, hidden {MLP_MULT}x"),
}

__all__ = [
    "LORA_LARGE_RANK",
    "LORA_RANK",
    "TRANSFORMER_BLUEPRINTS",
    "CausalAttentionSeed",
    "FlexAttentionSeed",
    "LayerNormSeed",
    "LoRASeed",
    "MLPSeed",
    "head_count",
]
