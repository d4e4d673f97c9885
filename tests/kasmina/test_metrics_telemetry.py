"""SeedMetrics (design §3) and the tempo telemetry of plan Task 12."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings, strategies as st

from tests.kasmina.helpers import drive_to, make_slot
from esper.kasmina import SeedMetrics, SeedSlot, SeedStage
from esper.leyline import SeedTelemetry


@pytest.mark.req("SYS.3.14")
def test_metrics_fields() -> None:
    names = {f.name for f in dataclasses.fields(SeedMetrics)}
    assert {"epochs_total", "epochs_in_current_stage", "initial_val_accuracy", "current_val_accuracy",
            "best_val_accuracy", "accuracy_at_stage_start", "accuracy_at_blending_start",
            "counterfactual_contribution", "seed_gradient_norm_ratio", "seed_param_count", "current_alpha"} <= names
    m = SeedMetrics()
    assert m.counterfactual_contribution is None and m.improvement_since_stage_start == 0.0


@pytest.mark.req("SYS.3.14")
@settings(max_examples=40, deadline=None)
@given(accs=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=8), split=st.integers(0, 8))
def test_accuracy_bookkeeping(accs: list[float], split: int) -> None:
    m = SeedMetrics()
    first, second = accs[:split], accs[split:]
    for a in first:
        m.record_accuracy(a)
    m.start_stage()
    for a in second:
        m.record_accuracy(a)
    assert m.initial_val_accuracy == accs[0]
    assert m.current_val_accuracy == accs[-1]
    assert m.best_val_accuracy == max(accs)
    start = first[-1] if first else accs[0]
    assert m.accuracy_at_stage_start == start
    assert m.improvement_since_stage_start == accs[-1] - start
    assert m.improvement_since_stage_start_normalized == max(-1.0, min(1.0, (accs[-1] - start) / 10.0))
    report = m.to_report()
    assert report.improvement_since_stage_start_normalized == m.improvement_since_stage_start_normalized


@pytest.mark.req("T12.2", "CHK.12.1")
@pytest.mark.parametrize("tempo", [3, 5, 8])
def test_blending_velocity(tempo: int) -> None:
    slot = make_slot("norm", algorithm="linear", tempo=tempo, stage=SeedStage.BLENDING)
    t = slot.telemetry
    assert isinstance(t, SeedTelemetry)
    assert t.blend_tempo_epochs == tempo and t.blending_velocity == 0.0  # no blending epoch yet
    for k in range(1, tempo):
        slot.step_epoch()
        assert slot.stage == SeedStage.BLENDING
        assert slot.state is not None
        assert t.blending_velocity == pytest.approx(slot.state.alpha / k)
        assert t.blending_velocity == pytest.approx(1.0 / tempo)  # linear ramp: constant velocity
        assert t.blend_tempo_epochs == tempo and t.alpha == slot.state.alpha
    slot.step_epoch()
    assert slot.stage == SeedStage.PROBATIONARY and t.blending_velocity == 0.0 and t.alpha == 1.0


@pytest.mark.req("T12.3", "CHK.12.1")
def test_telemetry_tracks_lifecycle() -> None:
    slot = SeedSlot("r0c2", 8)
    assert slot.telemetry == SeedTelemetry(slot_id="r0c2")
    slot.germinate("norm", seed_id="abc", blend_tempo_epochs=8)
    t = slot.telemetry
    assert (t.seed_id, t.slot_id, t.blueprint_id, t.stage, t.blend_tempo_epochs) == ("abc", "r0c2", "norm", 2, 8)
    drive_to(slot, SeedStage.PROBATIONARY)
    assert slot.state is not None
    slot.state.metrics.seed_gradient_norm_ratio = 0.7
    slot.state.metrics.record_counterfactual(1.5)
    slot.sync_telemetry()
    assert t.gradient_norm_ratio == 0.7 and t.counterfactual_contribution == 1.5
    assert t.accuracy == slot.state.metrics.current_val_accuracy and t.stage == int(SeedStage.PROBATIONARY)
    slot.fossilize()
    assert slot.telemetry.stage == int(SeedStage.FOSSILIZED)
    other = make_slot("norm", stage=SeedStage.TRAINING)
    other.cull("x")
    assert other.telemetry.stage == int(SeedStage.CULLED) and other.telemetry.alpha == 0.0
    for _ in range(7):
        other.step_epoch()
    assert other.state is None and other.telemetry == SeedTelemetry(slot_id="s0")
