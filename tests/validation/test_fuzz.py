"""Hypothesis fuzz suite over Esper's public constructors and entry points (issue 13 deliverable).

Every target starts from a valid call and replaces ONE argument by a value drawn from a zoo of awkward values
(huge ints, NaN/inf, subnormals, bools, enums, numpy scalars, tensors, strings, look-alikes, None, containers)
mixed with the argument's own boundary values. Each argument carries a predicate: its documented domain. Property:

- a value inside the domain works, and every float output is finite;
- a value outside it raises ``TypeError`` or ``ValueError`` whose message names the argument;
- nothing else ever escapes (no ``OverflowError``, ``AttributeError``, ``RuntimeError``, ...).

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` runs 50 examples per target, ``thorough`` 500 (over 10,000 in all).
``ESPER_FUZZ_REPORT=<dir>`` writes the outcome counts of each process to ``<dir>/fuzz-<pid>.json``.
"""

from __future__ import annotations

import atexit
import json
import math
import operator
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esper.data import task_names
from esper.kasmina import QualityGates, SeedSlot, TaskConfig
from esper.kasmina.blending import alpha_at_step, ramp_alpha
from esper.leyline import (
    BLEND_ALGORITHM_IDS,
    HEAD_NAMES,
    HEAD_SIZES,
    TOPOLOGIES,
    BlueprintAction,
    FactoredAction,
    LifecycleOp,
    SeedMetricsReport,
    SeedStage,
    SeedStateReport,
    TelemetryEvent,
    TelemetryEventType,
    TempoAction,
    check_topology,
    head_sizes,
)
from esper.leyline.validation import MAX_COUNT
from esper.simic.rewards.inputs import MAX_SEED_COUNT
from esper.simic.agent import PPOConfig, TamiyoRolloutBuffer
from esper.simic.agent.network import MAX_ABS_OBS, FactoredRecurrentActorCritic
from esper.simic.agent.normalizer import RunningMeanStd
from esper.simic.agent.ppo import MAX_LR, MIN_ADAM_EPS
from esper.simic.rewards import RewardConfig, RewardInputs, compute_reward
from esper.simic.rewards.config import REWARD_COEFFICIENT_LIMIT, REWARD_MODES
from esper.simic.training.config import MAX_SEED, POLICIES, TrainingConfig
from esper.tamiyo.policy.action_masks import compute_action_masks, compute_batch_masks
from esper.tamiyo.policy.features import build_observation, get_feature_size
from esper.tamiyo.signals import SignalTracker, TrainingSignals

pytestmark = pytest.mark.req("ISSUE.13.68", "ISSUE.14.50", "DEC.validation.1")

OUTCOMES: Counter[str] = Counter()


def _write_report() -> None:
    folder = os.environ.get("ESPER_FUZZ_REPORT")
    if folder and OUTCOMES:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"fuzz-{os.getpid()}.json").write_text(json.dumps(dict(OUTCOMES), sort_keys=True))


atexit.register(_write_report)

# --- the value zoo --------------------------------------------------------------------------------------------------

ZOO = st.one_of(
    st.integers(-3, 12),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63, 2**63 - 1, 2**64, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, 1e-320, 0.0, -0.0, 1.0, 0.5, 1e-12]),
    st.booleans(),
    st.none(),
    st.text(max_size=4),
    st.sampled_from(["0.1", "1", "cpu", "meta", "bogus", "cuda:7", "NORM", "norm", "\u0131", "cnn", "linear", "STANDARD"]),
    st.lists(st.integers(-1, 3), max_size=3),
    st.sampled_from([TempoAction.SLOW, LifecycleOp.GERMINATE, SeedStage.TRAINING, BlueprintAction.NORM]),
    st.sampled_from([np.int64(3), np.int32(-1), np.float32(0.5), np.float64(math.nan), np.bool_(True)]),
    st.sampled_from([torch.tensor(1), torch.tensor(True), torch.tensor(0.5), torch.tensor([1, 2])]),
    st.just({}),
    st.just(()),
)


