"""Plan Task 4 (action masking): the tempo mask, and compute_action_masks/compute_batch_masks built from the
per-head compute_*_mask functions as the plan writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

from conformance.adapter import ConformanceAdapter

if TYPE_CHECKING:
    from esper.leyline import SeedStateReport

States = list["SeedStateReport | None"]


def _slot_states(adapter: ConformanceAdapter) -> list[States]:
    """Slot-state lists a policy meets: all empty, one fresh seed, seeds further along."""
    def seeded(stage: str | None, tempo: int) -> SeedStateReport | None:
        slot = adapter.make_slot()
        slot.germinate("norm", blend_tempo_epochs=tempo)
        if stage is not None:
            adapter.advance(slot, stage)
        return adapter.slot_report(slot)

    return [
        [None, None, None],
        [seeded(None, 3), None, None],
        [None, seeded("BLENDING", 8), seeded("PROBATIONARY", 5)],
        [seeded("TRAINING", 5), seeded("BLENDING", 3), seeded("PROBATIONARY", 8)],
    ]


@pytest.fixture(scope="module")
def slot_states(adapter: ConformanceAdapter) -> list[States]:
    return _slot_states(adapter)


@pytest.mark.req("T04.1")
def test_tempo_mask_allows_every_tempo(slot_states: list[States]) -> None:
    from esper.leyline.factored_actions import LifecycleOp
    from esper.leyline.factored_actions import NUM_TEMPO
    from esper.tamiyo.policy.action_masks import compute_tempo_mask

    for states in slot_states:
        for op in [None, *LifecycleOp]:
            mask = compute_tempo_mask(states, op)
            assert mask.dtype == torch.bool and mask.shape == (NUM_TEMPO,)
            assert bool(mask.all())


@pytest.mark.req("T04.2", "CHK.04.1")
def test_compute_action_masks_is_built_from_the_per_head_functions(slot_states: list[States]) -> None:
    from esper.leyline import HEAD_NAMES
    from esper.tamiyo.policy import action_masks as am

    for states in slot_states:
        masks = am.compute_action_masks(states)
        assert tuple(masks) == HEAD_NAMES
        per_head = {
            "slot": am.compute_slot_mask(states),
            "blueprint": am.compute_blueprint_mask(states, "cnn"),
            "blend": am.compute_blend_mask(states),
            "tempo": am.compute_tempo_mask(states),
            "op": am.compute_op_mask(states),
        }
        for name in HEAD_NAMES:
            assert masks[name].dtype == torch.bool
            assert torch.equal(masks[name], per_head[name]), name


@pytest.mark.req("T04.2", "CHK.04.1")
def test_compute_action_masks_calls_compute_tempo_mask(
    slot_states: list[States], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's compute_action_masks takes its tempo row from compute_tempo_mask (not a copy of its rule)."""
    from esper.leyline.factored_actions import NUM_TEMPO
    from esper.tamiyo.policy import action_masks as am

    calls: list[object] = []
    only_fast = torch.zeros(NUM_TEMPO, dtype=torch.bool)
    only_fast[0] = True

    def spy(*args: object, **kwargs: object) -> torch.Tensor:
        calls.append(args)
        return only_fast.clone()

    monkeypatch.setattr(am, "compute_tempo_mask", spy)
    masks = am.compute_action_masks(slot_states[1])
    assert calls, "compute_action_masks never called compute_tempo_mask"
    assert torch.equal(masks["tempo"], only_fast)


@pytest.mark.req("T04.3", "CHK.04.2")
def test_compute_batch_masks_stacks_every_head(slot_states: list[States]) -> None:
    from esper.leyline import HEAD_NAMES
    from esper.leyline.factored_actions import NUM_TEMPO
    from esper.tamiyo.policy.action_masks import compute_action_masks, compute_batch_masks

    stacked = compute_batch_masks(slot_states)
    assert tuple(stacked) == HEAD_NAMES
    assert stacked["tempo"].shape == (len(slot_states), NUM_TEMPO)
    for name in HEAD_NAMES:
        assert torch.equal(stacked[name], torch.stack([compute_action_masks(s)[name] for s in slot_states])), name
