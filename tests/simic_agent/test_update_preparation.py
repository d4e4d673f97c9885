"""The update's per-update preparation (DEC.perf.5): stacked batch, fused step guard, and the head details of
DEC.perf.7, each equal to the path it replaced."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from esper.leyline import HEAD_NAMES
from esper.simic.agent import PPOAgent, PPOConfig
from esper.simic.agent.distributions import apply_mask, entropy_of, log_probs_and_entropy, log_probs_of
from esper.simic.agent.step_guard import StepGuard
from tests.simic_agent.rollouts import STATE_DIM, collect

HIDDEN = 16


def _agent(seed: int = 0, **config: object) -> PPOAgent:
    torch.manual_seed(seed)
    return PPOAgent(STATE_DIM, PPOConfig(target_kl=None, **config), hidden_dim=HIDDEN)  # type: ignore[arg-type]


# --- stacked batch -------------------------------------------------------------------------------------------------


@pytest.mark.req("DEC.perf.5")
@pytest.mark.parametrize("episode_len", [None, 3])
def test_stacked_minibatch_loss_equals_the_sequence_batch_loss(episode_len: int | None) -> None:
    """With and without episode starts after step 0 (the stacked batch then drops episode_starts)."""
    agent = _agent(1, entropy_floor=1.5, entropy_floor_coef=0.3)
    buffer = collect(agent, 4, 7, episode_len=episode_len)
    buffer.compute_gae(agent.config.gamma, agent.config.gae_lambda)
    data = buffer.get_batched_sequences()
    stacked = agent._stack(data)
    assert (stacked.episode_starts is None) == (episode_len is None)
    rows = torch.tensor([2, 0, 3])
    loss, stats = agent._minibatch_loss(stacked.select(rows))
    params = list(agent.network.parameters())
    assert loss is not None
    grads = torch.autograd.grad(loss, params)
    mb = data.select(rows)
    ref_loss, ref_stats = agent._minibatch_loss(mb)
    assert ref_loss is not None
    ref_grads = torch.autograd.grad(ref_loss, params)
    assert float(loss.detach()) == float(ref_loss.detach())
    assert all(torch.equal(stats[key], ref_stats[key]) for key in ref_stats)
    assert all(torch.equal(g, r) for g, r in zip(grads, ref_grads, strict=True))
    # the stacked fields are the per-head ones, in HEAD_NAMES order
    picked = stacked.select(rows)
    for k, name in enumerate(HEAD_NAMES):
        assert torch.equal(picked.actions[..., k], mb.actions[name])
        assert torch.equal(picked.old_log_probs[k], mb.log_probs[name])
        size = agent.network.head_sizes[name]
        assert torch.equal(picked.padded_masks[..., k, :size], mb.masks[name])
        assert not picked.padded_masks[..., k, size:].any()


@pytest.mark.req("DEC.perf.5")
def test_update_with_the_reference_replay_equals_the_fast_path() -> None:
    """``network.fused_replay = False`` makes the update use the step-by-step path: same parameters within 1e-5."""
    fast, reference = _agent(2, n_minibatches=2, ppo_epochs=2), _agent(2, n_minibatches=2, ppo_epochs=2)
    reference.network.fused_replay = False
    buffer = collect(fast, 4, 8, episode_len=5)
    twin = copy.deepcopy(buffer)
    fast.update(buffer, generator=torch.Generator().manual_seed(0))
    reference.update(twin, generator=torch.Generator().manual_seed(0))
    for (key, mine), theirs in zip(fast.network.state_dict().items(), reference.network.state_dict().values()):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5, msg=key)


# --- step guard ----------------------------------------------------------------------------------------------------


def _with_grads(agent: PPOAgent, seed: int) -> list[torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(seed)
    params = list(agent.network.parameters())
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-2
    return params


@pytest.mark.req("DEC.perf.5", "ISSUE.13.52")
def test_step_guard_keeps_a_finite_step_exactly_like_adam() -> None:
    agent, twin = _agent(3), _agent(3)
    guard = StepGuard(list(agent.network.parameters()), agent.optimizer)
    for seed in range(3):
        _with_grads(agent, seed)
        _with_grads(twin, seed)
        assert guard.step()
        twin.optimizer.step()
    for mine, theirs in zip(agent.network.parameters(), twin.network.parameters(), strict=True):
        assert torch.equal(mine, theirs)


@pytest.mark.req("DEC.perf.5", "ISSUE.13.52")
@pytest.mark.parametrize("poison", [math.inf, -math.inf, math.nan])
def test_step_guard_restores_parameters_and_adam_state_after_a_poisoned_step(poison: float) -> None:
    agent = _agent(4)
    params = list(agent.network.parameters())
    guard = StepGuard(params, agent.optimizer)
    _with_grads(agent, 0)
    assert guard.step()  # Adam state now exists
    before = [p.detach().clone() for p in params]
    state_before = {id(p): {k: v.clone() for k, v in agent.optimizer.state[p].items()} for p in params}
    real_step = agent.optimizer.step

    def poisoned_step() -> None:
        real_step()
        with torch.no_grad():
            params[7].view(-1)[3] = poison

    agent.optimizer.step = poisoned_step  # type: ignore[method-assign]
    _with_grads(agent, 1)
    assert not guard.step()
    assert all(torch.equal(p, b) for p, b in zip(params, before, strict=True))
    for p in params:
        state = agent.optimizer.state[p]
        assert set(state) == set(state_before[id(p)])
        assert all(torch.equal(state[k], v) for k, v in state_before[id(p)].items())
    agent.optimizer.step = real_step  # type: ignore[method-assign]
    _with_grads(agent, 2)
    assert guard.step()  # and the next finite step goes through from the restored state


@pytest.mark.req("DEC.perf.5", "ISSUE.13.52")
def test_step_guard_does_not_revert_huge_but_finite_parameters() -> None:
    """The fused norm overflows for entries ~1e30; the exact per-tensor check then keeps the step."""
    agent = _agent(5)
    params = list(agent.network.parameters())
    with torch.no_grad():
        params[0].fill_(1e30)
    guard = StepGuard(params, agent.optimizer)
    _with_grads(agent, 0)
    assert guard.step()
    assert float(params[0].detach().abs().max()) > 1e29


def test_step_guard_needs_parameters() -> None:
    agent = _agent(6)
    with pytest.raises(ValueError, match="params must hold at least one parameter"):
        StepGuard([], agent.optimizer)


# --- head details (DEC.perf.7) -------------------------------------------------------------------------------------


@pytest.mark.req("DEC.perf.7")
def test_log_probs_and_entropy_from_one_log_softmax_equal_the_separate_functions() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 5, 13, generator=gen)
    mask = torch.rand(6, 5, 13, generator=gen) < 0.5
    mask[..., 0] = True
    masked = apply_mask(logits, mask)
    actions = torch.zeros(6, 5, dtype=torch.long)
    log_probs, entropy = log_probs_and_entropy(masked, actions, mask)
    assert torch.equal(log_probs, log_probs_of(masked, actions))
    assert torch.equal(entropy, entropy_of(masked, mask))
    # masked entries contribute exactly 0: the entropy of the valid entries alone
    row = masked[0, 0][mask[0, 0]]
    torch.testing.assert_close(entropy[0, 0], entropy_of(row), rtol=1e-6, atol=1e-7)  # summation order may differ
    masked.requires_grad_(True)
    _, entropy = log_probs_and_entropy(masked, actions, mask)
    (grad,) = torch.autograd.grad(entropy.sum(), masked)
    assert torch.isfinite(grad).all() and not grad[~mask].any()
