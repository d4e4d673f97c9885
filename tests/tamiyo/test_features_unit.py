"""Unit tests of individual observation encodings."""

from __future__ import annotations

import math

import pytest

from esper.leyline import SeedMetricsReport, SeedStage, SeedStateReport
from esper.tamiyo.policy.features import build_observation, observation_layout
from esper.tamiyo.signals import TrainingSignals


def _values(signals: TrainingSignals, reports: list) -> dict[str, float]:
    obs = build_observation(signals, reports)
    return {name: obs[i].item() for i, name in enumerate(observation_layout(len(reports)))}


def test_base_encodings() -> None:
    s = TrainingSignals(
        epoch=5, max_epochs=20, global_step=999, train_loss=math.e - 1, val_loss=100.0, loss_delta=0.5,
        train_accuracy=80.0, val_accuracy=75.0, accuracy_delta=-4.0, plateau_epochs=30, best_val_accuracy=77.0,
        best_val_loss=0.0, total_params=9_999, seed_utilisation=2 / 3,
    )
    v = _values(s, [None])
    assert v["epoch"] == pytest.approx(0.25)
    assert v["global_step"] == pytest.approx(3 / 7)
    assert v["train_loss"] == pytest.approx(1 / math.log1p(100.0))
    assert v["val_loss"] == pytest.approx(1.0)
    assert v["loss_delta"] == pytest.approx(math.tanh(0.5))
    assert (v["train_accuracy"], v["val_accuracy"]) == (pytest.approx(0.8), pytest.approx(0.75))
    assert v["accuracy_delta"] == pytest.approx(-0.4)
    assert v["plateau_epochs"] == 1.0  # clipped
    assert v["best_val_loss"] == 0.0
    assert v["total_params"] == pytest.approx(0.5)
    assert v["seed_utilisation"] == pytest.approx(2 / 3)


def test_cooldown_slot_is_inactive_but_keeps_stage_and_blueprint() -> None:
    report = SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="bottleneck", stage=SeedStage.EMBARGOED,
                             blend_tempo_epochs=3, metrics=SeedMetricsReport(improvement_since_stage_start_normalized=-0.2))
    v = _values(TrainingSignals(), [report])
    assert v["slot0.is_active"] == 0.0
    assert v["slot0.stage"] == pytest.approx(0.9)
    assert v["slot0.blueprint.bottleneck"] == 1.0
    assert v["slot0.improvement"] == pytest.approx(-0.2)
    assert v["slot0.tempo"] == pytest.approx(0.25)


def test_tempo_beyond_scale_is_clipped() -> None:
    report = SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="norm", stage=SeedStage.TRAINING,
                             blend_tempo_epochs=30)
    assert _values(TrainingSignals(), [report])["slot0.tempo"] == 1.0


def test_bad_inputs_name_the_argument() -> None:
    with pytest.raises(TypeError, match="signals"):
        build_observation({"epoch": 1}, [None])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="slot_reports"):
        build_observation(TrainingSignals(), "r0c0")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="slot_reports"):
        build_observation(TrainingSignals(), [3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="num_slots"):
        build_observation(TrainingSignals(), [])