# --- domain predicates ----------------------------------------------------------------------------------------------


def is_int(v: object, low: int | None = None, high: int | None = None) -> bool:
    import enum
    import numbers

    if isinstance(v, (bool, enum.Enum)) or not isinstance(v, numbers.Integral):
        return False
    return (low is None or int(v) >= low) and (high is None or int(v) <= high)


def is_float(v: object, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
             finite: bool = True) -> bool:
    import enum
    import numbers

    if isinstance(v, (bool, enum.Enum)) or not isinstance(v, numbers.Real):
        return False
    try:
        f = float(v)
    except OverflowError:
        return False
    if math.isnan(f):
        return not finite
    if finite and math.isinf(f):
        return False
    return (f > low if low_open else f >= low) and f <= high


def is_str(v: object, allowed: Any = None) -> bool:
    return isinstance(v, str) and (allowed is None or v in allowed)


def is_device(v: object, *, available: bool) -> bool:
    if isinstance(v, torch.device):
        d = v
    elif isinstance(v, str):
        try:
            d = torch.device(v)
        except RuntimeError:
            return False
    else:
        return False
    if not available:
        return True
    if d.type == "cuda":
        return torch.cuda.is_available() and (d.index is None or d.index < torch.cuda.device_count())
    return d.type in ("cpu", "meta") or (d.type == "mps" and torch.backends.mps.is_available())


def is_index(v: object, size: int) -> bool:
    if isinstance(v, torch.Tensor) and (v.dim() != 0 or v.dtype == torch.bool or v.is_floating_point()):
        return False
    if isinstance(v, (bool, np.bool_)):
        return False
    try:
        i = operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        return False
    return 0 <= i < size


Pred = Callable[[object], bool]


@dataclass(frozen=True)
class Target:
    """One public entry point: ``call(**base)`` works; ``domains[arg]`` says which values of ``arg`` are valid."""

    name: str
    call: Callable[..., object]
    base: Callable[[], dict[str, object]]
    domains: Mapping[str, Pred]
    boundary: Mapping[str, list[object]]
    aliases: Mapping[str, str] | None = None

    def mention(self, arg: str) -> str:
        return (self.aliases or {}).get(arg, arg)


def _finite_outputs(result: object) -> None:
    """Every float in the result is finite (tensors, floats, dataclasses, dicts, tuples)."""
    if isinstance(result, torch.Tensor):
        if result.is_floating_point() and result.device.type != "meta":
            assert bool(torch.isfinite(result).all()), "non-finite tensor output from a valid input"
    elif isinstance(result, float):
        assert math.isfinite(result), f"non-finite output {result} from a valid input"
    elif isinstance(result, dict):
        for value in result.values():
            _finite_outputs(value)
    elif isinstance(result, (tuple, list)):
        for value in result:
            _finite_outputs(value)


def _reward_call(**kw: Any) -> float:
    return compute_reward(RewardInputs(**kw)).total


def _batch(**over: Any) -> dict[str, object]:
    masks = {name: torch.ones(2, n, dtype=torch.bool) for name, n in HEAD_SIZES.items()}
    args: dict[str, object] = {
        "obs": torch.zeros(2, 4), "actions": {n: torch.zeros(2, dtype=torch.long) for n in HEAD_NAMES},
        "log_probs": {n: torch.full((2,), -1.0) for n in HEAD_NAMES}, "masks": masks,
        "values": torch.zeros(2), "rewards": torch.zeros(2), "dones": torch.zeros(2, dtype=torch.bool),
        "truncated": torch.zeros(2, dtype=torch.bool), "hidden": (torch.zeros(2, 3), torch.zeros(2, 3)),
    }
    args.update(over)
    return args


def _add_batch(**kw: Any) -> None:
    TamiyoRolloutBuffer(2, 2, 4, HEAD_SIZES, 3).add_batch(**kw)


