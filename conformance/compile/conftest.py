"""Every compile test starts and ends with dynamo's caches empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.compile.checker import reset


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> Iterator[None]:
    reset()
    yield
    reset()
