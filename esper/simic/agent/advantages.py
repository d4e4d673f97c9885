"""Causal head masks: which action heads influenced each step (the one shared definition, plan Task 10).

- ``op``: always (the agent always chooses an operation);
- ``slot``: unless the op is WAIT;
- ``blueprint``, ``blend``, ``tempo``: only on GERMINATE.

A head that had no effect on a step gets no advantage (hence no policy gradient) from that step.
"""

from __future__ import annotations

import torch

from esper.leyline import HEAD_NAMES, LifecycleOp

#: When each head is causally relevant: ``"always"``, ``"not_wait"`` or ``"germinate"``.
CAUSAL_RELEVANCE: dict[str, str] = {
    "op": "always",
    "slot": "not_wait",
    "blueprint": "germinate",
    "blend": "germinate",
    "tempo": "germinate",
}


def causal_head_masks(op_actions: torch.Tensor) -> dict[str, torch.Tensor]:
    """Bool mask per head (keyed by ``HEAD_NAMES``, same shape as ``op_actions``): True where the head mattered."""
    if not isinstance(op_actions, torch.Tensor) or op_actions.dtype != torch.long:
        got = op_actions.dtype if isinstance(op_actions, torch.Tensor) else type(op_actions).__name__
        raise TypeError(f"op_actions must be an int64 tensor of LifecycleOp indices, got {got}")
    unknown = [name for name in HEAD_NAMES if name not in CAUSAL_RELEVANCE]
    if unknown:
        raise ValueError(f"no causal relevance rule for heads {unknown}; rules exist for {list(CAUSAL_RELEVANCE)}")
    by_rule = {
        "always": torch.ones_like(op_actions, dtype=torch.bool),
        "not_wait": op_actions != LifecycleOp.WAIT.value,
        "germinate": op_actions == LifecycleOp.GERMINATE.value,
    }
    return {name: by_rule[CAUSAL_RELEVANCE[name]] for name in HEAD_NAMES}


def compute_per_head_advantages(advantages: torch.Tensor, op_actions: torch.Tensor) -> dict[str, torch.Tensor]:
    """Compute per-head advantages with causal masking (zero where the head was irrelevant)."""
    head_masks = causal_head_masks(op_actions)
    if not isinstance(advantages, torch.Tensor) or advantages.shape != op_actions.shape:
        got = tuple(advantages.shape) if isinstance(advantages, torch.Tensor) else type(advantages).__name__
        raise ValueError(f"advantages must be a tensor of op_actions' shape {tuple(op_actions.shape)}, got {got}")
    zeros = torch.zeros_like(advantages)
    return {name: torch.where(mask, advantages, zeros) for name, mask in head_masks.items()}


__all__ = ["CAUSAL_RELEVANCE", "causal_head_masks", "compute_per_head_advantages"]