_NET = FactoredRecurrentActorCritic(4, hidden_dim=8)


def _get_action(obs: object) -> object:
    return _NET.get_action(obs)  # type: ignore[arg-type]


def _normalizer_update(x: object) -> object:
    norm = RunningMeanStd(4)
    norm.update(x)  # type: ignore[arg-type]
    return norm.normalize(torch.zeros(1, 4)), norm.mean


def _float_tensor(shape: tuple[int, ...], finite_bound: float = math.inf) -> Pred:
    def pred(v: object) -> bool:
        return (isinstance(v, torch.Tensor) and v.is_floating_point() and tuple(v.shape) == shape
                and bool(torch.isfinite(v).all()) and bool((v.abs() <= finite_bound).all()))
    return pred


TENSORS = st.one_of(
    st.builds(lambda s, v: torch.full(s, v), st.sampled_from([(2,), (3,), (2, 4), (1, 4), (2, 5), (0, 4)]),
              st.sampled_from([0.0, 1.0, -2.5, math.nan, math.inf, 1e30, 1e6])),
    st.sampled_from([torch.zeros(2, dtype=torch.long), torch.zeros(2, 4, dtype=torch.float64),
                     torch.zeros(2, dtype=torch.bool), torch.zeros(2, 4, dtype=torch.float16), torch.zeros(2, 1, 4)]),
)

_PPO_FLOATS = {
    "gamma": lambda v: is_float(v, 0.0, 1.0), "gae_lambda": lambda v: is_float(v, 0.0, 1.0),
    "clip_ratio": lambda v: is_float(v, 0.0, low_open=True), "lr": lambda v: is_float(v, 0.0, MAX_LR, low_open=True),
    "adam_eps": lambda v: is_float(v, MIN_ADAM_EPS, 1.0), "max_grad_norm": lambda v: is_float(v, 0.0, low_open=True),
    "value_coef": lambda v: is_float(v, 0.0), "entropy_coef": lambda v: is_float(v, 0.0),
    "entropy_floor": lambda v: is_float(v, 0.0), "entropy_floor_coef": lambda v: is_float(v, 0.0),
    "ppo_epochs": lambda v: is_int(v, 1, MAX_COUNT), "n_minibatches": lambda v: is_int(v, 1, MAX_COUNT),
    "target_kl": lambda v: v is None or is_float(v, 0.0, low_open=True),
    "value_clip": lambda v: v is None or is_float(v, 0.0, low_open=True),
    "normalize_advantages": lambda v: isinstance(v, bool),
}

_SIGNAL_DOMAINS: dict[str, Pred] = {
    "epoch": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT), "max_epochs": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT),
    "global_step": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT), "plateau_epochs": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT),
    "total_params": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT), "host_params": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT),
    **{k: (lambda v: is_float(v, finite=False)) for k in ("train_loss", "val_loss", "loss_delta", "train_accuracy",
                                                          "val_accuracy", "accuracy_delta", "best_val_accuracy")},
    "seed_utilisation": lambda v: is_float(v, finite=False), "host_stabilized": lambda v: isinstance(v, bool),
}


def _signals_observation(**kw: Any) -> object:
    return build_observation(TrainingSignals(**kw), [None] * 3)


