"""Optimiser settings of the host and of each seed, and the factory that builds them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from esper.data.task import TaskSpec
from esper.leyline.validation import check_int

OPTIMIZER_KINDS: tuple[str, ...] = ("sgd", "adam")
_FUSED_ADAM_DEVICES = frozenset({"cpu", "cuda"})

DEFAULT_HOST_LR = 0.05
DEFAULT_SEED_LR = 1e-3
"""Adam learning rate of live seeds (DEC.seedhealth.1), whatever the host's optimiser."""
DEFAULT_SEED_OPTIMIZER = "adam"
DEFAULT_MOMENTUM = 0.9
DEFAULT_WEIGHT_DECAY = 0.0
DEFAULT_BATCH_SIZE = 128
DEFAULT_EVAL_BATCH_SIZE = 1024


@dataclass(frozen=True, slots=True)
class TrainerConfig:
    """How Tolaria trains: optimiser kinds and hyper-parameters, batch sizes, minibatch-order seed.

    The host gets an ``optimizer`` (SGD with momentum by default) at ``host_lr``; every live seed gets its own
    ``seed_optimizer`` (Adam by default: a scale-robust update, so a TRAINING seed stays stable whatever its
    activation scale, DEC.seedhealth.1) at ``seed_lr``; fossilized seeds join the host optimiser at ``host_lr``.
    """

    optimizer: str = "sgd"
    host_lr: float = DEFAULT_HOST_LR
    seed_lr: float = DEFAULT_SEED_LR
    seed_optimizer: str = DEFAULT_SEED_OPTIMIZER
    momentum: float = DEFAULT_MOMENTUM
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    batch_size: int = DEFAULT_BATCH_SIZE
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE
    shuffle_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("optimizer", "seed_optimizer"):
            if getattr(self, name) not in OPTIMIZER_KINDS:
                raise ValueError(f"{name} {getattr(self, name)!r} is unknown; valid: {list(OPTIMIZER_KINDS)}")
        for name in ("host_lr", "seed_lr"):
            value = getattr(self, name)
            if not (value > 0.0 and math.isfinite(value)):
                raise ValueError(f"{name} must be > 0 and finite, got {value}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum}")
        if self.weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        for name in ("batch_size", "eval_batch_size"):
            value = getattr(self, name)
            check_int(name, value, low=1)


def trainer_config_for(spec: TaskSpec, *, shuffle_seed: int = 0) -> TrainerConfig:
    """The task's defaults: host optimiser kind and learning rate, batch size; seeds keep the Adam defaults.

    Change other fields with ``dataclasses.replace``.
    """
    return TrainerConfig(optimizer=spec.optimizer, host_lr=spec.lr, batch_size=spec.batch_size, shuffle_seed=shuffle_seed)


def make_optimizer(
    params: Iterable[nn.Parameter], config: TrainerConfig, *, lr: float, kind: str | None = None
) -> torch.optim.Optimizer:
    """SGD (momentum ``config.momentum``) or Adam over ``params`` at learning rate ``lr``.

    ``kind`` (``"sgd"`` or ``"adam"``) defaults to ``config.optimizer`` (the host's kind).
    """
    kind = config.optimizer if kind is None else kind
    if kind not in OPTIMIZER_KINDS:
        raise ValueError(f"kind {kind!r} is unknown; valid: {list(OPTIMIZER_KINDS)}")
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=config.weight_decay)
    params = list(params)
    # The fused kernel keeps Adam's step counters on the device: no per-step ``.item()`` host reads.
    fused = bool(params) and all(p.is_floating_point() and p.device.type in _FUSED_ADAM_DEVICES for p in params)
    return torch.optim.Adam(params, lr=lr, weight_decay=config.weight_decay, fused=fused or None)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EVAL_BATCH_SIZE",
    "DEFAULT_HOST_LR",
    "DEFAULT_MOMENTUM",
    "DEFAULT_SEED_LR",
    "DEFAULT_SEED_OPTIMIZER",
    "DEFAULT_WEIGHT_DECAY",
    "OPTIMIZER_KINDS",
    "TrainerConfig",
    "make_optimizer",
    "trainer_config_for",
]
