"""End-to-end throughput (issue 12): env-epochs per second on digits for 1 and 4 envs, and where the time goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.common import bench_device, is_smoke, median_seconds, pedantic, record, report
from esper.simic.training import TrainingConfig, run_training

pytestmark = pytest.mark.req("ISSUE.12.2")

EPOCHS = 5


@pytest.mark.parametrize("n_envs", [1, 4])
def test_env_epochs_per_second_digits(benchmark: BenchmarkFixture, tmp_path: Path, n_envs: int) -> None:
    """One PPO batch (n_envs episodes x 5 epochs, update included) on the digits task."""
    device = bench_device()
    config = TrainingConfig(
        policy="ppo", task="digits", episodes=n_envs, n_envs=n_envs, max_epochs=EPOCHS, n_minibatches=1, seed=0,
        device=str(device),
    )
    runs = iter(range(10_000))

    def one_batch() -> dict[str, float]:
        return run_training(config, tmp_path / f"run{next(runs)}").seconds

    seconds = pedantic(benchmark, one_batch, rounds=3, warmup_rounds=1)
    env_epochs = n_envs * EPOCHS
    record(benchmark, task="digits", envs=n_envs, epochs=EPOCHS, env_epochs=env_epochs)
    benchmark.extra_info["policy_share"] = seconds["policy"] / seconds["total"]
    benchmark.extra_info["ppo_update_share"] = seconds["ppo_update"] / seconds["total"]
    assert seconds["total"] > 0
    if not is_smoke(benchmark):
        rate = env_epochs / median_seconds(benchmark)
        report(benchmark, "env_epochs_per_second", rate, f"training on digits, {n_envs} envs: {rate:.1f} env-epochs/s "
               f"(policy {seconds['policy'] / seconds['total']:.0%}, PPO update "
               f"{seconds['ppo_update'] / seconds['total']:.0%} of the wall time)")
