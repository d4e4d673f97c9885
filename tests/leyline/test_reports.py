"""Unit tests of the read-only seed reports."""

from __future__ import annotations

import pytest

from esper.leyline import BlueprintAction, SeedMetricsReport, SeedStage, SeedStateReport


def _report(stage: SeedStage, epochs_total: int = 2, **kwargs: object) -> SeedStateReport:
    metrics = SeedMetricsReport(epochs_total=epochs_total, current_alpha=0.25)
    return SeedStateReport(slot_id="r0c2", seed_id="seed-1", blueprint_id="conv_heavy", stage=stage, metrics=metrics, **kwargs)  # type: ignore[arg-type]


def test_metrics_defaults() -> None:
    m = SeedMetricsReport()
    assert (m.epochs_total, m.epochs_in_current_stage, m.current_alpha) == (0, 0, 0.0)
    assert m.counterfactual_contribution is None
    assert m.improvement_since_stage_start_normalized == 0.0


def test_state_report_defaults_and_derived_values() -> None:
    report = _report(SeedStage.BLENDING)
    assert report.blend_algorithm_id == "sigmoid"
    assert report.blend_tempo_epochs == 5
    assert (report.blending_steps_done, report.blending_steps_total) == (0, 0)
    assert report.blueprint is BlueprintAction.CONV_HEAVY
    assert report.alpha == 0.25


@pytest.mark.parametrize(
    ("stage", "epochs_total", "can_cull"),
    [
        (SeedStage.GERMINATED, 0, False),  # too young (MIN_CULL_AGE = 1)
        (SeedStage.GERMINATED, 1, True),
        (SeedStage.TRAINING, 4, True),
        (SeedStage.BLENDING, 4, True),
        (SeedStage.PROBATIONARY, 4, True),
        (SeedStage.FOSSILIZED, 9, False),
        (SeedStage.CULLED, 9, False),
        (SeedStage.EMBARGOED, 9, False),
    ],
)
def test_can_cull(stage: SeedStage, epochs_total: int, can_cull: bool) -> None:
    assert _report(stage, epochs_total).can_cull is can_cull


def test_fossilize_and_cooldown_flags() -> None:
    assert [s.name for s in SeedStage if _report(s).can_fossilize_stage] == ["PROBATIONARY"]
    assert [s.name for s in SeedStage if _report(s).in_cooldown] == ["CULLED", "EMBARGOED", "RESETTING"]


def test_unknown_blueprint_id_is_reported_with_valid_ids() -> None:
    report = SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="mystery", stage=SeedStage.TRAINING)
    with pytest.raises(ValueError, match=r"blueprint_id 'mystery' is unknown; valid: \[.*'conv_heavy'"):
        _ = report.blueprint


def test_tempo_is_carried() -> None:
    assert _report(SeedStage.BLENDING, blend_tempo_epochs=8, blending_steps_total=8).blend_tempo_epochs == 8
