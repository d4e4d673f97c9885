"""Stateful property test: random germinate / cull / fossilize / metric / step_epoch sequences on one slot.

Checks that the slot never makes an illegal transition, that counters advance exactly once per step_epoch, that
auto-culls are reported, and that the cooldown frees the slot after exactly COOLDOWN_EPOCHS step_epoch calls.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from esper.kasmina import COOLDOWN_EPOCHS, SeedSlot, SeedStage, SeedState, TaskConfig, blueprint_names
from esper.leyline import (
    ACTIVE_STAGES,
    BLEND_ALGORITHM_IDS,
    InvalidTransitionError,
    TelemetryEvent,
    TelemetryEventType,
    is_cullable,
    is_valid_transition,
)

CHANNELS = 4


class SlotLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[TelemetryEvent] = []
        self.slot = SeedSlot("sm", CHANNELS, task_config=TaskConfig(max_epochs=25), on_event=self.events.append)
        self.seeds: list[SeedState] = []
        self.since_cull: int | None = None

    # ------------------------------------------------------------------ actions
    @rule(blueprint=st.sampled_from(blueprint_names("cnn")), algorithm=st.sampled_from(BLEND_ALGORITHM_IDS),
          tempo=st.integers(1, 8))
    def germinate(self, blueprint: str, algorithm: str, tempo: int) -> None:
        before = self.slot.state
        if before is None:
            state = self.slot.germinate(blueprint, blend_algorithm_id=algorithm, blend_tempo_epochs=tempo)
            assert state.stage == SeedStage.GERMINATED and state.blend_tempo_epochs == tempo
            self.seeds.append(state)
        else:
            snapshot = before.to_dict()
            with pytest.raises(ValueError, match="occupied"):
                self.slot.germinate(blueprint, blend_algorithm_id=algorithm, blend_tempo_epochs=tempo)
            assert self.slot.state is before and before.to_dict() == snapshot

    @rule(roll=st.integers(0, 5))
    def cull(self, roll: int) -> None:
        """Culls on one roll in six, so that seeds usually live long enough to reach the later stages."""
        if roll:
            return
        state = self.slot.state
        if state is not None and is_cullable(state.stage):
            self.slot.cull("tamiyo")
            assert state.stage == SeedStage.CULLED and self.slot.seed is None
            self.since_cull = 0
        else:
            snapshot = None if state is None else state.to_dict()
            with pytest.raises(InvalidTransitionError):
                self.slot.cull("tamiyo")
            assert (None if self.slot.state is None else self.slot.state.to_dict()) == snapshot

    @rule()
    def fossilize(self) -> None:
        state = self.slot.state
        if state is not None and state.stage == SeedStage.PROBATIONARY:
            cf = state.metrics.counterfactual_contribution
            snapshot = state.to_dict()
            result = self.slot.fossilize()
            assert result.gate == "G5"
            assert result.passed == (cf is not None and cf >= 1.0)
            if result.passed:
                assert state.stage == SeedStage.FOSSILIZED
            else:
                assert state.to_dict() == snapshot
        else:
            with pytest.raises(InvalidTransitionError):
                self.slot.fossilize()

    @rule(acc=st.floats(0.0, 100.0))
    def record_accuracy(self, acc: float) -> None:
        if self.slot.state is not None:
            self.slot.state.metrics.record_accuracy(acc)

    @rule(ratio=st.floats(0.0, 1.0))
    def gradient_ratio(self, ratio: float) -> None:
        if self.slot.state is not None:
            self.slot.state.metrics.seed_gradient_norm_ratio = ratio

    @rule(cf=st.one_of(st.none(), st.floats(-3.0, 3.0)))
    def counterfactual(self, cf: float | None) -> None:
        if self.slot.state is not None:
            self.slot.state.metrics.record_counterfactual(cf)

    @rule()
    def step_epoch(self) -> None:
        self._step()

    @rule(gain=st.floats(0.0, 2.0), cf=st.floats(-0.5, 3.0))
    def good_epoch(self, gain: float, cf: float) -> None:
        """An epoch that usually improves accuracy with healthy gradients (drives seeds to the later stages)."""
        state = self.slot.state
        if state is not None:
            state.metrics.record_accuracy(min(100.0, state.metrics.current_val_accuracy + gain))
            state.metrics.seed_gradient_norm_ratio = 0.5
            if state.stage in (SeedStage.BLENDING, SeedStage.PROBATIONARY):
                state.metrics.record_counterfactual(cf)
        self._step()

    @rule(gain=st.floats(0.0, 2.0), cf=st.floats(-0.5, 3.0))
    def another_good_epoch(self, gain: float, cf: float) -> None:
        self.good_epoch(gain, cf)

    # ------------------------------------------------------------------ the step and its checks
    def _step(self) -> None:
        state = self.slot.state
        if state is None:
            assert self.slot.step_epoch() is False
            assert self.slot.state is None
            return
        stage, m = state.stage, state.metrics
        total, in_stage, done = m.epochs_total, m.epochs_in_current_stage, state.blending_steps_done
        cf = m.counterfactual_contribution
        auto = self.slot.step_epoch()
        assert m.epochs_total == total + 1
        assert m.epochs_in_current_stage == (in_stage + 1 if state.stage == stage else 0)
        assert len(state.stage_history) >= 2
        assert state.stage == stage or is_valid_transition(stage, state.stage)
        assert auto == (stage == SeedStage.PROBATIONARY and state.stage == SeedStage.CULLED)
        if auto:
            timed_out = in_stage + 1 >= self.slot.probation_timeout
            assert (cf is not None and cf <= 0.0) or timed_out
            assert state.cull_reason in ("negative_counterfactual", "probation_timeout")
            self.since_cull = 0
        elif stage == SeedStage.PROBATIONARY:
            assert cf is None or cf > 0.0
        if stage == SeedStage.BLENDING:
            assert state.blending_steps_done == min(done + 1, state.blending_steps_total)
        if self.since_cull is not None and not auto:
            self.since_cull += 1
            if self.since_cull < COOLDOWN_EPOCHS:
                assert self.slot.state is state
            else:
                assert self.since_cull == COOLDOWN_EPOCHS
                assert self.slot.state is None and state.stage == SeedStage.DORMANT
                self.since_cull = None

    # ------------------------------------------------------------------ invariants
    @invariant()
    def histories_are_legal(self) -> None:
        for seed in self.seeds:
            history = seed.stage_history
            assert history[0] == SeedStage.DORMANT and history[-1] == seed.stage
            assert all(is_valid_transition(a, b) for a, b in zip(history, history[1:]))
            assert history.count(SeedStage.GERMINATED) == 1

    @invariant()
    def slot_consistent(self) -> None:
        state = self.slot.state
        report = self.slot.report()
        if state is None:
            assert report is None and self.slot.seed is None and self.slot.alpha == 0.0
            return
        assert report is not None and report.stage == state.stage and report.blend_tempo_epochs == state.blend_tempo_epochs
        assert (self.slot.seed is not None) == (state.stage in ACTIVE_STAGES)
        assert 0.0 <= state.alpha <= 1.0 and state.metrics.current_alpha == state.alpha
        assert float(self.slot._alpha) == pytest.approx(state.alpha, abs=1e-7)
        assert self.slot.telemetry.stage == int(state.stage)

    @invariant()
    def events_are_legal(self) -> None:
        for e in self.events:
            if e.event_type == TelemetryEventType.SEED_STAGE_CHANGED:
                old, new = SeedStage[str(e.data["from_stage"])], SeedStage[str(e.data["to_stage"])]
                assert is_valid_transition(old, new)


TestSlotLifecycle = SlotLifecycle.TestCase
TestSlotLifecycle.settings = settings(max_examples=30, stateful_step_count=60, deadline=None)
TestSlotLifecycle = pytest.mark.req(
    "SYS.3.12", "SYS.3.13", "SYS.3.18", "DEC.kasmina.3", "DEC.kasmina.4")(TestSlotLifecycle)


@pytest.mark.req("SYS.3.4")
def test_slot_forward_in_machine_stages_keeps_shape() -> None:
    slot = SeedSlot("s", CHANNELS)
    h = torch.randn(2, CHANNELS, 3, 3)
    assert torch.equal(slot(h), h)
