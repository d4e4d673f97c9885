"""PPO's optimiser is fused Adam, also after loading a checkpoint saved with the per-tensor Adam (DEC.perf.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from esper.simic.agent import PPOAgent

pytestmark = pytest.mark.req("DEC.perf.2")


def test_ppo_optimizer_is_fused_adam() -> None:
    agent = PPOAgent(11)
    assert isinstance(agent.optimizer, torch.optim.Adam)
    assert all(group["fused"] is True for group in agent.optimizer.param_groups)


def test_fused_adam_step_matches_the_per_tensor_loop() -> None:
    torch.manual_seed(0)
    agent = PPOAgent(11)
    params = list(agent.network.parameters())
    reference = [p.detach().clone().requires_grad_(True) for p in params]
    ref_opt = torch.optim.Adam(reference, lr=agent.config.lr, eps=agent.config.adam_eps, foreach=False)
    for _ in range(3):
        for p, r in zip(params, reference):
            grad = torch.randn_like(p)
            p.grad, r.grad = grad, grad.clone()
        agent.optimizer.step()
        ref_opt.step()
    for p, r in zip(params, reference):
        torch.testing.assert_close(p.detach(), r.detach(), atol=1e-6, rtol=1e-5)


def test_loading_an_unfused_checkpoint_keeps_fused_adam(tmp_path: Path) -> None:
    old = PPOAgent(11)
    old.optimizer = torch.optim.Adam(old.network.parameters(), lr=old.config.lr, eps=old.config.adam_eps)
    assert old.optimizer.param_groups[0]["fused"] is None  # what checkpoints from before DEC.perf.2 hold
    path = old.save(tmp_path / "old.pt")
    agent = PPOAgent(11)
    agent.load(path)
    assert all(group["fused"] is True for group in agent.optimizer.param_groups)
    for p in agent.network.parameters():
        p.grad = torch.ones_like(p)
    agent.optimizer.step()  # the fused kernel runs on the loaded state
