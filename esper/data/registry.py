"""Named tasks: ``load_task(name)`` gives real data on a device; ``build_host`` builds the matching host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from esper.data.cifar10 import load_cifar10
from esper.data.digits import load_digits_split
from esper.data.errors import DatasetError
from esper.data.task import CNNHostConfig, TaskData, TaskSpec, TransformerHostConfig
from esper.data.text import load_text_corpus
from esper.leyline import TelemetryEvent

if TYPE_CHECKING:
    from esper.kasmina.host import HostNetwork, MorphogeneticModel

DIGITS_CHANNELS: tuple[int, int, int] = (8, 16, 32)
"""Digits hosts use (8, 16, 32) channels: 8x8 inputs need no more, and an epoch stays near 30 ms on CPU."""
DIGITS_BATCH_SIZE = 128
DIGITS_LR = 0.05

_DIGITS = TaskSpec(
    name="digits",
    topology="cnn",
    input_shape=(1, 8, 8),
    num_classes=10,
    host=CNNHostConfig(channels=DIGITS_CHANNELS, kernel_size=3),
    batch_size=DIGITS_BATCH_SIZE,
    lr=DIGITS_LR,
    max_epochs=25,
    description="sklearn 8x8 digits, CNN host with 3x3 convolutions",
)

TASKS: dict[str, TaskSpec] = {
    "digits": _DIGITS,
    "digits_blind": replace(
        _DIGITS,
        name="digits_blind",
        host=CNNHostConfig(channels=DIGITS_CHANNELS, kernel_size=1),
        description="same digits, host with 1x1 convolutions (no spatial context: seeds have room to help)",
    ),
    "cifar10": TaskSpec(
        name="cifar10",
        topology="cnn",
        input_shape=(3, 32, 32),
        num_classes=10,
        host=CNNHostConfig(channels=(32, 64, 128), kernel_size=3),
        batch_size=128,
        lr=0.01,
        max_epochs=25,
        needs_data_dir=True,
        description="CIFAR-10 from a local python-pickle folder (data_dir)",
    ),
    "text": TaskSpec(
        name="text",
        topology="transformer",
        input_shape=(64,),
        num_classes=0,
        host=TransformerHostConfig(block_size=64),
        batch_size=64,
        lr=3e-3,
        optimizer="adam",
        max_epochs=25,
        description="next-character prediction on a stdlib-source slice (or a local text file: data_dir)",
    ),
}


def task_names() -> list[str]:
    """Names accepted by :func:`load_task`."""
    return list(TASKS)


def get_task_spec(name: str) -> TaskSpec:
    """The spec of ``name``; an unknown name raises ``ValueError`` listing the tasks."""
    if name not in TASKS:
        raise ValueError(f"task {name!r} is unknown; valid: {task_names()}")
    return TASKS[name]


def load_task(name: str, *, data_dir: str | Path | None = None, device: str | torch.device = "cpu") -> TaskData:
    """Load task ``name`` on ``device``.

    ``cifar10`` needs ``data_dir`` (a local CIFAR-10 python folder). For ``text``, ``data_dir`` may name a
    UTF-8 text file (default: the stdlib slice). The digits tasks ignore ``data_dir``.
    """
    spec = get_task_spec(name)
    if name == "cifar10":
        if data_dir is None:
            raise DatasetError(f"task {name!r} needs data_dir (a local dataset folder); nothing is downloaded")
        return TaskData(spec=spec, splits=load_cifar10(data_dir, device=device))
    if isinstance(spec.host, TransformerHostConfig):
        corpus = load_text_corpus(data_dir, block_size=spec.host.block_size, device=device)
        filled = replace(spec, num_classes=corpus.vocab_size, vocab_size=corpus.vocab_size)
        return TaskData(spec=filled, splits=corpus.splits, vocab=corpus.vocab)
    return TaskData(spec=spec, splits=load_digits_split(device=device))


def build_host(task_data: TaskData | TaskSpec, device: str | torch.device = "cpu") -> HostNetwork:
    """A fresh host network for the task (seed ``torch.manual_seed`` first for reproducible weights)."""
    from esper.kasmina.host import CNNHost, TransformerHost

    spec = task_data.spec if isinstance(task_data, TaskData) else task_data
    host = spec.host
    if isinstance(host, CNNHostConfig):
        return CNNHost(
            in_channels=spec.input_shape[0],
            num_classes=spec.num_classes,
            channels=host.channels,
            kernel_size=host.kernel_size,
            device=device,
        )
    if spec.vocab_size is None:
        raise ValueError(f"task {spec.name!r}: vocab_size is unknown; build the host from load_task(...) output")
    return TransformerHost(
        vocab_size=spec.vocab_size,
        n_embd=host.n_embd,
        n_head=host.n_head,
        n_layer=host.n_layer,
        block_size=host.block_size,
        device=device,
    )


def build_model(
    task_data: TaskData | TaskSpec,
    device: str | torch.device = "cpu",
    *,
    max_epochs: int | None = None,
    on_event: Callable[[TelemetryEvent], None] | None = None,
) -> MorphogeneticModel:
    """The host of :func:`build_host` wrapped in a ``MorphogeneticModel`` (with its seed slots).

    ``max_epochs`` (default: the task's) sizes the probation timeout; ``on_event`` receives the slots' telemetry.
    """
    from esper.kasmina.host import MorphogeneticModel
    from esper.kasmina.task_config import TaskConfig

    spec = task_data.spec if isinstance(task_data, TaskData) else task_data
    epochs = spec.max_epochs if max_epochs is None else max_epochs
    task_config = TaskConfig(topology=spec.topology, max_epochs=epochs)
    return MorphogeneticModel(build_host(spec, device=device), device=device, task_config=task_config, on_event=on_event)


__all__ = ["TASKS", "build_host", "build_model", "get_task_spec", "load_task", "task_names"]
