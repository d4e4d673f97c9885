"""Seed lifecycle stages and the legal transitions between them."""

from __future__ import annotations

from enum import IntEnum


class SeedStage(IntEnum):
    """Lifecycle stage of a seed. Value 5 is deliberately unused (historical SHADOWING)."""

    UNKNOWN = 0
    DORMANT = 1
    GERMINATED = 2
    TRAINING = 3
    BLENDING = 4
    PROBATIONARY = 6
    FOSSILIZED = 7
    CULLED = 8
    EMBARGOED = 9
    RESETTING = 10


VALID_TRANSITIONS: dict[SeedStage, frozenset[SeedStage]] = {
    SeedStage.UNKNOWN: frozenset({SeedStage.DORMANT}),
    SeedStage.DORMANT: frozenset({SeedStage.GERMINATED}),
    SeedStage.GERMINATED: frozenset({SeedStage.TRAINING, SeedStage.CULLED}),
    SeedStage.TRAINING: frozenset({SeedStage.BLENDING, SeedStage.CULLED}),
    SeedStage.BLENDING: frozenset({SeedStage.PROBATIONARY, SeedStage.CULLED}),
    SeedStage.PROBATIONARY: frozenset({SeedStage.FOSSILIZED, SeedStage.CULLED}),
    SeedStage.FOSSILIZED: frozenset(),
    SeedStage.CULLED: frozenset({SeedStage.EMBARGOED}),
    SeedStage.EMBARGOED: frozenset({SeedStage.RESETTING}),
    SeedStage.RESETTING: frozenset({SeedStage.DORMANT}),
}

#: Stages in which a seed module exists and contributes to (or trains behind) the forward pass.
ACTIVE_STAGES: frozenset[SeedStage] = frozenset(
    {SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED}
)
#: Stages whose output is blended into the host with a non-zero alpha.
BLENDED_STAGES: frozenset[SeedStage] = frozenset({SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED})
#: Stages from which Tamiyo may cull.
CULLABLE_STAGES: frozenset[SeedStage] = frozenset(
    {SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY}
)
#: Stages of the post-cull cooldown, during which the slot cannot be germinated.
COOLDOWN_STAGES: frozenset[SeedStage] = frozenset({SeedStage.CULLED, SeedStage.EMBARGOED, SeedStage.RESETTING})


class InvalidTransitionError(ValueError):
    """Raised when a lifecycle transition is not in :data:`VALID_TRANSITIONS`."""


def as_stage(value: SeedStage | int, name: str = "stage") -> SeedStage:
    """Coerce ``value`` to a :class:`SeedStage`; raise ``ValueError`` listing the valid stages otherwise."""
    if isinstance(value, SeedStage):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in SeedStage._value2member_map_:
        return SeedStage(value)
    valid = [f"{s.name}={s.value}" for s in SeedStage]
    raise ValueError(f"{name} {value!r} is not a SeedStage; valid: {valid}")


def is_valid_transition(old: SeedStage, new: SeedStage) -> bool:
    """True when ``old -> new`` is a legal lifecycle transition."""
    return as_stage(new, "new") in VALID_TRANSITIONS[as_stage(old, "old")]


def check_transition(old: SeedStage, new: SeedStage) -> None:
    """Raise :class:`InvalidTransitionError` naming the allowed targets if ``old -> new`` is illegal."""
    old, new = as_stage(old, "old"), as_stage(new, "new")
    if not is_valid_transition(old, new):
        allowed = sorted(s.name for s in VALID_TRANSITIONS[old]) or ["<none: terminal>"]
        raise InvalidTransitionError(f"illegal transition {old.name} -> {new.name}; allowed from {old.name}: {allowed}")


def is_active(stage: SeedStage) -> bool:
    """True when a seed module is present in the slot."""
    return as_stage(stage) in ACTIVE_STAGES


def is_terminal(stage: SeedStage) -> bool:
    """True for FOSSILIZED, the only terminal stage."""
    return not VALID_TRANSITIONS[as_stage(stage)]


def is_cullable(stage: SeedStage) -> bool:
    """True when Tamiyo may cull a seed in this stage."""
    return as_stage(stage) in CULLABLE_STAGES


def is_cooldown(stage: SeedStage) -> bool:
    """True during CULLED/EMBARGOED/RESETTING."""
    return as_stage(stage) in COOLDOWN_STAGES


__all__ = [
    "ACTIVE_STAGES",
    "BLENDED_STAGES",
    "COOLDOWN_STAGES",
    "CULLABLE_STAGES",
    "InvalidTransitionError",
    "SeedStage",
    "VALID_TRANSITIONS",
    "as_stage",
    "check_transition",
    "is_active",
    "is_cooldown",
    "is_cullable",
    "is_terminal",
    "is_valid_transition",
]
