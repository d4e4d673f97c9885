"""Reward bookkeeping inside the loop: governor penalties and telescoping shaping."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from esper.data import load_task
from esper.leyline import BlueprintAction, FactoredAction, LifecycleOp, TempoAction
from esper.leyline.defaults import GOVERNOR_PENALTY
from esper.simic.rewards import RewardConfig
from esper.simic.training import VectorizedTrainer
from esper.simic.training.environment import SeedEnv
from esper.tolaria.governor import GovernorReport, TolariaGovernor

from tests.training.loop_helpers import tiny_config

WAIT = FactoredAction.from_indices(0, 0, 0, 0, LifecycleOp.WAIT)


def _run(tmp_path: Path, fake_rollback_at: int | None, monkeypatch: pytest.MonkeyPatch) -> VectorizedTrainer:
    calls = {"n": 0}
    real_observe = TolariaGovernor.observe

    def observe(self: TolariaGovernor, loss: float, *, val_loss: float | None = None) -> GovernorReport | None:
        epoch = calls["n"] // 2  # two envs per epoch, in env order
        calls["n"] += 1
        real_observe(self, loss, val_loss=val_loss)
        if epoch == fake_rollback_at:
            return GovernorReport(reason="spike", loss=loss, penalty=GOVERNOR_PENALTY, culled_slots=(), culled_seeds=(), rollback_count=1)
        return None

    monkeypatch.setattr(TolariaGovernor, "observe", observe)
    trainer = VectorizedTrainer(tiny_config(max_epochs=4), tmp_path)
    trainer.run()
    return trainer


@pytest.mark.req("DEC.training.2")
def test_rollback_penalty_lands_on_the_previous_transition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = _run(tmp_path / "clean", None, monkeypatch)
    hit = _run(tmp_path / "hit", 2, monkeypatch)
    assert clean.buffer is not None and hit.buffer is not None
    diff = hit.buffer.rewards - clean.buffer.rewards
    expected = torch.zeros_like(diff)
    expected[:, 1] = GOVERNOR_PENALTY
    torch.testing.assert_close(diff, expected)


@pytest.mark.req("DEC.training.4")
def test_shaping_telescopes_through_a_governor_cull() -> None:
    torch.manual_seed(0)
    env = SeedEnv(0, load_task("digits_blind"), max_epochs=6, max_seeds=3, reward_config=RewardConfig())
    env.reset(seed=0, context={"episode": 0})
    germinate = FactoredAction.from_indices(0, BlueprintAction.CONV_SMALL, 1, TempoAction.FAST, LifecycleOp.GERMINATE)
    shaping = []
    governor = env.governor
    healthy = governor.observe
    for epoch in range(6):
        # At epoch 3 the governor rolls back inside train_and_measure, culling the live seed between two steps.
        governor.observe = (lambda loss, **_: governor.rollback()) if epoch == 3 else healthy
        env.train_and_measure()
        outcome = env.step(germinate if epoch == 0 else WAIT)
        shaping.append(outcome.reward.stage_shaping)
    assert shaping[0] > 0.0  # germination raised the potential
    assert math.fsum(shaping) <= 1e-9  # ...and the cull took it back: no free shaping from a cycle
