"""The default "shaped" reward: dense per-step components plus the terminal term."""

from __future__ import annotations

import math

from esper.leyline import ACTIVE_STAGES, SeedStage
from esper.simic.rewards.breakdown import RewardBreakdown
from esper.simic.rewards.config import RewardConfig
from esper.simic.rewards.inputs import RewardInputs
from esper.simic.rewards.potentials import shaping_term, slots_potential

#: Stages before blending: no counterfactual exists yet, so the accuracy-delta proxy applies.
PRE_BLEND_STAGES: frozenset[SeedStage] = frozenset({SeedStage.GERMINATED, SeedStage.TRAINING})


def contribution_reward(inputs: RewardInputs, config: RewardConfig) -> float:
    """Counterfactual contribution of the acted-on seed, if it is still alive after the step.

    Without a counterfactual, a pre-blend seed earns ``proxy_weight * max(0, val_accuracy_delta)``.
    A seed culled this step (by the policy or the lifecycle) earns nothing.
    """
    after = inputs.acted_after
    if after is None or after.stage not in ACTIVE_STAGES:
        return 0.0
    if inputs.seed_contribution is not None:
        clipped = min(max(inputs.seed_contribution, -config.contribution_clip), config.contribution_clip)
        return config.contribution_weight * clipped
    before = inputs.acted_before
    if before is not None and before.stage in PRE_BLEND_STAGES and before.seed_id == after.seed_id:
        return config.proxy_weight * max(0.0, inputs.val_accuracy_delta)
    return 0.0


def stage_shaping_reward(inputs: RewardInputs, config: RewardConfig) -> float:
    """``shaping_weight * (gamma * Phi(s') - Phi(s))`` over all slots; ``Phi(s') = 0`` at the terminal step."""
    phi_before = slots_potential(inputs.slots_before)
    phi_after = slots_potential(inputs.slots_after)
    return config.shaping_weight * shaping_term(phi_before, phi_after, config.gamma, terminal=inputs.is_terminal)


def param_rent(seed_params: int, host_params: int, weight: float) -> float:
    """``-weight * log(1 + seed_params / host_params)``; 0 without seed parameters."""
    if host_params <= 0:
        raise ValueError(f"host_params must be > 0, got {host_params}")
    if seed_params < 0:
        raise ValueError(f"seed_params must be >= 0, got {seed_params}")
    return -weight * math.log1p(seed_params / host_params)


def terminal_reward(inputs: RewardInputs, config: RewardConfig) -> float:
    """At the last step: ``w_acc * final_val_accuracy + bonus * contributing_fossilized``; else 0."""
    if not inputs.is_terminal or inputs.final_val_accuracy is None:
        return 0.0
    return (
        config.terminal_accuracy_weight * inputs.final_val_accuracy
        + config.fossilized_bonus * inputs.contributing_fossilized
    )


def governor_reward(inputs: RewardInputs, config: RewardConfig) -> float:
    """``-governor_penalty`` when this step caused a rollback."""
    return -config.governor_penalty if inputs.governor_rollback else 0.0


def compute_shaped_reward(inputs: RewardInputs, config: RewardConfig) -> RewardBreakdown:
    """All reward components of one step."""
    return RewardBreakdown(
        contribution=contribution_reward(inputs, config),
        stage_shaping=stage_shaping_reward(inputs, config),
        param_rent=param_rent(inputs.seed_params, inputs.host_params, config.rent_weight),
        action_cost=-config.action_cost(inputs.executed_op),
        invalid_penalty=0.0 if inputs.executed else -config.invalid_penalty,
        auto_cull_penalty=-config.auto_cull_penalty * inputs.auto_culls,
        governor_penalty=governor_reward(inputs, config),
        terminal=terminal_reward(inputs, config),
    )


__all__ = [
    "PRE_BLEND_STAGES",
    "compute_shaped_reward",
    "contribution_reward",
    "governor_reward",
    "param_rent",
    "stage_shaping_reward",
    "terminal_reward",
]
