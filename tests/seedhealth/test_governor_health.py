"""ISSUE.9.6, DEC.seedhealth.3: the governor watches validation loss and normalisation buffers, snapshots only
healthy states, and its rollback restores weights, buffers and optimiser state."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.tolaria import EpochTrainer, TolariaGovernor, trainer_config_for
from esper.tolaria.norm_stats import NORM_BUFFER_GROWTH_LIMIT, norm_buffers_unhealthy, norm_modules
from tests.seedhealth.helpers import digits_data, digits_model, enter_blending


def _setup() -> tuple[EpochTrainer, TolariaGovernor, list[TelemetryEvent]]:
    data = digits_data("digits_blind", n_train=256)
    model = digits_model(data)
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    events: list[TelemetryEvent] = []
    governor = TolariaGovernor(model, trainer.host_optimizer, on_event=events.append)
    for _ in range(2):
        result = trainer.run_epoch(data, record=False)
        assert governor.observe(result.train.train_loss, val_loss=result.val_loss) is None
    return trainer, governor, events


def _first_bn(model: nn.Module) -> nn.BatchNorm2d:
    name, module = norm_modules(model)[1]  # block 1: the BN fed by slot r0c0
    assert isinstance(module, nn.BatchNorm2d), name
    return module


@pytest.mark.req("ISSUE.9.6", "DEC.seedhealth.3")
@pytest.mark.parametrize("poison", [1.7e30, math.inf, math.nan])
def test_poisoned_batchnorm_forces_a_rollback_that_restores_it(poison: float) -> None:
    """The issue's case: train loss looks fine (train-mode BN renormalises) while running_var is 1.7e30."""
    trainer, governor, events = _setup()
    bn = _first_bn(trainer.model)
    healthy_var = bn.running_var.clone()
    healthy_weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    healthy_moments = {k: v["momentum_buffer"].clone() for k, v in trainer.host_optimizer.state.items()}
    with torch.no_grad():
        bn.running_var[0] = poison
        for p in trainer.model.host_parameters():
            p.add_(1.0)
    for state in trainer.host_optimizer.state.values():
        state["momentum_buffer"].add_(5.0)
    last = governor.history[-1]
    verdict = governor.check(last, val_loss=2.0)
    assert not verdict.healthy and verdict.reason == "norm_buffers"
    assert any(name.endswith("running_var") for name in verdict.bad_buffers)
    report = governor.rollback()
    assert report.bad_buffers == verdict.bad_buffers
    torch.testing.assert_close(bn.running_var, healthy_var)
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(value, healthy_weights[name], msg=name)
    for key, state in trainer.host_optimizer.state.items():
        torch.testing.assert_close(state["momentum_buffer"], healthy_moments[key])
    rollback = [e for e in events if e.event_type == TelemetryEventType.GOVERNOR_ROLLBACK][-1]
    assert rollback.data["reason"] == "norm_buffers" and "running_var" in str(rollback.data["bad_buffers"])


@pytest.mark.req("ISSUE.9.6", "DEC.seedhealth.3")
def test_unhealthy_state_is_never_snapshotted() -> None:
    trainer, governor, _ = _setup()
    bn = _first_bn(trainer.model)
    healthy_var = bn.running_var.clone()
    with torch.no_grad():
        bn.running_var.fill_(1e30)
    assert governor.observe(governor.history[-1]) is not None  # rolled back, not snapshotted
    torch.testing.assert_close(bn.running_var, healthy_var)
    with torch.no_grad():
        bn.running_var.fill_(1e30)
    governor.rollback()  # the snapshot is still the healthy one
    torch.testing.assert_close(bn.running_var, healthy_var)


@pytest.mark.req("ISSUE.9.6", "DEC.seedhealth.3")
@pytest.mark.parametrize(("val_loss", "reason"), [(math.nan, "val_nan"), (math.inf, "val_inf")])
def test_validation_loss_is_watched(val_loss: float, reason: str) -> None:
    _, governor, _ = _setup()
    history = list(governor.history)
    verdict = governor.check(governor.history[-1], val_loss=val_loss)
    assert (verdict.healthy, verdict.reason) == (False, reason)
    assert list(governor.history) == history  # nothing of an unhealthy epoch enters the history
    assert governor.check(governor.history[-1], val_loss=50.0).healthy  # a finite jump alone is not a divergence


@pytest.mark.req("ISSUE.9.6", "DEC.seedhealth.4")
def test_rollback_after_a_blended_seed_was_culled_marks_statistics_stale() -> None:
    """The snapshot's statistics were measured with a blended seed that is gone: they must be recomputed."""
    trainer, governor, _ = _setup()
    model = trainer.model
    slot = model.resolve_slot("r0c0")
    model.germinate_seed("conv_small", "s", slot="r0c0")
    slot.step_epoch()
    enter_blending(slot)
    state = slot.state
    assert state is not None
    assert slot.alpha == 0.0 and state.metrics.blending_started
    governor.snapshot()  # taken while the seed blends
    model.cull_seed("r0c0")
    slot.host_stats_stale = False  # pretend the trainer already recalibrated after the cull
    governor.rollback()
    assert slot.host_stats_stale
    assert trainer.recalibrate_if_stale(digits_data("digits_blind", n_train=256))
    assert not slot.host_stats_stale


@pytest.mark.req("ISSUE.9.6", "DEC.seedhealth.3")
def test_buffer_growth_limit_is_relative_to_the_healthy_reference() -> None:
    trainer, governor, _ = _setup()
    bn = _first_bn(trainer.model)
    name = next(n for n, m in norm_modules(trainer.model) if m is bn) + ".running_var"
    with torch.no_grad():
        bn.running_var.fill_(50.0 * NORM_BUFFER_GROWTH_LIMIT)
    assert norm_buffers_unhealthy(trainer.model) == [name]  # no reference: max(1, .) = 1
    assert norm_buffers_unhealthy(trainer.model, {name: 100.0}) == []  # within 1e3 x its healthy magnitude
    assert norm_buffers_unhealthy(trainer.model, {name: 10.0}) == [name]
