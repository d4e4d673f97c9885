"""Decisions DEC.simic_agent.2, 7, 8, 9 (spec/decisions/simic_agent.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from esper.leyline import HEAD_NAMES, HEAD_SIZES
from esper.simic.agent import PPOConfig, RunningMeanStd, TamiyoRolloutBuffer
from esper.simic.agent.network import FactoredRecurrentActorCritic

from tests.simic_agent.rollouts import STATE_DIM, random_masks


@pytest.mark.req("DEC.simic_agent.2")
def test_value_checks_run_in_eager_mode_and_can_be_skipped() -> None:
    net = FactoredRecurrentActorCritic(STATE_DIM, hidden_dim=16)
    obs = torch.randn(2, 3, STATE_DIM)
    masks = {name: m.reshape(2, 3, -1) for name, m in random_masks(net.head_sizes, 6).items()}
    actions = {name: m.float().argmax(-1) for name, m in masks.items()}
    bad = dict(actions, tempo=torch.full((2, 3), 3))
    with pytest.raises(ValueError, match=r"actions\['tempo'\] contains 3; valid range: \[0, 2\]"):
        net.evaluate_actions(obs, bad, None, masks)
    masks["blend"] = torch.ones(2, 3, 3, dtype=torch.bool)
    masks["blend"][1, 2] = torch.tensor([True, False, False])
    forbidden = dict(actions, blend=torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"actions\['blend'\] at index \[1, 2\] was taken although"):
        net.evaluate_actions(obs, forbidden, None, masks)
    net.evaluate_actions(obs, forbidden, None, masks, check_values=False)  # the caller vouches for the data
    masks["op"][0, 1] = False
    with pytest.raises(ValueError, match=r"masks\['op'\] has a row with no valid action at index \[0, 1\]"):
        net(obs, masks=masks)
    compiled = torch.compile(net.forward, fullgraph=True, backend="eager")
    assert torch.isfinite(compiled(obs, None, masks)["op_logits"]).all()  # no host sync while compiling
    with pytest.raises(Exception):  # shape errors still abort a compiled call
        compiled(torch.randn(2, 3, STATE_DIM - 1))


@pytest.mark.req("DEC.simic_agent.2")
def test_shape_errors_name_the_argument_and_expected_shape() -> None:
    net = FactoredRecurrentActorCritic(STATE_DIM, hidden_dim=16)
    with pytest.raises(ValueError, match=r"obs must have shape \(B, 77\) or \(B, T, 77\)"):
        net(torch.randn(2, 70))
    masks = random_masks(net.head_sizes, 2)
    masks["tempo"] = torch.ones(2, 4, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"masks\['tempo'\] must have shape \(2, 3\), got \(2, 4\)"):
        net.get_action(torch.randn(2, STATE_DIM), None, masks)
    del masks["tempo"]
    with pytest.raises(ValueError, match=r"masks must have exactly the keys .* missing \['tempo'\]"):
        net.get_action(torch.randn(2, STATE_DIM), None, masks)
    with pytest.raises(ValueError, match=r"hidden h must have shape \(2, 16\), got \(1, 2, 16\)"):
        net(torch.randn(2, STATE_DIM), (torch.zeros(1, 2, 16), torch.zeros(1, 2, 16)))


def _fill(buffer: TamiyoRolloutBuffer, env: int, done: bool = False, truncated: bool = False) -> None:
    masks = random_masks(HEAD_SIZES, 1)
    buffer.add_step(
        env,
        torch.randn(buffer.obs_dim),
        {name: masks[name][0].float().argmax() for name in HEAD_NAMES},
        {name: torch.tensor(-1.0) for name in HEAD_NAMES},
        {name: m[0] for name, m in masks.items()},
        0.0,
        1.0,
        done,
        truncated,
        (torch.zeros(buffer.hidden_dim), torch.zeros(buffer.hidden_dim)),
        bootstrap_value=50.0 if truncated else None,
    )


@pytest.mark.req("DEC.simic_agent.7")
def test_buffer_conventions() -> None:
    buffer = TamiyoRolloutBuffer(2, 3, 4, HEAD_SIZES, 8)
    _fill(buffer, 0)
    _fill(buffer, 0, done=True, truncated=True)  # both set: treated as terminal
    _fill(buffer, 1)
    batch = buffer.get_batched_sequences()
    assert batch["valid"].tolist() == [[True, True], [True, False]]
    assert all(bool(batch[f"{name}_masks"][1, 1].all()) for name in HEAD_NAMES)  # padding is all-valid
    with pytest.raises(ValueError, match="add_batch needs equal step counts"):
        buffer.add_batch(**dict.fromkeys(("obs", "actions", "log_probs", "masks", "values", "rewards", "dones", "truncated", "hidden")))  # type: ignore[arg-type]
    buffer.finish(torch.tensor([0.0, 0.0]))
    buffer.compute_gae(gamma=1.0, gae_lambda=1.0)
    assert buffer.advantages[0, :2].tolist() == [2.0, 1.0]  # no bootstrap of 50 on the terminal step
    _fill(buffer, 0)
    with pytest.raises(ValueError, match="env 0 already holds max_steps=3 steps"):
        _fill(buffer, 0)
    with pytest.raises(ValueError, match=r"env_id must be an int in \[0, 1\], got 2"):
        _fill(buffer, 2)
    buffer.reset()
    assert buffer.step_counts == [0, 0] and not buffer.finished


@pytest.mark.req("DEC.simic_agent.8")
def test_running_mean_std_matches_numpy_and_clips() -> None:
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 5)) for n in (7, 1, 30)]
    norm = RunningMeanStd(5)
    for batch in batches:
        norm.update(torch.tensor(batch, dtype=torch.float32))
    data = np.concatenate([b.astype(np.float32).astype(np.float64) for b in batches])
    count = 1e-4 + len(data)
    mean = data.sum(0) / count  # the initial pseudo-count 1e-4 sits at mean 0, var 1
    var = (1e-4 * (1.0 + mean**2) + ((data - mean) ** 2).sum(0)) / count
    np.testing.assert_allclose(norm.mean.numpy(), mean, rtol=1e-9)
    np.testing.assert_allclose(norm.var.numpy(), var, rtol=1e-6)
    x = torch.tensor([[3.0, 1e6, -1e6, 0.0, 5.0]])
    expected = np.clip((x.numpy() - mean) / np.sqrt(var + 1e-4), -10.0, 10.0)
    np.testing.assert_allclose(norm.normalize(x).numpy(), expected, rtol=1e-5)
    assert norm.normalize(x).dtype == torch.float32


@pytest.mark.req("DEC.simic_agent.9")
def test_ppo_config_validation_and_entropy_merging() -> None:
    cfg = PPOConfig(entropy_coef_per_head={"tempo": 0.5})
    assert cfg.entropy_coef_per_head == {"slot": 1.0, "blueprint": 1.0, "blend": 1.0, "tempo": 0.5, "op": 1.0}
    assert PPOConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match=r"entropy_coef_per_head has unknown heads \['temp'\]"):
        PPOConfig(entropy_coef_per_head={"temp": 1.0})
    with pytest.raises(ValueError, match=r"gamma must be a finite float in \[0.0, 1.0\]"):
        PPOConfig(gamma=1.5)
    with pytest.raises(ValueError, match="ppo_epochs must be an int >= 1"):
        PPOConfig(ppo_epochs=0)
    with pytest.raises(ValueError, match="target_kl must be a finite float > 0.0"):
        PPOConfig(target_kl=0.0)
    with pytest.raises(ValueError, match=r"PPOConfig has unknown field\(s\) \['learning_rate'\]"):
        PPOConfig.from_dict({"learning_rate": 0.1})
