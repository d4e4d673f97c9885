"""Plan Task 11.3: Host.germinate_seed accepts the tempo and forwards it to the slot."""

from __future__ import annotations

import inspect

import pytest

from conformance.adapter import ConformanceAdapter


@pytest.mark.req("T11.3.1", "CHK.11.1")
def test_germinate_seed_signature() -> None:
    from esper.kasmina.host import Host

    sig = inspect.signature(Host.germinate_seed)
    assert list(sig.parameters)[:6] == ["self", "blueprint_id", "seed_id", "slot", "blend_algorithm_id",
                                        "blend_tempo_epochs"]
    assert sig.parameters["blend_tempo_epochs"].default == 5
    assert sig.parameters["slot"].default is None


@pytest.mark.req("T11.3.1", "CHK.11.2")
@pytest.mark.parametrize("tempo", [3, 5, 8])
def test_germinate_seed_forwards_tempo(adapter: ConformanceAdapter, tempo: int) -> None:
    from esper.kasmina.slot import SeedStage

    host = adapter.make_host()
    state = host.germinate_seed("norm", "seed-a", slot=1, blend_algorithm_id="linear", blend_tempo_epochs=tempo)
    assert state.blend_tempo_epochs == tempo
    assert state.stage == SeedStage.GERMINATED
    default = host.germinate_seed("norm", "seed-b", slot=0)
    assert default.blend_tempo_epochs == 5


@pytest.mark.req("T11.3.2")
def test_slot_argument_picks_the_slot(adapter: ConformanceAdapter) -> None:
    host = adapter.make_host()
    first = host.germinate_seed("norm", "a", slot=2, blend_tempo_epochs=3)
    second = host.germinate_seed("norm", "b", slot=None, blend_tempo_epochs=8)  # None: an empty slot
    third = host.germinate_seed("norm", "c", blend_tempo_epochs=5)
    ids = {first.slot_id, second.slot_id, third.slot_id}
    assert len(ids) == 3, f"three seeds must land in three different slots, got slot ids {ids}"
    with pytest.raises((ValueError, RuntimeError)):
        host.germinate_seed("norm", "d")  # no empty slot left
