"""ISSUE.9.9 (from issue 13 item 6), DEC.seedhealth.6: after a governor rollback, the observation, the reward and
the episode's final accuracy come from the restored model, not from the diverged one."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from esper.data import load_task
from esper.leyline import FactoredAction, LifecycleOp
from esper.simic.rewards import RewardConfig
from esper.simic.training.environment import SeedEnv
from esper.tolaria import SupervisedData, validate
from esper.tolaria.trainer import EpochResult, EpochTrainer

WAIT = FactoredAction.from_indices(0, 0, 0, 0, LifecycleOp.WAIT)
EPOCHS = 5


@pytest.mark.req("ISSUE.9.9", "DEC.seedhealth.6")
def test_nan_at_the_last_epoch_reports_the_restored_model(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RewardConfig()
    env = SeedEnv(0, load_task("digits_blind"), max_epochs=EPOCHS, max_seeds=3, reward_config=config)
    env.reset(seed=27, context={"episode": 0})
    accuracies: list[float] = []
    for _ in range(EPOCHS - 1):
        assert env.train_and_measure() is None
        accuracies.append(env.signals.val_accuracy)
        env.step(WAIT)
    healthy_train_loss = env.signals.train_loss
    real_run_epoch = EpochTrainer.run_epoch

    def diverging_run_epoch(self: EpochTrainer, data: SupervisedData, *, record: bool = True) -> EpochResult:
        result = real_run_epoch(self, data, record=record)
        with torch.no_grad():
            for p in self.model.host_parameters():
                p.fill_(math.nan)
        val_loss, val_accuracy = self.validate(data)
        return dataclasses.replace(
            result, train=dataclasses.replace(result.train, train_loss=math.nan), val_loss=val_loss, val_accuracy=val_accuracy
        )

    monkeypatch.setattr(EpochTrainer, "run_epoch", diverging_run_epoch)
    rollback = env.train_and_measure()
    assert rollback is not None and rollback.reason == "nan"
    restored_loss, restored_accuracy = validate(env.model, env.task)
    # The snapshot is the state after the previous epoch, whose validation the episode already saw.
    assert restored_accuracy == pytest.approx(accuracies[-1])
    assert env.signals.val_accuracy == pytest.approx(restored_accuracy)
    assert env.signals.val_loss == pytest.approx(restored_loss)
    assert env.signals.train_loss == pytest.approx(healthy_train_loss)
    assert all(math.isfinite(v) for v in (env.signals.val_loss, env.signals.train_loss))
    outcome = env.step(WAIT, governor_penalty=True)
    assert outcome.reward.terminal == pytest.approx(config.terminal_accuracy_weight * restored_accuracy)
