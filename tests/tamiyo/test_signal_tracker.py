"""Unit tests of SignalTracker bookkeeping."""

from __future__ import annotations

import math

import pytest

from esper.tamiyo.signals import HISTORY_LENGTH, SignalTracker


def _update(tracker: SignalTracker, epoch: int, loss: float, acc: float, **kw: int):
    return tracker.update(epoch=epoch, train_loss=loss * 0.9, val_loss=loss, train_accuracy=acc + 1, val_accuracy=acc, **kw)


def test_histories_are_capped_and_oldest_first() -> None:
    tracker = SignalTracker()
    for e in range(1, 9):
        s = _update(tracker, e, loss=10.0 - e, acc=float(e))
    assert len(s.loss_history) == HISTORY_LENGTH == 5
    assert s.loss_history == (6.0, 5.0, 4.0, 3.0, 2.0)
    assert s.accuracy_history == (4.0, 5.0, 6.0, 7.0, 8.0)
    assert s.train_loss == pytest.approx(1.8) and s.train_accuracy == 9.0


def test_reset_forgets_the_episode() -> None:
    tracker = SignalTracker()
    for e, acc in enumerate([10.0, 10.1, 10.2, 10.3], start=1):
        _update(tracker, e, 1.0, acc)
    assert tracker.last is not None and tracker.last.plateau_epochs == 3
    tracker.reset()
    s = _update(tracker, 1, 5.0, 3.0)
    assert (s.plateau_epochs, s.loss_delta, s.accuracy_delta, s.global_step) == (0, 0.0, 0.0, 1)
    assert s.best_val_accuracy == 3.0 and s.best_val_loss == 5.0
    assert s.loss_history == (5.0,) and s.accuracy_history == (3.0,)


def test_non_finite_values_are_tolerated_and_excluded_from_bests() -> None:
    tracker = SignalTracker()
    s = _update(tracker, 1, math.nan, math.nan)
    assert math.isinf(s.best_val_loss) and s.best_val_accuracy == 0.0
    s = _update(tracker, 2, math.inf, 20.0)
    assert math.isinf(s.best_val_loss) and s.best_val_accuracy == 20.0
    assert math.isnan(s.loss_delta)  # raw values stay raw; the observation sanitises them
    s = _update(tracker, 3, 2.0, 19.0)
    assert s.best_val_loss == 2.0 and s.loss_delta == math.inf  # recovered from inf


def test_first_finite_accuracy_sets_the_plateau_reference() -> None:
    tracker = SignalTracker()
    plateaus = [_update(tracker, e, 1.0, a).plateau_epochs for e, a in enumerate([math.nan, 30.0, 30.2], 1)]
    assert plateaus == [0, 0, 1]


def test_seed_utilisation_defaults_and_bool_rejection() -> None:
    tracker = SignalTracker()
    assert _update(tracker, 1, 1.0, 1.0).seed_utilisation == 0.0
    assert _update(tracker, 2, 1.0, 1.0, occupied_slots=3).seed_utilisation == 1.0
    with pytest.raises(TypeError, match="total_params"):
        _update(tracker, 3, 1.0, 1.0, total_params=True)
    with pytest.raises(ValueError, match="num_slots"):
        _update(tracker, 3, 1.0, 1.0, num_slots=0)


def test_regression_counts_as_stable() -> None:
    tracker = SignalTracker()
    flags = [_update(tracker, e, loss, 50.0).host_stabilized for e, loss in enumerate([1.0, 1.2, 1.3, 1.4], 1)]
    assert flags == [False, False, False, True]


def test_zero_previous_loss_breaks_the_streak() -> None:
    tracker = SignalTracker()
    flags = [_update(tracker, e, loss, 50.0).host_stabilized for e, loss in enumerate([1.0, 1.0, 0.0, 0.0, 0.0, 0.0], 1)]
    assert flags == [False, False, False, False, False, False]
