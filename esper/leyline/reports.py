"""Read-only seed reports: the contract through which Tamiyo, rewards and telemetry see Kasmina's slots."""

from __future__ import annotations

from dataclasses import dataclass

from esper.leyline.defaults import MIN_CULL_AGE
from esper.leyline.factored_actions import BlueprintAction
from esper.leyline.stages import SeedStage, is_cooldown, is_cullable


@dataclass(frozen=True, slots=True)
class SeedMetricsReport:
    """Immutable snapshot of a seed's metrics (accuracy in percentage points)."""

    epochs_total: int = 0
    epochs_in_current_stage: int = 0
    current_val_accuracy: float = 0.0
    accuracy_at_stage_start: float = 0.0
    improvement_since_stage_start: float = 0.0
    improvement_since_stage_start_normalized: float = 0.0
    """Improvement divided by 10 points and clipped to [-1, 1]."""
    counterfactual_contribution: float | None = None
    seed_gradient_norm_ratio: float = 0.0
    seed_param_count: int = 0
    current_alpha: float = 0.0


@dataclass(frozen=True, slots=True)
class SeedStateReport:
    """Immutable snapshot of one occupied slot. An empty (DORMANT) slot is reported as ``None``."""

    slot_id: str
    seed_id: str
    blueprint_id: str
    stage: SeedStage
    blend_algorithm_id: str = "sigmoid"
    blend_tempo_epochs: int = 5
    blending_steps_done: int = 0
    blending_steps_total: int = 0
    metrics: SeedMetricsReport = SeedMetricsReport()

    @property
    def blueprint(self) -> BlueprintAction:
        return BlueprintAction.from_blueprint_id(self.blueprint_id)

    @property
    def alpha(self) -> float:
        return self.metrics.current_alpha

    @property
    def can_cull(self) -> bool:
        """Tamiyo may cull: cullable stage and old enough (see ``MIN_CULL_AGE``)."""
        return is_cullable(self.stage) and self.metrics.epochs_total >= MIN_CULL_AGE

    @property
    def can_fossilize_stage(self) -> bool:
        """The stage allows FOSSILIZE (the G5 gate is checked at execution)."""
        return self.stage == SeedStage.PROBATIONARY

    @property
    def in_cooldown(self) -> bool:
        return is_cooldown(self.stage)


__all__ = ["SeedMetricsReport", "SeedStateReport"]
