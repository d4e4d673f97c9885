"""ISSUE.9.8, DEC.seedhealth.5: a zero-parameter seed (noop) through the public API does not crash the trainer."""

from __future__ import annotations

import pytest

from esper.leyline import SeedStage
from esper.tolaria import EpochTrainer, trainer_config_for
from tests.seedhealth.helpers import digits_data, digits_model, start_training


@pytest.mark.req("ISSUE.9.8", "DEC.seedhealth.5")
def test_noop_seed_trains_and_follows_the_lifecycle() -> None:
    data = digits_data("digits", n_train=256)
    model = digits_model(data)
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    slot = start_training(model, "r0c1", "noop")
    result = trainer.run_epoch(data)  # used to fail: "optimizer got an empty parameter list"
    assert "r0c1" not in trainer.seed_optimizers
    assert "r0c1" not in result.train.seed_grad_norm_ratios
    assert result.train.seed_health["r0c1"].residual_ratio == 0.0  # an identity
    state = slot.state
    assert state is not None and state.metrics.seed_gradient_norm_ratio == 0.0
    g2 = model.resolve_slot("r0c1").gates.g2(state)
    assert g2.checks["gradient_norm_ratio"]  # not applicable to a seed without parameters
    assert any("not applicable" in reason for reason in g2.reasons) or not g2.passed
    # With improvement and epochs met, the noop seed blends like any other and never crashes the trainer.
    state.metrics.epochs_in_current_stage = 5
    state.metrics.record_accuracy(state.metrics.accuracy_at_stage_start + 5.0)
    slot.step_epoch()
    assert slot.stage == SeedStage.BLENDING
    trainer.run_epoch(data)
    slot.step_epoch()
    model.cull_seed("r0c1")
    trainer.run_epoch(data)


@pytest.mark.req("ISSUE.9.8", "DEC.seedhealth.5")
def test_a_seed_with_parameters_still_needs_a_gradient_ratio() -> None:
    data = digits_data("digits", n_train=256)
    model = digits_model(data)
    slot = start_training(model, "r0c0", "norm")
    state = slot.state
    assert state is not None and state.metrics.seed_param_count > 0
    assert not slot.gates.g2(state).checks["gradient_norm_ratio"]  # ratio 0.0 < 0.1
