"""ISSUE.9.7, DEC.seedhealth.4: normalisation statistics a culled seed distorted do not outlive it."""

from __future__ import annotations

import copy

import pytest

from esper.kasmina.host import MorphogeneticModel
from esper.kasmina.slot import SeedSlot
from esper.tolaria import EpochTrainer, TolariaGovernor, trainer_config_for, validate
from esper.tolaria.norm_stats import norm_modules, recalibrate_norm_stats
from tests.seedhealth.helpers import digits_data, digits_model, enter_blending, start_training


def _blend(slot: SeedSlot) -> None:
    """Step a TRAINING seed into BLENDING with gate-passing metrics (alpha > 0 after the first ramp step)."""
    enter_blending(slot)
    slot.step_epoch()
    assert slot.alpha > 0.0


def _max_running_var(model: MorphogeneticModel) -> float:
    return max(float(getattr(m, "running_var").max()) for _, m in norm_modules(model))


def _poisoned() -> tuple[MorphogeneticModel, EpochTrainer]:
    data = digits_data("digits_blind", n_train=1437)
    model = digits_model(data, seed=27)
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    for _ in range(4):
        trainer.train_epoch(data)
    slot = start_training(model, "r0c0", "conv_small")
    _blend(slot)
    assert slot.seed is not None
    slot.seed.register_forward_hook(lambda _m, _i, out: out * 1e15)  # huge activations into the host stream
    trainer.train_epoch(data)
    assert _max_running_var(model) > 1e20  # the downstream BatchNorm is poisoned
    model.cull_seed("r0c0", reason="tamiyo")
    return model, trainer


@pytest.mark.req("ISSUE.9.7", "DEC.seedhealth.4")
def test_culling_a_poisoning_seed_recomputes_the_statistics_within_one_epoch() -> None:
    data = digits_data("digits_blind", n_train=1437)
    model, trainer = _poisoned()
    assert model.resolve_slot("r0c0").host_stats_stale
    trainer.train_epoch(data)  # one epoch after the cull
    assert not model.resolve_slot("r0c0").host_stats_stale
    assert _max_running_var(model) < 100.0
    # Eval-mode behaviour matches the host's weights: the running statistics are those of the current weights
    # (the same weights with freshly computed statistics), up to the usual lag of momentum averaging.
    fresh = copy.deepcopy(model)
    recalibrate_norm_stats(fresh, data.train_x, batch_size=128)
    for (name, ours), (_, ref) in zip(norm_modules(model), norm_modules(fresh), strict=True):
        ratio = getattr(ours, "running_var") / getattr(ref, "running_var")
        shift = (getattr(ours, "running_mean") - getattr(ref, "running_mean")).abs() / getattr(ref, "running_var").sqrt()
        print(f"{name}: var ratio {float(ratio.min()):.3f}..{float(ratio.max()):.3f}, mean shift {float(shift.max()):.3f} sd")
        assert 0.25 < float(ratio.min()) and float(ratio.max()) < 4.0, name
        assert float(shift.max()) < 3.0, name  # the poisoned block read 1e13 sd
    assert validate(model, data)[1] > 20.0  # not the 10 % of a constant output


@pytest.mark.req("ISSUE.9.7", "DEC.seedhealth.4")
def test_without_recalibration_the_poison_outlives_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: the same run with recalibration disabled keeps eval-mode BN poisoned (the issue's 10 %)."""
    data = digits_data("digits_blind", n_train=1437)
    monkeypatch.setattr(EpochTrainer, "recalibrate_if_stale", lambda self, data: False)
    model, trainer = _poisoned()
    trainer.train_epoch(data)
    assert _max_running_var(model) > 1e15
    assert validate(model, data)[1] < 20.0


@pytest.mark.req("ISSUE.9.7", "ISSUE.9.6", "DEC.seedhealth.3")
def test_rollback_of_a_poisoning_epoch_leaves_no_poison() -> None:
    data = digits_data("digits_blind")
    model = digits_model(data, seed=27)
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    governor = TolariaGovernor(model, trainer.host_optimizer)
    for _ in range(3):
        result = trainer.run_epoch(data, record=False)
        assert governor.observe(result.train.train_loss, val_loss=result.val_loss) is None
    healthy_accuracy = validate(model, data)[1]
    slot = start_training(model, "r0c0", "conv_small")
    _blend(slot)
    assert slot.seed is not None
    slot.seed.register_forward_hook(lambda _m, _i, out: out * 1e15)
    result = trainer.run_epoch(data, record=False)
    report = governor.observe(result.train.train_loss, val_loss=result.val_loss)
    assert report is not None and report.culled_slots == ("r0c0",)
    assert _max_running_var(model) < 100.0
    assert validate(model, data)[1] == pytest.approx(healthy_accuracy)
