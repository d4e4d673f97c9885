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

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=100)
# Long runs (e.g. the fuzz suite's >= 10,000 examples): HYPOTHESIS_PROFILE=thorough.
settings.register_profile("thorough", deadline=None, max_examples=500, print_blob=True)
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
