"""Tagged runs of the plan's verbatim Task 15 tests (test_tempo_lever.py) plus the same scenario for every tempo."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from conformance.kasmina import test_tempo_lever as plan_task15
from esper.kasmina.slot import SeedSlot, SeedStage
from esper.leyline import TEMPO_TO_EPOCHS, TempoAction


def _plan_slot() -> SeedSlot:
    return SeedSlot(slot_id="test_slot", channels=64, device="cpu")


@pytest.mark.req("T15.1", "CHK.15.1")
def test_plan_fast_tempo_scenario() -> None:
    plan_task15.test_tempo_affects_blending_duration(_plan_slot())


@pytest.mark.req("T15.2", "CHK.15.1")
def test_plan_tempo_stored_scenario() -> None:
    plan_task15.test_tempo_stored_in_state(_plan_slot())


@pytest.mark.req("T15.3", "CHK.15.1")
def test_plan_file_is_verbatim_and_passes() -> None:
    plan = Path(__file__).resolve().parents[2].parent / "shared" / "plan" / "blend-tempo-lever-plan.md"
    source = inspect.getsource(plan_task15)
    if plan.exists():
        text = plan.read_text(encoding="utf-8")
        block = text.split("## Task 15: Integration Test", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
        assert source == block
    assert "from esper.kasmina.slot import SeedSlot, SeedStage" in source
    plan_task15.test_head_names_includes_tempo()


@pytest.mark.req("T15.1", "CHK.07.1")
@pytest.mark.parametrize("tempo", list(TempoAction))
def test_every_tempo_sets_blending_steps(tempo: TempoAction) -> None:
    slot = _plan_slot()
    slot.germinate(blueprint_id="norm", seed_id=f"{tempo.name}_seed", blend_tempo_epochs=TEMPO_TO_EPOCHS[tempo])
    slot.step_epoch()
    assert slot.state is not None and slot.state.stage == SeedStage.TRAINING
    for i in range(3):
        slot.state.metrics.record_accuracy(50.0 + i)
        slot.state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    assert slot.state.stage == SeedStage.BLENDING
    assert slot.state.blending_steps_total == TEMPO_TO_EPOCHS[tempo]
    assert slot.state.blending_steps_done == 0
