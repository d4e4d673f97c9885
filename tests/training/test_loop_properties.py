"""Loop-level properties: determinism, resume, batch structure, LSTM reset, fresh tempo entropy."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from esper.simic.agent.checkpoint import CheckpointIncompatibleError
from esper.simic.agent.ppo import PPOAgent
from esper.simic.training import VectorizedTrainer, run_training
from esper.tamiyo.policy.features import get_feature_size

from tests.training.loop_helpers import events, tiny_config


@pytest.mark.req("ISSUE.6.1", "DEC.training.5")
def test_same_seed_same_actions_and_metrics(tmp_path: Path) -> None:
    config = tiny_config(episodes=4, max_epochs=3)
    a = run_training(config, tmp_path / "a")
    b = run_training(config, tmp_path / "b")
    assert a.actions == b.actions
    assert a.final_accuracies == b.final_accuracies
    assert a.episode_returns == b.episode_returns
    assert a.ppo_metrics == b.ppo_metrics
    c = run_training(tiny_config(episodes=4, max_epochs=3, seed=4), tmp_path / "c")
    assert c.actions != a.actions or c.final_accuracies != a.final_accuracies


@pytest.mark.req("ISSUE.6.2", "ISSUE.6.5", "DEC.training.5", "DEC.training.6")
def test_resume_continues_after_last_finished_batch(tmp_path: Path) -> None:
    config = tiny_config(episodes=4, max_epochs=3)
    full = run_training(config, tmp_path / "full")
    part = tmp_path / "part"
    first = run_training(config, part, stop_after_batches=1)
    assert len(first.final_accuracies) == 2
    # Simulate a crash in the middle of batch 2: junk telemetry after the last checkpoint is cut on resume.
    with (part / "telemetry.jsonl").open("a") as fh:
        fh.write('{"event_type": "episode_completed", "data": {"episode": 99}}\n')
    rest = run_training(config, part, resume=True)
    assert first.final_accuracies + rest.final_accuracies == full.final_accuracies
    assert first.actions + rest.actions == full.actions
    episodes = sorted(e["data"]["episode"] for e in events(part, "episode_completed"))
    assert episodes == [0, 1, 2, 3]
    assert len(events(part, "ppo_update_completed")) == 2


@pytest.mark.req("ISSUE.6.5", "PLAN.2", "PLAN.3")
def test_resume_refuses_checkpoint_of_another_layout(tmp_path: Path) -> None:
    config = tiny_config(episodes=4, max_epochs=3)
    run_training(config, tmp_path, stop_after_batches=1)
    # Overwrite the checkpoint with one of the pre-tempo layout: 17 features per slot, 3 slots.
    old = PPOAgent(get_feature_size(3) - 3, num_slots=3, slot_feature_size=17)
    old.save(tmp_path / "checkpoint.pt", extra={"batches_done": 1})
    with pytest.raises(CheckpointIncompatibleError, match="obs_dim"):
        run_training(config, tmp_path, resume=True)


@pytest.mark.req("SYS.1.1", "SYS.1.2", "SYS.6.3.3", "DEC.training.1")
def test_batch_structure_and_lstm_reset(tmp_path: Path) -> None:
    config = tiny_config(episodes=4, max_epochs=3)
    trainer = VectorizedTrainer(config, tmp_path)
    assert trainer.agent is not None
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = trainer.agent.get_action

    def spy(obs, hidden=None, masks=None, deterministic=False):
        assert hidden is not None
        seen.append((hidden[0].clone(), hidden[1].clone()))
        assert set(masks) == {"slot", "blueprint", "blend", "tempo", "op"}
        return original(obs, hidden, masks, deterministic)

    trainer.agent.get_action = spy
    trainer.run()
    assert len(seen) == config.batches * config.max_epochs
    for batch in range(config.batches):
        h, c = seen[batch * config.max_epochs]
        assert torch.count_nonzero(h) == 0 and torch.count_nonzero(c) == 0
        h1, _ = seen[batch * config.max_epochs + 1]
        assert torch.count_nonzero(h1) > 0
    assert len(events(tmp_path, "ppo_update_completed")) == config.batches
    assert len(events(tmp_path, "episode_completed")) == config.batches * config.n_envs
    assert len(events(tmp_path, "epoch_completed")) == config.batches * config.n_envs * config.max_epochs
    assert (tmp_path / "checkpoint.pt").exists()
    buffer = trainer.buffer
    assert buffer is not None
    assert bool(buffer.dones[:, -1].all()) and not bool(buffer.dones[:, :-1].any())
    assert not bool(buffer.truncated.any())


@pytest.mark.req("PLAN.7")
def test_fresh_tempo_head_has_maximum_entropy() -> None:
    torch.manual_seed(0)
    agent = PPOAgent(get_feature_size(3))
    obs = torch.randn(64, get_feature_size(3))
    out = agent.network(obs)
    logp = torch.log_softmax(out["tempo_logits"], dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    assert torch.all((entropy - math.log(3)).abs() < 0.01)
