"""Plan "Training Recommendations": existing hyperparameters kept, with an entropy floor of 0.02 per head."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES, LifecycleOp
from esper.simic.agent.ppo import PPOAgent, PPOConfig

from tests.simic_agent.rollouts import collect

STATE_DIM = 12


def _collapse_tempo_head(agent: PPOAgent) -> None:
    last = agent.network.tempo_head[-1]
    assert isinstance(last, torch.nn.Linear)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([7.0, 0.0, 0.0]))  # entropy ~0.015 nats < floor


def _tempo_grad_after_one_step(config: PPOConfig, *, force_op: int | None) -> tuple[torch.Tensor, float]:
    torch.manual_seed(0)
    agent = PPOAgent(STATE_DIM, config, hidden_dim=16)
    _collapse_tempo_head(agent)
    buffer = collect(agent, 2, 5, force_op=force_op)
    buffer.masks["tempo"][:] = True  # every tempo valid: the collapsed head has a real choice at every step
    captured: list[torch.Tensor] = []
    original_step = agent.optimizer.step

    def capture_then_step(*args: object, **kwargs: object) -> None:
        bias = agent.network.tempo_head[-1].bias
        assert bias.grad is not None
        captured.append(bias.grad.detach().clone())
        original_step()

    agent.optimizer.step = capture_then_step  # replace for this agent only
    metrics = agent.update(buffer)
    return captured[0], metrics["entropy_floor_penalty"]


@pytest.mark.req("PLAN.5")
def test_defaults_keep_existing_hyperparameters() -> None:
    config = PPOConfig()
    assert config.entropy_coef == 0.05
    assert config.entropy_floor == 0.02
    assert config.entropy_coef_per_head == {name: 1.0 for name in HEAD_NAMES}
    assert PPOConfig.from_dict(config.to_dict()) == config


@pytest.mark.req("PLAN.5")
def test_collapsed_tempo_head_is_pushed_back_by_the_floor() -> None:
    base = dict(entropy_coef=0.0, ppo_epochs=1, n_minibatches=1, target_kl=None)
    with_floor, penalty = _tempo_grad_after_one_step(PPOConfig(**base), force_op=int(LifecycleOp.GERMINATE))
    without, no_penalty = _tempo_grad_after_one_step(PPOConfig(**base, entropy_floor=0.0), force_op=int(LifecycleOp.GERMINATE))
    assert penalty > 0.0 and no_penalty == 0.0
    assert not torch.allclose(with_floor, without)
    # The floor raises the collapsed head's entropy: gradient descent lowers the dominant logit.
    assert (with_floor - without)[0] > 0


@pytest.mark.req("PLAN.5")
def test_floor_respects_causal_masks_without_germinate() -> None:
    base = dict(entropy_coef=0.0, ppo_epochs=1, n_minibatches=1, target_kl=None)
    grad, penalty = _tempo_grad_after_one_step(PPOConfig(**base), force_op=int(LifecycleOp.WAIT))
    assert penalty == 0.0
    assert torch.equal(grad, torch.zeros_like(grad))
