"""What the trainer needs from a dataset: train and validation tensors on the model's device."""

from __future__ import annotations

from typing import Protocol

import torch


class SupervisedData(Protocol):
    """Anything with train/val inputs and int64 targets (``esper.data.TaskData``, ``SplitTensors``)."""

    @property
    def train_x(self) -> torch.Tensor: ...

    @property
    def train_y(self) -> torch.Tensor: ...

    @property
    def val_x(self) -> torch.Tensor: ...

    @property
    def val_y(self) -> torch.Tensor: ...


__all__ = ["SupervisedData"]
