"""HeuristicTamiyo: the rule-based baseline that RL is compared against.

One decision per epoch, first rule that fires wins:

1. FOSSILIZE a PROBATIONARY seed whose counterfactual contribution is >= ``fossilize_threshold`` (G5);
2. CULL a blended seed (BLENDING/PROBATIONARY) whose contribution is < ``cull_threshold`` once it has been
   in PROBATIONARY, or in BLENDING for ``cull_after_epochs`` epochs; or, when val accuracy dropped by more than
   ``accuracy_drop_threshold`` points, the blended seed with the lowest contribution;
3. GERMINATE on plateau (``plateau_epochs >= plateau_patience``) into the first empty enabled slot, rotating
   blueprints through the topology's list, when fewer than ``max_live_seeds`` seeds are live and at least
   ``germinate_cooldown`` epochs passed since the last germination;
4. otherwise WAIT.

Every emitted action is allowed by the masks and executable on the chosen slot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch

from esper.leyline import (
    HEAD_NAMES,
    NUM_SLOTS,
    BlendAction,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    SeedStage,
    SeedStateReport,
    TempoAction,
    check_topology,
    head_sizes,
    is_active,
)
from esper.leyline.defaults import DEFAULT_MAX_SEEDS, G5_MIN_CONTRIBUTION
from esper.leyline.validation import check_int, is_sequence
from esper.tamiyo.execution import check_executable
from esper.tamiyo.policy.action_masks import compute_action_masks, resolve_enabled_slots, topology_blueprints
from esper.tamiyo.signals import TrainingSignals

_BLENDED = (SeedStage.BLENDING, SeedStage.PROBATIONARY)


@dataclass(frozen=True, slots=True)
class HeuristicConfig:
    """Thresholds of the baseline (accuracy and contributions in points)."""

    plateau_patience: int = 3
    """Germinate once ``plateau_epochs`` reaches this."""
    min_epoch_to_germinate: int = 1
    germinate_cooldown: int = 3
    """Epochs between two germinations."""
    max_live_seeds: int = 1
    """At most this many seeds in GERMINATED..PROBATIONARY at once."""
    blueprint_order: tuple[BlueprintAction, ...] | None = None
    """Rotation order; None = the topology's blueprints (NOOP excluded) in enum order."""
    blend: BlendAction = BlendAction.SIGMOID
    tempo: TempoAction = TempoAction.STANDARD
    cull_threshold: float = 0.0
    """Cull a blended seed whose counterfactual contribution is below this."""
    cull_after_epochs: int = 3
    """Epochs in BLENDING before the contribution rule may cull (PROBATIONARY: at once)."""
    accuracy_drop_threshold: float = 2.0
    """Cull the weakest blended seed (alpha >= 0.5, contribution <= ``cull_threshold``) when val accuracy falls by
    more than this in one epoch."""
    fossilize_threshold: float = G5_MIN_CONTRIBUTION

    def __post_init__(self) -> None:
        for name in ("plateau_patience", "min_epoch_to_germinate", "germinate_cooldown", "cull_after_epochs"):
            check_int(name, getattr(self, name), low=0)
        check_int("max_live_seeds", self.max_live_seeds, low=1)
        if not isinstance(self.blend, BlendAction):
            raise TypeError(f"blend must be a BlendAction; valid: {[b.name for b in BlendAction]}")
        if not isinstance(self.tempo, TempoAction):
            raise TypeError(f"tempo must be a TempoAction; valid: {[t.name for t in TempoAction]}")
        for name in ("cull_threshold", "accuracy_drop_threshold", "fossilize_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")


_E = TypeVar("_E", BlendAction, TempoAction, BlueprintAction)


def _pick(enum_cls: type[_E], preferred: _E, allowed: list[bool]) -> _E:
    """``preferred`` if the mask allows it, else the first allowed member."""
    if allowed[preferred]:
        return preferred
    return next(member for member in enum_cls if allowed[member])


