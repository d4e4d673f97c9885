"""Tamiyo: the controller's view of the world (observation, masks, signals) and the heuristic baseline."""

from __future__ import annotations

from esper.tamiyo.execution import ExecutionCheck, check_executable, executed_action
from esper.tamiyo.heuristic import HeuristicConfig, HeuristicTamiyo
from esper.tamiyo.policy.action_masks import compute_action_masks, compute_batch_masks
from esper.tamiyo.policy.features import (
    BASE_FEATURE_SIZE,
    SLOT_FEATURE_SIZE,
    build_observation,
    build_observations,
    feature_bounds,
    get_feature_size,
    observation_layout,
)
from esper.tamiyo.signals import SignalTracker, TrainingSignals

__all__ = [
    "BASE_FEATURE_SIZE",
    "SLOT_FEATURE_SIZE",
    "ExecutionCheck",
    "HeuristicConfig",
    "HeuristicTamiyo",
    "SignalTracker",
    "TrainingSignals",
    "build_observation",
    "build_observations",
    "check_executable",
    "compute_action_masks",
    "compute_batch_masks",
    "executed_action",
    "feature_bounds",
    "get_feature_size",
    "observation_layout",
]
