"""Tagged runs of the plan's verbatim Task 15 tests (test_tempo_lever.py) plus the same scenario for every tempo."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from conformance.plan_steps import advance_to_blending

if TYPE_CHECKING:
    from esper.kasmina.slot import SeedSlot

PLAN = Path("/work/shared/plan/blend-tempo-lever-plan.md")


def _plan_module() -> ModuleType:
    return importlib.import_module("conformance.kasmina.test_tempo_lever")


def _plan_slot() -> SeedSlot:
    from esper.kasmina.slot import SeedSlot

    return SeedSlot(slot_id="test_slot", channels=64, device="cpu")


@pytest.mark.req("T15.1", "CHK.15.1")
def test_plan_fast_tempo_scenario() -> None:
    _plan_module().test_tempo_affects_blending_duration(_plan_slot())


@pytest.mark.req("T15.2", "CHK.15.1")
def test_plan_tempo_stored_scenario() -> None:
    _plan_module().test_tempo_stored_in_state(_plan_slot())


@pytest.mark.req("T15.3", "CHK.15.1")
def test_plan_file_is_verbatim_and_passes() -> None:
    module = _plan_module()
    source = inspect.getsource(module)
    if PLAN.exists():
        text = PLAN.read_text(encoding="utf-8")
        block = text.split("## Task 15: Integration Test", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
        assert source == block
    assert "from esper.kasmina.slot import SeedSlot, SeedStage" in source
    module.test_head_names_includes_tempo()


@pytest.mark.req("T15.1", "T07.1", "CHK.07.1")
@pytest.mark.parametrize("tempo_name", ["FAST", "STANDARD", "SLOW"])
def test_every_tempo_sets_blending_steps(tempo_name: str) -> None:
    from esper.leyline.factored_actions import TEMPO_TO_EPOCHS, TempoAction

    epochs = TEMPO_TO_EPOCHS[TempoAction[tempo_name]]
    slot = _plan_slot()
    slot.germinate(blueprint_id="norm", seed_id=f"{tempo_name}_seed", blend_tempo_epochs=epochs)
    advance_to_blending(slot)
    assert slot.state is not None
    assert slot.state.blending_steps_total == epochs