TARGETS = [
    Target("PPOConfig", PPOConfig, dict, _PPO_FLOATS, {"lr": [1.0, 1.0000001, MIN_ADAM_EPS], "adam_eps": [MIN_ADAM_EPS / 2]}),
    Target("PPOConfig.from_dict", lambda **kw: PPOConfig.from_dict(kw), dict, _PPO_FLOATS, {}),
    Target(
        "TrainingConfig", TrainingConfig, dict,
        {"policy": lambda v: is_str(v, POLICIES), "task": lambda v: is_str(v, task_names()),
         "episodes": lambda v: is_int(v, 1, MAX_COUNT), "n_envs": lambda v: is_int(v, 2, MAX_COUNT),
         "max_epochs": lambda v: is_int(v, 1, MAX_COUNT), "seed": lambda v: is_int(v, 0, MAX_SEED),
         "device": lambda v: isinstance(v, str) and is_device(v, available=False),
         "data_dir": lambda v: v is None or isinstance(v, str),
         "force_tempo": lambda v: v is None or is_str(v, list(TempoAction.__members__)),
         "reward_mode": lambda v: is_str(v, REWARD_MODES), "lr": lambda v: is_float(v, 0.0, MAX_LR, low_open=True),
         "entropy_coef": lambda v: is_float(v, 0.0), "hidden_dim": lambda v: is_int(v, 1, MAX_COUNT),
         "tensorboard": lambda v: isinstance(v, bool), "checkpoint_every": lambda v: is_int(v, 1, MAX_COUNT),
         "n_minibatches": lambda v: is_int(v, 1, TrainingConfig().n_envs)},
        {"task": ["digits_blind", "DIGITS"], "force_tempo": ["SLOW", "slow"]},
    ),
    Target(
        "RewardConfig", RewardConfig, dict,
        {"mode": lambda v: is_str(v, REWARD_MODES), "gamma": lambda v: is_float(v, 0.0, 1.0, low_open=True),
         "contribution_weight": lambda v: is_float(v, 0.0, REWARD_COEFFICIENT_LIMIT),
         "terminal_accuracy_weight": lambda v: is_float(v, 0.0, REWARD_COEFFICIENT_LIMIT),
         "governor_penalty": lambda v: is_float(v, 0.0, REWARD_COEFFICIENT_LIMIT)},
        {"contribution_weight": [REWARD_COEFFICIENT_LIMIT, REWARD_COEFFICIENT_LIMIT * 2]},
    ),
    Target(
        "QualityGates", QualityGates, dict,
        {"g2_min_improvement": lambda v: is_float(v, -100.0, 100.0), "g2_min_epochs": lambda v: is_int(v, 0, MAX_COUNT),
         "g2_min_grad_ratio": lambda v: is_float(v, 0.0), "g3_min_epochs": lambda v: is_int(v, 0, MAX_COUNT),
         "g3_min_alpha": lambda v: is_float(v, 0.0, 1.0), "g5_min_contribution": lambda v: is_float(v, -100.0, 100.0)},
        {"g3_min_alpha": [2.0, 1.0, 0.0]},
    ),
    Target(
        "TaskConfig", TaskConfig, dict,
        {"topology": lambda v: is_str(v, TOPOLOGIES), "blending_steps": lambda v: is_int(v, 1),
         "max_epochs": lambda v: is_int(v, 1)},
        {},
    ),
    Target("TrainingSignals+observation", _signals_observation, dict, _SIGNAL_DOMAINS, {"total_params": [10**400, 2**63 - 1]}),
    Target(
        "SignalTracker.update", lambda **kw: SignalTracker().update(**kw),
        lambda: {"epoch": 1, "train_loss": 1.0, "val_loss": 1.0, "train_accuracy": 50.0, "val_accuracy": 50.0},
        {"epoch": lambda v: is_int(v, 0, MAX_COUNT), "train_loss": lambda v: is_float(v, finite=False),
         "val_accuracy": lambda v: is_float(v, finite=False), "total_params": lambda v: is_int(v, 0, MAX_COUNT),
         "num_slots": lambda v: is_int(v, 1, MAX_COUNT), "global_step": lambda v: v is None or is_int(v, 0, MAX_COUNT)},
        {},
    ),
    Target(
        "SeedStateReport", SeedStateReport,
        lambda: {"slot_id": "r0c0", "seed_id": "s", "blueprint_id": "norm", "stage": SeedStage.TRAINING},
        {"slot_id": lambda v: isinstance(v, str), "blueprint_id": lambda v: isinstance(v, str),
         "stage": lambda v: isinstance(v, SeedStage), "blend_algorithm_id": lambda v: is_str(v, BLEND_ALGORITHM_IDS),
         "blend_tempo_epochs": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT),
         "blending_steps_done": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT),
         "metrics": lambda v: isinstance(v, SeedMetricsReport)},
        {"blueprint_id": ["NORM", "n\u200borm", "conv_heavy"]},
    ),
    Target(
        "SeedMetricsReport", SeedMetricsReport, dict,
        {"epochs_total": lambda v: is_int(v, -MAX_COUNT, MAX_COUNT), "current_alpha": lambda v: is_float(v, finite=False),
         "current_val_accuracy": lambda v: is_float(v, finite=False),
         "counterfactual_contribution": lambda v: v is None or is_float(v, finite=False),
         "improvement_since_stage_start_normalized": lambda v: is_float(v, finite=False)},
        {},
    ),
    Target(
        "TelemetryEvent", TelemetryEvent, lambda: {"event_type": TelemetryEventType.EPOCH_COMPLETED},
        {"epoch": lambda v: v is None or is_int(v, 0, MAX_COUNT), "timestamp": lambda v: is_float(v, 0.0),
         "slot_id": lambda v: v is None or isinstance(v, str), "seed_id": lambda v: v is None or isinstance(v, str),
         "data": lambda v: v == {}},
        {},
    ),
    Target(
        "FactoredAction.from_indices", FactoredAction.from_indices,
        lambda: {"slot_idx": 0, "blueprint_idx": 0, "blend_idx": 0, "tempo_idx": 0, "op_idx": 0},
        {"slot_idx": lambda v: is_index(v, 3), "blueprint_idx": lambda v: is_index(v, 13),
         "blend_idx": lambda v: is_index(v, 3), "tempo_idx": lambda v: is_index(v, 3), "op_idx": lambda v: is_index(v, 4),
         "num_slots": lambda v: is_int(v, 1)},
        {"tempo_idx": [torch.tensor(2), torch.tensor(True), np.int64(2)]},
        {"slot_idx": "slot index", "blueprint_idx": "blueprint index", "blend_idx": "blend index",
         "tempo_idx": "tempo index", "op_idx": "op index"},
    ),
    Target(
        "BlueprintAction.from_blueprint_id", BlueprintAction.from_blueprint_id, lambda: {"blueprint_id": "norm"},
        {"blueprint_id": lambda v: is_str(v, [b.blueprint_id for b in BlueprintAction])},
        {"blueprint_id": ["NORM", "Norm", "n\u200borm", "lora", "\u0131"]},
    ),
    Target("check_topology", check_topology, lambda: {"topology": "cnn"}, {"topology": lambda v: is_str(v, TOPOLOGIES)}, {}),
    Target(
        "ramp_alpha", ramp_alpha, lambda: {"algorithm_id": "gated", "progress": 0.5},
        {"algorithm_id": lambda v: is_str(v, BLEND_ALGORITHM_IDS), "progress": lambda v: is_float(v)},
        {}, {"algorithm_id": "blend_algorithm_id"},
    ),
    Target(
        "alpha_at_step", alpha_at_step, lambda: {"algorithm_id": "sigmoid", "step": 1, "total_steps": 4},
        {"algorithm_id": lambda v: is_str(v, BLEND_ALGORITHM_IDS), "step": lambda v: is_int(v, 0),
         "total_steps": lambda v: is_int(v, 1)},
        {"step": [10**400]}, {"algorithm_id": "blend_algorithm_id"},
    ),
    Target(
        "compute_action_masks", compute_action_masks, lambda: {"slot_states": [None, None, None]},
        {"topology": lambda v: is_str(v, TOPOLOGIES), "seeds_germinated": lambda v: is_int(v, 0),
         "max_seeds": lambda v: is_int(v, 0), "device": lambda v: is_device(v, available=True),
         "enabled_slots": lambda v: v is None or (isinstance(v, list) and bool(v) and all(is_int(i, 0, 2) for i in v))},
        {"device": ["bogus", "cuda:7", torch.device("cpu")]},
    ),
    Target(
        "compute_batch_masks", compute_batch_masks, lambda: {"batch_slot_states": [[None] * 3, [None] * 3]},
        {"seeds_germinated": lambda v: is_int(v, 0) or (isinstance(v, list) and len(v) == 2 and all(is_int(i, 0) for i in v)),
         "max_seeds": lambda v: is_int(v, 0), "device": lambda v: is_device(v, available=True)},
        {"seeds_germinated": [2.0, [0, 1], [0, 1.0], [1]]},
    ),
    Target(
        "head_sizes/get_feature_size", lambda num_slots: (head_sizes(num_slots), get_feature_size(num_slots)),
        lambda: {"num_slots": 3}, {"num_slots": lambda v: is_int(v, 1)}, {},
    ),
    Target(
        "RewardInputs+compute_reward", _reward_call,
        lambda: {"op": LifecycleOp.WAIT, "executed": True, "slot_idx": 0, "slots_before": (None,), "slots_after": (None,),
                 "seed_contribution": None, "seed_params": 0, "host_params": 1000},
        {"seed_params": lambda v: is_int(v, 0, MAX_COUNT), "host_params": lambda v: is_int(v, 1, MAX_COUNT),
         "seed_contribution": lambda v: v is None or is_float(v), "auto_culls": lambda v: is_int(v, 0, MAX_SEED_COUNT),
         "val_accuracy_delta": lambda v: is_float(v, -100.0, 100.0), "slot_idx": lambda v: v is None or is_int(v, 0, 0),
         "op": lambda v: isinstance(v, LifecycleOp), "executed": lambda v: v is True},
        {"seed_params": [10**400, 2**63 - 1]},
    ),
    Target(
        "SeedSlot.germinate", lambda **kw: SeedSlot("r0c0", 8).germinate(**kw), lambda: {"blueprint_id": "norm"},
        {"blueprint_id": lambda v: is_str(v, ["noop", "norm", "attention", "conv_light", "depthwise", "bottleneck", "conv_small",
                                               "conv_heavy"]),
         "blend_algorithm_id": lambda v: is_str(v, BLEND_ALGORITHM_IDS), "blend_tempo_epochs": lambda v: is_int(v, 1, MAX_COUNT),
         "seed_id": lambda v: v is None or (isinstance(v, str) and v != "")},
        {"blend_tempo_epochs": [TempoAction.SLOW, 8], "blueprint_id": ["NORM", "lora", "noop"]},
    ),
    Target(
        "RunningMeanStd", RunningMeanStd, lambda: {"dim": 4},
        {"dim": lambda v: is_int(v, 1, MAX_COUNT), "epsilon": lambda v: is_float(v, 0.0, low_open=True),
         "clip": lambda v: is_float(v, 0.0, low_open=True), "device": lambda v: is_device(v, available=True)},
        {}, 
    ),
    Target(
        "RunningMeanStd.update", _normalizer_update, lambda: {"x": torch.zeros(2, 4)},
        {"x": lambda v: isinstance(v, torch.Tensor) and v.is_floating_point() and v.shape[-1:] == (4,)
         and bool(torch.isfinite(v).all())},
        {}, {"x": "observations"},
    ),
    Target(
        "network.get_action", _get_action, lambda: {"obs": torch.zeros(2, 4)},
        {"obs": lambda v: isinstance(v, torch.Tensor) and v.dtype == torch.float32 and v.dim() in (2, 3)
         and v.shape[-1] == 4 and v.shape[0] >= 1 and (v.dim() == 2 or v.shape[1] >= 1)
         and bool(torch.isfinite(v).all()) and bool((v.abs() <= MAX_ABS_OBS).all())},
        {}, 
    ),
    Target(
        "TamiyoRolloutBuffer", TamiyoRolloutBuffer,
        lambda: {"num_envs": 2, "max_steps": 2, "obs_dim": 4, "head_sizes": HEAD_SIZES, "hidden_dim": 3},
        {"num_envs": lambda v: is_int(v, 1), "max_steps": lambda v: is_int(v, 1), "obs_dim": lambda v: is_int(v, 1),
         "hidden_dim": lambda v: is_int(v, 1), "device": lambda v: is_device(v, available=True)},
        {},
    ),
    Target(
        "TamiyoRolloutBuffer.add_batch", _add_batch, _batch,
        {"obs": _float_tensor((2, 4)), "values": _float_tensor((2,)), "rewards": _float_tensor((2,)),
         "bootstrap_values": lambda v: v is None or _float_tensor((2,))(v)},
        {},
    ),
]

