"""PLAN.2: the action space gained a head, so a policy saved before the tempo lever cannot be resumed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conformance.adapter import ConformanceAdapter


@pytest.mark.req("PLAN.2")
def test_checkpoint_round_trip_keeps_the_tempo_head(adapter: ConformanceAdapter, tmp_path: Path) -> None:
    agent = adapter.make_agent(77)
    path = tmp_path / "agent.pt"
    adapter.save_checkpoint(agent, path)
    other = adapter.make_agent(77)
    adapter.load_checkpoint(other, path)
    for a, b in zip(adapter.policy(agent).tempo_head.parameters(), adapter.policy(other).tempo_head.parameters()):
        assert torch.equal(a, b)


@pytest.mark.req("PLAN.2", "PLAN.1")
def test_a_pre_tempo_layout_does_not_load(adapter: ConformanceAdapter, tmp_path: Path) -> None:
    """A checkpoint of the old observation layout (74 features: 17 per slot) fails loudly."""
    old = adapter.make_agent(74)
    path = tmp_path / "old.pt"
    adapter.save_checkpoint(old, path)
    with pytest.raises(Exception) as info:
        adapter.load_checkpoint(adapter.make_agent(77), path)
    assert not isinstance(info.value, AssertionError)
