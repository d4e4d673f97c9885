"""Plan Task 14 file (`tests/leyline/test_factored_actions.py`), verbatim; only the req marks are added."""
import pytest
from hypothesis import given, strategies as st

from esper.leyline.factored_actions import (
    FactoredAction,
    BlueprintAction,
    BlendAction,
    TempoAction,
    LifecycleOp,
    NUM_BLUEPRINTS,
    NUM_TEMPO,
)


@pytest.mark.req("T14.1", "T02.1", "CHK.02.1", "CHK.14.1")
def test_tempo_action_enum():
    """TempoAction has expected values."""
    assert len(TempoAction) == 3
    assert TempoAction.FAST.value == 0
    assert TempoAction.STANDARD.value == 1
    assert TempoAction.SLOW.value == 2


@pytest.mark.req("T14.2", "T02.3", "CHK.02.3", "CHK.14.1")
def test_num_tempo_constant():
    """NUM_TEMPO matches enum length."""
    assert NUM_TEMPO == len(TempoAction)


@pytest.mark.req("T14.3", "T03.1", "T03.2", "T03.3", "CHK.03.1", "CHK.03.2", "CHK.03.3", "CHK.14.1")
@given(
    slot=st.integers(0, 2),
    blueprint=st.integers(0, NUM_BLUEPRINTS - 1),
    blend=st.integers(0, 2),
    tempo=st.integers(0, NUM_TEMPO - 1),
    op=st.integers(0, 3),
)
def test_factored_action_roundtrip(slot, blueprint, blend, tempo, op):
    """FactoredAction survives index conversion."""
    action = FactoredAction.from_indices(slot, blueprint, blend, tempo, op)
    indices = action.to_indices()
    assert indices == (slot, blueprint, blend, tempo, op)

    # Verify types
    assert isinstance(action.blueprint, BlueprintAction)
    assert isinstance(action.blend, BlendAction)
    assert isinstance(action.tempo, TempoAction)
    assert isinstance(action.op, LifecycleOp)