# Arguments whose zoo would allocate unbounded memory are capped (the domain predicate says so).
_SIZE_ARGS = {("RunningMeanStd", "dim"), ("TamiyoRolloutBuffer", "num_envs"), ("TamiyoRolloutBuffer", "max_steps"),
              ("TamiyoRolloutBuffer", "obs_dim"), ("TamiyoRolloutBuffer", "hidden_dim")}


def _value_for(target: Target, arg: str) -> st.SearchStrategy[object]:
    options: list[st.SearchStrategy[object]] = [ZOO]
    if target.boundary.get(arg):
        options.append(st.sampled_from(target.boundary[arg]))
    if target.name in {"RunningMeanStd.update", "network.get_action", "TamiyoRolloutBuffer.add_batch"}:
        options.append(TENSORS)
    strategy = st.one_of(*options)
    if (target.name, arg) in _SIZE_ARGS:  # never allocate huge tensors: too-large sizes count as invalid
        strategy = strategy.filter(lambda v: not (is_int(v) and int(v) > 4096))  # type: ignore[arg-type]
    return strategy


@st.composite
def _case(draw: st.DrawFn, target: Target) -> tuple[str, object]:
    arg = draw(st.sampled_from(sorted(target.domains)))
    return arg, draw(_value_for(target, arg))


