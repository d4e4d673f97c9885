"""Properties of the seed lifecycle: stage values, the transition table and the stage predicates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esper.leyline import (
    ACTIVE_STAGES,
    BLENDED_STAGES,
    COOLDOWN_STAGES,
    CULLABLE_STAGES,
    VALID_TRANSITIONS,
    InvalidTransitionError,
    SeedStage,
    as_stage,
    check_transition,
    is_active,
    is_cooldown,
    is_cullable,
    is_terminal,
    is_valid_transition,
)

S = SeedStage
#: The design note's table (system §2) plus UNKNOWN -> DORMANT (DEC.leyline.6).
EXPECTED_TRANSITIONS: dict[SeedStage, set[SeedStage]] = {
    S.UNKNOWN: {S.DORMANT},
    S.DORMANT: {S.GERMINATED},
    S.GERMINATED: {S.TRAINING, S.CULLED},
    S.TRAINING: {S.BLENDING, S.CULLED},
    S.BLENDING: {S.PROBATIONARY, S.CULLED},
    S.PROBATIONARY: {S.FOSSILIZED, S.CULLED},
    S.FOSSILIZED: set(),
    S.CULLED: {S.EMBARGOED},
    S.EMBARGOED: {S.RESETTING},
    S.RESETTING: {S.DORMANT},
}
stages = st.sampled_from(list(SeedStage))


@pytest.mark.req("SYS.2.1")
def test_stage_values() -> None:
    assert {s.name: s.value for s in SeedStage} == {
        "UNKNOWN": 0,
        "DORMANT": 1,
        "GERMINATED": 2,
        "TRAINING": 3,
        "BLENDING": 4,
        "PROBATIONARY": 6,
        "FOSSILIZED": 7,
        "CULLED": 8,
        "EMBARGOED": 9,
        "RESETTING": 10,
    }
    assert 5 not in {s.value for s in SeedStage}


@pytest.mark.req("SYS.2.2", "DEC.leyline.6")
def test_transition_table_is_closed_and_matches_design() -> None:
    assert set(VALID_TRANSITIONS) == set(SeedStage)  # every stage has an entry
    assert {old: set(new) for old, new in VALID_TRANSITIONS.items()} == EXPECTED_TRANSITIONS
    for targets in VALID_TRANSITIONS.values():
        assert isinstance(targets, frozenset)
        assert all(isinstance(t, SeedStage) for t in targets)
    assert [s for s in SeedStage if is_terminal(s)] == [S.FOSSILIZED]


@pytest.mark.req("SYS.2.2")
def test_no_dead_ends() -> None:
    """From every stage the lifecycle can reach FOSSILIZED (the terminal) and, unless fossilized, DORMANT again."""

    def reachable(start: SeedStage) -> set[SeedStage]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in VALID_TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    for stage in SeedStage:
        assert S.FOSSILIZED in reachable(stage)
        after = set().union(*(reachable(n) for n in VALID_TRANSITIONS[stage]))
        assert (S.DORMANT in after) is (stage != S.FOSSILIZED)  # the slot is freed again unless fossilized
    assert reachable(S.DORMANT) == set(SeedStage) - {S.UNKNOWN}


@pytest.mark.req("SYS.2.2")
@given(old=stages, new=stages)
def test_check_transition_agrees_with_table(old: SeedStage, new: SeedStage) -> None:
    legal = new in EXPECTED_TRANSITIONS[old]
    assert is_valid_transition(old, new) is legal
    if legal:
        check_transition(old, new)
        return
    with pytest.raises(InvalidTransitionError) as err:
        check_transition(old, new)
    assert isinstance(err.value, ValueError)
    message = str(err.value)
    assert f"{old.name} -> {new.name}" in message
    for allowed in EXPECTED_TRANSITIONS[old]:
        assert allowed.name in message
    if not EXPECTED_TRANSITIONS[old]:
        assert "terminal" in message


@pytest.mark.req("DEC.leyline.8")
def test_stage_groupings() -> None:
    assert ACTIVE_STAGES == {S.GERMINATED, S.TRAINING, S.BLENDING, S.PROBATIONARY, S.FOSSILIZED}
    assert BLENDED_STAGES == {S.BLENDING, S.PROBATIONARY, S.FOSSILIZED}
    assert BLENDED_STAGES <= ACTIVE_STAGES
    assert CULLABLE_STAGES == ACTIVE_STAGES - {S.FOSSILIZED}
    assert COOLDOWN_STAGES == {S.CULLED, S.EMBARGOED, S.RESETTING}
    assert not COOLDOWN_STAGES & ACTIVE_STAGES
    # Cullable stages are exactly those with a legal transition to CULLED.
    assert CULLABLE_STAGES == {s for s in SeedStage if S.CULLED in VALID_TRANSITIONS[s]}


@pytest.mark.req("DEC.leyline.8")
@given(stages)
def test_stage_predicates(stage: SeedStage) -> None:
    assert is_active(stage) is (stage in ACTIVE_STAGES)
    assert is_cullable(stage) is (stage in CULLABLE_STAGES)
    assert is_cooldown(stage) is (stage in COOLDOWN_STAGES)
    assert is_terminal(stage) is (stage == S.FOSSILIZED)
    assert as_stage(stage) is stage
    assert as_stage(int(stage)) is stage


@pytest.mark.req("DEC.leyline.8")
@pytest.mark.parametrize("bad", [5, -1, 11, True, "TRAINING", 3.0, None])
def test_non_stage_values_rejected(bad: object) -> None:
    for fn in (is_active, is_cullable, is_cooldown, is_terminal):
        with pytest.raises(ValueError, match="not a SeedStage") as err:
            fn(bad)  # type: ignore[arg-type]
        assert "FOSSILIZED=7" in str(err.value)
    with pytest.raises(ValueError, match="old"):
        check_transition(bad, S.DORMANT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="new"):
        is_valid_transition(S.DORMANT, bad)  # type: ignore[arg-type]
