"""Task registry: names, specs, host construction."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.tolaria.cifar_folder import write_tiny_cifar
from esper.data import TASKS, DatasetError, build_host, build_model, load_task, task_names
from esper.data.task import CNNHostConfig
from esper.kasmina.host import CNNHost, MorphogeneticModel, TransformerHost


def test_task_names() -> None:
    assert task_names() == ["digits", "digits_blind", "cifar10", "text"]


def test_unknown_task_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"task 'mnist' is unknown; valid: \['digits', 'digits_blind', 'cifar10', 'text'\]"):
        load_task("mnist")


def test_digits_blind_is_digits_with_kernel_one() -> None:
    digits, blind = load_task("digits"), load_task("digits_blind")
    assert torch.equal(digits.train_x, blind.train_x) and torch.equal(digits.val_y, blind.val_y)
    assert isinstance(digits.spec.host, CNNHostConfig) and isinstance(blind.spec.host, CNNHostConfig)
    assert digits.spec.host.kernel_size == 3 and blind.spec.host.kernel_size == 1
    assert digits.spec.host.channels == blind.spec.host.channels


def test_build_host_matches_spec() -> None:
    data = load_task("digits_blind")
    torch.manual_seed(0)
    host = build_host(data)
    assert isinstance(host, CNNHost)
    spec_host = TASKS["digits_blind"].host
    assert isinstance(spec_host, CNNHostConfig) and host.injection_dims == spec_host.channels
    convs = [m for m in host.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(1, 1)] * 3
    assert host(data.val_x[:5]).shape == (5, 10)
    model = build_model(data)
    assert isinstance(model, MorphogeneticModel) and model.slot_ids == ("r0c0", "r0c1", "r0c2")
    assert model.task_config is not None and model.task_config.max_epochs == data.spec.max_epochs


def test_cifar_task(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="needs data_dir"):
        load_task("cifar10")
    data = load_task("cifar10", data_dir=write_tiny_cifar(tmp_path / "c"))
    assert data.spec.input_shape == tuple(data.train_x.shape[1:]) == (3, 32, 32)
    host = build_host(data)
    assert host(data.val_x[:2]).shape == (2, 10)


def test_text_task_fills_vocab(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("abcdefgh " * 400, encoding="utf-8")
    data = load_task("text", data_dir=path)
    assert data.spec.vocab_size == data.spec.num_classes == len(data.vocab) == 9
    assert data.spec.input_shape == (data.train_x.shape[1],)
    with pytest.raises(ValueError, match="vocab_size is unknown"):
        build_host(TASKS["text"])
    host = build_host(data)
    assert isinstance(host, TransformerHost)
    assert host(data.val_x[:2]).shape == (2, data.train_x.shape[1], 9)
