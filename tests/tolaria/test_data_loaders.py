"""Datasets: real digits with a fixed split, CIFAR-10 folder format, stdlib text corpus, minibatches,
and the trap of substituting random data."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from tests.tolaria.cifar_folder import TINY_PER_BATCH, TINY_TEST, overwrite, write_tiny_cifar
from esper.data import DatasetError, iterate_minibatches, load_cifar10, load_digits_split, load_task, load_text_corpus
from esper.data.text import stdlib_source_files


def _all_equal(a: object, b: object) -> bool:
    return all(torch.equal(getattr(a, f), getattr(b, f)) for f in ("train_x", "train_y", "val_x", "val_y"))


@pytest.mark.req("DEC.tolaria_data.1")
def test_digits_real_samples_shapes_labels_and_split() -> None:
    s = load_digits_split()
    assert s.train_x.shape == (1437, 1, 8, 8) and s.val_x.shape == (360, 1, 8, 8)
    assert s.train_x.dtype == torch.float32 and s.train_y.dtype == torch.int64
    for y in (s.train_y, s.val_y):
        assert sorted(torch.unique(y).tolist()) == list(range(10))
    bunch = load_digits()
    counts = np.bincount(bunch.target, minlength=10)
    val_counts = torch.bincount(s.val_y, minlength=10).numpy()
    assert np.all(np.abs(val_counts - counts * 360 / 1797) <= 1.0)  # stratified
    assert abs(float(s.train_x.mean())) < 1e-5 and abs(float(s.train_x.std()) - 1.0) < 1e-3


@pytest.mark.req("SYS.6.7", "DEC.tolaria_data.1")
def test_digits_are_the_real_sklearn_images_in_a_fixed_split() -> None:
    s = load_digits_split()
    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).reshape(1797, 64)
    x = torch.cat([s.train_x, s.val_x]).reshape(-1, 64)
    y = torch.cat([s.train_y, s.val_y])
    # undo the standardisation with the train statistics and match every sample to one real image
    raw_train = images[torch.from_numpy(np.sort(_train_indices()))]
    mean, std = raw_train.mean(), raw_train.std()
    recovered = x * std + mean
    distances = torch.cdist(recovered, images)
    match = distances.argmin(dim=1)
    assert torch.all(distances.min(dim=1).values < 1e-4)
    assert sorted(match.tolist()) == list(range(1797))  # a permutation: all 1,797 real samples, no duplicates
    assert torch.equal(y, torch.from_numpy(bunch.target)[match])
    torch.manual_seed(123)
    again = load_digits_split()
    assert _all_equal(s, again)  # the split does not depend on the global RNG


def _train_indices() -> np.ndarray:
    from sklearn.model_selection import train_test_split

    target = load_digits().target
    train, _ = train_test_split(np.arange(1797), test_size=360, stratify=target, random_state=0, shuffle=True)
    return np.asarray(train)


@pytest.mark.req("DEC.tolaria_data.2")
def test_cifar10_folder_format(tmp_path: Path) -> None:
    s = load_cifar10(write_tiny_cifar(tmp_path / "cifar"))
    assert s.train_x.shape == (5 * TINY_PER_BATCH, 3, 32, 32) and s.val_x.shape == (TINY_TEST, 3, 32, 32)
    assert s.train_y.dtype == torch.int64 and int(s.train_y.max()) <= 9
    assert torch.allclose(s.train_x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(s.train_x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)


@pytest.mark.req("SYS.6.7", "DEC.tolaria_data.2")
def test_missing_or_malformed_datasets_raise_instead_of_substituting(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-cifar"
    with pytest.raises(DatasetError, match=str(missing)):
        load_cifar10(missing)
    with pytest.raises(DatasetError, match="needs data_dir"):
        load_task("cifar10")
    with pytest.raises(DatasetError, match="no-such-cifar"):
        load_task("cifar10", data_dir=missing)
    folder = write_tiny_cifar(tmp_path / "cifar")
    overwrite(folder, "data_batch_1", {b"data": np.zeros((4, 3072), dtype=np.float64), b"labels": [0, 1, 2, 3]})
    with pytest.raises(DatasetError, match="data_batch_1.*uint8"):
        load_cifar10(folder)
    with pytest.raises(DatasetError, match="does not exist"):
        load_task("text", data_dir=tmp_path / "missing.txt")
    assert issubclass(DatasetError, ValueError)


@pytest.mark.req("SYS.6.7")
def test_loaders_never_touch_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dataset loader tried to open a network socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    load_task("digits")
    load_task("cifar10", data_dir=write_tiny_cifar(tmp_path / "c"))
    load_text_corpus(byte_budget=5_000)


@pytest.mark.req("SYS.6.7", "DEC.tolaria_data.3")
def test_text_default_is_a_deterministic_stdlib_slice() -> None:
    torch.manual_seed(1)
    first = load_text_corpus()
    torch.manual_seed(2)
    second = load_text_corpus()
    assert first.vocab == second.vocab and _all_equal(first.splits, second.splits)
    assert list(first.vocab) == sorted(set(first.vocab))
    s = first.splits
    assert s.train_x.shape[1] == 64 and torch.equal(s.train_x[:, 1:], s.train_y[:, :-1])
    total = s.train_x.numel() + s.val_x.numel()
    assert 0.9 * 200_000 < total <= 200_000
    head = stdlib_source_files()[0].read_text(encoding="utf-8")[:500]
    assert first.decode(s.train_x.reshape(-1)[:500]) == head
    assert s.val_x.numel() < s.train_x.numel() / 8


@pytest.mark.req("DEC.tolaria_data.5")
def test_minibatches_cover_each_sample_once_in_a_reproducible_order() -> None:
    s = load_digits_split()
    orders = []
    for _ in range(2):
        generator = torch.Generator().manual_seed(5)
        batches = list(iterate_minibatches(s.train_x, s.train_y, 128, generator=generator))
        assert sum(len(y) for _, y in batches) == 1437
        xs = torch.cat([x for x, _ in batches])
        assert torch.equal(torch.sort(xs.reshape(1437, -1).sum(1)).values, torch.sort(s.train_x.reshape(1437, -1).sum(1)).values)
        orders.append(xs)
    assert torch.equal(orders[0], orders[1])
