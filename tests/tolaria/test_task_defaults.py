"""Task registry and the tuned digits defaults (no growth: the blind host is weak, the standard host strong)."""

from __future__ import annotations

import pytest
import torch

from esper.data import TASKS, build_model, load_task
from esper.data.task import CNNHostConfig, TransformerHostConfig
from esper.tolaria import EpochTrainer, trainer_config_for


def _no_growth_accuracy(task: str) -> float:
    data = load_task(task)
    torch.manual_seed(0)
    trainer = EpochTrainer(build_model(data), trainer_config_for(data.spec))
    for _ in range(data.spec.max_epochs):
        trainer.train_epoch(data)
    return trainer.validate(data)[1]


@pytest.mark.req("DEC.tolaria_data.4")
def test_registry_specs() -> None:
    assert list(TASKS) == ["digits", "digits_blind", "cifar10", "text"]
    digits, blind = TASKS["digits"], TASKS["digits_blind"]
    assert digits.host == CNNHostConfig(channels=(8, 16, 32), kernel_size=3)
    assert blind.host == CNNHostConfig(channels=(8, 16, 32), kernel_size=1)
    for spec in (digits, blind):
        assert (spec.optimizer, spec.lr, spec.batch_size, spec.max_epochs) == ("sgd", 0.05, 128, 25)
    assert TASKS["cifar10"].needs_data_dir and TASKS["cifar10"].host == CNNHostConfig((32, 64, 128), 3)
    assert TASKS["text"].topology == "transformer" and isinstance(TASKS["text"].host, TransformerHostConfig)
    assert (TASKS["text"].optimizer, TASKS["text"].lr) == ("adam", 3e-3)
    with pytest.raises(ValueError, match=r"valid: \['digits', 'digits_blind', 'cifar10', 'text'\]"):
        load_task("imagenet")


@pytest.mark.req("DEC.tolaria_data.4")
def test_digits_hosts_without_growth() -> None:
    assert _no_growth_accuracy("digits") >= 95.0
    assert 25.0 <= _no_growth_accuracy("digits_blind") <= 60.0
