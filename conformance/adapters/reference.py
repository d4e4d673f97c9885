"""The kit's adapter for this package (``ESPER_CONFORMANCE_ADAPTER=conformance.adapters.reference:ADAPTER``).

It imports ``esper`` lazily, inside each method, so that it binds to whichever ``esper`` the target mechanism put
first on the import path (a mutated copy of this package, for ``make mutation``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from conformance.adapter import BatchedSequences
    from esper.kasmina.host import Host
    from esper.kasmina.slot import SeedSlot
    from esper.leyline import SeedStateReport
    from esper.simic.agent import PPOAgent, TamiyoRolloutBuffer
    from esper.simic.agent.network import FactoredRecurrentActorCritic

_HIDDEN = 16


class ReferenceAdapter:
    """:class:`conformance.adapter.ConformanceAdapter` for the reference implementation (this repository)."""

    name = "esper reference implementation"

    def make_host(self) -> Host:
        from esper.kasmina.host import CNNHost, MorphogeneticModel

        return MorphogeneticModel(CNNHost(in_channels=1, channels=(8, 12, 16)))

    def host_slots(self, host: Host) -> Sequence[SeedSlot]:
        return host.seed_slots

    def host_input(self, host: Host, batch: int) -> torch.Tensor:
        return torch.randn(batch, 1, 8, 8)

    def slot_input(self, slot: SeedSlot, batch: int) -> torch.Tensor:
        shape = (batch, slot.channels, 4, 4) if slot.topology == "cnn" else (batch, 6, slot.channels)
        return torch.randn(shape)

    def advance(self, slot: SeedSlot, stage: str) -> None:
        from esper.kasmina.slot import SeedStage
        from tests.kasmina.helpers import drive_to

        drive_to(slot, SeedStage[stage])

    def cull(self, slot: SeedSlot) -> None:
        slot.cull("conformance")

    def make_slot(self, *, topology: str = "cnn") -> SeedSlot:
        from esper.kasmina.slot import SeedSlot
        from esper.kasmina.task_config import TaskConfig

        return SeedSlot("s0", 8, topology=topology, task_config=TaskConfig(topology=topology))

    def slot_report(self, slot: SeedSlot) -> SeedStateReport | None:
        return slot.report()

    def observation(self, slots: Sequence[SeedSlot | None]) -> torch.Tensor:
        from esper.tamiyo.policy.features import build_observation
        from esper.tamiyo.signals import TrainingSignals

        return build_observation(TrainingSignals(), [None if s is None else s.report() for s in slots])

    def make_agent(self, state_dim: int) -> PPOAgent:
        from esper.simic.agent import PPOAgent, PPOConfig

        return PPOAgent(state_dim, PPOConfig(ppo_epochs=1, n_minibatches=1), hidden_dim=32)

    def policy(self, agent: PPOAgent) -> FactoredRecurrentActorCritic:
        return agent.network

    def new_buffer(self, *, num_envs: int, num_steps: int, state_dim: int) -> TamiyoRolloutBuffer:
        from esper.leyline import HEAD_SIZES
        from esper.simic.agent import TamiyoRolloutBuffer

        return TamiyoRolloutBuffer(num_envs, num_steps, state_dim, HEAD_SIZES, _HIDDEN)

    def add_step(
        self,
        buffer: TamiyoRolloutBuffer,
        *,
        env: int,
        obs: torch.Tensor,
        actions: Mapping[str, torch.Tensor],
        log_probs: Mapping[str, torch.Tensor],
        value: float,
        reward: float,
        done: bool,
    ) -> None:
        masks = {name: torch.ones(size, dtype=torch.bool) for name, size in buffer.head_sizes.items()}
        hidden = (torch.zeros(buffer.hidden_dim), torch.zeros(buffer.hidden_dim))
        buffer.add_step(
            env, obs, actions, log_probs, masks, value=value, reward=reward, done=done, truncated=False, hidden=hidden
        )

    def batched_sequences(self, buffer: TamiyoRolloutBuffer, envs: Sequence[int]) -> BatchedSequences:
        return buffer.get_batched_sequences(list(envs))

    def collect_rollout(
        self, agent: PPOAgent, *, num_envs: int, num_steps: int, allow_germinate: bool
    ) -> TamiyoRolloutBuffer:
        from tests.simic_agent.rollouts import collect

        return collect(agent, num_envs, num_steps, allow_germinate=allow_germinate)

    def ppo_update(self, agent: PPOAgent, buffer: TamiyoRolloutBuffer) -> Mapping[str, float]:
        return agent.update(buffer)

    def save_checkpoint(self, agent: PPOAgent, path: Path) -> None:
        agent.save(path)

    def load_checkpoint(self, agent: PPOAgent, path: Path) -> None:
        agent.load(path)

    def execute_in_loop(self, indices: Sequence[Sequence[int]], *, force_standard_tempo: bool = False) -> list[int | None]:
        from esper.data import load_task
        from esper.leyline import FactoredAction, TempoAction
        from esper.simic.rewards import RewardConfig
        from esper.simic.training.environment import SeedEnv

        task = load_task("digits")
        forced = TempoAction.STANDARD if force_standard_tempo else None
        out: list[int | None] = []
        for env_id, row in enumerate(indices):
            env = SeedEnv(env_id, task, max_epochs=4, max_seeds=3, reward_config=RewardConfig(), forced_tempo=forced)
            env.reset(seed=env_id, context={"episode": 0})
            outcome = env.step(FactoredAction.from_indices(*row))
            out.append(outcome.tempo_epochs)
            if outcome.tempo_epochs is not None:
                state = env.model.seed_slots[row[0]].state
                assert state is not None and state.blend_tempo_epochs == outcome.tempo_epochs
        return out


ADAPTER = ReferenceAdapter()
