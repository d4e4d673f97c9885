"""Vectorized training: ``n_envs`` hosts trained side by side, Tamiyo acting on all of them each epoch.

One RL step = one host epoch + one decision; one episode = one host trained for ``max_epochs``; one batch =
``n_envs`` episodes side by side followed by one PPO update and a checkpoint (design note §1).

Under ``torchrun`` (a :class:`~esper.simic.training.distributed.DistContext` of several ranks) each rank steps its
contiguous share of the ``n_envs`` envs, acts for all of them with the same policy and RNG, and PPO sums the
gradients over ranks (DD-PPO); rank 0 alone writes the run folder. Same seed, same ``n_envs``: same episodes and
policy as one process (decisions ``DEC.distributed.*``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from esper.data import load_task
from esper.leyline import (
    HEAD_NAMES,
    NUM_SLOTS,
    FactoredAction,
    LifecycleOp,
    TelemetryEvent,
    TelemetryEventType,
)
from esper.nissa.hub import TelemetryHub
from esper.nissa.jsonl import JsonlSink
from esper.nissa.tensorboard import TensorBoardSink
from esper.simic.agent.network import Hidden
from esper.simic.agent.ppo import PPOAgent, PPOConfig
from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer
from esper.simic.devices import check_available_device
from esper.simic.rewards import RewardConfig
from esper.simic.training.config import TrainingConfig
from esper.simic.training.distributed import DistContext, RankTelemetry, gather_acting_inputs
from esper.simic.training.environment import SeedEnv, StepOutcome
from esper.simic.training.run_dir import Progress, RunDir
from esper.tamiyo.heuristic import HeuristicTamiyo
from esper.tamiyo.policy.action_masks import compute_batch_masks
from esper.tamiyo.policy.features import SLOT_FEATURE_SIZE, build_observations, get_feature_size

Masks = dict[str, torch.Tensor]


@dataclass(slots=True)
class RunResult:
    """What a finished run produced (numbers are per finished episode, in order)."""

    run_dir: Path
    final_accuracies: list[float] = field(default_factory=list)
    episode_returns: list[float] = field(default_factory=list)
    ppo_metrics: list[dict[str, float]] = field(default_factory=list)
    actions: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    """Every executed-or-attempted action index tuple, in (batch, epoch, env) order (determinism checks)."""
    seconds: dict[str, float] = field(default_factory=lambda: {"total": 0.0, "policy": 0.0, "ppo_update": 0.0})
    """Wall time of the run, of acting (observation, masks, get_action/rules) and of PPO updates (this rank's)."""


@dataclass(slots=True)
class _BatchRecord:
    """One rank's share of a batch: final accuracies and returns of its envs, its actions per epoch."""

    final_accuracies: list[float] = field(default_factory=list)
    episode_returns: list[float] = field(default_factory=list)
    actions: list[list[tuple[int, int, int, int, int]]] = field(default_factory=list)

    def merge_into(self, result: RunResult, ranks: list[_BatchRecord]) -> None:
        """Append all ranks' records to ``result`` in env order (ranks hold contiguous env ranges)."""
        for epoch in range(len(self.actions)):
            for record in ranks:
                result.actions.extend(record.actions[epoch])
        for record in ranks:
            result.final_accuracies.extend(record.final_accuracies)
            result.episode_returns.extend(record.episode_returns)


def _ppo_config(config: TrainingConfig) -> PPOConfig:
    return PPOConfig(
        lr=config.lr,
        entropy_coef=config.entropy_coef,
        ppo_epochs=config.ppo_epochs,
        n_minibatches=config.n_minibatches,
    )


class VectorizedTrainer:
    """Runs one :class:`TrainingConfig` into a :class:`RunDir`; resumable after interruption.

    ``context``: this process's rank in a distributed run (default: a single process). ``config.world_size`` is
    set from it (it is recorded in ``config.json``).
    """

    def __init__(
        self,
        config: TrainingConfig,
        out_dir: str | Path,
        *,
        progress_bar: bool = False,
        context: DistContext | None = None,
    ) -> None:
        self.dist = DistContext() if context is None else context
        config = dataclasses.replace(config, world_size=self.dist.world_size)
        self.config = config
        self.shard = self.dist.shard(config.n_envs)
        self.run_dir = RunDir(out_dir)
        self.progress_bar = progress_bar and self.dist.is_main
        self.device = check_available_device("device", str(self.dist.resolve_device(config.device)))
        self.task = load_task(config.task, data_dir=config.data_dir, device=self.device)
        self.num_slots = NUM_SLOTS
        self.obs_dim = get_feature_size(self.num_slots)
        self.hub = TelemetryHub()
        self.telemetry = RankTelemetry(self.dist, self.hub)
        self.envs = [
            SeedEnv(
                i,
                self.task,
                max_epochs=config.max_epochs,
                max_seeds=config.max_seeds,
                reward_config=RewardConfig(mode=config.reward_mode),
                forced_tempo=config.forced_tempo,
                device=self.device,
                emit=self.telemetry.emit,
            )
            for i in range(self.shard.start, self.shard.stop)
        ]
        self.agent: PPOAgent | None = None
        self.buffer: TamiyoRolloutBuffer | None = None
        if config.policy == "ppo":
            torch.manual_seed(config.seed)
            agent = self.agent = PPOAgent(
                self.obs_dim,
                config=_ppo_config(config),
                num_slots=self.num_slots,
                device=self.device,
                hidden_dim=config.hidden_dim,
                slot_feature_size=SLOT_FEATURE_SIZE,
                collective=self.dist,
            )
            if config.evaluate is None:
                self.buffer = agent.make_buffer(self.shard.count, config.max_epochs)
            else:
                assert config.policy_checkpoint is not None  # TrainingConfig validates it
                agent.load(config.policy_checkpoint)
        self.heuristics = [HeuristicTamiyo(topology=self.task.spec.topology, num_slots=self.num_slots) for _ in self.envs]

    # --- public ---------------------------------------------------------------------------------------
    def run(self, *, resume: bool = False, stop_after_batches: int | None = None, overwrite: bool = False) -> RunResult:
        """Train ``config.batches`` batches (from the last finished one when ``resume``).

        A fresh start into a folder that holds a run raises ``ValueError`` unless ``overwrite``; ``resume`` raises
        :class:`ResumeError` (a ``ValueError``) for missing, corrupt or impossible bookkeeping.
        """
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.config.threads)
        result = RunResult(run_dir=self.run_dir.root)
        started = time.perf_counter()
        try:
            # Rank 0 alone touches the run folder; its errors (a refused resume) are raised on every rank.
            progress, source = self.dist.on_main(lambda: self._start(resume=resume, overwrite=overwrite))
            if self.agent is not None:
                self.dist.sync_agent(self.agent)  # every rank starts from rank 0's (loaded) policy
            if self.config.tensorboard and self.dist.is_main:
                self.hub.add_sink(TensorBoardSink(self.run_dir.root / "tensorboard"))
            if source is not None:
                self._emit(TelemetryEventType.CHECKPOINT_LOADED, {"batches_done": progress.batches_done, "progress_source": source})
            batches = range(progress.batches_done, self.config.batches)
            bar = tqdm(batches, desc=f"{self.config.policy}:{self.config.task}", disable=not self.progress_bar, unit="batch")
            for done, batch in enumerate(bar, start=1):
                accuracies = self._run_batch(batch, result)
                bar.set_postfix(acc=f"{sum(accuracies) / len(accuracies):.1f}")
                if self.dist.is_main:
                    self._save(batch + 1)
                if stop_after_batches is not None and done >= stop_after_batches:
                    break
        finally:
            self.hub.close()
            torch.set_num_threads(previous_threads)
            result.seconds["total"] = time.perf_counter() - started
        return result

    # --- internals ------------------------------------------------------------------------------------
    def _start(self, *, resume: bool, overwrite: bool) -> tuple[Progress, str | None]:
        """Prepare the folder, restore the checkpoint and bookkeeping on resume, attach the JSONL sink.

        Returns the progress to continue from and, when a checkpoint was loaded, which file it came from.
        """
        recorded = self.run_dir.prepare(self.config, resume=resume, overwrite=overwrite)
        progress, source = recorded, None
        if resume:
            checkpointed: Progress | None = None
            path = self.run_dir.checkpoint_path
            if self.agent is not None and self.buffer is not None and path.exists():
                extra = self.agent.load(path)
                checkpointed = Progress.from_dict(
                    {key: extra.get(key) for key in ("batches_done", "telemetry_offset")}, f"{path} (resume bookkeeping)"
                )
            progress = self.run_dir.reconcile(recorded, checkpointed, checkpointed_run=self.buffer is not None)
            if checkpointed is not None:
                source = "checkpoint" if progress == checkpointed and progress != recorded else "progress.json"
            self.run_dir.restore(self.config, progress)
        self.hub.add_sink(JsonlSink(self.run_dir.telemetry_path, append=True))
        return progress, source

    def _emit(self, event_type: TelemetryEventType, data: dict[str, float | int | str | bool | None]) -> None:
        """A run-level event (PPO update, checkpoint): rank 0 speaks for all ranks, which hold the same policy."""
        if not self.dist.is_main:
            return
        self.telemetry.emit(TelemetryEvent(event_type=event_type, data={"policy": self.config.policy, **data}))

    def _save(self, batches_done: int) -> None:
        """Record a finished batch: the checkpoint (PPO; it carries the progress) first, then ``progress.json``."""
        progress = Progress(batches_done=batches_done, telemetry_offset=self.run_dir.telemetry_size())
        if self.agent is not None and self.buffer is not None:  # an evaluation run saves no checkpoint
            last = batches_done == self.config.batches
            if last or batches_done % self.config.checkpoint_every == 0:
                self.agent.save(self.run_dir.checkpoint_path, extra=progress.to_dict())
                self._emit(TelemetryEventType.CHECKPOINT_SAVED, {"batches_done": batches_done})
                self.run_dir.write_progress(Progress(batches_done, self.run_dir.telemetry_size()))
            return
        self.run_dir.write_progress(progress)

    def _episode_seed(self, episode: int) -> int:
        """Seed of episode ``episode``'s host initialisation and minibatch order."""
        return self.config.seed * 1_000_003 + episode

    def _policy_seed(self, batch: int) -> int:
        """Seed of the policy's sampling RNG for batch ``batch`` (re-seeded per batch, so resumes replay exactly)."""
        return self._episode_seed(batch) + 17

    def _run_batch(self, batch: int, result: RunResult) -> list[float]:
        """Run one batch; returns the final accuracies of all envs (of all ranks), in env order."""
        cfg = self.config
        record = _BatchRecord()
        for env, heuristic in zip(self.envs, self.heuristics, strict=True):
            episode = batch * cfg.n_envs + env.env_id
            env.reset(seed=self._episode_seed(episode), context={"policy": cfg.policy, "episode": episode})
            heuristic.reset()
        torch.manual_seed(self._policy_seed(batch))
        hidden: Hidden | None = None
        if self.agent is not None:
            hidden = self.agent.initial_hidden(cfg.n_envs)  # all envs: every rank acts for all of them
        if self.buffer is not None:
            self.buffer.reset()
        for epoch in range(cfg.max_epochs):
            for env in self.envs:
                rollback = env.train_and_measure()
                if rollback is not None and epoch > 0:
                    self._penalise_previous(env, epoch, rollback.penalty)
            acting = time.perf_counter()
            reports = [env.slot_reports for env in self.envs]
            masks = compute_batch_masks(
                reports,
                topology=self.task.spec.topology,
                seeds_germinated=[env.seeds_germinated for env in self.envs],
                max_seeds=cfg.max_seeds,
                device=self.device,
            )
            obs = build_observations(
                [(env.signals, env_reports) for env, env_reports in zip(self.envs, reports, strict=True)],
                device=self.device,
            )
            if hidden is not None:
                outcomes, hidden = self._ppo_step(obs, masks, hidden, epoch == cfg.max_epochs - 1, acting, result, record)
            else:
                rule_actions = self._rule_actions(masks)
                result.seconds["policy"] += time.perf_counter() - acting
                outcomes = self._step_all(rule_actions, record)
            for env, outcome in zip(self.envs, outcomes, strict=True):
                self._emit_epoch(env, outcome)
        if self.agent is not None and self.buffer is not None:
            # Episodes end at max_epochs (a true terminal: the observation carries epoch/max_epochs), so
            # V(s_T) is not bootstrapped; the LSTM state is dropped and re-initialised at the next batch.
            self.buffer.finish(torch.zeros(self.shard.count, device=self.device))
            updating = time.perf_counter()
            metrics = self.agent.update(self.buffer, self.shard)
            result.seconds["ppo_update"] += time.perf_counter() - updating
            result.ppo_metrics.append(metrics)
            self._emit(TelemetryEventType.PPO_UPDATE_COMPLETED, {"update": batch, **metrics})
        for env in self.envs:
            self._finish_episode(env, record)
        self.telemetry.flush()  # the other ranks' events reach rank 0 before it records progress
        ranks = self.dist.all_gather_object(record)
        record.merge_into(result, ranks)
        return [accuracy for rank in ranks for accuracy in rank.final_accuracies]

    def _ppo_step(
        self,
        obs: torch.Tensor,
        masks: Masks,
        hidden: Hidden,
        last: bool,
        acting: float,
        result: RunResult,
        record: _BatchRecord,
    ) -> tuple[list[StepOutcome], Hidden]:
        """Normalise, act for all envs at once, execute this rank's, and store their transitions; returns the
        next hidden state (of all envs).

        In an evaluation run (no buffer) the normaliser is frozen, nothing is stored, and ``evaluate="greedy"``
        takes each head's argmax."""
        assert self.agent is not None
        training = self.buffer is not None
        all_obs, all_masks = gather_acting_inputs(self.dist, self.config.n_envs, obs, masks)
        norm_obs = self.agent.normalize_obs(all_obs, update=training)
        greedy = self.config.evaluate == "greedy"
        actions, log_probs, values, new_hidden = self.agent.get_action(norm_obs, hidden, all_masks, deterministic=greedy)
        mine = self.shard.rows
        actions, log_probs = {h: a[mine] for h, a in actions.items()}, {h: lp[mine] for h, lp in log_probs.items()}
        indices = torch.stack([actions[h] for h in HEAD_NAMES], dim=1).tolist()  # one host sync per epoch
        result.seconds["policy"] += time.perf_counter() - acting
        outcomes = self._step_all([FactoredAction.from_indices(*row) for row in indices], record)
        if self.buffer is None:
            return outcomes, new_hidden
        rewards = torch.tensor([o.reward.total for o in outcomes], device=self.device)
        dones = torch.full((self.shard.count,), last, dtype=torch.bool, device=self.device)
        self.buffer.add_batch(
            obs=norm_obs[mine], actions=actions, log_probs=log_probs, masks=masks, values=values[mine], rewards=rewards,
            dones=dones, truncated=torch.zeros_like(dones), hidden=(hidden[0][mine], hidden[1][mine]),
        )
        return outcomes, new_hidden

    def _penalise_previous(self, env: SeedEnv, epoch: int, penalty: float) -> None:
        env.stats.episode_return += penalty
        env.stats.reward_components["governor_penalty"] = env.stats.reward_components.get("governor_penalty", 0.0) + penalty
        if self.buffer is not None:
            self.buffer.add_reward(env.env_id - self.shard.start, epoch - 1, penalty)

    def _rule_actions(self, masks: Masks) -> list[FactoredAction]:
        if self.config.policy == "baseline":
            return [FactoredAction.from_indices(0, 0, 0, 0, LifecycleOp.WAIT) for _ in self.envs]
        return [
            heuristic.decide(
                env.signals,
                env.slot_reports,
                {h: masks[h][row] for h in HEAD_NAMES},
                seeds_germinated=env.seeds_germinated,
                max_seeds=self.config.max_seeds,
            )
            for row, (env, heuristic) in enumerate(zip(self.envs, self.heuristics, strict=True))
        ]

    def _step_all(self, actions: list[FactoredAction], record: _BatchRecord) -> list[StepOutcome]:
        record.actions.append([a.to_indices() for a in actions])
        return [env.step(action) for env, action in zip(self.envs, actions, strict=True)]

    def _emit_epoch(self, env: SeedEnv, outcome: StepOutcome) -> None:
        s = env.signals
        data: dict[str, float | int | str | bool | None] = {
            **env.context,
            "epoch": env.epoch - 1,
            "val_accuracy": s.val_accuracy,
            "train_loss": s.train_loss,
            "val_loss": s.val_loss,
            "reward": outcome.reward.total,
            "op": outcome.action.op.name,
            "executed": outcome.executed,
            "reason": outcome.reason,
            "tempo": outcome.action.tempo.name,
            **{f"reward_{k}": v for k, v in outcome.reward.to_dict().items()},
        }
        self.telemetry.emit(TelemetryEvent(event_type=TelemetryEventType.EPOCH_COMPLETED, data=data, epoch=env.epoch - 1))

    def _finish_episode(self, env: SeedEnv, record: _BatchRecord) -> None:
        final = env.signals.val_accuracy
        record.final_accuracies.append(final)
        record.episode_returns.append(env.stats.episode_return)
        stats = env.stats
        data: dict[str, float | int | str | bool | None] = {
            **env.context,
            "final_val_accuracy": final,
            "best_val_accuracy": env.signals.best_val_accuracy,
            "episode_return": stats.episode_return,
            "seeds_germinated": stats.seeds_germinated,
            "seeds_fossilized": stats.seeds_fossilized,
            "seeds_culled": stats.seeds_culled,
            "rollbacks": stats.rollbacks,
            "params_added": env.params_added(),
            "host_params": env.model.host_param_count,
            **{f"return_{k}": v for k, v in stats.reward_components.items()},
        }
        self.telemetry.emit(TelemetryEvent(event_type=TelemetryEventType.EPISODE_COMPLETED, data=data))


def run_training(
    config: TrainingConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress_bar: bool = False,
    stop_after_batches: int | None = None,
    overwrite: bool = False,
    context: DistContext | None = None,
) -> RunResult:
    """Train (or evaluate a rule-based policy) according to ``config``, writing into ``out_dir``.

    ``out_dir`` holding a run is refused unless ``resume`` (continue it) or ``overwrite`` (replace it).
    ``context``: this process's rank of a distributed run (:func:`~esper.simic.training.distributed.init_distributed`);
    every rank calls this with the same arguments and gets the same :class:`RunResult` numbers.
    """
    trainer = VectorizedTrainer(config, out_dir, progress_bar=progress_bar, context=context)
    return trainer.run(resume=resume, stop_after_batches=stop_after_batches, overwrite=overwrite)

