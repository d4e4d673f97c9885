"""Plan Tasks 7 and 12: what entering BLENDING does, and the tempo telemetry of a slot."""

from __future__ import annotations

import pytest

from conformance.adapter import ConformanceAdapter
from conformance.plan_steps import advance_to_blending


@pytest.mark.req("T07.2")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_gradient_isolation_follows_the_topology(adapter: ConformanceAdapter, topology: str) -> None:
    from esper.kasmina.slot import SeedStage

    slot = adapter.make_slot(topology=topology)
    slot.germinate("norm", blend_tempo_epochs=3)
    slot.step_epoch()
    assert slot.state is not None and slot.state.stage == SeedStage.TRAINING
    assert slot.isolate_gradients is True
    advance_to_blending_from_training(slot)
    assert slot.isolate_gradients is (topology == "cnn")


def advance_to_blending_from_training(slot: object) -> None:
    from esper.kasmina.slot import SeedSlot, SeedStage

    assert isinstance(slot, SeedSlot) and slot.state is not None
    for i in range(3):
        slot.state.metrics.record_accuracy(50.0 + i)
        slot.state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    assert slot.state.stage == SeedStage.BLENDING


@pytest.mark.req("T07.3")
def test_accuracy_is_snapshotted_when_blending_starts(adapter: ConformanceAdapter) -> None:
    slot = adapter.make_slot()
    slot.germinate("norm", blend_tempo_epochs=5)
    advance_to_blending(slot)
    assert slot.state is not None
    metrics = slot.state.metrics
    assert metrics.accuracy_at_blending_start == pytest.approx(52.0)  # the accuracy recorded on the last epoch
    metrics.record_accuracy(70.0)
    slot.step_epoch()
    assert metrics.accuracy_at_blending_start == pytest.approx(52.0)  # a snapshot, not a live value


@pytest.mark.req("T12.2", "T12.3", "CHK.12.1")
@pytest.mark.parametrize("tempo", [3, 5, 8])
def test_blending_velocity_and_tempo_reach_the_telemetry(adapter: ConformanceAdapter, tempo: int) -> None:
    slot = adapter.make_slot()
    slot.germinate("norm", blend_tempo_epochs=tempo)
    advance_to_blending(slot)
    state = slot.state
    assert state is not None
    slot.sync_telemetry()
    assert slot.telemetry.blend_tempo_epochs == tempo
    epochs = state.metrics.epochs_in_current_stage
    expected = state.alpha / epochs if epochs > 0 else 0.0
    assert slot.telemetry.blending_velocity == pytest.approx(expected)
    for _ in range(2):
        state.metrics.record_accuracy(55.0)
        slot.step_epoch()
        slot.sync_telemetry()
        epochs = state.metrics.epochs_in_current_stage
        assert epochs > 0 and state.alpha > 0.0
        assert slot.telemetry.blending_velocity == pytest.approx(state.alpha / epochs)
        assert slot.telemetry.blend_tempo_epochs == tempo
