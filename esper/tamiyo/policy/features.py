"""Tamiyo's observation: 23 base features + 18 features per slot, all finite and bounded.

Per slot (plan Task 13): ``is_active, stage, alpha, improvement, tempo, blueprint one-hot (13)``.
The tempo feature is the seed's real ``blend_tempo_epochs / TEMPO_FEATURE_SCALE`` (plan 13.2).
Layout change: 17 -> 18 features per slot, so 3 slots give 23 + 3*18 = 77 (was 74); checkpoints from the
old layout are incompatible. The full index table lives in ``spec/decisions/tamiyo.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from esper.leyline import NUM_BLUEPRINTS, NUM_SLOTS, BlueprintAction, SeedStage, SeedStateReport, is_active
from esper.leyline.defaults import TEMPO_FEATURE_SCALE
from esper.leyline.validation import check_device, check_int, is_sequence
from esper.tamiyo.signals import HISTORY_LENGTH, TrainingSignals

SLOT_FEATURE_SIZE = 18
"""Features per slot (17 before the tempo feature was added)."""

BASE_FEATURE_SIZE = 23
"""Features describing the host's training state."""

LOSS_LOG_SCALE = math.log1p(100.0)
"""Losses are encoded as ``log1p(loss) / log1p(100)`` clipped to [0, 1]; NaN/+inf -> 1 (worst)."""

STEP_LOG_SCALE = 7.0
"""``global_step`` is encoded as ``log10(1 + step) / 7`` clipped to [0, 1]."""

PARAM_LOG_SCALE = 8.0
"""``total_params`` is encoded as ``log10(1 + params) / 8`` clipped to [0, 1]."""

ACCURACY_DELTA_SCALE = 10.0
"""``accuracy_delta`` is encoded as ``delta / 10`` clipped to [-1, 1]."""

