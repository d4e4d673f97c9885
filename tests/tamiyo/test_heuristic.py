"""Unit tests of HeuristicTamiyo configuration, mask handling and bookkeeping."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import (
    BlendAction,
    BlueprintAction,
    LifecycleOp,
    SeedMetricsReport,
    SeedStage,
    SeedStateReport,
    TempoAction,
)
from esper.tamiyo.heuristic import HeuristicConfig, HeuristicTamiyo
from esper.tamiyo.policy.action_masks import compute_action_masks
from esper.tamiyo.signals import TrainingSignals

PLATEAU = TrainingSignals(epoch=6, plateau_epochs=5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"plateau_patience": -1}, ValueError, "plateau_patience"),
        ({"germinate_cooldown": 1.5}, TypeError, "germinate_cooldown"),
        ({"max_live_seeds": 0}, ValueError, "max_live_seeds"),
        ({"cull_threshold": float("nan")}, ValueError, "cull_threshold"),
        ({"fossilize_threshold": float("inf")}, ValueError, "fossilize_threshold"),
    ],
)
def test_config_validation(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        HeuristicConfig(**kwargs)


def test_config_enum_types() -> None:
    with pytest.raises(TypeError, match="SIGMOID"):
        HeuristicConfig(blend=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="STANDARD"):
        HeuristicConfig(tempo="fast")  # type: ignore[arg-type]


def test_blueprint_order_must_fit_topology() -> None:
    with pytest.raises(ValueError, match="LORA"):
        HeuristicTamiyo(HeuristicConfig(blueprint_order=(BlueprintAction.LORA,)), topology="cnn")
    with pytest.raises(ValueError, match="NOOP"):
        HeuristicTamiyo(HeuristicConfig(blueprint_order=(BlueprintAction.NOOP,)))
    with pytest.raises(ValueError, match="non-empty"):
        HeuristicTamiyo(HeuristicConfig(blueprint_order=()))
    with pytest.raises(ValueError, match="valid"):
        HeuristicTamiyo(topology="rnn")


def test_default_rotation_is_topology_order_without_noop() -> None:
    assert HeuristicTamiyo(topology="cnn").blueprint_order == (
        BlueprintAction.CONV_LIGHT, BlueprintAction.ATTENTION, BlueprintAction.NORM, BlueprintAction.DEPTHWISE,
        BlueprintAction.BOTTLENECK, BlueprintAction.CONV_SMALL, BlueprintAction.CONV_HEAVY,
    )
    assert BlueprintAction.NOOP not in HeuristicTamiyo(topology="transformer").blueprint_order


def test_slot_count_and_mask_validation() -> None:
    policy = HeuristicTamiyo(num_slots=2)
    with pytest.raises(ValueError, match="num_slots=2"):
        policy.decide(PLATEAU, [None, None, None])
    masks = compute_action_masks([None, None])
    with pytest.raises(ValueError, match="missing head 'tempo'"):
        policy.decide(PLATEAU, [None, None], {k: v for k, v in masks.items() if k != "tempo"})
    with pytest.raises(ValueError, match="shape"):
        policy.decide(PLATEAU, [None, None], {**masks, "slot": torch.ones(3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="WAIT"):
        policy.decide(PLATEAU, [None, None], {**masks, "op": torch.tensor([False, True, False, False])})
    with pytest.raises(ValueError, match="no valid action"):
        policy.decide(PLATEAU, [None, None], {**masks, "blend": torch.zeros(3, dtype=torch.bool)})


def test_custom_masks_are_respected() -> None:
    policy = HeuristicTamiyo()
    masks = compute_action_masks([None, None, None])
    masks["tempo"] = torch.tensor([False, False, True])
    masks["blueprint"] = torch.zeros(13, dtype=torch.bool)
    masks["blueprint"][BlueprintAction.CONV_HEAVY] = True
    masks["slot"] = torch.tensor([False, False, True])
    action = policy.decide(PLATEAU, [None, None, None], masks)
    assert (action.op, action.slot_idx, action.tempo, action.blueprint) == (
        LifecycleOp.GERMINATE, 2, TempoAction.SLOW, BlueprintAction.CONV_HEAVY
    )
    masks["op"] = torch.tensor([True, False, False, False])
    assert policy.decide(PLATEAU, [None, None, None], masks).op == LifecycleOp.WAIT


def test_enabled_slots_restrict_germination() -> None:
    seed = SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="norm", stage=SeedStage.FOSSILIZED,
                           metrics=SeedMetricsReport(epochs_total=9))
    policy = HeuristicTamiyo()
    assert policy.decide(PLATEAU, [seed, None, None], enabled_slots=[0]).op == LifecycleOp.WAIT
    action = policy.decide(PLATEAU, [seed, None, None], enabled_slots=[0, 2])
    assert (action.op, action.slot_idx) == (LifecycleOp.GERMINATE, 2)


def test_wait_action_uses_allowed_values_and_explains() -> None:
    policy = HeuristicTamiyo(HeuristicConfig(blend=BlendAction.GATED))
    action = policy.decide(TrainingSignals(), [None, None, None], enabled_slots=[1])
    assert (action.op, action.slot_idx, action.blend) == (LifecycleOp.WAIT, 1, BlendAction.GATED)
    assert policy.last_reason == "wait: no rule fired"


def test_reset_clears_cooldown_and_rotation() -> None:
    policy = HeuristicTamiyo()
    assert policy.decide(PLATEAU, [None, None, None]).blueprint == BlueprintAction.CONV_LIGHT
    assert policy.decide(PLATEAU, [None, None, None]).op == LifecycleOp.WAIT  # cooldown
    policy.reset()
    again = policy.decide(PLATEAU, [None, None, None])
    assert (again.op, again.blueprint) == (LifecycleOp.GERMINATE, BlueprintAction.CONV_LIGHT)


def test_live_seeds_in_disabled_slots_count() -> None:
    training = SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="norm", stage=SeedStage.TRAINING,
                               metrics=SeedMetricsReport(epochs_total=2))
    policy = HeuristicTamiyo()
    assert policy.decide(PLATEAU, [training, None, None], enabled_slots=[1, 2]).op == LifecycleOp.WAIT
    assert HeuristicTamiyo(HeuristicConfig(max_live_seeds=2)).decide(
        PLATEAU, [training, None, None], enabled_slots=[1, 2]
    ).op == LifecycleOp.GERMINATE


def test_slot_reports_must_be_a_sequence() -> None:
    with pytest.raises(TypeError, match="slot_reports"):
        HeuristicTamiyo().decide(PLATEAU, None)  # type: ignore[arg-type]
