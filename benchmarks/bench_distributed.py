"""Distributed throughput: env-epochs/s of one PPO batch on 1 and 2 gloo processes (issue 15, ISSUE.15.8).

Times the 2-process run; ``extra_info`` holds both rates and their ratio, measured back to back. For a figure
on a shared machine run ``python -m benchmarks.distributed_speedup`` (A/B alternating rounds, median ratio, and
the machine's parallel ceiling at the same moment).
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.common import is_smoke, pedantic, record, report
from benchmarks.distributed_speedup import env_epochs_per_second
from esper.simic.training import TrainingConfig

CONFIG = TrainingConfig(policy="ppo", task="digits", episodes=4, n_envs=4, max_epochs=5, seed=0)


@pytest.mark.req("ISSUE.15.8")
def test_env_epochs_per_second_1_vs_2_processes(benchmark: BenchmarkFixture) -> None:
    if is_smoke(benchmark):  # the gate: tests/simic_training/test_distributed_benchmark.py runs the measurement
        pytest.skip("timing only (make bench); the measurement is smoke-tested in tests/simic_training")
    one = env_epochs_per_second(1, CONFIG)
    two = pedantic(benchmark, lambda: env_epochs_per_second(2, CONFIG), rounds=1)
    record(benchmark, envs=4, epochs=5, processes=2, env_epochs_per_second_1=one, env_epochs_per_second_2=two)
    report(benchmark, "speedup", two / one, f"distributed: 2 vs 1 gloo processes {two:.2f} / {one:.2f} env-epochs/s = {two / one:.2f}x")
