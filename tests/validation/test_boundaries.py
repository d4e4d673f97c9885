"""Issue 13 item 3: every public constructor and entry point validates (one test per reported case)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from esper.kasmina import QualityGates, SeedSlot
from esper.kasmina.blending import alpha_at_step, ramp_alpha
from esper.leyline import (
    HEAD_NAMES,
    HEAD_SIZES,
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
)
from esper.nissa.records import _finite
from esper.simic.agent import PPOAgent, PPOConfig, TamiyoRolloutBuffer
from esper.simic.agent.network import FactoredRecurrentActorCritic
from esper.simic.agent.normalizer import RunningMeanStd
from esper.simic.rewards import RewardBreakdown, RewardConfig, RewardInputs, compute_reward
from esper.simic.training.config import TrainingConfig
from esper.tamiyo.policy.action_masks import compute_action_masks, compute_batch_masks
from esper.tamiyo.policy.features import build_observation
from esper.tamiyo.signals import SignalTracker, TrainingSignals

from tests.simic_agent.rollouts import STATE_DIM, collect, random_masks

OBS, HIDDEN, ENVS = 3, 2, 2


# --- rollout buffer ---------------------------------------------------------------------------------------------


def _batch(**override: object) -> dict[str, object]:
    masks = random_masks(HEAD_SIZES, ENVS)
    args: dict[str, object] = {
        "obs": torch.zeros(ENVS, OBS),
        "actions": {name: masks[name].float().argmax(-1) for name in HEAD_NAMES},
        "log_probs": {name: torch.full((ENVS,), -1.0) for name in HEAD_NAMES},
        "masks": masks,
        "values": torch.zeros(ENVS),
        "rewards": torch.zeros(ENVS),
        "dones": torch.zeros(ENVS, dtype=torch.bool),
        "truncated": torch.zeros(ENVS, dtype=torch.bool),
        "hidden": (torch.zeros(ENVS, HIDDEN), torch.zeros(ENVS, HIDDEN)),
    }
    args.update(override)
    return args


def _nan_at(shape: tuple[int, ...]) -> torch.Tensor:
    t = torch.zeros(shape)
    t.view(-1)[-1] = math.nan
    return t


def _forbidden_action() -> dict[str, object]:
    masks = random_masks(HEAD_SIZES, ENVS)
    masks["op"][1] = torch.tensor([True, False, False, False])
    actions = {name: masks[name].float().argmax(-1) for name in HEAD_NAMES}
    actions["op"] = torch.tensor([0, 2])
    return {"masks": masks, "actions": actions}


def _empty_row() -> dict[str, object]:
    masks = random_masks(HEAD_SIZES, ENVS)
    actions = {name: masks[name].float().argmax(-1) for name in HEAD_NAMES}
    masks["blend"][0] = False
    return {"masks": masks, "actions": actions}


@pytest.mark.req("ISSUE.13.50")
@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"rewards": _nan_at((ENVS,))}, "rewards must be finite"),
        ({"rewards": torch.tensor([0.0, math.inf])}, "rewards must be finite"),
        ({"values": _nan_at((ENVS,))}, "values must be finite"),
        ({"obs": _nan_at((ENVS, OBS))}, "obs must be finite"),
        ({"hidden": (_nan_at((ENVS, HIDDEN)), torch.zeros(ENVS, HIDDEN))}, "hidden h must be finite"),
        ({"log_probs": {name: torch.full((ENVS,), 0.5) for name in HEAD_NAMES}}, r"log_probs\['slot'\] must be <= 0"),
        ({"log_probs": {name: _nan_at((ENVS,)) for name in HEAD_NAMES}}, r"log_probs\['slot'\] must be finite"),
        ({"bootstrap_values": _nan_at((ENVS,))}, "bootstrap_values must be finite"),
        (_forbidden_action, r"actions\['op'\] picks an action that masks\['op'\] forbids"),
        ({"actions": {name: torch.full((ENVS,), 99) for name in HEAD_NAMES}}, r"actions\['slot'\] must be in \[0, 2\]"),
        (_empty_row, r"masks\['blend'\] has a row with no valid action"),
    ],
)
def test_add_batch_refuses_invalid_steps_and_stores_nothing(
    override: dict[str, object] | Callable[[], dict[str, object]], match: str
) -> None:
    override = override() if callable(override) else override
    buffer = TamiyoRolloutBuffer(ENVS, 3, OBS, HEAD_SIZES, HIDDEN)
    with pytest.raises(ValueError, match=match):
        buffer.add_batch(**_batch(**override))  # type: ignore[arg-type]
    assert buffer.step_counts == [0, 0] and not buffer.rewards.isnan().any()
    buffer.add_batch(**_batch())  # type: ignore[arg-type]
    assert buffer.step_counts == [1, 1]


@pytest.mark.req("ISSUE.13.50")
def test_add_step_refuses_nan_reward_and_positive_log_prob() -> None:
    buffer = TamiyoRolloutBuffer(ENVS, 3, OBS, HEAD_SIZES, HIDDEN)
    one = {k: ({h: t[0] for h, t in v.items()} if isinstance(v, dict) else v) for k, v in _batch().items()}
    step = {
        "obs": torch.zeros(OBS), "actions": one["actions"], "log_probs": one["log_probs"], "masks": one["masks"],
        "value": 0.0, "reward": 0.0, "done": False, "truncated": False,
        "hidden": (torch.zeros(HIDDEN), torch.zeros(HIDDEN)),
    }
    with pytest.raises(ValueError, match="reward must be a finite float, got nan"):
        buffer.add_step(0, **dict(step, reward=math.nan))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reward must be finite"):
        buffer.add_step(0, **dict(step, reward=torch.tensor(math.nan)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log_probs"):
        buffer.add_step(0, **dict(step, log_probs={h: torch.tensor(2.0) for h in HEAD_NAMES}))  # type: ignore[arg-type]
    assert buffer.step_counts == [0, 0]
    buffer.add_step(0, **step)  # type: ignore[arg-type]
    assert buffer.step_counts == [1, 0]


# --- PPO config and step guard ------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.51", "DEC.validation.3")
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": math.inf}, ValueError, r"PPOConfig.lr must be a finite float in \(0.0, 1.0\], got inf"),
        ({"lr": 1e308}, ValueError, "PPOConfig.lr"),
        ({"adam_eps": 1e-320}, ValueError, "PPOConfig.adam_eps"),
        ({"lr": "0.1"}, TypeError, "PPOConfig.lr must be a finite float .* got str '0.1'"),
        ({"gamma": math.nan}, ValueError, "PPOConfig.gamma"),
        ({"max_grad_norm": math.inf}, ValueError, "PPOConfig.max_grad_norm"),
        ({"target_kl": math.inf}, ValueError, "PPOConfig.target_kl"),
        ({"ppo_epochs": 10**400}, ValueError, "PPOConfig.ppo_epochs"),
        ({"normalize_advantages": 1}, TypeError, "PPOConfig.normalize_advantages must be a bool"),
        ({"entropy_coef_per_head": {"tempo": math.nan}}, ValueError, r"entropy_coef_per_head\['tempo'\]"),
        ({"entropy_coef_per_head": [1.0]}, TypeError, "entropy_coef_per_head must be a dict"),
    ],
)
def test_ppo_config_requires_finite_values(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PPOConfig(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        PPOConfig.from_dict(dict(PPOConfig().to_dict(), **kwargs))


@pytest.mark.req("ISSUE.13.51")
def test_ppo_config_from_dict_round_trip_and_json_ints() -> None:
    cfg = PPOConfig(lr=1e-3, target_kl=None)
    assert PPOConfig.from_dict(cfg.to_dict()) == cfg
    assert PPOConfig.from_dict({"lr": 1}).lr == 1.0 and isinstance(PPOConfig.from_dict({"lr": 1}).lr, float)
    with pytest.raises(TypeError, match="PPOConfig must be a dict"):
        PPOConfig.from_dict([("lr", 0.1)])  # type: ignore[arg-type]


@pytest.mark.req("ISSUE.13.52", "DEC.validation.3")
def test_a_step_that_makes_parameters_non_finite_is_reverted(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = PPOAgent(STATE_DIM, PPOConfig(ppo_epochs=1, n_minibatches=1, target_kl=None), hidden_dim=16)
    buffer = collect(agent, 2, 4)
    before = {k: v.clone() for k, v in agent.network.state_dict().items()}
    real_step = agent.optimizer.step

    def poisoned_step() -> None:  # an optimiser that overflows (what lr=1e308 did)
        real_step()
        with torch.no_grad():
            next(agent.network.parameters()).fill_(math.inf)

    monkeypatch.setattr(agent.optimizer, "step", poisoned_step)
    metrics = agent.update(buffer)
    assert metrics["updates_applied"] == 0.0 and metrics["updates_skipped"] == 1.0
    after = agent.network.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(p).all() for p in agent.network.parameters())
    assert all(not state for state in agent.optimizer.state.values())  # Adam state rolled back to "no step yet"


# --- normaliser ---------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.53")
def test_running_mean_std_refuses_nan_without_poisoning() -> None:
    norm = RunningMeanStd(3)
    norm.update(torch.randn(8, 3))
    state = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in norm.state_dict().items()}
    bad = torch.randn(4, 3)
    bad[2, 1] = math.nan
    with pytest.raises(ValueError, match="observations must be finite"):
        norm.update(bad)
    assert all(torch.equal(state[k], getattr(norm, k)) for k in ("mean", "var", "count"))
    assert torch.isfinite(norm.normalize(torch.randn(2, 3))).all()
    with pytest.raises(TypeError, match="observations must have a floating dtype"):
        norm.update(torch.zeros(2, 3, dtype=torch.long))


# --- signals and reports --------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.54")
@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("epoch", None, TypeError), ("epoch", 2**63, ValueError), ("train_loss", None, TypeError),
        ("val_accuracy", "high", TypeError), ("loss_history", None, TypeError), ("loss_history", (1.0, None), TypeError),
        ("seed_utilisation", "full", TypeError), ("host_stabilized", 1, TypeError), ("max_epochs", 1.0, TypeError),
    ],
)
def test_training_signals_validate_every_field(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"TrainingSignals.{field}"):
        TrainingSignals(**{field: value})  # type: ignore[arg-type]


@pytest.mark.req("ISSUE.13.54", "DEC.validation.6")
def test_training_signals_keep_raw_non_finite_losses() -> None:
    signals = TrainingSignals(val_loss=math.nan, best_val_loss=math.inf, loss_history=(math.nan, 1))
    assert math.isnan(signals.val_loss) and signals.loss_history[1] == 1.0
    assert torch.isfinite(build_observation(signals, [None] * 3)).all()


@pytest.mark.req("ISSUE.13.54")
@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("stage", 3, TypeError, "stage must be a SeedStage"),
        ("stage", None, TypeError, "stage must be a SeedStage"),
        ("slot_id", None, TypeError, "slot_id must be a str"),
        ("blueprint_id", 3, TypeError, "blueprint_id must be a str"),
        ("blend_algorithm_id", "cubic", ValueError, "blend_algorithm_id 'cubic' is unknown"),
        ("blend_tempo_epochs", TempoAction.SLOW, TypeError, "blend_tempo_epochs"),
        ("blending_steps_done", 10**400, ValueError, "blending_steps_done"),
        ("metrics", None, TypeError, "metrics must be a SeedMetricsReport"),
    ],
)
def test_seed_state_report_validates(field: str, value: object, error: type[Exception], match: str) -> None:
    kwargs: dict[str, object] = {"slot_id": "r0c0", "seed_id": "s", "blueprint_id": "norm", "stage": SeedStage.TRAINING}
    kwargs[field] = value
    with pytest.raises(error, match=match):
        SeedStateReport(**kwargs)  # type: ignore[arg-type]


@pytest.mark.req("ISSUE.13.54")
def test_seed_metrics_report_validates() -> None:
    with pytest.raises(TypeError, match="SeedMetricsReport.current_alpha"):
        SeedMetricsReport(current_alpha="high")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SeedMetricsReport.epochs_total"):
        SeedMetricsReport(epochs_total=None)  # type: ignore[arg-type]
    assert math.isnan(SeedMetricsReport(counterfactual_contribution=math.nan).counterfactual_contribution or 0.0)


# --- huge ints --------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.55", "DEC.validation.2")
def test_huge_ints_give_value_error_not_overflow() -> None:
    huge = 10**400
    with pytest.raises(ValueError, match="TrainingSignals.total_params"):
        TrainingSignals(total_params=huge)
    with pytest.raises(ValueError, match="total_params"):
        SignalTracker().update(epoch=1, train_loss=1.0, val_loss=1.0, train_accuracy=1.0, val_accuracy=1.0,
                               total_params=huge)
    with pytest.raises(ValueError, match="host_params"):
        RewardInputs(op=LifecycleOp.WAIT, executed=True, slot_idx=0, slots_before=(None,), slots_after=(None,),
                     seed_contribution=None, seed_params=0, host_params=huge)
    with pytest.raises(ValueError, match="reward component"):
        RewardBreakdown(terminal=huge)
    with pytest.raises(ValueError, match="SeedMetricsReport.seed_param_count"):
        SeedMetricsReport(seed_param_count=huge)
    assert _finite(huge) is None and _finite(3) == 3.0  # run records skip what no float can hold
    assert alpha_at_step("linear", huge, 4) == 1.0
    big = TrainingSignals(total_params=2**63 - 1, global_step=2**63 - 1, epoch=2**63 - 1)
    assert torch.isfinite(build_observation(big, [None] * 3)).all()


# --- kasmina ------------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.56", "DEC.validation.5")
def test_germinate_refuses_a_tempo_enum_for_epochs() -> None:
    slot = SeedSlot("r0c0", 8)
    with pytest.raises(TypeError, match=r"blend_tempo_epochs must be an int number of epochs.*TEMPO_TO_EPOCHS.* = 8"):
        slot.germinate("norm", blend_tempo_epochs=TempoAction.SLOW)
    assert slot.state is None
    state = slot.germinate("norm", blend_tempo_epochs=8)
    assert state.blend_tempo_epochs == 8


@pytest.mark.req("ISSUE.13.59")
@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("g3_min_alpha", 2.0, ValueError), ("g3_min_alpha", math.nan, ValueError), ("g2_min_improvement", math.inf, ValueError),
     ("g2_min_grad_ratio", -0.1, ValueError), ("g2_min_epochs", -1, ValueError), ("g3_min_epochs", 1.5, TypeError),
     ("g5_min_contribution", "1", TypeError)],
)
def test_quality_gates_refuse_impossible_thresholds(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"QualityGates.{field}"):
        QualityGates(**{field: value})  # type: ignore[arg-type]


@pytest.mark.req("ISSUE.13.63")
@pytest.mark.parametrize("stage", ["empty", "training", "blending"])
def test_seed_slot_forward_dtype_rule_is_the_same_in_every_stage(stage: str) -> None:
    slot = SeedSlot("r0c0", 4, gates=QualityGates(g2_min_improvement=-100.0, g2_min_epochs=0, g2_min_grad_ratio=0.0))
    if stage != "empty":
        slot.germinate("norm")
        slot.step_epoch()
        assert slot.stage == SeedStage.TRAINING
        if stage == "blending":
            slot.step_epoch()
            assert slot.stage == SeedStage.BLENDING
    h = torch.randn(2, 4, 3, 3)
    assert slot(h).shape == h.shape
    for bad in (h.double(), h.half(), h > 0, h.long()):
        with pytest.raises(TypeError, match="h must"):
            slot(bad)
    if stage == "empty":
        slot.double()
        assert slot(h.double()).dtype == torch.float64


# --- leyline ------------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.57", "DEC.validation.4")
@pytest.mark.parametrize("bad", [torch.tensor(True), torch.tensor(1.0), torch.tensor([1])])
def test_from_indices_rejects_bool_and_float_tensors(bad: torch.Tensor) -> None:
    with pytest.raises(TypeError, match=r"^tempo index must be an int in \[0, 2\]"):
        FactoredAction.from_indices(0, 0, 0, bad, 0)
    assert FactoredAction.from_indices(0, 0, 0, torch.tensor(1), 0).tempo == TempoAction.STANDARD


@pytest.mark.req("ISSUE.13.58")
@pytest.mark.parametrize("bad", ["NORM", "Norm", "norm ", "n\u200borm", "lora_large".replace("l", "\u217c"), "\u0131"])
def test_from_blueprint_id_is_exact_like_kasmina(bad: str) -> None:
    with pytest.raises(ValueError, match="is unknown; valid"):
        BlueprintAction.from_blueprint_id(bad)
    with pytest.raises(ValueError):
        SeedSlot("r0c0", 8).germinate(bad)  # Kasmina refuses the same ids
    assert BlueprintAction.from_blueprint_id("norm") is BlueprintAction.NORM


@pytest.mark.req("ISSUE.13.61")
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epoch": True}, TypeError, "epoch"), ({"epoch": -1}, ValueError, "epoch"),
        ({"timestamp": math.nan}, ValueError, "timestamp"), ({"timestamp": math.inf}, ValueError, "timestamp"),
        ({"timestamp": "now"}, TypeError, "timestamp"), ({"data": None}, TypeError, "data must be a dict"),
        ({"slot_id": 3}, TypeError, "slot_id"),
    ],
)
def test_telemetry_event_refuses_unreadable_values(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        TelemetryEvent(TelemetryEventType.EPOCH_COMPLETED, **kwargs)  # type: ignore[arg-type]


# --- training config ------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.60")
@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("policy", "random", ValueError), ("task", "imagenet", ValueError), ("task", None, TypeError),
        ("episodes", 0, ValueError), ("seed", -1, ValueError), ("seed", 2**64, ValueError), ("device", "bogus", ValueError),
        ("device", 0, TypeError), ("data_dir", 3, TypeError), ("force_tempo", "fast", ValueError),
        ("reward_mode", "dense", ValueError), ("lr", math.nan, ValueError), ("lr", "0.1", TypeError),
        ("entropy_coef", -1.0, ValueError), ("hidden_dim", 0, ValueError), ("tensorboard", "yes", TypeError),
        ("checkpoint_every", True, TypeError), ("tags", {"a": 1}, TypeError), ("tags", [], TypeError),
        ("max_seeds", 1.0, TypeError), ("n_envs", None, TypeError), ("max_epochs", -3, ValueError),
        ("ppo_epochs", 0, ValueError),
    ],
)
def test_training_config_validates_every_field(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=field):
        TrainingConfig(**{field: value})  # type: ignore[arg-type]


@pytest.mark.req("ISSUE.13.60", "ISSUE.14.51")
def test_training_config_read_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    TrainingConfig(episodes=4, n_envs=2, n_minibatches=2).write(path)
    assert TrainingConfig.read(path) == TrainingConfig(episodes=4, n_envs=2, n_minibatches=2)
    path.write_text('{"episodes": "many"}')
    with pytest.raises(ValueError, match=r"config.json: invalid config: episodes must be an int"):
        TrainingConfig.read(path)
    assert {f.name for f in dataclasses.fields(TrainingConfig)} >= {"tags", "checkpoint_every"}


# --- network --------------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.62", "DEC.validation.9")
def test_network_refuses_bad_inputs_clearly() -> None:
    net = FactoredRecurrentActorCritic(5, hidden_dim=8)
    acts = {name: torch.zeros(2, 0, dtype=torch.long) for name in HEAD_NAMES}
    with pytest.raises(ValueError, match="T >= 1"):
        net.evaluate_actions(torch.zeros(2, 0, 5), acts)
    h = net.initial_hidden(2)
    with pytest.raises(TypeError, match="hidden h must have dtype torch.float32, got torch.float64"):
        net(torch.zeros(2, 5), (h[0].double(), h[1]))
    with pytest.raises(ValueError, match="obs must be finite"):
        net.get_action(torch.tensor([[math.nan] * 5, [0.0] * 5]))
    with pytest.raises(ValueError, match="obs entries must lie in"):
        net.get_action(torch.full((2, 5), 1e30))
    with pytest.raises(ValueError, match="hidden"):
        net(torch.zeros(2, 5), (torch.full((2, 8), math.inf), h[1]))
    _, log_probs, value, _ = net.get_action(torch.full((2, 5), 1e6))  # the largest accepted input stays finite
    assert torch.isfinite(value).all() and all(torch.isfinite(lp).all() for lp in log_probs.values())


# --- messages ---------------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.64")
def test_messages_name_the_argument() -> None:
    with pytest.raises(TypeError, match="topology must be a str"):
        check_topology([])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seeds_germinated"):
        compute_batch_masks([[None, None, None]], seeds_germinated=2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PPOConfig.lr"):
        PPOConfig(lr="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="progress must be a finite float"):
        ramp_alpha("gated", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device must name a torch device"):
        compute_action_masks([None, None, None], device="bogus")
    with pytest.raises(TypeError, match=r"seeds_germinated\[1\]"):
        compute_batch_masks([[None] * 3] * 2, seeds_germinated=[0, "1"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"enabled_slots\[0\]"):
        compute_action_masks([None, None, None], enabled_slots=[1.0])  # type: ignore[list-item]


# --- rewards --------------------------------------------------------------------------------------------------------------


@pytest.mark.req("ISSUE.13.65", "DEC.validation.9")
def test_finite_components_always_have_a_finite_total() -> None:
    with pytest.raises(ValueError, match="reward component contribution"):
        RewardBreakdown(contribution=1e308, terminal=1e308)
    limit = RewardBreakdown(*([1e12] * 8))
    assert math.isfinite(limit.total)
    with pytest.raises(ValueError, match="terminal_accuracy_weight"):
        RewardConfig(terminal_accuracy_weight=1e308)
    extreme = RewardConfig(**{name: 1e6 for name in ("contribution_weight", "contribution_clip", "rent_weight",
                                                       "terminal_accuracy_weight", "fossilized_bonus")})
    inputs = RewardInputs(op=LifecycleOp.WAIT, executed=True, slot_idx=0, slots_before=(None,), slots_after=(None,),
                          seed_contribution=1e300, seed_params=2**62, host_params=1, is_terminal=True,
                          final_val_accuracy=100.0, contributing_fossilized=3)
    assert math.isfinite(compute_reward(inputs, extreme).total)
