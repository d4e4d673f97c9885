"""Design §3 lifecycle gates G1-G5, probation, cooldown and the events that record them."""

from __future__ import annotations

import pytest

from tests.kasmina.helpers import drive_to, make_slot
from esper.kasmina import COOLDOWN_EPOCHS, GateResult, SeedSlot, SeedStage, TaskConfig, probation_timeout_epochs
from esper.leyline import InvalidTransitionError, TelemetryEvent, TelemetryEventType
from esper.leyline.defaults import EMBARGO_EPOCHS


@pytest.mark.req("SYS.3.6", "SYS.3.13")
def test_g1_moves_to_training_at_once() -> None:
    slot = SeedSlot("s", 8)
    slot.germinate("norm")
    assert slot.step_epoch() is False
    assert slot.state is not None and slot.state.stage == SeedStage.TRAINING
    assert slot.gate_results["G1"].passed
    assert slot.state.metrics.epochs_total == 1 and slot.state.metrics.epochs_in_current_stage == 0


def _training_slot() -> SeedSlot:
    """A seed that entered TRAINING before any accuracy was recorded; its first accuracy (50) is the stage start."""
    slot = SeedSlot("s", 8)
    slot.germinate("norm")
    slot.step_epoch()
    assert slot.state is not None and slot.state.stage == SeedStage.TRAINING
    slot.state.metrics.record_accuracy(50.0)
    assert slot.state.metrics.accuracy_at_stage_start == 50.0
    return slot


@pytest.mark.req("SYS.3.7")
@pytest.mark.parametrize(
    "gain, ratio, epochs, passes, failed",
    [
        (0.5, 0.1, 3, True, ()),
        (0.49, 0.5, 3, False, ("improvement",)),
        (2.0, 0.099, 3, False, ("gradient_norm_ratio",)),
        (2.0, 0.5, 2, False, ("epochs_in_stage",)),
        (0.0, 0.0, 1, False, ("improvement", "epochs_in_stage", "gradient_norm_ratio")),
    ],
)
def test_g2_thresholds(gain: float, ratio: float, epochs: int, passes: bool, failed: tuple[str, ...]) -> None:
    slot = _training_slot()
    assert slot.state is not None
    m = slot.state.metrics
    for _ in range(epochs - 1):
        m.seed_gradient_norm_ratio = ratio
        slot.step_epoch()
        assert slot.stage == SeedStage.TRAINING
    m.record_accuracy(50.0 + gain)
    m.seed_gradient_norm_ratio = ratio
    slot.step_epoch()
    g2 = slot.gate_results["G2"]
    assert g2.passed is passes
    assert g2.failed_checks == failed
    assert slot.stage == (SeedStage.BLENDING if passes else SeedStage.TRAINING)
    if not passes:
        assert len(g2.reasons) == len(failed) and all(name in r for name, r in zip(failed, g2.reasons))


@pytest.mark.req("SYS.3.9", "SYS.3.13", "DEC.kasmina.4")
@pytest.mark.parametrize("cf", [0.0, -1.5])
def test_probation_auto_cull_on_non_positive_contribution(cf: float) -> None:
    slot = make_slot("norm", stage=SeedStage.PROBATIONARY)
    assert slot.state is not None
    slot.state.metrics.record_counterfactual(0.3)
    assert slot.step_epoch() is False and slot.stage == SeedStage.PROBATIONARY
    slot.state.metrics.record_counterfactual(cf)
    state = slot.state
    assert slot.step_epoch() is True
    assert state.stage == SeedStage.CULLED and state.cull_reason == "negative_counterfactual"
    assert slot.gate_results["G4"].failed_checks == ("negative_counterfactual",)
    assert slot.step_epoch() is False  # CULLED -> EMBARGOED is not another auto-cull


