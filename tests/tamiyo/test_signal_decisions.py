"""SignalTracker decisions: deltas, plateau, stabilisation latch, histories, inputs (DEC.tamiyo.3-6)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esper.tamiyo.policy.features import build_observation, observation_layout
from esper.tamiyo.signals import SignalTracker, TrainingSignals


def _feed(tracker: SignalTracker, losses: list[float], accs: list[float]) -> list[TrainingSignals]:
    return [
        tracker.update(epoch=e, train_loss=loss, val_loss=loss, train_accuracy=acc, val_accuracy=acc)
        for e, (loss, acc) in enumerate(zip(losses, accs, strict=True), start=1)
    ]


@pytest.mark.req("DEC.tamiyo.4")
def test_delta_signs_and_first_epoch() -> None:
    out = _feed(SignalTracker(), [2.0, 1.5, 1.8], [10.0, 30.0, 25.0])
    assert (out[0].loss_delta, out[0].accuracy_delta) == (0.0, 0.0)
    assert out[1].loss_delta == pytest.approx(0.5) and out[1].accuracy_delta == pytest.approx(20.0)
    assert out[2].loss_delta == pytest.approx(-0.3) and out[2].accuracy_delta == pytest.approx(-5.0)
    assert out[2].best_val_accuracy == 30.0 and out[2].best_val_loss == 1.5


@pytest.mark.req("DEC.tamiyo.4")
def test_plateau_counts_epochs_without_a_half_point_gain() -> None:
    accs = [50.0, 50.4, 50.5, 50.2, 50.6, 51.0, 51.0, 52.0]
    plateaus = [s.plateau_epochs for s in _feed(SignalTracker(), [1.0] * len(accs), accs)]
    # 50.4/50.5 are within 0.5 of 50.0; 50.6 beats it by 0.6 (reset); 51.0 is +0.4 over 50.6; 52.0 resets
    assert plateaus == [0, 1, 2, 3, 0, 1, 2, 0]


@pytest.mark.req("DEC.tamiyo.4")
def test_nan_accuracy_counts_as_no_improvement() -> None:
    out = _feed(SignalTracker(), [1.0, 1.0, 1.0], [40.0, math.nan, 60.0])
    assert [s.plateau_epochs for s in out] == [0, 1, 0]
    assert out[1].best_val_accuracy == 40.0


@pytest.mark.req("DEC.tamiyo.5")
def test_stabilisation_latch() -> None:
    tracker = SignalTracker()
    # improvements: 20%, 2%, 1%, 10%, 1%, 1%, 0.5% -> streak 1,2,0,1,2,3 -> latch at the 8th epoch
    losses = [1.0, 0.8, 0.784, 0.776, 0.698, 0.691, 0.684, 0.6806, 5.0, 0.1]
    out = _feed(tracker, losses, [50.0] * len(losses))
    assert [s.host_stabilized for s in out] == [False] * 7 + [True] * 3  # never reset, even after a jump
    assert tracker.host_stabilized
    tracker.reset()
    assert not tracker.host_stabilized and tracker.last is None


@pytest.mark.req("DEC.tamiyo.5")
def test_non_finite_loss_breaks_the_streak() -> None:
    losses = [1.0, 0.99, 0.98, math.nan, 0.97, 0.96, 0.95]
    out = _feed(SignalTracker(), losses, [50.0] * len(losses))
    assert [s.host_stabilized for s in out] == [False, False, False, False, False, False, False]


@pytest.mark.req("DEC.tamiyo.3")
@given(values=st.lists(st.floats(0.0, 100.0), min_size=0, max_size=9))
@settings(max_examples=40, deadline=None)
def test_history_keeps_last_five_oldest_first_left_padded(values: list[float]) -> None:
    tracker = SignalTracker()
    s = TrainingSignals()
    for e, v in enumerate(values, start=1):
        s = tracker.update(epoch=e, train_loss=1.0, val_loss=1.0, train_accuracy=v, val_accuracy=v)
    assert s.accuracy_history == tuple(values[-5:])
    obs = build_observation(s, [None])
    layout = observation_layout(1)
    encoded = [obs[layout.index(f"accuracy_history[{i}]")].item() for i in range(5)]
    recent = values[-5:]
    expected = ([recent[0]] * (5 - len(recent)) + recent) if recent else [0.0] * 5
    assert encoded == pytest.approx([v / 100 for v in expected], abs=1e-6)


@pytest.mark.req("DEC.tamiyo.6")
def test_tracker_inputs() -> None:
    tracker = SignalTracker(max_epochs=10)
    s = tracker.update(epoch=1, train_loss=1.0, val_loss=1.0, train_accuracy=5.0, val_accuracy=5.0,
                       total_params=1200, host_params=1000, occupied_slots=2, num_slots=4)
    assert (s.global_step, s.max_epochs, s.total_params, s.host_params, s.seed_utilisation) == (1, 10, 1200, 1000, 0.5)
    s = tracker.update(epoch=2, train_loss=1.0, val_loss=1.0, train_accuracy=5.0, val_accuracy=5.0, global_step=640)
    assert s.global_step == 640
    with pytest.raises(ValueError, match="occupied_slots"):
        tracker.update(epoch=3, train_loss=1.0, val_loss=1.0, train_accuracy=5.0, val_accuracy=5.0,
                       occupied_slots=4, num_slots=3)
    with pytest.raises(ValueError, match="epoch"):
        tracker.update(epoch=-1, train_loss=1.0, val_loss=1.0, train_accuracy=5.0, val_accuracy=5.0)
    with pytest.raises(TypeError, match="val_loss"):
        tracker.update(epoch=1, train_loss=1.0, val_loss="x", train_accuracy=5.0, val_accuracy=5.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_epochs"):
        SignalTracker(max_epochs=0)
