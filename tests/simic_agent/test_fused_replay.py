"""The fast training path (fused LSTM replay, batched heads) equals the step-by-step LSTMCell path (issue 12)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from esper.leyline import HEAD_NAMES
from esper.simic.agent.network import FactoredRecurrentActorCritic

pytestmark = pytest.mark.req("ISSUE.12.1", "DEC.perf.1")

ATOL = RTOL = 1e-5


def _inputs(
    net: FactoredRecurrentActorCritic, batch: int, steps: int, starts_p: float, seed: int
) -> tuple[torch.Tensor, dict[str, torch.Tensor], tuple[torch.Tensor, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(batch, steps, net.state_dim, generator=gen)
    masks: dict[str, torch.Tensor] = {}
    actions: dict[str, torch.Tensor] = {}
    for name, size in net.head_sizes.items():
        mask = torch.rand(batch, steps, size, generator=gen) < 0.7
        mask[..., int(torch.randint(size, (1,), generator=gen))] = True  # every row allows an action
        masks[name] = mask
        scores = torch.rand(batch, steps, size, generator=gen) * mask  # pick an allowed action
        actions[name] = scores.argmax(-1)
    hidden = (torch.randn(batch, net.hidden_dim, generator=gen), torch.randn(batch, net.hidden_dim, generator=gen))
    starts = torch.rand(batch, steps, generator=gen) < starts_p
    return obs, actions, hidden, masks, starts


def _evaluate(
    net: FactoredRecurrentActorCritic, fused: bool, inputs: tuple[object, ...], with_starts: bool = True
) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    obs, actions, hidden, masks, starts = inputs
    assert isinstance(obs, torch.Tensor) and isinstance(starts, torch.Tensor)
    assert isinstance(actions, dict) and isinstance(masks, dict) and isinstance(hidden, tuple)
    net.fused_replay = fused
    net.zero_grad(set_to_none=True)
    h0, c0 = (part.clone().requires_grad_(True) for part in hidden)
    episode_starts = starts if with_starts else None
    log_probs, entropy, values = net.evaluate_actions(obs, actions, (h0, c0), masks, episode_starts)
    # The state after the last step (not returned by evaluate_actions, DEC.api.1) from the same replay path.
    if fused:
        _, (h, c) = net._replay_fused(net.feature_net(obs), (h0, c0), episode_starts)
    else:
        _, (h, c), _ = net._trunk(obs, (h0, c0), masks, episode_starts, True)
    # A loss touching every output (weights differ per head so a swapped head would show).
    loss = values.square().mean() + h.sum() * 0.1 + c.sum() * 0.01
    for k, name in enumerate(HEAD_NAMES):
        loss = loss + (k + 1) * log_probs[name].mean() - (k + 2) * entropy[name].mean()
    torch.autograd.backward(loss)
    outputs = [values, h, c, *(log_probs[n] for n in HEAD_NAMES), *(entropy[n] for n in HEAD_NAMES)]
    grads = {name: p.grad.clone() for name, p in net.named_parameters() if p.grad is not None}
    assert h0.grad is not None and c0.grad is not None
    grads["h0"], grads["c0"] = h0.grad.clone(), c0.grad.clone()
    return [o.detach() for o in outputs], grads


def _assert_same(net: FactoredRecurrentActorCritic, inputs: tuple[object, ...], with_starts: bool = True) -> None:
    ref_out, ref_grads = _evaluate(net, False, inputs, with_starts)
    out, grads = _evaluate(net, True, inputs, with_starts)
    for got, want in zip(out, ref_out, strict=True):
        torch.testing.assert_close(got, want, atol=ATOL, rtol=RTOL)
    assert set(grads) == set(ref_grads) == {name for name, _ in net.named_parameters()} | {"h0", "c0"}
    for name, want in ref_grads.items():
        assert torch.count_nonzero(grads[name]) > 0 or torch.count_nonzero(want) == 0, name
        torch.testing.assert_close(grads[name], want, atol=ATOL, rtol=RTOL, msg=lambda m: f"grad of {name}: {m}")


@pytest.mark.parametrize("starts_p", [0.0, 0.15])
def test_fused_replay_equals_cell_loop(starts_p: float) -> None:
    torch.manual_seed(0)
    net = FactoredRecurrentActorCritic(state_dim=23, hidden_dim=32)
    inputs = _inputs(net, batch=5, steps=17, starts_p=starts_p, seed=1)
    _assert_same(net, inputs)


def test_fused_replay_without_episode_starts() -> None:
    torch.manual_seed(0)
    net = FactoredRecurrentActorCritic(state_dim=23, hidden_dim=32)
    _assert_same(net, _inputs(net, batch=3, steps=9, starts_p=0.0, seed=2), with_starts=False)


def test_fused_replay_start_at_every_step_and_first_step() -> None:
    torch.manual_seed(0)
    net = FactoredRecurrentActorCritic(state_dim=11, hidden_dim=16)
    obs, actions, hidden, masks, _ = _inputs(net, batch=3, steps=6, starts_p=0.0, seed=3)
    starts = torch.zeros(3, 6, dtype=torch.bool)
    starts[0] = True  # every step starts an episode
    starts[1, 0] = True  # only the first step (zeroes the stored state, no split)
    starts[2, 5] = True  # only the last step
    _assert_same(net, (obs, actions, hidden, masks, starts))


@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(1, 4),
    steps=st.integers(1, 12),
    starts_p=st.sampled_from([0.0, 0.1, 0.5]),
    seed=st.integers(0, 10_000),
)
def test_fused_replay_equals_cell_loop_property(batch: int, steps: int, starts_p: float, seed: int) -> None:
    torch.manual_seed(seed)
    net = FactoredRecurrentActorCritic(state_dim=7, hidden_dim=8)
    _assert_same(net, _inputs(net, batch, steps, starts_p, seed))


def test_fused_replay_shares_the_cell_parameters() -> None:
    """The fused kernel runs on the acting cell's own Parameter objects: no second copy in the state dict."""
    net = FactoredRecurrentActorCritic(state_dim=7, hidden_dim=8)
    lstm_params = net._lstm_params()
    assert [id(p) for p in lstm_params] == [
        id(net.lstm.weight_ih), id(net.lstm.weight_hh), id(net.lstm.bias_ih), id(net.lstm.bias_hh)
    ]
    assert not any(key.startswith("lstm.") and key.split(".")[1] not in {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
                   for key in net.state_dict())
    assert sum(1 for key in net.state_dict() if "weight_hh" in key) == 1
