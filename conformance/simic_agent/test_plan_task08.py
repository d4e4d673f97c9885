"""Plan Task 8 (network) and its checklist lines, through the plan's signatures and tuple unpacking:
``forward(obs, hidden, masks) -> _ForwardOutput``, ``get_action(obs, hidden, masks, deterministic) ->
(actions, log_probs, value, hidden)``, ``evaluate_actions(obs, actions, hidden, masks)`` with log-probs first."""

from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING

import pytest
import torch

if TYPE_CHECKING:
    from esper.simic.agent.network import FactoredRecurrentActorCritic

BATCH = 64
Masks = dict[str, torch.Tensor]


def _net(num_tempo: int | None = None) -> FactoredRecurrentActorCritic:
    from esper.simic.agent.network import FactoredRecurrentActorCritic
    from esper.tamiyo.policy.features import get_feature_size

    if num_tempo is None:
        return FactoredRecurrentActorCritic(get_feature_size(3))
    return FactoredRecurrentActorCritic(get_feature_size(3), num_tempo=num_tempo)


def _obs(*lead: int) -> torch.Tensor:
    from esper.tamiyo.policy.features import get_feature_size

    return torch.randn(*lead, get_feature_size(3))


def _sizes(net: FactoredRecurrentActorCritic) -> dict[str, int]:
    from esper.leyline import HEAD_NAMES

    out = net(_obs(1))
    return {name: int(out[f"{name}_logits"].shape[-1]) for name in HEAD_NAMES}


def _masks(net: FactoredRecurrentActorCritic, *lead: int) -> Masks:
    masks: Masks = {}
    for name, size in _sizes(net).items():
        mask = torch.rand(*lead, size) < 0.6
        mask[..., 0] = True
        masks[name] = mask
    return masks


@pytest.mark.req("T08.1", "CHK.08.2")
def test_forward_output_typed_dict_has_tempo_logits() -> None:
    from esper.leyline import HEAD_NAMES
    from esper.simic.agent.network import _ForwardOutput

    keys = set(_ForwardOutput.__annotations__)
    assert "tempo_logits" in keys
    assert {f"{name}_logits" for name in HEAD_NAMES} | {"value", "hidden"} <= keys


@pytest.mark.req("T08.2", "CHK.08.1")
def test_tempo_head_exists_and_is_sized_by_num_tempo() -> None:
    from esper.leyline.factored_actions import NUM_TEMPO
    from esper.simic.agent.network import FactoredRecurrentActorCritic

    sig = inspect.signature(FactoredRecurrentActorCritic.__init__)
    assert list(sig.parameters)[:8] == [
        "self", "state_dim", "hidden_dim", "num_slots", "num_blueprints", "num_blend", "num_tempo", "num_ops"
    ]
    assert sig.parameters["num_tempo"].default == NUM_TEMPO == 3
    net = _net()
    assert isinstance(net.tempo_head, torch.nn.Module)
    assert _sizes(net)["tempo"] == NUM_TEMPO
    assert _sizes(_net(num_tempo=5))["tempo"] == 5


@pytest.mark.req("T08.3", "CHK.08.3")
def test_forward_computes_and_masks_tempo_logits() -> None:
    from esper.leyline.factored_actions import NUM_TEMPO

    net = _net()
    obs = _obs(4)
    out = net(obs)
    assert out["tempo_logits"].shape == (4, NUM_TEMPO)
    masks = _masks(net, 4)
    masks["tempo"] = torch.tensor([[True, False, True]] * 4)
    masked = net(obs, None, masks)
    logits = masked["tempo_logits"]
    assert torch.isfinite(logits).all(), "masked logits must be large finite negatives, never -inf/NaN"
    assert bool((logits[:, 1] < logits[:, 0] - 1e3).all()) and bool((logits[:, 1] < logits[:, 2] - 1e3).all())
    torch.testing.assert_close(logits[:, [0, 2]], out["tempo_logits"][:, [0, 2]])


@pytest.mark.req("T08.4", "CHK.08.4")
def test_get_action_samples_tempo() -> None:
    from esper.leyline import HEAD_NAMES
    from esper.leyline.factored_actions import NUM_TEMPO

    net = _net()
    obs, masks = _obs(BATCH), _masks(net, BATCH)
    actions, log_probs, value, hidden = net.get_action(obs, None, masks, False)
    assert set(actions) == set(HEAD_NAMES) == set(log_probs)
    tempo = actions["tempo"]
    assert tempo.shape == (BATCH,) and tempo.dtype == torch.long
    assert bool(((tempo >= 0) & (tempo < NUM_TEMPO)).all())
    assert bool(masks["tempo"].gather(1, tempo.unsqueeze(1)).all()), "a masked tempo was sampled"
    assert len(set(tempo.tolist())) > 1, "tempo must be sampled, not constant"
    expected = torch.log_softmax(net(obs, None, masks)["tempo_logits"], -1).gather(1, tempo.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(log_probs["tempo"], expected)
    assert value.shape == (BATCH,) and len(hidden) == 2
    greedy, _, _, _ = net.get_action(obs, None, masks, True)
    assert torch.equal(greedy["tempo"], net(obs, None, masks)["tempo_logits"].argmax(-1))


def _log_probs_entropies_value(result: tuple[object, ...]) -> tuple[Masks, Masks, torch.Tensor]:
    """The plan's ``(log_probs, entropies, value)``, by position (a NamedTuple or longer tuple passes)."""
    log_probs, entropies, value = result[0], result[1], result[2]
    assert isinstance(log_probs, dict), f"evaluate_actions()[0] must be the log-prob dict, got {type(log_probs)}"
    assert isinstance(entropies, dict), f"evaluate_actions()[1] must be the entropy dict, got {type(entropies)}"
    assert isinstance(value, torch.Tensor), f"evaluate_actions()[2] must be the value tensor, got {type(value)}"
    return log_probs, entropies, value


@pytest.mark.req("T08.5", "CHK.08.5")
def test_evaluate_actions_gives_tempo_log_prob_and_entropy() -> None:
    from esper.leyline import HEAD_NAMES

    net = _net()
    obs, masks = _obs(3, 5), _masks(net, 3, 5)
    logits = net(obs, None, masks)
    actions = {name: logits[f"{name}_logits"].argmax(-1) for name in HEAD_NAMES}
    log_probs, entropies, value = _log_probs_entropies_value(tuple(net.evaluate_actions(obs, actions, None, masks)))
    log_p = torch.log_softmax(logits["tempo_logits"], -1)
    torch.testing.assert_close(log_probs["tempo"], log_p.gather(-1, actions["tempo"].unsqueeze(-1)).squeeze(-1))
    probs = log_p.exp()
    reference = -(torch.where(masks["tempo"], probs * log_p, torch.zeros_like(probs))).sum(-1)
    torch.testing.assert_close(entropies["tempo"], reference, rtol=1e-4, atol=1e-5)
    assert entropies["tempo"].shape == (3, 5) and value.shape == (3, 5)


@pytest.mark.req("PLAN.7")
def test_fresh_tempo_head_starts_at_maximum_entropy() -> None:
    from esper.leyline import HEAD_NAMES

    net = _net()
    obs = _obs(16, 2)
    masks = {name: torch.ones(16, 2, size, dtype=torch.bool) for name, size in _sizes(net).items()}
    actions = {name: torch.zeros(16, 2, dtype=torch.long) for name in HEAD_NAMES}
    _, entropies, _ = _log_probs_entropies_value(tuple(net.evaluate_actions(obs, actions, None, masks)))
    assert abs(float(entropies["tempo"].detach().mean()) - math.log(3)) < 0.01
