"""What PPO needs from a process group: a sum all-reduce, and which envs this process's buffer holds.

Decentralised distributed PPO (DD-PPO, Wijmans et al. 2020, arXiv:1911.00357): every process collects rollouts
of its own share of the environments and computes the PPO loss gradients on them; the gradients are summed over
processes before the optimiser step, so every process applies the same update to its copy of the policy.
:class:`PPOAgent.update <esper.simic.agent.ppo.PPOAgent.update>` is written against :class:`Collective`; a
single process uses :class:`LocalCollective` (every reduction is the identity), a ``torch.distributed`` run
passes ``esper.simic.training.distributed.DistContext`` (decision ``DEC.distributed.2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from esper.leyline.validation import check_int


@runtime_checkable
class Collective(Protocol):
    """A group of ``world_size`` processes; this one is ``rank``."""

    @property
    def rank(self) -> int: ...

    @property
    def world_size(self) -> int: ...

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes, in place; returns it (every process gets the same values)."""
        ...


class LocalCollective:
    """The group of one process: every reduction is the identity."""

    @property
    def rank(self) -> int:
        return 0

    @property
    def world_size(self) -> int:
        return 1

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor


@dataclass(frozen=True, slots=True)
class EnvShard:
    """Envs ``start .. stop-1`` of ``total``: the global ids of the rows of one process's rollout buffer."""

    start: int
    stop: int
    total: int

    def __post_init__(self) -> None:
        for name in ("start", "stop", "total"):
            check_int(f"EnvShard.{name}", getattr(self, name))
        if not 0 <= self.start <= self.stop <= self.total or self.total < 1:
            raise ValueError(
                f"EnvShard needs 0 <= start <= stop <= total and total >= 1, got start={self.start}, "
                f"stop={self.stop}, total={self.total}"
            )

    @property
    def count(self) -> int:
        """Envs in this shard."""
        return self.stop - self.start

    @property
    def rows(self) -> slice:
        """This shard's rows in a tensor over all ``total`` envs."""
        return slice(self.start, self.stop)

    @classmethod
    def whole(cls, n_envs: int) -> EnvShard:
        """All ``n_envs`` envs (a single process)."""
        return cls(0, n_envs, n_envs)

    @classmethod
    def of_rank(cls, n_envs: int, world_size: int, rank: int) -> EnvShard:
        """Rank ``rank``'s contiguous share of ``n_envs`` envs: the first ``n_envs % world_size`` ranks get one
        more. Raises ``ValueError`` unless ``1 <= world_size <= n_envs`` and ``0 <= rank < world_size``."""
        for name, value in (("n_envs", n_envs), ("world_size", world_size), ("rank", rank)):
            check_int(name, value)
        if not 1 <= world_size <= n_envs:
            raise ValueError(
                f"world_size must be in [1, n_envs={n_envs}] (every process steps at least one env), got {world_size}"
            )
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size - 1}], got {rank}")
        base, extra = divmod(n_envs, world_size)
        start = rank * base + min(rank, extra)
        return cls(start, start + base + (1 if rank < extra else 0), n_envs)


__all__ = ["Collective", "EnvShard", "LocalCollective"]
