"""Shared helpers for the training-loop conformance tests: tiny configs and telemetry readers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from esper.leyline import HEAD_NAMES
from esper.simic.training import TrainingConfig, VectorizedTrainer

Row = dict[str, object]


def tiny_config(**overrides: object) -> TrainingConfig:
    """A run small enough for CI: 2 envs, 4 epochs, 1 batch, digits_blind."""
    base: dict[str, object] = {
        "policy": "ppo",
        "task": "digits_blind",
        "episodes": 2,
        "n_envs": 2,
        "max_epochs": 4,
        "ppo_epochs": 2,
        "n_minibatches": 2,
        "seed": 3,
    }
    base.update(overrides)
    return TrainingConfig(**base)


def events(run_dir: Path, event_type: str) -> list[Row]:
    rows = [json.loads(line) for line in (run_dir / "telemetry.jsonl").read_text().splitlines() if line.strip()]
    return [row for row in rows if row["event_type"] == event_type]


ActionOverride = Callable[[int, dict[str, torch.Tensor]], None]


def script_actions(trainer: VectorizedTrainer, override: ActionOverride) -> None:
    """Wrap the agent's get_action so ``override(call_index, actions)`` can overwrite sampled indices in place."""
    agent = trainer.agent
    assert agent is not None
    original = agent.get_action
    calls = [0]

    def scripted(obs, hidden=None, masks=None, deterministic=False):
        actions, log_probs, values, new_hidden = original(obs, hidden, masks, deterministic)
        override(calls[0], actions)
        calls[0] += 1
        assert set(actions) == set(HEAD_NAMES)
        return actions, log_probs, values, new_hidden

    agent.get_action = scripted
