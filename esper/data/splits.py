"""Train/validation tensors of one dataset, already on their device."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True, slots=True)
class SplitTensors:
    """Inputs and integer targets of the train and validation splits (all on the same device)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor

    def __post_init__(self) -> None:
        for prefix, x, y in (("train", self.train_x, self.train_y), ("val", self.val_x, self.val_y)):
            if x.shape[0] != y.shape[0]:
                raise ValueError(f"{prefix}_x has {x.shape[0]} samples but {prefix}_y has {y.shape[0]}")
            if y.dtype != torch.int64:
                raise TypeError(f"{prefix}_y must be int64 class indices, got {y.dtype}")
        devices = {t.device for t in (self.train_x, self.train_y, self.val_x, self.val_y)}
        if len(devices) != 1:
            raise ValueError(f"split tensors must share one device, got {sorted(str(d) for d in devices)}")

    @property
    def device(self) -> torch.device:
        return self.train_x.device


def standardise(train: torch.Tensor, val: torch.Tensor, dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardise both splits with the mean/std of ``train`` over ``dims`` (std floored at 1e-6)."""
    mean = train.mean(dim=dims, keepdim=True)
    std = train.std(dim=dims, keepdim=True).clamp_min(1e-6)
    return (train - mean) / std, (val - mean) / std


__all__ = ["SplitTensors", "standardise"]
