"""A typed batch of whole env sequences, as replayed by recurrent PPO (the rollout buffer's output).

:meth:`TamiyoRolloutBuffer.get_batched_sequences` returns a :class:`SequenceBatch`; PPO splits it into minibatches
of whole sequences with :meth:`SequenceBatch.select`. Fields are typed attributes (per-head tensors in dicts keyed
by :data:`esper.leyline.HEAD_NAMES`); the plan's flat key names (Task 9: ``batch["tempo_actions"]``, Task 10.1:
``batch["op_actions"]``) still read through ``batch[key]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from esper.simic.agent.outputs import LSTMState

_PER_HEAD = ("actions", "log_probs", "masks")
_PER_STEP = ("values", "rewards", "dones", "truncated", "advantages", "returns", "valid", "episode_starts")


def _check_rows(index: object) -> None:
    """``TypeError`` unless ``index`` is a 1-D int64 tensor (rows of a batch)."""
    if not isinstance(index, torch.Tensor) or index.dtype != torch.long or index.dim() != 1:
        got = f"{index.dtype} {tuple(index.shape)}" if isinstance(index, torch.Tensor) else type(index).__name__
        raise TypeError(f"index must be a 1-D int64 tensor of sequence rows, got {got}")


@dataclass(frozen=True, eq=False, slots=True)
class SequenceBatch:
    """``B`` env sequences of ``T`` steps, padded at the end (``valid`` is False on padding).

    Shapes: ``obs`` ``(B, T, obs_dim)`` float; ``actions[head]`` ``(B, T)`` int64; ``log_probs[head]`` ``(B, T)``
    (at collection time); ``masks[head]`` ``(B, T, n_head)`` bool (True = the action was allowed; all True on
    padding); ``values``, ``rewards``, ``advantages``, ``returns`` ``(B, T)`` float (advantages/returns are zero
    until GAE ran); ``dones``, ``truncated``, ``valid``, ``episode_starts`` ``(B, T)`` bool (``episode_starts``:
    the step follows an episode end, so the LSTM state is zeroed before it); ``initial_hidden`` the stored LSTM
    state before step 0, each ``(B, hidden_dim)``.
    """

    obs: torch.Tensor
    actions: dict[str, torch.Tensor]
    log_probs: dict[str, torch.Tensor]
    masks: dict[str, torch.Tensor]
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    truncated: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    valid: torch.Tensor
    episode_starts: torch.Tensor
    initial_hidden: LSTMState

    @property
    def num_sequences(self) -> int:
        """``B``."""
        return int(self.obs.shape[0])

    @property
    def num_steps(self) -> int:
        """``T`` (the longest sequence; shorter ones are padded)."""
        return int(self.obs.shape[1])

    def select(self, index: torch.Tensor) -> SequenceBatch:
        """The sequences ``index`` (a 1-D int64 tensor of rows), e.g. one PPO minibatch."""
        _check_rows(index)
        return SequenceBatch(
            obs=self.obs[index],
            actions={name: t[index] for name, t in self.actions.items()},
            log_probs={name: t[index] for name, t in self.log_probs.items()},
            masks={name: t[index] for name, t in self.masks.items()},
            values=self.values[index],
            rewards=self.rewards[index],
            dones=self.dones[index],
            truncated=self.truncated[index],
            advantages=self.advantages[index],
            returns=self.returns[index],
            valid=self.valid[index],
            episode_starts=self.episode_starts[index],
            initial_hidden=LSTMState(self.initial_hidden.h[index], self.initial_hidden.c[index]),
        )

    def with_advantages(self, advantages: torch.Tensor) -> SequenceBatch:
        """A copy with ``advantages`` ``(B, T)`` replaced (e.g. normalised); other fields are shared, not copied."""
        if not isinstance(advantages, torch.Tensor) or advantages.shape != self.advantages.shape:
            got = tuple(advantages.shape) if isinstance(advantages, torch.Tensor) else type(advantages).__name__
            raise ValueError(f"advantages must be a tensor of shape {tuple(self.advantages.shape)}, got {got}")
        return dataclasses.replace(self, advantages=advantages)

    # --- the plan's flat key names (Task 9, Task 10.1) -----------------------------------------------------
    def keys(self) -> list[str]:
        """Flat names: ``obs``, ``<head>_actions``, ``<head>_log_probs``, ``<head>_masks`` per head, the per-step
        fields, ``initial_h`` and ``initial_c``."""
        heads = [f"{name}_{kind}" for name in self.actions for kind in _PER_HEAD]
        return ["obs", *heads, *_PER_STEP, "initial_h", "initial_c"]

    def __getitem__(self, key: str) -> torch.Tensor:
        """The tensor under a flat name (see :meth:`keys`); an unknown name raises ``KeyError`` listing them."""
        if key == "obs" or key in _PER_STEP:
            tensor: torch.Tensor = getattr(self, key)
            return tensor
        if key in ("initial_h", "initial_c"):
            return self.initial_hidden.h if key == "initial_h" else self.initial_hidden.c
        for kind in _PER_HEAD:
            head = key.removesuffix(f"_{kind}")
            per_head: dict[str, torch.Tensor] = getattr(self, kind)
            if head != key and head in per_head:
                return per_head[head]
        raise KeyError(f"{key!r} is not a SequenceBatch key; valid: {self.keys()}")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.keys()


@dataclass(frozen=True, eq=False, slots=True)
class StackedBatch:
    """The PPO update's layout of a :class:`SequenceBatch` (DEC.perf.5): every per-head field stacked once per
    update, so a minibatch is a few row gathers and the loss needs no per-head stacking.

    Shapes (``B`` sequences, ``T`` steps, ``K`` heads in ``HEAD_NAMES`` order, ``W`` the widest head):
    ``obs`` ``(B, T, obs_dim)``; ``initial_hidden`` each ``(B, hidden_dim)``, already zero where step 0 starts an
    episode; ``episode_starts`` ``(B, T)`` bool, or ``None`` when no episode starts after step 0 in the whole
    update's batch (the replay then needs no split); ``actions`` ``(B, T, K)`` int64; ``padded_masks``
    ``(B, T, K, W)`` bool (the network's ``padded_masks`` layout); ``advantages``, ``returns``, ``values`` ``(B, T)``;
    ``valid`` ``(B, T)`` bool. Head-major ``(K, B, T)``: ``old_log_probs``; bool ``counted`` (causally relevant and
    valid), ``real_choice`` (more than one valid action) and ``choice`` (both).
    """

    obs: torch.Tensor
    initial_hidden: LSTMState
    episode_starts: torch.Tensor | None
    actions: torch.Tensor
    padded_masks: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    values: torch.Tensor
    valid: torch.Tensor
    old_log_probs: torch.Tensor
    counted: torch.Tensor
    real_choice: torch.Tensor
    choice: torch.Tensor

    def select(self, index: torch.Tensor) -> StackedBatch:
        """The sequences ``index`` (a 1-D int64 tensor of rows), e.g. one PPO minibatch."""
        _check_rows(index)
        return StackedBatch(
            obs=self.obs[index],
            initial_hidden=LSTMState(self.initial_hidden.h[index], self.initial_hidden.c[index]),
            episode_starts=None if self.episode_starts is None else self.episode_starts[index],
            actions=self.actions[index],
            padded_masks=self.padded_masks[index],
            advantages=self.advantages[index],
            returns=self.returns[index],
            values=self.values[index],
            valid=self.valid[index],
            old_log_probs=self.old_log_probs[:, index],
            counted=self.counted[:, index],
            real_choice=self.real_choice[:, index],
            choice=self.choice[:, index],
        )


__all__ = ["SequenceBatch", "StackedBatch"]
