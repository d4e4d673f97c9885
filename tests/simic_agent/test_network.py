"""Unit tests: FactoredRecurrentActorCritic helpers and argument errors."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES
from esper.simic.agent.network import FactoredRecurrentActorCritic

from conformance.simic_agent.rollouts import random_masks

DIM = 10


@pytest.fixture
def net() -> FactoredRecurrentActorCritic:
    return FactoredRecurrentActorCritic(DIM, hidden_dim=8)


def test_constructor_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="num_tempo must be an int >= 1, got 0"):
        FactoredRecurrentActorCritic(DIM, num_tempo=0)
    with pytest.raises(ValueError, match="state_dim must be an int >= 1"):
        FactoredRecurrentActorCritic(0)


def test_initial_and_reset_hidden(net: FactoredRecurrentActorCritic) -> None:
    h, c = net.initial_hidden(3)
    assert h.shape == c.shape == (3, 8) and not bool(h.any()) and h.data_ptr() != c.data_ptr()
    _, _, _, hidden = net.get_action(torch.randn(3, DIM), (h, c), random_masks(net.head_sizes, 3))
    reset = net.reset_hidden(hidden, torch.tensor([False, True, False]))
    assert not bool(reset[0][1].any()) and not bool(reset[1][1].any())
    assert torch.equal(reset[0][0], hidden[0][0]) and torch.equal(reset[1][2], hidden[1][2])
    with pytest.raises(ValueError, match=r"episode_done must be a bool tensor of shape \(3,\)"):
        net.reset_hidden(hidden, torch.tensor([0, 1, 0]))


def test_hidden_is_carried_between_calls(net: FactoredRecurrentActorCritic) -> None:
    obs = torch.randn(2, 4, DIM)
    whole = net(obs)
    first = net(obs[:, :2])
    second = net(obs[:, 2:], first["hidden"])
    torch.testing.assert_close(second["op_logits"], whole["op_logits"][:, 2:])
    torch.testing.assert_close(second["hidden"][0], whole["hidden"][0])


def test_argument_errors(net: FactoredRecurrentActorCritic) -> None:
    with pytest.raises(TypeError, match="obs must be a torch.Tensor"):
        net([[0.0] * DIM])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="obs must have dtype torch.float32, got torch.float64"):
        net(torch.randn(2, DIM, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"obs must have shape \(B, 10\) or \(B, T, 10\) with B >= 1"):
        net(torch.randn(0, DIM))
    with pytest.raises(TypeError, match=r"hidden must be a tuple \(h, c\)"):
        net(torch.randn(2, DIM), torch.zeros(2, 8))  # type: ignore[arg-type]
    masks = {name: m.float() for name, m in random_masks(net.head_sizes, 2).items()}
    with pytest.raises(ValueError, match=r"masks\['slot'\] must have dtype torch.bool, got torch.float32"):
        net(torch.randn(2, DIM), masks=masks)
    with pytest.raises(ValueError, match=r"episode_starts must be a bool tensor of shape \(2, 3\)"):
        net(torch.randn(2, 3, DIM), episode_starts=torch.zeros(2, 2, dtype=torch.bool))


def test_evaluate_actions_argument_errors(net: FactoredRecurrentActorCritic) -> None:
    obs = torch.randn(2, 3, DIM)
    actions = {name: torch.zeros(2, 3, dtype=torch.long) for name in HEAD_NAMES}
    with pytest.raises(ValueError, match=r"obs must have shape \(B, T, 10\), got \(2, 10\)"):
        net.evaluate_actions(obs[:, 0], actions)
    with pytest.raises(ValueError, match=r"actions\['op'\] must have shape \(2, 3\), got \(2,\)"):
        net.evaluate_actions(obs, dict(actions, op=torch.zeros(2, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"actions\['op'\] must have dtype torch.int64"):
        net.evaluate_actions(obs, dict(actions, op=torch.zeros(2, 3, dtype=torch.int32)))
    with pytest.raises(ValueError, match=r"unknown \['speed'\]"):
        net.evaluate_actions(obs, dict(actions, speed=torch.zeros(2, 3, dtype=torch.long)))
    log_probs, entropy, values = net.evaluate_actions(obs, actions)
    assert values.shape == (2, 3)
    assert all(log_probs[n].shape == entropy[n].shape == (2, 3) for n in HEAD_NAMES)


def test_named_head_missing_is_attribute_error(net: FactoredRecurrentActorCritic) -> None:
    del net.heads["tempo"]
    with pytest.raises(AttributeError, match="has no attribute 'tempo_head'"):
        _ = net.tempo_head
