"""Devices that exist here: a named device is parsed and checked before anything is built or loaded on it."""

from __future__ import annotations

import torch

SUPPORTED_DEVICES = "'cpu', 'cuda' or 'cuda:N'"


def check_available_device(name: str, device: object, *, present: bool = True) -> torch.device:
    """``device`` as a ``torch.device`` that exists on this machine (with ``present=False``: that could exist).

    Raises ``TypeError`` for a non-``str``/``torch.device``; ``ValueError`` naming ``name`` for a string torch
    cannot parse (``"bogus"``), an unsupported type (``"meta"``, ``"mps"``) and a CUDA device that is not there
    (CUDA unavailable, or ``cuda:N`` with ``N >= torch.cuda.device_count()``).
    """
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"{name} {device!r} is not a device; valid: {SUPPORTED_DEVICES}") from None
    else:
        raise TypeError(f"{name} must be a str or torch.device ({SUPPORTED_DEVICES}), got {type(device).__name__}")
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise ValueError(f"{name} {str(dev)!r} is not supported; valid: {SUPPORTED_DEVICES}")
    if not present:
        return dev
    if not torch.cuda.is_available():
        raise ValueError(f"{name} {str(dev)!r} does not exist: CUDA is not available on this machine; use 'cpu'")
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise ValueError(f"{name} {str(dev)!r} does not exist: this machine has {count} CUDA device(s)")
    return dev


__all__ = ["SUPPORTED_DEVICES", "check_available_device"]
