"""Observation properties (design note §4): length, finiteness, declared bounds, batching, sanitisation."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tamiyo.strategies import reports, signals, slot_lists
from esper.leyline import BlueprintAction, SeedMetricsReport, SeedStage, SeedStateReport
from esper.tamiyo.policy.features import (
    build_observation,
    build_observations,
    feature_bounds,
    get_feature_size,
    observation_layout,
)
from esper.tamiyo.signals import TrainingSignals


@pytest.mark.req("SYS.4.1", "SYS.4.2", "T13.3")
@given(s=signals, slots=slot_lists(1, 4))
@settings(max_examples=80, deadline=None)
def test_observation_length_finite_and_within_bounds(s: TrainingSignals, slots: list) -> None:
    obs = build_observation(s, slots)
    n = len(slots)
    assert obs.dtype == torch.float32
    assert obs.shape == (get_feature_size(n),)
    assert bool(torch.isfinite(obs).all())
    low, high = feature_bounds(n)
    bad = [observation_layout(n)[i] for i in torch.nonzero((obs < low) | (obs > high)).flatten().tolist()]
    assert not bad, f"features out of bounds: {bad}"


@pytest.mark.req("SYS.4.2", "DEC.tamiyo.2")
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, -1e308])
def test_extreme_values_are_sanitised(value: float) -> None:
    s = TrainingSignals(
        epoch=10,
        train_loss=value,
        val_loss=value,
        loss_delta=value,
        train_accuracy=value,
        val_accuracy=value,
        accuracy_delta=value,
        best_val_accuracy=value,
        best_val_loss=value,
        loss_history=(value,) * 5,
        accuracy_history=(value,) * 5,
        seed_utilisation=value,
    )
    report = SeedStateReport(
        slot_id="r0c0",
        seed_id="s",
        blueprint_id="norm",
        stage=SeedStage.BLENDING,
        blend_tempo_epochs=5,
        metrics=SeedMetricsReport(current_alpha=value, improvement_since_stage_start_normalized=value),
    )
    obs = build_observation(s, [report, None, None])
    low, high = feature_bounds(3)
    assert bool(torch.isfinite(obs).all())
    assert bool(((obs >= low) & (obs <= high)).all())
    layout = observation_layout(3)
    val_loss = obs[layout.index("val_loss")].item()
    if math.isnan(value) or value > 0:
        assert val_loss == 1.0  # a diverged or huge loss looks as bad as possible, never perfect
    else:
        assert val_loss == 0.0
    if math.isnan(value):
        assert obs[layout.index("val_accuracy")].item() == 0.0
        assert obs[layout.index("slot0.alpha")].item() == 0.0


@pytest.mark.req("DEC.tamiyo.2")
def test_unknown_blueprint_id_is_rejected() -> None:
    report = SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="mystery", stage=SeedStage.TRAINING)
    with pytest.raises(ValueError, match="mystery"):
        build_observation(TrainingSignals(), [report])


@pytest.mark.req("SYS.4.1")
@given(
    items=st.lists(st.tuples(signals, slot_lists(3, 3)), min_size=1, max_size=4),
)
@settings(max_examples=30, deadline=None)
def test_batched_observations_equal_stacked_singles(items: list) -> None:
    batch = build_observations(items)
    assert batch.shape == (len(items), get_feature_size(3))
    assert torch.equal(batch, torch.stack([build_observation(s, r) for s, r in items]))


@pytest.mark.req("SYS.4.1")
def test_batched_observations_reject_mixed_slot_counts() -> None:
    with pytest.raises(ValueError, match="same number of slots"):
        build_observations([(TrainingSignals(), [None]), (TrainingSignals(), [None, None])])
    with pytest.raises(ValueError, match="at least one"):
        build_observations([])


@pytest.mark.req("SYS.4.1", "DEC.tamiyo.1")
@given(report=reports(value=st.floats(-5.0, 5.0)))
@settings(max_examples=40, deadline=None)
def test_slot_block_encodes_the_report(report: SeedStateReport) -> None:
    obs = build_observation(TrainingSignals(), [report])
    layout = observation_layout(1)
    value = {name: obs[i].item() for i, name in enumerate(layout)}
    assert value["slot0.stage"] == pytest.approx(report.stage.value / 10)
    assert value["slot0.is_active"] == (1.0 if report.stage in (2, 3, 4, 6, 7) else 0.0)
    assert value["slot0.alpha"] == pytest.approx(min(max(report.metrics.current_alpha, 0.0), 1.0))
    one_hot = [value[f"slot0.blueprint.{b.blueprint_id}"] for b in BlueprintAction]
    assert one_hot == [1.0 if b.blueprint_id == report.blueprint_id else 0.0 for b in BlueprintAction]


@pytest.mark.req("SYS.4.1")
def test_observation_on_requested_device() -> None:
    obs = build_observation(TrainingSignals(), [None], device="meta")
    assert obs.device.type == "meta"
    low, high = feature_bounds(1, device="meta")
    assert low.device.type == high.device.type == "meta"


@pytest.mark.cuda
@pytest.mark.req("SYS.4.1")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_observation_on_cuda() -> None:
    obs = build_observations([(TrainingSignals(), [None, None, None])], device="cuda")
    assert obs.is_cuda and obs.shape == (1, 77)
