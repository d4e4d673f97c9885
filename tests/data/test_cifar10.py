"""CIFAR-10 python-pickle folder loader: shapes, normalisation and every malformed-folder error."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.tolaria.cifar_folder import TINY_PER_BATCH, TINY_TEST, overwrite, tiny_batch, write_tiny_cifar
from esper.data import DatasetError, load_cifar10


@pytest.fixture
def cifar_dir(tmp_path: Path) -> Path:
    return write_tiny_cifar(tmp_path / "cifar-10-batches-py")


def test_loads_tiny_folder(cifar_dir: Path) -> None:
    s = load_cifar10(cifar_dir)
    assert s.train_x.shape == (5 * TINY_PER_BATCH, 3, 32, 32) and s.train_x.dtype == torch.float32
    assert s.val_x.shape == (TINY_TEST, 3, 32, 32)
    assert s.train_y.tolist() == [(i + b) % 10 for b in range(1, 6) for i in range(TINY_PER_BATCH)]
    channel_mean = s.train_x.mean(dim=(0, 2, 3))
    assert torch.allclose(channel_mean, torch.zeros(3), atol=1e-5)
    # rows are channel-major: pixel (c, h, w) is column c*1024 + h*32 + w of b"data"
    rows = tiny_batch(TINY_TEST, 0)[b"data"]
    assert isinstance(rows, np.ndarray)
    raw = torch.from_numpy(rows.astype(np.float32)).reshape(-1, 3, 32, 32)
    assert torch.equal(s.val_x.argmax(dim=3), raw.argmax(dim=3))


@pytest.mark.parametrize(
    ("name", "payload", "match"),
    [
        ("data_batch_2", [1, 2, 3], "must unpickle to a dict"),
        ("data_batch_3", {b"labels": [0]}, "lacks key b'data'"),
        ("data_batch_4", {b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
        ("data_batch_5", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, "3072"),
        ("test_batch", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "2 ints"),
        ("test_batch", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, r"\[0, 9\]"),
        ("batches.meta", {b"label_names": [b"a"]}, "label_names"),
    ],
)
def test_malformed_file_names_path(cifar_dir: Path, name: str, payload: object, match: str) -> None:
    overwrite(cifar_dir, name, payload)
    with pytest.raises(DatasetError, match=match) as info:
        load_cifar10(cifar_dir)
    assert name in str(info.value)


def test_missing_file_and_folder(cifar_dir: Path, tmp_path: Path) -> None:
    os.remove(cifar_dir / "data_batch_3")
    with pytest.raises(DatasetError, match="missing file .*data_batch_3"):
        load_cifar10(cifar_dir)
    with pytest.raises(DatasetError, match="not a directory"):
        load_cifar10(tmp_path / "nowhere")


def test_garbage_and_code_pickles_rejected(cifar_dir: Path) -> None:
    (cifar_dir / "data_batch_1").write_bytes(b"not a pickle at all")
    with pytest.raises(DatasetError, match="data_batch_1"):
        load_cifar10(cifar_dir)
    with (cifar_dir / "data_batch_1").open("wb") as fh:
        pickle.dump({b"data": os.getcwd, b"labels": []}, fh)  # a global outside the allow-list
    with pytest.raises(DatasetError, match="not allowed"):
        load_cifar10(cifar_dir)


def test_device_argument(cifar_dir: Path) -> None:
    s = load_cifar10(cifar_dir, device="cpu")
    assert s.device == torch.device("cpu")
