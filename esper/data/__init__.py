"""Esper datasets: real, local data only. Nothing here downloads, and nothing falls back to random data."""

from __future__ import annotations

from esper.data.batches import iterate_minibatches, num_minibatches
from esper.data.cifar10 import load_cifar10
from esper.data.digits import load_digits_split
from esper.data.errors import DatasetError
from esper.data.registry import TASKS, build_host, build_model, get_task_spec, load_task, task_names
from esper.data.splits import SplitTensors
from esper.data.task import CNNHostConfig, TaskData, TaskSpec, TransformerHostConfig
from esper.data.text import CharCorpus, load_text_corpus

__all__ = [
    "CNNHostConfig",
    "CharCorpus",
    "DatasetError",
    "SplitTensors",
    "TASKS",
    "TaskData",
    "TaskSpec",
    "TransformerHostConfig",
    "build_host",
    "build_model",
    "get_task_spec",
    "iterate_minibatches",
    "load_cifar10",
    "load_digits_split",
    "load_task",
    "load_text_corpus",
    "num_minibatches",
    "task_names",
]
