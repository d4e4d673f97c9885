"""What the training loop knows about one env step, as needed by the reward."""

from __future__ import annotations

from dataclasses import dataclass

from esper.leyline import LifecycleOp, SeedStateReport
from esper.leyline.validation import MAX_COUNT, check_float, check_int


MAX_SEED_COUNT = 1_000_000
"""Upper bound of the per-step seed counts (``auto_culls``, ``contributing_fossilized``): a host has a handful of
slots, and any count up to this keeps every reward component finite and within ``REWARD_COMPONENT_LIMIT``, so a
larger count is refused here, naming the argument, not later as an out-of-range component (issue 13)."""


@dataclass(frozen=True, slots=True)
class RewardInputs:
    """One env step as seen by the reward. Built by the training loop after ``step_epoch()``.

    ``slots_before``/``slots_after`` are the reports of *every* slot (slot order) at the start and at the end
    of the step; the shaping potential sums over all of them, so a slot whose stage changes while the policy
    acts elsewhere is still accounted for. Pass the previous step's ``slots_after`` as the next step's
    ``slots_before`` (the same snapshot), so the potential telescopes across steps.
    """

    op: LifecycleOp
    """The op the policy chose."""
    executed: bool
    """False when the chosen op could not be executed for the chosen slot and ran as WAIT."""
    slot_idx: int | None
    """The acted-on slot (the slot head's choice); ``None`` when no slot applies."""
    slots_before: tuple[SeedStateReport | None, ...]
    slots_after: tuple[SeedStateReport | None, ...]
    seed_contribution: float | None
    """Counterfactual contribution (accuracy points) of the seed in the acted-on slot, if measured this epoch."""
    seed_params: int
    """Parameters of all seeds in the model (live and fossilized)."""
    host_params: int
    auto_culls: int = 0
    """Seeds the lifecycle culled on its own this epoch (sum of ``step_epoch()`` flags)."""
    governor_rollback: bool = False
    """The governor rolled the host back because of this step."""
    val_accuracy_delta: float = 0.0
    """Change of validation accuracy (points) over this epoch."""
    is_terminal: bool = False
    """Last step of the episode."""
    final_val_accuracy: float | None = None
    """Final validation accuracy (points, 0-100); required when ``is_terminal``."""
    contributing_fossilized: int = 0
    """Fossilized seeds whose contribution is >= ``G5_MIN_CONTRIBUTION`` (used when ``is_terminal``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.op, LifecycleOp):
            raise TypeError(f"op must be a LifecycleOp ({[o.name for o in LifecycleOp]}), got {self.op!r}")
        for name in ("executed", "governor_rollback", "is_terminal"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if not self.executed and self.op == LifecycleOp.WAIT:
            raise ValueError("executed=False needs a non-WAIT op (WAIT always executes)")
        for name in ("slots_before", "slots_after"):
            slots = getattr(self, name)
            if not isinstance(slots, tuple) or not slots:
                raise TypeError(f"{name} must be a non-empty tuple of SeedStateReport | None, got {slots!r}")
            for report in slots:
                if report is not None and not isinstance(report, SeedStateReport):
                    raise TypeError(f"{name} entries must be SeedStateReport | None, got {type(report).__name__}")
        if len(self.slots_before) != len(self.slots_after):
            raise ValueError(
                f"slots_before and slots_after must have the same length, got "
                f"{len(self.slots_before)} and {len(self.slots_after)}"
            )
        if self.slot_idx is not None:
            check_int("slot_idx", self.slot_idx, low=0)
            if self.slot_idx >= len(self.slots_before):
                raise ValueError(f"slot_idx must be None or in [0, {len(self.slots_before) - 1}], got {self.slot_idx}")
        if self.seed_contribution is not None:
            check_float("seed_contribution", self.seed_contribution)
        check_int("seed_params", self.seed_params, low=0, high=MAX_COUNT)
        check_int("host_params", self.host_params, low=1, high=MAX_COUNT)
        check_int("auto_culls", self.auto_culls, low=0, high=MAX_SEED_COUNT)
        check_int("contributing_fossilized", self.contributing_fossilized, low=0, high=MAX_SEED_COUNT)
        check_float("val_accuracy_delta", self.val_accuracy_delta, low=-100.0, high=100.0)
        if self.is_terminal and self.final_val_accuracy is None:
            raise ValueError("final_val_accuracy is required when is_terminal=True (accuracy points in [0, 100])")
        if self.final_val_accuracy is not None:
            check_float("final_val_accuracy", self.final_val_accuracy, low=0.0, high=100.0)

    @property
    def acted_before(self) -> SeedStateReport | None:
        """The acted-on slot's report at the start of the step (``None``: empty or no slot)."""
        return None if self.slot_idx is None else self.slots_before[self.slot_idx]

    @property
    def acted_after(self) -> SeedStateReport | None:
        """The acted-on slot's report at the end of the step."""
        return None if self.slot_idx is None else self.slots_after[self.slot_idx]

    @property
    def executed_op(self) -> LifecycleOp:
        """The op that actually ran: the chosen op, or WAIT when it was rejected."""
        return self.op if self.executed else LifecycleOp.WAIT


__all__ = ["RewardInputs"]
