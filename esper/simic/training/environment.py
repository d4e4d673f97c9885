"""One training environment: a host with seed slots, trained epoch by epoch while Tamiyo acts on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from esper.data import TaskData, build_model
from esper.kasmina.host import MorphogeneticModel
from esper.leyline import (
    TEMPO_TO_EPOCHS,
    FactoredAction,
    LifecycleOp,
    SeedStage,
    SeedStateReport,
    TelemetryEvent,
    TelemetryEventType,
    TempoAction,
)
from esper.leyline.defaults import G5_MIN_CONTRIBUTION
from esper.simic.rewards import RewardBreakdown, RewardConfig, RewardInputs, compute_reward
from esper.simic.training.rng import RngStream
from esper.tamiyo.execution import ExecutionCheck, check_executable
from esper.tamiyo.signals import SignalTracker, TrainingSignals
from esper.tolaria.evaluation import record_epoch_metrics
from esper.tolaria.governor import GovernorReport, TolariaGovernor
from esper.tolaria.optimizers import trainer_config_for
from esper.tolaria.trainer import EpochTrainer

EventSink = Callable[[TelemetryEvent], None]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened when one action was executed (and the lifecycle advanced)."""

    action: FactoredAction
    executed: bool
    reason: str
    auto_culls: int
    reward: RewardBreakdown
    tempo_epochs: int | None = None
    """Ramp length given to a germinated seed (None unless a GERMINATE executed)."""


@dataclass(slots=True)
class EpisodeStats:
    """Counters of one episode, reported in ``episode_completed`` telemetry."""

    episode_return: float = 0.0
    seeds_germinated: int = 0
    seeds_fossilized: int = 0
    seeds_culled: int = 0
    rollbacks: int = 0
    reward_components: dict[str, float] = field(default_factory=dict)


