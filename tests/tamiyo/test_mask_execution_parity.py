"""Masks and execution agree (design note §4 and the §6 trap): what the mask allows executes (for some slot),
what it forbids is rejected, and a non-executable action becomes WAIT with a reason."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tamiyo.strategies import slot_lists
from esper.leyline import (
    NUM_BLUEPRINTS,
    TOPOLOGIES,
    TOPOLOGY_BLUEPRINTS,
    BlendAction,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    SeedMetricsReport,
    SeedStage,
    SeedStateReport,
    TempoAction,
)
from esper.tamiyo.execution import check_executable, executed_action
from esper.tamiyo.policy.action_masks import (
    compute_action_masks,
    compute_blueprint_mask,
    compute_op_mask,
    compute_slot_mask,
)

finite = st.floats(-20.0, 20.0)


@st.composite
def mask_cases(draw: st.DrawFn) -> tuple[list[SeedStateReport | None], list[int] | None, int, int, str]:
    states = draw(slot_lists(1, 4, value=finite))
    n = len(states)
    enabled = draw(st.none() | st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    max_seeds = draw(st.integers(0, 6))
    germinated = draw(st.integers(0, 8))
    topology = draw(st.sampled_from(TOPOLOGIES))
    return states, enabled, germinated, max_seeds, topology


def _action(slot: int, op: LifecycleOp, blueprint: BlueprintAction = BlueprintAction.NORM) -> FactoredAction:
    return FactoredAction(slot_idx=slot, blueprint=blueprint, blend=BlendAction.SIGMOID, tempo=TempoAction.FAST, op=op)


@pytest.mark.req("SYS.6.5", "SYS.4.3", "SYS.4.5")
@given(case=mask_cases())
@settings(max_examples=150, deadline=None)
def test_op_allowed_iff_some_slot_executes_it(case: tuple) -> None:
    states, enabled, germinated, max_seeds, topology = case
    masks = compute_action_masks(
        states, enabled_slots=enabled, topology=topology, seeds_germinated=germinated, max_seeds=max_seeds
    )
    kw = dict(seeds_germinated=germinated, max_seeds=max_seeds, enabled_slots=enabled, topology=topology)
    blueprint = BlueprintAction.NORM  # germinable in every topology
    assert masks["op"][LifecycleOp.WAIT]
    for op in LifecycleOp:
        executable_slots = [
            s for s in range(len(states)) if check_executable(states, _action(s, op, blueprint), **kw).executable
        ]
        assert bool(masks["op"][op]) == bool(executable_slots), (op.name, executable_slots)
        if op != LifecycleOp.WAIT:  # WAIT ignores its slot
            for s in executable_slots:
                assert masks["slot"][s], f"{op.name} executable on slot {s} that the slot mask forbids"


@pytest.mark.req("SYS.6.5", "SYS.4.5")
@given(case=mask_cases(), data=st.data())
@settings(max_examples=150, deadline=None)
def test_every_allowed_action_executes_or_becomes_wait_with_reason(case: tuple, data: st.DataObject) -> None:
    states, enabled, germinated, max_seeds, topology = case
    masks = compute_action_masks(
        states, enabled_slots=enabled, topology=topology, seeds_germinated=germinated, max_seeds=max_seeds
    )
    kw = dict(seeds_germinated=germinated, max_seeds=max_seeds, enabled_slots=enabled, topology=topology)
    allowed = {name: torch.nonzero(m).flatten().tolist() for name, m in masks.items()}
    for slot in allowed["slot"]:
        for op in allowed["op"]:
            bp = data.draw(st.sampled_from(allowed["blueprint"]))
            action = FactoredAction.from_indices(slot, bp, 0, 2, op, num_slots=len(states))
            check = check_executable(states, action, **kw)
            assert check.reason
            done = executed_action(action, check)
            if check.executable:
                assert done == action
            else:
                assert done.op == LifecycleOp.WAIT and done.slot_idx == slot and done.blueprint == action.blueprint
            if op == LifecycleOp.WAIT:
                assert check.executable
            if check.executable and op == LifecycleOp.FOSSILIZE:
                assert check.gate_pending and "G5" in check.reason


@pytest.mark.req("SYS.6.5")
@given(case=mask_cases())
@settings(max_examples=100, deadline=None)
def test_forbidden_slots_and_blueprints_are_rejected(case: tuple) -> None:
    states, enabled, germinated, max_seeds, topology = case
    kw = dict(seeds_germinated=germinated, max_seeds=max_seeds, enabled_slots=enabled, topology=topology)
    slot_mask = compute_slot_mask(states, enabled)
    bp_mask = compute_blueprint_mask(topology=topology)
    for s in range(len(states)):
        for op in (LifecycleOp.GERMINATE, LifecycleOp.CULL, LifecycleOp.FOSSILIZE):
            if not slot_mask[s]:
                assert not check_executable(states, _action(s, op), **kw).executable
        germinable = check_executable(states, _action(s, LifecycleOp.GERMINATE, BlueprintAction.NORM), **kw)
        if germinable.executable:
            for bp in BlueprintAction:
                assert check_executable(states, _action(s, LifecycleOp.GERMINATE, bp), **kw).executable == bool(bp_mask[bp])
    # an op forbidden by the op mask is rejected on every slot, including slots out of range
    op_mask = compute_op_mask(states, enabled_slots=enabled, seeds_germinated=germinated, max_seeds=max_seeds)
    for op in LifecycleOp:
        if not op_mask[op]:
            for s in range(len(states) + 1):
                assert not check_executable(states, _action(s, op), **kw).executable


def _seed(stage: SeedStage, age: int = 3, contribution: float | None = None) -> SeedStateReport:
    return SeedStateReport(
        slot_id="r0c0",
        seed_id="s",
        blueprint_id="norm",
        stage=stage,
        metrics=SeedMetricsReport(epochs_total=age, counterfactual_contribution=contribution),
    )


@pytest.mark.req("SYS.4.3")
@pytest.mark.parametrize(
    ("states", "germinated", "expected"),
    [
        ([None, None, None], 0, [True, True, False, False]),
        ([None, None, None], 6, [True, False, False, False]),
        ([_seed(SeedStage.TRAINING), None, None], 1, [True, True, True, False]),
        ([_seed(SeedStage.TRAINING, age=0), None, None], 1, [True, True, False, False]),
        ([_seed(SeedStage.PROBATIONARY), _seed(SeedStage.FOSSILIZED), _seed(SeedStage.EMBARGOED)], 3, [True, False, True, True]),
        ([_seed(SeedStage.FOSSILIZED), _seed(SeedStage.CULLED), _seed(SeedStage.RESETTING)], 3, [True, False, False, False]),
    ],
)
def test_op_mask_rules(states: list, germinated: int, expected: list[bool]) -> None:
    assert compute_op_mask(states, seeds_germinated=germinated).tolist() == expected


@pytest.mark.req("SYS.4.3")
def test_op_mask_only_looks_at_enabled_slots() -> None:
    states = [_seed(SeedStage.PROBATIONARY), None, _seed(SeedStage.BLENDING)]
    assert compute_op_mask(states, enabled_slots=[0]).tolist() == [True, False, True, True]
    assert compute_op_mask(states, enabled_slots=[1]).tolist() == [True, True, False, False]
    assert compute_op_mask(states, enabled_slots=[2]).tolist() == [True, False, True, False]
    assert compute_slot_mask(states, [2, 0]).tolist() == [True, False, True]


@pytest.mark.req("SYS.4.3")
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_blueprint_mask_is_topology_minus_noop(topology: str) -> None:
    mask = compute_blueprint_mask(topology=topology)
    assert mask.shape == (NUM_BLUEPRINTS,)
    expected = {b for b in TOPOLOGY_BLUEPRINTS[topology] if b != BlueprintAction.NOOP}
    assert {BlueprintAction(i) for i in torch.nonzero(mask).flatten().tolist()} == expected


@pytest.mark.req("SYS.4.3")
def test_unknown_topology_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="cnn.*transformer"):
        compute_blueprint_mask(topology="rnn")
    with pytest.raises(ValueError, match="valid"):
        compute_action_masks([None], topology="mlp")
    with pytest.raises(ValueError, match="valid"):
        check_executable([None], _action(0, LifecycleOp.GERMINATE), seeds_germinated=0, topology="mlp")


@pytest.mark.req("SYS.4.4")
@pytest.mark.parametrize("enabled", [[], [5], [-1]])
def test_no_valid_slot_is_an_error(enabled: list[int]) -> None:
    with pytest.raises(ValueError, match="enabled_slots"):
        compute_action_masks([None, None], enabled_slots=enabled)


@pytest.mark.req("SYS.4.4")
def test_empty_slot_states_are_an_error() -> None:
    with pytest.raises(ValueError, match="slot_states"):
        compute_action_masks([])
    with pytest.raises(TypeError, match="slot_states"):
        compute_action_masks([object()])  # type: ignore[list-item]


@pytest.mark.req("SYS.4.3")
def test_masks_on_requested_device() -> None:
    masks = compute_action_masks([None, None], device="meta")
    assert all(m.device.type == "meta" and m.dtype == torch.bool for m in masks.values())


@pytest.mark.cuda
@pytest.mark.req("SYS.4.3")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_masks_on_cuda() -> None:
    masks = compute_action_masks([None, None, None], device="cuda")
    assert all(m.is_cuda for m in masks.values())
