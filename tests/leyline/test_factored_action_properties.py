"""Properties of the factored action space: heads, index round trips, validation, enum tables."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import esper.leyline as leyline
from esper.leyline import (
    BLEND_ALGORITHM_IDS,
    HEAD_NAMES,
    HEAD_SIZES,
    NUM_BLENDS,
    NUM_BLUEPRINTS,
    NUM_OPS,
    NUM_SLOTS,
    NUM_TEMPO,
    TEMPO_TO_EPOCHS,
    TOPOLOGIES,
    TOPOLOGY_BLUEPRINTS,
    BlendAction,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    TempoAction,
    check_head_name,
    check_topology,
    head_sizes,
    tempo_epochs,
)
from esper.leyline import factored_actions as fa

ENUM_OF_HEAD = {"blueprint": BlueprintAction, "blend": BlendAction, "tempo": TempoAction, "op": LifecycleOp}
FIELD_OF_HEAD = {"slot": "slot_idx", "blueprint": "blueprint", "blend": "blend", "tempo": "tempo", "op": "op"}


@st.composite
def valid_indices(draw: st.DrawFn) -> tuple[int, tuple[int, ...]]:
    num_slots = draw(st.integers(1, 8))
    sizes = head_sizes(num_slots)
    return num_slots, tuple(draw(st.integers(0, sizes[h] - 1)) for h in HEAD_NAMES)


# --- HEAD_NAMES ---------------------------------------------------------------------------------------------------


@pytest.mark.req("T01.1", "T01.2", "CHK.01.1", "SYS.2.7")
def test_head_names_order_unique_and_exported() -> None:
    assert HEAD_NAMES == ("slot", "blueprint", "blend", "tempo", "op")
    assert isinstance(HEAD_NAMES, tuple)
    assert len(set(HEAD_NAMES)) == len(HEAD_NAMES)
    assert HEAD_NAMES.index("tempo") == HEAD_NAMES.index("op") - 1
    assert "HEAD_NAMES" in leyline.__all__
    namespace: dict[str, object] = {}
    exec("from esper.leyline import *", namespace)
    assert namespace["HEAD_NAMES"] is HEAD_NAMES


@pytest.mark.req("SYS.2.7", "DEC.leyline.3")
@given(num_slots=st.integers(1, 64))
def test_head_sizes_keyed_by_head_names(num_slots: int) -> None:
    sizes = head_sizes(num_slots)
    assert tuple(sizes) == HEAD_NAMES
    assert sizes == {
        "slot": num_slots,
        "blueprint": NUM_BLUEPRINTS,
        "blend": NUM_BLENDS,
        "tempo": NUM_TEMPO,
        "op": NUM_OPS,
    }
    assert HEAD_SIZES == head_sizes(NUM_SLOTS) == head_sizes()
    assert tuple(HEAD_SIZES) == HEAD_NAMES


@pytest.mark.req("SYS.2.7", "DEC.leyline.3")
@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "3", None])
def test_head_sizes_rejects_bad_num_slots(bad: object) -> None:
    error = ValueError if isinstance(bad, int) and not isinstance(bad, bool) else TypeError  # DEC.validation.1
    with pytest.raises(error, match="num_slots"):
        head_sizes(bad)  # type: ignore[arg-type]


@pytest.mark.req("SYS.2.7")
def test_check_head_name() -> None:
    for name in HEAD_NAMES:
        assert check_head_name(name) == name
    with pytest.raises(ValueError) as err:
        check_head_name("speed")
    assert "'speed'" in str(err.value)
    for name in HEAD_NAMES:
        assert name in str(err.value)


@pytest.mark.req("T03.1", "CHK.03.1", "SYS.2.7")
def test_factored_action_fields_follow_head_names() -> None:
    fields = dataclasses.fields(FactoredAction)
    assert [f.name for f in fields] == [FIELD_OF_HEAD[h] for h in HEAD_NAMES]
    assert FactoredAction.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert "__slots__" in FactoredAction.__dict__
    hints = {f.name: f.type for f in fields}
    assert hints["tempo"] == "TempoAction"  # postponed annotations: the declared type is the enum


# --- index round trip -------------------------------------------------------------------------------------------------


@pytest.mark.req("T03.2", "T03.3", "CHK.03.2", "CHK.03.3", "CHK.14.1", "DEC.leyline.3")
@given(valid_indices())
def test_index_round_trip_every_head(case: tuple[int, tuple[int, ...]]) -> None:
    num_slots, indices = case
    action = FactoredAction.from_indices(*indices, num_slots=num_slots)
    assert action.to_indices() == indices
    assert all(type(i) is int for i in action.to_indices())
    for head, idx in zip(HEAD_NAMES, indices, strict=True):
        value = getattr(action, FIELD_OF_HEAD[head])
        if head in ENUM_OF_HEAD:
            assert type(value) is ENUM_OF_HEAD[head]
        assert value == idx
    assert FactoredAction.from_indices(*action.to_indices(), num_slots=num_slots) == action
    assert hash(FactoredAction.from_indices(*indices, num_slots=num_slots)) == hash(action)


@pytest.mark.req("T03.2", "DEC.leyline.2")
@given(valid_indices())
def test_from_indices_accepts_integer_like_indices(case: tuple[int, tuple[int, ...]]) -> None:
    num_slots, indices = case
    expected = FactoredAction.from_indices(*indices, num_slots=num_slots)
    as_numpy = [np.int64(i) for i in indices]
    as_tensor = [torch.tensor(i) for i in indices]
    assert FactoredAction.from_indices(*as_numpy, num_slots=num_slots) == expected
    assert FactoredAction.from_indices(*as_tensor, num_slots=num_slots) == expected
    as_enums = (expected.slot_idx, expected.blueprint, expected.blend, expected.tempo, expected.op)
    assert FactoredAction.from_indices(*as_enums, num_slots=num_slots) == expected


# --- validation ---------------------------------------------------------------------------------------------------------

NON_INTEGERS = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.none(),
    st.just(1.0),
    st.just([1]),
)


@st.composite
def invalid_index(draw: st.DrawFn) -> tuple[int, str, object, int]:
    """(num_slots, head, bad value, head size) for one head; other heads stay valid."""
    num_slots = draw(st.integers(1, 6))
    head = draw(st.sampled_from(HEAD_NAMES))
    size = head_sizes(num_slots)[head]
    bad = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=size), NON_INTEGERS))
    return num_slots, head, bad, size


@pytest.mark.req("DEC.leyline.2", "DEC.leyline.3")
@given(invalid_index())
def test_bad_index_rejected_naming_head_and_range(case: tuple[int, str, object, int]) -> None:
    num_slots, head, bad, size = case
    indices: list[object] = [0] * len(HEAD_NAMES)
    indices[HEAD_NAMES.index(head)] = bad
    error = ValueError if isinstance(bad, int) and not isinstance(bad, bool) else TypeError  # DEC.validation.1
    with pytest.raises(error) as err:
        FactoredAction.from_indices(*indices, num_slots=num_slots)  # type: ignore[arg-type]
    message = str(err.value)
    assert message.startswith(f"{head} index"), message
    assert f"[0, {size - 1}]" in message


@pytest.mark.req("DEC.leyline.3")
@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-2, ValueError), (False, TypeError), (3.0, TypeError), ("3", TypeError)])
def test_from_indices_rejects_bad_num_slots(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="num_slots"):
        FactoredAction.from_indices(0, 0, 0, 0, 0, num_slots=bad)  # type: ignore[arg-type]


@pytest.mark.req("DEC.leyline.4")
@pytest.mark.parametrize("head", ["blueprint", "blend", "tempo", "op"])
@pytest.mark.parametrize("wrong", [0, "wrong-enum"])
def test_constructor_rejects_untyped_fields(head: str, wrong: str) -> None:
    kwargs: dict[str, object] = {
        "slot_idx": 0,
        "blueprint": BlueprintAction.NORM,
        "blend": BlendAction.SIGMOID,
        "tempo": TempoAction.STANDARD,
        "op": LifecycleOp.GERMINATE,
    }
    if wrong == "wrong-enum":  # an IntEnum of another head with the same integer value
        other = next(e for h, e in ENUM_OF_HEAD.items() if h != head)
        kwargs[head] = other(0)
    else:
        kwargs[head] = 0
    with pytest.raises(TypeError) as err:
        FactoredAction(**kwargs)  # type: ignore[arg-type]
    assert str(err.value).startswith(head)
    assert ENUM_OF_HEAD[head].__name__ in str(err.value)


@pytest.mark.req("DEC.leyline.4")
@pytest.mark.parametrize("bad_slot", [-1, True, 1.0, "0", None])
def test_constructor_rejects_bad_slot_idx(bad_slot: object) -> None:
    error = ValueError if bad_slot == -1 else TypeError  # DEC.validation.1
    with pytest.raises(error, match="slot_idx"):
        FactoredAction(bad_slot, BlueprintAction.NOOP, BlendAction.LINEAR, TempoAction.FAST, LifecycleOp.WAIT)  # type: ignore[arg-type]


@pytest.mark.req("DEC.leyline.4")
def test_factored_action_is_immutable() -> None:
    action = FactoredAction.from_indices(1, 3, 1, 2, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        action.tempo = TempoAction.FAST  # type: ignore[misc]
    assert {action: 1}[FactoredAction.from_indices(1, 3, 1, 2, 1)] == 1


# --- enum tables ----------------------------------------------------------------------------------------------------


@pytest.mark.req("T02.1", "T02.2", "T02.3", "CHK.02.1", "CHK.02.2", "CHK.02.3", "DEC.leyline.11")
def test_tempo_tables_in_sync() -> None:
    assert [(t.name, t.value) for t in TempoAction] == [("FAST", 0), ("STANDARD", 1), ("SLOW", 2)]
    assert set(TEMPO_TO_EPOCHS) == set(TempoAction)
    assert list(TEMPO_TO_EPOCHS.values()) == [3, 5, 8]
    epochs = [TEMPO_TO_EPOCHS[t] for t in TempoAction]
    assert epochs == sorted(epochs) and len(set(epochs)) == len(epochs)  # faster tempo = shorter ramp
    assert NUM_TEMPO == len(TempoAction) == len(TEMPO_TO_EPOCHS) == 3
    for tempo in TempoAction:
        assert tempo_epochs(tempo) == tempo_epochs(int(tempo)) == TEMPO_TO_EPOCHS[tempo]
        action = FactoredAction.from_indices(0, 0, 0, int(tempo), 0)
        assert action.tempo_epochs == TEMPO_TO_EPOCHS[tempo]
    for bad in (-1, 3, True, 1.0):
        error = ValueError if isinstance(bad, int) and not isinstance(bad, bool) else TypeError  # DEC.validation.1
        with pytest.raises(error, match=r"^tempo index"):
            tempo_epochs(bad)  # type: ignore[arg-type]


@pytest.mark.req("T02.4", "T01.2")
def test_tempo_names_exported() -> None:
    for name in ("TempoAction", "TEMPO_TO_EPOCHS", "NUM_TEMPO"):
        assert name in fa.__all__
        assert name in leyline.__all__
        assert getattr(leyline, name) is getattr(fa, name)
    for name in leyline.__all__:
        assert hasattr(leyline, name), name


@pytest.mark.req("SYS.2.3", "SYS.2.6", "DEC.leyline.11")
def test_op_and_blend_enums() -> None:
    assert [(o.name, o.value) for o in LifecycleOp] == [("WAIT", 0), ("GERMINATE", 1), ("CULL", 2), ("FOSSILIZE", 3)]
    assert NUM_OPS == len(LifecycleOp) == 4
    assert [(b.name, b.value) for b in BlendAction] == [("LINEAR", 0), ("SIGMOID", 1), ("GATED", 2)]
    assert NUM_BLENDS == len(BlendAction) == 3
    assert BLEND_ALGORITHM_IDS == ("linear", "sigmoid", "gated")
    assert tuple(b.algorithm_id for b in BlendAction) == BLEND_ALGORITHM_IDS
    action = FactoredAction.from_indices(2, int(BlueprintAction.CONV_HEAVY), int(BlendAction.GATED), 0, 1)
    assert (action.blueprint_id, action.blend_algorithm_id) == ("conv_heavy", "gated")


DESIGN_BLUEPRINTS = (
    "NOOP CONV_LIGHT ATTENTION NORM DEPTHWISE BOTTLENECK CONV_SMALL CONV_HEAVY LORA LORA_LARGE MLP_SMALL MLP FLEX_ATTENTION"
).split()
DESIGN_TOPOLOGY = {
    "cnn": {"NOOP", "NORM", "ATTENTION", "CONV_LIGHT", "DEPTHWISE", "BOTTLENECK", "CONV_SMALL", "CONV_HEAVY"},
    "transformer": {"NOOP", "NORM", "ATTENTION", "LORA", "LORA_LARGE", "MLP_SMALL", "MLP", "FLEX_ATTENTION"},
}


@pytest.mark.req("SYS.2.4")
def test_blueprint_enum_matches_design_note() -> None:
    assert [b.name for b in BlueprintAction] == DESIGN_BLUEPRINTS
    assert [b.value for b in BlueprintAction] == list(range(13))
    assert NUM_BLUEPRINTS == 13


@pytest.mark.req("SYS.2.4")
@given(st.sampled_from(list(BlueprintAction)))
def test_blueprint_id_round_trip(blueprint: BlueprintAction) -> None:
    blueprint_id = blueprint.blueprint_id
    assert re.fullmatch(r"[a-z_]+", blueprint_id)
    assert blueprint_id == blueprint.name.lower()
    assert BlueprintAction.from_blueprint_id(blueprint_id) is blueprint
    assert FactoredAction.from_indices(0, int(blueprint), 0, 0, 0).blueprint_id == blueprint_id


@pytest.mark.req("SYS.2.4")
@given(st.text(max_size=12).filter(lambda s: s.upper() not in BlueprintAction.__members__))
def test_unknown_blueprint_id_lists_valid_ids(blueprint_id: str) -> None:
    with pytest.raises(ValueError) as err:
        BlueprintAction.from_blueprint_id(blueprint_id)
    assert repr(blueprint_id) in str(err.value)
    for b in BlueprintAction:
        assert repr(b.blueprint_id) in str(err.value)


@pytest.mark.req("SYS.2.4")
def test_non_string_blueprint_id_is_type_error() -> None:
    with pytest.raises(TypeError, match="blueprint_id"):
        BlueprintAction.from_blueprint_id(3)  # type: ignore[arg-type]


@pytest.mark.req("SYS.2.5")
def test_topology_sets_match_design_note() -> None:
    assert TOPOLOGIES == ("cnn", "transformer")
    assert {t: {b.name for b in bps} for t, bps in TOPOLOGY_BLUEPRINTS.items()} == DESIGN_TOPOLOGY
    assert set(TOPOLOGY_BLUEPRINTS["cnn"]) | set(TOPOLOGY_BLUEPRINTS["transformer"]) == set(BlueprintAction)
    shared = TOPOLOGY_BLUEPRINTS["cnn"] & TOPOLOGY_BLUEPRINTS["transformer"]
    assert shared == {BlueprintAction.NOOP, BlueprintAction.NORM, BlueprintAction.ATTENTION}
    for topology in TOPOLOGIES:
        assert check_topology(topology) == topology
        assert isinstance(TOPOLOGY_BLUEPRINTS[topology], frozenset)
    with pytest.raises(ValueError) as err:
        check_topology("rnn")
    assert "'rnn'" in str(err.value) and "'cnn'" in str(err.value) and "'transformer'" in str(err.value)


@settings(max_examples=25)
@pytest.mark.req("T03.1", "CHK.03.1")
@given(valid_indices())
def test_tempo_field_is_typed_enum(case: tuple[int, tuple[int, ...]]) -> None:
    num_slots, indices = case
    action = FactoredAction.from_indices(*indices, num_slots=num_slots)
    assert type(action.tempo) is TempoAction
    assert action.tempo is TempoAction(indices[HEAD_NAMES.index("tempo")])
