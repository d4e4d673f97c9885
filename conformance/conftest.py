"""Fixtures shared by conformance tests (the spec plugin itself is registered by the root conftest)."""

from __future__ import annotations

import pytest

from conformance.spec_catalogue import Catalogue, load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The validated requirement catalogue (spec/requirements/*.toml)."""
    return load_catalogue()
