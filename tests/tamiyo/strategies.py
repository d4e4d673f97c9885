"""Hypothesis strategies for Tamiyo inputs: arbitrary training signals and slot reports."""

from __future__ import annotations

from hypothesis import strategies as st

from esper.leyline import BlueprintAction, SeedMetricsReport, SeedStage, SeedStateReport, TEMPO_TO_EPOCHS
from esper.tamiyo.signals import TrainingSignals

#: Any float, NaN and +/-inf included, plus very large magnitudes.
any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
counts = st.integers(min_value=-(10**12), max_value=10**15)

signals = st.builds(
    TrainingSignals,
    epoch=counts,
    max_epochs=st.integers(min_value=-5, max_value=10**6),
    global_step=counts,
    train_loss=any_float,
    val_loss=any_float,
    loss_delta=any_float,
    train_accuracy=any_float,
    val_accuracy=any_float,
    accuracy_delta=any_float,
    plateau_epochs=counts,
    best_val_accuracy=any_float,
    best_val_loss=any_float,
    loss_history=st.lists(any_float, max_size=7).map(tuple),
    accuracy_history=st.lists(any_float, max_size=7).map(tuple),
    total_params=counts,
    host_params=counts,
    seed_utilisation=any_float,
    host_stabilized=st.booleans(),
)


def metrics(value: st.SearchStrategy[float] = any_float) -> st.SearchStrategy[SeedMetricsReport]:
    """Seed metrics; ``value`` generates the float fields."""
    return st.builds(
        SeedMetricsReport,
        epochs_total=st.integers(0, 60),
        epochs_in_current_stage=st.integers(0, 30),
        current_val_accuracy=value,
        accuracy_at_stage_start=value,
        improvement_since_stage_start=value,
        improvement_since_stage_start_normalized=value,
        counterfactual_contribution=st.none() | value,
        seed_gradient_norm_ratio=value,
        seed_param_count=st.integers(0, 10**9),
        current_alpha=value,
    )


def reports(
    stages: st.SearchStrategy[SeedStage] = st.sampled_from(list(SeedStage)),
    value: st.SearchStrategy[float] = any_float,
    tempo: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[SeedStateReport]:
    """An occupied slot's report with any blueprint, stage, tempo and metrics."""
    return st.builds(
        SeedStateReport,
        slot_id=st.sampled_from(["r0c0", "r0c1", "r0c2", "r0c3"]),
        seed_id=st.text(min_size=1, max_size=5),
        blueprint_id=st.sampled_from([b.blueprint_id for b in BlueprintAction]),
        stage=stages,
        blend_algorithm_id=st.sampled_from(["linear", "sigmoid", "gated"]),
        blend_tempo_epochs=st.integers(-3, 40) if tempo is None else tempo,
        blending_steps_done=st.integers(0, 10),
        blending_steps_total=st.integers(0, 10),
        metrics=metrics(value),
    )


def slot_lists(
    min_slots: int = 1,
    max_slots: int = 4,
    value: st.SearchStrategy[float] = any_float,
    stages: st.SearchStrategy[SeedStage] = st.sampled_from(list(SeedStage)),
) -> st.SearchStrategy[list[SeedStateReport | None]]:
    """A list of slot states (None = empty slot), ``min_slots``..``max_slots`` long."""
    return st.lists(st.none() | reports(stages=stages, value=value), min_size=min_slots, max_size=max_slots)


#: Stages weighted towards the ones the controller acts on.
decision_stages = st.sampled_from(
    [SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED]
) | st.sampled_from(list(SeedStage))


#: Real tempos only (3, 5, 8).
real_tempos = st.sampled_from(sorted(TEMPO_TO_EPOCHS.values()))
