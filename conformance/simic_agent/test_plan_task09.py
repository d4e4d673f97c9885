"""Plan Task 9 (rollout buffer) and its checklist lines."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES, HEAD_SIZES, NUM_TEMPO
from esper.simic.agent import TamiyoRolloutBuffer

from conformance.simic_agent.rollouts import STATE_DIM, random_masks

HIDDEN = 16


def _step(tempo: int) -> dict[str, object]:
    masks = random_masks(HEAD_SIZES, 1)
    actions = {name: torch.tensor(0) for name in HEAD_NAMES}
    actions["tempo"] = torch.tensor(tempo)
    masks["tempo"] = torch.ones(1, NUM_TEMPO, dtype=torch.bool)
    for name in HEAD_NAMES:
        masks[name][0, int(actions[name])] = True
    return {
        "obs": torch.randn(STATE_DIM),
        "actions": actions,
        "log_probs": {name: torch.tensor(-0.1 * (i + 1)) for i, name in enumerate(HEAD_NAMES)},
        "masks": {name: m[0] for name, m in masks.items()},
        "value": torch.tensor(0.5),
        "reward": 1.0,
        "done": False,
        "truncated": False,
        "hidden": (torch.zeros(HIDDEN), torch.zeros(HIDDEN)),
    }


@pytest.mark.req("T09.1", "CHK.09.1")
def test_buffer_preallocates_tempo_actions_and_log_probs() -> None:
    buffer = TamiyoRolloutBuffer(3, 7, STATE_DIM, HEAD_SIZES, HIDDEN)
    assert buffer.tempo_actions.shape == (3, 7) and buffer.tempo_actions.dtype == torch.long
    assert buffer.tempo_log_probs.shape == (3, 7) and buffer.tempo_log_probs.dtype == torch.float32
    for name in HEAD_NAMES:
        assert getattr(buffer, f"{name}_actions") is buffer.actions[name]
        assert getattr(buffer, f"{name}_log_probs") is buffer.log_probs[name]
    assert buffer.masks["tempo"].shape == (3, 7, NUM_TEMPO)


@pytest.mark.req("T09.2", "CHK.09.2")
def test_add_step_records_tempo_action_and_log_prob() -> None:
    buffer = TamiyoRolloutBuffer(2, 4, STATE_DIM, HEAD_SIZES, HIDDEN)
    buffer.add_step(1, **_step(tempo=2))
    buffer.add_step(1, **_step(tempo=1))
    assert buffer.tempo_actions[1, :2].tolist() == [2, 1]
    assert buffer.tempo_log_probs[1, 0].item() == pytest.approx(-0.4)
    assert buffer.step_counts == [0, 2]
    missing = _step(tempo=0)
    del missing["actions"]["tempo"]
    with pytest.raises(ValueError, match="actions must be a dict with exactly the keys"):
        buffer.add_step(0, **missing)


@pytest.mark.req("T09.3", "CHK.09.3")
def test_get_batched_sequences_returns_tempo_fields() -> None:
    buffer = TamiyoRolloutBuffer(3, 4, STATE_DIM, HEAD_SIZES, HIDDEN)
    for env, tempo in ((0, 0), (2, 2), (2, 1)):
        buffer.add_step(env, **_step(tempo))
    batch = buffer.get_batched_sequences([2, 0])
    assert batch["tempo_actions"].shape == (2, 2)
    assert batch["tempo_actions"].tolist() == [[2, 1], [0, 0]]
    assert batch["tempo_log_probs"][0].tolist() == pytest.approx([-0.4, -0.4])
    assert batch["tempo_masks"].shape == (2, 2, NUM_TEMPO)
    assert batch["valid"].tolist() == [[True, True], [True, False]]
