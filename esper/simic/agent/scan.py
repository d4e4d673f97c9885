"""Discounted sums over linked steps, backwards in time, without a Python loop over steps (DEC.perf.6, issue 12).

GAE is ``A_t = δ_t + γλ · A_{t+1}`` while the episode continues past step ``t``, and ``A_t = δ_t`` where the chain
breaks (terminal, truncated or last stored step). A loop over ``T`` steps costs ``T`` rounds of small kernels;
:func:`discounted_reverse_sum` solves the recurrence by recursive doubling (Hillis & Steele, "Data parallel
algorithms", CACM 1986; the maps ``x ↦ δ_t + c·x`` compose associatively): ``⌈log2 T⌉`` rounds of a few element-wise
ops over the whole ``(..., T)`` tensor, ``O(T log T)`` work and ``O(T)`` memory. Exact in real arithmetic for any
discount (0 and 1 included); in floating point only the summation order differs from the loop. A broken link
contributes exactly 0 (``where``, not a multiplication by 0), so a non-finite value never leaks into an earlier
episode, as in the loop.
"""

from __future__ import annotations

import torch
from torch.nn import functional

from esper.leyline.validation import check_float


def discounted_reverse_sum(values: torch.Tensor, discount: float, links: torch.Tensor) -> torch.Tensor:
    """``x`` with ``x[..., t] = values[..., t] + discount · x[..., t + 1]`` where ``links[..., t]``, else
    ``x[..., t] = values[..., t]``; ``x[..., T - 1] = values[..., T - 1]`` (nothing follows the last step).

    ``values``: floating ``(..., T)``, ``T >= 1``; ``discount``: a finite float >= 0; ``links``: bool, the shape and
    device of ``values`` (``True``: step ``t`` continues into step ``t + 1``). Returns a new tensor of ``values``'
    shape and dtype. No host sync. Raises ``TypeError`` for a non-tensor or a wrong dtype, ``ValueError`` for a
    wrong shape, device or discount.
    """
    if not isinstance(values, torch.Tensor) or not values.is_floating_point():
        got = values.dtype if isinstance(values, torch.Tensor) else type(values).__name__
        raise TypeError(f"values must be a floating-point torch.Tensor, got {got}")
    if not isinstance(links, torch.Tensor) or links.dtype != torch.bool:
        got = links.dtype if isinstance(links, torch.Tensor) else type(links).__name__
        raise TypeError(f"links must be a bool torch.Tensor, got {got}")
    if values.dim() == 0 or values.shape[-1] == 0:
        raise ValueError(f"values must have shape (..., T) with T >= 1, got {tuple(values.shape)}")
    if links.shape != values.shape or links.device != values.device:
        raise ValueError(
            f"links must have values' shape {tuple(values.shape)} on {values.device}, "
            f"got {tuple(links.shape)} on {links.device}"
        )
    discount = check_float("discount", discount, low=0.0)
    steps = values.shape[-1]
    # Invariant before the round with window w: total_t = Σ_{k=t}^{t+w-1} discount^{k-t}·values_k, cut after the
    # first broken link; linked_t = links_t … links_{t+w-1} all hold (t's window continues into step t+w).
    total, linked = values, links
    window = 1
    while window < steps:
        following = functional.pad(total[..., window:], (0, window))  # total_{t+w}; 0 past the end
        total = total + torch.where(linked, discount**window * following, 0.0)
        if 2 * window < steps:
            linked = linked & functional.pad(linked[..., window:], (0, window), value=False)
        window *= 2
    return total if total is not values else values.clone()


__all__ = ["discounted_reverse_sum"]
