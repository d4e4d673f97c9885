"""Simic rewards: per-step reward components for Tamiyo's PPO training (design note §5 "Reward").

``compute_reward(RewardInputs, RewardConfig) -> RewardBreakdown``; ``mode="shaped"`` (RewardConfig default), ``"growth"`` (training default, issue 10) or ``"sparse"``.
"""

from __future__ import annotations

from esper.simic.rewards.breakdown import REWARD_COMPONENTS, RewardBreakdown
from esper.simic.rewards.compute import compute_reward, compute_rewards, reward_totals
from esper.simic.rewards.config import REWARD_MODES, RewardConfig
from esper.simic.rewards.growth import compute_growth_reward, contribution_potential
from esper.simic.rewards.inputs import RewardInputs
from esper.simic.rewards.potentials import STAGE_POTENTIALS, shaping_term, slots_potential, stage_potential
from esper.simic.rewards.shaped import compute_shaped_reward, param_rent
from esper.simic.rewards.sparse import compute_sparse_reward

__all__ = [
    "REWARD_COMPONENTS",
    "REWARD_MODES",
    "STAGE_POTENTIALS",
    "RewardBreakdown",
    "RewardConfig",
    "RewardInputs",
    "compute_reward",
    "compute_growth_reward",
    "compute_rewards",
    "contribution_potential",
    "compute_shaped_reward",
    "compute_sparse_reward",
    "param_rent",
    "reward_totals",
    "shaping_term",
    "slots_potential",
    "stage_potential",
]
