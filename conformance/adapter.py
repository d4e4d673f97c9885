"""The adapter protocol: what the kit needs from a target where the plan names no API.

The plan names the modules, classes and functions the conformance tests call directly (``HEAD_NAMES``,
``compute_*_mask``, ``SeedSlot.germinate``, ``FactoredRecurrentActorCritic.get_action`` ...). It does not say how to
build a host, an observation from slot states, a rollout buffer, one PPO update or a checkpoint. A target supplies
those few operations through an object satisfying :class:`ConformanceAdapter`, named by
``ESPER_CONFORMANCE_ADAPTER=module:object`` (the kit ships :mod:`conformance.adapters.reference` for this package).

Types below are the plan's classes; they are imported for static checking only, so the kit itself never imports
``esper`` at import time (a target lacking a name fails only the tests that use it).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import torch

if TYPE_CHECKING:
    from esper.kasmina.host import Host
    from esper.kasmina.slot import SeedSlot
    from esper.leyline import SeedStateReport
    from esper.simic.agent.ppo import PPOAgent
    from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer
    from esper.simic.agent.network import FactoredRecurrentActorCritic


class BatchedSequences(Protocol):
    """What ``get_batched_sequences`` returns: plan Task 9's flat keys (``batch["tempo_actions"]``) read by ``[]``."""

    def __getitem__(self, key: str) -> torch.Tensor: ...


@runtime_checkable
class ConformanceAdapter(Protocol):
    """Operations the plan leaves unnamed. Every method works on CPU and is deterministic given torch's seed."""

    name: str
    """Human-readable name of the implementation, shown in the report header."""

    def make_host(self) -> Host:
        """A CNN ``Host`` (the plan's ``Host``, with ``germinate_seed``) with exactly 3 empty seed slots."""
        ...

    def host_slots(self, host: Host) -> Sequence[SeedSlot]:
        """The host's seed slots, in slot-index order."""
        ...

    def host_input(self, host: Host, batch: int) -> torch.Tensor:
        """A valid input batch for ``host.forward``."""
        ...

    def slot_input(self, slot: SeedSlot, batch: int) -> torch.Tensor:
        """A valid feature batch for ``slot.forward`` (the host activations at the slot's injection point)."""
        ...

    def advance(self, slot: SeedSlot, stage: str) -> None:
        """Drive the slot's germinated seed forward to ``stage`` (``"TRAINING"``, ``"BLENDING"``,
        ``"PROBATIONARY"`` or ``"FOSSILIZED"``), recording metrics that pass every lifecycle gate."""
        ...

    def cull(self, slot: SeedSlot) -> None:
        """Remove the slot's seed, leaving the slot empty (the start of a new seed's episode)."""
        ...

    def make_slot(self, *, topology: str = "cnn") -> SeedSlot:
        """An empty standalone ``SeedSlot`` whose task topology is ``"cnn"`` or ``"transformer"``."""
        ...

    def slot_report(self, slot: SeedSlot) -> SeedStateReport | None:
        """The slot state that ``compute_*_mask`` and the observation read (``None`` for an empty slot)."""
        ...

    def observation(self, slots: Sequence[SeedSlot | None]) -> torch.Tensor:
        """The policy's 1-D float observation for these slots (``None`` = empty), with default training signals."""
        ...

    def make_agent(self, state_dim: int) -> PPOAgent:
        """A freshly initialised ``PPOAgent`` for observations of ``state_dim`` features (default heads)."""
        ...

    def policy(self, agent: PPOAgent) -> FactoredRecurrentActorCritic:
        """The agent's actor-critic network."""
        ...

    def new_buffer(self, *, num_envs: int, num_steps: int, state_dim: int) -> TamiyoRolloutBuffer:
        """An empty ``TamiyoRolloutBuffer`` for ``num_envs`` envs of ``num_steps`` steps each."""
        ...

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
        """Append one step of env ``env`` (scalar tensors per head; all actions valid)."""
        ...

    def batched_sequences(self, buffer: TamiyoRolloutBuffer, envs: Sequence[int]) -> BatchedSequences:
        """``buffer.get_batched_sequences`` for these envs: per-head ``{name}_actions``/``{name}_log_probs`` of
        shape ``(len(envs), steps)``, rows in ``envs`` order."""
        ...

    def collect_rollout(
        self, agent: PPOAgent, *, num_envs: int, num_steps: int, allow_germinate: bool
    ) -> TamiyoRolloutBuffer:
        """A finished buffer of the agent's own samples on random observations (GERMINATE masked out when
        ``allow_germinate`` is false), ready for one PPO update."""
        ...

    def ppo_update(self, agent: PPOAgent, buffer: TamiyoRolloutBuffer) -> Mapping[str, float]:
        """One PPO update on ``buffer``; leaves each parameter's ``.grad`` from the last minibatch."""
        ...

    def save_checkpoint(self, agent: PPOAgent, path: Path) -> None:
        """Write the agent's checkpoint to ``path``."""
        ...

    def load_checkpoint(self, agent: PPOAgent, path: Path) -> None:
        """Load ``path`` into ``agent``; must raise when the checkpoint's layout differs from the agent's."""
        ...

    def execute_in_loop(self, indices: Sequence[Sequence[int]], *, force_standard_tempo: bool = False) -> list[int | None]:
        """Run one epoch of the training loop in which env ``i``'s policy sampled head indices ``indices[i]`` (in
        ``HEAD_NAMES`` order) and return, per env, the ``blend_tempo_epochs`` of the seed that epoch germinated
        (``None`` when nothing germinated). ``force_standard_tempo`` is the plan's rollback quick fix."""
        ...


def load_adapter(spec: str) -> ConformanceAdapter:
    """Import ``module:object`` and check that it satisfies :class:`ConformanceAdapter`."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"adapter must be given as 'module:object', got {spec!r}")
    module = importlib.import_module(module_name)
    try:
        adapter: object = getattr(module, attr)
    except AttributeError:
        raise ValueError(f"adapter module {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(adapter, ConformanceAdapter):
        missing = [name for name in _METHODS if not hasattr(adapter, name)]
        raise TypeError(f"adapter {spec!r} does not satisfy ConformanceAdapter; missing: {missing}")
    return adapter


_METHODS: tuple[str, ...] = tuple(
    name for name in vars(ConformanceAdapter) if not name.startswith("_")
) + ("name",)
