"""Quality gates G0-G5 that guard the seed lifecycle. Every evaluation records why it passed or failed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from esper.kasmina.state import SeedState
from esper.leyline import SeedStage
from esper.leyline.defaults import (
    G2_MIN_EPOCHS,
    G2_MIN_GRAD_RATIO,
    G2_MIN_IMPROVEMENT,
    G3_MIN_ALPHA,
    G3_MIN_BLEND_EPOCHS,
    G5_MIN_CONTRIBUTION,
    SEED_MAX_GRAD_RATIO,
    SEED_MAX_RESIDUAL_RATIO,
)
from esper.leyline.telemetry import TelemetryValue
from esper.leyline.validation import MAX_COUNT, check_float, check_int

#: Names of the gates, in lifecycle order.
GATE_NAMES: tuple[str, ...] = ("G0", "G1", "G2", "G3", "G4", "G5", "HEALTH")

#: G4 check names; the failing one becomes the auto-cull reason.
NEGATIVE_COUNTERFACTUAL = "negative_counterfactual"
PROBATION_TIMEOUT = "probation_timeout"

#: Health check names (DEC.seedhealth.2); a failed one is the auto-cull reason of a diverging seed.
PARAMS_FINITE = "params_finite"
OUTPUT_FINITE = "output_finite"
GRADIENT_RATIO_BOUNDED = "gradient_norm_ratio_bounded"
RESIDUAL_BOUNDED = "residual_bounded"
HEALTH_CHECKS: tuple[str, ...] = (PARAMS_FINITE, OUTPUT_FINITE, GRADIENT_RATIO_BOUNDED, RESIDUAL_BOUNDED)


@dataclass(frozen=True, slots=True)
class GateResult:
    """Outcome of one gate evaluation.

    ``checks`` maps each check name to whether it passed; ``reasons`` describes the failing checks when the gate
    failed, otherwise the satisfied checks.
    """

    gate: str
    passed: bool
    reasons: tuple[str, ...]
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(name for name, ok in self.checks.items() if not ok)

    def to_event_data(self) -> dict[str, TelemetryValue]:
        """Primitive payload for a SEED_GATE_EVALUATED event."""
        return {"gate": self.gate, "passed": self.passed, "reasons": "; ".join(self.reasons),
                "failed_checks": ",".join(self.failed_checks)}


def _result(gate: str, checks: list[tuple[str, bool, str]]) -> GateResult:
    passed = all(ok for _, ok, _ in checks)
    reasons = tuple(text for _, ok, text in checks if ok == passed)
    return GateResult(gate=gate, passed=passed, reasons=reasons, checks={name: ok for name, ok, _ in checks})


def _ge(name: str, value: float, threshold: float, unit: str = "") -> tuple[str, bool, str]:
    ok = value >= threshold  # False for NaN
    sign = ">=" if ok else "<"
    return (name, ok, f"{name} {value:g}{unit} {sign} {threshold:g}{unit}")


def _at_most(name: str, value: float, limit: float) -> tuple[str, bool, str]:
    ok = math.isfinite(value) and value <= limit  # NaN and inf fail: an unbounded value never passes
    sign = "<=" if ok else ">"
    return (name, ok, f"{name} {value:g} {sign} {limit:g}" if not math.isnan(value) else f"{name} is NaN")


def _flag(name: str, ok: bool, what: str) -> tuple[str, bool, str]:
    return (name, ok, f"{what} {'finite' if ok else 'non-finite'}")


@dataclass(frozen=True, slots=True)
class QualityGates:
    """Gate thresholds (defaults from ``esper.leyline.defaults``) and the gate checks.

    - G0 germination: the slot is empty and the blueprint exists for the topology.
    - G1 GERMINATED->TRAINING: a seed module was built.
    - G2 TRAINING->BLENDING: the health checks, improvement since stage start, epochs in stage, seed gradient-norm
      ratio >= minimum (not applicable to a seed without parameters).
    - HEALTH (every epoch of a TRAINING/BLENDING/PROBATIONARY seed): parameters and output finite, gradient-norm
      ratio and relative residual finite and bounded. A failed health check culls the seed (DEC.seedhealth.2).
    - G3 BLENDING->PROBATIONARY: epochs blending and alpha.
    - G4 staying in PROBATIONARY: counterfactual not <= 0 (when measured) and not timed out.
    - G5 PROBATIONARY->FOSSILIZED: counterfactual contribution measured and large enough.
    """

    g2_min_improvement: float = G2_MIN_IMPROVEMENT
    g2_min_epochs: int = G2_MIN_EPOCHS
    g2_min_grad_ratio: float = G2_MIN_GRAD_RATIO
    g3_min_epochs: int = G3_MIN_BLEND_EPOCHS
    g3_min_alpha: float = G3_MIN_ALPHA
    g5_min_contribution: float = G5_MIN_CONTRIBUTION
    max_grad_ratio: float = SEED_MAX_GRAD_RATIO
    max_residual_ratio: float = SEED_MAX_RESIDUAL_RATIO

    def __post_init__(self) -> None:
        # Impossible thresholds (alpha 2, NaN, a negative epoch count) are refused (issue 13).
        floats: dict[str, tuple[float, float]] = {
            "g2_min_improvement": (-100.0, 100.0),  # accuracy points
            "g2_min_grad_ratio": (0.0, math.inf),
            "g3_min_alpha": (0.0, 1.0),
            "g5_min_contribution": (-100.0, 100.0),  # accuracy points
        }
        for name, (low, high) in floats.items():
            bound = None if math.isinf(high) else high
            object.__setattr__(self, name, check_float(f"QualityGates.{name}", getattr(self, name), low=low, high=bound))
        for name in ("g2_min_epochs", "g3_min_epochs"):
            check_int(f"QualityGates.{name}", getattr(self, name), low=0, high=MAX_COUNT)

    def g0(self, occupant: SeedState | None, blueprint_id: str, topology: str, valid_blueprints: tuple[str, ...]) -> GateResult:
        free = occupant is None
        slot_text = "slot is empty" if occupant is None else (
            f"slot is occupied by seed {occupant.seed_id!r} in stage {occupant.stage.name}")
        known = blueprint_id in valid_blueprints
        bp_text = (f"blueprint {blueprint_id!r} is available for topology {topology!r}" if known else
                   f"blueprint_id {blueprint_id!r} is unknown for topology {topology!r}; valid: {list(valid_blueprints)}")
        return _result("G0", [("slot_free", free, slot_text), ("blueprint_known", known, bp_text)])

    def g1(self, state: SeedState, seed_built: bool) -> GateResult:
        return _result("G1", [
            ("stage_germinated", state.stage == SeedStage.GERMINATED, f"stage is {state.stage.name}"),
            ("seed_built", seed_built, "seed module built" if seed_built else "no seed module"),
        ])

    def health_checks(self, state: SeedState) -> list[tuple[str, bool, str]]:
        """The checks of :meth:`health` (also the first checks of G2), in :data:`HEALTH_CHECKS` order."""
        m = state.metrics
        return [
            _flag(PARAMS_FINITE, m.seed_params_finite, "seed parameters"),
            _flag(OUTPUT_FINITE, m.seed_output_finite, "seed output"),
            _at_most(GRADIENT_RATIO_BOUNDED, m.seed_gradient_norm_ratio, self.max_grad_ratio),
            _at_most(RESIDUAL_BOUNDED, m.seed_residual_ratio, self.max_residual_ratio),
        ]

    def health(self, state: SeedState) -> GateResult:
        """Gate ``HEALTH``: the seed is finite and bounded (checked every epoch of a live, non-fossilized seed)."""
        return _result("HEALTH", self.health_checks(state))

    def g2(self, state: SeedState) -> GateResult:
        m = state.metrics
        if m.seed_param_count == 0:
            learning = ("gradient_norm_ratio", True, "seed has no parameters: gradient-norm ratio not applicable")
        else:
            learning = _ge("gradient_norm_ratio", m.seed_gradient_norm_ratio, self.g2_min_grad_ratio)
        return _result("G2", [
            *self.health_checks(state),
            _ge("improvement", m.improvement_since_stage_start, self.g2_min_improvement, " points"),
            _ge("epochs_in_stage", m.epochs_in_current_stage, self.g2_min_epochs),
            learning,
        ])

    def g3(self, state: SeedState) -> GateResult:
        return _result("G3", [
            _ge("epochs_blending", state.metrics.epochs_in_current_stage, self.g3_min_epochs),
            _ge("alpha", state.alpha, self.g3_min_alpha),
        ])

    def g4(self, state: SeedState, timeout_epochs: int) -> GateResult:
        cf = state.metrics.counterfactual_contribution
        cf_ok = cf is None or not cf <= 0.0
        cf_text = ("counterfactual not measured" if cf is None else
                   f"counterfactual {cf:g} points {'>' if cf_ok else '<='} 0")
        epochs = state.metrics.epochs_in_current_stage
        on_time = epochs < timeout_epochs
        time_text = f"epochs in probation {epochs} {'<' if on_time else '>='} timeout {timeout_epochs}"
        return _result("G4", [(NEGATIVE_COUNTERFACTUAL, cf_ok, cf_text), (PROBATION_TIMEOUT, on_time, time_text)])

    def g5(self, state: SeedState) -> GateResult:
        cf = state.metrics.counterfactual_contribution
        probationary = state.stage == SeedStage.PROBATIONARY
        checks = [("stage_probationary", probationary, f"stage is {state.stage.name}")]
        if cf is None:
            checks.append(("counterfactual", False, "counterfactual contribution not measured"))
        else:
            checks.append(_ge("counterfactual", cf, self.g5_min_contribution, " points"))
        return _result("G5", checks)


__all__ = [
    "GATE_NAMES",
    "GRADIENT_RATIO_BOUNDED",
    "HEALTH_CHECKS",
    "NEGATIVE_COUNTERFACTUAL",
    "OUTPUT_FINITE",
    "PARAMS_FINITE",
    "PROBATION_TIMEOUT",
    "RESIDUAL_BOUNDED",
    "GateResult",
    "QualityGates",
]
