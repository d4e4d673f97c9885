"""Mask API decisions (DEC.tamiyo.7) and execution-helper rules (DEC.tamiyo.8)."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import (
    BlendAction,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    SeedMetricsReport,
    SeedStage,
    SeedStateReport,
    TempoAction,
)
from esper.tamiyo.execution import ExecutionCheck, check_executable, executed_action
from esper.tamiyo.policy.action_masks import (
    compute_action_masks,
    compute_batch_masks,
    compute_blend_mask,
    compute_blueprint_mask,
    compute_op_mask,
)


def _seed(stage: SeedStage, age: int = 2, contribution: float | None = None) -> SeedStateReport:
    return SeedStateReport(
        slot_id="r0c0", seed_id="seed-a", blueprint_id="norm", stage=stage,
        metrics=SeedMetricsReport(epochs_total=age, counterfactual_contribution=contribution),
    )


def _act(slot: int, op: LifecycleOp, bp: BlueprintAction = BlueprintAction.NORM) -> FactoredAction:
    return FactoredAction(slot_idx=slot, blueprint=bp, blend=BlendAction.GATED, tempo=TempoAction.SLOW, op=op)


@pytest.mark.req("DEC.tamiyo.7")
def test_blueprint_mask_depends_only_on_topology_and_blend_on_nothing() -> None:
    assert torch.equal(compute_blueprint_mask(topology="cnn"), compute_action_masks([_seed(SeedStage.BLENDING)])["blueprint"])
    assert compute_blend_mask([_seed(SeedStage.FOSSILIZED)]).tolist() == [True, True, True]


@pytest.mark.req("DEC.tamiyo.7")
def test_batch_masks_take_a_budget_per_env_and_need_equal_slot_counts() -> None:
    batch = [[None, None], [None, _seed(SeedStage.TRAINING)]]
    op = compute_batch_masks(batch, seeds_germinated=[6, 0])["op"]
    assert op.tolist() == [[True, False, False, False], [True, True, True, False]]
    assert compute_batch_masks(batch, seeds_germinated=6)["op"][:, LifecycleOp.GERMINATE].tolist() == [False, False]
    with pytest.raises(ValueError, match="one entry per env"):
        compute_batch_masks(batch, seeds_germinated=[0])
    with pytest.raises(ValueError, match="same number of slots"):
        compute_batch_masks([[None], [None, None]])
    with pytest.raises(ValueError, match="at least one env"):
        compute_batch_masks([])


@pytest.mark.req("DEC.tamiyo.7")
def test_enabled_slots_validation() -> None:
    assert compute_op_mask([None, _seed(SeedStage.PROBATIONARY)], enabled_slots=[1, 1]).tolist() == [True, False, True, True]
    for bad, error in (([], ValueError), ([2], ValueError), ([True], TypeError), (["0"], TypeError)):  # DEC.validation.1
        with pytest.raises(error, match="enabled_slots"):
            compute_action_masks([None, None], enabled_slots=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seeds_germinated"):
        compute_action_masks([None], seeds_germinated=-1)


@pytest.mark.req("DEC.tamiyo.8", "SYS.4.5")
def test_execution_rules_and_reasons() -> None:
    states = [_seed(SeedStage.PROBATIONARY, contribution=0.3), None, _seed(SeedStage.TRAINING, age=0), _seed(SeedStage.EMBARGOED)]
    kw = dict(seeds_germinated=1, max_seeds=2)

    def check(slot: int, op: LifecycleOp, bp: BlueprintAction = BlueprintAction.NORM, **extra: object) -> ExecutionCheck:
        return check_executable(states, _act(slot, op, bp), **{**kw, **extra})  # type: ignore[arg-type]

    assert check(7, LifecycleOp.WAIT).executable
    assert check(1, LifecycleOp.GERMINATE).executable
    assert "occupied" in check(3, LifecycleOp.GERMINATE).reason  # cooldown slot is not germinable
    assert "budget" in check(1, LifecycleOp.GERMINATE, seeds_germinated=2).reason
    assert "noop" in check(1, LifecycleOp.GERMINATE, BlueprintAction.NOOP).reason
    assert "lora" in check(1, LifecycleOp.GERMINATE, BlueprintAction.LORA).reason
    assert check(1, LifecycleOp.GERMINATE, BlueprintAction.LORA, topology="transformer").executable
    assert "not enabled" in check(1, LifecycleOp.GERMINATE, enabled_slots=[0]).reason
    assert "does not exist" in check(4, LifecycleOp.CULL).reason
    assert check(0, LifecycleOp.CULL).executable
    assert "cannot be culled" in check(2, LifecycleOp.CULL).reason  # age 0
    assert "cannot be culled" in check(3, LifecycleOp.CULL).reason  # cooldown
    assert "empty" in check(1, LifecycleOp.FOSSILIZE).reason
    fossilize = check(0, LifecycleOp.FOSSILIZE)
    assert fossilize.executable and fossilize.gate_pending and "0.3" in fossilize.reason
    assert "not PROBATIONARY" in check(2, LifecycleOp.FOSSILIZE).reason


@pytest.mark.req("DEC.tamiyo.8", "SYS.4.5")
def test_non_executable_action_becomes_wait() -> None:
    action = _act(1, LifecycleOp.CULL)
    check = check_executable([None, None], action, seeds_germinated=0)
    assert not check.executable
    waited = executed_action(action, check)
    assert waited.op == LifecycleOp.WAIT and waited.to_indices()[:4] == action.to_indices()[:4]
    ok = check_executable([None, None], _act(1, LifecycleOp.GERMINATE), seeds_germinated=0)
    assert executed_action(_act(1, LifecycleOp.GERMINATE), ok) == _act(1, LifecycleOp.GERMINATE)


class _FakeModel:
    topology = "transformer"

    def slot_reports(self) -> list[SeedStateReport | None]:
        return [None]


@pytest.mark.req("DEC.tamiyo.8")
def test_model_topology_is_used_and_must_agree() -> None:
    lora = _act(0, LifecycleOp.GERMINATE, BlueprintAction.LORA)
    assert check_executable(_FakeModel(), lora, seeds_germinated=0).executable
    assert not check_executable([None], lora, seeds_germinated=0).executable  # reports default to cnn
    with pytest.raises(ValueError, match="disagrees"):
        check_executable(_FakeModel(), lora, seeds_germinated=0, topology="cnn")
    with pytest.raises(TypeError, match="model_or_reports"):
        check_executable(42, lora, seeds_germinated=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="action"):
        check_executable([None], (0, 1, 1, 1, 1), seeds_germinated=0)  # type: ignore[arg-type]
