"""Factored action space of Tamiyo: slot, blueprint, blend, tempo and lifecycle op."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from enum import IntEnum
from typing import SupportsIndex, TypeVar

import torch

from esper.leyline.validation import check_int, check_str


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
        # Exact match, like Kasmina's registry: no case folding, so "NORM" and Unicode look-alikes whose
        # upper() is an enum name (e.g. dotless "ı") are refused.
        by_id = {b.blueprint_id: b for b in cls}
        if not isinstance(blueprint_id, str):
            raise TypeError(f"blueprint_id must be a str, got {type(blueprint_id).__name__}; valid: {list(by_id)}")
        member = by_id.get(blueprint_id)
        if member is None:
            raise ValueError(f"blueprint_id {blueprint_id!r} is unknown; valid: {list(by_id)}")
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
    """Return ``topology`` if known; a non-str raises ``TypeError``, an unknown name ``ValueError`` (both list the
    valid topologies)."""
    return check_str("topology", topology, TOPOLOGIES)


def tempo_epochs(tempo: TempoAction | int) -> int:
    """Ramp length in epochs for a tempo enum or tempo index."""
    return TEMPO_TO_EPOCHS[_to_enum(TempoAction, tempo, "tempo")]


_E = TypeVar("_E", bound=IntEnum)


def _check_index(value: SupportsIndex, head: str, size: int) -> int:
    """An index of ``head``: an integer (``operator.index``: ints, NumPy integers, 0-d integer tensors) in
    ``[0, size - 1]``. A non-integer (``bool`` and bool tensors included) raises ``TypeError``, an out-of-range
    integer ``ValueError``; both messages start with ``"<head> index"`` and give the range (DEC.validation.4)."""
    allowed = f"an int in [0, {size - 1}]"
    if isinstance(value, torch.Tensor) and (value.dim() != 0 or value.dtype == torch.bool or value.is_floating_point()):
        got = f"a {value.dim()}-d {value.dtype} tensor"
        raise TypeError(f"{head} index must be {allowed} (or a 0-d integer tensor), got {got}")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise TypeError(f"{head} index must be {allowed}, got bool {value!r}")
    try:
        idx = operator.index(value)
    except TypeError:
        raise TypeError(f"{head} index must be {allowed}, got {type(value).__name__} {value!r}") from None
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
        check_int("slot_idx", self.slot_idx, low=0)
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
        check_int("num_slots", num_slots, low=1)
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