def _check(target: Target, arg: str, value: object) -> None:
    kwargs = target.base()
    kwargs[arg] = value
    valid = target.domains[arg](value)
    try:
        result = target.call(**kwargs)
    except (TypeError, ValueError) as exc:
        OUTCOMES[type(exc).__name__] += 1
        assert not valid, f"{target.name}: valid {arg}={value!r} was refused: {exc!r}"
        assert target.mention(arg) in str(exc), f"{target.name}: message does not name {arg!r}: {exc}"
        return
    except Exception as exc:  # noqa: BLE001 - the property: nothing else may escape
        OUTCOMES["unclear"] += 1
        raise AssertionError(f"{target.name}({arg}={value!r}) raised {type(exc).__name__}: {exc}") from exc
    OUTCOMES["worked"] += 1
    assert valid, f"{target.name}: invalid {arg}={value!r} was silently accepted"
    _finite_outputs(result)


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_every_input_works_or_is_refused_clearly(target: Target) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(_case(target))
    def run(case: tuple[str, object]) -> None:
        _check(target, *case)

    run()


def test_the_suite_covers_every_documented_case() -> None:
    """The issue's named cases are among the boundary values, so every profile exercises them."""
    names = {t.name for t in TARGETS}
    assert {"PPOConfig", "TrainingConfig", "TrainingSignals+observation", "SeedSlot.germinate",
            "FactoredAction.from_indices", "BlueprintAction.from_blueprint_id", "QualityGates", "TelemetryEvent",
            "network.get_action", "TamiyoRolloutBuffer.add_batch", "RunningMeanStd.update", "compute_batch_masks",
            "compute_action_masks", "check_topology", "ramp_alpha", "RewardInputs+compute_reward"} <= names
    assert len(TARGETS) * 500 >= 10_000  # the thorough profile's per-target examples
