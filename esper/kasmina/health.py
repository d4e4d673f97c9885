"""Seed health: what a live seed's training looked like this epoch, measured where the seed runs.

A TRAINING seed's output is hidden behind the host (the slot returns the host's features exactly), so no loss shows
a seed that diverges. The slot therefore measures, on every training forward of a TRAINING/BLENDING/PROBATIONARY
seed, the squared residual ``|s(x) - x|^2``, the squared input ``|x|^2`` and the number of non-finite output
elements, summed on the device; the trainer reads them once per epoch into a :class:`SeedHealth` together with the
finiteness of the seed's parameters (DEC.seedhealth.2). The gates (``esper.kasmina.gates``) judge it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Index of each sum in a slot's health accumulator (a float64 tensor of this length).
RESIDUAL_SQ, INPUT_SQ, NONFINITE_OUTPUTS = 0, 1, 2
HEALTH_SUMS = 3


@dataclass(frozen=True, slots=True)
class SeedHealth:
    """One epoch of a seed's health.

    ``residual_ratio`` is ``sqrt(sum |s(x) - x|^2 / sum |x|^2)`` over the epoch's training forwards (0.0 when the
    seed never ran, inf/nan when its output overflowed); ``output_finite`` is False when any output element was
    NaN/inf; ``params_finite`` is False when any parameter is NaN/inf.
    """

    residual_ratio: float = 0.0
    output_finite: bool = True
    params_finite: bool = True

    @classmethod
    def from_sums(cls, sums: list[float], params_finite: bool) -> "SeedHealth":
        """Build from a slot's accumulator read back as floats (``[residual^2, input^2, non-finite count]``)."""
        residual_sq, input_sq, nonfinite = sums[RESIDUAL_SQ], sums[INPUT_SQ], sums[NONFINITE_OUTPUTS]
        if math.isnan(residual_sq) or math.isnan(input_sq):
            ratio = math.nan
        elif residual_sq == 0.0:
            ratio = 0.0
        elif input_sq == 0.0 or math.isinf(residual_sq):
            ratio = math.inf
        else:
            ratio = math.sqrt(residual_sq / input_sq)
        return cls(residual_ratio=ratio, output_finite=nonfinite == 0.0, params_finite=params_finite)


def params_finite(params: list[torch.nn.Parameter], device: torch.device) -> torch.Tensor:
    """0-d bool tensor on ``device``: every element of every parameter is finite (True for no parameters); no
    host sync."""
    if not params:
        return torch.ones((), dtype=torch.bool, device=device)
    return torch.stack([torch.isfinite(p.detach()).all() for p in params]).all()


__all__ = ["HEALTH_SUMS", "INPUT_SQ", "NONFINITE_OUTPUTS", "RESIDUAL_SQ", "SeedHealth", "params_finite"]
