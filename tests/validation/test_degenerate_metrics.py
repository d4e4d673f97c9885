"""Issue 13 item 5: ratio metrics of the PPO update report their documented value for degenerate statistics."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES, LifecycleOp
from esper.simic.agent import PPOAgent, PPOConfig
from esper.simic.agent.minibatch import SequenceBatch
from esper.simic.agent.ppo import DEGENERATE_RELATIVE_SPREAD

from tests.simic_agent.rollouts import STATE_DIM, collect

pytestmark = pytest.mark.req("ISSUE.13.67", "DEC.validation.8")


def _agent(**config: object) -> PPOAgent:
    return PPOAgent(STATE_DIM, PPOConfig(ppo_epochs=1, n_minibatches=1, target_kl=None, **config), hidden_dim=16)  # type: ignore[arg-type]


def _set_constant_returns(agent: PPOAgent, constant: float, noise: float) -> object:
    """A buffer whose returns are ``constant`` up to ``noise`` (relative), and values far from them."""
    buffer = collect(agent, 2, 6, episode_len=6)
    original = buffer.compute_gae

    def gae(gamma: float, gae_lambda: float) -> None:
        original(gamma, gae_lambda)
        jitter = torch.randn_like(buffer.returns) * noise * constant
        buffer.returns.copy_(torch.full_like(buffer.returns, constant) + jitter)
        buffer.advantages.copy_(buffer.returns - buffer.values)

    buffer.compute_gae = gae  # type: ignore[method-assign]
    return buffer


def test_explained_variance_is_zero_for_constant_returns() -> None:
    agent = _agent(normalize_advantages=False)
    metrics = agent.update(_set_constant_returns(agent, 1000.0, 0.0))  # type: ignore[arg-type]
    assert metrics["explained_variance"] == 0.0


def test_explained_variance_ignores_rounding_noise_but_not_real_spread() -> None:
    agent = _agent(normalize_advantages=False)
    noisy = agent.update(_set_constant_returns(agent, 1000.0, 1e-7))  # type: ignore[arg-type]
    assert noisy["explained_variance"] == 0.0  # float noise divided by a tiny variance would be a huge negative number
    agent = _agent(normalize_advantages=False)
    real = agent.update(_set_constant_returns(agent, 1000.0, 100 * DEGENERATE_RELATIVE_SPREAD))  # type: ignore[arg-type]
    assert real["explained_variance"] != 0.0 and abs(real["explained_variance"]) < 1e9


def test_equal_advantages_normalise_to_zero_not_noise() -> None:
    agent = _agent(normalize_advantages=True)
    buffer = collect(agent, 2, 6, episode_len=6)
    captured: dict[str, torch.Tensor] = {}
    original = agent._minibatch_loss

    def spy(mb: SequenceBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        captured["advantages"] = mb.advantages.clone()
        return original(mb)

    agent._minibatch_loss = spy  # type: ignore[method-assign]
    original_gae = buffer.compute_gae

    def gae(gamma: float, gae_lambda: float) -> None:
        original_gae(gamma, gae_lambda)
        buffer.advantages.copy_(torch.full_like(buffer.advantages, 3.0) + torch.randn_like(buffer.advantages) * 3e-7)

    buffer.compute_gae = gae  # type: ignore[method-assign]
    metrics = agent.update(buffer)
    assert torch.equal(captured["advantages"], torch.zeros_like(captured["advantages"]))
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_clip_fraction_and_kl_are_zero_when_nothing_is_relevant() -> None:
    """Only WAIT steps: blueprint/blend/tempo heads are never relevant; an unchanged policy clips nothing."""
    agent = _agent()
    buffer = collect(agent, 2, 4, force_op=int(LifecycleOp.WAIT))
    agent.optimizer.param_groups[0]["lr"] = 1e-12  # the only minibatch sees the rollout policy: ratios are 1
    metrics = agent.update(buffer)
    assert metrics["clip_fraction"] == 0.0
    assert metrics["approx_kl"] == pytest.approx(0.0, abs=1e-6)
    assert all(metrics[f"entropy_{name}"] == metrics[f"entropy_{name}"] for name in HEAD_NAMES)  # no NaN
