"""Telemetry contracts: event types, the event record and per-seed telemetry."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import Enum

from esper.leyline.validation import MAX_COUNT, check_float, check_int, check_str

TelemetryValue = float | int | str | bool | None
_PRIMITIVE_TYPES = (float, int, str, bool)


class TelemetryEventType(str, Enum):
    """Kinds of telemetry event emitted by Esper subsystems."""

    SEED_GERMINATED = "seed_germinated"
    SEED_STAGE_CHANGED = "seed_stage_changed"
    SEED_GATE_EVALUATED = "seed_gate_evaluated"
    SEED_FOSSILIZED = "seed_fossilized"
    SEED_CULLED = "seed_culled"
    EPOCH_COMPLETED = "epoch_completed"
    EPISODE_COMPLETED = "episode_completed"
    PPO_UPDATE_COMPLETED = "ppo_update_completed"
    PPO_UPDATE_SKIPPED = "ppo_update_skipped"
    GOVERNOR_ROLLBACK = "governor_rollback"
    CHECKPOINT_SAVED = "checkpoint_saved"
    CHECKPOINT_LOADED = "checkpoint_loaded"


@dataclass(frozen=True, slots=True)
class TelemetryEvent:
    """One telemetry record. ``data`` holds primitive values only, so events serialise to JSON."""

    event_type: TelemetryEventType
    data: dict[str, TelemetryValue] = field(default_factory=dict)
    slot_id: str | None = None
    seed_id: str | None = None
    epoch: int | None = None
    timestamp: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        event_type: object = self.event_type
        if not isinstance(event_type, TelemetryEventType):
            valid = [t.value for t in TelemetryEventType]
            raise TypeError(f"event_type must be a TelemetryEventType, got {event_type!r}; valid: {valid}")
        data: object = self.data
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict of str to float/int/str/bool/None, got {type(data).__name__}")
        for name in ("slot_id", "seed_id"):
            if getattr(self, name) is not None:
                check_str(f"{name} (or None)", getattr(self, name))
        if self.epoch is not None:
            check_int("epoch (or None)", self.epoch, low=0, high=MAX_COUNT)
        object.__setattr__(self, "timestamp", check_float("timestamp", self.timestamp, low=0.0))
        items: list[tuple[object, object]] = list(self.data.items())
        for key, value in items:
            if not isinstance(key, str):
                raise TypeError(f"data keys must be str, got {key!r}")
            if value is not None and not isinstance(value, _PRIMITIVE_TYPES):
                raise TypeError(
                    f"data[{key!r}] must be float, int, str, bool or None (JSON-serialisable), "
                    f"got {type(value).__name__}"
                )

    def to_dict(self) -> dict[str, TelemetryValue | dict[str, TelemetryValue]]:
        """Primitive dict for JSONL sinks."""
        return {
            "event_type": self.event_type.value,
            "slot_id": self.slot_id,
            "seed_id": self.seed_id,
            "epoch": self.epoch,
            "timestamp": self.timestamp,
            "data": dict(self.data),
        }


@dataclass(slots=True)
class SeedTelemetry:
    """Telemetry snapshot for a single seed, refreshed by ``SeedSlot.sync_telemetry``."""

    seed_id: str = ""
    slot_id: str = ""
    blueprint_id: str = ""
    stage: int = 0
    alpha: float = 0.0
    accuracy: float = 0.0
    accuracy_delta: float = 0.0
    epochs_in_stage: int = 0
    gradient_norm_ratio: float = 0.0
    counterfactual_contribution: float | None = None
    # Tempo telemetry (plan Task 12)
    blend_tempo_epochs: int = 5
    blending_velocity: float = 0.0
    """d(alpha)/d(epoch) during BLENDING: alpha / epochs in the blending stage."""

    def to_dict(self) -> dict[str, TelemetryValue]:
        return dict(asdict(self))


__all__ = ["SeedTelemetry", "TelemetryEvent", "TelemetryEventType", "TelemetryValue"]
