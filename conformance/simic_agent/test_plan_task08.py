"""Plan Task 8 (network) and its checklist lines."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from esper.leyline import HEAD_NAMES, HEAD_SIZES, NUM_BLUEPRINTS, NUM_TEMPO
from esper.leyline.defaults import MASKED_LOGIT
from esper.simic.agent.network import FactoredRecurrentActorCritic, _ForwardOutput

from conformance.simic_agent.rollouts import STATE_DIM, random_masks


@pytest.fixture
def net() -> FactoredRecurrentActorCritic:
    return FactoredRecurrentActorCritic(STATE_DIM)


@pytest.mark.req("T08.1", "CHK.08.2")
def test_forward_output_typed_dict_has_tempo_logits() -> None:
    keys = set(_ForwardOutput.__annotations__)
    assert "tempo_logits" in keys
    assert keys == {f"{name}_logits" for name in HEAD_NAMES} | {"value", "hidden"}


@pytest.mark.req("T08.2", "CHK.08.1")
def test_tempo_head_exists_and_is_sized_by_num_tempo(net: FactoredRecurrentActorCritic) -> None:
    for name in HEAD_NAMES:
        head = getattr(net, f"{name}_head")
        last = head[-1]
        assert isinstance(last, nn.Linear) and last.out_features == HEAD_SIZES[name]
    assert net.tempo_head[-1].out_features == NUM_TEMPO == 3
    custom = FactoredRecurrentActorCritic(STATE_DIM, num_tempo=5, num_blueprints=NUM_BLUEPRINTS)
    assert custom.tempo_head[-1].out_features == 5
    assert custom.head_sizes["tempo"] == 5


@pytest.mark.req("T08.3", "CHK.08.3")
def test_forward_computes_and_masks_tempo_logits(net: FactoredRecurrentActorCritic) -> None:
    obs = torch.randn(4, 6, STATE_DIM)
    out = net(obs)
    assert out["tempo_logits"].shape == (4, 6, NUM_TEMPO)
    assert out["value"].shape == (4, 6)
    masks = {name: torch.ones(4, 6, size, dtype=torch.bool) for name, size in HEAD_SIZES.items()}
    masks["tempo"][..., 0] = False
    masked = net(obs, masks=masks)
    assert torch.all(masked["tempo_logits"][..., 0] == MASKED_LOGIT)
    torch.testing.assert_close(masked["tempo_logits"][..., 1:], out["tempo_logits"][..., 1:])
    single = net(obs[:, 0])
    assert single["tempo_logits"].shape == (4, NUM_TEMPO)
    torch.testing.assert_close(single["tempo_logits"], out["tempo_logits"][:, 0])


@pytest.mark.req("T08.4", "CHK.08.4")
def test_get_action_samples_tempo(net: FactoredRecurrentActorCritic) -> None:
    obs = torch.randn(64, STATE_DIM)
    masks = random_masks(net.head_sizes, 64)
    actions, log_probs, value, hidden = net.get_action(obs, None, masks)
    assert set(actions) == set(HEAD_NAMES) == set(log_probs)
    tempo = actions["tempo"]
    assert tempo.shape == (64,) and tempo.dtype == torch.long
    assert bool(((tempo >= 0) & (tempo < NUM_TEMPO)).all())
    assert bool(masks["tempo"].gather(1, tempo.unsqueeze(1)).all())
    assert len(set(tempo.tolist())) > 1  # sampled, not constant
    expected = torch.log_softmax(net(obs, masks=masks)["tempo_logits"], -1).gather(1, tempo.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(log_probs["tempo"], expected)
    assert value.shape == (64,) and hidden[0].shape == (64, net.hidden_dim)
    greedy, _, _, _ = net.get_action(obs, None, masks, deterministic=True)
    masked_logits = net(obs, masks=masks)["tempo_logits"]
    assert torch.equal(greedy["tempo"], masked_logits.argmax(-1))


@pytest.mark.req("T08.5", "CHK.08.5")
def test_evaluate_actions_gives_tempo_log_prob_and_entropy(net: FactoredRecurrentActorCritic) -> None:
    obs = torch.randn(3, 5, STATE_DIM)
    masks = {name: m.reshape(3, 5, -1) for name, m in random_masks(net.head_sizes, 15).items()}
    logits = net(obs, masks=masks)
    actions = {name: logits[f"{name}_logits"].argmax(-1) for name in ("slot", "blueprint", "blend", "tempo", "op")}
    log_probs, entropy, values = net.evaluate_actions(obs, actions, None, masks)
    log_p = torch.log_softmax(logits["tempo_logits"], -1)
    torch.testing.assert_close(log_probs["tempo"], log_p.gather(-1, actions["tempo"].unsqueeze(-1)).squeeze(-1))
    probs = log_p.exp()
    reference = -(torch.where(masks["tempo"], probs * log_p, torch.zeros_like(probs))).sum(-1)
    torch.testing.assert_close(entropy["tempo"], reference)
    assert entropy["tempo"].shape == (3, 5) and values.shape == (3, 5)
