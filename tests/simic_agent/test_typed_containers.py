"""Typed returns of the policy (NamedTuples), the SequenceBatch minibatch, head sizes and the named PPO loss terms."""

from __future__ import annotations

import inspect

import pytest
import torch

from esper.leyline import HEAD_NAMES, HEAD_SIZES, NUM_BLENDS, NUM_BLUEPRINTS, NUM_OPS, NUM_SLOTS, NUM_TEMPO
from esper.simic.agent import (
    ActionEvaluation,
    ActionSample,
    FactoredRecurrentActorCritic,
    LSTMState,
    PPOAgent,
    PPOConfig,
    SequenceBatch,
)
from esper.simic.agent import ppo as ppo_module

from tests.simic_agent.rollouts import STATE_DIM, collect, random_masks

HIDDEN = 16


@pytest.fixture(scope="module")
def net() -> FactoredRecurrentActorCritic:
    torch.manual_seed(0)
    return FactoredRecurrentActorCritic(STATE_DIM, hidden_dim=HIDDEN)


@pytest.mark.req("ISSUE.14.9")
def test_get_action_returns_a_named_tuple_that_unpacks_like_the_plan(net: FactoredRecurrentActorCritic) -> None:
    obs, masks = torch.randn(3, STATE_DIM), random_masks(net.head_sizes, 3)
    torch.manual_seed(5)
    step = net.get_action(obs, None, masks)
    assert isinstance(step, ActionSample) and step._fields == ("actions", "log_probs", "value", "hidden")
    torch.manual_seed(5)
    actions, log_probs, value, hidden = net.get_action(obs, None, masks)  # plan Task 8.4's unpacking
    for name in HEAD_NAMES:
        assert torch.equal(step.actions[name], actions[name]) and torch.equal(step.log_probs[name], log_probs[name])
    assert torch.equal(step.value, value) and value.shape == (3,)
    assert isinstance(hidden, LSTMState) and hidden.h.shape == hidden.c.shape == (3, HIDDEN)
    assert torch.equal(hidden.h, hidden[0]) and torch.equal(hidden.c, hidden[1])
    # A plain (h, c) tuple is still accepted, and gives the same result as the NamedTuple.
    plain = net.get_action(obs, (hidden.h, hidden.c), masks, deterministic=True)
    named = net.get_action(obs, hidden, masks, deterministic=True)
    assert torch.equal(plain.hidden.h, named.hidden.h) and torch.equal(plain.value, named.value)
    zeros = net.initial_hidden(2)
    assert isinstance(zeros, LSTMState) and not zeros.h.any() and not zeros.c.any()
    reset = net.reset_hidden(hidden, torch.tensor([True, False, True]))
    assert isinstance(reset, LSTMState) and not reset.h[0].any() and torch.equal(reset.c[1], hidden.c[1])
    agent = PPOAgent(STATE_DIM, hidden_dim=HIDDEN)
    assert isinstance(agent.get_action(obs, None, masks), ActionSample)
    assert isinstance(agent.initial_hidden(3), LSTMState)


@pytest.mark.req("ISSUE.14.10", "DEC.api.1")
def test_evaluate_actions_returns_the_plans_three_values_in_order(net: FactoredRecurrentActorCritic) -> None:
    obs = torch.randn(2, 4, STATE_DIM)
    masks = {name: m.reshape(2, 4, -1) for name, m in random_masks(net.head_sizes, 8).items()}
    out = net(obs, masks=masks)
    actions = {name: out[f"{name}_logits"].argmax(-1) for name in HEAD_NAMES}  # type: ignore[literal-required]
    evaluation = net.evaluate_actions(obs, actions, None, masks)
    assert isinstance(evaluation, ActionEvaluation) and evaluation._fields == ("log_probs", "entropy", "value")
    log_probs, entropies, value = evaluation  # plan Task 8.5's unpacking, unchanged
    torch.testing.assert_close(value, out["value"])
    for name in HEAD_NAMES:
        logits = out[f"{name}_logits"]  # type: ignore[literal-required]
        log_p = torch.log_softmax(logits, -1)
        torch.testing.assert_close(log_probs[name], log_p.gather(-1, actions[name].unsqueeze(-1)).squeeze(-1))
        expected = -torch.where(masks[name], log_p.exp() * log_p, torch.zeros_like(log_p)).sum(-1)
        torch.testing.assert_close(entropies[name], expected)
        assert evaluation.entropy[name] is entropies[name]


