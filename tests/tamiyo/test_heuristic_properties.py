"""HeuristicTamiyo never emits an action the masks forbid, and every action it emits is executable."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.tamiyo.strategies import decision_stages, signals, slot_lists
from esper.leyline import HEAD_NAMES, TOPOLOGIES, BlendAction, LifecycleOp, TempoAction
from esper.tamiyo.execution import check_executable
from esper.tamiyo.heuristic import HeuristicConfig, HeuristicTamiyo
from esper.tamiyo.policy.action_masks import compute_action_masks
from esper.tamiyo.signals import TrainingSignals

finite = st.floats(-20.0, 20.0)
configs = st.builds(
    HeuristicConfig,
    plateau_patience=st.integers(0, 4),
    min_epoch_to_germinate=st.integers(0, 3),
    germinate_cooldown=st.integers(0, 4),
    max_live_seeds=st.integers(1, 3),
    blend=st.sampled_from(list(BlendAction)),
    tempo=st.sampled_from(list(TempoAction)),
    cull_threshold=st.floats(-2.0, 2.0),
    cull_after_epochs=st.integers(0, 4),
    accuracy_drop_threshold=st.floats(0.0, 5.0),
    fossilize_threshold=st.floats(-1.0, 3.0),
)


@pytest.mark.req("SYS.4.7", "SYS.4.6")
@given(
    config=configs,
    topology=st.sampled_from(TOPOLOGIES),
    episode=st.lists(st.tuples(signals, slot_lists(3, 3, value=finite, stages=decision_stages)), min_size=1, max_size=6),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_heuristic_never_emits_a_masked_action(
    config: HeuristicConfig, topology: str, episode: list[tuple[TrainingSignals, list]], data: st.DataObject
) -> None:
    policy = HeuristicTamiyo(config, topology=topology, num_slots=3)
    for s, states in episode:
        enabled = data.draw(st.none() | st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True))
        germinated = data.draw(st.integers(0, 7))
        masks = compute_action_masks(states, enabled_slots=enabled, topology=topology, seeds_germinated=germinated)
        action = policy.decide(s, states, masks, seeds_germinated=germinated, enabled_slots=enabled)
        for head, idx in zip(HEAD_NAMES, action.to_indices(), strict=True):
            assert masks[head][idx], f"{head}={idx} is masked; action {action}, reason {policy.last_reason}"
        check = check_executable(
            states, action, seeds_germinated=germinated, enabled_slots=enabled, topology=topology
        )
        assert check.executable, check.reason
        event(f"op={action.op.name}")
        if action.op == LifecycleOp.WAIT:
            assert policy.last_reason.startswith("wait")
