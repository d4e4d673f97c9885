"""Writes tiny folders in the exact CIFAR-10 python-pickle format (for tests; the real data is never fetched)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

TINY_PER_BATCH = 6
TINY_TEST = 8


def tiny_batch(n: int, offset: int) -> dict[bytes, object]:
    """A batch dict with deterministic pixel values and labels cycling through 0..9."""
    rows = (np.arange(n * 3072, dtype=np.int64).reshape(n, 3072) * 7 + offset) % 256
    return {
        b"batch_label": b"tiny batch",
        b"labels": [int((i + offset) % 10) for i in range(n)],
        b"data": rows.astype(np.uint8),
        b"filenames": [f"img_{offset}_{i}.png".encode() for i in range(n)],
    }


def write_tiny_cifar(root: Path, per_batch: int = TINY_PER_BATCH, test: int = TINY_TEST) -> Path:
    """Write data_batch_1..5, test_batch and batches.meta under ``root``; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        with (root / f"data_batch_{i}").open("wb") as fh:
            pickle.dump(tiny_batch(per_batch, offset=i), fh)
    with (root / "test_batch").open("wb") as fh:
        pickle.dump(tiny_batch(test, offset=0), fh)
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)], b"num_cases_per_batch": per_batch, b"num_vis": 3072}
    with (root / "batches.meta").open("wb") as fh:
        pickle.dump(meta, fh)
    return root


def overwrite(root: Path, name: str, payload: object) -> None:
    """Replace one file of the folder with ``payload`` pickled."""
    with (root / name).open("wb") as fh:
        pickle.dump(payload, fh)
