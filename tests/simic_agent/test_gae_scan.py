"""GAE without a loop over steps (DEC.perf.6): the doubling scan equals the step loop it replaced."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from esper.leyline import HEAD_SIZES
from esper.simic.agent import TamiyoRolloutBuffer
from esper.simic.agent.scan import discounted_reverse_sum

pytestmark = pytest.mark.req("DEC.perf.6")


def _loop(values: torch.Tensor, discount: float, links: torch.Tensor) -> torch.Tensor:
    """The recurrence step by step: x_t = v_t + discount·x_{t+1} where linked."""
    out = torch.zeros_like(values)
    following = torch.zeros_like(values[..., 0])
    for t in reversed(range(values.shape[-1])):
        following = values[..., t] + discount * torch.where(links[..., t], following, torch.zeros_like(following))
        out[..., t] = following
    return out


def _loop_gae(buffer: TamiyoRolloutBuffer, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``compute_gae`` as it was before DEC.perf.6 (one iteration per step), written out independently."""
    lengths = torch.tensor(buffer.step_counts)
    steps = max(buffer.step_counts)
    gae = torch.zeros(buffer.num_envs)
    advantages = torch.zeros_like(buffer.advantages)
    for t in reversed(range(steps)):
        valid, is_last = lengths > t, lengths == t + 1
        if t + 1 >= steps:
            next_value = buffer.last_values.clone()
        else:
            next_value = torch.where(is_last, buffer.last_values, buffer.values[:, t + 1])
        next_value = torch.where(buffer.has_bootstrap[:, t], buffer.bootstrap_values[:, t], next_value)
        done = buffer.dones[:, t]
        next_value = torch.where(done, torch.zeros_like(next_value), next_value)
        delta = buffer.rewards[:, t] + gamma * next_value - buffer.values[:, t]
        chain = ~(done | buffer.truncated[:, t] | is_last)
        gae = delta + gamma * lam * torch.where(chain, gae, torch.zeros_like(gae))
        gae = torch.where(valid, gae, torch.zeros_like(gae))
        advantages[:, t] = gae
    valid_all = torch.arange(buffer.max_steps) < lengths.unsqueeze(1)
    returns = torch.where(valid_all, advantages + buffer.values, torch.zeros_like(buffer.values))
    return advantages, returns


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 4),
    steps=st.integers(1, 70),
    discount=st.sampled_from([0.0, 0.3, 0.9405, 0.99, 1.0]),
    link_p=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_scan_equals_the_step_loop(rows: int, steps: int, discount: float, link_p: float, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    values = torch.randn(rows, steps, generator=gen) * 3.0
    links = torch.rand(rows, steps, generator=gen) < link_p
    got, want = discounted_reverse_sum(values, discount, links), _loop(values, discount, links)
    # float32 with a different summation order: tolerance scaled by the sum of magnitudes (<= T·max|v|)
    scale = float(_loop(values.abs(), discount, links).max())
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6 * max(scale, 1.0))


def test_scan_closed_form_and_no_leak_across_a_broken_link() -> None:
    values = torch.tensor([[1.0, 2.0, 4.0, math.nan, 8.0]])
    links = torch.tensor([[True, True, False, True, False]])
    out = discounted_reverse_sum(values, 0.5, links)
    assert out[0, :3].tolist() == [1.0 + 0.5 * 2.0 + 0.25 * 4.0, 2.0 + 0.5 * 4.0, 4.0]  # exact
    assert math.isnan(out[0, 3]) and out[0, 4] == 8.0  # the NaN stays in its own episode, as in the loop
    assert torch.equal(discounted_reverse_sum(torch.ones(2, 1), 0.9, torch.ones(2, 1, dtype=torch.bool)), torch.ones(2, 1))


def test_scan_rejects_bad_input() -> None:
    values, links = torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.bool)
    with pytest.raises(TypeError, match="values must be a floating-point"):
        discounted_reverse_sum(torch.zeros(2, 3, dtype=torch.long), 0.5, links)
    with pytest.raises(TypeError, match="links must be a bool"):
        discounted_reverse_sum(values, 0.5, links.float())
    with pytest.raises(ValueError, match="links must have values' shape"):
        discounted_reverse_sum(values, 0.5, links[:, :2])
    with pytest.raises(ValueError, match="T >= 1"):
        discounted_reverse_sum(torch.zeros(2, 0), 0.5, torch.zeros(2, 0, dtype=torch.bool))
    with pytest.raises(ValueError, match="discount"):
        discounted_reverse_sum(values, -0.1, links)


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    gamma=st.sampled_from([0.0, 0.5, 0.99, 1.0]),
    lam=st.sampled_from([0.0, 0.95, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_compute_gae_equals_the_step_loop(lengths: list[int], gamma: float, lam: float, seed: int) -> None:
    """Whole buffers with ragged lengths, terminal and truncated steps (with bootstrap values) in mid-sequence."""
    gen = torch.Generator().manual_seed(seed)
    num_envs, max_steps = len(lengths), 12
    buffer = TamiyoRolloutBuffer(num_envs, max_steps, 3, HEAD_SIZES, 2)
    buffer.step_counts = list(lengths)
    buffer.values.copy_(torch.randn(num_envs, max_steps, generator=gen))
    buffer.rewards.copy_(torch.randn(num_envs, max_steps, generator=gen))
    buffer.dones.copy_(torch.rand(num_envs, max_steps, generator=gen) < 0.2)
    buffer.truncated.copy_((torch.rand(num_envs, max_steps, generator=gen) < 0.2) & ~buffer.dones)
    buffer.has_bootstrap.copy_(buffer.truncated)
    buffer.bootstrap_values.copy_(torch.randn(num_envs, max_steps, generator=gen))
    buffer.last_values.copy_(torch.randn(num_envs, generator=gen))
    buffer.finished = True
    buffer.compute_gae(gamma, lam)
    advantages, returns = _loop_gae(buffer, gamma, lam)
    torch.testing.assert_close(buffer.advantages, advantages, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(buffer.returns, returns, rtol=1e-5, atol=1e-5)
