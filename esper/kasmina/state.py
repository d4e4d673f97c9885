"""SeedState: the serialisable record of one seed's lifecycle (re-exported by ``esper.kasmina.slot``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from esper.kasmina.blending import check_blend_algorithm
from esper.kasmina.metrics import SeedMetrics
from esper.leyline.validation import check_keys, read_float, read_int, read_str
from esper.leyline import SeedStage, check_transition, is_valid_transition
from esper.leyline.defaults import DEFAULT_BLENDING_TOTAL_STEPS

_WHAT = "SeedState"
_REQUIRED = (
    "seed_id", "blueprint_id", "slot_id", "stage", "previous_stage", "blend_algorithm_id",
    "blending_steps_total", "blending_steps_done", "alpha", "metrics", "stage_history",
)
_OPTIONAL = ("blend_tempo_epochs", "cull_reason")


def _read_stage(value: object, field_name: str) -> SeedStage:
    """Stages are written as names; names and integer values are both accepted."""
    if isinstance(value, str):
        try:
            return SeedStage[value]
        except KeyError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return SeedStage(value)
        except ValueError:
            pass
    valid = [s.name for s in SeedStage]
    raise ValueError(f"{_WHAT}.{field_name} must be a SeedStage name or value, got {value!r}; valid: {valid}")


@dataclass(kw_only=True, slots=True)
class SeedState:
    """Complete state of a seed through its lifecycle."""

    seed_id: str
    blueprint_id: str
    slot_id: str = ""

    stage: SeedStage = SeedStage.DORMANT
    previous_stage: SeedStage = SeedStage.UNKNOWN
    blend_algorithm_id: str = "sigmoid"

    # Tempo selection from germination (plan Task 5): epochs of the alpha ramp.
    blend_tempo_epochs: int = DEFAULT_BLENDING_TOTAL_STEPS

    blending_steps_total: int = 0
    blending_steps_done: int = 0
    alpha: float = 0.0
    metrics: SeedMetrics = field(default_factory=SeedMetrics)
    stage_history: list[SeedStage] = field(default_factory=list)
    """Every stage this seed has been in, in order (starts with the initial stage)."""
    cull_reason: str = ""

    def __post_init__(self) -> None:
        if not self.stage_history:
            self.stage_history.append(self.stage)

    def transition(self, new_stage: SeedStage) -> None:
        """Move to ``new_stage``; raises ``InvalidTransitionError`` (nothing changed) if illegal."""
        check_transition(self.stage, new_stage)
        self.previous_stage = self.stage
        self.stage = new_stage
        self.stage_history.append(new_stage)
        self.metrics.start_stage()

    def to_dict(self) -> dict[str, object]:
        """Primitive dict (stages as names, metrics nested) for checkpoints and logs."""
        return {
            "seed_id": self.seed_id,
            "blueprint_id": self.blueprint_id,
            "slot_id": self.slot_id,
            "stage": self.stage.name,
            "previous_stage": self.previous_stage.name,
            "blend_algorithm_id": self.blend_algorithm_id,
            "blend_tempo_epochs": self.blend_tempo_epochs,
            "blending_steps_total": self.blending_steps_total,
            "blending_steps_done": self.blending_steps_done,
            "alpha": self.alpha,
            "metrics": self.metrics.to_dict(),
            "stage_history": [s.name for s in self.stage_history],
            "cull_reason": self.cull_reason,
        }

    @classmethod
    def from_dict(cls, data: object) -> "SeedState":
        """Strict inverse of :meth:`to_dict`.

        Missing or mistyped required fields raise ``ValueError``/``TypeError`` naming the field; a missing
        ``blend_tempo_epochs`` defaults to 5 (records written before the tempo lever).
        """
        d = check_keys(data, _WHAT, _REQUIRED, _OPTIONAL)
        history_raw = d["stage_history"]
        if not isinstance(history_raw, list) or not history_raw:
            raise TypeError(f"{_WHAT}.stage_history must be a non-empty list of stages, got {history_raw!r}")
        history = [_read_stage(v, "stage_history") for v in history_raw]
        for old, new in zip(history, history[1:]):
            if not is_valid_transition(old, new):
                raise ValueError(f"{_WHAT}.stage_history contains illegal transition {old.name} -> {new.name}")
        stage = _read_stage(d["stage"], "stage")
        if history[-1] != stage:
            raise ValueError(f"{_WHAT}.stage_history must end with stage {stage.name}, ends with {history[-1].name}")
        algorithm = read_str(d, "blend_algorithm_id", _WHAT)
        try:
            check_blend_algorithm(algorithm)
        except ValueError as exc:
            raise ValueError(f"{_WHAT}.{exc}") from None
        tempo = read_int(d, "blend_tempo_epochs", _WHAT, minimum=1) if "blend_tempo_epochs" in d else (
            DEFAULT_BLENDING_TOTAL_STEPS)
        total = read_int(d, "blending_steps_total", _WHAT)
        done = read_int(d, "blending_steps_done", _WHAT)
        if done > total:
            raise ValueError(f"{_WHAT}.blending_steps_done ({done}) must be <= blending_steps_total ({total})")
        alpha = read_float(d, "alpha", _WHAT)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"{_WHAT}.alpha must be in [0, 1], got {alpha}")
        return cls(
            seed_id=read_str(d, "seed_id", _WHAT),
            blueprint_id=read_str(d, "blueprint_id", _WHAT),
            slot_id=read_str(d, "slot_id", _WHAT),
            stage=stage,
            previous_stage=_read_stage(d["previous_stage"], "previous_stage"),
            blend_algorithm_id=algorithm,
            blend_tempo_epochs=tempo,
            blending_steps_total=total,
            blending_steps_done=done,
            alpha=alpha,
            metrics=SeedMetrics.from_dict(d["metrics"]),
            stage_history=history,
            cull_reason=read_str(d, "cull_reason", _WHAT) if "cull_reason" in d else "",
        )


__all__ = ["SeedState"]
