"""Plan Task 13 (tempo in the observation) and its checklist lines."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.tamiyo.strategies import reports, signals
from esper.leyline import TEMPO_TO_EPOCHS, SeedMetricsReport, SeedStage, SeedStateReport, TempoAction
from esper.tamiyo.policy.features import (
    BASE_FEATURE_SIZE,
    SLOT_FEATURE_SIZE,
    build_observation,
    get_feature_size,
    observation_layout,
)
from esper.tamiyo.signals import TrainingSignals


def _report(tempo_epochs: int, stage: SeedStage = SeedStage.BLENDING) -> SeedStateReport:
    return SeedStateReport(
        slot_id="r0c1",
        seed_id="s1",
        blueprint_id="depthwise",
        stage=stage,
        blend_tempo_epochs=tempo_epochs,
        metrics=SeedMetricsReport(epochs_total=4, current_alpha=0.3),
    )


@pytest.mark.req("T13.1", "CHK.13.1", "PLAN.1")
def test_slot_feature_size_is_18_and_dimension_is_77() -> None:
    assert SLOT_FEATURE_SIZE == 18
    assert BASE_FEATURE_SIZE == 23
    assert get_feature_size(3) == 77 == 74 + 3  # 17 -> 18 per slot adds one feature per slot
    assert get_feature_size() == 77
    obs = build_observation(TrainingSignals(), [None, _report(5), None])
    assert obs.shape == (77,)
    assert len(observation_layout(3)) == 77


@pytest.mark.req("T13.1")
def test_each_slot_block_has_18_entries() -> None:
    layout = observation_layout(3)
    for i in range(3):
        block = [name for name in layout if name.startswith(f"slot{i}.")]
        assert len(block) == SLOT_FEATURE_SIZE
        assert layout.index(f"slot{i}.is_active") == BASE_FEATURE_SIZE + i * SLOT_FEATURE_SIZE


@pytest.mark.req("T13.2", "CHK.13.2")
@pytest.mark.parametrize("tempo", list(TempoAction))
def test_tempo_feature_is_real_tempo_over_12(tempo: TempoAction) -> None:
    epochs = TEMPO_TO_EPOCHS[tempo]
    obs = build_observation(TrainingSignals(), [None, _report(epochs), None])
    idx = observation_layout(3).index("slot1.tempo")
    assert obs[idx].item() == pytest.approx(epochs / 12.0)
    assert obs[idx].item() == pytest.approx({3: 0.25, 5: 5 / 12, 8: 8 / 12}[epochs])
    assert 0.0 < obs[idx].item() < 1.0


@pytest.mark.req("T13.2")
@given(s=signals, report=reports(value=st.floats(-1e3, 1e3)), tempo=st.sampled_from(list(TempoAction)), slot=st.integers(0, 2))
@settings(max_examples=40, deadline=None)
def test_tempo_feature_tracks_the_report_for_any_state(
    s: TrainingSignals, report: SeedStateReport, tempo: TempoAction, slot: int
) -> None:
    from dataclasses import replace

    report = replace(report, blend_tempo_epochs=TEMPO_TO_EPOCHS[tempo])
    slots: list[SeedStateReport | None] = [None, None, None]
    slots[slot] = report
    obs = build_observation(s, slots)
    idx = observation_layout(3).index(f"slot{slot}.tempo")
    assert math.isclose(obs[idx].item(), TEMPO_TO_EPOCHS[tempo] / 12.0, rel_tol=1e-6)


@pytest.mark.req("T13.2")
def test_empty_slot_block_is_zero() -> None:
    obs = build_observation(TrainingSignals(), [None, _report(8), None])
    for i in (0, 2):
        start = BASE_FEATURE_SIZE + i * SLOT_FEATURE_SIZE
        assert torch.count_nonzero(obs[start : start + SLOT_FEATURE_SIZE]) == 0
    start = BASE_FEATURE_SIZE + SLOT_FEATURE_SIZE
    assert torch.count_nonzero(obs[start : start + SLOT_FEATURE_SIZE]) > 0


@pytest.mark.req("T13.3")
@pytest.mark.parametrize("num_slots", [1, 2, 3, 4, 7])
def test_get_feature_size_formula(num_slots: int) -> None:
    assert get_feature_size(num_slots) == 23 + num_slots * 18
    assert build_observation(TrainingSignals(), [None] * num_slots).shape == (get_feature_size(num_slots),)


@pytest.mark.req("T13.3")
@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-1, ValueError), (True, TypeError), (2.0, TypeError), ("3", TypeError)])
def test_get_feature_size_rejects_bad_slot_counts(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="num_slots"):
        get_feature_size(bad)  # type: ignore[arg-type]
