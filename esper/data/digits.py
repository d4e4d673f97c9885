"""scikit-learn's bundled 8x8 handwritten digits (1,797 real images, shipped with sklearn; no download)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from esper.data.errors import DatasetError
from esper.data.splits import SplitTensors, standardise

DIGITS_NUM_SAMPLES = 1797
DIGITS_VAL_SIZE = 360
"""Validation samples (train keeps the other 1,437)."""
DIGITS_SPLIT_SEED = 0
"""``random_state`` of the fixed stratified split; the split is a constant of the dataset, not of a run."""
DIGITS_MAX_PIXEL = 16.0


def load_digits_split(device: str | torch.device = "cpu") -> SplitTensors:
    """The digits as (N, 1, 8, 8) float32 and int64 labels 0-9, split 1,437/360 (stratified, fixed).

    Pixels are scaled to [0, 1] and then standardised with the train split's mean and std (one scalar each).
    """
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    if images.shape != (DIGITS_NUM_SAMPLES, 8, 8) or labels.shape != (DIGITS_NUM_SAMPLES,):
        raise DatasetError(
            f"sklearn digits: expected images (1797, 8, 8) and labels (1797,), got {images.shape} and {labels.shape}"
        )
    indices = np.arange(DIGITS_NUM_SAMPLES)
    train_idx, val_idx = train_test_split(
        indices, test_size=DIGITS_VAL_SIZE, stratify=labels, random_state=DIGITS_SPLIT_SEED, shuffle=True
    )
    train_idx = np.sort(train_idx)
    val_idx = np.sort(val_idx)
    pixels = torch.from_numpy(images / DIGITS_MAX_PIXEL).unsqueeze(1)
    targets = torch.from_numpy(labels)
    train_x, val_x = standardise(pixels[train_idx], pixels[val_idx], dims=(0, 1, 2, 3))
    return SplitTensors(
        train_x=train_x.to(device),
        train_y=targets[train_idx].to(device),
        val_x=val_x.to(device),
        val_y=targets[val_idx].to(device),
    )


__all__ = ["DIGITS_NUM_SAMPLES", "DIGITS_SPLIT_SEED", "DIGITS_VAL_SIZE", "load_digits_split"]
