"""Plan Tasks 1-3 and 12 beyond the verbatim snippets: exports, the typed FactoredAction and SeedTelemetry."""

from __future__ import annotations

import dataclasses
import enum
import importlib

import pytest


@pytest.mark.req("T01.1", "T01.2", "CHK.01.1")
def test_head_names_is_exported_and_ordered() -> None:
    leyline = importlib.import_module("esper.leyline")
    assert "HEAD_NAMES" in leyline.__all__
    assert leyline.HEAD_NAMES == ("slot", "blueprint", "blend", "tempo", "op")


@pytest.mark.req("T02.4")
def test_tempo_names_are_exported_and_re_exported() -> None:
    fa = importlib.import_module("esper.leyline.factored_actions")
    leyline = importlib.import_module("esper.leyline")
    for name in ("TempoAction", "TEMPO_TO_EPOCHS", "NUM_TEMPO"):
        assert name in fa.__all__, name
        assert getattr(leyline, name) is getattr(fa, name), name


@pytest.mark.req("T02.1", "T02.2", "CHK.02.2")
def test_tempo_enum_is_an_int_enum_mapped_to_epochs() -> None:
    from esper.leyline.factored_actions import TEMPO_TO_EPOCHS, TempoAction

    assert issubclass(TempoAction, enum.IntEnum)
    assert [(t.name, t.value) for t in TempoAction] == [("FAST", 0), ("STANDARD", 1), ("SLOW", 2)]
    assert dict(TEMPO_TO_EPOCHS) == {TempoAction.FAST: 3, TempoAction.STANDARD: 5, TempoAction.SLOW: 8}


@pytest.mark.req("T03.1", "CHK.03.1")
def test_factored_action_is_frozen_with_a_typed_tempo_field() -> None:
    from esper.leyline.factored_actions import FactoredAction, TempoAction

    fields = [f.name for f in dataclasses.fields(FactoredAction)]
    assert fields[:5] == ["slot_idx", "blueprint", "blend", "tempo", "op"]
    action = FactoredAction.from_indices(1, 1, 2, 2, 1)
    assert action.tempo is TempoAction.SLOW
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(action, "tempo", TempoAction.FAST)
    with pytest.raises(ValueError):
        FactoredAction.from_indices(0, 0, 0, 3, 0)  # no fourth tempo


@pytest.mark.req("T12.1", "CHK.12.1")
def test_seed_telemetry_has_tempo_fields() -> None:
    from esper.leyline.telemetry import SeedTelemetry

    fields = {f.name: f for f in dataclasses.fields(SeedTelemetry)}
    assert fields["blend_tempo_epochs"].default == 5
    assert fields["blending_velocity"].default == 0.0
