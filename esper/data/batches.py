"""Cheap in-memory minibatches: one index permutation per epoch, no DataLoader (the data fits in memory)."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def num_minibatches(num_samples: int, batch_size: int, *, drop_last: bool = False) -> int:
    """Number of minibatches :func:`iterate_minibatches` yields."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return num_samples // batch_size if drop_last else -(-num_samples // batch_size)


def iterate_minibatches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x[idx], y[idx])`` minibatches in a permuted (``shuffle``) or the stored order.

    The permutation is drawn on the CPU from ``generator`` (deterministic for a seeded generator) and moved
    to the data's device once per epoch; no per-batch host synchronisation.
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}")
    n = int(x.shape[0])
    count = num_minibatches(n, batch_size, drop_last=drop_last)
    if not shuffle:
        for b in range(count):
            yield x[b * batch_size : (b + 1) * batch_size], y[b * batch_size : (b + 1) * batch_size]
        return
    order = torch.randperm(n, generator=generator).to(x.device, non_blocking=True)
    for b in range(count):
        idx = order[b * batch_size : (b + 1) * batch_size]
        yield x.index_select(0, idx), y.index_select(0, idx)


__all__ = ["iterate_minibatches", "num_minibatches"]
