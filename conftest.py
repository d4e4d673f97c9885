"""Root pytest configuration: hypothesis profiles, per-test seeding and the spec-coverage plugin."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import settings

pytest_plugins = ["conformance.plugin"]

# HYPOTHESIS_PROFILE selects one (README, "Hypothesis profiles"): `ci` is the gate's (derandomized, 50 examples),
# `dev` the default for local runs, `thorough` for release checks and new properties (1000 examples).
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.register_profile("thorough", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

TEST_SEED = 0

# Tests run in parallel (xdist) on small machines: one intra-op thread per worker avoids OpenMP
# oversubscription, which slowed tiny-model training by two orders of magnitude under load.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_everything() -> Iterator[None]:
    """Every test starts from the same RNG state (python, numpy, torch)."""
    random.seed(TEST_SEED)
    np.random.seed(TEST_SEED)
    torch.manual_seed(TEST_SEED)
    yield
