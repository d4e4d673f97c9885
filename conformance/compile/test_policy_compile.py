"""CHK.15.2 for the policy: forward, get_action and evaluate_actions are one graph each, and stay compiled.

Calls use the plan's signatures and tuple unpacking only (``forward(obs, hidden, masks)``,
``get_action(obs, hidden, masks, deterministic)``, ``evaluate_actions(obs, actions, hidden, masks)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import torch

from conformance.compile.checker import GraphBreakError, GraphCounter, compile_fullgraph

if TYPE_CHECKING:
    from esper.simic.agent.network import FactoredRecurrentActorCritic

BATCH = 4
Masks = dict[str, torch.Tensor]


def _policy() -> FactoredRecurrentActorCritic:
    from esper.simic.agent.network import FactoredRecurrentActorCritic
    from esper.tamiyo.policy.features import get_feature_size

    return FactoredRecurrentActorCritic(get_feature_size(3), hidden_dim=32)


def _obs(net: FactoredRecurrentActorCritic, *lead: int) -> torch.Tensor:
    from esper.tamiyo.policy.features import get_feature_size

    return torch.randn(*lead, get_feature_size(3))


def _masks(net: FactoredRecurrentActorCritic, *lead: int, seed: int = 0) -> Masks:
    """Random masks with at least one valid entry per row, sized from an eager forward's logits."""
    from esper.leyline import HEAD_NAMES

    out = net(_obs(net, 1))
    gen = torch.Generator().manual_seed(seed)
    masks: Masks = {}
    for name in HEAD_NAMES:
        size = out[f"{name}_logits"].shape[-1]
        mask = torch.rand(*lead, size, generator=gen) < 0.6
        mask[..., int(torch.randint(size, (1,), generator=gen))] = True
        masks[name] = mask
    return masks


@pytest.mark.req("CHK.15.2")
def test_forward_is_one_graph_and_matches_eager() -> None:
    net = _policy()
    counter = GraphCounter()
    forward = compile_fullgraph(net.forward, counter)
    obs, masks = _obs(net, BATCH), _masks(net, BATCH)
    out = forward(obs, None, masks)
    ref = net(obs, None, masks)
    for key in ("tempo_logits", "op_logits", "value"):
        torch.testing.assert_close(out[key], ref[key])
    assert counter.graphs == 1


@pytest.mark.req("CHK.15.2")
@pytest.mark.parametrize("deterministic", [True, False])
def test_get_action_does_not_recompile_across_episodes(deterministic: bool) -> None:
    """Warm up on one episode (first step without hidden state, then with); a second episode with other
    observations and masks compiles nothing new."""
    net = _policy()
    counter = GraphCounter()
    get_action = compile_fullgraph(net.get_action, counter)

    def episode(seed: int) -> None:
        torch.manual_seed(seed)
        hidden = None
        for step in range(3):
            masks = _masks(net, BATCH, seed=seed * 10 + step)
            actions, log_probs, value, hidden = get_action(_obs(net, BATCH), hidden, masks, deterministic)
            tempo = actions["tempo"]
            assert tempo.shape == (BATCH,) and bool(masks["tempo"].gather(1, tempo.unsqueeze(1)).all())
            assert torch.isfinite(log_probs["tempo"]).all() and value.shape == (BATCH,)

    episode(1)
    warm = counter.graphs
    assert 1 <= warm <= 2  # at most one graph without and one with a hidden state
    episode(2)
    episode(3)
    assert counter.graphs == warm, f"recompiled {counter.graphs - warm} time(s) after warm-up"


@pytest.mark.req("CHK.15.2")
def test_evaluate_actions_is_one_graph_and_does_not_recompile() -> None:
    from esper.leyline import HEAD_NAMES

    net = _policy()
    counter = GraphCounter()
    evaluate = compile_fullgraph(net.evaluate_actions, counter)
    for seed in range(3):  # sequences (B, T, D), as the recurrent PPO update evaluates them
        obs, masks = _obs(net, BATCH, 5), _masks(net, BATCH, 5, seed=seed)
        actions = {name: masks[name].float().argmax(-1) for name in HEAD_NAMES}
        out = evaluate(obs, actions, None, masks)
        ref = net.evaluate_actions(obs, actions, None, masks)
        torch.testing.assert_close(out[0]["tempo"], ref[0]["tempo"])
    assert counter.graphs == 1


@pytest.mark.slow  # inductor's cold C++ build takes ~50 s on a 2-core machine: run by `make conformance`
@pytest.mark.req("CHK.15.2")
def test_inductor_compiles_the_policy_forward() -> None:
    """The real backend (inductor, C++ on CPU) produces the eager logits."""
    net = _policy()
    obs, masks = _obs(net, BATCH), _masks(net, BATCH)
    with torch.no_grad():
        out = compile_fullgraph(net.forward, backend="inductor")(obs, None, masks)
        ref = net(obs, None, masks)
    torch.testing.assert_close(out["tempo_logits"], ref["tempo_logits"], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out["value"], ref["value"], rtol=1e-4, atol=1e-5)


@pytest.mark.req("CHK.15.2")
def test_checker_catches_a_planted_graph_break() -> None:
    """Negative control: the same checker fails when the tempo head breaks the graph."""
    net = _policy()
    head = net.tempo_head
    eager_forward = head.forward

    # dynamo may not trace into a disabled function: with fullgraph=True that is a graph break
    # (getattr: torch.compiler.disable has no type annotations)
    disable = getattr(torch.compiler, "disable")
    breaking_forward: Callable[[torch.Tensor], torch.Tensor] = disable(eager_forward)

    setattr(head, "forward", breaking_forward)  # the planted defect
    obs, masks = _obs(net, BATCH), _masks(net, BATCH)
    net(obs, None, masks)  # eager still works
    with pytest.raises(GraphBreakError, match="graph break"):
        compile_fullgraph(net.forward, GraphCounter())(obs, None, masks)
