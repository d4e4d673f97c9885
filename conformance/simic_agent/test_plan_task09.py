"""Plan Task 9 (rollout buffer) and its checklist lines; the buffer is built and filled through the adapter
(the plan names the fields and ``get_batched_sequences``' keys, not the constructor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

from conformance.adapter import ConformanceAdapter

if TYPE_CHECKING:
    from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer

STATE_DIM = 77


def _add(adapter: ConformanceAdapter, buffer: TamiyoRolloutBuffer, env: int, tempo: int, log_prob: float) -> None:
    from esper.leyline import HEAD_NAMES

    actions = {name: torch.tensor(0) for name in HEAD_NAMES}
    actions["tempo"] = torch.tensor(tempo)
    log_probs = {name: torch.tensor(-0.5) for name in HEAD_NAMES}
    log_probs["tempo"] = torch.tensor(log_prob)
    adapter.add_step(
        buffer,
        env=env, obs=torch.randn(STATE_DIM), actions=actions, log_probs=log_probs, value=0.5, reward=1.0, done=False,
    )


@pytest.mark.req("T09.1", "CHK.09.1")
def test_buffer_has_tempo_actions_and_log_probs(adapter: ConformanceAdapter) -> None:
    buffer = adapter.new_buffer(num_envs=3, num_steps=7, state_dim=STATE_DIM)
    assert buffer.tempo_actions.dtype == torch.long
    assert buffer.tempo_log_probs.is_floating_point()
    assert sorted(buffer.tempo_actions.shape) == [3, 7] and buffer.tempo_log_probs.shape == buffer.tempo_actions.shape


@pytest.mark.req("T09.2", "CHK.09.2")
def test_add_step_records_tempo_action_and_log_prob(adapter: ConformanceAdapter) -> None:
    buffer = adapter.new_buffer(num_envs=2, num_steps=4, state_dim=STATE_DIM)
    _add(adapter, buffer, 1, tempo=2, log_prob=-0.4)
    _add(adapter, buffer, 1, tempo=1, log_prob=-0.7)
    assert sorted(buffer.tempo_actions.flatten().tolist()) == sorted([2, 1] + [0] * 6)
    assert sorted(round(v, 5) for v in buffer.tempo_log_probs.flatten().tolist() if v != 0.0) == [-0.7, -0.4]


@pytest.mark.req("T09.3", "CHK.09.3")
def test_get_batched_sequences_returns_tempo_fields(adapter: ConformanceAdapter) -> None:
    buffer = adapter.new_buffer(num_envs=3, num_steps=4, state_dim=STATE_DIM)
    for env, tempo, log_prob in ((0, 0, -0.1), (2, 2, -0.2), (2, 1, -0.3)):
        _add(adapter, buffer, env, tempo, log_prob)
    batch = adapter.batched_sequences(buffer, [2, 0])
    assert batch["tempo_actions"][0, :2].tolist() == [2, 1]
    assert batch["tempo_actions"][1, 0].item() == 0
    assert batch["tempo_log_probs"][0, :2].tolist() == pytest.approx([-0.2, -0.3])
    assert batch["tempo_log_probs"][1, 0].item() == pytest.approx(-0.1)
