"""The ``"growth"`` reward (issue 10, spec/decisions/reward.md): growth pays exactly when it improves the final
result, per parameter added.

Per step (all slot-independent, so no credit flows through a causally masked slot head):

- ``stage_shaping``: the stage potential of :mod:`~esper.simic.rewards.potentials` (unchanged);
- ``contribution``: potential-based shaping on the seeds' measured counterfactual contributions,
  ``Phi_c(s) = terminal_accuracy_weight * sum(max(0, contribution) of every BLENDING/PROBATIONARY/FOSSILIZED seed)``,
  ``F = gamma * Phi_c(s') - Phi_c(s)`` with ``Phi_c = 0`` after the terminal step. It credits a helping seed as
  soon as its contribution is measured, at the exchange rate of the terminal term, and hands the credit back
  at the end, where the final accuracy pays for what the seed really did (policy-invariant, Ng et al. 1999).
  ``Phi_c >= 0`` and 0 for empty/cooling slots, so a germinate -> cull cycle never earns positive shaping
  for any evaluation discount in ``[gamma, 1]`` (the argument of DEC.rewards_nissa.2);
- action costs and the governor penalty as in ``"shaped"``. No invalid-action and no auto-cull penalty
  (DEC.reward.7): an action that cannot run is executed *and rewarded* as WAIT (design §4), and a seed the lifecycle
  culls leaves the final result unchanged; charging either made "never act" the return's easiest gain.

At the terminal step:

- ``terminal``: ``terminal_accuracy_weight * final_val_accuracy`` (no per-seed bonus: the accuracy pays);
- ``param_rent``: ``-terminal_accuracy_weight * param_price_points * seed_params / host_params``: the
  parameters the final model carries beyond the host are charged once, ``param_price_points`` accuracy points per
  host-size of parameters. Growing pays iff it gains more accuracy points than that price.
"""

from __future__ import annotations

from collections.abc import Sequence

from esper.leyline import SeedStage, SeedStateReport
from esper.simic.rewards.breakdown import RewardBreakdown
from esper.simic.rewards.config import RewardConfig
from esper.simic.rewards.inputs import RewardInputs
from esper.simic.rewards.potentials import shaping_term
from esper.simic.rewards.shaped import governor_reward, stage_shaping_reward

#: Stages whose measured contribution enters the contribution potential (a counterfactual exists from BLENDING on).
CONTRIBUTING_STAGES: frozenset[SeedStage] = frozenset(
    {SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED}
)


def contribution_potential(slots: Sequence[SeedStateReport | None]) -> float:
    """Sum of the positive measured contributions (accuracy points) of every contributing seed; unmeasured counts 0."""
    total = 0.0
    for report in slots:
        if report is None or report.stage not in CONTRIBUTING_STAGES:
            continue
        value = report.metrics.counterfactual_contribution
        if value is not None and value > 0.0:  # None/NaN = not measured; harm is charged by the final accuracy
            total += value
    return total


def contribution_shaping_reward(inputs: RewardInputs, config: RewardConfig) -> float:
    """``w_acc * (gamma * Phi_c(s') - Phi_c(s))``, ``Phi_c(s') = 0`` at the terminal step."""
    before = contribution_potential(inputs.slots_before)
    after = contribution_potential(inputs.slots_after)
    return config.terminal_accuracy_weight * shaping_term(before, after, config.gamma, terminal=inputs.is_terminal)


def terminal_param_rent(inputs: RewardInputs, config: RewardConfig) -> float:
    """At the terminal step, ``-w_acc * param_price_points * seed_params / host_params``; else 0."""
    if not inputs.is_terminal:
        return 0.0
    return -config.terminal_accuracy_weight * config.param_price_points * inputs.seed_params / inputs.host_params


def compute_growth_reward(inputs: RewardInputs, config: RewardConfig) -> RewardBreakdown:
    """All components of one step under ``mode="growth"``."""
    final = inputs.final_val_accuracy if inputs.is_terminal and inputs.final_val_accuracy is not None else None
    return RewardBreakdown(
        contribution=contribution_shaping_reward(inputs, config),
        stage_shaping=stage_shaping_reward(inputs, config),
        param_rent=terminal_param_rent(inputs, config),
        action_cost=-config.action_cost(inputs.executed_op),
        invalid_penalty=0.0,  # DEC.reward.7: rewarded as WAIT
        auto_cull_penalty=0.0,  # DEC.reward.7: a culled seed is paid for by the final accuracy alone
        governor_penalty=governor_reward(inputs, config),
        terminal=0.0 if final is None else config.terminal_accuracy_weight * final,
    )


__all__ = [
    "CONTRIBUTING_STAGES",
    "compute_growth_reward",
    "contribution_potential",
    "contribution_shaping_reward",
    "terminal_param_rent",
]
