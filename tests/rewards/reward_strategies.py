"""Hypothesis strategies and builders shared by the reward conformance tests."""

from __future__ import annotations

from hypothesis import strategies as st

from esper.leyline import LifecycleOp, SeedStage, SeedStateReport
from esper.simic.rewards import RewardConfig, RewardInputs

#: Stages a seed passes through before a cull (in lifecycle order) and the cooldown after it.
LIVE_PATH: tuple[SeedStage, ...] = (
    SeedStage.GERMINATED,
    SeedStage.TRAINING,
    SeedStage.BLENDING,
    SeedStage.PROBATIONARY,
)
COOLDOWN_PATH: tuple[SeedStage, ...] = (SeedStage.CULLED, SeedStage.EMBARGOED, SeedStage.RESETTING)

SlotPath = list[SeedStage | None]


def report(stage: SeedStage, seed_id: str = "seed-0", slot_id: str = "r0c0") -> SeedStateReport:
    return SeedStateReport(slot_id=slot_id, seed_id=seed_id, blueprint_id="norm", stage=stage)


def reports(path_step: tuple[SeedStage | None, ...]) -> tuple[SeedStateReport | None, ...]:
    return tuple(None if stage is None else report(stage, f"seed-{i}", f"r0c{i}") for i, stage in enumerate(path_step))


@st.composite
def cull_cycle(draw: st.DrawFn, *, finish_cooldown: bool = True) -> SlotPath:
    """Per-step stage snapshots of one slot: empty, germinate, live stages (any may be skipped within a step),
    cull, cooldown and (when ``finish_cooldown``) empty again. Stages can repeat over several steps."""
    deepest = draw(st.integers(0, len(LIVE_PATH) - 1))
    path: SlotPath = [None] * draw(st.integers(1, 3))
    for stage in LIVE_PATH[: deepest + 1]:
        path += [stage] * draw(st.integers(0, 4))
    cooldown_len = len(COOLDOWN_PATH) if finish_cooldown else draw(st.integers(1, len(COOLDOWN_PATH)))
    for stage in COOLDOWN_PATH[:cooldown_len]:
        path += [stage] * draw(st.integers(0 if finish_cooldown else 1, 4))
    if finish_cooldown:
        path += [None] * draw(st.integers(1, 3))
    return path


@st.composite
def multi_slot_cycles(draw: st.DrawFn, *, finish_cooldown: bool = True) -> list[tuple[SeedStage | None, ...]]:
    """1-3 slots, each running 1-3 consecutive germinate->...->cull cycles; padded with empty steps."""
    n_slots = draw(st.integers(1, 3))
    slots: list[SlotPath] = []
    for _ in range(n_slots):
        cycles = draw(st.integers(1, 3))
        path: SlotPath = []
        for c in range(cycles):
            path += draw(cull_cycle(finish_cooldown=finish_cooldown or c < cycles - 1))
        slots.append(path)
    length = max(len(p) for p in slots)
    for p in slots:
        p += [p[-1]] * (length - len(p))
    return [tuple(p[t] for p in slots) for t in range(length)]


def step_inputs(
    before: tuple[SeedStage | None, ...],
    after: tuple[SeedStage | None, ...],
    *,
    slot_idx: int | None = 0,
    op: LifecycleOp = LifecycleOp.WAIT,
    executed: bool = True,
    seed_contribution: float | None = None,
    seed_params: int = 0,
    host_params: int = 10_000,
    auto_culls: int = 0,
    governor_rollback: bool = False,
    val_accuracy_delta: float = 0.0,
    is_terminal: bool = False,
    final_val_accuracy: float | None = None,
    contributing_fossilized: int = 0,
) -> RewardInputs:
    return RewardInputs(
        op=op,
        executed=executed,
        slot_idx=slot_idx,
        slots_before=reports(before),
        slots_after=reports(after),
        seed_contribution=seed_contribution,
        seed_params=seed_params,
        host_params=host_params,
        auto_culls=auto_culls,
        governor_rollback=governor_rollback,
        val_accuracy_delta=val_accuracy_delta,
        is_terminal=is_terminal,
        final_val_accuracy=final_val_accuracy,
        contributing_fossilized=contributing_fossilized,
    )


_stage_or_empty = st.one_of(st.none(), st.sampled_from(list(SeedStage)))
_weight = st.floats(0.0, 2.0, allow_nan=False)


@st.composite
def reward_configs(draw: st.DrawFn, mode: str | None = None) -> RewardConfig:
    return RewardConfig(
        mode=draw(st.sampled_from(["shaped", "sparse"])) if mode is None else mode,
        contribution_weight=draw(_weight),
        contribution_clip=draw(st.floats(0.0, 50.0)),
        proxy_weight=draw(_weight),
        shaping_weight=draw(_weight),
        gamma=draw(st.floats(0.5, 1.0)),
        rent_weight=draw(_weight),
        wait_cost=draw(_weight),
        germinate_cost=draw(_weight),
        cull_cost=draw(_weight),
        fossilize_cost=draw(_weight),
        invalid_penalty=draw(_weight),
        auto_cull_penalty=draw(_weight),
        governor_penalty=draw(st.floats(0.0, 10.0)),
        terminal_accuracy_weight=draw(_weight),
        fossilized_bonus=draw(_weight),
    )


@st.composite
def reward_inputs(draw: st.DrawFn, *, terminal: bool | None = None) -> RewardInputs:
    n_slots = draw(st.integers(1, 3))
    before = tuple(draw(_stage_or_empty) for _ in range(n_slots))
    after = tuple(draw(_stage_or_empty) for _ in range(n_slots))
    op = draw(st.sampled_from(list(LifecycleOp)))
    is_terminal = draw(st.booleans()) if terminal is None else terminal
    return step_inputs(
        before,
        after,
        slot_idx=draw(st.one_of(st.none(), st.integers(0, n_slots - 1))),
        op=op,
        executed=True if op == LifecycleOp.WAIT else draw(st.booleans()),
        seed_contribution=draw(st.one_of(st.none(), st.floats(-100.0, 100.0))),
        seed_params=draw(st.integers(0, 10**7)),
        host_params=draw(st.integers(1, 10**7)),
        auto_culls=draw(st.integers(0, 3)),
        governor_rollback=draw(st.booleans()),
        val_accuracy_delta=draw(st.floats(-100.0, 100.0)),
        is_terminal=is_terminal,
        final_val_accuracy=draw(st.floats(0.0, 100.0)) if is_terminal else draw(st.none() | st.floats(0.0, 100.0)),
        contributing_fossilized=draw(st.integers(0, 3)),
    )
