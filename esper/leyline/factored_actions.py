"""Factored action space of Tamiyo: slot, blueprint, blend, tempo and lifecycle op."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from enum import IntEnum
from typing import SupportsIndex, TypeVar


class LifecycleOp(IntEnum):
    """Lifecycle operation chosen by the op head."""

    WAIT = 0
    GERMINATE = 1
    CULL = 2
    FOSSILIZE = 3


class BlueprintAction(IntEnum):
    """Blueprint chosen by the blueprint head (only used when op == GERMINATE)."""

    NOOP = 0
    CONV_LIGHT = 1
    ATTENTION = 2
    NORM = 3
    DEPTHWISE = 4
    BOTTLENECK = 5
    CONV_SMALL = 6
    CONV_HEAVY = 7
    LORA = 8
    LORA_LARGE = 9
    MLP_SMALL = 10
    MLP = 11
    FLEX_ATTENTION = 12

    @property
    def blueprint_id(self) -> str:
        """Registry name of the blueprint, e.g. ``"conv_light"``."""
        return self.name.lower()

    @classmethod
    def from_blueprint_id(cls, blueprint_id: str) -> "BlueprintAction":
        """Inverse of :attr:`blueprint_id`; raises ``ValueError`` listing the valid ids."""
        valid = [b.blueprint_id for b in cls]
        if not isinstance(blueprint_id, str):
            raise TypeError(f"blueprint_id must be a str, got {type(blueprint_id).__name__}; valid: {valid}")
        member = cls.__members__.get(blueprint_id.upper())
        if member is None:
            raise ValueError(f"blueprint_id {blueprint_id!r} is unknown; valid: {valid}")
        return member


class BlendAction(IntEnum):
    """Blending algorithm chosen by the blend head."""

    LINEAR = 0
    SIGMOID = 1
    GATED = 2

    @property
    def algorithm_id(self) -> str:
        """Name used by Kasmina, e.g. ``"sigmoid"``."""
        return self.name.lower()


class TempoAction(IntEnum):
    """Blending tempo selection.

    Controls how many epochs the alpha ramp takes during BLENDING stage.
    Selected at GERMINATE time, stored in SeedState, used by start_blending().

    - FAST: rapid integration, quick signal, higher risk of instability
    - STANDARD: the default (5 epochs), balanced
    - SLOW: gradual integration, better stability assessment, longer investment
    """

    FAST = 0  # 3 epochs
    STANDARD = 1  # 5 epochs (default)
    SLOW = 2  # 8 epochs


#: Epochs of the alpha ramp for each tempo.
TEMPO_TO_EPOCHS: dict[TempoAction, int] = {
    TempoAction.FAST: 3,
    TempoAction.STANDARD: 5,
    TempoAction.SLOW: 8,
}

NUM_SLOTS: int = 3
NUM_BLUEPRINTS: int = len(BlueprintAction)
NUM_BLENDS: int = len(BlendAction)
NUM_TEMPO: int = len(TempoAction)
NUM_OPS: int = len(LifecycleOp)

BLEND_ALGORITHM_IDS: tuple[str, ...] = tuple(b.algorithm_id for b in BlendAction)

#: Blueprints available per host topology (NOOP included; masks remove it).
TOPOLOGY_BLUEPRINTS: dict[str, frozenset[BlueprintAction]] = {
    "cnn": frozenset(
        {
            BlueprintAction.NOOP,
            BlueprintAction.NORM,
            BlueprintAction.ATTENTION,
            BlueprintAction.CONV_LIGHT,
            BlueprintAction.DEPTHWISE,
            BlueprintAction.BOTTLENECK,
            BlueprintAction.CONV_SMALL,
            BlueprintAction.CONV_HEAVY,
        }
    ),
    "transformer": frozenset(
        {
            BlueprintAction.NOOP,
            BlueprintAction.NORM,
            BlueprintAction.ATTENTION,
            BlueprintAction.LORA,
            BlueprintAction.LORA_LARGE,
            BlueprintAction.MLP_SMALL,
            BlueprintAction.MLP,
            BlueprintAction.FLEX_ATTENTION,
        }
    ),
}
TOPOLOGIES: tuple[str, ...] = tuple(TOPOLOGY_BLUEPRINTS)


def check_topology(topology: str) -> str:
    """Return ``topology`` if known, else raise ``ValueError`` listing the valid topologies."""
    if topology not in TOPOLOGY_BLUEPRINTS:
        raise ValueError(f"topology {topology!r} is unknown; valid: {list(TOPOLOGIES)}")
    return topology


def tempo_epochs(tempo: TempoAction | int) -> int:
    """Ramp length in epochs for a tempo enum or tempo index."""
    return TEMPO_TO_EPOCHS[_to_enum(TempoAction, tempo, "tempo")]


_E = TypeVar("_E", bound=IntEnum)


def _check_index(value: SupportsIndex, head: str, size: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{head} index must be an int in [0, {size - 1}], got bool {value!r}")
    try:
        idx = operator.index(value)
    except TypeError:
        raise ValueError(f"{head} index must be an int in [0, {size - 1}], got {value!r}") from None
    if not 0 <= idx < size:
        raise ValueError(f"{head} index {idx} out of range; valid: [0, {size - 1}]")
    return idx


def _to_enum(enum_cls: type[_E], value: SupportsIndex, head: str) -> _E:
    return enum_cls(_check_index(value, head, len(enum_cls)))


@dataclass(frozen=True, slots=True)
class FactoredAction:
    """Factored action representation for multi-slot morphogenetic control.

    5 action heads:
    - slot_idx: which slot to target
    - blueprint: which blueprint to germinate
    - blend: which blending algorithm
    - tempo: how fast to blend
    - op: lifecycle operation
    """

    slot_idx: int
    blueprint: BlueprintAction
    blend: BlendAction
    tempo: TempoAction
    op: LifecycleOp

    def __post_init__(self) -> None:
        if isinstance(self.slot_idx, bool) or not isinstance(self.slot_idx, int) or self.slot_idx < 0:
            raise ValueError(f"slot_idx must be a non-negative int, got {self.slot_idx!r}")
        for head, value, enum_cls in (
            ("blueprint", self.blueprint, BlueprintAction),
            ("blend", self.blend, BlendAction),
            ("tempo", self.tempo, TempoAction),
            ("op", self.op, LifecycleOp),
        ):
            if not isinstance(value, enum_cls):
                raise TypeError(f"{head} must be a {enum_cls.__name__}, got {type(value).__name__} {value!r}")

    @classmethod
    def from_indices(
        cls,
        slot_idx: SupportsIndex,
        blueprint_idx: SupportsIndex,
        blend_idx: SupportsIndex,
        tempo_idx: SupportsIndex,
        op_idx: SupportsIndex,
        *,
        num_slots: int = NUM_SLOTS,
    ) -> "FactoredAction":
        """Create from integer indices (network output); out-of-range raises ``ValueError`` naming the head."""
        if isinstance(num_slots, bool) or not isinstance(num_slots, int) or num_slots < 1:
            raise ValueError(f"num_slots must be an int >= 1, got {num_slots!r}")
        return cls(
            slot_idx=_check_index(slot_idx, "slot", num_slots),
            blueprint=_to_enum(BlueprintAction, blueprint_idx, "blueprint"),
            blend=_to_enum(BlendAction, blend_idx, "blend"),
            tempo=_to_enum(TempoAction, tempo_idx, "tempo"),
            op=_to_enum(LifecycleOp, op_idx, "op"),
        )

    def to_indices(self) -> tuple[int, int, int, int, int]:
        """Convert to integer indices in ``HEAD_NAMES`` order."""
        return (self.slot_idx, self.blueprint.value, self.blend.value, self.tempo.value, self.op.value)

    @property
    def tempo_epochs(self) -> int:
        """Blend ramp length selected by the tempo head."""
        return TEMPO_TO_EPOCHS[self.tempo]

    @property
    def blueprint_id(self) -> str:
        return self.blueprint.blueprint_id

    @property
    def blend_algorithm_id(self) -> str:
        return self.blend.algorithm_id


__all__ = [
    "BLEND_ALGORITHM_IDS",
    "BlendAction",
    "BlueprintAction",
    "FactoredAction",
    "LifecycleOp",
    "NUM_BLENDS",
    "NUM_BLUEPRINTS",
    "NUM_OPS",
    "NUM_SLOTS",
    "NUM_TEMPO",
    "TEMPO_TO_EPOCHS",
    "TOPOLOGIES",
    "TOPOLOGY_BLUEPRINTS",
    "TempoAction",
    "check_topology",
    "tempo_epochs",
]
