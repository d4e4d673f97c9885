"""Per-epoch training signals that Tamiyo observes, and the tracker that derives them.

Conventions (see ``spec/decisions/tamiyo.md``):

- accuracies are percentage points (0-100); losses are raw (non-negative) values;
- ``loss_delta = previous val_loss - current val_loss`` (positive = improvement);
- ``accuracy_delta = current val_accuracy - previous val_accuracy`` (positive = improvement);
- both deltas are 0.0 on the first epoch of an episode;
- the tracker stores raw values (possibly NaN/inf after a divergence); the observation builder sanitises them.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from esper.leyline import NUM_SLOTS
from esper.leyline.defaults import DEFAULT_MAX_EPOCHS
from esper.leyline.validation import MAX_COUNT, check_bool, check_float, check_int

HISTORY_LENGTH = 5
"""Number of recent validation losses / accuracies kept in the signals."""

PLATEAU_MIN_IMPROVEMENT = 0.5
"""Accuracy points the val accuracy must gain over the plateau reference to end a plateau."""

STABILIZATION_THRESHOLD = 0.03
"""Relative per-epoch val-loss improvement below which an epoch counts as stable."""

STABILIZATION_EPOCHS = 3
"""Consecutive stable epochs after which the host is latched as stabilised."""


@dataclass(frozen=True, slots=True)
class TrainingSignals:
    """Snapshot of the host's training state after one epoch (accuracy in points)."""

    epoch: int = 0
    max_epochs: int = DEFAULT_MAX_EPOCHS
    global_step: int = 0
    train_loss: float = 0.0
    val_loss: float = 0.0
    loss_delta: float = 0.0
    train_accuracy: float = 0.0
    val_accuracy: float = 0.0
    accuracy_delta: float = 0.0
    plateau_epochs: int = 0
    best_val_accuracy: float = 0.0
    best_val_loss: float = math.inf
    loss_history: tuple[float, ...] = ()
    """Last ``HISTORY_LENGTH`` val losses, oldest first."""
    accuracy_history: tuple[float, ...] = ()
    """Last ``HISTORY_LENGTH`` val accuracies, oldest first."""
    total_params: int = 0
    host_params: int = 0
    seed_utilisation: float = 0.0
    """Occupied slots / slots, in [0, 1]."""
    host_stabilized: bool = False
    """Latched once val-loss improvement stayed below 3% for 3 consecutive epochs."""

    def __post_init__(self) -> None:
        # Every field is type-checked (issue 13). Losses/accuracies are raw and may be NaN/inf after a divergence
        # (the observation builder sanitises them); counts must fit int64 so that feature arithmetic cannot
        # overflow a float.
        # Counts are type-checked and kept within int64; their values are sanitised by the observation builder.
        for name in ("epoch", "max_epochs", "global_step", "plateau_epochs", "total_params", "host_params"):
            check_int(f"TrainingSignals.{name}", getattr(self, name), low=-MAX_COUNT, high=MAX_COUNT)
        for name in (
            "train_loss",
            "val_loss",
            "loss_delta",
            "train_accuracy",
            "val_accuracy",
            "accuracy_delta",
            "best_val_accuracy",
            "best_val_loss",
        ):
            object.__setattr__(self, name, check_float(f"TrainingSignals.{name}", getattr(self, name), finite=False))
        for name in ("loss_history", "accuracy_history"):
            history = getattr(self, name)
            if not isinstance(history, tuple):
                raise TypeError(f"TrainingSignals.{name} must be a tuple of floats, got {type(history).__name__}")
            values = tuple(check_float(f"TrainingSignals.{name}[{i}]", v, finite=False) for i, v in enumerate(history))
            object.__setattr__(self, name, values)
        # A raw ratio too (DEC.tamiyo.2 sanitises it into [0, 1]).
        utilisation = check_float("TrainingSignals.seed_utilisation", self.seed_utilisation, finite=False)
        object.__setattr__(self, "seed_utilisation", utilisation)
        check_bool("TrainingSignals.host_stabilized", self.host_stabilized)


def _check_float(name: str, value: float) -> float:
    return check_float(name, value, finite=False)


