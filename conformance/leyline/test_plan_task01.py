"""Plan Task 1 verification snippet, verbatim (only imports and the req mark added)."""

import pytest

pytestmark = pytest.mark.req("T01.1", "T01.2", "CHK.01.1")


def test_head_names_includes_tempo():
    from esper.leyline import HEAD_NAMES
    assert "tempo" in HEAD_NAMES
    assert HEAD_NAMES.index("tempo") == 3  # Before "op"
