"""Tamiyo against real Kasmina slots: the tempo feature carries the seed's real tempo, masks/execution
verdicts computed from a real model agree with what the model actually executes."""

from __future__ import annotations

import copy

import pytest
import torch

from esper.kasmina import CNNHost, MorphogeneticModel, SeedSlot, TransformerHost, blueprint_names
from esper.leyline import (
    TEMPO_TO_EPOCHS,
    TOPOLOGY_BLUEPRINTS,
    BlendAction,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    SeedStage,
    TempoAction,
)
from esper.tamiyo.execution import check_executable
from esper.tamiyo.heuristic import HeuristicTamiyo
from esper.tamiyo.policy.action_masks import compute_action_masks, compute_blueprint_mask
from esper.tamiyo.policy.features import build_observation, observation_layout
from esper.tamiyo.signals import SignalTracker, TrainingSignals


def _cnn_model() -> MorphogeneticModel:
    return MorphogeneticModel(CNNHost(in_channels=1, num_classes=4, channels=(4, 4, 4)))


def _to_blending(slot: SeedSlot) -> None:
    """GERMINATED -> TRAINING -> BLENDING (gate G2: +0.5 points, 3 epochs, grad ratio >= 0.1)."""
    slot.step_epoch()
    assert slot.stage == SeedStage.TRAINING
    for i in range(3):
        assert slot.state is not None
        slot.state.metrics.record_accuracy(50.0 + i)
        slot.state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    assert slot.stage == SeedStage.BLENDING


def _to_probationary(slot: SeedSlot) -> None:
    _to_blending(slot)
    while slot.stage == SeedStage.BLENDING:
        slot.step_epoch()
    assert slot.stage == SeedStage.PROBATIONARY


@pytest.mark.req("SYS.6.1", "T13.2", "CHK.13.2")
@pytest.mark.parametrize("tempo", list(TempoAction))
def test_tempo_feature_carries_the_real_tempo(tempo: TempoAction) -> None:
    model = _cnn_model()
    epochs = TEMPO_TO_EPOCHS[tempo]
    model.germinate_seed("norm", slot=1, blend_tempo_epochs=epochs)
    idx = observation_layout(3).index("slot1.tempo")
    obs = build_observation(TrainingSignals(), model.slot_reports())
    assert obs[idx].item() == pytest.approx(epochs / 12.0)
    # still the real tempo once blending has started (the ramp really uses it)
    slot = model.resolve_slot(1)
    _to_blending(slot)
    assert slot.state is not None and slot.state.blending_steps_total == epochs
    obs = build_observation(TrainingSignals(), model.slot_reports())
    assert obs[idx].item() == pytest.approx(epochs / 12.0)
    assert obs[observation_layout(3).index("slot1.stage")].item() == pytest.approx(SeedStage.BLENDING / 10)
    # the other slots are empty -> zero blocks
    for other in (0, 2):
        assert obs[observation_layout(3).index(f"slot{other}.tempo")].item() == 0.0


def _states() -> list[tuple[str, MorphogeneticModel]]:
    """Models whose slots hold seeds at many lifecycle stages."""
    out: list[tuple[str, MorphogeneticModel]] = [("empty", _cnn_model())]
    m = _cnn_model()
    m.germinate_seed("conv_light", slot=0)  # GERMINATED, age 0: not cullable yet
    out.append(("germinated", m))
    m = _cnn_model()
    m.germinate_seed("norm", slot=0, blend_tempo_epochs=3)
    _to_probationary(m.resolve_slot(0))
    m.germinate_seed("depthwise", slot=2)
    m.resolve_slot(2).step_epoch()  # TRAINING, age 1
    out.append(("probationary+training", m))
    m = _cnn_model()
    for i in range(3):
        m.germinate_seed("attention", slot=i, blend_tempo_epochs=3)
    _to_probationary(m.resolve_slot(0))
    state = m.resolve_slot(0).state
    assert state is not None
    state.metrics.record_counterfactual(2.0)
    assert m.fossilize_seed(0).passed
    m.resolve_slot(1).step_epoch()
    m.cull_seed(1)  # CULLED: cooldown
    _to_blending(m.resolve_slot(2))
    out.append(("fossilized+culled+blending", m))
    return out