class SignalTracker:
    """Derives :class:`TrainingSignals` from per-epoch results of one episode.

    Call :meth:`update` once per epoch, :meth:`reset` at the start of each episode.
    """

    def __init__(self, max_epochs: int = DEFAULT_MAX_EPOCHS) -> None:
        self.max_epochs = check_int("max_epochs", max_epochs, low=1)
        self._loss_history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self._accuracy_history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.reset()

    def reset(self) -> None:
        """Forget the episode: histories, bests, plateau counter and the stabilisation latch."""
        self._loss_history.clear()
        self._accuracy_history.clear()
        self._prev_val_loss: float | None = None
        self._prev_val_accuracy: float | None = None
        self._best_val_accuracy = 0.0
        self._best_val_loss = math.inf
        self._plateau_reference: float | None = None
        self._plateau_epochs = 0
        self._stable_streak = 0
        self._stabilized = False
        self._updates = 0
        self._last: TrainingSignals | None = None

    @property
    def host_stabilized(self) -> bool:
        """Latch: True once the host stopped improving quickly (never reset within an episode)."""
        return self._stabilized

    @property
    def last(self) -> TrainingSignals | None:
        """The signals returned by the latest :meth:`update`, or None after :meth:`reset`."""
        return self._last

    def update(
        self,
        *,
        epoch: int,
        train_loss: float,
        val_loss: float,
        train_accuracy: float,
        val_accuracy: float,
        total_params: int = 0,
        host_params: int = 0,
        occupied_slots: int = 0,
        num_slots: int = NUM_SLOTS,
        global_step: int | None = None,
    ) -> TrainingSignals:
        """Record one epoch and return the resulting signals.

        ``global_step`` defaults to the number of updates since :meth:`reset`.
        """
        check_int("epoch", epoch, low=0, high=MAX_COUNT)
        check_int("total_params", total_params, low=0, high=MAX_COUNT)
        check_int("host_params", host_params, low=0, high=MAX_COUNT)
        check_int("num_slots", num_slots, low=1, high=MAX_COUNT)
        check_int("occupied_slots", occupied_slots, low=0, high=MAX_COUNT)
        if occupied_slots > num_slots:
            raise ValueError(f"occupied_slots must be in [0, num_slots={num_slots}], got {occupied_slots}")
        train_loss = _check_float("train_loss", train_loss)
        val_loss = _check_float("val_loss", val_loss)
        train_accuracy = _check_float("train_accuracy", train_accuracy)
        val_accuracy = _check_float("val_accuracy", val_accuracy)
        self._updates += 1
        step = self._updates if global_step is None else check_int("global_step", global_step, low=0, high=MAX_COUNT)

        loss_delta = 0.0 if self._prev_val_loss is None else self._prev_val_loss - val_loss
        acc_delta = 0.0 if self._prev_val_accuracy is None else val_accuracy - self._prev_val_accuracy
        self._update_stabilization(val_loss)
        self._update_plateau(val_accuracy)
        if math.isfinite(val_accuracy):
            self._best_val_accuracy = max(self._best_val_accuracy, val_accuracy)
        if math.isfinite(val_loss):
            self._best_val_loss = min(self._best_val_loss, val_loss)
        self._loss_history.append(val_loss)
        self._accuracy_history.append(val_accuracy)
        self._prev_val_loss = val_loss
        self._prev_val_accuracy = val_accuracy

        self._last = TrainingSignals(
            epoch=epoch,
            max_epochs=self.max_epochs,
            global_step=step,
            train_loss=train_loss,
            val_loss=val_loss,
            loss_delta=loss_delta,
            train_accuracy=train_accuracy,
            val_accuracy=val_accuracy,
            accuracy_delta=acc_delta,
            plateau_epochs=self._plateau_epochs,
            best_val_accuracy=self._best_val_accuracy,
            best_val_loss=self._best_val_loss,
            loss_history=tuple(self._loss_history),
            accuracy_history=tuple(self._accuracy_history),
            total_params=total_params,
            host_params=host_params,
            seed_utilisation=occupied_slots / num_slots,
            host_stabilized=self._stabilized,
        )
        return self._last

    def _update_plateau(self, val_accuracy: float) -> None:
        """Plateau = epochs since val accuracy last beat the plateau reference by > 0.5 points."""
        if not math.isfinite(val_accuracy):
            if self._plateau_reference is not None:
                self._plateau_epochs += 1
            return
        if self._plateau_reference is None or val_accuracy > self._plateau_reference + PLATEAU_MIN_IMPROVEMENT:
            self._plateau_reference = val_accuracy
            self._plateau_epochs = 0
        else:
            self._plateau_epochs += 1

    def _update_stabilization(self, val_loss: float) -> None:
        """Latch once the relative val-loss improvement stayed < 3% for 3 consecutive epochs."""
        prev = self._prev_val_loss
        if prev is None:
            return
        if not (math.isfinite(val_loss) and math.isfinite(prev)) or prev <= 0.0:
            self._stable_streak = 0
            return
        relative_improvement = (prev - val_loss) / prev
        self._stable_streak = self._stable_streak + 1 if relative_improvement < STABILIZATION_THRESHOLD else 0
        if self._stable_streak >= STABILIZATION_EPOCHS:
            self._stabilized = True


__all__ = [
    "HISTORY_LENGTH",
    "PLATEAU_MIN_IMPROVEMENT",
    "STABILIZATION_EPOCHS",
    "STABILIZATION_THRESHOLD",
    "SignalTracker",
    "TrainingSignals",
]
