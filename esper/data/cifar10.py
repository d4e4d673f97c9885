"""CIFAR-10 from a LOCAL folder in the standard python-pickle batch format (never downloaded).

The folder holds ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and ``batches.meta``; each batch is a
pickled dict with ``b"data"`` (uint8 array, N x 3072, channel-major 3x32x32 rows) and ``b"labels"`` (N ints
in 0..9). Unpickling is restricted to plain containers and numpy arrays, so a folder cannot run code.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from esper.data.errors import DatasetError
from esper.data.splits import SplitTensors, standardise

CIFAR10_TRAIN_FILES: tuple[str, ...] = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
CIFAR10_NUM_CLASSES = 10
CIFAR10_ROW_SIZE = 3 * 32 * 32

_ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }
)


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler that only resolves the globals a numpy array pickle needs."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")
        found: object = super().find_class(module, name)
        return found


def _unpickle(path: Path) -> dict[bytes, object]:
    if not path.is_file():
        raise DatasetError(f"CIFAR-10: missing file {path}")
    try:
        with path.open("rb") as handle:
            loaded: object = _SafeUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise DatasetError(f"CIFAR-10: {path} is not a readable python-pickle batch ({exc})") from exc
    if not isinstance(loaded, dict):
        raise DatasetError(f"CIFAR-10: {path} must unpickle to a dict, got {type(loaded).__name__}")
    return {(k if isinstance(k, bytes) else str(k).encode()): v for k, v in loaded.items()}


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    for key in (b"data", b"labels"):
        if key not in batch:
            raise DatasetError(f"CIFAR-10: {path} lacks key {key!r}; found {sorted(batch)}")
    data = batch[b"data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR10_ROW_SIZE:
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise DatasetError(f"CIFAR-10: {path} b'data' must be a uint8 array (N, 3072), got {dtype} {shape}")
    raw_labels = batch[b"labels"]
    if not isinstance(raw_labels, Sequence | np.ndarray):
        raise DatasetError(f"CIFAR-10: {path} b'labels' must be a list of ints, got {type(raw_labels).__name__}")
    labels = np.asarray(raw_labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0] or not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(
            f"CIFAR-10: {path} b'labels' must be {data.shape[0]} ints (one per row of b'data'), "
            f"got dtype {labels.dtype} shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= CIFAR10_NUM_CLASSES):
        raise DatasetError(f"CIFAR-10: {path} labels must lie in [0, 9], got [{labels.min()}, {labels.max()}]")
    return data, labels.astype(np.int64)


def _check_meta(path: Path) -> None:
    meta = _unpickle(path)
    names = meta.get(b"label_names")
    if not isinstance(names, list) or len(names) != CIFAR10_NUM_CLASSES:
        raise DatasetError(f"CIFAR-10: {path} must hold b'label_names', a list of 10 class names")


def _stack(paths: Sequence[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    parts = [_read_batch(p) for p in paths]
    data = np.concatenate([d for d, _ in parts])
    labels = np.concatenate([lab for _, lab in parts])
    images = torch.from_numpy(data).reshape(-1, 3, 32, 32).to(torch.float32) / 255.0
    return images, torch.from_numpy(labels)


def load_cifar10(data_dir: str | Path, device: str | torch.device = "cpu") -> SplitTensors:
    """Train = the five data batches, val = ``test_batch``; images (N, 3, 32, 32) float32.

    Pixels are scaled to [0, 1] and standardised per channel with train-split statistics. A missing folder,
    file or key, or a wrongly typed/shaped array raises :class:`DatasetError` naming the path.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(
            f"CIFAR-10: data_dir {str(root)!r} is not a directory; expected a local folder with "
            f"{list(CIFAR10_TRAIN_FILES)}, {CIFAR10_TEST_FILE!r} and {CIFAR10_META_FILE!r} (nothing is downloaded)"
        )
    _check_meta(root / CIFAR10_META_FILE)
    train_x, train_y = _stack([root / name for name in CIFAR10_TRAIN_FILES])
    val_x, val_y = _stack([root / CIFAR10_TEST_FILE])
    if train_x.shape[0] == 0 or val_x.shape[0] == 0:
        raise DatasetError(f"CIFAR-10: {root} holds no training or no test images")
    train_x, val_x = standardise(train_x, val_x, dims=(0, 2, 3))
    return SplitTensors(train_x=train_x.to(device), train_y=train_y.to(device), val_x=val_x.to(device), val_y=val_y.to(device))


__all__ = ["CIFAR10_META_FILE", "CIFAR10_TEST_FILE", "CIFAR10_TRAIN_FILES", "load_cifar10"]
