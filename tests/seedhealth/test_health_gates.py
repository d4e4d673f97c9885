"""ISSUE.9.4/9.5, DEC.seedhealth.2: unhealthy seeds never pass G2, are culled naming the failed check, and the cull
shows in telemetry; unbounded ratios never pass a threshold check."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from esper.kasmina.gates import (
    GRADIENT_RATIO_BOUNDED,
    HEALTH_CHECKS,
    OUTPUT_FINITE,
    PARAMS_FINITE,
    RESIDUAL_BOUNDED,
    QualityGates,
)
from esper.kasmina.health import SeedHealth
from esper.kasmina.slot import SeedSlot, SeedStage, SeedState
from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.leyline.defaults import G2_MIN_GRAD_RATIO, SEED_MAX_GRAD_RATIO, SEED_MAX_RESIDUAL_RATIO
from esper.tolaria import trainer_config_for
from esper.tolaria.trainer import EpochTrainer
from tests.seedhealth.helpers import digits_data, digits_model, start_training


def _passing_training_state() -> SeedState:
    state = SeedState(seed_id="s", blueprint_id="conv_small", stage=SeedStage.TRAINING)
    m = state.metrics
    m.seed_param_count = 10
    m.epochs_in_current_stage = 3
    m.record_accuracy(50.0)
    m.record_accuracy(60.0)
    m.accuracy_at_stage_start = 50.0
    m.seed_gradient_norm_ratio = 0.3
    m.seed_residual_ratio = 0.05
    return state


@pytest.mark.req("ISSUE.9.4", "ISSUE.9.5", "DEC.seedhealth.2")
@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("seed_params_finite", False, PARAMS_FINITE),
        ("seed_output_finite", False, OUTPUT_FINITE),
        ("seed_gradient_norm_ratio", math.nan, GRADIENT_RATIO_BOUNDED),
        ("seed_gradient_norm_ratio", math.inf, GRADIENT_RATIO_BOUNDED),
        ("seed_gradient_norm_ratio", 2.8e15, GRADIENT_RATIO_BOUNDED),  # the reading, which G2 passed
        ("seed_residual_ratio", math.nan, RESIDUAL_BOUNDED),
        ("seed_residual_ratio", math.inf, RESIDUAL_BOUNDED),
        ("seed_residual_ratio", 1.0e15, RESIDUAL_BOUNDED),
    ],
)
def test_g2_refuses_each_unhealthy_reading(field: str, value: object, check: str) -> None:
    state = _passing_training_state()
    assert QualityGates().g2(state).passed  # control: the healthy state passes
    setattr(state.metrics, field, value)
    result = QualityGates().g2(state)
    assert not result.passed and check in result.failed_checks
    assert not QualityGates().health(state).passed


@pytest.mark.req("ISSUE.9.5", "DEC.seedhealth.2")
@given(ratio=st.floats(allow_nan=True, allow_infinity=True), residual=st.floats(allow_nan=True, allow_infinity=True))
def test_g2_passes_only_bounded_finite_readings(ratio: float, residual: float) -> None:
    state = _passing_training_state()
    state.metrics.seed_gradient_norm_ratio = ratio
    state.metrics.seed_residual_ratio = residual
    expected = (G2_MIN_GRAD_RATIO <= ratio <= SEED_MAX_GRAD_RATIO) and (
        math.isfinite(residual) and residual <= SEED_MAX_RESIDUAL_RATIO
    )
    assert QualityGates().g2(state).passed == expected


@pytest.mark.req("DEC.seedhealth.2")
def test_seed_health_from_sums() -> None:
    assert SeedHealth.from_sums([4.0, 16.0, 0.0], True) == SeedHealth(0.5, True, True)
    assert SeedHealth.from_sums([0.0, 0.0, 0.0], True).residual_ratio == 0.0
    assert SeedHealth.from_sums([1.0, 0.0, 0.0], True).residual_ratio == math.inf
    assert math.isnan(SeedHealth.from_sums([math.nan, 1.0, 3.0], False).residual_ratio)
    assert not SeedHealth.from_sums([math.inf, 1.0, 3.0], True).output_finite


def _events() -> tuple[list[TelemetryEvent], SeedSlot]:
    events: list[TelemetryEvent] = []
    slot = SeedSlot("r0c0", channels=8, on_event=events.append)
    return events, slot


@pytest.mark.req("ISSUE.9.4", "DEC.seedhealth.2")
@pytest.mark.parametrize("stage", [SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY])
def test_unhealthy_seed_is_auto_culled_with_the_failed_check_as_reason(stage: SeedStage) -> None:
    events, slot = _events()
    slot.germinate("conv_small", "s", blend_tempo_epochs=3)
    slot.step_epoch()
    state = slot.state
    assert state is not None
    while state.stage != stage:  # drive with healthy, gate-passing metrics
        state.metrics.seed_gradient_norm_ratio = 0.5
        state.metrics.record_accuracy(state.metrics.current_val_accuracy + 1.0)
        slot.step_epoch()
    state.metrics.record_health(SeedHealth(residual_ratio=1e15, output_finite=True, params_finite=True))
    assert slot.step_epoch() is True
    assert slot.stage == SeedStage.CULLED and state.cull_reason == RESIDUAL_BOUNDED
    culled = [e for e in events if e.event_type == TelemetryEventType.SEED_CULLED]
    assert culled[-1].data["reason"] == RESIDUAL_BOUNDED and culled[-1].data["auto"] is True
    gate = [e for e in events if e.event_type == TelemetryEventType.SEED_GATE_EVALUATED][-1]
    assert gate.data["passed"] is False and RESIDUAL_BOUNDED in str(gate.data["failed_checks"])
    assert set(HEALTH_CHECKS) <= set(slot.gate_results["G2" if stage == SeedStage.TRAINING else "HEALTH"].checks)


@pytest.mark.req("ISSUE.9.4", "DEC.seedhealth.2")
def test_not_yet_improving_is_not_a_cull() -> None:
    """A healthy seed that has not met G2's learning checks stays in TRAINING (only health failures cull)."""
    _, slot = _events()
    slot.germinate("conv_small", "s")
    slot.step_epoch()
    for _ in range(5):
        assert slot.step_epoch() is False
    assert slot.stage == SeedStage.TRAINING


