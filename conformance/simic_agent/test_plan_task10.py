"""Plan Task 10 (causal head masks, per-head advantages, entropy defaults) and its checklist lines."""

from __future__ import annotations

import pytest
import torch

from conformance.adapter import ConformanceAdapter

STATE_DIM = 77


def _ops() -> torch.Tensor:
    from esper.leyline.factored_actions import LifecycleOp

    return torch.tensor([LifecycleOp.WAIT, LifecycleOp.GERMINATE, LifecycleOp.CULL, LifecycleOp.FOSSILIZE])


@pytest.mark.req("T10.2", "CHK.10.2")
def test_compute_per_head_advantages_returns_tempo_advantages() -> None:
    from esper.leyline import HEAD_NAMES
    from esper.simic.agent.advantages import compute_per_head_advantages

    advantages = torch.tensor([1.5, -2.0, 0.25, 3.0])
    per_head = compute_per_head_advantages(advantages, _ops())
    assert set(per_head) == set(HEAD_NAMES)
    assert per_head["tempo"].tolist() == [0.0, -2.0, 0.0, 0.0]
    assert per_head["tempo"].tolist() == per_head["blueprint"].tolist() == per_head["blend"].tolist()
    assert per_head["op"].tolist() == advantages.tolist()
    assert per_head["slot"].tolist() == [0.0, -2.0, 0.25, 3.0]


@pytest.mark.req("T10.1", "CHK.10.1")
def test_without_germinate_the_tempo_head_gets_no_policy_gradient(adapter: ConformanceAdapter) -> None:
    """Tempo is masked like blueprint and blend: a rollout without GERMINATE gives the tempo head zero policy
    gradient (entropy coefficient 0 isolates the policy term), while slot and op heads learn."""
    from esper.leyline.factored_actions import LifecycleOp

    agent = adapter.make_agent(STATE_DIM)
    for name in list(agent.entropy_coef_per_head):
        agent.entropy_coef_per_head[name] = 0.0
    buffer = adapter.collect_rollout(agent, num_envs=2, num_steps=6, allow_germinate=False)
    assert not bool((buffer.op_actions == LifecycleOp.GERMINATE).any())
    net = adapter.policy(agent)
    for p in net.parameters():
        p.grad = None
    adapter.ppo_update(agent, buffer)

    def grad_norm(module: torch.nn.Module) -> float:
        return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)

    for name in ("blueprint", "blend", "tempo"):
        assert grad_norm(getattr(net, f"{name}_head")) == 0.0, f"{name} head trained on non-GERMINATE steps"
    for name in ("slot", "op"):
        assert grad_norm(getattr(net, f"{name}_head")) > 0.0, f"{name} head got no gradient"


@pytest.mark.req("T10.1", "CHK.10.1")
def test_with_germinate_the_tempo_head_gets_gradient(adapter: ConformanceAdapter) -> None:
    agent = adapter.make_agent(STATE_DIM)
    buffer = adapter.collect_rollout(agent, num_envs=2, num_steps=8, allow_germinate=True)
    net = adapter.policy(agent)
    adapter.ppo_update(agent, buffer)
    grads = [p.grad for p in net.tempo_head.parameters()]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0.0


@pytest.mark.req("T10.3", "CHK.10.3")
def test_entropy_coef_per_head_default_includes_tempo(adapter: ConformanceAdapter) -> None:
    expected = {"slot": 1.0, "blueprint": 1.0, "blend": 1.0, "tempo": 1.0, "op": 1.0}
    assert dict(adapter.make_agent(STATE_DIM).entropy_coef_per_head) == expected
