"""Unit tests: TamiyoRolloutBuffer argument errors and bookkeeping."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES, HEAD_SIZES
from esper.simic.agent import TamiyoRolloutBuffer

from tests.simic_agent.rollouts import random_masks

OBS, HIDDEN = 3, 2


def _args(**override: object) -> dict[str, object]:
    masks = random_masks(HEAD_SIZES, 1)
    args: dict[str, object] = {
        "obs": torch.zeros(OBS),
        "actions": {name: masks[name][0].float().argmax() for name in HEAD_NAMES},
        "log_probs": {name: torch.tensor(-1.0) for name in HEAD_NAMES},
        "masks": {name: m[0] for name, m in masks.items()},
        "value": 0.0,
        "reward": 0.0,
        "done": False,
        "truncated": False,
        "hidden": (torch.zeros(HIDDEN), torch.zeros(HIDDEN)),
    }
    args.update(override)
    return args


def _buffer(envs: int = 2, steps: int = 3) -> TamiyoRolloutBuffer:
    return TamiyoRolloutBuffer(envs, steps, OBS, HEAD_SIZES, HIDDEN)


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="head_sizes must be keyed by HEAD_NAMES"):
        TamiyoRolloutBuffer(1, 1, OBS, {"slot": 3, "op": 4}, HIDDEN)
    with pytest.raises(ValueError, match="max_steps must be an int >= 1, got 0"):
        TamiyoRolloutBuffer(1, 0, OBS, HEAD_SIZES, HIDDEN)


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        ({"obs": torch.zeros(OBS + 1)}, ValueError, r"obs must have shape \(3,\), got \(4,\)"),
        ({"obs": [0.0] * OBS}, TypeError, "obs must be a torch.Tensor"),
        ({"done": 1}, TypeError, "done must be a bool or a bool tensor"),
        ({"value": torch.zeros(2)}, ValueError, "value must be a 0-d tensor or a finite number"),
        ({"hidden": torch.zeros(HIDDEN)}, TypeError, r"hidden must be a tuple \(h, c\)"),
        ({"hidden": (torch.zeros(HIDDEN), torch.zeros(HIDDEN + 1))}, ValueError, r"hidden c must have shape \(2,\)"),
        ({"masks": {name: torch.ones(9, dtype=torch.bool) for name in HEAD_NAMES}}, ValueError, r"masks\['slot'\]"),
        ({"actions": {name: torch.tensor(0.0) for name in HEAD_NAMES}}, TypeError, r"must have dtype torch.int64"),
    ],
)
def test_add_step_errors(override: dict[str, object], error: type[Exception], message: str) -> None:
    buffer = _buffer()
    with pytest.raises(error, match=message):
        buffer.add_step(0, **_args(**override))  # type: ignore[arg-type]
    assert buffer.step_counts == [0, 0]


def test_finish_and_gae_preconditions() -> None:
    buffer = _buffer()
    with pytest.raises(ValueError, match="finish\\(\\) called on an empty buffer"):
        buffer.finish(torch.zeros(2))
    buffer.add_step(0, **_args())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compute_gae\\(\\) needs finish"):
        buffer.compute_gae()
    with pytest.raises(ValueError, match="last_values \\(num_envs,\\) is required"):
        buffer.finish()
    with pytest.raises(ValueError, match=r"last_values must have shape \(2,\)"):
        buffer.finish(torch.zeros(3))
    buffer.finish(torch.zeros(2))
    with pytest.raises(ValueError, match="gamma must be in \\[0, 1\\]"):
        buffer.compute_gae(gamma=2.0)
    buffer.compute_gae()
    assert buffer.gae_ready
    buffer.add_step(0, **_args())  # type: ignore[arg-type]
    assert not buffer.finished and not buffer.gae_ready


def test_terminal_last_step_needs_no_last_values() -> None:
    buffer = _buffer(envs=1)
    buffer.add_step(0, **_args(reward=2.0, done=True))  # type: ignore[arg-type]
    buffer.finish()
    buffer.compute_gae(0.9, 0.9)
    assert buffer.advantages[0, 0].item() == 2.0 and buffer.returns[0, 0].item() == 2.0


def test_get_batched_sequences_env_ids() -> None:
    buffer = _buffer()
    with pytest.raises(ValueError, match="empty buffer"):
        buffer.get_batched_sequences()
    buffer.add_step(1, **_args(obs=torch.ones(OBS)))  # type: ignore[arg-type]
    assert buffer.num_steps == 1
    batch = buffer.get_batched_sequences(torch.tensor([1]))
    assert batch["obs"].shape == (1, 1, OBS) and batch["obs"][0, 0].tolist() == [1.0] * OBS
    with pytest.raises(ValueError, match=r"env_ids\[0\] must be an int in \[0, 1\], got 5"):
        buffer.get_batched_sequences([5])
    with pytest.raises(ValueError, match="env_ids must be a 1-D int64 tensor"):
        buffer.get_batched_sequences(torch.tensor([[0]]))


def test_add_batch_shape_errors() -> None:
    buffer = _buffer()
    masks = random_masks(HEAD_SIZES, 2)
    actions = {name: masks[name].float().argmax(-1) for name in HEAD_NAMES}
    log_probs = {name: torch.zeros(2) for name in HEAD_NAMES}
    hidden = (torch.zeros(2, HIDDEN), torch.zeros(2, HIDDEN))
    flags = torch.zeros(2, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"rewards must have shape \(2,\), got \(3,\)"):
        buffer.add_batch(obs=torch.zeros(2, OBS), actions=actions, log_probs=log_probs, masks=masks, values=torch.zeros(2),
                         rewards=torch.zeros(3), dones=flags, truncated=flags, hidden=hidden)
    with pytest.raises(TypeError, match="dones must be a bool or a bool tensor"):
        buffer.add_batch(obs=torch.zeros(2, OBS), actions=actions, log_probs=log_probs, masks=masks, values=torch.zeros(2),
                         rewards=torch.zeros(2), dones=flags.float(), truncated=flags, hidden=hidden)
    buffer.add_batch(obs=torch.zeros(2, OBS), actions=actions, log_probs=log_probs, masks=masks, values=torch.zeros(2),
                     rewards=torch.zeros(2), dones=flags, truncated=flags, hidden=hidden)
    assert buffer.step_counts == [1, 1]


def test_add_reward_updates_a_stored_step() -> None:
    buffer = _buffer()
    buffer.add_step(1, **_args(reward=1.0))  # type: ignore[arg-type]
    buffer.add_reward(1, 0, -5.0)
    assert buffer.rewards[1, 0].item() == -4.0
    with pytest.raises(ValueError, match=r"step must be a stored step of env 0 \(none stored yet\), got 0"):
        buffer.add_reward(0, 0, 1.0)
    with pytest.raises(ValueError, match=r"env_id must be an int in \[0, 1\], got 3"):
        buffer.add_reward(3, 0, 1.0)