@pytest.mark.req("ISSUE.9.4", "DEC.seedhealth.2")
def test_an_exploding_seed_is_measured_by_the_trainer_and_refused_by_g2() -> None:
    """End to end: a TRAINING seed whose weights blew up is measured (residual/params) and culled, never blended."""
    data = digits_data("digits_blind", n_train=256)
    events: list[TelemetryEvent] = []
    model = digits_model(data)
    model.on_event = events.append
    for s in model.seed_slots:
        s.on_event = events.append
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    slot = start_training(model, "r0c0", "conv_small")
    assert slot.seed is not None
    with torch.no_grad():
        for p in slot.seed.parameters():
            p.fill_(1e15)
    result = trainer.run_epoch(data)
    health = result.train.seed_health["r0c0"]
    assert health.residual_ratio > SEED_MAX_RESIDUAL_RATIO
    state = slot.state
    assert state is not None
    state.metrics.epochs_in_current_stage = 10  # every other G2 check would pass
    state.metrics.accuracy_at_stage_start = 0.0
    state.metrics.seed_gradient_norm_ratio = 1.0
    assert slot.step_epoch() is True
    assert slot.stage == SeedStage.CULLED
    assert state.cull_reason in HEALTH_CHECKS
    assert any(e.event_type == TelemetryEventType.SEED_CULLED and e.data["reason"] == state.cull_reason for e in events)


@pytest.mark.req("ISSUE.9.4", "DEC.seedhealth.2")
def test_nan_seed_parameters_are_caught() -> None:
    data = digits_data("digits", n_train=256)
    model = digits_model(data)
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    slot = start_training(model, "r0c1", "conv_light")
    assert slot.seed is not None
    with torch.no_grad():
        next(slot.seed.parameters()).fill_(math.nan)
    health = trainer.train_epoch(data).seed_health["r0c1"]
    assert not health.params_finite and not health.output_finite
    state = slot.state
    assert state is not None
    state.metrics.record_health(health)
    slot.step_epoch()
    assert slot.stage == SeedStage.CULLED and state.cull_reason == PARAMS_FINITE
