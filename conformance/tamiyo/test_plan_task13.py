"""Plan Task 13 (tempo in the observation) and its checklist lines.

The plan fixes the sizes (23 base features, 18 per slot, slot blocks after the base) and the tempo feature's value
(``blend_tempo_epochs / 12``), not its position inside a slot block. The kit finds it by difference: two
observations whose only difference is the seed's tempo differ in exactly one feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import torch

from conformance.adapter import ConformanceAdapter

if TYPE_CHECKING:
    from esper.kasmina.slot import SeedSlot

BASE = 23
TEMPOS = (3, 5, 8)


def _obs_with_seed(adapter: ConformanceAdapter, slot_index: int, tempo: int, stage: str | None = None) -> torch.Tensor:
    torch.manual_seed(0)
    slot = adapter.make_slot()
    slot.germinate("norm", seed_id="s", blend_tempo_epochs=tempo)
    if stage is not None:
        adapter.advance(slot, stage)
    slots: list[SeedSlot | None] = [None, None, None]
    slots[slot_index] = slot
    return adapter.observation(slots)


def _tempo_index(adapter: ConformanceAdapter, slot_index: int, stage: str | None = None) -> int:
    """The one feature that changes when only the tempo changes (fails naming the differing features)."""
    from esper.tamiyo.policy.features import SLOT_FEATURE_SIZE

    a = _obs_with_seed(adapter, slot_index, 3, stage)
    b = _obs_with_seed(adapter, slot_index, 8, stage)
    changed = torch.nonzero(a != b).flatten().tolist()
    assert len(changed) == 1, f"the seed's tempo (3 vs 8 epochs) must change exactly one feature, changed {changed}"
    index = int(changed[0])
    start = BASE + slot_index * SLOT_FEATURE_SIZE
    assert start <= index < start + SLOT_FEATURE_SIZE, f"tempo feature {index} outside slot {slot_index}'s block"
    return index


@pytest.mark.req("T13.1", "CHK.13.1", "PLAN.1")
def test_slot_feature_size_is_18_and_the_observation_is_77_long(adapter: ConformanceAdapter) -> None:
    from esper.tamiyo.policy.features import SLOT_FEATURE_SIZE, get_feature_size

    assert SLOT_FEATURE_SIZE == 18
    assert get_feature_size(3) == 77 == 74 + 3  # 17 -> 18 per slot adds one feature per slot
    assert get_feature_size() == 77
    assert adapter.observation([None, None, None]).shape == (77,)
    assert _obs_with_seed(adapter, 1, 5).shape == (77,)


@pytest.mark.req("T13.2", "CHK.13.2")
@pytest.mark.parametrize("slot_index", [0, 1, 2])
def test_tempo_feature_is_the_seeds_tempo_over_12(adapter: ConformanceAdapter, slot_index: int) -> None:
    index = _tempo_index(adapter, slot_index)
    for tempo in TEMPOS:
        obs = _obs_with_seed(adapter, slot_index, tempo)
        assert obs[index].item() == pytest.approx(tempo / 12.0), f"tempo {tempo}: feature {index}"


@pytest.mark.req("T13.2", "CHK.13.2")
@pytest.mark.parametrize("stage", ["TRAINING", "BLENDING"])
def test_tempo_feature_holds_in_later_stages(adapter: ConformanceAdapter, stage: str) -> None:
    index = _tempo_index(adapter, 1)
    for tempo in TEMPOS:
        assert _obs_with_seed(adapter, 1, tempo, stage)[index].item() == pytest.approx(tempo / 12.0)


@pytest.mark.req("T13.2")
def test_empty_slot_block_is_zero(adapter: ConformanceAdapter) -> None:
    from esper.tamiyo.policy.features import SLOT_FEATURE_SIZE

    obs = _obs_with_seed(adapter, 1, 8)
    for i in (0, 2):
        start = BASE + i * SLOT_FEATURE_SIZE
        assert torch.count_nonzero(obs[start : start + SLOT_FEATURE_SIZE]) == 0
    start = BASE + SLOT_FEATURE_SIZE
    assert torch.count_nonzero(obs[start : start + SLOT_FEATURE_SIZE]) > 0


@pytest.mark.req("T13.3")
@pytest.mark.parametrize("num_slots", [1, 2, 3, 4, 7])
def test_get_feature_size_formula(num_slots: int) -> None:
    from esper.tamiyo.policy.features import get_feature_size

    assert get_feature_size(num_slots) == 23 + num_slots * 18


@pytest.mark.req("T13.3")
@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-1, ValueError), (True, TypeError), (2.0, TypeError), ("3", TypeError)])
def test_get_feature_size_rejects_bad_slot_counts(bad: Any, error: type[Exception]) -> None:
    """Bad slot counts are refused naming the argument (``bad`` is deliberately not an int)."""
    from esper.tamiyo.policy.features import get_feature_size

    with pytest.raises(error, match="num_slots"):
        get_feature_size(bad)
