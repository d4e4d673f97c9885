"""Unit tests of the reward API: validation, helpers, batching."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest
import torch

from esper.leyline import LifecycleOp, SeedStage, SeedStateReport
from esper.leyline.defaults import DEFAULT_GAMMA, GOVERNOR_PENALTY
from esper.simic.rewards import (
    STAGE_POTENTIALS,
    RewardBreakdown,
    RewardConfig,
    RewardInputs,
    compute_reward,
    compute_rewards,
    reward_totals,
    shaping_term,
    slots_potential,
    stage_potential,
)


def _report(stage: SeedStage, seed_id: str = "s0") -> SeedStateReport:
    return SeedStateReport(slot_id="r0c0", seed_id=seed_id, blueprint_id="norm", stage=stage)


_BASE = RewardInputs(
    op=LifecycleOp.WAIT,
    executed=True,
    slot_idx=0,
    slots_before=(None, None, None),
    slots_after=(None, None, None),
    seed_contribution=None,
    seed_params=0,
    host_params=1000,
)


def _inputs(**overrides: Any) -> RewardInputs:
    return replace(_BASE, **overrides)


def test_config_defaults_are_documented_values() -> None:
    config = RewardConfig()
    assert config.mode == "shaped"
    assert config.gamma == DEFAULT_GAMMA
    assert config.governor_penalty == -GOVERNOR_PENALTY
    assert json.loads(json.dumps(config.to_dict()))["rent_weight"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "dense"}, ValueError, r"mode 'dense' is unknown; valid: \['shaped', 'sparse', 'growth'\]"),
        ({"rent_weight": -0.1}, ValueError, "rent_weight must be >= 0"),
        ({"invalid_penalty": math.inf}, ValueError, "invalid_penalty must be finite"),
        ({"gamma": 0.0}, ValueError, r"gamma must be in \(0, 1\]"),
        ({"gamma": 1.5}, ValueError, r"gamma must be in \(0, 1\]"),
        ({"shaping_weight": "0.1"}, TypeError, "shaping_weight must be a float"),
        ({"cull_cost": True}, TypeError, "cull_cost must be a float"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        RewardConfig(**kwargs)  # type: ignore[arg-type]


def test_action_cost_per_op() -> None:
    config = RewardConfig(wait_cost=0.1, germinate_cost=0.2, cull_cost=0.3, fossilize_cost=0.4)
    assert [config.action_cost(op) for op in LifecycleOp] == [0.1, 0.2, 0.3, 0.4]
    with pytest.raises(TypeError, match="op must be a LifecycleOp"):
        config.action_cost(1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"op": 1}, TypeError, "op must be a LifecycleOp"),
        ({"executed": 1}, TypeError, "executed must be a bool"),
        ({"slots_before": [None]}, TypeError, "slots_before must be a non-empty tuple"),
        ({"slots_after": ()}, TypeError, "slots_after must be a non-empty tuple"),
        ({"slots_after": ("x",)}, TypeError, "slots_after entries must be SeedStateReport"),
        ({"slots_after": (None,)}, ValueError, "same length"),
        ({"slot_idx": 3}, ValueError, r"slot_idx must be None or in \[0, 2\]"),
        ({"slot_idx": -1}, ValueError, "slot_idx must be an int >= 0"),
        ({"seed_params": -5}, ValueError, "seed_params must be an int >= 0"),
        ({"host_params": 0}, ValueError, "host_params must be an int >= 1"),
        ({"host_params": 10.0}, TypeError, "host_params must be an int"),
        ({"auto_culls": -1}, ValueError, "auto_culls"),
        ({"seed_contribution": math.nan}, ValueError, "seed_contribution must be a finite float"),
        ({"final_val_accuracy": 101.0}, ValueError, r"final_val_accuracy must be a finite float in \[0.0, 100.0\]"),
        ({"val_accuracy_delta": math.inf}, ValueError, "val_accuracy_delta"),
    ],
)
def test_inputs_reject_bad_values(overrides: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _inputs(**overrides)


def test_acted_slot_and_executed_op() -> None:
    before = (None, _report(SeedStage.TRAINING, "a"), None)
    after = (None, _report(SeedStage.CULLED, "a"), None)
    inputs = _inputs(op=LifecycleOp.CULL, slot_idx=1, slots_before=before, slots_after=after)
    assert inputs.acted_before is before[1] and inputs.acted_after is after[1]
    assert inputs.executed_op == LifecycleOp.CULL
    rejected = _inputs(op=LifecycleOp.FOSSILIZE, executed=False, slot_idx=None)
    assert rejected.executed_op == LifecycleOp.WAIT and rejected.acted_before is None


def test_potential_helpers() -> None:
    assert stage_potential(None) == 0.0
    assert [stage_potential(s) for s in SeedStage] == [STAGE_POTENTIALS[s] for s in SeedStage]
    assert slots_potential((None, _report(SeedStage.BLENDING), _report(SeedStage.FOSSILIZED))) == 8.0
    assert shaping_term(2.0, 3.0, 0.9) == pytest.approx(0.7)
    assert shaping_term(2.0, 3.0, 0.9, terminal=True) == -2.0
    with pytest.raises(TypeError, match="stage must be a SeedStage or None"):
        stage_potential(3)  # type: ignore[arg-type]


def test_proxy_needs_the_same_seed_to_survive() -> None:
    config = RewardConfig(proxy_weight=0.5)
    replaced = _inputs(
        slots_before=(_report(SeedStage.TRAINING, "old"),), slots_after=(_report(SeedStage.GERMINATED, "new"),),
        val_accuracy_delta=2.0,
    )
    assert compute_reward(replaced, config).contribution == 0.0
    kept = _inputs(
        slots_before=(_report(SeedStage.TRAINING, "a"),), slots_after=(_report(SeedStage.BLENDING, "a"),),
        val_accuracy_delta=2.0,
    )
    assert compute_reward(kept, config).contribution == pytest.approx(1.0)


def test_compute_reward_type_checks_and_default_config() -> None:
    assert compute_reward(_inputs()) == compute_reward(_inputs(), RewardConfig())
    with pytest.raises(TypeError, match="inputs must be a RewardInputs"):
        compute_reward({"op": 0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be a RewardConfig"):
        compute_reward(_inputs(), {"mode": "sparse"})  # type: ignore[arg-type]


def test_batched_rewards_and_tensor_totals() -> None:
    batch = [_inputs(seed_params=n) for n in (0, 100, 1000)]
    breakdowns = compute_rewards(batch, RewardConfig(rent_weight=1.0))
    assert breakdowns == [compute_reward(i, RewardConfig(rent_weight=1.0)) for i in batch]
    totals = reward_totals(breakdowns)
    assert totals.dtype == torch.float32 and totals.device.type == "cpu"
    expected = torch.tensor([0.0, -math.log(1.1), -math.log(2.0)], dtype=torch.float32)
    torch.testing.assert_close(totals, expected)
    assert reward_totals(breakdowns, dtype=torch.float64).dtype == torch.float64


def test_breakdown_add_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        RewardBreakdown() + 1.0
