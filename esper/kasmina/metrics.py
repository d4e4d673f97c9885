"""Per-seed metrics (accuracy in percentage points, 0-100)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

from esper.kasmina.health import SeedHealth
from esper.leyline.validation import check_keys, read_bool, read_float, read_int, read_optional_float
from esper.leyline import SeedMetricsReport
from esper.leyline.telemetry import TelemetryValue

#: Improvement (points) that maps to a normalised value of 1.0.
IMPROVEMENT_NORMALIZER = 10.0


def check_accuracy(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite real in [0, 100], else raise ``TypeError``/``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number of accuracy points in [0, 100], got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    if not 0.0 <= result <= 100.0:
        raise ValueError(f"{name} must be in [0, 100] accuracy points, got {result}")
    return result


_HEALTH_FIELDS: tuple[str, ...] = ("seed_residual_ratio", "seed_output_finite", "seed_params_finite")


@dataclass(slots=True)
class SeedMetrics:
    """Mutable metrics of one seed, updated by the trainer and by ``SeedSlot.step_epoch``."""

    epochs_total: int = 0
    epochs_in_current_stage: int = 0
    initial_val_accuracy: float = 0.0
    current_val_accuracy: float = 0.0
    best_val_accuracy: float = 0.0
    accuracy_at_stage_start: float = 0.0
    accuracy_at_blending_start: float = 0.0
    counterfactual_contribution: float | None = None
    """Accuracy with the seed minus accuracy with its alpha forced to 0 (points); None until measured."""
    seed_gradient_norm_ratio: float = 0.0
    seed_residual_ratio: float = 0.0
    """Latest epoch's relative residual ``|s(x) - x| / |x|`` of the seed (see ``esper.kasmina.health``)."""
    seed_output_finite: bool = True
    seed_params_finite: bool = True
    seed_param_count: int = 0
    current_alpha: float = 0.0
    accuracy_recorded: bool = False
    """True once any accuracy has been recorded for this seed."""
    stage_start_recorded: bool = False
    """True once ``accuracy_at_stage_start`` holds a real measurement for the current stage."""
    blending_started: bool = False

    def record_accuracy(self, acc: float) -> None:
        """Record a validation accuracy in points; rejects NaN/inf and values outside [0, 100]."""
        value = check_accuracy("acc", acc)
        if not self.accuracy_recorded:
            self.initial_val_accuracy = value
            self.best_val_accuracy = value
            self.accuracy_recorded = True
        self.current_val_accuracy = value
        self.best_val_accuracy = max(self.best_val_accuracy, value)
        if not self.stage_start_recorded:
            self.accuracy_at_stage_start = value
            self.stage_start_recorded = True

    def record_counterfactual(self, contribution: float | None) -> None:
        """Set the counterfactual contribution (points, may be negative); rejects NaN/inf."""
        raw: object = contribution
        if raw is None:
            self.counterfactual_contribution = None
            return
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            raise TypeError(f"contribution must be a real number or None, got {type(raw).__name__}")
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(f"contribution must be finite, got {value}")
        self.counterfactual_contribution = value

    def record_health(self, health: SeedHealth) -> None:
        """Store one epoch of seed health (residual ratio, output and parameter finiteness)."""
        if not isinstance(health, SeedHealth):
            raise TypeError(f"health must be a SeedHealth, got {type(health).__name__}")
        self.seed_residual_ratio = health.residual_ratio
        self.seed_output_finite = health.output_finite
        self.seed_params_finite = health.params_finite

    def start_stage(self) -> None:
        """Reset per-stage counters; the stage starts at the latest accuracy, if any was recorded."""
        self.epochs_in_current_stage = 0
        self.accuracy_at_stage_start = self.current_val_accuracy
        self.stage_start_recorded = self.accuracy_recorded

    @property
    def improvement_since_stage_start(self) -> float:
        """Accuracy points gained since the current stage started (0 before any measurement)."""
        if not self.stage_start_recorded:
            return 0.0
        return self.current_val_accuracy - self.accuracy_at_stage_start

    @property
    def improvement_since_stage_start_normalized(self) -> float:
        """Improvement divided by 10 points, clipped to [-1, 1]."""
        return max(-1.0, min(1.0, self.improvement_since_stage_start / IMPROVEMENT_NORMALIZER))

    def to_report(self) -> SeedMetricsReport:
        """Immutable snapshot for Tamiyo and rewards."""
        return SeedMetricsReport(
            epochs_total=self.epochs_total,
            epochs_in_current_stage=self.epochs_in_current_stage,
            current_val_accuracy=self.current_val_accuracy,
            accuracy_at_stage_start=self.accuracy_at_stage_start,
            improvement_since_stage_start=self.improvement_since_stage_start,
            improvement_since_stage_start_normalized=self.improvement_since_stage_start_normalized,
            counterfactual_contribution=self.counterfactual_contribution,
            seed_gradient_norm_ratio=self.seed_gradient_norm_ratio,
            seed_param_count=self.seed_param_count,
            current_alpha=self.current_alpha,
        )

    def to_dict(self) -> dict[str, TelemetryValue]:
        """Primitive dict with every field."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> "SeedMetrics":
        """Strict inverse of :meth:`to_dict`: every field required and type-checked, except the health fields
        (added by issue 9; absent in older dicts: default healthy)."""
        what = "metrics"
        names = [f.name for f in fields(cls)]
        required = [name for name in names if name not in _HEALTH_FIELDS]
        d = dict(check_keys(data, what, required, optional=_HEALTH_FIELDS))
        defaults = cls()
        for name in _HEALTH_FIELDS:
            d.setdefault(name, getattr(defaults, name))
        metrics = cls(
            epochs_total=read_int(d, "epochs_total", what),
            epochs_in_current_stage=read_int(d, "epochs_in_current_stage", what),
            initial_val_accuracy=read_float(d, "initial_val_accuracy", what),
            current_val_accuracy=read_float(d, "current_val_accuracy", what),
            best_val_accuracy=read_float(d, "best_val_accuracy", what),
            accuracy_at_stage_start=read_float(d, "accuracy_at_stage_start", what),
            accuracy_at_blending_start=read_float(d, "accuracy_at_blending_start", what),
            counterfactual_contribution=read_optional_float(d, "counterfactual_contribution", what),
            seed_gradient_norm_ratio=read_float(d, "seed_gradient_norm_ratio", what, finite=False),
            seed_residual_ratio=read_float(d, "seed_residual_ratio", what, finite=False),
            seed_output_finite=read_bool(d, "seed_output_finite", what),
            seed_params_finite=read_bool(d, "seed_params_finite", what),
            seed_param_count=read_int(d, "seed_param_count", what),
            current_alpha=read_float(d, "current_alpha", what),
            accuracy_recorded=read_bool(d, "accuracy_recorded", what),
            stage_start_recorded=read_bool(d, "stage_start_recorded", what),
            blending_started=read_bool(d, "blending_started", what),
        )
        for name in ("initial_val_accuracy", "current_val_accuracy", "best_val_accuracy",
                     "accuracy_at_stage_start", "accuracy_at_blending_start"):
            check_accuracy(f"metrics.{name}", getattr(metrics, name))
        if not 0.0 <= metrics.current_alpha <= 1.0:
            raise ValueError(f"metrics.current_alpha must be in [0, 1], got {metrics.current_alpha}")
        return metrics


__all__ = ["IMPROVEMENT_NORMALIZER", "SeedMetrics", "check_accuracy"]
