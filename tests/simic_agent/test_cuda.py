"""CUDA variants (skipped without a GPU): the agent's tensors live on its device end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from esper.leyline import HEAD_NAMES
from esper.simic.agent import PPOAgent, PPOConfig, TamiyoRolloutBuffer

from conformance.simic_agent.rollouts import STATE_DIM, random_masks

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def _cuda_rollout(agent: PPOAgent, envs: int = 4, steps: int = 6) -> TamiyoRolloutBuffer:
    buffer = agent.make_buffer(envs, steps)
    hidden = agent.initial_hidden(envs)
    for t in range(steps):
        obs = torch.randn(envs, STATE_DIM, device="cuda")
        masks = {n: m.cuda() for n, m in random_masks(agent.network.head_sizes, envs).items()}
        actions, log_probs, values, new_hidden = agent.get_action(obs, hidden, masks)
        assert all(a.device.type == "cuda" for a in actions.values())
        done = torch.full((envs,), t == steps - 1, device="cuda")
        buffer.add_batch(obs, actions, log_probs, masks, values, torch.randn(envs, device="cuda"), done,
                         torch.zeros_like(done), hidden)
        hidden = agent.network.reset_hidden(new_hidden, done)
    buffer.finish(torch.zeros(envs, device="cuda"))
    return buffer


def test_network_forward_get_action_evaluate_on_cuda() -> None:
    agent = PPOAgent(STATE_DIM, device="cuda")
    obs = torch.randn(2, 3, STATE_DIM, device="cuda")
    out = agent.network(obs)
    assert out["tempo_logits"].device.type == "cuda"
    actions = {n: out[f"{n}_logits"].argmax(-1) for n in HEAD_NAMES}  # type: ignore[literal-required]
    log_probs, entropy, values = agent.network.evaluate_actions(obs, actions)
    assert values.device.type == "cuda" and entropy["tempo"].device.type == "cuda"


def test_update_and_checkpoint_on_cuda(tmp_path: Path) -> None:
    agent = PPOAgent(STATE_DIM, PPOConfig(ppo_epochs=2), device="cuda")
    metrics = agent.update(_cuda_rollout(agent))
    assert metrics["updates_applied"] > 0
    path = agent.save(tmp_path / "cuda.pt")
    cpu_agent = PPOAgent(STATE_DIM)
    cpu_agent.load(path)
    for a, b in zip(agent.network.parameters(), cpu_agent.network.parameters()):
        assert b.device.type == "cpu" and torch.equal(a.cpu(), b)
