"""Validation, counterfactual contributions of blended seeds, and recording both into seed metrics."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from esper.kasmina.health import SeedHealth
from esper.kasmina.host import MorphogeneticModel
from esper.kasmina.slot import SeedSlot
from esper.leyline import SeedStage, is_active
from esper.tolaria.data_protocol import SupervisedData
from esper.tolaria.optimizers import DEFAULT_EVAL_BATCH_SIZE

#: Stages whose seeds get a counterfactual validation (alpha forced to 0).
COUNTERFACTUAL_STAGES: frozenset[SeedStage] = frozenset({SeedStage.BLENDING, SeedStage.PROBATIONARY})


def model_slots(model: MorphogeneticModel) -> list[tuple[str, SeedSlot]]:
    """``(slot_id, slot)`` pairs in slot order."""
    return [(slot.slot_id, slot) for slot in model.seed_slots]


def check_same_device(model: MorphogeneticModel, x: torch.Tensor, what: str) -> None:
    """Raise ``ValueError`` when ``x`` is not on the device of the model's host parameters."""
    param = next(iter(model.host.parameters()), None)
    if param is not None and param.device != x.device:
        raise ValueError(f"{what} is on {x.device} but the model is on {param.device}; load the task with device=...")


def flatten_logits(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C) logits and (N,) targets: transformer outputs (B, T, V) and targets (B, T) are flattened."""
    if logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits shape {tuple(logits.shape)} does not match targets shape {tuple(targets.shape)} "
            "(expected logits = targets shape + (num_classes,))"
        )
    return logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)


def validate(
    model: MorphogeneticModel, data: SupervisedData, *, batch_size: int = DEFAULT_EVAL_BATCH_SIZE
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (points, 0-100) on the validation split, in eval mode.

    Sums stay on the device; one host read at the end. The model's train/eval mode is restored.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x_all, y_all = data.val_x, data.val_y
    check_same_device(model, x_all, "validation data")
    n = int(x_all.shape[0])
    if n == 0:
        raise ValueError("validation split is empty; validate needs at least one sample")
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x_all.device)
    correct = torch.zeros((), dtype=torch.int64, device=x_all.device)
    count = 0
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                logits, y = flatten_logits(model(x_all[start : start + batch_size]), y_all[start : start + batch_size])
                loss_sum += F.cross_entropy(logits, y, reduction="sum")
                correct += (logits.argmax(dim=-1) == y).sum()
                count += int(y.numel())
    finally:
        model.train(was_training)
    total_loss, total_correct = torch.stack([loss_sum.double(), correct.double()]).tolist()
    return total_loss / count, 100.0 * int(round(total_correct)) / count


def counterfactual_contributions(
    model: MorphogeneticModel,
    data: SupervisedData,
    *,
    val_accuracy: float | None = None,
    batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict[str, float]:
    """Contribution (points) of every BLENDING/PROBATIONARY seed: accuracy with it minus accuracy with its
    slot's alpha forced to 0 (one slot at a time). ``val_accuracy`` reuses an accuracy already measured."""
    candidates = [
        (slot_id, slot)
        for slot_id, slot in model_slots(model)
        if slot.state is not None and slot.state.stage in COUNTERFACTUAL_STAGES
    ]
    if not candidates:
        return {}
    acc_with = validate(model, data, batch_size=batch_size)[1] if val_accuracy is None else val_accuracy
    contributions: dict[str, float] = {}
    for slot_id, slot in candidates:
        with slot.force_alpha_zero():
            acc_without = validate(model, data, batch_size=batch_size)[1]
        contributions[slot_id] = acc_with - acc_without
    return contributions


def record_epoch_metrics(
    model: MorphogeneticModel,
    val_accuracy: float,
    contributions: Mapping[str, float] | None = None,
    grad_norm_ratios: Mapping[str, float] | None = None,
    health: Mapping[str, SeedHealth] | None = None,
) -> None:
    """Write this epoch's measurements into the metrics of every slot holding an active seed.

    Every active seed records ``val_accuracy``; seeds listed in ``contributions`` / ``grad_norm_ratios`` get
    their counterfactual contribution / seed gradient-norm ratio, seeds in ``health`` their health. Call before
    ``step_epoch()``.
    """
    contributions = contributions or {}
    grad_norm_ratios = grad_norm_ratios or {}
    health = health or {}
    known = set(model.slot_ids)
    mappings: tuple[tuple[str, Mapping[str, object]], ...] = (
        ("contributions", contributions), ("grad_norm_ratios", grad_norm_ratios), ("health", health)
    )
    for name, mapping in mappings:
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(f"{name} names unknown slots {unknown}; valid: {list(model.slot_ids)}")
    for slot_id, slot in model_slots(model):
        state = slot.state
        if state is None or not is_active(state.stage):
            continue
        state.metrics.record_accuracy(val_accuracy)
        if slot_id in contributions:
            state.metrics.record_counterfactual(contributions[slot_id])
        if slot_id in grad_norm_ratios:
            state.metrics.seed_gradient_norm_ratio = float(grad_norm_ratios[slot_id])
        if slot_id in health:
            state.metrics.record_health(health[slot_id])


__all__ = [
    "COUNTERFACTUAL_STAGES",
    "counterfactual_contributions",
    "check_same_device",
    "flatten_logits",
    "model_slots",
    "record_epoch_metrics",
    "validate",
]
