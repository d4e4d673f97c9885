"""ISSUE.9.1/9.2, DEC.seedhealth.1: a TRAINING seed stays finite and bounded for every blueprint, slot, task and
optimiser, and the mechanism is scale-robust (the old one is shown to diverge, so the grid can fail)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
import torch

from esper.kasmina import slot as slot_module
from esper.kasmina.blueprints import blueprint_names
from esper.kasmina.slot import SeedSlot
from esper.leyline.defaults import SEED_MAX_RESIDUAL_RATIO
from esper.tolaria import TrainerConfig, trainer_config_for
from tests.seedhealth.helpers import (
    TRAINING_EPOCHS,
    Pretrained,
    digits_data,
    digits_model,
    fork,
    params_finite,
    pretrain,
    residual_ratio,
    small_transformer,
    start_training,
    text_data,
)

SLOTS = ("r0c0", "r0c1", "r0c2")
"""Slot ids of both host kinds (checked against the hosts below)."""
BOUND = 0.5
"""Residual bound asserted after 4 TRAINING epochs: the worst measured is 0.06; the health limit is 3."""


@cache
def _digits_host(task: str) -> Pretrained:
    data = digits_data(task)
    return pretrain(digits_model(data), data, trainer_config_for(data.spec))


@cache
def _text_host(optimizer: str) -> Pretrained:
    data = text_data()
    config = TrainerConfig(optimizer=optimizer, host_lr=0.05 if optimizer == "sgd" else 3e-3, batch_size=64)
    return pretrain(small_transformer(data), data, config)


def _train_seed(base: Pretrained, data_task: str | None, slot_id: str, blueprint: str) -> tuple[SeedSlot, float]:
    data = digits_data(data_task) if data_task is not None else text_data()
    model, trainer = fork(base)
    slot = start_training(model, slot_id, blueprint)
    for _ in range(TRAINING_EPOCHS):
        trainer.train_epoch(data)
    return slot, residual_ratio(model, slot, data.val_x)


def _assert_healthy_after_training(base: Pretrained, data_task: str | None, slot_id: str, blueprint: str) -> None:
    """Train ``blueprint`` in ``slot_id`` for 4 TRAINING epochs: finite, bounded and still alive (no health cull)."""
    assert base.model.slot_ids == SLOTS
    torch.manual_seed(1)
    slot, residual = _train_seed(base, data_task, slot_id, blueprint)
    assert params_finite(slot)
    assert residual <= BOUND, f"{blueprint} in {slot_id} ({data_task or 'text'}): residual {residual:.3g}"
    state = slot.state
    assert state is not None
    assert state.metrics.seed_residual_ratio <= BOUND and state.metrics.seed_output_finite


@pytest.mark.req("ISSUE.9.1", "DEC.seedhealth.1")
@pytest.mark.parametrize("task", ["digits", "digits_blind"])
@pytest.mark.parametrize("slot_id", SLOTS)
@pytest.mark.parametrize("blueprint", blueprint_names("cnn"))
def test_cnn_training_seed_stays_finite_and_bounded(task: str, slot_id: str, blueprint: str) -> None:
    _assert_healthy_after_training(_digits_host(task), task, slot_id, blueprint)


@pytest.mark.req("ISSUE.9.2", "DEC.seedhealth.1")
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("slot_id", SLOTS)
@pytest.mark.parametrize("blueprint", blueprint_names("transformer"))
def test_transformer_training_seed_stays_finite_and_bounded(optimizer: str, slot_id: str, blueprint: str) -> None:
    _assert_healthy_after_training(_text_host(optimizer), None, slot_id, blueprint)


@pytest.mark.req("ISSUE.9.1", "DEC.seedhealth.1")
def test_the_old_mechanism_diverges_in_the_same_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: the per-batch pull (= per-position strength x H*W) with an SGD seed optimiser explodes conv_small at
    digits_blind's first slot (4x4 maps), exactly as the issue reports, so the grid above can fail."""
    monkeypatch.setattr(slot_module, "SEED_PROXIMAL_STRENGTH", 16.0)
    base = _digits_host("digits_blind")
    legacy = Pretrained(base.model, base.trainer)
    legacy.trainer.config = replace(base.trainer.config, seed_optimizer="sgd", seed_lr=0.05)
    try:
        slot, residual = _train_seed(legacy, "digits_blind", "r0c0", "conv_small")
    finally:
        legacy.trainer.config = replace(base.trainer.config, seed_optimizer="adam", seed_lr=1e-3)
    assert not params_finite(slot) or residual > SEED_MAX_RESIDUAL_RATIO


@pytest.mark.req("DEC.seedhealth.1")
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("size", [1, 8])
def test_adam_seed_is_bounded_whatever_the_activation_scale_and_map_size(scale: float, size: int) -> None:
    """Inputs of any scale and number of positions (upstream gradient scaled like the input): the seed converges
    to a bounded residual instead of growing geometrically."""
    torch.manual_seed(0)
    slot = SeedSlot("r0c0", channels=16)
    slot.germinate("conv_small", "s")
    slot.step_epoch()
    x = torch.randn(32, 16, size, size) * scale
    upstream = torch.randn_like(x) * scale / x.numel()
    opt = torch.optim.Adam(slot.seed_parameters(), lr=1e-3)
    for _ in range(200):
        opt.zero_grad()
        slot(x).backward(upstream)
        opt.step()
    assert slot.seed is not None
    with torch.no_grad():
        ratio = float((slot.seed(x) - x).norm() / x.norm())
    assert params_finite(slot) and ratio < BOUND


@pytest.mark.req("DEC.seedhealth.1")
def test_sgd_seed_diverges_at_large_scale_where_adam_does_not() -> None:
    """Why Adam: with SGD (lr 0.05, momentum 0.9) the per-position pull's curvature grows with E|x|^2 (x10 scale)."""
    torch.manual_seed(0)
    slot = SeedSlot("r0c0", channels=16)
    slot.germinate("conv_small", "s")
    slot.step_epoch()
    x = torch.randn(32, 16, 4, 4) * 10.0
    opt = torch.optim.SGD(slot.seed_parameters(), lr=0.05, momentum=0.9)
    for _ in range(50):
        opt.zero_grad()
        slot(x).backward(torch.randn_like(x) / x.numel())
        opt.step()
    assert not params_finite(slot) or max(float(p.detach().abs().max()) for p in slot.seed_parameters()) > 1e6
