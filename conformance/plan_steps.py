"""Steps the kit takes through plan-named API only (no adapter, no private names)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from esper.kasmina.slot import SeedSlot, SeedStage


def advance_to_blending(slot: SeedSlot) -> None:
    """Plan Task 15's recipe: one epoch to TRAINING, then three epochs of G2-passing metrics to BLENDING."""
    from esper.kasmina.slot import SeedStage

    assert slot.state is not None, "germinate a seed first"
    slot.step_epoch()
    assert slot.state.stage == SeedStage.TRAINING, f"expected TRAINING after one epoch, got {slot.state.stage.name}"
    for i in range(3):
        slot.state.metrics.record_accuracy(50.0 + i)
        slot.state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    stage = _stage(slot)
    assert stage == SeedStage.BLENDING, f"expected BLENDING (plan Task 15), got {stage.name}"


def _stage(slot: SeedSlot) -> SeedStage:
    assert slot.state is not None
    return slot.state.stage
