"""Policy hot paths: batched get_action (one RL step), evaluate_actions over sequences, one PPO update."""

from __future__ import annotations

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from esper.leyline import HEAD_NAMES, LifecycleOp
from esper.simic.agent import PPOAgent, PPOConfig
from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer
from esper.tamiyo.policy.features import get_feature_size

OBS = get_feature_size(3)
ENVS, STEPS = 4, 25


def _masks(agent: PPOAgent, *lead: int) -> dict[str, torch.Tensor]:
    masks = {n: torch.ones(*lead, k, dtype=torch.bool) for n, k in agent.network.head_sizes.items()}
    masks["blueprint"][..., 0] = False
    return masks


def _filled_buffer(agent: PPOAgent) -> TamiyoRolloutBuffer:
    buffer = agent.make_buffer(ENVS, STEPS)
    hidden = agent.initial_hidden(ENVS)
    masks = _masks(agent, ENVS)
    for t in range(STEPS):
        obs = torch.randn(ENVS, OBS)
        actions, log_probs, values, new_hidden = agent.get_action(obs, hidden, masks)
        done = torch.full((ENVS,), t == STEPS - 1)
        rewards = (actions["op"] == LifecycleOp.GERMINATE).float()
        buffer.add_batch(obs, actions, log_probs, masks, values, rewards, done, torch.zeros_like(done), hidden)
        hidden = new_hidden
    buffer.finish(torch.zeros(ENVS))
    return buffer


@pytest.fixture
def agent() -> PPOAgent:
    torch.manual_seed(0)
    return PPOAgent(OBS, PPOConfig(target_kl=None))


def test_get_action_one_step(benchmark: BenchmarkFixture, agent: PPOAgent) -> None:
    obs, hidden, masks = torch.randn(ENVS, OBS), agent.initial_hidden(ENVS), _masks(agent, ENVS)
    with torch.no_grad():
        actions, _, _, _ = benchmark(agent.get_action, obs, hidden, masks)
    assert set(actions) == set(HEAD_NAMES)


def test_evaluate_actions_sequences(benchmark: BenchmarkFixture, agent: PPOAgent) -> None:
    obs, masks = torch.randn(ENVS, STEPS, OBS), _masks(agent, ENVS, STEPS)
    actions = {n: torch.zeros(ENVS, STEPS, dtype=torch.long) + (1 if n == "blueprint" else 0) for n in HEAD_NAMES}
    log_probs, _, values = benchmark(agent.network.evaluate_actions, obs, actions, None, masks)
    assert values.shape == (ENVS, STEPS)


def test_ppo_update_4x25(benchmark: BenchmarkFixture, agent: PPOAgent) -> None:
    buffer = _filled_buffer(agent)

    def update() -> dict[str, float]:
        buffer.finished = True
        return agent.update(buffer)

    metrics = benchmark.pedantic(update, rounds=5, iterations=1, warmup_rounds=1)
    assert metrics["updates_applied"] > 0
