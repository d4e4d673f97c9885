"""Simic training: vectorized environments, run configuration, presets and run folders."""

from __future__ import annotations

from esper.simic.training.config import POLICIES, TrainingConfig
from esper.simic.training.presets import PRESETS, Preset, get_preset
from esper.simic.training.vectorized import RunResult, VectorizedTrainer, run_training

__all__ = ["POLICIES", "PRESETS", "Preset", "RunResult", "TrainingConfig", "VectorizedTrainer", "get_preset", "run_training"]
