"""The one typed bridge over ``nn.Module.__call__`` (which torch types as returning ``Any``)."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn


def run(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` typed as a tensor (every module called this way maps a tensor to a tensor)."""
    return cast(torch.Tensor, module(x))


__all__ = ["run"]