@pytest.mark.req("ISSUE.14.11", "DEC.api.2")
def test_batched_sequences_are_a_typed_dataclass_with_the_plans_flat_names() -> None:
    torch.manual_seed(1)
    agent = PPOAgent(STATE_DIM, hidden_dim=HIDDEN)
    buffer = collect(agent, 3, 5, episode_len=2)
    batch = buffer.get_batched_sequences()
    assert isinstance(batch, SequenceBatch) and (batch.num_sequences, batch.num_steps) == (3, 5)
    assert list(batch.actions) == list(HEAD_NAMES) and batch.masks["tempo"].shape == (3, 5, HEAD_SIZES["tempo"])
    assert isinstance(batch.initial_hidden, LSTMState) and batch.initial_hidden.h.shape == (3, HIDDEN)
    for name in HEAD_NAMES:  # plan Task 9 / 10.1 names read the same tensors
        assert batch[f"{name}_actions"] is batch.actions[name] and batch[f"{name}_masks"] is batch.masks[name]
        assert batch[f"{name}_log_probs"] is batch.log_probs[name]
        assert f"{name}_actions" in batch
    assert batch["initial_h"] is batch.initial_hidden.h and batch["valid"] is batch.valid and batch["obs"] is batch.obs
    assert len(batch.keys()) == 1 + 3 * len(HEAD_NAMES) + 8 + 2
    with pytest.raises(KeyError, match=r"'speed_actions' is not a SequenceBatch key; valid: \['obs', 'slot_actions'"):
        batch["speed_actions"]
    assert "speed_actions" not in batch

    rows = torch.tensor([2, 0])
    mb = batch.select(rows)
    assert isinstance(mb, SequenceBatch) and mb.num_sequences == 2
    assert torch.equal(mb.obs, batch.obs[rows]) and torch.equal(mb.actions["op"], batch.actions["op"][rows])
    assert torch.equal(mb.episode_starts, batch.episode_starts[rows])
    assert torch.equal(mb.initial_hidden.c, batch.initial_hidden.c[rows])
    with pytest.raises(TypeError, match="index must be a 1-D int64 tensor"):
        batch.select(torch.tensor([0.0]))
    doubled = batch.with_advantages(batch.advantages * 2)
    assert torch.equal(doubled.advantages, batch.advantages * 2) and doubled.obs is batch.obs
    with pytest.raises(ValueError, match=r"advantages must be a tensor of shape \(3, 5\)"):
        batch.with_advantages(torch.zeros(3))


@pytest.mark.req("ISSUE.14.12")
def test_network_head_sizes_default_to_leyline_constants() -> None:
    defaults = {k: p.default for k, p in inspect.signature(FactoredRecurrentActorCritic).parameters.items()}
    assert (defaults["num_slots"], defaults["num_blueprints"], defaults["num_blend"]) == (
        NUM_SLOTS,
        NUM_BLUEPRINTS,
        NUM_BLENDS,
    )
    assert (defaults["num_tempo"], defaults["num_ops"]) == (NUM_TEMPO, NUM_OPS)
    assert FactoredRecurrentActorCritic(STATE_DIM, hidden_dim=8).head_sizes == HEAD_SIZES