@pytest.mark.req("SYS.3.10", "DEC.kasmina.4")
@pytest.mark.parametrize("max_epochs, timeout", [(25, 5), (50, 5), (51, 6), (100, 10), (30, 5), (200, 20)])
def test_probation_timeout(max_epochs: int, timeout: int) -> None:
    assert probation_timeout_epochs(max_epochs) == timeout
    slot = SeedSlot("s", 8, task_config=TaskConfig(max_epochs=max_epochs))
    slot.germinate("norm")
    drive_to(slot, SeedStage.PROBATIONARY)
    assert slot.probation_timeout == timeout
    assert slot.state is not None
    slot.state.metrics.record_counterfactual(None)  # undecided, not measured
    for _ in range(timeout - 1):
        assert slot.step_epoch() is False and slot.stage == SeedStage.PROBATIONARY
    assert slot.step_epoch() is True
    assert slot.state.stage == SeedStage.CULLED and slot.state.cull_reason == "probation_timeout"


@pytest.mark.req("SYS.3.11")
def test_fossilize_only_via_g5() -> None:
    slot = make_slot("norm", stage=SeedStage.PROBATIONARY)
    state = slot.state
    assert state is not None
    for _ in range(3):  # the lifecycle never fossilizes on its own
        state.metrics.record_counterfactual(5.0)
        slot.step_epoch()
    assert state.stage == SeedStage.PROBATIONARY
    state.metrics.record_counterfactual(0.99)
    snapshot = state.to_dict()
    failed = slot.fossilize()
    assert isinstance(failed, GateResult) and failed.gate == "G5" and not failed.passed
    assert failed.failed_checks == ("counterfactual",) and "0.99" in failed.reasons[0]
    assert state.to_dict() == snapshot
    state.metrics.record_counterfactual(1.0)
    assert slot.can_fossilize
    passed = slot.fossilize()
    assert passed.passed and state.stage == SeedStage.FOSSILIZED
    assert slot.alpha == 1.0
    for _ in range(5):
        assert slot.step_epoch() is False
    assert state.stage == SeedStage.FOSSILIZED
    with pytest.raises(InvalidTransitionError):
        slot.cull("late")
    with pytest.raises(InvalidTransitionError):
        slot.fossilize()


@pytest.mark.req("SYS.3.11")
def test_g5_needs_a_measurement() -> None:
    slot = make_slot("norm", stage=SeedStage.PROBATIONARY)
    assert slot.state is not None
    slot.state.metrics.record_counterfactual(None)
    result = slot.fossilize()
    assert not result.passed and "not measured" in result.reasons[0]


@pytest.mark.req("SYS.3.11", "SYS.3.18")
@pytest.mark.parametrize("stage", [SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING])
def test_fossilize_outside_probation_raises(stage: SeedStage) -> None:
    slot = make_slot("norm", stage=stage)
    assert slot.state is not None
    slot.state.metrics.record_counterfactual(10.0)
    snapshot = slot.state.to_dict()
    with pytest.raises(InvalidTransitionError, match="FOSSILIZED"):
        slot.fossilize()
    assert slot.state.to_dict() == snapshot
    with pytest.raises(InvalidTransitionError):
        SeedSlot("empty", 8).fossilize()


@pytest.mark.req("SYS.3.12", "DEC.kasmina.3", "SYS.3.13")
@pytest.mark.parametrize("stage", [SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING,
                                   SeedStage.PROBATIONARY])
def test_cooldown_frees_slot_after_exact_epochs(stage: SeedStage) -> None:
    slot = make_slot("conv_light", stage=stage)
    state = slot.state
    assert state is not None
    slot.cull("tamiyo")
    assert state.stage == SeedStage.CULLED and slot.seed is None and slot.seed_parameters() == []
    expected = [SeedStage.EMBARGOED] * EMBARGO_EPOCHS + [SeedStage.RESETTING]
    for k, want in enumerate(expected, start=1):
        assert slot.step_epoch() is False
        assert slot.state is state and state.stage == want, k
        with pytest.raises(ValueError, match="occupied"):
            slot.germinate("norm")
    assert slot.step_epoch() is False
    assert slot.state is None and state.stage == SeedStage.DORMANT
    assert len(expected) + 1 == COOLDOWN_EPOCHS == 7
    assert state.stage_history[-4:] == [SeedStage.CULLED, SeedStage.EMBARGOED, SeedStage.RESETTING, SeedStage.DORMANT]
    slot.germinate("norm")  # free again
    assert slot.stage == SeedStage.GERMINATED


