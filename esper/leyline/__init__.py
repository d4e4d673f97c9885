"""Leyline: the shared contracts of Esper (enums, constants, reports, telemetry types).

Leyline imports no other esper package.
"""

from __future__ import annotations

from esper.leyline import defaults
from esper.leyline.factored_actions import (
    BLEND_ALGORITHM_IDS,
    NUM_BLENDS,
    NUM_BLUEPRINTS,
    NUM_OPS,
    NUM_SLOTS,
    NUM_TEMPO,
    TEMPO_TO_EPOCHS,
    TOPOLOGIES,
    TOPOLOGY_BLUEPRINTS,
    BlendAction,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    TempoAction,
    check_topology,
    tempo_epochs,
)
from esper.leyline.reports import SeedMetricsReport, SeedStateReport
from esper.leyline.stages import (
    ACTIVE_STAGES,
    BLENDED_STAGES,
    COOLDOWN_STAGES,
    CULLABLE_STAGES,
    VALID_TRANSITIONS,
    InvalidTransitionError,
    SeedStage,
    as_stage,
    check_transition,
    is_active,
    is_cooldown,
    is_cullable,
    is_terminal,
    is_valid_transition,
)
from esper.leyline.telemetry import SeedTelemetry, TelemetryEvent, TelemetryEventType, TelemetryValue
from esper.leyline.validation import check_int

#: Single source of truth for the action heads, in index order. Network heads, buffer fields, masks,
#: causal head masks, entropy coefficients and telemetry all derive from this tuple.
HEAD_NAMES: tuple[str, ...] = ("slot", "blueprint", "blend", "tempo", "op")


def head_sizes(num_slots: int = NUM_SLOTS) -> dict[str, int]:
    """Number of choices per head, keyed and ordered by :data:`HEAD_NAMES`."""
    check_int("num_slots", num_slots, low=1)
    sizes = {"slot": num_slots, "blueprint": NUM_BLUEPRINTS, "blend": NUM_BLENDS, "tempo": NUM_TEMPO, "op": NUM_OPS}
    return {name: sizes[name] for name in HEAD_NAMES}


#: Head sizes for the default three-slot layout.
HEAD_SIZES: dict[str, int] = head_sizes()


def check_head_name(name: str) -> str:
    """Return ``name`` if it is a head, else raise ``ValueError`` listing :data:`HEAD_NAMES`."""
    if name not in HEAD_NAMES:
        raise ValueError(f"head {name!r} is unknown; valid: {list(HEAD_NAMES)}")
    return name


__all__ = [
    "ACTIVE_STAGES",
    "BLENDED_STAGES",
    "BLEND_ALGORITHM_IDS",
    "COOLDOWN_STAGES",
    "CULLABLE_STAGES",
    "HEAD_NAMES",
    "HEAD_SIZES",
    "NUM_BLENDS",
    "NUM_BLUEPRINTS",
    "NUM_OPS",
    "NUM_SLOTS",
    "NUM_TEMPO",
    "TEMPO_TO_EPOCHS",
    "TOPOLOGIES",
    "TOPOLOGY_BLUEPRINTS",
    "VALID_TRANSITIONS",
    "BlendAction",
    "BlueprintAction",
    "FactoredAction",
    "InvalidTransitionError",
    "LifecycleOp",
    "SeedMetricsReport",
    "SeedStage",
    "SeedStateReport",
    "SeedTelemetry",
    "TelemetryEvent",
    "TelemetryEventType",
    "TelemetryValue",
    "TempoAction",
    "as_stage",
    "check_head_name",
    "check_topology",
    "check_transition",
    "defaults",
    "head_sizes",
    "is_active",
    "is_cooldown",
    "is_cullable",
    "is_terminal",
    "is_valid_transition",
    "tempo_epochs",
]
