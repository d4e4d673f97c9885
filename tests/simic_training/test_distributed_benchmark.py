"""The distributed throughput measurement runs (its timings live in benchmarks/bench_distributed.py)."""

from __future__ import annotations

import math

import pytest

from benchmarks.distributed_speedup import env_epochs_per_second
from esper.simic.training import TrainingConfig

SMOKE = TrainingConfig(policy="ppo", task="digits", episodes=2, n_envs=2, max_epochs=1, seed=0)


@pytest.mark.req("ISSUE.15.8")
def test_env_epochs_per_second_on_two_processes_is_measured() -> None:
    rate = env_epochs_per_second(2, SMOKE)
    assert math.isfinite(rate) and rate > 0
