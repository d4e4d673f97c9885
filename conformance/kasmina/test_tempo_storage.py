"""Plan Tasks 5-6: germinate accepts the tempo, SeedState stores it, to_dict/from_dict carry it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.plan_steps import advance_to_blending


@pytest.mark.req("T05.1", "CHK.05.1")
def test_seed_state_field_and_default() -> None:
    from esper.kasmina.slot import SeedStage, SeedState

    fields = {f.name: f for f in dataclasses.fields(SeedState)}
    for name in ("seed_id", "blueprint_id", "slot_id", "stage", "previous_stage", "blend_tempo_epochs"):
        assert name in fields, name
    assert all(f.kw_only for f in fields.values())  # @dataclass(kw_only=True, slots=True)
    assert hasattr(SeedState, "__slots__")
    state = SeedState(seed_id="a", blueprint_id="norm")
    assert state.blend_tempo_epochs == 5
    assert state.slot_id == ""
    assert state.stage == SeedStage.DORMANT and state.previous_stage == SeedStage.UNKNOWN


@pytest.mark.req("T06.1", "CHK.06.1")
def test_germinate_signature() -> None:
    from esper.kasmina.slot import SeedSlot, SeedStage

    sig = inspect.signature(SeedSlot.germinate)
    assert list(sig.parameters)[:6] == [
        "self", "blueprint_id", "seed_id", "host_module", "blend_algorithm_id", "blend_tempo_epochs"
    ]
    assert sig.parameters["blend_tempo_epochs"].default == 5
    assert sig.parameters["blend_algorithm_id"].default == "sigmoid"
    slot = SeedSlot("s", 8)
    state = slot.germinate("norm")
    assert state is slot.state and state.stage == SeedStage.GERMINATED
    assert state.blend_tempo_epochs == 5


@pytest.mark.req("T06.1", "T06.2", "T05.2")
@settings(max_examples=10, deadline=None)
@given(tempo=st.sampled_from([3, 5, 8]), algorithm=st.sampled_from(["linear", "sigmoid", "gated"]))
def test_germinate_stores_tempo_and_to_dict_writes_it(tempo: int, algorithm: str) -> None:
    from esper.kasmina.slot import SeedSlot

    slot = SeedSlot("s", 8)
    state = slot.germinate("norm", blend_algorithm_id=algorithm, blend_tempo_epochs=tempo)
    assert state.blend_tempo_epochs == tempo
    assert state.to_dict()["blend_tempo_epochs"] == tempo


@pytest.mark.req("T06.2")
@pytest.mark.parametrize("tempo", [3, 8])
def test_tempo_stored_at_germination_is_used_when_blending_starts(tempo: int) -> None:
    from esper.kasmina.slot import SeedSlot

    slot = SeedSlot("s", 8)
    slot.germinate("norm", blend_tempo_epochs=tempo)
    advance_to_blending(slot)
    assert slot.state is not None and slot.state.blending_steps_total == tempo


@pytest.mark.req("T05.3")
@pytest.mark.parametrize("tempo", [3, 5, 8])
def test_from_dict_restores_tempo_and_defaults_to_five(tempo: int) -> None:
    from esper.kasmina.slot import SeedSlot, SeedState

    slot = SeedSlot("s", 8)
    slot.germinate("norm", blend_tempo_epochs=tempo)
    assert slot.state is not None
    data = slot.state.to_dict()
    assert SeedState.from_dict(data).blend_tempo_epochs == tempo
    del data["blend_tempo_epochs"]
    assert SeedState.from_dict(data).blend_tempo_epochs == 5
