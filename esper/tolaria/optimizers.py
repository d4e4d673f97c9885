"""Optimiser settings of the host and of each seed, and the factory that builds them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from esper.data.task import TaskSpec
from esper.leyline.validation import check_int

OPTIMIZER_KINDS: tuple[str, ...] = ("sgd", "adam")

DEFAULT_HOST_LR = 0.05
DEFAULT_SEED_LR = 0.05
DEFAULT_MOMENTUM = 0.9
DEFAULT_WEIGHT_DECAY = 0.0
DEFAULT_BATCH_SIZE = 128
DEFAULT_EVAL_BATCH_SIZE = 1024


@dataclass(frozen=True, slots=True)
class TrainerConfig:
    """How Tolaria trains: optimiser kind and hyper-parameters, batch sizes, minibatch-order seed.

    The host and every seed get their own optimiser of the same kind (SGD with momentum by default);
    ``seed_lr`` applies to live seeds, fossilized seeds join the host optimiser at ``host_lr``.
    """

    optimizer: str = "sgd"
    host_lr: float = DEFAULT_HOST_LR
    seed_lr: float = DEFAULT_SEED_LR
    momentum: float = DEFAULT_MOMENTUM
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    batch_size: int = DEFAULT_BATCH_SIZE
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE
    shuffle_seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZER_KINDS:
            raise ValueError(f"optimizer {self.optimizer!r} is unknown; valid: {list(OPTIMIZER_KINDS)}")
        for name in ("host_lr", "seed_lr"):
            value = getattr(self, name)
            if not value > 0.0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum}")
        if self.weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        for name in ("batch_size", "eval_batch_size"):
            value = getattr(self, name)
            check_int(name, value, low=1)


def trainer_config_for(spec: TaskSpec, *, shuffle_seed: int = 0) -> TrainerConfig:
    """The task's defaults: optimiser kind, learning rate (host and seeds) and batch size.

    Change other fields with ``dataclasses.replace``.
    """
    return TrainerConfig(
        optimizer=spec.optimizer, host_lr=spec.lr, seed_lr=spec.lr, batch_size=spec.batch_size, shuffle_seed=shuffle_seed
    )


def make_optimizer(params: Iterable[nn.Parameter], config: TrainerConfig, *, lr: float) -> torch.optim.Optimizer:
    """SGD (momentum ``config.momentum``) or Adam over ``params`` at learning rate ``lr``."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=config.weight_decay)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EVAL_BATCH_SIZE",
    "DEFAULT_HOST_LR",
    "DEFAULT_MOMENTUM",
    "DEFAULT_SEED_LR",
    "DEFAULT_WEIGHT_DECAY",
    "OPTIMIZER_KINDS",
    "TrainerConfig",
    "make_optimizer",
    "trainer_config_for",
]
