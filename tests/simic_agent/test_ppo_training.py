"""Design note §5 PPO and the §6 traps: every head learns, epochs/minibatches used, KL stop before the step."""

from __future__ import annotations

import copy

import pytest
import torch

import esper.simic.agent.advantages as advantages_module
import esper.simic.agent.ppo as ppo_module
from esper.leyline import HEAD_NAMES, LifecycleOp, defaults
from esper.simic.agent import PPOAgent, PPOConfig, TamiyoRolloutBuffer

from tests.simic_agent.rollouts import STATE_DIM, collect

HIDDEN = 32


def _agent(**config: object) -> PPOAgent:
    return PPOAgent(STATE_DIM, PPOConfig(**config), hidden_dim=HIDDEN)  # type: ignore[arg-type]


def _head_snapshot(agent: PPOAgent) -> dict[str, list[torch.Tensor]]:
    return {name: [p.detach().clone() for p in agent.network.heads[name].parameters()] for name in HEAD_NAMES}


def _gradient_flow_problems(agent: PPOAgent, before: dict[str, list[torch.Tensor]]) -> list[str]:
    """Heads whose parameters lack finite non-zero gradients or did not change in the update."""
    problems = []
    for name in agent.network.head_names:
        params = list(agent.network.heads[name].parameters())
        grads = [p.grad for p in params]
        if any(g is None or not bool(torch.isfinite(g).all()) for g in grads):
            problems.append(name)
        elif all(not bool(g.abs().sum() > 0) for g in grads if g is not None):
            problems.append(name)
        elif all(torch.equal(p.detach(), old) for p, old in zip(params, before[name])):
            problems.append(name)
    return problems


@pytest.mark.req("SYS.5.3.1")
def test_ppo_defaults_come_from_leyline() -> None:
    cfg = PPOConfig()
    assert (cfg.gamma, cfg.gae_lambda, cfg.clip_ratio) == (0.995, 0.97, 0.2) == (
        defaults.DEFAULT_GAMMA,
        defaults.DEFAULT_GAE_LAMBDA,
        defaults.DEFAULT_CLIP_RATIO,
    )
    assert (cfg.lr, cfg.adam_eps, cfg.value_coef, cfg.max_grad_norm) == (3e-4, 1e-5, 0.5, 0.5)
    assert cfg.entropy_coef == 0.05 == defaults.DEFAULT_ENTROPY_COEF
    assert cfg.entropy_coef_per_head == {name: 1.0 for name in HEAD_NAMES}
    assert (cfg.ppo_epochs, cfg.n_minibatches) == (defaults.DEFAULT_PPO_EPOCHS, defaults.DEFAULT_N_MINIBATCHES)
    assert cfg.target_kl == defaults.DEFAULT_TARGET_KL and cfg.value_clip == 0.2
    agent = PPOAgent(STATE_DIM, hidden_dim=HIDDEN)
    group = agent.optimizer.param_groups[0]
    assert isinstance(agent.optimizer, torch.optim.Adam) and group["lr"] == 3e-4 and group["eps"] == 1e-5


@pytest.mark.req("SYS.5.3.2")
def test_first_minibatch_replays_the_rollout_policy_exactly() -> None:
    agent = _agent(ppo_epochs=1, n_minibatches=1)
    metrics = agent.update(collect(agent, 3, 8, episode_len=3))
    assert metrics["approx_kl"] < 1e-9
    assert metrics["clip_fraction"] == 0.0


@pytest.mark.req("SYS.6.2")
def test_every_head_receives_gradients_and_changes() -> None:
    agent = _agent(n_minibatches=1, ppo_epochs=1)
    buffer = collect(agent, 4, 12)
    assert bool((buffer.op_actions == LifecycleOp.GERMINATE).any())
    before = _head_snapshot(agent)
    agent.update(buffer)
    assert _gradient_flow_problems(agent, before) == []