@pytest.mark.req("SYS.3.18")
def test_cull_illegal_requests_raise() -> None:
    empty = SeedSlot("s", 8)
    with pytest.raises(InvalidTransitionError, match="DORMANT -> CULLED"):
        empty.cull("x")
    slot = make_slot("norm", stage=SeedStage.TRAINING)
    slot.cull("x")
    assert slot.state is not None
    snapshot = slot.state.to_dict()
    with pytest.raises(InvalidTransitionError, match="CULLED -> CULLED"):
        slot.cull("again")
    assert slot.state.to_dict() == snapshot


@pytest.mark.req("DEC.kasmina.5")
def test_cull_and_fossilize_eligibility() -> None:
    slot = SeedSlot("s", 8)
    slot.germinate("norm")
    assert not slot.can_cull  # age 0
    slot.step_epoch()
    assert slot.can_cull and not slot.can_fossilize
    report = slot.report()
    assert report is not None and report.can_cull
    young = SeedSlot("y", 8)
    young.germinate("norm")
    young.cull("governor")  # forced culls ignore the age rule
    assert young.stage == SeedStage.CULLED and not young.can_cull
    prob = make_slot("norm", stage=SeedStage.PROBATIONARY)
    assert prob.state is not None
    prob.state.metrics.record_counterfactual(0.5)
    assert not prob.can_fossilize
    prob.state.metrics.record_counterfactual(1.5)
    assert prob.can_fossilize


@pytest.mark.req("ISSUE.3.1")
def test_events_and_gate_reasons() -> None:
    events: list[TelemetryEvent] = []
    slot = SeedSlot("s", 8, on_event=events.append)
    slot.germinate("norm", seed_id="seed-a", blend_tempo_epochs=3)
    drive_to(slot, SeedStage.FOSSILIZED)
    types = [e.event_type for e in events]
    assert types[0] == TelemetryEventType.SEED_GATE_EVALUATED and events[0].data["gate"] == "G0"
    assert TelemetryEventType.SEED_GERMINATED in types and TelemetryEventType.SEED_FOSSILIZED in types
    germ = next(e for e in events if e.event_type == TelemetryEventType.SEED_GERMINATED)
    assert germ.data["blend_tempo_epochs"] == 3 and germ.seed_id == "seed-a" and germ.slot_id == "s"
    gates = [str(e.data["gate"]) for e in events if e.event_type == TelemetryEventType.SEED_GATE_EVALUATED]
    assert {"G0", "G1", "G2", "G3", "G5"} <= set(gates)
    changes = [(e.data["from_stage"], e.data["to_stage"]) for e in events
               if e.event_type == TelemetryEventType.SEED_STAGE_CHANGED]
    assert changes == [("DORMANT", "GERMINATED"), ("GERMINATED", "TRAINING"), ("TRAINING", "BLENDING"),
                       ("BLENDING", "PROBATIONARY"), ("PROBATIONARY", "FOSSILIZED")]
    for e in events:
        if e.event_type == TelemetryEventType.SEED_GATE_EVALUATED:
            assert isinstance(e.data["passed"], bool) and str(e.data["reasons"])
    assert events[0].seed_id is None  # G0 runs before the seed exists
    assert all(e.seed_id == "seed-a" and e.slot_id == "s" for e in events[1:])
    # a failing gate records why
    events.clear()
    slot2 = SeedSlot("t", 8, on_event=events.append)
    slot2.germinate("norm")
    slot2.step_epoch()
    slot2.step_epoch()
    g2 = [e for e in events if e.data.get("gate") == "G2"][-1]
    assert g2.data["passed"] is False and "improvement" in str(g2.data["reasons"])
    assert g2.epoch == 2
    # culls are reported with their reason
    events.clear()
    slot2.cull("tamiyo")
    culled = [e for e in events if e.event_type == TelemetryEventType.SEED_CULLED]
    assert len(culled) == 1 and culled[0].data["reason"] == "tamiyo" and culled[0].data["auto"] is False
