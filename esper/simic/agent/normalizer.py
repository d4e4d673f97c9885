"""Running mean/variance observation normaliser (Chan's parallel update), checkpointed with the agent."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from esper.leyline.validation import MAX_COUNT, check_device, check_float, check_int

DEFAULT_OBS_CLIP = 10.0
"""Normalised observations are clipped to ``[-clip, clip]``."""


class RunningMeanStd:
    """Per-feature running mean and variance of a stream of ``(N, dim)`` batches; statistics in float64."""

    def __init__(
        self, dim: int, epsilon: float = 1e-4, clip: float = DEFAULT_OBS_CLIP, device: str | torch.device = "cpu"
    ) -> None:
        check_int("dim", dim, low=1, high=MAX_COUNT)
        epsilon = check_float("epsilon", epsilon, low=0.0, low_open=True)
        clip = check_float("clip", clip, low=0.0, low_open=True)
        self.dim = dim
        self.epsilon = float(epsilon)
        self.clip = float(clip)
        self.device = check_device("device", device, available=True)
        self.mean = torch.zeros(dim, dtype=torch.float64, device=self.device)
        self.var = torch.ones(dim, dtype=torch.float64, device=self.device)
        self.count = torch.tensor(self.epsilon, dtype=torch.float64, device=self.device)

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"observations must be a floating torch.Tensor of shape (..., {self.dim}), got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"observations must have a floating dtype, got {x.dtype}")
        if x.shape[-1:] != (self.dim,):
            raise ValueError(f"observations must have shape (..., {self.dim}), got {tuple(x.shape)}")
        return x.reshape(-1, self.dim)

    def update(self, x: torch.Tensor) -> None:
        """Fold a batch ``(..., dim)`` into the statistics.

        Raises ``ValueError`` (and leaves the statistics unchanged) if the batch holds a NaN/inf: one bad
        observation would otherwise poison the mean forever (issue 13). One host sync for that check.
        """
        batch = self._check(x).to(device=self.device, dtype=torch.float64)
        n = batch.shape[0]
        if n == 0:
            return
        if not bool(torch.isfinite(batch).all()):
            raise ValueError("observations must be finite (no NaN/inf); the running statistics were not updated")
        batch_mean = batch.mean(dim=0)
        batch_var = batch.var(dim=0, unbiased=False)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * (n / total)
        m2 = self.var * self.count + batch_var * n + delta.square() * (self.count * n / total)
        self.var = m2 / total
        self.count = total

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """``clamp((x - mean) / sqrt(var + eps), -clip, clip)`` in ``x``'s dtype and device."""
        self._check(x)
        mean = self.mean.to(device=x.device, dtype=x.dtype)
        std = (self.var + self.epsilon).sqrt().to(device=x.device, dtype=x.dtype)
        return ((x - mean) / std).clamp(-self.clip, self.clip)

    def state_dict(self) -> dict[str, object]:
        return {
            "mean": self.mean.clone(),
            "var": self.var.clone(),
            "count": self.count.clone(),
            "epsilon": self.epsilon,
            "clip": self.clip,
            "dim": self.dim,
        }

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore statistics; raises ``ValueError`` if keys, types or the feature dimension differ."""
        expected = {"mean", "var", "count", "epsilon", "clip", "dim"}
        if set(state) != expected:
            raise ValueError(f"normaliser state must have keys {sorted(expected)}, got {sorted(state)}")
        mean, var, count = state["mean"], state["var"], state["count"]
        if not (isinstance(mean, torch.Tensor) and isinstance(var, torch.Tensor) and isinstance(count, torch.Tensor)):
            raise ValueError("normaliser state 'mean', 'var' and 'count' must be tensors")
        epsilon, clip = state["epsilon"], state["clip"]
        if not (isinstance(epsilon, float) and isinstance(clip, float)):
            raise ValueError(f"normaliser state 'epsilon' and 'clip' must be floats, got {epsilon!r}, {clip!r}")
        if state["dim"] != self.dim or mean.shape != (self.dim,) or var.shape != (self.dim,):
            raise ValueError(f"normaliser state is for dim {state['dim']}, this normaliser has dim {self.dim}")
        self.mean = mean.to(device=self.device, dtype=torch.float64).clone()
        self.var = var.to(device=self.device, dtype=torch.float64).clone()
        self.count = count.to(device=self.device, dtype=torch.float64).clone()
        self.epsilon = epsilon
        self.clip = clip


__all__ = ["DEFAULT_OBS_CLIP", "RunningMeanStd"]
