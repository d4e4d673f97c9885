"""Plan Tasks 5-6: the tempo is accepted by germinate, stored on the slot and in SeedState, and serialised."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given, settings, strategies as st

from esper.kasmina.slot import SeedSlot, SeedStage, SeedState


@pytest.mark.req("T05.1", "CHK.05.1")
def test_seed_state_fields_and_defaults() -> None:
    params = dataclasses.fields(SeedState)
    names = [f.name for f in params]
    for name in ("seed_id", "blueprint_id", "slot_id", "stage", "previous_stage", "blend_algorithm_id",
                 "blend_tempo_epochs", "blending_steps_total", "blending_steps_done", "alpha", "metrics",
                 "stage_history"):
        assert name in names
    assert all(f.kw_only for f in params)
    assert hasattr(SeedState, "__slots__")
    with pytest.raises(TypeError):
        SeedState("a", "norm")  # type: ignore[misc]  # keyword-only
    state = SeedState(seed_id="a", blueprint_id="norm")
    assert state.blend_tempo_epochs == 5
    assert state.slot_id == ""
    assert state.stage == SeedStage.DORMANT and state.previous_stage == SeedStage.UNKNOWN


@pytest.mark.req("T06.1", "CHK.06.1")
def test_germinate_signature() -> None:
    sig = inspect.signature(SeedSlot.germinate)
    assert list(sig.parameters) == ["self", "blueprint_id", "seed_id", "host_module", "blend_algorithm_id",
                                    "blend_tempo_epochs"]
    assert sig.parameters["blend_tempo_epochs"].default == 5
    assert sig.parameters["blend_algorithm_id"].default == "sigmoid"
    slot = SeedSlot("s", 8)
    state = slot.germinate("norm")
    assert state is slot.state and state.stage == SeedStage.GERMINATED
    assert state.blend_tempo_epochs == 5
    assert state.stage_history == [SeedStage.DORMANT, SeedStage.GERMINATED]


@pytest.mark.req("T06.1", "T06.2", "T05.2")
@settings(max_examples=20, deadline=None)
@given(tempo=st.integers(1, 12), algorithm=st.sampled_from(["linear", "sigmoid", "gated"]))
def test_germinate_stores_tempo(tempo: int, algorithm: str) -> None:
    slot = SeedSlot("s", 8)
    state = slot.germinate("conv_small", blend_algorithm_id=algorithm, blend_tempo_epochs=tempo)
    assert state.blend_tempo_epochs == tempo
    assert slot._blend_tempo_epochs == tempo
    assert slot._blend_algorithm_id == algorithm
    assert state.blend_algorithm_id == algorithm
    data = state.to_dict()
    assert data["blend_tempo_epochs"] == tempo
    assert data["stage"] == "GERMINATED"
    assert isinstance(data["metrics"], dict)


@pytest.mark.req("T05.3")
def test_from_dict_defaults_tempo_to_five() -> None:
    slot = SeedSlot("s", 8)
    slot.germinate("norm", blend_tempo_epochs=8)
    assert slot.state is not None
    data = slot.state.to_dict()
    assert SeedState.from_dict(data).blend_tempo_epochs == 8
    del data["blend_tempo_epochs"]
    assert SeedState.from_dict(data).blend_tempo_epochs == 5
