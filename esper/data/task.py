"""Task descriptions (what to train, with which host and defaults) and loaded task data."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from esper.data.splits import SplitTensors


@dataclass(frozen=True, slots=True)
class CNNHostConfig:
    """Constructor parameters of ``CNNHost`` (channels of its three conv blocks, conv kernel size)."""

    channels: tuple[int, int, int] = (32, 64, 128)
    kernel_size: int = 3


@dataclass(frozen=True, slots=True)
class TransformerHostConfig:
    """Constructor parameters of ``TransformerHost`` (vocabulary size comes from the data)."""

    n_embd: int = 64
    n_head: int = 4
    n_layer: int = 3
    block_size: int = 64


HostConfig = CNNHostConfig | TransformerHostConfig


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A named task: topology, data shape, host and training defaults.

    ``input_shape`` is the shape of one sample (CNN: (C, H, W); transformer: (block_size,)).
    ``num_classes`` equals the vocabulary size for the text task (filled in when the corpus is loaded).
    """

    name: str
    topology: str
    input_shape: tuple[int, ...]
    num_classes: int
    host: HostConfig
    batch_size: int
    lr: float
    max_epochs: int
    optimizer: str = "sgd"
    """Optimiser kind Tolaria uses for this task (``"sgd"`` with momentum, or ``"adam"``)."""
    vocab_size: int | None = None
    needs_data_dir: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class TaskData:
    """A loaded task: its split tensors (on one device) and its spec."""

    spec: TaskSpec
    splits: SplitTensors
    vocab: tuple[str, ...] = ()
    """Characters of the text task (empty otherwise)."""

    @property
    def train_x(self) -> torch.Tensor:
        return self.splits.train_x

    @property
    def train_y(self) -> torch.Tensor:
        return self.splits.train_y

    @property
    def val_x(self) -> torch.Tensor:
        return self.splits.val_x

    @property
    def val_y(self) -> torch.Tensor:
        return self.splits.val_y

    @property
    def device(self) -> torch.device:
        return self.splits.device

    @property
    def num_train(self) -> int:
        return int(self.splits.train_x.shape[0])

    @property
    def num_val(self) -> int:
        return int(self.splits.val_x.shape[0])


__all__ = ["CNNHostConfig", "HostConfig", "TaskData", "TaskSpec", "TransformerHostConfig"]
