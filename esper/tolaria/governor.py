"""Tolaria's governor: detects a diverging host and rolls it back to the last good snapshot.

An epoch is unhealthy when (DEC.seedhealth.3):

- its training loss is NaN/inf, or (once at least ``GOVERNOR_MIN_HISTORY`` healthy losses are known) exceeds both
  ``spike_factor`` x the median of the recent healthy losses and that median plus ``min_spike_delta``;
- its validation loss (when given) is NaN/inf: train-mode BatchNorm hides a poisoned host from the training loss,
  eval mode does not (a spike rule on the validation loss was tried and dropped: a legitimate cull of a helpful
  blended seed raises it beyond 3x its median, DEC.seedhealth.3);
- a normalisation running buffer is non-finite or grew beyond ``NORM_BUFFER_GROWTH_LIMIT`` x its magnitude in the
  last healthy snapshot.

Only healthy losses enter the histories, and only a healthy state is snapshotted. Rollback restores the model's
weights and buffers (normalisation statistics included) and the host optimiser's state from the snapshot (in place,
so optimisers keep their parameter references), culls every live (non-fossilized) seed with reason ``"governor"``
and reports the penalty that the caller adds to the reward of the transition that caused it.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from esper.kasmina.host import MorphogeneticModel
from esper.leyline import SeedStage, TelemetryEvent, TelemetryEventType
from esper.leyline.defaults import GOVERNOR_HISTORY, GOVERNOR_PENALTY, GOVERNOR_SPIKE_FACTOR
from esper.leyline.validation import check_int
from esper.tolaria.evaluation import model_slots
from esper.tolaria.norm_stats import norm_buffer_magnitudes, norm_buffers_unhealthy
from esper.tolaria.trainer import LIVE_SEED_STAGES

GOVERNOR_MIN_HISTORY = 3
"""Healthy losses needed before spikes are judged (NaN/inf are always caught)."""
GOVERNOR_MIN_SPIKE_DELTA = 0.25
"""A spike must also exceed the median by this much (nats), so a converged, tiny loss that wobbles by a
factor of 3 is not a divergence."""
GOVERNOR_REASON = "governor"

_OptimizerState = dict[str, Any]
_BLENDED_STAGES = frozenset({SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED})


@dataclass(frozen=True, slots=True)
class GovernorVerdict:
    """Result of :meth:`TolariaGovernor.check`.

    ``reason`` is ``"ok"``; ``"nan"``, ``"inf"`` or ``"spike"`` (training loss); ``"val_nan"`` or ``"val_inf"``
    (validation loss); or ``"norm_buffers"`` (``bad_buffers`` names them).
    """

    healthy: bool
    reason: str
    loss: float
    threshold: float | None = None
    """Spike threshold in force for the failing loss (None while the history is too short)."""
    val_loss: float | None = None
    bad_buffers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GovernorReport:
    """What a rollback did: why, the culled slots/seeds, and the reward penalty for the causing transition."""

    reason: str
    loss: float
    penalty: float
    culled_slots: tuple[str, ...]
    culled_seeds: tuple[str, ...]
    rollback_count: int
    bad_buffers: tuple[str, ...] = ()
    """Normalisation buffers found poisoned (reason ``"norm_buffers"``)."""


class TolariaGovernor:
    """Watches the training loss of one model; snapshots good states and rolls back bad ones.

    The constructor takes a first snapshot, so a rollback is always possible.
    """

    def __init__(
        self,
        model: MorphogeneticModel,
        host_optimizer: torch.optim.Optimizer,
        history: int = GOVERNOR_HISTORY,
        spike_factor: float = GOVERNOR_SPIKE_FACTOR,
        penalty: float = GOVERNOR_PENALTY,
        *,
        min_spike_delta: float = GOVERNOR_MIN_SPIKE_DELTA,
        on_event: Callable[[TelemetryEvent], None] | None = None,
    ) -> None:
        check_int("history", history, low=GOVERNOR_MIN_HISTORY)
        if not (math.isfinite(spike_factor) and spike_factor > 1.0):
            raise ValueError(f"spike_factor must be a finite float > 1, got {spike_factor}")
        if not math.isfinite(penalty) or penalty > 0.0:
            raise ValueError(f"penalty must be a finite float <= 0, got {penalty}")
        if not (math.isfinite(min_spike_delta) and min_spike_delta >= 0.0):
            raise ValueError(f"min_spike_delta must be a finite float >= 0, got {min_spike_delta}")
        self.model = model
        self.host_optimizer = host_optimizer
        self.spike_factor = float(spike_factor)
        self.penalty = float(penalty)
        self.min_spike_delta = float(min_spike_delta)
        self.on_event = on_event
        self.history: deque[float] = deque(maxlen=history)
        self._blended_at_snapshot: dict[str, str] = {}
        self._buffer_reference: dict[str, float] = {}
        self.rollback_count = 0
        self._last_verdict: GovernorVerdict | None = None
        self._weights: dict[str, torch.Tensor] = {}
        self._optimizer_state: _OptimizerState = {}
        self.snapshot()

    # -- snapshots -----------------------------------------------------------------------------------
    def snapshot(self) -> None:
        """Deep-copy the model's weights/buffers and the host optimiser state (on their devices), and remember the
        normalisation buffers' magnitudes as the healthy reference. :meth:`observe` calls it only after a healthy
        verdict."""
        with torch.no_grad():
            self._weights = {name: t.detach().clone() for name, t in self.model.state_dict().items()}
        self._optimizer_state = copy.deepcopy(self.host_optimizer.state_dict())
        mags = norm_buffer_magnitudes(self.model)
        values = torch.stack([m.double() for m in mags.values()]).tolist() if mags else []
        self._buffer_reference = {
            name: value for name, value in zip(mags, values, strict=True) if math.isfinite(value)
        }
        self._blended_at_snapshot = self._blended_seeds()

    def _restore_weights(self) -> None:
        current = self.model.state_dict()
        with torch.no_grad():
            for name, tensor in current.items():
                saved = self._weights.get(name)
                if saved is not None and saved.shape == tensor.shape and saved.dtype == tensor.dtype:
                    tensor.copy_(saved)

    def _restore_optimizer(self) -> None:
        saved = copy.deepcopy(self._optimizer_state)
        groups_saved = len(saved["param_groups"])
        current = self.host_optimizer.state_dict()
        # Param groups appended after the snapshot (fossilized seeds) keep their current state.
        for group in current["param_groups"][groups_saved:]:
            saved["param_groups"].append(copy.deepcopy(group))
            for index in group["params"]:
                if index in current["state"]:
                    saved["state"][index] = copy.deepcopy(current["state"][index])
        self.host_optimizer.load_state_dict(saved)

    # -- detection -----------------------------------------------------------------------------------
    def spike_threshold(self, history: deque[float] | None = None) -> float | None:
        """Loss above which a finite loss is a spike (None while fewer than 3 healthy losses are known).
        ``history`` defaults to the training-loss history."""
        values = self.history if history is None else history
        if len(values) < GOVERNOR_MIN_HISTORY:
            return None
        median = statistics.median(values)
        return max(self.spike_factor * median, median + self.min_spike_delta)

    def _judge(self, value: float, history: deque[float], prefix: str) -> tuple[str, float | None]:
        threshold = self.spike_threshold(history)
        if math.isnan(value):
            return prefix + "nan", threshold
        if math.isinf(value):
            return prefix + "inf", threshold
        if threshold is not None and value > threshold:
            return prefix + "spike", threshold
        return "ok", threshold

    def _blended_seeds(self) -> dict[str, str]:
        """``{slot_id: seed_id}`` of seeds whose output reaches the host (BLENDING, PROBATIONARY, FOSSILIZED)."""
        return {
            slot_id: slot.state.seed_id
            for slot_id, slot in model_slots(self.model)
            if slot.state is not None and slot.state.stage in _BLENDED_STAGES
        }

    def check(self, loss: float, *, val_loss: float | None = None) -> GovernorVerdict:
        """Judge one epoch: training loss (NaN/inf/spike), validation loss when given (NaN/inf) and normalisation
        buffers. The healthy training loss is appended to the history only when the whole epoch is healthy."""
        value = float(loss)
        val = None if val_loss is None else float(val_loss)
        reason, threshold = self._judge(value, self.history, "")
        if reason == "ok" and val is not None and not math.isfinite(val):
            reason = "val_nan" if math.isnan(val) else "val_inf"
        bad: tuple[str, ...] = ()
        if reason == "ok":
            bad = tuple(norm_buffers_unhealthy(self.model, self._buffer_reference))
            if bad:
                reason = "norm_buffers"
        healthy = reason == "ok"
        verdict = GovernorVerdict(
            healthy=healthy, reason=reason, loss=value, threshold=threshold, val_loss=val, bad_buffers=bad
        )
        if healthy:
            self.history.append(value)
        self._last_verdict = verdict
        return verdict

    # -- recovery ------------------------------------------------------------------------------------
    def rollback(self) -> GovernorReport:
        """Restore the snapshot, cull live seeds (reason ``"governor"``) and report the penalty."""
        self._restore_weights()
        self._restore_optimizer()
        culled_slots: list[str] = []
        culled_seeds: list[str] = []
        for slot_id, slot in model_slots(self.model):
            state = slot.state
            if state is not None and state.stage in LIVE_SEED_STAGES:
                culled_seeds.append(state.seed_id)
                slot.cull(GOVERNOR_REASON)
                culled_slots.append(slot_id)
        # Restored normalisation statistics were measured with the seeds blended at snapshot time; when that set
        # changed (a blended seed was culled since), they describe a model that no longer exists (DEC.seedhealth.4).
        now = self._blended_seeds()
        for slot_id, slot in model_slots(self.model):
            if self._blended_at_snapshot.get(slot_id) != now.get(slot_id):
                slot.host_stats_stale = True
        self.rollback_count += 1
        verdict = self._last_verdict
        report = GovernorReport(
            reason=verdict.reason if verdict is not None and not verdict.healthy else "manual",
            loss=verdict.loss if verdict is not None else math.nan,
            penalty=self.penalty,
            culled_slots=tuple(culled_slots),
            culled_seeds=tuple(culled_seeds),
            rollback_count=self.rollback_count,
            bad_buffers=verdict.bad_buffers if verdict is not None and not verdict.healthy else (),
        )
        if self.on_event is not None:
            self.on_event(
                TelemetryEvent(
                    event_type=TelemetryEventType.GOVERNOR_ROLLBACK,
                    data={
                        "reason": report.reason,
                        "loss": report.loss,
                        "penalty": report.penalty,
                        "culled_slots": ",".join(report.culled_slots),
                        "num_culled": len(report.culled_slots),
                        "rollback_count": report.rollback_count,
                        "bad_buffers": ",".join(report.bad_buffers),
                    },
                )
            )
        return report

    def observe(self, loss: float, *, val_loss: float | None = None) -> GovernorReport | None:
        """``check`` the epoch: snapshot when healthy (returns None), roll back when not (returns the report)."""
        if self.check(loss, val_loss=val_loss).healthy:
            self.snapshot()
            return None
        return self.rollback()


__all__ = [
    "GOVERNOR_MIN_HISTORY",
    "GOVERNOR_MIN_SPIKE_DELTA",
    "GOVERNOR_REASON",
    "GovernorReport",
    "GovernorVerdict",
    "TolariaGovernor",
]
