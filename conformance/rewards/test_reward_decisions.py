"""Our reward decisions (spec/decisions/rewards_nissa.md): inputs, potentials, defaults, batching."""

from __future__ import annotations

import math

import pytest
import torch

from conformance.rewards.reward_strategies import report, step_inputs
from esper.leyline import LifecycleOp, SeedStage
from esper.leyline.defaults import DEFAULT_GAMMA, GOVERNOR_PENALTY
from esper.simic.rewards import (
    STAGE_POTENTIALS,
    RewardBreakdown,
    RewardConfig,
    RewardInputs,
    compute_reward,
    compute_rewards,
    reward_totals,
)


@pytest.mark.req("DEC.rewards_nissa.1")
def test_inputs_hold_every_slot_and_derive_the_acted_on_one() -> None:
    before = (report(SeedStage.TRAINING, "a", "r0c0"), None, report(SeedStage.BLENDING, "c", "r0c2"))
    after = (report(SeedStage.BLENDING, "a", "r0c0"), report(SeedStage.GERMINATED, "b", "r0c1"), before[2])
    inputs = RewardInputs(
        op=LifecycleOp.GERMINATE, executed=True, slot_idx=1, slots_before=before, slots_after=after,
        seed_contribution=None, seed_params=10, host_params=100,
    )
    assert inputs.acted_before is None and inputs.acted_after is after[1]
    # every slot's stage change is shaped, not only the acted-on slot's
    expected = 0.1 * (0.995 * (3 + 1 + 3) - (2 + 0 + 3))
    assert compute_reward(inputs).stage_shaping == pytest.approx(expected)
    with pytest.raises(ValueError, match="same length"):
        RewardInputs(
            op=LifecycleOp.WAIT, executed=True, slot_idx=0, slots_before=before, slots_after=after[:2],
            seed_contribution=None, seed_params=0, host_params=1,
        )
    with pytest.raises(ValueError, match=r"slot_idx must be None or in \[0, 2\]"):
        RewardInputs(
            op=LifecycleOp.WAIT, executed=True, slot_idx=3, slots_before=before, slots_after=after,
            seed_contribution=None, seed_params=0, host_params=1,
        )


@pytest.mark.req("DEC.rewards_nissa.2")
def test_stage_potentials_and_shaping_gamma() -> None:
    assert {s: STAGE_POTENTIALS[s] for s in SeedStage} == {
        SeedStage.UNKNOWN: 0.0,
        SeedStage.DORMANT: 0.0,
        SeedStage.GERMINATED: 1.0,
        SeedStage.TRAINING: 2.0,
        SeedStage.BLENDING: 3.0,
        SeedStage.PROBATIONARY: 4.0,
        SeedStage.FOSSILIZED: 5.0,
        SeedStage.CULLED: 0.0,
        SeedStage.EMBARGOED: 0.0,
        SeedStage.RESETTING: 0.0,
    }
    assert RewardConfig().gamma == DEFAULT_GAMMA
    last = step_inputs((SeedStage.PROBATIONARY,), (SeedStage.FOSSILIZED,), is_terminal=True, final_val_accuracy=80.0)
    assert compute_reward(last).stage_shaping == pytest.approx(-0.1 * 4.0)  # Phi(s') = 0 after the terminal step


@pytest.mark.req("DEC.rewards_nissa.3")
def test_default_weights() -> None:
    config = RewardConfig()
    assert config.to_dict() == {
        "mode": "shaped",
        "contribution_weight": 0.1,
        "contribution_clip": 10.0,
        "proxy_weight": 0.02,
        "shaping_weight": 0.1,
        "gamma": 0.995,
        "rent_weight": 0.5,
        "wait_cost": 0.0,
        "germinate_cost": 0.02,
        "cull_cost": 0.01,
        "fossilize_cost": 0.0,
        "invalid_penalty": 0.1,
        "auto_cull_penalty": 0.2,
        "governor_penalty": -GOVERNOR_PENALTY,
        "terminal_accuracy_weight": 0.05,
        "fossilized_bonus": 0.2,
        "param_price_points": 1.0,
    }
    with pytest.raises(ValueError, match="germinate_cost must be >= 0"):
        RewardConfig(germinate_cost=-0.02)
    germinate = compute_reward(step_inputs((None,), (SeedStage.GERMINATED,), op=LifecycleOp.GERMINATE), config)
    assert germinate.action_cost == -0.02


@pytest.mark.req("DEC.rewards_nissa.4")
def test_batched_rewards_and_episode_sums() -> None:
    batch = [step_inputs((None,), (None,), seed_params=n, host_params=100) for n in (0, 100, 300)]
    breakdowns = compute_rewards(batch)
    totals = reward_totals(breakdowns, device="cpu")
    assert totals.shape == (3,) and totals.dtype == torch.float32
    torch.testing.assert_close(totals, torch.tensor([0.0, -0.5 * math.log(2.0), -0.5 * math.log(4.0)]))
    episode = sum(breakdowns, RewardBreakdown())
    assert episode.param_rent == pytest.approx(sum(b.param_rent for b in breakdowns))
    assert episode.total == pytest.approx(float(totals.sum()))
