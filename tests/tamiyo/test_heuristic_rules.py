"""HeuristicTamiyo rules and their order (design note §4, DEC.tamiyo.9)."""

from __future__ import annotations

import pytest

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
from esper.tamiyo.signals import TrainingSignals

PLATEAU = TrainingSignals(epoch=6, plateau_epochs=3)
STEADY = TrainingSignals(epoch=6, plateau_epochs=0)


def _seed(
    stage: SeedStage, contribution: float | None = None, in_stage: int = 1, age: int = 5, alpha: float | None = None
) -> SeedStateReport:
    if alpha is None:
        alpha = 1.0 if stage in (SeedStage.PROBATIONARY, SeedStage.FOSSILIZED) else 0.0
    return SeedStateReport(
        slot_id="r0c0", seed_id="s", blueprint_id="norm", stage=stage,
        metrics=SeedMetricsReport(
            epochs_total=age, epochs_in_current_stage=in_stage, counterfactual_contribution=contribution,
            current_alpha=alpha,
        ),
    )


@pytest.mark.req("SYS.4.6", "DEC.tamiyo.9")
def test_germinates_on_plateau_into_first_empty_slot_rotating_blueprints() -> None:
    policy = HeuristicTamiyo(HeuristicConfig(germinate_cooldown=0, max_live_seeds=3))
    first = policy.decide(PLATEAU, [_seed(SeedStage.FOSSILIZED), None, None])
    assert (first.op, first.slot_idx, first.blueprint) == (LifecycleOp.GERMINATE, 1, BlueprintAction.CONV_LIGHT)
    assert (first.tempo, first.blend) == (TempoAction.STANDARD, BlendAction.SIGMOID)
    second = policy.decide(PLATEAU, [_seed(SeedStage.FOSSILIZED), _seed(SeedStage.GERMINATED), None])
    assert (second.op, second.slot_idx, second.blueprint) == (LifecycleOp.GERMINATE, 2, BlueprintAction.ATTENTION)
    assert policy.decide(STEADY, [None, None, None]).op == LifecycleOp.WAIT  # no plateau, no growth


@pytest.mark.req("SYS.4.6", "DEC.tamiyo.9")
def test_configured_order_tempo_and_blend() -> None:
    cfg = HeuristicConfig(blueprint_order=(BlueprintAction.MLP, BlueprintAction.LORA), tempo=TempoAction.SLOW,
                          blend=BlendAction.LINEAR, germinate_cooldown=0, max_live_seeds=3)
    policy = HeuristicTamiyo(cfg, topology="transformer")
    picks = [policy.decide(PLATEAU, [None, None, None]).blueprint for _ in range(3)]
    assert picks == [BlueprintAction.MLP, BlueprintAction.LORA, BlueprintAction.MLP]
    action = policy.decide(PLATEAU, [None, None, None])
    assert (action.tempo, action.blend) == (TempoAction.SLOW, BlendAction.LINEAR)
    policy.reset()
    assert policy.decide(PLATEAU, [None, None, None]).blueprint == BlueprintAction.MLP


@pytest.mark.req("SYS.4.6", "DEC.tamiyo.9")
def test_fossilizes_contributing_probationary_seed_first() -> None:
    policy = HeuristicTamiyo()
    states = [None, _seed(SeedStage.BLENDING, contribution=-3.0, in_stage=5), _seed(SeedStage.PROBATIONARY, contribution=1.0)]
    action = policy.decide(TrainingSignals(accuracy_delta=-5.0, plateau_epochs=9, epoch=9), states)
    assert (action.op, action.slot_idx) == (LifecycleOp.FOSSILIZE, 2)
    below = [None, None, _seed(SeedStage.PROBATIONARY, contribution=0.99)]
    assert policy.decide(STEADY, below).op == LifecycleOp.WAIT  # 0.99 < G5 but >= cull threshold 0


@pytest.mark.req("SYS.4.6", "DEC.tamiyo.9")
def test_culls_non_contributing_seed_after_n_epochs_blending() -> None:
    policy = HeuristicTamiyo(HeuristicConfig(cull_after_epochs=3))
    young = [_seed(SeedStage.BLENDING, contribution=-0.5, in_stage=2), None, None]
    assert policy.decide(STEADY, young).op == LifecycleOp.WAIT
    old = [_seed(SeedStage.BLENDING, contribution=-0.5, in_stage=3), None, None]
    action = policy.decide(STEADY, old)
    assert (action.op, action.slot_idx) == (LifecycleOp.CULL, 0)
    probationary = [None, _seed(SeedStage.PROBATIONARY, contribution=-0.1, in_stage=0), None]
    assert policy.decide(STEADY, probationary).op == LifecycleOp.CULL
    unmeasured = [_seed(SeedStage.BLENDING, contribution=None, in_stage=9), None, None]
    assert policy.decide(STEADY, unmeasured).op == LifecycleOp.WAIT


@pytest.mark.req("SYS.4.6", "DEC.tamiyo.9")
def test_culls_weakest_blended_seed_when_accuracy_drops() -> None:
    policy = HeuristicTamiyo(HeuristicConfig(accuracy_drop_threshold=2.0))
    states = [
        _seed(SeedStage.BLENDING, contribution=-0.5, in_stage=1, alpha=0.2),  # barely blended in: not blamed
        _seed(SeedStage.TRAINING, contribution=-9.0),  # alpha 0: cannot have caused the drop
        _seed(SeedStage.PROBATIONARY, contribution=0.0),
    ]
    assert policy.decide(TrainingSignals(accuracy_delta=-1.9), states).op == LifecycleOp.WAIT
    action = policy.decide(TrainingSignals(accuracy_delta=-2.5), states)
    assert (action.op, action.slot_idx) == (LifecycleOp.CULL, 2)
    assert "dropped" in policy.last_reason
    helping = [states[0], states[1], _seed(SeedStage.PROBATIONARY, contribution=0.4)]
    assert policy.decide(TrainingSignals(accuracy_delta=-2.5), helping).op == LifecycleOp.WAIT


@pytest.mark.req("SYS.4.6", "DEC.tamiyo.9")
def test_one_live_seed_and_cooldown_by_default() -> None:
    policy = HeuristicTamiyo()
    assert policy.decide(PLATEAU, [_seed(SeedStage.TRAINING), None, None]).op == LifecycleOp.WAIT
    assert policy.decide(TrainingSignals(epoch=5, plateau_epochs=4), [None, None, None]).op == LifecycleOp.GERMINATE
    # the slot's seed was culled right away; cooldown of 3 epochs holds the next germination back
    assert policy.decide(TrainingSignals(epoch=7, plateau_epochs=6), [None, None, None]).op == LifecycleOp.WAIT
    assert policy.decide(TrainingSignals(epoch=8, plateau_epochs=7), [None, None, None]).op == LifecycleOp.GERMINATE
    assert policy.decide(PLATEAU, [None, None, None], seeds_germinated=6).op == LifecycleOp.WAIT  # budget