@pytest.mark.req("SYS.6.5", "SYS.4.5")
@pytest.mark.parametrize("seeds_germinated", [0, 6])
def test_executable_actions_execute_on_a_real_model(seeds_germinated: int) -> None:
    for name, model in _states():
        reports = model.slot_reports()
        masks = compute_action_masks(reports, topology=model.topology, seeds_germinated=seeds_germinated)
        for slot in range(3):
            for op in LifecycleOp:
                for bp in (BlueprintAction.NOOP, BlueprintAction.NORM, BlueprintAction.LORA):
                    action = FactoredAction(
                        slot_idx=slot, blueprint=bp, blend=BlendAction.LINEAR, tempo=TempoAction.SLOW, op=op
                    )
                    check = check_executable(model, action, seeds_germinated=seeds_germinated)
                    assert check == check_executable(
                        reports, action, seeds_germinated=seeds_germinated, topology=model.topology
                    )
                    if not check.executable:
                        continue
                    assert masks["op"][op], (name, action)
                    if op != LifecycleOp.WAIT:  # WAIT ignores its slot and blueprint
                        assert masks["slot"][slot], (name, action)
                    if op == LifecycleOp.GERMINATE:  # only GERMINATE uses the blueprint
                        assert masks["blueprint"][bp], (name, action)
                    trial = copy.deepcopy(model)
                    if op == LifecycleOp.GERMINATE:
                        state = trial.germinate_seed(
                            action.blueprint_id, slot=slot, blend_algorithm_id=action.blend_algorithm_id,
                            blend_tempo_epochs=action.tempo_epochs,
                        )
                        assert state.stage == SeedStage.GERMINATED and state.blend_tempo_epochs == 8
                    elif op == LifecycleOp.CULL:
                        trial.cull_seed(slot)
                        assert trial.resolve_slot(slot).stage == SeedStage.CULLED
                    elif op == LifecycleOp.FOSSILIZE:
                        assert check.gate_pending
                        result = trial.fossilize_seed(slot)  # G5 decides; never an invalid transition
                        assert result.passed == (trial.resolve_slot(slot).stage == SeedStage.FOSSILIZED)


@pytest.mark.req("SYS.6.5", "SYS.4.3")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_every_mask_allowed_blueprint_germinates_in_kasmina(topology: str) -> None:
    mask = compute_blueprint_mask(topology=topology)
    allowed = [BlueprintAction(i) for i in torch.nonzero(mask).flatten().tolist()]
    assert {b.blueprint_id for b in TOPOLOGY_BLUEPRINTS[topology]} == set(blueprint_names(topology))
    for bp in allowed:
        host = (
            CNNHost(in_channels=1, num_classes=4, channels=(4, 4, 4))
            if topology == "cnn"
            else TransformerHost(vocab_size=11, n_embd=8, n_head=2, n_layer=3, block_size=8)
        )
        model = MorphogeneticModel(host)
        action = FactoredAction(slot_idx=0, blueprint=bp, blend=BlendAction.SIGMOID, tempo=TempoAction.FAST,
                                op=LifecycleOp.GERMINATE)
        assert check_executable(model, action, seeds_germinated=0).executable
        model.germinate_seed(bp.blueprint_id, slot=0, blend_tempo_epochs=action.tempo_epochs)
        assert model.slot_reports()[0] is not None


@pytest.mark.req("SYS.4.7", "SYS.4.6")
def test_heuristic_drives_a_real_model_without_rejections() -> None:
    """A short episode: the heuristic's actions, executed on the model, are never rejected by Kasmina."""
    model = _cnn_model()
    tracker = SignalTracker(max_epochs=16)
    policy = HeuristicTamiyo(topology="cnn")
    germinated = 0
    # plateau from epoch 2, germinate at epoch 5; the seed then lifts accuracy (G2), blends for 5 epochs
    accuracies = [10, 20, 20.2, 20.3, 20.1, 20.4, 21, 22, 23, 23.5, 24, 24.2, 24.3, 24.3, 24.4, 24.4]
    ops = []
    for epoch, acc in enumerate(accuracies, start=1):
        for slot in model.seed_slots:
            if slot.state is not None and slot.stage in (SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY):
                slot.state.metrics.record_accuracy(acc)
                slot.state.metrics.seed_gradient_norm_ratio = 0.5
                slot.state.metrics.record_counterfactual(1.5)
        reports = model.slot_reports()
        signals = tracker.update(
            epoch=epoch, train_loss=1.0, val_loss=1.0, train_accuracy=acc, val_accuracy=acc,
            total_params=model.host_param_count + model.seed_param_count, host_params=model.host_param_count,
            occupied_slots=sum(r is not None for r in reports),
        )
        action = policy.decide(signals, reports, seeds_germinated=germinated)
        assert check_executable(model, action, seeds_germinated=germinated).executable
        ops.append(action.op)
        if action.op == LifecycleOp.GERMINATE:
            model.germinate_seed(action.blueprint_id, slot=action.slot_idx, blend_algorithm_id=action.blend_algorithm_id,
                                 blend_tempo_epochs=action.tempo_epochs)
            germinated += 1
        elif action.op == LifecycleOp.CULL:
            model.cull_seed(action.slot_idx)
        elif action.op == LifecycleOp.FOSSILIZE:
            assert model.fossilize_seed(action.slot_idx).passed
        model.step_epoch()
    assert LifecycleOp.GERMINATE in ops and LifecycleOp.FOSSILIZE in ops
    assert model.resolve_slot(0).stage == SeedStage.FOSSILIZED
