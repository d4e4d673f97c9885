"""Reward properties (design note §5 "Reward"): components, shaping safety, rent, penalties, sparse mode."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.rewards.reward_strategies import (
    LIVE_PATH,
    multi_slot_cycles,
    reward_configs,
    reward_inputs,
    step_inputs,
)
from esper.leyline import LifecycleOp, SeedStage
from esper.simic.rewards import (
    REWARD_COMPONENTS,
    STAGE_POTENTIALS,
    RewardBreakdown,
    RewardConfig,
    RewardInputs,
    compute_reward,
    param_rent,
)

_NONPOSITIVE = ("param_rent", "action_cost", "invalid_penalty", "auto_cull_penalty", "governor_penalty")


@pytest.mark.req("SYS.5.4.2", "SYS.5.4.1")
@settings(max_examples=200, deadline=None)
@given(inputs=reward_inputs(), config=reward_configs())
def test_components_sum_to_total(inputs: RewardInputs, config: RewardConfig) -> None:
    breakdown = compute_reward(inputs, config)
    as_dict = breakdown.to_dict()
    assert list(as_dict) == [*REWARD_COMPONENTS, "total"]
    parts = [as_dict[name] for name in REWARD_COMPONENTS]
    assert all(math.isfinite(v) for v in parts)
    assert math.isclose(breakdown.total, math.fsum(parts), rel_tol=1e-12, abs_tol=1e-9)
    assert as_dict["total"] == breakdown.total
    for name in _NONPOSITIVE:
        assert as_dict[name] <= 0.0, name


@pytest.mark.req("SYS.5.4.2")
def test_breakdown_total_tracks_every_field() -> None:
    for i, name in enumerate(REWARD_COMPONENTS):
        single = RewardBreakdown(**{name: float(i + 1)})
        assert single.total == float(i + 1)
        assert single.to_dict()[name] == float(i + 1)
    summed = RewardBreakdown(contribution=1.0, terminal=2.0) + RewardBreakdown(contribution=0.5, param_rent=-1.0)
    assert summed == RewardBreakdown(contribution=1.5, terminal=2.0, param_rent=-1.0)
    with pytest.raises(ValueError, match="param_rent"):
        RewardBreakdown(param_rent=math.nan)


def _cumulative_shaping(
    path: list[tuple[SeedStage | None, ...]], config: RewardConfig, gamma_eval: float, slot_choices: list[int]
) -> float:
    total = 0.0
    for t in range(len(path) - 1):
        inputs = step_inputs(path[t], path[t + 1], slot_idx=slot_choices[t % len(slot_choices)] % len(path[t]))
        total += gamma_eval**t * compute_reward(inputs, config).stage_shaping
    return total


@pytest.mark.req("SYS.5.4.4")
@settings(max_examples=150, deadline=None)
@given(
    path=multi_slot_cycles(finish_cooldown=True),
    gamma=st.floats(0.5, 1.0),
    eval_slack=st.floats(0.0, 1.0),
    weight=st.floats(0.01, 5.0),
    slot_choices=st.lists(st.integers(0, 2), min_size=1, max_size=8),
)
def test_cull_cycle_back_to_empty_never_earns_positive_shaping(
    path: list[tuple[SeedStage | None, ...]], gamma: float, eval_slack: float, weight: float, slot_choices: list[int]
) -> None:
    """Germinate -> ... -> cull -> cooldown -> empty, in any slots, whatever slot the policy acts on."""
    assert all(stage is None for stage in path[0]) and all(stage is None for stage in path[-1])
    config = RewardConfig(shaping_weight=weight, gamma=gamma)
    gamma_eval = gamma + (1.0 - gamma) * eval_slack  # any evaluation discount in [gamma, 1]
    assert _cumulative_shaping(path, config, gamma_eval, slot_choices) <= 1e-9
    assert _cumulative_shaping(path, config, 1.0, slot_choices) <= 1e-9  # undiscounted
    assert _cumulative_shaping(path, config, gamma, slot_choices) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.req("SYS.5.4.4")
@settings(max_examples=100, deadline=None)
@given(
    path=multi_slot_cycles(finish_cooldown=False),
    gamma=st.floats(0.5, 1.0),
    eval_slack=st.floats(0.0, 1.0),
    weight=st.floats(0.01, 5.0),
)
def test_cull_cycle_cut_short_in_cooldown_never_earns_positive_shaping(
    path: list[tuple[SeedStage | None, ...]], gamma: float, eval_slack: float, weight: float
) -> None:
    """A cycle that ends in CULLED/EMBARGOED/RESETTING (episode ends first) also sums to <= 0."""
    config = RewardConfig(shaping_weight=weight, gamma=gamma)
    gamma_eval = gamma + (1.0 - gamma) * eval_slack
    for discount in (gamma, gamma_eval, 1.0):
        assert _cumulative_shaping(path, config, discount, [0]) <= 1e-9


@pytest.mark.req("SYS.5.4.4")
def test_shaping_is_dense_and_the_cull_step_hands_it_back() -> None:
    config = RewardConfig(shaping_weight=0.1, gamma=0.99)
    germinate = compute_reward(step_inputs((None,), (SeedStage.GERMINATED,), op=LifecycleOp.GERMINATE), config)
    assert germinate.stage_shaping == pytest.approx(0.1 * 0.99 * STAGE_POTENTIALS[SeedStage.GERMINATED])
    for stage in LIVE_PATH:
        cull = compute_reward(step_inputs((stage,), (SeedStage.CULLED,), op=LifecycleOp.CULL), config)
        assert cull.stage_shaping == pytest.approx(-0.1 * STAGE_POTENTIALS[stage])
        assert cull.stage_shaping < 0
    # a seed that is auto-culled while the policy acts on another slot still pays it back
    other = step_inputs((SeedStage.PROBATIONARY, None), (SeedStage.CULLED, None), slot_idx=1, auto_culls=1)
    assert compute_reward(other, config).stage_shaping == pytest.approx(-0.1 * STAGE_POTENTIALS[SeedStage.PROBATIONARY])


@pytest.mark.req("SYS.5.4.4")
@settings(max_examples=50, deadline=None)
@given(stages=st.lists(st.sampled_from([None, *LIVE_PATH, SeedStage.FOSSILIZED]), min_size=2, max_size=30))
def test_discounted_shaping_of_an_episode_is_zero(stages: list[SeedStage | None]) -> None:
    """Phi = 0 after the terminal step: a whole episode from empty slots has zero discounted shaping."""
    config = RewardConfig(shaping_weight=0.3, gamma=0.95)
    path = [(None,), *[(s,) for s in stages]]
    total = 0.0
    for t in range(len(path) - 1):
        terminal = t == len(path) - 2
        inputs = step_inputs(path[t], path[t + 1], is_terminal=terminal, final_val_accuracy=50.0 if terminal else None)
        total += config.gamma**t * compute_reward(inputs, config).stage_shaping
    assert total == pytest.approx(0.0, abs=1e-9)


@pytest.mark.req("SYS.5.4.5")
@settings(max_examples=100, deadline=None)
@given(
    host=st.integers(1, 10**8),
    small=st.integers(0, 10**8),
    extra=st.integers(1, 10**8),
    weight=st.floats(0.01, 5.0),
)
def test_param_rent_is_zero_without_seeds_and_monotone(host: int, small: int, extra: int, weight: float) -> None:
    assert param_rent(0, host, weight) == 0.0
    assert param_rent(small + extra, host, weight) < param_rent(small, host, weight) <= 0.0
    assert param_rent(small, host, weight) == pytest.approx(-weight * math.log(1 + small / host))
    config = RewardConfig(rent_weight=weight)
    no_seed = step_inputs((None,), (None,), seed_params=0, host_params=host)
    assert compute_reward(no_seed, config).param_rent == 0.0
    more = step_inputs((None,), (None,), seed_params=small + extra, host_params=host)
    assert compute_reward(more, config).param_rent == pytest.approx(param_rent(small + extra, host, weight))


@pytest.mark.req("SYS.5.4.6")
@pytest.mark.parametrize("op", [LifecycleOp.GERMINATE, LifecycleOp.CULL, LifecycleOp.FOSSILIZE])
def test_invalid_action_gets_invalid_penalty_and_wait_cost(op: LifecycleOp) -> None:
    config = RewardConfig(
        wait_cost=0.003, germinate_cost=0.05, cull_cost=0.04, fossilize_cost=0.07, invalid_penalty=0.3
    )
    rejected = compute_reward(step_inputs((None,), (None,), op=op, executed=False), config)
    assert rejected.invalid_penalty == -0.3
    assert rejected.action_cost == -0.003
    executed = compute_reward(step_inputs((None,), (None,), op=op, executed=True), config)
    assert executed.invalid_penalty == 0.0
    assert executed.action_cost == -config.action_cost(op) != rejected.action_cost
    wait = compute_reward(step_inputs((None,), (None,), op=LifecycleOp.WAIT), config)
    assert wait.action_cost == -0.003 and wait.invalid_penalty == 0.0
    assert rejected.total == pytest.approx(wait.total - 0.3)


@pytest.mark.req("SYS.5.4.6")
def test_wait_cannot_be_rejected() -> None:
    with pytest.raises(ValueError, match="executed=False"):
        step_inputs((None,), (None,), op=LifecycleOp.WAIT, executed=False)


@pytest.mark.req("SYS.5.4.3")
def test_contribution_of_the_acted_on_seed() -> None:
    config = RewardConfig(contribution_weight=0.1, contribution_clip=10.0, proxy_weight=0.02)
    live = (SeedStage.BLENDING, SeedStage.PROBATIONARY)
    assert compute_reward(step_inputs(live, live, slot_idx=1, seed_contribution=2.5), config).contribution == (
        pytest.approx(0.25)
    )
    assert compute_reward(step_inputs(live, live, slot_idx=1, seed_contribution=-40.0), config).contribution == (
        pytest.approx(-1.0)
    )
    culled = compute_reward(
        step_inputs(
            live, (SeedStage.BLENDING, SeedStage.CULLED), slot_idx=1, op=LifecycleOp.CULL, seed_contribution=3.0
        ),
        config,
    )
    assert culled.contribution == 0.0
    empty = compute_reward(step_inputs((None, None), (None, None), slot_idx=0, seed_contribution=None), config)
    assert empty.contribution == 0.0
    training = (SeedStage.TRAINING,)
    proxy = compute_reward(step_inputs(training, training, val_accuracy_delta=4.0), config)
    assert proxy.contribution == pytest.approx(0.08)
    assert compute_reward(step_inputs(training, training, val_accuracy_delta=-4.0), config).contribution == 0.0


@pytest.mark.req("SYS.5.4.7", "SYS.5.4.10")
def test_auto_cull_and_governor_penalties() -> None:
    config = RewardConfig(auto_cull_penalty=0.25, governor_penalty=5.0)
    two_culls = compute_reward(step_inputs((None,), (None,), auto_culls=2), config)
    assert two_culls.auto_cull_penalty == pytest.approx(-0.5)
    assert compute_reward(step_inputs((None,), (None,)), config).auto_cull_penalty == 0.0
    rollback = compute_reward(step_inputs((None,), (None,), governor_rollback=True), config)
    assert rollback.governor_penalty == -5.0
    assert RewardConfig().governor_penalty == 5.0  # magnitude of leyline GOVERNOR_PENALTY (-5.0)


@pytest.mark.req("SYS.5.4.8")
def test_terminal_term_from_accuracy_and_contributing_fossilized_seeds() -> None:
    config = RewardConfig(terminal_accuracy_weight=0.05, fossilized_bonus=0.2)
    last = step_inputs((None,), (None,), is_terminal=True, final_val_accuracy=90.0, contributing_fossilized=2)
    assert compute_reward(last, config).terminal == pytest.approx(0.05 * 90.0 + 0.2 * 2)
    before = step_inputs((None,), (None,), final_val_accuracy=90.0, contributing_fossilized=2)
    assert compute_reward(before, config).terminal == 0.0
    with pytest.raises(ValueError, match="final_val_accuracy"):
        step_inputs((None,), (None,), is_terminal=True)


@pytest.mark.req("SYS.5.4.9")
@settings(max_examples=100, deadline=None)
@given(inputs=reward_inputs(terminal=False), config=reward_configs(mode="sparse"))
def test_sparse_is_zero_before_terminal(inputs: RewardInputs, config: RewardConfig) -> None:
    breakdown = compute_reward(inputs, config)
    expected_governor = -config.governor_penalty if inputs.governor_rollback else 0.0
    assert breakdown == RewardBreakdown(governor_penalty=expected_governor)
    assert breakdown.total == expected_governor


@pytest.mark.req("SYS.5.4.9")
@settings(max_examples=50, deadline=None)
@given(inputs=reward_inputs(terminal=True), config=reward_configs(mode="sparse"))
def test_sparse_terminal_step_has_only_terminal_and_governor(inputs: RewardInputs, config: RewardConfig) -> None:
    breakdown = compute_reward(inputs, config)
    assert inputs.final_val_accuracy is not None
    expected = config.terminal_accuracy_weight * inputs.final_val_accuracy
    expected += config.fossilized_bonus * inputs.contributing_fossilized
    assert breakdown.terminal == pytest.approx(expected)
    others = {k: v for k, v in breakdown.to_dict().items() if k not in ("terminal", "governor_penalty", "total")}
    assert all(v == 0.0 for v in others.values())
