"""Plan Task 10 (causal head masks, per-head advantages, entropy defaults) and its checklist lines."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES, LifecycleOp
from esper.simic.agent import PPOAgent, PPOConfig, causal_head_masks, compute_per_head_advantages

from conformance.simic_agent.rollouts import STATE_DIM, collect

OPS = torch.tensor([LifecycleOp.WAIT, LifecycleOp.GERMINATE, LifecycleOp.CULL, LifecycleOp.FOSSILIZE])


@pytest.mark.req("T10.1", "CHK.10.1")
def test_head_masks_gate_tempo_like_blueprint_and_blend() -> None:
    masks = causal_head_masks(OPS)
    assert list(masks) == list(HEAD_NAMES)
    assert masks["op"].tolist() == [True, True, True, True]
    assert masks["slot"].tolist() == [False, True, True, True]
    for name in ("blueprint", "blend", "tempo"):
        assert masks[name].tolist() == [False, True, False, False]


@pytest.mark.req("T10.1", "CHK.10.1")
def test_without_germinate_the_germinate_only_heads_get_exactly_zero_gradient() -> None:
    agent = PPOAgent(STATE_DIM, PPOConfig(entropy_coef=0.0, ppo_epochs=1, n_minibatches=1), hidden_dim=32)
    buffer = collect(agent, 2, 6, allow_germinate=False)
    assert not bool((buffer.op_actions[:, :6] == LifecycleOp.GERMINATE).any())
    agent.update(buffer)
    for name in ("blueprint", "blend", "tempo"):
        for param in agent.network.heads[name].parameters():
            assert param.grad is not None
            assert torch.equal(param.grad, torch.zeros_like(param.grad)), name
    for name in ("slot", "op"):
        assert any(bool(p.grad.abs().sum() > 0) for p in agent.network.heads[name].parameters() if p.grad is not None)


@pytest.mark.req("T10.2", "CHK.10.2")
def test_compute_per_head_advantages_returns_tempo_advantages() -> None:
    advantages = torch.tensor([1.5, -2.0, 0.25, 3.0])
    per_head = compute_per_head_advantages(advantages, OPS)
    assert list(per_head) == list(HEAD_NAMES)
    assert per_head["tempo"].tolist() == [0.0, -2.0, 0.0, 0.0]
    assert per_head["tempo"].tolist() == per_head["blueprint"].tolist() == per_head["blend"].tolist()
    assert per_head["op"].tolist() == advantages.tolist()
    assert per_head["slot"].tolist() == [0.0, -2.0, 0.25, 3.0]


@pytest.mark.req("T10.3", "CHK.10.3")
def test_entropy_coef_per_head_default_includes_tempo() -> None:
    expected = {"slot": 1.0, "blueprint": 1.0, "blend": 1.0, "tempo": 1.0, "op": 1.0}
    assert PPOConfig().entropy_coef_per_head == expected
    assert PPOAgent(STATE_DIM, hidden_dim=16).entropy_coef_per_head == expected
