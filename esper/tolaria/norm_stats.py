"""Normalisation statistics of the host: find poisoned running buffers and recompute them from the current weights.

BatchNorm running statistics outlive the module that distorted them: a blending seed that emitted 1e15 pushed
block 1's ``running_var`` to 1.7e30, and after the seed was culled eval-mode BN still output a constant for many
epochs (``running_var`` decays only x0.28 per epoch at momentum 0.1). Two tools (DEC.seedhealth.3/4):

- :func:`norm_buffers_unhealthy` names running buffers that are non-finite or grew far beyond a healthy reference
  (the governor's snapshot);
- :func:`recalibrate_norm_stats` recomputes every running buffer from scratch with the current weights (cumulative
  average over training minibatches, no parameter changes), so eval-mode behaviour matches the weights again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

#: Modules whose running statistics are tracked (public classes; their ``track_running_stats`` decides).
NORM_WITH_RUNNING_STATS: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.SyncBatchNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
)
RUNNING_BUFFERS: tuple[str, ...] = ("running_mean", "running_var")
NORM_BUFFER_GROWTH_LIMIT = 1.0e3
"""A running buffer whose largest magnitude exceeds this factor x max(1, its healthy reference's) is poisoned."""
RECALIBRATION_MAX_SAMPLES = 4096
"""Training samples used to recompute running statistics (the whole split when smaller)."""


def norm_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every module that tracks running statistics, in ``named_modules`` order."""
    return [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, NORM_WITH_RUNNING_STATS) and getattr(m, "running_mean", None) is not None
    ]


def norm_buffer_magnitudes(model: nn.Module) -> dict[str, torch.Tensor]:
    """``{state_dict name: 0-d tensor max |buffer|}`` of every running mean/var (on the device; no host sync)."""
    out: dict[str, torch.Tensor] = {}
    for name, module in norm_modules(model):
        for buf in RUNNING_BUFFERS:
            value = getattr(module, buf, None)
            if isinstance(value, torch.Tensor):
                out[f"{name}.{buf}" if name else buf] = value.detach().abs().max()
    return out


def norm_buffers_unhealthy(model: nn.Module, reference: Mapping[str, float] | None = None) -> list[str]:
    """Names of running buffers that are non-finite, or whose max magnitude exceeds ``NORM_BUFFER_GROWTH_LIMIT`` x
    ``max(1, reference[name])`` (reference: healthy magnitudes; without one, ``max(1, ...)`` = 1). One host read."""
    mags = norm_buffer_magnitudes(model)
    if not mags:
        return []
    values = torch.stack([m.double() for m in mags.values()]).tolist()
    bad: list[str] = []
    for (name, _), value in zip(mags.items(), values, strict=True):
        ref = 1.0 if reference is None else max(1.0, reference.get(name, 1.0))
        if not math.isfinite(value) or value > NORM_BUFFER_GROWTH_LIMIT * ref:
            bad.append(name)
    return bad


def recalibrate_norm_stats(
    model: nn.Module, x: torch.Tensor, *, batch_size: int, max_samples: int = RECALIBRATION_MAX_SAMPLES
) -> int:
    """Recompute every running mean/var of ``model`` from the first ``max_samples`` rows of ``x`` with the current
    weights: reset, then a cumulative average over train-mode forwards under ``no_grad`` (no parameter changes).
    Momentum and the train/eval mode are restored. Returns the number of samples used (0 without norm modules)."""
    modules = norm_modules(model)
    if not modules:
        return 0
    n = min(int(x.shape[0]), max_samples)
    if n == 0:
        raise ValueError("recalibrate_norm_stats needs at least one sample in x")
    momenta: list[object] = [getattr(m, "momentum") for _, m in modules]
    was_training = model.training
    try:
        for _, m in modules:
            reset = getattr(m, "reset_running_stats")
            reset()
            setattr(m, "momentum", None)  # cumulative moving average over the recalibration batches
        model.train()
        with torch.no_grad():
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                if stop - start < 2 < n:
                    break  # a 1-sample tail adds nothing and BatchNorm refuses it on 1x1 maps
                model(x[start:stop])
    finally:
        for (_, m), momentum in zip(modules, momenta, strict=True):
            setattr(m, "momentum", momentum)
        model.train(was_training)
    return n


__all__ = [
    "NORM_BUFFER_GROWTH_LIMIT",
    "NORM_WITH_RUNNING_STATS",
    "RECALIBRATION_MAX_SAMPLES",
    "norm_buffer_magnitudes",
    "norm_buffers_unhealthy",
    "norm_modules",
    "recalibrate_norm_stats",
]