def _mask_lists(masks: Mapping[str, torch.Tensor], num_slots: int) -> dict[str, list[bool]]:
    """Validate one env's masks (1-D bool per head, no empty row) and turn them into Python lists."""
    sizes = head_sizes(num_slots)
    out: dict[str, list[bool]] = {}
    for name in HEAD_NAMES:
        if name not in masks:
            raise ValueError(f"masks is missing head {name!r}; required: {list(HEAD_NAMES)}")
        mask = masks[name]
        if tuple(mask.shape) != (sizes[name],):
            raise ValueError(f"masks[{name!r}] must have shape ({sizes[name]},), got {tuple(mask.shape)}")
        row = [bool(v) for v in mask.detach().cpu().tolist()]
        if not any(row):
            raise ValueError(f"masks[{name!r}] has no valid action")
        out[name] = row
    return out


class HeuristicTamiyo:
    """Rule-based controller producing :class:`FactoredAction` s (see module docstring)."""

    def __init__(self, config: HeuristicConfig | None = None, topology: str = "cnn", num_slots: int = NUM_SLOTS) -> None:
        self.config = HeuristicConfig() if config is None else config
        self.topology = check_topology(topology)
        self.num_slots = check_int("num_slots", num_slots, low=1)
        allowed = topology_blueprints(topology)
        order = allowed if self.config.blueprint_order is None else self.config.blueprint_order
        bad = [b for b in order if b not in allowed]
        if not order or bad:
            raise ValueError(
                f"blueprint_order must be a non-empty subset of {topology!r} blueprints {[b.name for b in allowed]}; "
                f"invalid: {[getattr(b, 'name', b) for b in bad]}"
            )
        self.blueprint_order: tuple[BlueprintAction, ...] = tuple(order)
        self.reset()

    def reset(self) -> None:
        """Start a new episode: rotation back to the first blueprint, no germination history."""
        self._rotation = 0
        self._last_germination_epoch: int | None = None
        self.last_reason = ""

    def decide(
        self,
        signals: TrainingSignals,
        slot_reports: Sequence[SeedStateReport | None],
        masks: Mapping[str, torch.Tensor] | None = None,
        *,
        seeds_germinated: int = 0,
        max_seeds: int = DEFAULT_MAX_SEEDS,
        enabled_slots: Sequence[int] | None = None,
    ) -> FactoredAction:
        """One action for this epoch; ``masks`` (one env, 1-D per head) default to :func:`compute_action_masks`."""
        if not is_sequence(slot_reports):
            raise TypeError(f"slot_reports must be a sequence of SeedStateReport | None, got {type(slot_reports).__name__}")
        if len(slot_reports) != self.num_slots:
            raise ValueError(f"slot_reports must have num_slots={self.num_slots} entries, got {len(slot_reports)}")
        if masks is None:
            masks = compute_action_masks(
                slot_reports,
                enabled_slots=enabled_slots,
                topology=self.topology,
                seeds_germinated=seeds_germinated,
                max_seeds=max_seeds,
            )
        allowed = _mask_lists(masks, self.num_slots)
        enabled = [i for i in resolve_enabled_slots(self.num_slots, enabled_slots) if allowed["slot"][i]]
        if not enabled:
            raise ValueError("masks['slot'] allows none of the enabled slots")
        if not allowed["op"][LifecycleOp.WAIT]:
            raise ValueError("masks['op'] must allow WAIT")

        for candidate, reason in self._candidates(signals, slot_reports, enabled, allowed, seeds_germinated, max_seeds):
            if not all(allowed[head][idx] for head, idx in zip(HEAD_NAMES, candidate.to_indices(), strict=True)):
                continue
            check = check_executable(
                slot_reports,
                candidate,
                seeds_germinated=seeds_germinated,
                max_seeds=max_seeds,
                enabled_slots=enabled,
                topology=self.topology,
            )
            if check.executable:
                if candidate.op == LifecycleOp.GERMINATE:
                    order = self.blueprint_order
                    self._rotation = order.index(candidate.blueprint) + 1 if candidate.blueprint in order else self._rotation + 1
                    self._last_germination_epoch = signals.epoch
                self.last_reason = reason
                return candidate
        self.last_reason = "wait: no rule fired"
        return self._action(enabled[0], LifecycleOp.WAIT, allowed)

    def _action(self, slot: int, op: LifecycleOp, allowed: Mapping[str, list[bool]]) -> FactoredAction:
        """An action on ``slot`` whose blueprint/blend/tempo heads are allowed by the masks."""
        return FactoredAction(
            slot_idx=slot,
            blueprint=self._next_blueprint(allowed["blueprint"]),
            blend=_pick(BlendAction, self.config.blend, allowed["blend"]),
            tempo=_pick(TempoAction, self.config.tempo, allowed["tempo"]),
            op=op,
        )

    def _next_blueprint(self, blueprint_allowed: list[bool]) -> BlueprintAction:
        """Next blueprint of the rotation that the mask allows (else the first allowed blueprint)."""
        n = len(self.blueprint_order)
        for k in range(n):
            candidate = self.blueprint_order[(self._rotation + k) % n]
            if blueprint_allowed[candidate]:
                return candidate
        return _pick(BlueprintAction, self.blueprint_order[self._rotation % n], blueprint_allowed)

    def _candidates(
        self,
        signals: TrainingSignals,
        reports: Sequence[SeedStateReport | None],
        enabled: list[int],
        allowed: Mapping[str, list[bool]],
        seeds_germinated: int,
        max_seeds: int,
    ) -> list[tuple[FactoredAction, str]]:
        cfg = self.config
        out: list[tuple[FactoredAction, str]] = []
        occupied = [(i, r) for i in enabled if (r := reports[i]) is not None]

        for i, r in occupied:
            c = r.metrics.counterfactual_contribution
            if r.stage == SeedStage.PROBATIONARY and c is not None and c >= cfg.fossilize_threshold:
                out.append((self._action(i, LifecycleOp.FOSSILIZE, allowed), f"fossilize slot {i}: contribution {c:.2f}"))

        blended = [(i, r) for i, r in occupied if r.stage in _BLENDED and r.can_cull]
        for i, r in blended:
            c = r.metrics.counterfactual_contribution
            old_enough = r.stage == SeedStage.PROBATIONARY or r.metrics.epochs_in_current_stage >= cfg.cull_after_epochs
            if old_enough and c is not None and c < cfg.cull_threshold:
                out.append((self._action(i, LifecycleOp.CULL, allowed), f"cull slot {i}: contribution {c:.2f}"))
        drop = signals.accuracy_delta
        # Blame a drop only on a seed that is visibly blended in and not helping (noisy hosts fluctuate).
        suspects = [
            (i, r)
            for i, r in blended
            if r.alpha >= 0.5 and (c := r.metrics.counterfactual_contribution) is not None and c <= cfg.cull_threshold
        ]
        if suspects and math.isfinite(drop) and drop < -cfg.accuracy_drop_threshold:
            def weakest(item: tuple[int, SeedStateReport]) -> float:
                c = item[1].metrics.counterfactual_contribution
                return math.inf if c is None or math.isnan(c) else c

            i, _ = min(suspects, key=weakest)
            out.append((self._action(i, LifecycleOp.CULL, allowed), f"cull slot {i}: accuracy dropped {drop:.2f}"))

        live = sum(1 for r in reports if r is not None and is_active(r.stage) and r.stage != SeedStage.FOSSILIZED)
        cooled = (
            self._last_germination_epoch is None or signals.epoch - self._last_germination_epoch >= cfg.germinate_cooldown
        )
        if (
            signals.plateau_epochs >= cfg.plateau_patience
            and signals.epoch >= cfg.min_epoch_to_germinate
            and live < cfg.max_live_seeds
            and cooled
            and seeds_germinated < max_seeds
        ):
            empty = [i for i in enabled if reports[i] is None]
            if empty:
                out.append(
                    (
                        self._action(empty[0], LifecycleOp.GERMINATE, allowed),
                        f"germinate slot {empty[0]}: plateau {signals.plateau_epochs} epochs",
                    )
                )
        return out


__all__ = ["HeuristicConfig", "HeuristicTamiyo"]
