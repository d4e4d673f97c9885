"""The "sparse" reward: only the terminal term (plus the governor penalty, which marks a broken step)."""

from __future__ import annotations

from esper.simic.rewards.breakdown import RewardBreakdown
from esper.simic.rewards.config import RewardConfig
from esper.simic.rewards.inputs import RewardInputs
from esper.simic.rewards.shaped import governor_reward, terminal_reward


def compute_sparse_reward(inputs: RewardInputs, config: RewardConfig) -> RewardBreakdown:
    """Zero on every step except the terminal one; a governor rollback is still penalised."""
    return RewardBreakdown(terminal=terminal_reward(inputs, config), governor_penalty=governor_reward(inputs, config))


__all__ = ["compute_sparse_reward"]
