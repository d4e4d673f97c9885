"""Tolaria's epoch loop: host and seed optimisation, validation and counterfactual contributions.

One host optimiser covers the host parameters; every live seed (GERMINATED..PROBATIONARY) gets its own
optimiser, created when the seed appears and dropped when it is culled or replaced. A fossilized seed's
parameters join the host optimiser (it is then trained as part of the host).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from esper.data.batches import iterate_minibatches
from esper.kasmina.health import HEALTH_SUMS, SeedHealth, params_finite
from esper.kasmina.host import MorphogeneticModel
from esper.leyline import SeedStage
from esper.tolaria.data_protocol import SupervisedData
from esper.tolaria.evaluation import (
    check_same_device,
    counterfactual_contributions,
    flatten_logits,
    model_slots,
    record_epoch_metrics,
    validate,
)
from esper.tolaria.norm_stats import recalibrate_norm_stats
from esper.tolaria.optimizers import TrainerConfig, make_optimizer

#: Stages in which a seed has its own optimiser.
LIVE_SEED_STAGES: frozenset[SeedStage] = frozenset(
    {SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY}
)
_NORM_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class TrainStats:
    """One training epoch: mean loss, accuracy (points), per slot of a live seed with parameters the mean over
    batches of ``||grad seed|| / ||grad host||``, and per slot of a live seed its :class:`SeedHealth`."""

    train_loss: float
    train_accuracy: float
    seed_grad_norm_ratios: dict[str, float] = field(default_factory=dict)
    seed_health: dict[str, SeedHealth] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EpochResult:
    """Everything Tolaria measures in one epoch (before Tamiyo acts and ``step_epoch`` runs)."""

    train: TrainStats
    val_loss: float
    val_accuracy: float
    contributions: dict[str, float]


@dataclass(slots=True)
class _SeedOptimizer:
    seed_id: str
    optimizer: torch.optim.Optimizer
    params: list[nn.Parameter]

    def covers(self, seed_id: str, params: list[nn.Parameter]) -> bool:
        """True when this optimiser belongs to seed ``seed_id`` and holds exactly ``params`` (same objects)."""
        return (
            self.seed_id == seed_id
            and len(self.params) == len(params)
            and all(a is b for a, b in zip(self.params, params, strict=True))
        )


def _grad_norm(params: list[nn.Parameter], device: torch.device) -> torch.Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros((), device=device)
    return torch.nn.utils.get_total_norm(grads, norm_type=2.0)


def train_epoch(
    model: MorphogeneticModel,
    data: SupervisedData,
    host_optimizer: torch.optim.Optimizer,
    seed_optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    *,
    batch_size: int,
    generator: torch.Generator | None = None,
) -> TrainStats:
    """One pass over the training split in shuffled minibatches; steps the host and every seed optimiser.

    ``seed_optimizers`` maps slot ids to the optimiser of that slot's seed; the gradient-norm ratio is
    measured for exactly those slots. The health of every live seed (with or without parameters) is measured
    too. Loss, accuracy, ratios and health are summed on the device and read once.
    """
    seed_optimizers = seed_optimizers or {}
    slots = dict(model_slots(model))
    unknown = sorted(set(seed_optimizers) - set(slots))
    if unknown:
        raise ValueError(f"seed_optimizers names unknown slots {unknown}; valid: {list(model.slot_ids)}")
    x_all, y_all = data.train_x, data.train_y
    if int(x_all.shape[0]) == 0:
        raise ValueError("training split is empty; train_epoch needs at least one sample")
    check_same_device(model, x_all, "training data")
    device = x_all.device
    host_params = [p for p in model.host_parameters() if p.requires_grad]
    seed_ids = list(seed_optimizers)
    seed_params = {sid: [p for p in slots[sid].seed_parameters() if p.requires_grad] for sid in seed_ids}
    optimizers = [host_optimizer, *seed_optimizers.values()]
    live = [sid for sid, slot in slots.items() if slot.state is not None and slot.state.stage in LIVE_SEED_STAGES]
    for sid in live:
        slots[sid].reset_health()

    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    ratio_sums = torch.zeros(len(seed_ids), device=device)
    count = 0
    batches = 0
    for x, y in iterate_minibatches(x_all, y_all, batch_size, generator=generator):
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        logits, targets = flatten_logits(model(x), y)
        loss = F.cross_entropy(logits, targets)
        torch.autograd.backward(loss)
        if seed_ids:
            host_norm = _grad_norm(host_params, device).clamp_min(_NORM_EPS)
            seed_norms = torch.stack([_grad_norm(seed_params[sid], device) for sid in seed_ids])
            ratio_sums += seed_norms / host_norm
        for opt in optimizers:
            opt.step()
        loss_sum += loss.detach() * targets.numel()
        correct += (logits.detach().argmax(dim=-1) == targets).sum()
        count += int(targets.numel())
        batches += 1
    health_parts = [
        torch.cat([slots[sid].health_sums.to(device), params_finite(slots[sid].seed_parameters(), device)[None].double()])
        for sid in live
    ]
    totals = torch.cat(
        [torch.stack([loss_sum.double(), correct.double()]), ratio_sums.double() / batches, *health_parts]
    ).tolist()
    ratios = {sid: totals[2 + i] for i, sid in enumerate(seed_ids)}
    base = 2 + len(seed_ids)
    width = HEALTH_SUMS + 1
    health = {
        sid: SeedHealth.from_sums(
            totals[base + i * width : base + i * width + HEALTH_SUMS], params_finite=totals[base + i * width + HEALTH_SUMS] == 1.0
        )
        for i, sid in enumerate(live)
    }
    return TrainStats(
        train_loss=totals[0] / count,
        train_accuracy=100.0 * totals[1] / count,
        seed_grad_norm_ratios=ratios,
        seed_health=health,
    )


class EpochTrainer:
    """Trains a :class:`MorphogeneticModel` epoch by epoch, keeping seed optimisers in step with the slots.

    ``host_optimizer`` is the object a :class:`~esper.tolaria.governor.TolariaGovernor` snapshots.
    """

    def __init__(self, model: MorphogeneticModel, config: TrainerConfig | None = None) -> None:
        self.model = model
        self.config = config or TrainerConfig()
        self.host_optimizer = make_optimizer(model.host_parameters(), self.config, lr=self.config.host_lr)
        self.seed_optimizers: dict[str, _SeedOptimizer] = {}
        self.generator = torch.Generator().manual_seed(self.config.shuffle_seed)

    def sync_optimizers(self) -> None:
        """Create optimisers for new live seeds, drop those of culled/replaced seeds, and hand fossilized
        seeds' parameters to the host optimiser. Called at the start of every epoch."""
        live: set[str] = set()
        for slot_id, slot in model_slots(self.model):
            state = slot.state
            if state is None:
                continue
            if state.stage in LIVE_SEED_STAGES:
                params = [p for p in slot.seed_parameters() if p.requires_grad]
                if not params:
                    continue  # a zero-parameter seed (noop) has nothing to optimise: no optimiser, no ratio
                live.add(slot_id)
                current = self.seed_optimizers.get(slot_id)
                if current is None or not current.covers(state.seed_id, params):
                    self.seed_optimizers[slot_id] = _SeedOptimizer(
                        seed_id=state.seed_id,
                        optimizer=make_optimizer(
                            params, self.config, lr=self.config.seed_lr, kind=self.config.seed_optimizer
                        ),
                        params=params,
                    )
            elif state.stage == SeedStage.FOSSILIZED:
                in_host = {id(p) for group in self.host_optimizer.param_groups for p in group["params"]}
                new = [p for p in slot.seed_parameters() if id(p) not in in_host]
                if new:
                    self.host_optimizer.add_param_group({"params": new, "lr": self.config.host_lr})
        for slot_id in sorted(set(self.seed_optimizers) - live):
            del self.seed_optimizers[slot_id]

    def recalibrate_if_stale(self, data: SupervisedData) -> bool:
        """Recompute the host's normalisation statistics when a seed whose output reached the host was culled
        since the last call (``SeedSlot.host_stats_stale``), so its distortion does not outlive it
        (DEC.seedhealth.4). Returns True when it recalibrated."""
        stale = [slot for _, slot in model_slots(self.model) if slot.host_stats_stale]
        if not stale:
            return False
        recalibrate_norm_stats(self.model, data.train_x, batch_size=self.config.batch_size)
        for slot in stale:
            slot.host_stats_stale = False
        return True

    def train_epoch(self, data: SupervisedData) -> TrainStats:
        """Sync optimisers, recalibrate stale normalisation statistics, then one training pass
        (see :func:`train_epoch`)."""
        self.sync_optimizers()
        self.recalibrate_if_stale(data)
        return train_epoch(
            self.model,
            data,
            self.host_optimizer,
            {sid: entry.optimizer for sid, entry in self.seed_optimizers.items()},
            batch_size=self.config.batch_size,
            generator=self.generator,
        )

    def validate(self, data: SupervisedData) -> tuple[float, float]:
        """Validation loss and accuracy (points)."""
        return validate(self.model, data, batch_size=self.config.eval_batch_size)

    def run_epoch(self, data: SupervisedData, *, record: bool = True) -> EpochResult:
        """Train, validate, measure counterfactual contributions and (``record``) write them into the seeds'
        metrics. ``step_epoch()`` is left to the caller (after Tamiyo's action)."""
        train = self.train_epoch(data)
        val_loss, val_accuracy = self.validate(data)
        contributions = counterfactual_contributions(
            self.model, data, val_accuracy=val_accuracy, batch_size=self.config.eval_batch_size
        )
        if record:
            record_epoch_metrics(
                self.model, val_accuracy, contributions, train.seed_grad_norm_ratios, train.seed_health
            )
        return EpochResult(train=train, val_loss=val_loss, val_accuracy=val_accuracy, contributions=contributions)


__all__ = [
    "LIVE_SEED_STAGES",
    "EpochResult",
    "EpochTrainer",
    "TrainStats",
    "counterfactual_contributions",
    "record_epoch_metrics",
    "train_epoch",
    "validate",
]