STAGE_SCALE = 10.0
"""Stage feature = ``SeedStage.value / 10``."""


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One observation entry: its name, how it is normalised and its bounds."""

    name: str
    normalisation: str
    low: float
    high: float


def _clip(x: float, low: float, high: float, nan: float) -> float:
    """Clip to [low, high]; NaN -> ``nan``; +/-inf -> the matching bound."""
    if math.isnan(x):
        return nan
    return min(max(x, low), high)


def _fraction(x: float) -> float:
    return _clip(x, 0.0, 1.0, 0.0)


def _loss(x: float) -> float:
    if math.isnan(x) or x == math.inf:
        return 1.0
    return _clip(math.log1p(max(x, 0.0)) / LOSS_LOG_SCALE, 0.0, 1.0, 1.0)


def _accuracy(x: float) -> float:
    return _clip(x / 100.0, 0.0, 1.0, 0.0)


def _log_count(x: float, scale: float) -> float:
    if math.isnan(x) or x <= 0.0:
        return 0.0
    if math.isinf(x):
        return 1.0
    return _clip(math.log10(1.0 + x) / scale, 0.0, 1.0, 0.0)


def _ratio(x: float, denominator: float) -> float:
    return _fraction(x / max(denominator, 1.0))


def _history(values: tuple[float, ...]) -> list[float]:
    """Last ``HISTORY_LENGTH`` values, oldest first, left-padded with the oldest known value (empty -> 0)."""
    recent = list(values[-HISTORY_LENGTH:])
    pad = recent[0] if recent else 0.0
    return [pad] * (HISTORY_LENGTH - len(recent)) + recent


def _base_features(s: TrainingSignals) -> list[float]:
    max_epochs = float(s.max_epochs)
    out = [
        _ratio(float(s.epoch), max_epochs),
        _log_count(float(s.global_step), STEP_LOG_SCALE),
        _loss(float(s.train_loss)),
        _loss(float(s.val_loss)),
        _clip(math.tanh(s.loss_delta) if not math.isnan(s.loss_delta) else 0.0, -1.0, 1.0, 0.0),
        _accuracy(float(s.train_accuracy)),
        _accuracy(float(s.val_accuracy)),
        _clip(float(s.accuracy_delta) / ACCURACY_DELTA_SCALE, -1.0, 1.0, 0.0),
        _ratio(float(s.plateau_epochs), max_epochs),
        _accuracy(float(s.best_val_accuracy)),
        _loss(float(s.best_val_loss)),
    ]
    out += [_loss(float(v)) for v in _history(s.loss_history)]
    out += [_accuracy(float(v)) for v in _history(s.accuracy_history)]
    out += [_log_count(float(s.total_params), PARAM_LOG_SCALE), _fraction(float(s.seed_utilisation))]
    return out


BASE_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("epoch", "epoch / max_epochs, clip [0,1]", 0.0, 1.0),
    FeatureSpec("global_step", "log10(1+step) / 7, clip [0,1]", 0.0, 1.0),
    FeatureSpec("train_loss", "log1p(loss) / log1p(100), clip [0,1]; NaN/+inf -> 1", 0.0, 1.0),
    FeatureSpec("val_loss", "log1p(loss) / log1p(100), clip [0,1]; NaN/+inf -> 1", 0.0, 1.0),
    FeatureSpec("loss_delta", "tanh(prev val_loss - val_loss); NaN -> 0", -1.0, 1.0),
    FeatureSpec("train_accuracy", "acc / 100, clip [0,1]; NaN -> 0", 0.0, 1.0),
    FeatureSpec("val_accuracy", "acc / 100, clip [0,1]; NaN -> 0", 0.0, 1.0),
    FeatureSpec("accuracy_delta", "delta / 10, clip [-1,1]; NaN -> 0", -1.0, 1.0),
    FeatureSpec("plateau_epochs", "plateau / max_epochs, clip [0,1]", 0.0, 1.0),
    FeatureSpec("best_val_accuracy", "acc / 100, clip [0,1]; NaN -> 0", 0.0, 1.0),
    FeatureSpec("best_val_loss", "log1p(loss) / log1p(100), clip [0,1]; NaN/+inf -> 1", 0.0, 1.0),
    *(
        FeatureSpec(f"loss_history[{i}]", "val loss (oldest first, left-padded), log-scaled as val_loss", 0.0, 1.0)
        for i in range(HISTORY_LENGTH)
    ),
    *(
        FeatureSpec(f"accuracy_history[{i}]", "val acc (oldest first, left-padded) / 100, clip [0,1]", 0.0, 1.0)
        for i in range(HISTORY_LENGTH)
    ),
    FeatureSpec("total_params", "log10(1+params) / 8, clip [0,1]", 0.0, 1.0),
    FeatureSpec("seed_utilisation", "occupied slots / slots, clip [0,1]", 0.0, 1.0),
)

SLOT_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("is_active", "1 if the seed's stage is active (GERMINATED..FOSSILIZED) else 0", 0.0, 1.0),
    FeatureSpec("stage", "SeedStage.value / 10", 0.0, 1.0),
    FeatureSpec("alpha", "current alpha, clip [0,1]; NaN -> 0", 0.0, 1.0),
    FeatureSpec("improvement", "improvement_since_stage_start_normalized, clip [-1,1]; NaN -> 0", -1.0, 1.0),
    FeatureSpec("tempo", "blend_tempo_epochs / 12 (real tempo), clip [0,1]", 0.0, 1.0),
    *(FeatureSpec(f"blueprint.{b.blueprint_id}", "one-hot of the seed's blueprint", 0.0, 1.0) for b in BlueprintAction),
)

assert len(BASE_FEATURES) == BASE_FEATURE_SIZE
assert len(SLOT_FEATURES) == SLOT_FEATURE_SIZE == 5 + NUM_BLUEPRINTS


def _check_num_slots(num_slots: int) -> int:
    return check_int("num_slots", num_slots, low=1)


def get_feature_size(num_slots: int = NUM_SLOTS) -> int:
    """Observation length: ``BASE_FEATURE_SIZE + num_slots * SLOT_FEATURE_SIZE`` (77 for 3 slots)."""
    return BASE_FEATURE_SIZE + _check_num_slots(num_slots) * SLOT_FEATURE_SIZE


def feature_specs(num_slots: int = NUM_SLOTS) -> list[FeatureSpec]:
    """One :class:`FeatureSpec` per observation index; slot features are prefixed ``slot{i}.``."""
    specs = list(BASE_FEATURES)
    for i in range(_check_num_slots(num_slots)):
        specs += [FeatureSpec(f"slot{i}.{f.name}", f.normalisation, f.low, f.high) for f in SLOT_FEATURES]
    return specs


def observation_layout(num_slots: int = NUM_SLOTS) -> list[str]:
    """Name of every observation index, e.g. ``"val_loss"`` or ``"slot1.tempo"``."""
    return [f.name for f in feature_specs(num_slots)]


def feature_bounds(num_slots: int = NUM_SLOTS, *, device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Declared ``(low, high)`` float32 bounds of every observation index."""
    specs = feature_specs(num_slots)
    low = torch.tensor([f.low for f in specs], dtype=torch.float32, device=device)
    high = torch.tensor([f.high for f in specs], dtype=torch.float32, device=device)
    return low, high


