"""Action masks per head (True = valid), derived from the slots' read-only reports.

Rules (design note §4):

- slot: the enabled slots;
- blueprint: the topology's blueprints minus NOOP;
- blend, tempo: all values (the tempo only takes effect on GERMINATE, plan Task 4);
- op: WAIT always; GERMINATE if some enabled slot is empty (report ``None``) and
  ``seeds_germinated < max_seeds``; CULL if some enabled slot holds a seed with ``can_cull``;
  FOSSILIZE if some enabled slot is PROBATIONARY.

A mask row with no valid entry is an error (``ValueError``), never a uniform distribution.
The op mask is per state, not per slot: an op allowed here may still be impossible on the chosen slot;
:mod:`esper.tamiyo.execution` decides that, and the loop then executes WAIT.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from esper.leyline import (
    HEAD_NAMES,
    NUM_BLENDS,
    NUM_BLUEPRINTS,
    NUM_OPS,
    NUM_TEMPO,
    TOPOLOGY_BLUEPRINTS,
    BlueprintAction,
    LifecycleOp,
    SeedStage,
    SeedStateReport,
    check_topology,
)
from esper.leyline.defaults import DEFAULT_MAX_SEEDS
from esper.leyline.validation import check_device, check_int, is_sequence

SlotStates = Sequence[SeedStateReport | None]


def _check_slot_states(slot_states: SlotStates, name: str = "slot_states") -> SlotStates:
    if not is_sequence(slot_states):
        raise TypeError(f"{name} must be a sequence of SeedStateReport | None, got {type(slot_states).__name__}")
    if len(slot_states) == 0:
        raise ValueError(f"{name} must describe at least one slot, got an empty sequence")
    for i, report in enumerate(slot_states):
        if report is not None and not isinstance(report, SeedStateReport):
            raise TypeError(f"{name}[{i}] must be SeedStateReport or None, got {type(report).__name__}")
    return slot_states


def resolve_enabled_slots(num_slots: int, enabled_slots: Sequence[int] | None) -> tuple[int, ...]:
    """Validated, sorted, de-duplicated enabled slot indices (``None`` = all slots)."""
    if enabled_slots is None:
        return tuple(range(num_slots))
    if not is_sequence(enabled_slots):
        raise TypeError(f"enabled_slots must be a sequence of slot indices or None, got {type(enabled_slots).__name__}")
    for i, idx in enumerate(enabled_slots):
        check_int(f"enabled_slots[{i}]", idx, low=0, high=num_slots - 1)
    if not enabled_slots:
        raise ValueError(f"enabled_slots must name at least one slot in [0, {num_slots - 1}]; got none")
    return tuple(sorted(set(enabled_slots)))


def topology_blueprints(topology: str) -> tuple[BlueprintAction, ...]:
    """Germinable blueprints of a topology (NOOP excluded), in enum order."""
    return tuple(sorted(b for b in TOPOLOGY_BLUEPRINTS[check_topology(topology)] if b != BlueprintAction.NOOP))


def _check_row(head: str, row: list[bool]) -> list[bool]:
    if not any(row):
        raise ValueError(f"mask for head {head!r} has no valid action; every head needs at least one True entry")
    return row


def _slot_row(num_slots: int, enabled: tuple[int, ...]) -> list[bool]:
    return _check_row("slot", [i in enabled for i in range(num_slots)])


def _blueprint_row(topology: str) -> list[bool]:
    allowed = set(topology_blueprints(topology))
    return _check_row("blueprint", [b in allowed for b in BlueprintAction])


def _op_row(slot_states: SlotStates, enabled: tuple[int, ...], seeds_germinated: int, max_seeds: int) -> list[bool]:
    reports = [slot_states[i] for i in enabled]
    row = [False] * NUM_OPS
    row[LifecycleOp.WAIT] = True
    row[LifecycleOp.GERMINATE] = seeds_germinated < max_seeds and any(r is None for r in reports)
    row[LifecycleOp.CULL] = any(r is not None and r.can_cull for r in reports)
    row[LifecycleOp.FOSSILIZE] = any(r is not None and r.stage == SeedStage.PROBATIONARY for r in reports)
    return _check_row("op", row)


def _tensor(rows: list[bool] | list[list[bool]], device: str | torch.device) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.bool, device=check_device("device", device, available=True))


def compute_slot_mask(
    slot_states: SlotStates,
    enabled_slots: Sequence[int] | None = None,
    *,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """``(num_slots,)``: True for enabled slots (all slots when ``enabled_slots`` is None)."""
    num_slots = len(_check_slot_states(slot_states))
    return _tensor(_slot_row(num_slots, resolve_enabled_slots(num_slots, enabled_slots)), device)


def compute_blueprint_mask(
    slot_states: SlotStates | None = None, topology: str = "cnn", *, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """``(NUM_BLUEPRINTS,)``: True for the topology's blueprints except NOOP (plan Task 4 signature; the slot
    states do not change the row)."""
    return _tensor(_blueprint_row(topology), device)


def compute_blend_mask(slot_states: SlotStates | None = None, *, device: str | torch.device = "cpu") -> torch.Tensor:
    """``(NUM_BLENDS,)``: every blending algorithm is always valid."""
    return torch.ones(NUM_BLENDS, dtype=torch.bool, device=check_device("device", device, available=True))


def compute_tempo_mask(
    slot_states: SlotStates | None = None,
    selected_op: LifecycleOp | None = None,
    *,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """``(NUM_TEMPO,)``: all tempos are valid (plan Task 4).

    The tempo only takes effect when op == GERMINATE; for other ops the sampled tempo is ignored,
    but all values stay allowed to avoid masking complexity.
    """
    return torch.ones(NUM_TEMPO, dtype=torch.bool, device=check_device("device", device, available=True))


def compute_op_mask(
    slot_states: SlotStates,
    *,
    enabled_slots: Sequence[int] | None = None,
    seeds_germinated: int = 0,
    max_seeds: int = DEFAULT_MAX_SEEDS,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """``(NUM_OPS,)``: WAIT always; GERMINATE/CULL/FOSSILIZE when some enabled slot allows it."""
    num_slots = len(_check_slot_states(slot_states))
    enabled = resolve_enabled_slots(num_slots, enabled_slots)
    row = _op_row(slot_states, enabled, check_int("seeds_germinated", seeds_germinated, low=0), check_int("max_seeds", max_seeds, low=0))
    return _tensor(row, device)


def compute_action_masks(
    slot_states: SlotStates,
    *,
    enabled_slots: Sequence[int] | None = None,
    topology: str = "cnn",
    seeds_germinated: int = 0,
    max_seeds: int = DEFAULT_MAX_SEEDS,
    device: str | torch.device = "cpu",
) -> dict[str, torch.Tensor]:
    """All masks for one state, keyed (and ordered) by ``HEAD_NAMES``; each a 1-D bool tensor on ``device``.

    Built from the per-head ``compute_*_mask`` functions, as plan Task 4 writes it.
    """
    masks = {
        "slot": compute_slot_mask(slot_states, enabled_slots, device=device),
        "blueprint": compute_blueprint_mask(slot_states, topology, device=device),
        "blend": compute_blend_mask(slot_states, device=device),
        "tempo": compute_tempo_mask(slot_states, device=device),
        "op": compute_op_mask(
            slot_states,
            enabled_slots=enabled_slots,
            seeds_germinated=seeds_germinated,
            max_seeds=max_seeds,
            device=device,
        ),
    }
    return {name: masks[name] for name in HEAD_NAMES}


def compute_batch_masks(
    batch_slot_states: Sequence[SlotStates],
    *,
    enabled_slots: Sequence[int] | None = None,
    topology: str = "cnn",
    seeds_germinated: int | Sequence[int] = 0,
    max_seeds: int = DEFAULT_MAX_SEEDS,
    device: str | torch.device = "cpu",
) -> dict[str, torch.Tensor]:
    """Masks for a batch of states, stacked to ``(B, n)`` per head (``seeds_germinated`` may be per env)."""
    if not is_sequence(batch_slot_states):
        raise TypeError(f"batch_slot_states must be a sequence of slot-state sequences, got {type(batch_slot_states).__name__}")
    if len(batch_slot_states) == 0:
        raise ValueError("batch_slot_states must hold at least one env")
    slot_counts = sorted({len(_check_slot_states(s, "batch_slot_states[i]")) for s in batch_slot_states})
    if len(slot_counts) != 1:
        raise ValueError(f"batch_slot_states envs must all have the same number of slots, got {slot_counts}")
    batch = len(batch_slot_states)
    if is_sequence(seeds_germinated):
        assert not isinstance(seeds_germinated, int)
        counts = [check_int(f"seeds_germinated[{i}]", c, low=0) for i, c in enumerate(seeds_germinated)]
        if len(counts) != batch:
            raise ValueError(f"seeds_germinated must be an int or have one entry per env ({batch}), got {len(counts)}")
    else:
        counts = [check_int("seeds_germinated (an int >= 0 or one per env)", seeds_germinated, low=0)] * batch
    masks = [
        compute_action_masks(
            states, enabled_slots=enabled_slots, topology=topology, seeds_germinated=count, max_seeds=max_seeds, device=device
        )
        for states, count in zip(batch_slot_states, counts, strict=True)
    ]
    return {name: torch.stack([m[name] for m in masks]) for name in HEAD_NAMES}


__all__ = [
    "SlotStates",
    "compute_action_masks",
    "compute_batch_masks",
    "compute_blend_mask",
    "compute_blueprint_mask",
    "compute_op_mask",
    "compute_slot_mask",
    "compute_tempo_mask",
    "resolve_enabled_slots",
    "topology_blueprints",
]
