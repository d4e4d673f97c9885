"""Design note §5 rollout buffer and GAE; §6 traps: LSTM state across episodes, truncation bootstrap."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from esper.leyline import HEAD_NAMES, HEAD_SIZES
from esper.simic.agent import TamiyoRolloutBuffer

from tests.simic_agent.rollouts import random_masks

OBS, HIDDEN, MAX_STEPS = 5, 4, 8


def _add(
    buffer: TamiyoRolloutBuffer,
    env: int,
    *,
    reward: float = 0.0,
    value: float = 0.0,
    done: bool = False,
    truncated: bool = False,
    bootstrap: float | None = None,
    hidden_fill: float = 0.0,
) -> None:
    masks = random_masks(HEAD_SIZES, 1)
    buffer.add_step(
        env,
        torch.randn(OBS),
        {name: masks[name][0].float().argmax() for name in HEAD_NAMES},
        {name: torch.tensor(-0.5) for name in HEAD_NAMES},
        {name: m[0] for name, m in masks.items()},
        torch.tensor(value),
        torch.tensor(reward),
        done,
        truncated,
        (torch.full((HIDDEN,), hidden_fill), torch.full((HIDDEN,), hidden_fill)),
        bootstrap_value=bootstrap,
    )


def _buffer(num_envs: int = 2) -> TamiyoRolloutBuffer:
    return TamiyoRolloutBuffer(num_envs, MAX_STEPS, OBS, HEAD_SIZES, HIDDEN)


@pytest.mark.req("SYS.5.2.1")
def test_buffer_stores_every_field_of_a_step() -> None:
    buffer = _buffer(num_envs=2)
    obs = torch.randn(2, OBS)
    masks = random_masks(HEAD_SIZES, 2)
    actions = {name: masks[name].float().argmax(-1) for name in HEAD_NAMES}
    log_probs = {name: torch.tensor([-0.1, -0.2]) * (i + 1) for i, name in enumerate(HEAD_NAMES)}
    hidden = (torch.randn(2, HIDDEN), torch.randn(2, HIDDEN))
    buffer.add_batch(
        obs=obs,
        actions=actions,
        log_probs=log_probs,
        masks=masks,
        values=torch.tensor([0.3, 0.4]),
        rewards=torch.tensor([1.0, -1.0]),
        dones=torch.tensor([True, False]),
        truncated=torch.tensor([False, True]),
        hidden=hidden,
        bootstrap_values=torch.tensor([0.0, 2.5]),
    )
    batch = buffer.get_batched_sequences()
    assert torch.equal(batch["obs"][:, 0], obs)
    for name in HEAD_NAMES:
        assert torch.equal(batch[f"{name}_actions"][:, 0], actions[name])
        assert torch.equal(batch[f"{name}_log_probs"][:, 0], log_probs[name])
        assert torch.equal(batch[f"{name}_masks"][:, 0], masks[name])
    assert batch["values"][:, 0].tolist() == pytest.approx([0.3, 0.4])
    assert batch["rewards"][:, 0].tolist() == [1.0, -1.0]
    assert batch["dones"][:, 0].tolist() == [True, False]
    assert batch["truncated"][:, 0].tolist() == [False, True]
    assert torch.equal(batch["initial_h"], hidden[0]) and torch.equal(batch["initial_c"], hidden[1])
    assert torch.equal(buffer.hidden_h[:, 0], hidden[0])
    assert buffer.obs.device == torch.device("cpu") and buffer.obs.shape == (2, MAX_STEPS, OBS)


def _reference_gae(
    steps: list[tuple[float, float, bool, bool, float | None]], last_value: float, gamma: float, lam: float
) -> list[float]:
    """Plain per-step GAE: (reward, value, done, truncated, bootstrap) per step."""
    advantages = [0.0] * len(steps)
    next_advantage = 0.0
    for t in reversed(range(len(steps))):
        reward, value, done, truncated, bootstrap = steps[t]
        last = t == len(steps) - 1
        if done:
            next_value, carry = 0.0, 0.0
        elif truncated:
            next_value, carry = (bootstrap if bootstrap is not None else last_value), 0.0
        elif last:
            next_value, carry = last_value, 0.0
        else:
            next_value, carry = steps[t + 1][1], 1.0
        delta = reward + gamma * next_value - value
        advantages[t] = delta + gamma * lam * carry * next_advantage
        next_advantage = advantages[t]
    return advantages


_value = st.floats(-5.0, 5.0, allow_nan=False, width=32)
_step = st.tuples(_value, _value, st.booleans(), st.booleans(), st.one_of(st.none(), _value))


@pytest.mark.req("SYS.5.2.2", "SYS.6.3.2")
@settings(max_examples=60, deadline=None)
@given(
    episodes=st.lists(st.lists(_step, min_size=1, max_size=MAX_STEPS), min_size=1, max_size=3),
    last_values=st.lists(_value, min_size=3, max_size=3),
    gamma=st.floats(0.0, 1.0),
    lam=st.floats(0.0, 1.0),
)
def test_gae_matches_reference_loop(
    episodes: list[list[tuple[float, float, bool, bool, float | None]]],
    last_values: list[float],
    gamma: float,
    lam: float,
) -> None:
    buffer = _buffer(num_envs=len(episodes))
    normalised: list[list[tuple[float, float, bool, bool, float | None]]] = []
    for env, steps in enumerate(episodes):
        rows = []
        for t, (reward, value, done, truncated, bootstrap) in enumerate(steps):
            truncated = truncated and not done
            if truncated and t < len(steps) - 1 and bootstrap is None:
                bootstrap = value  # a mid-sequence truncation must carry V(s_T)
            if not truncated:
                bootstrap = None
            rows.append((reward, value, done, truncated, bootstrap))
            _add(buffer, env, reward=reward, value=value, done=done, truncated=truncated, bootstrap=bootstrap)
        normalised.append(rows)
    buffer.finish(torch.tensor(last_values[: len(episodes)]))
    buffer.compute_gae(gamma, lam)
    for env, rows in enumerate(normalised):
        expected = _reference_gae(rows, last_values[env], gamma, lam)
        got = buffer.advantages[env, : len(rows)].tolist()
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-4)
        assert buffer.returns[env, : len(rows)].tolist() == pytest.approx(
            [a + r[1] for a, r in zip(expected, rows)], rel=1e-4, abs=1e-4
        )
        assert torch.count_nonzero(buffer.advantages[env, len(rows) :]) == 0


@pytest.mark.req("SYS.6.3.2")
def test_truncation_bootstraps_and_termination_does_not() -> None:
    buffer = _buffer(num_envs=3)
    for env in range(3):
        _add(buffer, env, reward=1.0, value=0.0)
    _add(buffer, 0, reward=1.0, value=0.0, done=True)  # terminal: no bootstrap
    _add(buffer, 1, reward=1.0, value=0.0, truncated=True)  # time limit: bootstrap last_values
    _add(buffer, 2, reward=1.0, value=0.0, truncated=True, bootstrap=4.0)  # explicit V(s_T)
    buffer.finish(torch.tensor([100.0, 10.0, 100.0]))
    buffer.compute_gae(gamma=0.5, gae_lambda=1.0)
    assert buffer.advantages[0, :2].tolist() == pytest.approx([1.5, 1.0])
    assert buffer.advantages[1, :2].tolist() == pytest.approx([1.0 + 0.5 * 6.0, 6.0])
    assert buffer.advantages[2, :2].tolist() == pytest.approx([1.0 + 0.5 * 3.0, 3.0])


@pytest.mark.req("SYS.6.3.2")
def test_mid_sequence_truncation_needs_a_bootstrap_value() -> None:
    buffer = _buffer(num_envs=1)
    _add(buffer, 0, truncated=True)
    _add(buffer, 0)
    with pytest.raises(ValueError, match="env 0 step 0 is truncated in mid-sequence without a bootstrap_value"):
        buffer.finish(torch.zeros(1))


@pytest.mark.req("SYS.6.3.1")
def test_hidden_state_leaking_across_an_episode_end_is_rejected() -> None:
    buffer = _buffer(num_envs=2)
    for env in range(2):
        _add(buffer, env, hidden_fill=0.3)
        _add(buffer, env, hidden_fill=0.4, done=True)
    _add(buffer, 0, hidden_fill=0.0)  # reset after the episode end: fine
    _add(buffer, 1, hidden_fill=0.4)  # carried over: leak
    with pytest.raises(ValueError, match="LSTM state leaks across episodes: env 1 step 2"):
        buffer.finish(torch.zeros(2))
    batch = buffer.get_batched_sequences()
    assert batch["episode_starts"].tolist() == [[False, False, True], [False, False, True]]
