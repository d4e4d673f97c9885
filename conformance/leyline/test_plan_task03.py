"""Plan Task 3 verification snippet, verbatim (only imports and the req mark added)."""

import pytest

from esper.leyline.factored_actions import NUM_BLUEPRINTS, FactoredAction

pytestmark = pytest.mark.req("T03.2", "T03.3", "CHK.03.2", "CHK.03.3", "CHK.14.1")

from hypothesis import given, strategies as st

@given(
    slot=st.integers(0, 2),
    blueprint=st.integers(0, NUM_BLUEPRINTS - 1),
    blend=st.integers(0, 2),
    tempo=st.integers(0, 2),
    op=st.integers(0, 3),
)
def test_factored_action_roundtrip(slot, blueprint, blend, tempo, op):
    """Factored action survives index conversion."""
    action = FactoredAction.from_indices(slot, blueprint, blend, tempo, op)
    indices = action.to_indices()
    assert indices == (slot, blueprint, blend, tempo, op)