@pytest.mark.req("SYS.6.2")
def test_gradient_flow_check_fails_when_tempo_is_missing_from_head_names(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = _agent(n_minibatches=1, ppo_epochs=1)
    buffer = collect(agent, 4, 12)
    before = _head_snapshot(agent)
    four_heads = tuple(name for name in HEAD_NAMES if name != "tempo")
    monkeypatch.setattr(ppo_module, "HEAD_NAMES", four_heads)
    monkeypatch.setattr(advantages_module, "HEAD_NAMES", four_heads)
    agent.update(buffer)
    grad = agent.network.tempo_head[2].weight.grad  # the head exists but never learns: no or an all-zero gradient
    assert grad is None or not bool(grad.any())  # (all-zero when the heads are evaluated batched, DEC.perf.1)
    assert _gradient_flow_problems(agent, before) == ["tempo"]


class _Spy:
    """Counts optimizer steps and records the env sequences of every evaluated minibatch."""

    def __init__(self, agent: PPOAgent, monkeypatch: pytest.MonkeyPatch) -> None:
        self.steps = 0
        self.minibatches: list[list[float]] = []
        step, evaluate = agent.optimizer.step, agent.network.evaluate_padded  # what the update replays with

        def counting_step(*args: object, **kwargs: object) -> object:
            self.steps += 1
            return step(*args, **kwargs)  # type: ignore[arg-type]

        def recording_evaluate(obs: torch.Tensor, *args: object, **kwargs: object) -> object:
            self.minibatches.append(obs[:, 0, 0].tolist())
            return evaluate(obs, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(agent.optimizer, "step", counting_step)
        monkeypatch.setattr(agent.network, "evaluate_padded", recording_evaluate)


@pytest.mark.req("SYS.6.4.1")
@pytest.mark.parametrize(("epochs", "n_minibatches", "sizes"), [(3, 2, [2, 2]), (2, 3, [2, 1, 1]), (1, 9, [1, 1, 1, 1])])
def test_epochs_and_minibatches_are_really_used(
    monkeypatch: pytest.MonkeyPatch, epochs: int, n_minibatches: int, sizes: list[int]
) -> None:
    agent = _agent(ppo_epochs=epochs, n_minibatches=n_minibatches, target_kl=None)
    buffer = collect(agent, 4, 5)
    envs = sorted(buffer.obs[:, 0, 0].tolist())
    spy = _Spy(agent, monkeypatch)
    metrics = agent.update(buffer)
    assert spy.steps == epochs * len(sizes) == metrics["updates_applied"]
    assert metrics["epochs_completed"] == epochs and metrics["n_minibatches"] == len(sizes)
    for epoch in range(epochs):
        chunk = spy.minibatches[epoch * len(sizes) : (epoch + 1) * len(sizes)]
        assert sorted(len(mb) for mb in chunk) == sorted(sizes)
        assert sorted(x for mb in chunk for x in mb) == pytest.approx(envs)  # a partition of all sequences


@pytest.mark.req("SYS.6.4.2")
def test_kl_early_stop_is_checked_before_the_step_it_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = _agent(ppo_epochs=4, n_minibatches=2, target_kl=1e-12, lr=1e-2)
    buffer = collect(agent, 4, 6)
    spy = _Spy(agent, monkeypatch)
    metrics = agent.update(buffer)
    # Minibatch 1: KL = 0 (nothing changed yet) -> step. Minibatch 2: KL > 1.5 * target -> no step, stop.
    assert len(spy.minibatches) == 2
    assert spy.steps == 1 == metrics["updates_applied"]
    assert metrics["early_stopped"] == 1.0 and metrics["epochs_completed"] == 0.0

    relaxed = _agent(ppo_epochs=2, n_minibatches=2, target_kl=1e6, lr=1e-2)
    metrics = relaxed.update(collect(relaxed, 4, 6))
    assert metrics["early_stopped"] == 0.0 and metrics["updates_applied"] == 4


def _reference_metrics(agent: PPOAgent, buffer: TamiyoRolloutBuffer) -> dict[str, float]:
    """Independent re-computation of one full-batch PPO loss (causal masks written out by hand)."""
    cfg = agent.config
    batch = buffer.get_batched_sequences()
    adv = batch["advantages"]
    adv = (adv - adv.mean()) / (adv.std(unbiased=False) + 1e-8)
    actions = {name: batch[f"{name}_actions"] for name in HEAD_NAMES}
    masks = {name: batch[f"{name}_masks"] for name in HEAD_NAMES}
    with torch.no_grad():
        log_probs, entropy, values = agent.network.evaluate_actions(
            batch["obs"], actions, (batch["initial_h"], batch["initial_c"]), masks, batch["episode_starts"]
        )
    op = batch["op_actions"]
    germinate = op == LifecycleOp.GERMINATE
    relevant = {"op": torch.ones_like(germinate), "slot": op != LifecycleOp.WAIT}
    relevant.update(blueprint=germinate, blend=germinate, tempo=germinate)
    policy_loss, joint, clipped, total, entropy_bonus = 0.0, torch.zeros_like(values), 0.0, 0.0, 0.0
    for name in HEAD_NAMES:
        rel = relevant[name]
        ratio = torch.exp(log_probs[name] - batch[f"{name}_log_probs"])
        a = torch.where(rel, adv, 0.0)
        surrogate = torch.minimum(ratio * a, ratio.clamp(0.8, 1.2) * a)
        policy_loss -= float(torch.where(rel, surrogate, 0.0).mean())
        joint += torch.where(rel, log_probs[name] - batch[f"{name}_log_probs"], 0.0)
        clipped += float(((ratio - 1).abs() > 0.2)[rel].sum())
        total += float(rel.sum())
        entropy_bonus += float(torch.where(rel, entropy[name], 0.0).mean())
    returns, old = batch["returns"], batch["values"]
    value_clipped = old + (values - old).clamp(-0.2, 0.2)
    value_loss = 0.5 * float(torch.maximum((values - returns) ** 2, (value_clipped - returns) ** 2).mean())
    out = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "loss": policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy_bonus,
        "approx_kl": float((joint.exp() - 1 - joint).mean()),
        "clip_fraction": clipped / total,
    }
    out.update({f"entropy_{name}": float(entropy[name].mean()) for name in HEAD_NAMES})
    return out


@pytest.mark.req("SYS.5.3.3", "DEC.simic_agent.4", "DEC.simic_agent.6")
def test_update_metrics_match_a_reference_loss_computation() -> None:
    agent = _agent(ppo_epochs=1, n_minibatches=1, target_kl=None)
    buffer = collect(agent, 3, 10, episode_len=6)
    with torch.no_grad():  # move the policy away from the rollout policy so ratios and clipping are non-trivial
        for param in agent.network.parameters():
            param.add_(0.05 * torch.randn_like(param))
    buffer.compute_gae(agent.config.gamma, agent.config.gae_lambda)
    expected = _reference_metrics(agent, buffer)
    assert expected["clip_fraction"] > 0.0 and expected["approx_kl"] > 0.0
    metrics = agent.update(buffer)
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    for name in HEAD_NAMES:
        assert metrics[f"grad_norm_{name}"] > 0.0
    assert metrics["grad_norm"] > agent.config.max_grad_norm  # reported before clipping
    assert -1.0e3 < metrics["explained_variance"] <= 1.0


@pytest.mark.req("SYS.5.3.3")
def test_gradient_norm_is_clipped() -> None:
    agent = _agent(ppo_epochs=1, n_minibatches=1, max_grad_norm=0.01)
    metrics = agent.update(collect(agent, 2, 6))
    norm = torch.sqrt(sum(p.grad.square().sum() for p in agent.network.parameters() if p.grad is not None))
    assert metrics["grad_norm"] > 0.01
    assert float(norm) == pytest.approx(0.01, rel=1e-3)


@pytest.mark.req("DEC.simic_agent.3")
def test_entropy_bonus_is_gated_by_the_causal_mask() -> None:
    agent = _agent(entropy_coef=0.5, ppo_epochs=1, n_minibatches=1)
    buffer = collect(agent, 2, 6, allow_germinate=False)
    agent.update(buffer)
    for name in ("blueprint", "blend", "tempo"):
        for param in agent.network.heads[name].parameters():
            assert param.grad is not None and torch.equal(param.grad, torch.zeros_like(param.grad))


@pytest.mark.req("DEC.simic_agent.5")
def test_non_finite_loss_skips_the_step_and_is_reported() -> None:
    agent = _agent(ppo_epochs=2, n_minibatches=4, normalize_advantages=False, target_kl=None)
    buffer = collect(agent, 4, 5)
    buffer.rewards[2, 1] = float("nan")
    metrics = agent.update(buffer)
    assert metrics["updates_skipped"] == 2.0 and metrics["updates_applied"] == 6.0

    frozen = _agent(ppo_epochs=2, n_minibatches=2)
    buffer = collect(frozen, 4, 5)
    buffer.rewards[0, 0] = float("inf")
    before = copy.deepcopy(frozen.network.state_dict())
    metrics = frozen.update(buffer)
    assert metrics["updates_skipped"] == 4.0 and metrics["updates_applied"] == 0.0
    for key, value in frozen.network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert frozen.optimizer.state_dict()["state"] == {}