def _slot_features(report: SeedStateReport | None) -> list[float]:
    """Features of one slot; an empty slot (``None``) is all zeros."""
    if report is None:
        return [0.0] * SLOT_FEATURE_SIZE
    if not isinstance(report, SeedStateReport):
        raise TypeError(f"slot_reports entries must be SeedStateReport or None, got {type(report).__name__}")
    stage = SeedStage(report.stage)
    one_hot = [0.0] * NUM_BLUEPRINTS
    one_hot[report.blueprint.value] = 1.0
    metrics = report.metrics
    return [
        1.0 if is_active(stage) else 0.0,
        _fraction(stage.value / STAGE_SCALE),
        _fraction(float(metrics.current_alpha)),
        _clip(float(metrics.improvement_since_stage_start_normalized), -1.0, 1.0, 0.0),
        _fraction(float(report.blend_tempo_epochs) / TEMPO_FEATURE_SCALE),
        *one_hot,
    ]


def observation_values(signals: TrainingSignals, slot_reports: Sequence[SeedStateReport | None]) -> list[float]:
    """The observation as a Python list (see :func:`build_observation`)."""
    if not isinstance(signals, TrainingSignals):
        raise TypeError(f"signals must be TrainingSignals, got {type(signals).__name__}")
    if not is_sequence(slot_reports):
        raise TypeError(f"slot_reports must be a sequence of SeedStateReport | None, got {type(slot_reports).__name__}")
    _check_num_slots(len(slot_reports))
    values = _base_features(signals)
    for report in slot_reports:
        values += _slot_features(report)
    return values


def build_observation(
    signals: TrainingSignals,
    slot_reports: Sequence[SeedStateReport | None],
    *,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Float32 1-D observation of length ``get_feature_size(len(slot_reports))``."""
    device = check_device("device", device, available=True)
    return torch.tensor(observation_values(signals, slot_reports), dtype=torch.float32, device=device)


def build_observations(
    items: Sequence[tuple[TrainingSignals, Sequence[SeedStateReport | None]]],
    *,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Batched observations ``(N, D)`` for ``(signals, slot_reports)`` pairs with the same slot count."""
    device = check_device("device", device, available=True)
    if not is_sequence(items):
        raise TypeError(f"items must be a list of (signals, slot_reports) pairs, got {type(items).__name__}")
    if not items:
        raise ValueError("items must hold at least one (signals, slot_reports) pair")
    rows = [observation_values(signals, reports) for signals, reports in items]
    lengths = sorted({len(r) for r in rows})
    if len(lengths) != 1:
        slot_counts = sorted({len(reports) for _, reports in items})
        raise ValueError(f"items must all have the same number of slots, got slot counts {slot_counts}")
    return torch.tensor(rows, dtype=torch.float32, device=device)


__all__ = [
    "BASE_FEATURES",
    "BASE_FEATURE_SIZE",
    "SLOT_FEATURES",
    "SLOT_FEATURE_SIZE",
    "FeatureSpec",
    "build_observation",
    "build_observations",
    "feature_bounds",
    "feature_specs",
    "get_feature_size",
    "observation_layout",
    "observation_values",
]
