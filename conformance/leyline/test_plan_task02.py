"""Plan Task 2 verification snippet, verbatim (only the import, moved into the test, and the req mark added)."""

import pytest

pytestmark = pytest.mark.req("T02.1", "T02.2", "T02.3", "CHK.02.1", "CHK.02.2", "CHK.02.3")


def test_tempo_action_values():
    from esper.leyline.factored_actions import NUM_TEMPO, TEMPO_TO_EPOCHS, TempoAction
    assert len(TempoAction) == 3
    assert NUM_TEMPO == 3
    assert TEMPO_TO_EPOCHS[TempoAction.STANDARD] == 5
    assert TEMPO_TO_EPOCHS[TempoAction.FAST] == 3
    assert TEMPO_TO_EPOCHS[TempoAction.SLOW] == 8