@pytest.mark.req("ISSUE.14.13")
def test_minibatch_loss_is_the_sum_of_its_named_terms_with_causal_masks_computed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(2)
    config = PPOConfig(ppo_epochs=1, n_minibatches=2, target_kl=None, entropy_floor=1.5, entropy_floor_coef=0.3)
    agent = PPOAgent(STATE_DIM, config, hidden_dim=HIDDEN)
    buffer = collect(agent, 4, 6, episode_len=3)
    buffer.compute_gae(config.gamma, config.gae_lambda)
    mb = buffer.get_batched_sequences()
    calls = []
    causal = ppo_module.causal_head_masks

    def counting(op_actions: torch.Tensor) -> dict[str, torch.Tensor]:
        calls.append(op_actions.shape)
        return causal(op_actions)

    monkeypatch.setattr(ppo_module, "causal_head_masks", counting)
    with torch.no_grad():
        loss, stats = agent._minibatch_loss(mb)
        new = agent.network.evaluate_actions(mb.obs, mb.actions, mb.initial_hidden, mb.masks, mb.episode_starts)
    assert len(calls) == 1  # once per minibatch, shared by the policy, entropy and floor terms
    relevant = causal(mb.actions["op"])
    counted = {name: relevant[name] & mb.valid for name in HEAD_NAMES}
    steps = mb.valid.sum().to(torch.float32)
    ratio = {
        name: torch.where(counted[name], new.log_probs[name] - mb.log_probs[name], 0.0).exp() for name in HEAD_NAMES
    }
    policy = ppo_module._policy_term(ratio, mb.advantages, counted, steps, config.clip_ratio)
    value = ppo_module._value_term(new.value, mb.returns, mb.values, mb.valid, steps, config.value_clip)
    entropy = ppo_module._entropy_term(new.entropy, counted, steps, config.entropy_coef_per_head)
    floor = ppo_module._entropy_floor_term(new.entropy, counted, mb.masks, config.entropy_floor)
    assert float(floor) > 0.0  # the floor (1.5 nats) binds for the 3-way heads, so the term is exercised
    expected = policy + config.value_coef * value - config.entropy_coef * entropy + config.entropy_floor_coef * floor
    assert float(loss) == pytest.approx(float(expected), abs=1e-6)
    assert float(stats["policy_loss"]) == pytest.approx(float(policy), abs=1e-6)
    assert float(stats["value_loss"]) == pytest.approx(float(value), abs=1e-6)
    assert float(stats["entropy_floor_penalty"]) == pytest.approx(float(floor), abs=1e-6)

    calls.clear()
    agent.update(buffer)
    assert len(calls) == 1  # once per update for all its minibatches (n_minibatches=2; DEC.perf.5)


@pytest.mark.req("ISSUE.14.13")
def test_loss_terms_on_hand_made_inputs() -> None:
    counted = {"op": torch.tensor([[True, True, False]]), "slot": torch.tensor([[True, False, False]])}
    adv = torch.tensor([[1.0, -2.0, 5.0]])
    steps = torch.tensor(2.0)  # the third step is padding
    unit = {name: torch.ones(1, 3) for name in counted}
    # ratio 1: -(sum of counted advantages) / steps per head = -((1 - 2) + 1) / 2 = 0
    assert float(ppo_module._policy_term(unit, adv, counted, steps, 0.2)) == pytest.approx(0.0)
    high = {name: torch.full((1, 3), 1.5) for name in counted}  # clipped to 1.2 where A > 0, 1.5 kept where A < 0
    expected = -((1.2 * 1 + 1.5 * -2) + 1.2 * 1) / 2
    assert float(ppo_module._policy_term(high, adv, counted, steps, 0.2)) == pytest.approx(expected)
    entropy = {"op": torch.tensor([[0.5, 0.7, 9.0]]), "slot": torch.tensor([[0.2, 9.0, 9.0]])}
    bonus = ppo_module._entropy_term(entropy, counted, steps, {"op": 1.0, "slot": 2.0})
    assert float(bonus) == pytest.approx((0.5 + 0.7) / 2 + 2.0 * 0.2 / 2)
    validity = {"op": torch.ones(1, 3, 4, dtype=torch.bool), "slot": torch.zeros(1, 3, 3, dtype=torch.bool)}
    validity["slot"][..., 0] = True  # the slot head never had a choice: it adds no floor penalty
    floor = ppo_module._entropy_floor_term(entropy, counted, validity, 1.0)
    assert float(floor) == pytest.approx(1.0 - 0.6)
    assert float(ppo_module._entropy_floor_term(entropy, counted, validity, 0.0)) == 0.0
    value = ppo_module._value_term(
        torch.tensor([[1.0, 0.0, 7.0]]), torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[0.5, 0.0, 0.0]]),
        torch.tensor([[True, True, False]]), steps, 0.2,
    )
    assert float(value) == pytest.approx(0.5 * (1.0 + 0.0) / 2)  # max(unclipped 1.0, clipped 0.7**2) = 1.0
