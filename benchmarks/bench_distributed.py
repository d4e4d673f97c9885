"""Distributed throughput: env-epochs/s of one PPO batch on 1 and 2 gloo processes (issue 15, ISSUE.15.8).

Times the 2-process run; ``extra_info`` holds both rates and their ratio, measured back to back. For a figure
on a shared machine run ``python -m benchmarks.distributed_speedup`` (A/B alternating rounds, median ratio).
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.distributed_speedup import env_epochs_per_second

FIELDS: dict[str, object] = {"policy": "ppo", "task": "digits", "episodes": 4, "n_envs": 4, "max_epochs": 5, "seed": 0}


@pytest.mark.req("ISSUE.15.8")
def test_env_epochs_per_second_1_vs_2_processes(benchmark: BenchmarkFixture) -> None:
    if benchmark.disabled:  # the gate: tests/simic_training/test_distributed_benchmark.py runs the measurement
        pytest.skip("timing only (make bench); smoke-tested in tests/simic_training")
    one = env_epochs_per_second(1, FIELDS)
    two = benchmark.pedantic(lambda: env_epochs_per_second(2, FIELDS), rounds=1, iterations=1)
    benchmark.extra_info["env_epochs_per_second_1"] = one
    benchmark.extra_info["env_epochs_per_second_2"] = two
    benchmark.extra_info["speedup"] = two / one
    assert one > 0 and two > 0
