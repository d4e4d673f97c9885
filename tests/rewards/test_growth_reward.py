"""The ``growth`` reward (issue 10, spec/decisions/reward.md): invariants and exact values."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.rewards.reward_strategies import multi_slot_cycles, reward_configs, reward_inputs
from esper.leyline import LifecycleOp, SeedMetricsReport, SeedStage, SeedStateReport
from esper.simic.rewards import REWARD_COMPONENTS, RewardConfig, RewardInputs, compute_reward, contribution_potential

GROWTH = RewardConfig(mode="growth")


def _report(stage: SeedStage, contribution: float | None, i: int = 0, params: int = 100) -> SeedStateReport:
    metrics = SeedMetricsReport(counterfactual_contribution=contribution, seed_param_count=params)
    return SeedStateReport(slot_id=f"r0c{i}", seed_id=f"seed-{i}", blueprint_id="norm", stage=stage, metrics=metrics)


def _inputs(
    before: tuple[SeedStateReport | None, ...],
    after: tuple[SeedStateReport | None, ...],
    *,
    slot_idx: int | None = 0,
    op: LifecycleOp = LifecycleOp.WAIT,
    seed_params: int = 0,
    host_params: int = 1000,
    final: float | None = None,
) -> RewardInputs:
    return RewardInputs(
        op=op,
        executed=True,
        slot_idx=slot_idx,
        slots_before=before,
        slots_after=after,
        seed_contribution=None,
        seed_params=seed_params,
        host_params=host_params,
        is_terminal=final is not None,
        final_val_accuracy=final,
    )


@pytest.mark.req("DEC.reward.1", "DEC.reward.2")
@settings(max_examples=150, deadline=None)
@given(inputs=reward_inputs(), config=reward_configs(mode="growth"), price=st.floats(0.0, 10.0))
def test_growth_components_sum_to_total(inputs: RewardInputs, config: RewardConfig, price: float) -> None:
    breakdown = compute_reward(inputs, dataclasses.replace(config, param_price_points=price))
    parts = [breakdown.to_dict()[name] for name in REWARD_COMPONENTS]
    assert math.isclose(breakdown.total, math.fsum(parts), rel_tol=1e-12, abs_tol=1e-9)
    for name in ("param_rent", "action_cost", "invalid_penalty", "auto_cull_penalty", "governor_penalty"):
        assert breakdown.to_dict()[name] <= 0.0


@st.composite
def _contribution_cycles(draw: st.DrawFn) -> list[tuple[SeedStateReport | None, ...]]:
    """Multi-slot germinate -> ... -> cull -> cooldown -> empty paths whose seeds report arbitrary contributions."""
    path = draw(multi_slot_cycles(finish_cooldown=True))
    contribution = st.one_of(st.none(), st.floats(-100.0, 100.0))
    return [
        tuple(None if stage is None else _report(stage, draw(contribution), i) for i, stage in enumerate(step))
        for step in path
    ]


@pytest.mark.req("DEC.reward.2")
@settings(max_examples=150, deadline=None)
@given(
    path=_contribution_cycles(),
    gamma=st.floats(0.5, 1.0),
    eval_slack=st.floats(0.0, 1.0),
    slot_choices=st.lists(st.integers(0, 2), min_size=1, max_size=8),
)
def test_germinate_cull_cycle_never_pays_in_growth_mode(
    path: list[tuple[SeedStateReport | None, ...]], gamma: float, eval_slack: float, slot_choices: list[int]
) -> None:
    """Stage and contribution shaping of a cycle that ends with empty slots: exactly 0 at the shaping discount,
    never positive for any evaluation discount in [gamma, 1], whatever the seeds reported along the way."""
    config = RewardConfig(mode="growth", gamma=gamma, germinate_cost=0.0, cull_cost=0.0)
    gamma_eval = gamma + (1.0 - gamma) * eval_slack
    totals = {g: 0.0 for g in (gamma, gamma_eval, 1.0)}
    for t in range(len(path) - 1):
        slot = slot_choices[t % len(slot_choices)] % len(path[t])
        reward = compute_reward(_inputs(path[t], path[t + 1], slot_idx=slot), config)
        shaping = reward.stage_shaping + reward.contribution
        for g in totals:
            totals[g] += g**t * shaping
    assert totals[gamma] == pytest.approx(0.0, abs=1e-6)
    assert totals[gamma_eval] <= 1e-6
    assert totals[1.0] <= 1e-6


@pytest.mark.req("DEC.reward.2")
def test_contribution_credit_is_potential_based_and_slot_independent() -> None:
    """A helping seed is credited when its contribution is measured, on WAIT too, whatever the slot head chose."""
    w, g = GROWTH.terminal_accuracy_weight, GROWTH.gamma
    before = (_report(SeedStage.BLENDING, 4.0), None)
    after = (_report(SeedStage.BLENDING, 10.0), None)
    for slot in (0, 1, None):
        assert compute_reward(_inputs(before, after, slot_idx=slot), GROWTH).contribution == pytest.approx(w * (g * 10.0 - 4.0))
    # TRAINING seeds have no counterfactual yet; NaN/None count 0; culling hands the credit back.
    assert contribution_potential((_report(SeedStage.TRAINING, 50.0), _report(SeedStage.PROBATIONARY, None))) == 0.0
    assert contribution_potential((_report(SeedStage.BLENDING, -3.0), _report(SeedStage.FOSSILIZED, 2.0, 1))) == 2.0
    cull = _inputs(after, (_report(SeedStage.CULLED, 10.0), None), op=LifecycleOp.CULL)
    assert compute_reward(cull, GROWTH).contribution == pytest.approx(-w * 10.0)
    # At the terminal step the potential drops to 0: the final accuracy pays instead.
    end = _inputs(after, after, final=80.0, seed_params=500)
    assert compute_reward(end, GROWTH).contribution == pytest.approx(-w * 10.0)


@pytest.mark.req("DEC.reward.1", "DEC.reward.3")
def test_terminal_rent_and_accuracy_growth_pays_iff_gain_beats_price() -> None:
    """Rent is charged once, at the end, ``param_price_points`` points per host-size of seed parameters."""
    config = RewardConfig(mode="growth", param_price_points=2.0, germinate_cost=0.0)
    w = config.terminal_accuracy_weight
    slots = (None,)
    mid = compute_reward(_inputs(slots, slots, seed_params=5000), config)
    assert mid.param_rent == 0.0 and mid.terminal == 0.0
    no_growth = compute_reward(_inputs(slots, slots, final=50.0), config)
    assert no_growth.terminal == pytest.approx(w * 50.0) and no_growth.param_rent == 0.0
    # A seed of half the host's size must gain more than 2 * 0.5 = 1 point to pay.
    for gain, pays in ((0.9, False), (1.1, True)):
        grown = compute_reward(_inputs(slots, slots, final=50.0 + gain, seed_params=500), config)
        assert grown.param_rent == pytest.approx(-w * 2.0 * 0.5)
        assert (grown.total > no_growth.total) is pays
    # No per-seed fossilization bonus in growth mode: the accuracy pays for fossilized seeds.
    fossil = (_report(SeedStage.FOSSILIZED, 5.0),)
    bonus = RewardInputs(
        op=LifecycleOp.WAIT, executed=True, slot_idx=0, slots_before=fossil, slots_after=fossil, seed_contribution=5.0,
        seed_params=0, host_params=1000, is_terminal=True, final_val_accuracy=50.0, contributing_fossilized=1,
    )
    assert compute_reward(bonus, config).terminal == pytest.approx(w * 50.0)


@pytest.mark.req("DEC.reward.4")
def test_growth_is_the_training_default_and_sparse_and_shaped_remain() -> None:
    from esper.simic.study import StudyConfig
    from esper.simic.training.config import TrainingConfig

    assert TrainingConfig().reward_mode == "growth" and StudyConfig().reward_mode == "growth"
    for mode in ("shaped", "sparse"):
        assert RewardConfig(mode=mode).mode == mode
    with pytest.raises(ValueError, match="param_price_points"):
        RewardConfig(mode="growth", param_price_points=-1.0)


@pytest.mark.req("DEC.reward.7")
@settings(max_examples=150, deadline=None)
@given(inputs=reward_inputs(), config=reward_configs(mode="growth"), auto_culls=st.integers(0, 5))
def test_growth_rewards_an_unexecutable_action_as_wait(inputs: RewardInputs, config: RewardConfig, auto_culls: int) -> None:
    """DEC.reward.7: an op that could not run is rewarded exactly as WAIT (design §4), and a lifecycle auto-cull
    costs nothing beyond what the final accuracy and the contribution potential already say."""
    as_wait = dataclasses.replace(inputs, op=LifecycleOp.WAIT, executed=True, auto_culls=auto_culls)
    for op in (LifecycleOp.GERMINATE, LifecycleOp.CULL, LifecycleOp.FOSSILIZE):
        rejected = dataclasses.replace(inputs, op=op, executed=False, auto_culls=0)
        assert compute_reward(rejected, config).total == compute_reward(as_wait, config).total
        assert compute_reward(rejected, config).invalid_penalty == 0.0
    # The shaped mode still charges both (DEC.rewards_nissa.3).
    shaped = dataclasses.replace(config, mode="shaped")
    rejected = dataclasses.replace(inputs, op=LifecycleOp.CULL, executed=False, auto_culls=1)
    assert compute_reward(rejected, shaped).invalid_penalty == -shaped.invalid_penalty
    assert compute_reward(rejected, shaped).auto_cull_penalty == -shaped.auto_cull_penalty
