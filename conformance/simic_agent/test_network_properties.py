"""Design note §5 network: architecture, init, masked distributions, recurrent replay, torch.compile."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from esper.leyline import HEAD_NAMES, HEAD_SIZES
from esper.simic.agent import PPOAgent
from esper.simic.agent.network import POLICY_OUTPUT_GAIN, FactoredRecurrentActorCritic

from conformance.simic_agent.rollouts import STATE_DIM, collect, random_masks

ROWS = 4


@st.composite
def mask_sets(draw: st.DrawFn) -> dict[str, torch.Tensor]:
    """Per head, ROWS random bool rows with at least one True."""
    masks: dict[str, torch.Tensor] = {}
    for name, size in HEAD_SIZES.items():
        row = st.lists(st.booleans(), min_size=size, max_size=size).filter(any)
        masks[name] = torch.tensor(draw(st.lists(row, min_size=ROWS, max_size=ROWS)))
    return masks


@pytest.fixture(scope="module")
def small_net() -> FactoredRecurrentActorCritic:
    torch.manual_seed(1)
    return FactoredRecurrentActorCritic(STATE_DIM, hidden_dim=32)


@pytest.mark.req("SYS.5.1.1")
def test_architecture_matches_design_note() -> None:
    net = FactoredRecurrentActorCritic(STATE_DIM)
    linear, norm, relu = net.feature_net
    assert isinstance(linear, nn.Linear) and (linear.in_features, linear.out_features) == (STATE_DIM, 128)
    assert isinstance(norm, nn.LayerNorm) and isinstance(relu, nn.ReLU)
    assert isinstance(net.lstm, nn.LSTMCell) and (net.lstm.input_size, net.lstm.hidden_size) == (128, 128)
    assert isinstance(net.lstm_norm, nn.LayerNorm)
    assert list(net.heads) == list(HEAD_NAMES)
    for name, size in [*HEAD_SIZES.items(), ("value", 1)]:
        head = net.value_head if name == "value" else net.heads[name]
        first, act, last = head
        assert isinstance(first, nn.Linear) and (first.in_features, first.out_features) == (128, 64)
        assert isinstance(act, nn.ReLU)
        assert isinstance(last, nn.Linear) and (last.in_features, last.out_features) == (64, size)


@pytest.mark.req("SYS.5.1.2")
def test_orthogonal_init_with_small_policy_gain() -> None:
    net = FactoredRecurrentActorCritic(STATE_DIM)
    for name in HEAD_NAMES:
        out = net.heads[name][2]
        gram = out.weight @ out.weight.T  # (n, n): rows are orthogonal with norm = gain
        torch.testing.assert_close(gram, POLICY_OUTPUT_GAIN**2 * torch.eye(out.out_features), atol=1e-7, rtol=1e-4)
        assert torch.count_nonzero(out.bias) == 0
    first = net.feature_net[0]
    torch.testing.assert_close(first.weight.T @ first.weight, 2.0 * torch.eye(STATE_DIM), atol=1e-4, rtol=1e-4)
    gate = net.lstm.weight_hh[:128]
    torch.testing.assert_close(gate @ gate.T, torch.eye(128), atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        probs = torch.softmax(net(torch.randn(16, STATE_DIM))["blueprint_logits"], -1)
    assert float((probs - 1.0 / HEAD_SIZES["blueprint"]).abs().max()) < 0.01  # near-uniform initial policy


@pytest.mark.req("SYS.5.1.3")
@settings(max_examples=25, deadline=None)
@given(masks=mask_sets(), seed=st.integers(0, 2**16))
def test_masked_actions_have_zero_probability_and_are_never_sampled(
    small_net: FactoredRecurrentActorCritic, masks: dict[str, torch.Tensor], seed: int
) -> None:
    torch.manual_seed(seed)
    obs = torch.randn(ROWS, STATE_DIM)
    out = small_net(obs, masks=masks)
    for name in HEAD_NAMES:
        probs = torch.softmax(out[f"{name}_logits"], -1)
        assert torch.all(probs[~masks[name]] == 0.0), name
    for _ in range(20):
        actions, log_probs, _, _ = small_net.get_action(obs, None, masks)
        for name in HEAD_NAMES:
            assert bool(masks[name].gather(1, actions[name].unsqueeze(1)).all()), name
            assert bool(torch.isfinite(log_probs[name]).all())


@pytest.mark.req("SYS.5.1.3")
@settings(max_examples=20, deadline=None)
@given(masks=mask_sets())
def test_no_nan_in_log_prob_entropy_or_grad_with_masks(
    small_net: FactoredRecurrentActorCritic, masks: dict[str, torch.Tensor]
) -> None:
    small_net.zero_grad(set_to_none=True)
    obs = torch.randn(ROWS, 1, STATE_DIM)
    seq_masks = {name: m.unsqueeze(1) for name, m in masks.items()}
    actions = {name: m.float().argmax(-1).unsqueeze(1) for name, m in masks.items()}
    log_probs, entropy, values = small_net.evaluate_actions(obs, actions, None, seq_masks)
    loss = values.sum()
    for name in HEAD_NAMES:
        assert bool(torch.isfinite(log_probs[name]).all() and torch.isfinite(entropy[name]).all())
        single_valid = masks[name].sum(-1) == 1
        assert torch.all(entropy[name][single_valid.unsqueeze(1)] == 0.0)  # only masked entries would add entropy
        loss = loss + log_probs[name].sum() + entropy[name].sum()
    torch.autograd.backward(loss)
    for param in small_net.parameters():
        assert param.grad is not None and bool(torch.isfinite(param.grad).all())


@pytest.mark.req("SYS.5.1.3")
def test_row_without_valid_action_is_an_error(small_net: FactoredRecurrentActorCritic) -> None:
    masks = random_masks(small_net.head_sizes, 3)
    masks["tempo"][1] = False
    with pytest.raises(ValueError, match=r"masks\['tempo'\] has a row with no valid action at index \[1\]"):
        small_net.get_action(torch.randn(3, STATE_DIM), None, masks)


@pytest.mark.req("SYS.5.3.2", "SYS.6.3.1")
def test_replayed_log_probs_equal_rollout_log_probs_across_episode_boundaries() -> None:
    agent = PPOAgent(STATE_DIM, hidden_dim=32)
    buffer = collect(agent, num_envs=3, steps=10, episode_len=4)
    batch = buffer.get_batched_sequences()
    assert batch["episode_starts"][:, 4].all() and batch["episode_starts"][:, 8].all()
    actions = {name: batch[f"{name}_actions"] for name in HEAD_NAMES}
    masks = {name: batch[f"{name}_masks"] for name in HEAD_NAMES}
    hidden = (batch["initial_h"], batch["initial_c"])
    log_probs, _, values = agent.network.evaluate_actions(
        batch["obs"], actions, hidden, masks, batch["episode_starts"]
    )
    for name in HEAD_NAMES:
        torch.testing.assert_close(log_probs[name], batch[f"{name}_log_probs"], atol=1e-5, rtol=0)
    torch.testing.assert_close(values, batch["values"], atol=1e-5, rtol=0)
    # Teeth: replaying without the episode resets carries memory across the boundary and changes the result.
    leaky, _, _ = agent.network.evaluate_actions(batch["obs"], actions, hidden, masks)
    assert float((leaky["op"][:, 4:].detach() - batch["op_log_probs"][:, 4:]).abs().max()) > 1e-5


def _assert_compiles(fn: Callable[..., object], *args: object) -> object:
    compiled = torch.compile(fn, fullgraph=True, backend="eager")
    return compiled(*args)


@pytest.mark.req("DEC.simic_agent.1")
def test_forward_get_action_and_evaluate_compile_without_graph_breaks() -> None:
    torch._dynamo.reset()
    net = FactoredRecurrentActorCritic(STATE_DIM, hidden_dim=32)
    obs = torch.randn(2, 3, STATE_DIM)
    masks = {name: m.reshape(2, 3, -1) for name, m in random_masks(net.head_sizes, 6).items()}
    starts = torch.tensor([[False, True, False], [False, False, False]])
    out = _assert_compiles(net.forward, obs, None, masks, starts)
    eager = net(obs, None, masks, starts)
    assert isinstance(out, dict)
    torch.testing.assert_close(out["tempo_logits"], eager["tempo_logits"])

    step_masks = {name: m[:, 0] for name, m in masks.items()}
    greedy = _assert_compiles(lambda o, m: net.get_action(o, None, m, True), obs[:, 0], step_masks)
    assert isinstance(greedy, tuple)
    assert torch.equal(greedy[0]["tempo"], net.get_action(obs[:, 0], None, step_masks, True)[0]["tempo"])
    sampled = _assert_compiles(lambda o, m: net.get_action(o, None, m, False), obs[:, 0], step_masks)
    assert isinstance(sampled, tuple) and set(sampled[0]) == set(HEAD_NAMES)

    actions = {name: eager[f"{name}_logits"].argmax(-1) for name in HEAD_NAMES}
    evaluated = _assert_compiles(net.evaluate_actions, obs, actions, None, masks, starts)
    assert isinstance(evaluated, tuple)
    reference = net.evaluate_actions(obs, actions, None, masks, starts)
    torch.testing.assert_close(evaluated[0]["tempo"], reference[0]["tempo"])
    torch.testing.assert_close(evaluated[1]["tempo"], reference[1]["tempo"])
