"""SeedState.to_dict / from_dict: lossless for reachable states, strict about malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from esper.kasmina import SeedSlot, SeedStage, SeedState, blueprint_names
from esper.leyline import BLEND_ALGORITHM_IDS, InvalidTransitionError

OPS = st.lists(st.tuples(st.sampled_from(["step", "good", "cull", "fossilize", "cf"]), st.floats(-2.0, 3.0)),
               max_size=30)


def _reachable_state(blueprint: str, algorithm: str, tempo: int, ops: list[tuple[str, float]]) -> SeedState:
    slot = SeedSlot("r0c1", 4)
    state = slot.germinate(blueprint, blend_algorithm_id=algorithm, blend_tempo_epochs=tempo)
    for op, value in ops:
        if slot.state is None:
            break
        m = slot.state.metrics
        try:
            if op == "step":
                slot.step_epoch()
            elif op == "good":
                m.record_accuracy(min(100.0, m.current_val_accuracy + abs(value)))
                m.seed_gradient_norm_ratio = abs(value) / 3
                slot.step_epoch()
            elif op == "cull":
                slot.cull("test")
            elif op == "fossilize":
                slot.fossilize()
            else:
                m.record_counterfactual(value)
        except InvalidTransitionError:
            pass
    return state


@pytest.mark.req("T05.3", "T05.2")
@settings(max_examples=40, deadline=None)
@given(blueprint=st.sampled_from(blueprint_names("cnn")), algorithm=st.sampled_from(BLEND_ALGORITHM_IDS),
       tempo=st.integers(1, 8), ops=OPS)
def test_round_trip(blueprint: str, algorithm: str, tempo: int, ops: list[tuple[str, float]]) -> None:
    state = _reachable_state(blueprint, algorithm, tempo, ops)
    data = state.to_dict()
    restored = SeedState.from_dict(data)
    assert restored == state
    assert SeedState.from_dict(json.loads(json.dumps(data))) == state
    assert restored.to_dict() == data
    assert data["stage"] == state.stage.name and data["stage_history"] == [s.name for s in state.stage_history]


def _sample() -> dict[str, object]:
    return _reachable_state("norm", "gated", 3, [("good", 1.0)] * 6 + [("cf", 2.0)]).to_dict()


REQUIRED = ["seed_id", "blueprint_id", "slot_id", "stage", "previous_stage", "blend_algorithm_id",
            "blending_steps_total", "blending_steps_done", "alpha", "metrics", "stage_history"]


@pytest.mark.req("ISSUE.3.2")
@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field_is_named(field: str) -> None:
    data = _sample()
    del data[field]
    with pytest.raises(ValueError, match=field):
        SeedState.from_dict(data)


@pytest.mark.req("ISSUE.3.2")
@pytest.mark.parametrize("field, bad", [
    ("seed_id", 3), ("blueprint_id", None), ("slot_id", 1.0), ("blending_steps_total", "3"),
    ("blending_steps_done", True), ("alpha", "0.5"), ("blend_tempo_epochs", 2.5), ("metrics", [1]),
    ("stage_history", "TRAINING"), ("cull_reason", 0),
])
def test_mistyped_field_is_named(field: str, bad: object) -> None:
    data = _sample()
    data[field] = bad
    with pytest.raises(TypeError, match=field):
        SeedState.from_dict(data)


@pytest.mark.req("ISSUE.3.2", "DEC.kasmina.14")
@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.update(stage="SHADOWING"), "stage"),
    (lambda d: d.update(stage=5), "stage"),
    (lambda d: d.update(previous_stage="nope"), "previous_stage"),
    (lambda d: d.update(blend_algorithm_id="cosine"), "blend_algorithm_id"),
    (lambda d: d.update(blend_tempo_epochs=0), "blend_tempo_epochs"),
    (lambda d: d.update(alpha=1.5), "alpha"),
    (lambda d: d.update(alpha=float("nan")), "alpha"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(stage_history=["DORMANT", "BLENDING"], stage="BLENDING"), "illegal transition"),
    (lambda d: d.update(stage_history=["DORMANT", "GERMINATED"]), "stage_history"),
    (lambda d: d.update(blending_steps_done=99), "blending_steps_done"),
    (lambda d: d["metrics"].pop("current_val_accuracy"), "current_val_accuracy"),
    (lambda d: d["metrics"].update(current_val_accuracy=101.0), "current_val_accuracy"),
    (lambda d: d["metrics"].update(epochs_total=-1), "epochs_total"),
])
def test_invalid_values_are_named(mutate: object, match: str) -> None:
    data = _sample()
    assert callable(mutate)
    mutate(data)
    with pytest.raises((ValueError, TypeError), match=match):
        SeedState.from_dict(data)


@pytest.mark.req("ISSUE.3.2", "DEC.kasmina.14")
def test_stage_accepts_int_values_and_rejects_non_dicts() -> None:
    data = _sample()
    data["stage"] = int(SeedStage[str(data["stage"])])
    assert SeedState.from_dict(data).stage == SeedStage[str(_sample()["stage"])]
    with pytest.raises(TypeError, match="SeedState must be a dict"):
        SeedState.from_dict([("seed_id", "x")])
