"""Devices that exist here: a named device is parsed and checked before anything is built or loaded on it."""

from __future__ import annotations

import torch

from esper.leyline.validation import SUPPORTED_DEVICES, check_device


def check_available_device(name: str, device: object, *, present: bool = True) -> torch.device:
    """``device`` as a ``torch.device`` that exists on this machine (with ``present=False``: that could exist).

    Parsing is :func:`esper.leyline.validation.check_device`: ``TypeError`` for a non-``str``/``torch.device``,
    ``ValueError`` naming ``name`` for a string torch cannot parse (``"bogus"``). Runs support only CPU and CUDA,
    so another type (``"meta"``, ``"mps"``) is a ``ValueError``, and so is (with ``present``) a CUDA device that
    is not there (CUDA unavailable, or ``cuda:N`` with ``N >= torch.cuda.device_count()``).
    """
    dev = check_device(name, device)
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} {str(dev)!r} is not supported; valid: {SUPPORTED_DEVICES}")
    return check_device(name, dev, available=True) if present else dev


__all__ = ["SUPPORTED_DEVICES", "check_available_device"]
