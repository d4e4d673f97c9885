"""Unit tests: PPOAgent plumbing and metrics."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES
from esper.simic.agent import PPOAgent, PPOConfig

from tests.simic_agent.rollouts import STATE_DIM, collect, random_masks

EXPECTED_METRICS = {
    "entropy_floor_penalty",
    "policy_loss",
    "value_loss",
    "loss",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
    "grad_norm",
    "updates_applied",
    "updates_skipped",
    "early_stopped",
    "epochs_completed",
    "n_minibatches",
    *(f"entropy_{name}" for name in HEAD_NAMES),
    *(f"grad_norm_{name}" for name in HEAD_NAMES),
}


def test_update_returns_all_metrics_as_floats() -> None:
    agent = PPOAgent(STATE_DIM, PPOConfig(ppo_epochs=1), hidden_dim=16)
    metrics = agent.update(collect(agent, 2, 4))
    assert set(metrics) == EXPECTED_METRICS
    assert all(isinstance(v, float) for v in metrics.values())


def test_update_preconditions() -> None:
    agent = PPOAgent(STATE_DIM, hidden_dim=16)
    buffer = agent.make_buffer(2, 3)
    with pytest.raises(TypeError, match="buffer must be a TamiyoRolloutBuffer"):
        agent.update("buffer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"buffer.finish\(last_values\) must be called"):
        agent.update(buffer)
    other = PPOAgent(STATE_DIM, hidden_dim=8).make_buffer(2, 3)
    with pytest.raises(ValueError, match="does not match the agent's"):
        agent.update(other)
    with pytest.raises(TypeError, match="config must be a PPOConfig"):
        PPOAgent(STATE_DIM, config={"lr": 1.0})  # type: ignore[arg-type]


def test_update_with_uneven_and_empty_env_sequences() -> None:
    agent = PPOAgent(STATE_DIM, PPOConfig(ppo_epochs=1, n_minibatches=4), hidden_dim=16)
    full = collect(agent, 3, 4)
    buffer = agent.make_buffer(3, 4)
    for env, steps in ((0, 4), (2, 2)):
        for t in range(steps):
            buffer.add_step(
                env,
                full.obs[env, t],
                {n: full.actions[n][env, t] for n in HEAD_NAMES},
                {n: full.log_probs[n][env, t] for n in HEAD_NAMES},
                {n: full.masks[n][env, t] for n in HEAD_NAMES},
                full.values[env, t],
                full.rewards[env, t],
                False,
                False,
                (full.hidden_h[env, t], full.hidden_c[env, t]),
            )
    buffer.finish(torch.zeros(3))
    metrics = agent.update(buffer)
    assert metrics["n_minibatches"] == 2.0 and metrics["updates_applied"] == 2.0
    assert metrics["approx_kl"] >= 0.0


def test_agent_passthrough_and_normaliser() -> None:
    agent = PPOAgent(STATE_DIM, hidden_dim=16, entropy_coef_per_head={"op": 2.0})
    assert agent.entropy_coef_per_head["op"] == 2.0 and agent.entropy_coef_per_head["tempo"] == 1.0
    obs = torch.randn(3, STATE_DIM)
    masks = random_masks(agent.network.head_sizes, 3)
    a1 = agent.get_action(obs, None, masks, deterministic=True)
    a2 = agent.network.get_action(obs, None, masks, deterministic=True)
    assert all(torch.equal(a1[0][n], a2[0][n]) for n in HEAD_NAMES)
    raw = torch.randn(100, STATE_DIM) * 5.0 + 2.0
    normalised = agent.normalize_obs(raw, update=True)
    assert normalised.mean().abs() < 0.1 and (normalised.std() - 1.0).abs() < 0.1
