"""Plan Task 4 (action masking) and its checklist lines: the tempo mask and batch stacking."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.tamiyo.strategies import slot_lists
from esper.leyline import HEAD_NAMES, NUM_TEMPO, LifecycleOp, head_sizes
from esper.leyline.defaults import DEFAULT_MAX_SEEDS
from esper.tamiyo.policy.action_masks import compute_action_masks, compute_batch_masks, compute_tempo_mask

finite = st.floats(-100.0, 100.0)


@pytest.mark.req("T04.1")
@given(states=slot_lists(value=finite), op=st.none() | st.sampled_from(list(LifecycleOp)))
@settings(max_examples=30, deadline=None)
def test_tempo_mask_is_all_true(states: list, op: LifecycleOp | None) -> None:
    mask = compute_tempo_mask(states, op)
    assert mask.dtype == torch.bool
    assert mask.shape == (NUM_TEMPO,)
    assert bool(mask.all())


@pytest.mark.req("T04.2", "CHK.04.1")
@given(states=slot_lists(value=finite), germinated=st.integers(0, DEFAULT_MAX_SEEDS + 2))
@settings(max_examples=30, deadline=None)
def test_compute_action_masks_returns_tempo_mask(states: list, germinated: int) -> None:
    masks = compute_action_masks(states, seeds_germinated=germinated)
    assert tuple(masks) == HEAD_NAMES
    assert "tempo" in masks
    assert torch.equal(masks["tempo"], compute_tempo_mask(states))
    sizes = head_sizes(len(states))
    for name, mask in masks.items():
        assert mask.dtype == torch.bool
        assert mask.shape == (sizes[name],)


@pytest.mark.req("T04.3", "CHK.04.2")
@given(
    batch=st.lists(slot_lists(min_slots=3, max_slots=3, value=finite), min_size=1, max_size=5),
    data=st.data(),
)
@settings(max_examples=30, deadline=None)
def test_compute_batch_masks_stacks_every_head(batch: list, data: st.DataObject) -> None:
    germinated = data.draw(st.lists(st.integers(0, 8), min_size=len(batch), max_size=len(batch)))
    stacked = compute_batch_masks(batch, seeds_germinated=germinated, topology="transformer")
    assert tuple(stacked) == HEAD_NAMES
    assert stacked["tempo"].shape == (len(batch), NUM_TEMPO)
    for name in HEAD_NAMES:
        singles = [
            compute_action_masks(states, seeds_germinated=g, topology="transformer")[name]
            for states, g in zip(batch, germinated, strict=True)
        ]
        assert torch.equal(stacked[name], torch.stack(singles))
