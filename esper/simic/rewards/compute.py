"""Reward entry points: one step (:func:`compute_reward`) and a batch of env steps."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from esper.simic.rewards.breakdown import RewardBreakdown
from esper.simic.rewards.config import RewardConfig
from esper.simic.rewards.growth import compute_growth_reward
from esper.simic.rewards.inputs import RewardInputs
from esper.simic.rewards.shaped import compute_shaped_reward
from esper.simic.rewards.sparse import compute_sparse_reward


def compute_reward(inputs: RewardInputs, config: RewardConfig | None = None) -> RewardBreakdown:
    """Reward of one env step under ``config.mode`` (default: shaped with default weights)."""
    config = RewardConfig() if config is None else config
    if not isinstance(inputs, RewardInputs):
        raise TypeError(f"inputs must be a RewardInputs, got {type(inputs).__name__}")
    if not isinstance(config, RewardConfig):
        raise TypeError(f"config must be a RewardConfig, got {type(config).__name__}")
    if config.mode == "sparse":
        return compute_sparse_reward(inputs, config)
    if config.mode == "growth":
        return compute_growth_reward(inputs, config)
    return compute_shaped_reward(inputs, config)


def compute_rewards(batch: Sequence[RewardInputs], config: RewardConfig | None = None) -> list[RewardBreakdown]:
    """Rewards of one step of every env (env order)."""
    return [compute_reward(inputs, config) for inputs in batch]


def reward_totals(
    breakdowns: Sequence[RewardBreakdown], *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The ``total`` of each breakdown as a 1-D tensor (for the rollout buffer)."""
    return torch.tensor([b.total for b in breakdowns], dtype=dtype, device=device)


__all__ = ["compute_reward", "compute_rewards", "reward_totals"]
