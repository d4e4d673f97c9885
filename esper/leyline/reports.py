"""Read-only seed reports: the contract through which Tamiyo, rewards and telemetry see Kasmina's slots."""

from __future__ import annotations

from dataclasses import dataclass

from esper.leyline.defaults import MIN_CULL_AGE
from esper.leyline.factored_actions import BLEND_ALGORITHM_IDS, BlueprintAction
from esper.leyline.stages import SeedStage, is_cooldown, is_cullable
from esper.leyline.validation import MAX_COUNT, check_float, check_instance, check_int, check_str


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

    def __post_init__(self) -> None:
        for name in ("epochs_total", "epochs_in_current_stage", "seed_param_count"):
            check_int(f"SeedMetricsReport.{name}", getattr(self, name), low=-MAX_COUNT, high=MAX_COUNT)
        # Raw measurements may be non-finite after a divergence (consumers sanitise them); types are checked.
        for name in (
            "current_val_accuracy",
            "accuracy_at_stage_start",
            "improvement_since_stage_start",
            "seed_gradient_norm_ratio",
        ):
            object.__setattr__(self, name, check_float(f"SeedMetricsReport.{name}", getattr(self, name), finite=False))
        normalized = check_float(
            "SeedMetricsReport.improvement_since_stage_start_normalized",
            self.improvement_since_stage_start_normalized,
            finite=False,
        )
        object.__setattr__(self, "improvement_since_stage_start_normalized", normalized)
        if self.counterfactual_contribution is not None:
            contribution = check_float(
                "SeedMetricsReport.counterfactual_contribution (or None)", self.counterfactual_contribution, finite=False
            )
            object.__setattr__(self, "counterfactual_contribution", contribution)
        alpha = check_float("SeedMetricsReport.current_alpha", self.current_alpha, finite=False)  # sanitised by consumers
        object.__setattr__(self, "current_alpha", alpha)


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

    def __post_init__(self) -> None:
        check_str("slot_id", self.slot_id)
        check_str("seed_id", self.seed_id)
        check_str("blueprint_id", self.blueprint_id)  # an unknown id is reported where it is used (DEC.tamiyo.2)
        if not isinstance(self.stage, SeedStage):  # an int stage would pass here and crash elsewhere
            raise TypeError(f"stage must be a SeedStage ({[s.name for s in SeedStage]}), got {self.stage!r}")
        check_str("blend_algorithm_id", self.blend_algorithm_id, BLEND_ALGORITHM_IDS)
        check_int("blend_tempo_epochs", self.blend_tempo_epochs, low=-MAX_COUNT, high=MAX_COUNT)
        check_int("blending_steps_done", self.blending_steps_done, low=-MAX_COUNT, high=MAX_COUNT)
        check_int("blending_steps_total", self.blending_steps_total, low=-MAX_COUNT, high=MAX_COUNT)
        check_instance("metrics", self.metrics, SeedMetricsReport)

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
