"""The vectorised PPO loss and gradient norms equal the per-head reference (DEC.perf.4).

The reference below is the per-head loop the update used before DEC.perf.4 (one masked mean per head and term,
one norm per head, ``clip_grad_norm_``), written out independently of ``esper.simic.agent.ppo``.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.simic_agent.rollouts import STATE_DIM, collect
from esper.leyline import HEAD_NAMES
from esper.simic.agent import PPOAgent, PPOConfig
from esper.simic.agent.advantages import causal_head_masks
from esper.simic.agent.minibatch import SequenceBatch

pytestmark = pytest.mark.req("DEC.perf.4")

HIDDEN = 16


def _mean(values: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, values, torch.zeros_like(values)).sum() / count


def _reference_loss(agent: PPOAgent, mb: SequenceBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The pre-DEC.perf.4 loss: every term and statistic computed head by head."""
    cfg = agent.config
    new = agent.network.evaluate_actions(mb.obs, mb.actions, mb.initial_hidden, mb.masks, mb.episode_starts)
    relevant = causal_head_masks(mb.actions["op"])
    counted = {name: relevant[name] & mb.valid for name in HEAD_NAMES}
    steps = mb.valid.sum().clamp_min(1).to(new.value.dtype)
    log_ratio = {
        name: torch.where(counted[name], new.log_probs[name] - mb.log_probs[name], torch.zeros_like(new.value))
        for name in HEAD_NAMES
    }
    ratio = {name: log_ratio[name].exp() for name in HEAD_NAMES}
    policy = new.value.new_zeros(())
    entropy = new.value.new_zeros(())
    floor = new.value.new_zeros(())
    for name in HEAD_NAMES:
        clipped = ratio[name].clamp(1.0 - cfg.clip_ratio, 1.0 + cfg.clip_ratio)
        policy = policy - _mean(torch.minimum(ratio[name] * mb.advantages, clipped * mb.advantages), counted[name], steps)
        entropy = entropy + cfg.entropy_coef_per_head[name] * _mean(new.entropy[name], counted[name], steps)
        choice = counted[name] & (mb.masks[name].sum(dim=-1) > 1)
        mean_entropy = _mean(new.entropy[name], choice, choice.sum().clamp_min(1).to(new.value.dtype))
        floor = floor + (cfg.entropy_floor - mean_entropy).clamp_min(0.0) * choice.any().to(new.value.dtype)
    error = (new.value - mb.returns).square()
    assert cfg.value_clip is not None
    clipped_value = mb.values + (new.value - mb.values).clamp(-cfg.value_clip, cfg.value_clip)
    value = 0.5 * _mean(torch.maximum(error, (clipped_value - mb.returns).square()), mb.valid, steps)
    loss = policy + cfg.value_coef * value - cfg.entropy_coef * entropy + cfg.entropy_floor_coef * floor
    joint = torch.stack([log_ratio[name] for name in HEAD_NAMES]).sum(dim=0)
    n_clipped = sum(int((((ratio[n] - 1.0).abs() > cfg.clip_ratio) & counted[n]).sum()) for n in HEAD_NAMES)
    stats = {f"entropy_{name}": _mean(new.entropy[name], mb.valid, steps) for name in HEAD_NAMES}
    stats.update(
        approx_kl=_mean(joint.exp() - 1.0 - joint, mb.valid, steps),
        clip_fraction=torch.tensor(n_clipped / max(sum(int(counted[n].sum()) for n in HEAD_NAMES), 1)),
        policy_loss=policy,
        value_loss=value,
        loss=loss,
        entropy_floor_penalty=floor,
    )
    return loss, stats


def _agent(seed: int) -> PPOAgent:
    torch.manual_seed(seed)
    config = PPOConfig(
        ppo_epochs=1,
        n_minibatches=1,
        target_kl=None,
        entropy_floor=1.5,
        entropy_floor_coef=0.3,
        entropy_coef_per_head={"slot": 0.5, "op": 2.0},
    )
    return PPOAgent(STATE_DIM, config, hidden_dim=HIDDEN)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))  # float32: 1e-6 relative is a few ulps


@pytest.mark.parametrize("seed", [0, 3])
def test_minibatch_loss_and_statistics_equal_the_per_head_reference(seed: int) -> None:
    agent = _agent(seed)
    buffer = collect(agent, 4, 9, episode_len=4)  # episode starts inside the sequences
    buffer.compute_gae(agent.config.gamma, agent.config.gae_lambda)
    mb = buffer.get_batched_sequences()
    loss, stats = agent._minibatch_loss(mb)
    assert loss is not None
    # _minibatch_loss returns the clip counts (summed over processes first, issue 15); the fraction is their ratio
    stats["clip_fraction"] = stats.pop("clipped") / stats.pop("relevant").clamp_min(1)
    grads = torch.autograd.grad(loss, list(agent.network.parameters()), allow_unused=True)
    ref_loss, ref_stats = _reference_loss(agent, mb)
    ref_grads = torch.autograd.grad(ref_loss, list(agent.network.parameters()), allow_unused=True)
    assert float(stats["entropy_floor_penalty"]) > 0.0  # the floor term is exercised
    assert set(stats) == set(ref_stats)
    for key, reference in ref_stats.items():
        assert _close(float(stats[key]), float(reference.detach())), key
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        assert (grad is None) == (ref_grad is None)
        if grad is not None and ref_grad is not None:
            torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-6)


def test_update_equals_reference_step_with_per_head_norms_and_clipping() -> None:
    agent, reference = _agent(1), _agent(1)
    buffer = collect(agent, 3, 8)
    buffer.compute_gae(agent.config.gamma, agent.config.gae_lambda)
    mb = buffer.get_batched_sequences()
    adv = mb.advantages
    count = mb.valid.sum().to(adv.dtype)
    mean = _mean(adv, mb.valid, count)
    std = _mean((adv - mean).square(), mb.valid, count).sqrt()
    mb = mb.with_advantages(torch.where(mb.valid, (adv - mean) / (std + 1e-8), torch.zeros_like(adv)))
    metrics = agent.update(buffer)

    loss, _ = _reference_loss(reference, mb)
    reference.optimizer.zero_grad()
    loss.backward()
    head_norms = {
        name: torch.stack([p.grad.square().sum() for p in reference.network.heads[name].parameters() if p.grad is not None])
        .sum()
        .sqrt()
        for name in HEAD_NAMES
    }
    grad_norm = nn.utils.clip_grad_norm_(list(reference.network.parameters()), reference.config.max_grad_norm)
    reference.optimizer.step()

    assert metrics["updates_applied"] == 1.0
    assert _close(metrics["grad_norm"], float(grad_norm))
    assert float(grad_norm) > reference.config.max_grad_norm  # clipping is exercised
    for name in HEAD_NAMES:
        assert _close(metrics[f"grad_norm_{name}"], float(head_norms[name])), name
    for (key, mine), theirs in zip(agent.network.state_dict().items(), reference.network.state_dict().values()):
        torch.testing.assert_close(mine, theirs, rtol=0.0, atol=1e-6, msg=key)
