"""Unit tests of Kasmina helpers (gates, ramps, registry helpers, config, reports)."""

from __future__ import annotations

import pytest
import torch

from esper.kasmina import GATE_NAMES, QualityGates, SeedSlot, SeedStage, SeedState, TaskConfig, alpha_at_step
from esper.kasmina.blueprints.cnn import group_count
from esper.kasmina.blueprints.transformer import head_count
from esper.kasmina.gates import GateResult
from esper.kasmina.task_config import probation_timeout_epochs
from esper.leyline.validation import check_int, check_keys, read_float, read_int


def test_probation_timeout_avoids_float_noise() -> None:
    assert [probation_timeout_epochs(n) for n in (1, 25, 30, 60, 61, 70)] == [5, 5, 5, 6, 7, 7]
    assert TaskConfig(max_epochs=100).probation_timeout == 10
    with pytest.raises(ValueError, match="max_epochs"):
        probation_timeout_epochs(0)


def test_check_positive_int() -> None:
    assert check_int("n", 3, low=1) == 3
    for bad, err in ((0, ValueError), (1.5, TypeError), (False, TypeError), (None, TypeError)):
        with pytest.raises(err, match="n must be an int >= 1"):
            check_int("n", bad, low=1)


def test_alpha_at_step_validation() -> None:
    assert alpha_at_step("linear", 2, 4) == 0.5
    assert alpha_at_step("sigmoid", 2, 4) == pytest.approx(0.5)
    assert alpha_at_step("gated", 9, 4) == 1.0
    with pytest.raises(ValueError, match="step"):
        alpha_at_step("linear", -1, 4)
    with pytest.raises(ValueError, match="total_steps"):
        alpha_at_step("linear", 1, 0)


def test_group_and_head_counts() -> None:
    assert [group_count(c) for c in (1, 2, 3, 4, 8, 12, 32, 128)] == [1, 1, 1, 2, 4, 4, 8, 8]
    assert [head_count(d) for d in (1, 2, 3, 6, 64)] == [1, 2, 1, 2, 4]


def test_gate_result_formatting() -> None:
    state = SeedState(seed_id="a", blueprint_id="norm", stage=SeedStage.TRAINING)
    state.metrics.epochs_in_current_stage = 3
    state.metrics.seed_gradient_norm_ratio = 0.2
    state.metrics.seed_param_count = 10
    result = QualityGates().g2(state)
    assert isinstance(result, GateResult) and not result.passed
    health = {"params_finite": True, "output_finite": True, "gradient_norm_ratio_bounded": True,
              "residual_bounded": True}
    assert result.checks == {**health, "improvement": False, "epochs_in_stage": True, "gradient_norm_ratio": True}
    assert result.reasons == ("improvement 0 points < 0.5 points",)
    data = result.to_event_data()
    assert data == {"gate": "G2", "passed": False, "reasons": "improvement 0 points < 0.5 points",
                    "failed_checks": "improvement"}
    strict = QualityGates(g2_min_improvement=-1.0)
    ok = strict.g2(state)
    assert ok.passed and len(ok.reasons) == 7
    assert GATE_NAMES == ("G0", "G1", "G2", "G3", "G4", "G5", "HEALTH")


def test_g4_nan_counterfactual_is_not_a_cull() -> None:
    state = SeedState(seed_id="a", blueprint_id="norm", stage=SeedStage.PROBATIONARY)
    state.metrics.counterfactual_contribution = float("nan")
    assert QualityGates().g4(state, timeout_epochs=5).passed
    state.metrics.epochs_in_current_stage = 5
    assert QualityGates().g4(state, timeout_epochs=5).failed_checks == ("probation_timeout",)


def test_serialization_readers() -> None:
    d = check_keys({"a": 1, "b": 2.5}, "thing", ["a"], ["b"])
    assert read_int(d, "a", "thing") == 1 and read_float(d, "b", "thing") == 2.5
    with pytest.raises(ValueError, match=r"thing.a must be an int >= 2"):
        read_int(d, "a", "thing", minimum=2)
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['c'\]"):
        check_keys({"a": 1, "c": 0}, "thing", ["a"])


def test_slot_ids_reports_and_repr() -> None:
    slot = SeedSlot("r0c0", 8)
    assert slot.is_empty and slot.stage == SeedStage.DORMANT and slot.alpha == 0.0 and slot.report() is None
    first = slot.germinate("norm", blend_tempo_epochs=3)
    assert first.seed_id == "r0c0-seed1"
    report = slot.report()
    assert report is not None
    assert (report.slot_id, report.seed_id, report.blueprint_id, report.stage, report.blend_tempo_epochs) == (
        "r0c0", "r0c0-seed1", "norm", SeedStage.GERMINATED, 3)
    assert report.metrics.seed_param_count == first.metrics.seed_param_count
    slot.cull("x")
    for _ in range(7):
        slot.step_epoch()
    assert slot.germinate("norm").seed_id == "r0c0-seed2"
    assert "r0c0" in repr(slot) and "GERMINATED" in repr(slot)
    assert slot.device == torch.device("cpu")


def test_slot_step_on_empty_slot_counts_epochs() -> None:
    slot = SeedSlot("s", 4)
    assert [slot.step_epoch() for _ in range(3)] == [False, False, False]
    assert slot.epoch == 3
    slot.germinate("noop")
    assert slot.seed_parameters() == []
