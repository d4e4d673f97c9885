"""Tolaria: trains the host and its seeds epoch by epoch, measures them, and guards against divergence."""

from __future__ import annotations

from esper.tolaria.data_protocol import SupervisedData
from esper.tolaria.evaluation import counterfactual_contributions, record_epoch_metrics, validate
from esper.tolaria.governor import GovernorReport, GovernorVerdict, TolariaGovernor
from esper.tolaria.optimizers import OPTIMIZER_KINDS, TrainerConfig, make_optimizer, trainer_config_for
from esper.tolaria.trainer import EpochResult, EpochTrainer, TrainStats, train_epoch

__all__ = [
    "OPTIMIZER_KINDS",
    "EpochResult",
    "EpochTrainer",
    "GovernorReport",
    "GovernorVerdict",
    "SupervisedData",
    "TolariaGovernor",
    "TrainStats",
    "TrainerConfig",
    "counterfactual_contributions",
    "make_optimizer",
    "record_epoch_metrics",
    "train_epoch",
    "trainer_config_for",
    "validate",
]
