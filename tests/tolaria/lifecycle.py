"""Test helpers: small digits models and a driver that walks a seed through the lifecycle gates."""

from __future__ import annotations

import torch

from esper.data import TaskData, build_model, load_task
from esper.kasmina.host import MorphogeneticModel
from esper.kasmina.slot import SeedSlot
from esper.leyline import SeedStage

_ORDER = (SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED)


def digits_model(task: str = "digits", seed: int = 0) -> tuple[MorphogeneticModel, TaskData]:
    """A fresh model for a digits task (weights from ``seed``) and the task data."""
    data = load_task(task)
    torch.manual_seed(seed)
    return build_model(data), data


def drive_to(slot: SeedSlot, stage: SeedStage) -> None:
    """Advance the slot's (germinated) seed to ``stage`` by recording gate-passing metrics and stepping epochs."""
    if stage not in _ORDER:
        raise ValueError(f"stage must be one of {[s.name for s in _ORDER]}, got {stage.name}")
    state = slot.state
    assert state is not None, "germinate a seed first"
    accuracy = 50.0
    for _ in range(30):
        if state.stage == stage:
            return
        if state.stage == SeedStage.PROBATIONARY:
            state.metrics.record_counterfactual(5.0)
            assert slot.fossilize().passed
            continue
        accuracy += 1.0
        state.metrics.record_accuracy(accuracy)
        state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    raise AssertionError(f"seed did not reach {stage.name}; it is {state.stage.name}")


def germinate_at(model: MorphogeneticModel, slot_id: str, blueprint: str, stage: SeedStage, **kwargs: int) -> SeedSlot:
    """Germinate ``blueprint`` in ``slot_id`` (tempo 3 unless given) and drive it to ``stage``."""
    model.germinate_seed(blueprint, slot=slot_id, blend_tempo_epochs=kwargs.get("blend_tempo_epochs", 3))
    slot = model.resolve_slot(slot_id)
    drive_to(slot, stage)
    return slot


def perturb_seed(slot: SeedSlot, scale: float = 0.5, seed: int = 0) -> None:
    """Give every seed parameter a deterministic random value (seeds start near identity, i.e. without effect)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in slot.seed_parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * scale)
