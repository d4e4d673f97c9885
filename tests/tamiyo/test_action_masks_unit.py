"""Unit tests of individual mask helpers."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import BlueprintAction, LifecycleOp, NUM_TEMPO
from esper.tamiyo.policy.action_masks import (
    compute_slot_mask,
    compute_tempo_mask,
    resolve_enabled_slots,
    topology_blueprints,
)


def test_slot_mask() -> None:
    assert compute_slot_mask([None, None, None]).tolist() == [True, True, True]
    assert compute_slot_mask([None, None, None], [2]).tolist() == [False, False, True]
    with pytest.raises(TypeError, match="enabled_slots"):
        compute_slot_mask([None, None], enabled_slots=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="slot_states"):
        compute_slot_mask(None)  # type: ignore[arg-type]


def test_tempo_mask_ignores_selected_op_and_uses_device() -> None:
    for op in (None, *LifecycleOp):
        assert compute_tempo_mask([None], op).tolist() == [True] * NUM_TEMPO
    assert compute_tempo_mask(device="meta").device.type == "meta"
    assert compute_tempo_mask().dtype == torch.bool


def test_resolve_enabled_slots_sorts_and_deduplicates() -> None:
    assert resolve_enabled_slots(4, None) == (0, 1, 2, 3)
    assert resolve_enabled_slots(4, [3, 1, 3]) == (1, 3)


def test_topology_blueprints() -> None:
    assert topology_blueprints("transformer") == (
        BlueprintAction.ATTENTION, BlueprintAction.NORM, BlueprintAction.LORA, BlueprintAction.LORA_LARGE,
        BlueprintAction.MLP_SMALL, BlueprintAction.MLP, BlueprintAction.FLEX_ATTENTION,
    )
    with pytest.raises(ValueError, match="cnn"):
        topology_blueprints("gru")