class SeedEnv:
    """A morphogenetic model on one task: train → measure → act → step lifecycle → reward, once per epoch."""

    def __init__(
        self,
        env_id: int,
        task: TaskData,
        *,
        max_epochs: int,
        max_seeds: int,
        reward_config: RewardConfig,
        forced_tempo: TempoAction | None = None,
        device: str | torch.device = "cpu",
        emit: EventSink | None = None,
    ) -> None:
        self.env_id = env_id
        self.task = task
        self.max_epochs = max_epochs
        self.max_seeds = max_seeds
        self.reward_config = reward_config
        self.forced_tempo = forced_tempo
        self.device = torch.device(device)
        self._emit = emit
        self.tracker = SignalTracker(max_epochs=max_epochs)
        self.rng = RngStream(self.device)
        """This env's own random stream (host and seed initialisation), re-seeded at every :meth:`reset`."""
        self.context: dict[str, str | int] = {"env": env_id}
        self._model: MorphogeneticModel | None = None
        self._trainer: EpochTrainer | None = None
        self._governor: TolariaGovernor | None = None
        self.stats = EpisodeStats()
        self.epoch = 0
        self.signals: TrainingSignals = TrainingSignals(max_epochs=max_epochs)
        self._reports: tuple[SeedStateReport | None, ...] = ()
        self._prev_after: tuple[SeedStateReport | None, ...] = ()
        """Reports at the end of the previous step: the next reward's ``slots_before`` (so shaping telescopes,
        even across a governor rollback that culls seeds between steps)."""

    # --- episode -------------------------------------------------------------------------------------
    @property
    def seeds_germinated(self) -> int:
        """Germinations so far this episode (the seed budget counts these)."""
        return self.stats.seeds_germinated

    @property
    def model(self) -> MorphogeneticModel:
        if self._model is None:
            raise RuntimeError("SeedEnv.reset() must be called before the env is used")
        return self._model

    @property
    def trainer(self) -> EpochTrainer:
        if self._trainer is None:
            raise RuntimeError("SeedEnv.reset() must be called before the env is used")
        return self._trainer

    @property
    def governor(self) -> TolariaGovernor:
        if self._governor is None:
            raise RuntimeError("SeedEnv.reset() must be called before the env is used")
        return self._governor

    def reset(self, *, seed: int, context: dict[str, str | int]) -> None:
        """Start a new episode with a freshly initialised host (weights, minibatch order and this env's random
        stream from ``seed``; torch's global RNG is left as it was)."""
        self.rng.seed(seed)
        self.context = {**context, "env": self.env_id}
        with self.rng.scope():
            self._model = build_model(self.task, self.device, max_epochs=self.max_epochs, on_event=self._forward_event)
        self._trainer = EpochTrainer(self._model, trainer_config_for(self.task.spec, shuffle_seed=seed))
        self._governor = TolariaGovernor(self._model, self._trainer.host_optimizer, on_event=self._forward_event)
        self.tracker.reset()
        self.stats = EpisodeStats()
        self.epoch = 0
        self._reports = tuple(self._model.slot_reports())
        self._prev_after = self._reports

    def _forward_event(self, event: TelemetryEvent) -> None:
        if event.event_type == TelemetryEventType.SEED_FOSSILIZED:
            self.stats.seeds_fossilized += 1
        elif event.event_type == TelemetryEventType.SEED_CULLED:
            self.stats.seeds_culled += 1
        if self._emit is None:
            return
        data = {**event.data, **self.context}
        self._emit(
            TelemetryEvent(
                event_type=event.event_type,
                data=data,
                slot_id=event.slot_id,
                seed_id=event.seed_id,
                epoch=self.epoch if event.epoch is None else event.epoch,
                timestamp=event.timestamp,
            )
        )

    # --- per epoch -----------------------------------------------------------------------------------
    def train_and_measure(self) -> GovernorReport | None:
        """Train one epoch, validate (with counterfactuals), record seed metrics, update signals (in this env's
        random stream).

        Returns the governor's report when this epoch's loss forced a rollback (the penalty belongs to the
        previous transition, whose action caused the instability).
        """
        with self.rng.scope():
            return self._train_and_measure()

    def _train_and_measure(self) -> GovernorReport | None:
        model = self.model
        result = self.trainer.run_epoch(self.task)
        train_loss, train_accuracy = result.train.train_loss, result.train.train_accuracy
        val_loss, val_accuracy = result.val_loss, result.val_accuracy
        rollback = self.governor.observe(train_loss, val_loss=val_loss)
        if rollback is not None:
            self.stats.rollbacks += 1
            self.trainer.sync_optimizers()
            self.trainer.recalibrate_if_stale(self.task)
            # The restored model, not the diverged one, is what the observation, the reward and the final
            # accuracy describe (issue 13 item 6): re-validate it. Its training loss/accuracy are those of the
            # last healthy epoch, the one the snapshot was taken after.
            val_loss, val_accuracy = self.trainer.validate(self.task)
            record_epoch_metrics(model, val_accuracy)
            if self.governor.history:
                train_loss, train_accuracy = self.governor.history[-1], self.signals.train_accuracy
        occupied = sum(report is not None for report in model.slot_reports())
        self.signals = self.tracker.update(
            epoch=self.epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            train_accuracy=train_accuracy,
            val_accuracy=val_accuracy,
            total_params=model.host_param_count + model.seed_param_count,
            host_params=model.host_param_count,
            occupied_slots=occupied,
            num_slots=len(model.slot_ids),
        )
        self._reports = tuple(model.slot_reports())
        return rollback

    @property
    def slot_reports(self) -> tuple[SeedStateReport | None, ...]:
        """Slot reports after this epoch's measurements (what the observation and masks see)."""
        return self._reports

    def check(self, action: FactoredAction) -> ExecutionCheck:
        """Whether ``action`` can execute now (mask↔execution parity helper)."""
        return check_executable(
            self._reports,
            action,
            seeds_germinated=self.seeds_germinated,
            max_seeds=self.max_seeds,
            topology=self.model.topology,
        )

    def step(self, action: FactoredAction, *, governor_penalty: bool = False) -> StepOutcome:
        """Execute ``action`` (or WAIT when not executable), advance every slot's lifecycle, compute the reward
        (in this env's random stream)."""
        with self.rng.scope():
            return self._step(action, governor_penalty=governor_penalty)

    def _step(self, action: FactoredAction, *, governor_penalty: bool) -> StepOutcome:
        model = self.model
        before = self._prev_after
        check = self.check(action)
        executed = check.executable
        reason = check.reason
        tempo_epochs: int | None = None
        if executed and action.op == LifecycleOp.GERMINATE:
            tempo = action.tempo if self.forced_tempo is None else self.forced_tempo
            tempo_epochs = TEMPO_TO_EPOCHS[TempoAction(tempo)]
            seed_id = f"{self.context.get('episode', 0)}-{self.env_id}-{self.epoch}"
            model.germinate_seed(
                action.blueprint_id,
                seed_id,
                slot=action.slot_idx,
                blend_algorithm_id=action.blend_algorithm_id,
                blend_tempo_epochs=tempo_epochs,
            )
            self.stats.seeds_germinated += 1
        elif executed and action.op == LifecycleOp.CULL:
            model.cull_seed(action.slot_idx, reason="tamiyo")
        elif executed and action.op == LifecycleOp.FOSSILIZE:
            gate = model.fossilize_seed(action.slot_idx)
            if not gate.passed:
                executed = False
                reason = f"FOSSILIZE refused by gate {gate.gate}: {'; '.join(gate.reasons)}"
        auto_culls = sum(model.step_epoch())
        after = tuple(model.slot_reports())
        acted = self._reports[action.slot_idx] if action.slot_idx < len(self._reports) else None
        contribution = None if acted is None else acted.metrics.counterfactual_contribution
        is_terminal = self.epoch + 1 >= self.max_epochs
        val_delta = self.signals.accuracy_delta
        reward = compute_reward(
            RewardInputs(
                op=action.op,
                executed=executed,
                slot_idx=action.slot_idx,
                slots_before=before,
                slots_after=after,
                seed_contribution=contribution,
                seed_params=model.seed_param_count,
                host_params=model.host_param_count,
                auto_culls=auto_culls,
                governor_rollback=governor_penalty,
                val_accuracy_delta=val_delta,
                is_terminal=is_terminal,
                final_val_accuracy=self.signals.val_accuracy if is_terminal else None,
                contributing_fossilized=self._contributing_fossilized(after) if is_terminal else 0,
            ),
            self.reward_config,
        )
        self.stats.episode_return += reward.total
        for name, value in reward.to_dict().items():
            self.stats.reward_components[name] = self.stats.reward_components.get(name, 0.0) + value
        self._reports = after
        self._prev_after = after
        self.epoch += 1
        return StepOutcome(
            action=action,
            executed=executed,
            reason=reason,
            auto_culls=auto_culls,
            reward=reward,
            tempo_epochs=tempo_epochs,
        )

    @staticmethod
    def _contributing_fossilized(reports: tuple[SeedStateReport | None, ...]) -> int:
        return sum(
            1
            for r in reports
            if r is not None
            and r.stage == SeedStage.FOSSILIZED
            and (r.metrics.counterfactual_contribution or 0.0) >= G5_MIN_CONTRIBUTION
        )

    def params_added(self) -> int:
        """Parameters of fossilized seeds (what growth kept)."""
        return sum(
            r.metrics.seed_param_count for r in self.model.slot_reports() if r is not None and r.stage == SeedStage.FOSSILIZED
        )
