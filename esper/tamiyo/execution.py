"""Mask <-> execution parity: can a factored action execute on the slot it names?

The op mask is computed per state ("some enabled slot allows it"), but an action names one slot. The
training loop asks :func:`check_executable` before executing; a non-executable action is executed as WAIT
(see :func:`executed_action`) and rewarded as WAIT, with :attr:`ExecutionCheck.reason` reported.

Works from ``Sequence[SeedStateReport | None]`` (no model needed) or from any object with
``slot_reports()`` and ``topology`` (e.g. ``MorphogeneticModel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from esper.leyline import FactoredAction, LifecycleOp, SeedStage, SeedStateReport, check_topology
from esper.leyline.defaults import DEFAULT_MAX_SEEDS, G5_MIN_CONTRIBUTION
from esper.leyline.validation import check_int, is_sequence
from esper.tamiyo.policy.action_masks import resolve_enabled_slots, topology_blueprints


@runtime_checkable
class SlotReporter(Protocol):
    """Anything that reports its slots and topology (``MorphogeneticModel`` does)."""

    @property
    def topology(self) -> str: ...

    def slot_reports(self) -> list[SeedStateReport | None]: ...


@dataclass(frozen=True, slots=True)
class ExecutionCheck:
    """Verdict on one action: ``executable`` and a human-readable ``reason``."""

    executable: bool
    reason: str
    gate_pending: bool = False
    """True for FOSSILIZE: Kasmina still checks gate G5 at execution and may refuse."""


def _resolve(
    model_or_reports: SlotReporter | Sequence[SeedStateReport | None], topology: str | None
) -> tuple[list[SeedStateReport | None], str]:
    if isinstance(model_or_reports, SlotReporter):
        model_topology = model_or_reports.topology
        if topology is not None and topology != model_topology:
            raise ValueError(f"topology {topology!r} disagrees with the model's topology {model_topology!r}")
        return list(model_or_reports.slot_reports()), check_topology(model_topology)
    if not is_sequence(model_or_reports):
        raise TypeError(
            "model_or_reports must be a model with slot_reports()/topology or a sequence of "
            f"SeedStateReport | None, got {type(model_or_reports).__name__}"
        )
    reports = list(model_or_reports)
    for i, report in enumerate(reports):
        if report is not None and not isinstance(report, SeedStateReport):
            raise TypeError(f"model_or_reports[{i}] must be SeedStateReport or None, got {type(report).__name__}")
    return reports, check_topology("cnn" if topology is None else topology)


def check_executable(
    model_or_reports: SlotReporter | Sequence[SeedStateReport | None],
    action: FactoredAction,
    *,
    seeds_germinated: int,
    max_seeds: int = DEFAULT_MAX_SEEDS,
    enabled_slots: Sequence[int] | None = None,
    topology: str | None = None,
) -> ExecutionCheck:
    """Decide whether ``action`` can execute on the slot it names.

    WAIT always executes. GERMINATE needs an empty enabled slot, ``seeds_germinated < max_seeds`` and a
    non-NOOP blueprint of the topology. CULL needs a seed with ``can_cull``. FOSSILIZE needs a PROBATIONARY
    seed (then ``gate_pending`` is True: Kasmina checks G5 at execution). ``topology`` defaults to the model's
    topology, or ``"cnn"`` for plain reports.
    """
    if not isinstance(action, FactoredAction):
        raise TypeError(f"action must be a FactoredAction, got {type(action).__name__}")
    check_int("seeds_germinated", seeds_germinated, low=0)
    check_int("max_seeds", max_seeds, low=0)
    reports, topo = _resolve(model_or_reports, topology)
    if not reports:
        raise ValueError("model_or_reports must describe at least one slot")
    enabled = resolve_enabled_slots(len(reports), enabled_slots)
    op = action.op
    if op == LifecycleOp.WAIT:
        return ExecutionCheck(True, "WAIT always executes")
    slot = action.slot_idx
    if slot >= len(reports):
        return ExecutionCheck(False, f"{op.name}: slot {slot} does not exist (slots 0..{len(reports) - 1})")
    if slot not in enabled:
        return ExecutionCheck(False, f"{op.name}: slot {slot} is not enabled (enabled: {list(enabled)})")
    report = reports[slot]
    if op == LifecycleOp.GERMINATE:
        return _check_germinate(report, action, slot, seeds_germinated, max_seeds, topo)
    if report is None:
        return ExecutionCheck(False, f"{op.name}: slot {slot} is empty")
    if op == LifecycleOp.CULL:
        if report.can_cull:
            return ExecutionCheck(True, f"CULL: seed {report.seed_id!r} in {report.stage.name} can be culled")
        return ExecutionCheck(
            False,
            f"CULL: seed {report.seed_id!r} in {report.stage.name} (age {report.metrics.epochs_total}) cannot be culled",
        )
    if report.stage != SeedStage.PROBATIONARY:
        return ExecutionCheck(False, f"FOSSILIZE: seed {report.seed_id!r} is {report.stage.name}, not PROBATIONARY")
    contribution = report.metrics.counterfactual_contribution
    return ExecutionCheck(
        True,
        f"FOSSILIZE: seed {report.seed_id!r} is PROBATIONARY; gate G5 (contribution >= {G5_MIN_CONTRIBUTION}, "
        f"now {contribution}) is checked at execution and may fail",
        gate_pending=True,
    )


def _check_germinate(
    report: SeedStateReport | None,
    action: FactoredAction,
    slot: int,
    seeds_germinated: int,
    max_seeds: int,
    topology: str,
) -> ExecutionCheck:
    if report is not None:
        return ExecutionCheck(False, f"GERMINATE: slot {slot} is occupied ({report.stage.name})")
    if seeds_germinated >= max_seeds:
        return ExecutionCheck(False, f"GERMINATE: seed budget spent ({seeds_germinated}/{max_seeds})")
    allowed = topology_blueprints(topology)
    if action.blueprint not in allowed:
        valid = [b.blueprint_id for b in allowed]
        return ExecutionCheck(
            False, f"GERMINATE: blueprint {action.blueprint_id!r} is not valid for {topology!r}; valid: {valid}"
        )
    return ExecutionCheck(True, f"GERMINATE: {action.blueprint_id!r} into empty slot {slot}")


def executed_action(action: FactoredAction, check: ExecutionCheck) -> FactoredAction:
    """The action the loop actually executes: ``action`` itself, or the same heads with op WAIT."""
    return action if check.executable else replace(action, op=LifecycleOp.WAIT)


__all__ = ["ExecutionCheck", "SlotReporter", "check_executable", "executed_action"]
