"""Policy hot paths (issue 12): the PPO update at three shapes, batched get_action vs single calls, replay."""

from __future__ import annotations

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.common import (
    OBS_DIM,
    UPDATE_SHAPES,
    UpdateShape,
    all_valid_masks,
    bench_device,
    filled_buffer,
    is_smoke,
    make_agent,
    median_seconds,
    paired_medians,
    pedantic,
    record,
    report,
    rerun_update,
    synchronize,
)
from esper.leyline import HEAD_NAMES

pytestmark = pytest.mark.req("ISSUE.12.2")


@pytest.mark.parametrize("shape", UPDATE_SHAPES, ids=[s.id for s in UPDATE_SHAPES])
def test_ppo_update(benchmark: BenchmarkFixture, shape: UpdateShape) -> None:
    """One PPO update (4 epochs) on a finished rollout; extra_info has samples/s (env steps x epochs / s)."""
    agent = make_agent(shape, bench_device())
    buffer = filled_buffer(agent, shape.envs, shape.steps)
    rounds = 3 if shape.envs * shape.steps > 1000 else 5
    metrics = pedantic(benchmark, lambda: rerun_update(agent, buffer), rounds=rounds, warmup_rounds=1)
    assert metrics["updates_applied"] == 4 * shape.minibatches
    record(benchmark, envs=shape.envs, steps=shape.steps, minibatches=shape.minibatches, obs_dim=OBS_DIM,
           ppo_epochs=4, samples=shape.samples)
    if not is_smoke(benchmark):
        median = median_seconds(benchmark)
        rate = shape.samples / median
        report(benchmark, "samples_per_s", rate, f"PPO update {shape.id}: {rate:,.0f} samples/s (median {median:.4f} s)")


@pytest.mark.parametrize("envs", [1, 4, 16])
def test_get_action_batched_vs_single(benchmark: BenchmarkFixture, envs: int) -> None:
    """One batched get_action for ``envs`` envs (timed) and, side by side, ``envs`` single-env calls."""
    agent = make_agent(UPDATE_SHAPES[0], bench_device())
    device = agent.device
    obs = torch.randn(envs, OBS_DIM, device=device)
    hidden = agent.initial_hidden(envs)
    masks = all_valid_masks(agent, envs)
    singles = [
        (obs[i : i + 1], (hidden[0][i : i + 1], hidden[1][i : i + 1]), {n: m[i : i + 1] for n, m in masks.items()})
        for i in range(envs)
    ]

    def batched() -> object:
        return agent.get_action(obs, hidden, masks)

    def single_calls() -> object:
        return [agent.get_action(o, h, m) for o, h, m in singles]

    actions, _, _, _ = benchmark(batched)
    synchronize(device)
    assert set(actions) == set(HEAD_NAMES) and actions["op"].shape == (envs,)
    record(benchmark, envs=envs, obs_dim=OBS_DIM)
    rounds = 1 if is_smoke(benchmark) else 21
    batched_s, singles_s = paired_medians(batched, single_calls, rounds=rounds, inner=3)
    ratio = singles_s / batched_s
    report(benchmark, "singles_over_batched", ratio, f"get_action, {envs} envs: batched call {ratio:.2f}x faster than "
           f"{envs} single calls ({batched_s * 1e3:.3f} ms vs {singles_s * 1e3:.3f} ms)")


def test_evaluate_actions_sequences(benchmark: BenchmarkFixture) -> None:
    """Forward replay of 4 x 25 stored steps (fused path) and, side by side, the unrolled LSTMCell path."""
    agent = make_agent(UPDATE_SHAPES[0], bench_device())
    net = agent.network
    envs, steps, device = 4, 25, agent.device
    obs, masks = torch.randn(envs, steps, OBS_DIM, device=device), all_valid_masks(agent, envs, steps)
    actions = {n: torch.full((envs, steps), 1 if n == "blueprint" else 0, device=device) for n in HEAD_NAMES}

    def replay() -> object:
        return net.evaluate_actions(obs, actions, None, masks, check_values=False)

    def replay_cell_loop() -> object:
        net.fused_replay = False
        try:
            return replay()
        finally:
            net.fused_replay = True

    _, _, values = benchmark(replay)
    assert values.shape == (envs, steps)
    record(benchmark, envs=envs, steps=steps, obs_dim=OBS_DIM)
    fused_s, loop_s = paired_medians(replay, replay_cell_loop, rounds=1 if is_smoke(benchmark) else 21)
    ratio = loop_s / fused_s
    report(benchmark, "loop_over_fused", ratio, f"evaluate_actions 4x25 forward: fused {ratio:.2f}x faster than the "
           f"LSTMCell loop ({fused_s * 1e3:.3f} ms vs {loop_s * 1e3:.3f} ms)")
