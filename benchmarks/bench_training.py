"""End-to-end throughput: env-epochs per second on digits for 1 and 4 envs, and where the wall time goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from esper.simic.training import TrainingConfig, run_training

EPOCHS = 5


@pytest.mark.parametrize("n_envs", [1, 4])
def test_env_epochs_per_second_digits(benchmark: BenchmarkFixture, tmp_path: Path, n_envs: int) -> None:
    """One PPO batch (n_envs episodes x 5 epochs, update included) on the digits task."""
    config = TrainingConfig(
        policy="ppo", task="digits", episodes=n_envs, n_envs=n_envs, max_epochs=EPOCHS, n_minibatches=1, seed=0
    )
    runs = iter(range(10_000))

    def one_batch() -> dict[str, float]:
        return run_training(config, tmp_path / f"run{next(runs)}").seconds

    seconds = benchmark.pedantic(one_batch, rounds=3, iterations=1, warmup_rounds=1)
    env_epochs = n_envs * EPOCHS
    benchmark.extra_info["env_epochs"] = env_epochs
    benchmark.extra_info["env_epochs_per_second"] = env_epochs / seconds["total"]
    benchmark.extra_info["policy_share"] = seconds["policy"] / seconds["total"]
    benchmark.extra_info["ppo_update_share"] = seconds["ppo_update"] / seconds["total"]
    assert seconds["total"] > 0
