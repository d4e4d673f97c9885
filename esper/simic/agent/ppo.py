"""Recurrent PPO for Tamiyo with per-head causal masking (plan Task 10).

One :meth:`PPOAgent.update` = ``ppo_epochs`` passes over the buffer, each split into ``n_minibatches``
minibatches of whole env sequences. Each sequence is replayed from its stored initial LSTM state (reset at
episode starts). Per head, the clipped surrogate uses that head's ratio and the advantage gated by the causal
head mask, so a head that had no effect on a step gets no policy gradient from it; the entropy bonus is gated
the same way. Before each optimizer step the guard reads one flag: if the minibatch's approximate KL (computed
with the parameters the step would change) exceeds ``1.5 * target_kl`` the step is not taken and the update
stops; a non-finite loss or gradient norm skips the step. Metrics accumulate on the device and are read once.

Distributed (DD-PPO, decision ``DEC.distributed.2``): with a :class:`~esper.simic.agent.collective.Collective` of
several processes, each holds the rollouts of its own envs. Every process draws the same permutation of all envs,
so minibatch *k* is the same set of envs as in a single-process run; each process computes the loss of its envs'
share of the minibatch normalised by the minibatch's *global* step count (and global advantage statistics), and
the gradients are summed, which equals the single-process minibatch gradient.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import torch
from torch import nn

from esper.leyline import HEAD_NAMES, NUM_SLOTS, head_sizes
from esper.leyline.defaults import (
    DEFAULT_ADAM_EPS,
    DEFAULT_CLIP_RATIO,
    DEFAULT_ENTROPY_COEF,
    DEFAULT_ENTROPY_FLOOR,
    DEFAULT_ENTROPY_FLOOR_COEF,
    DEFAULT_GAE_LAMBDA,
    DEFAULT_GAMMA,
    DEFAULT_HIDDEN_DIM,
    DEFAULT_LR,
    DEFAULT_MAX_GRAD_NORM,
    DEFAULT_N_MINIBATCHES,
    DEFAULT_PPO_EPOCHS,
    DEFAULT_TARGET_KL,
    DEFAULT_VALUE_COEF,
)
from esper.leyline.validation import (
    MAX_COUNT,
    check_bool,
    check_float,
    check_int,
    check_optional_float,
    dataclass_from_dict,
    same_device,
)
from esper.simic.agent.advantages import causal_head_masks
from esper.simic.agent.collective import Collective, EnvShard, LocalCollective
from esper.simic.agent.checkpoint import (
    CheckpointFormatError,
    CheckpointIncompatibleError,
    PolicyLayout,
    Primitive,
    check_finite,
    check_optimizer_state,
    load_checkpoint,
    save_checkpoint,
)
from esper.simic.agent.distributions import check_actions, check_mask_rows
from esper.simic.agent.minibatch import SequenceBatch, StackedBatch
from esper.simic.agent.network import FactoredRecurrentActorCritic
from esper.simic.agent.normalizer import RunningMeanStd
from esper.simic.agent.outputs import ActionSample, Hidden, LSTMState
from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer
from esper.simic.agent.step_guard import StepGuard
from esper.simic.devices import check_available_device

MAX_LR = 1.0
"""Largest accepted Adam learning rate (DEC.validation.3)."""

MIN_ADAM_EPS = float(torch.finfo(torch.float32).tiny)
"""Smallest accepted Adam epsilon: the smallest normal float32 (a smaller eps rounds to 0 in float32 parameters)."""

DEGENERATE_RELATIVE_SPREAD = 1.0e-5
"""A spread (standard deviation) below this fraction of the values' magnitude is rounding noise (~100 float32
ulps): explained variance then reports 0.0 and normalised advantages are 0 (issue 13 item 5)."""

KL_STOP_FACTOR = 1.5
"""The update stops before a step whose minibatch approx KL exceeds ``KL_STOP_FACTOR * target_kl``."""


def default_entropy_coef_per_head() -> dict[str, float]:
    """Entropy multiplier 1.0 for every head in ``HEAD_NAMES`` (plan 10.3)."""
    return {name: 1.0 for name in HEAD_NAMES}


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyper-parameters (defaults from ``esper.leyline.defaults``)."""

    gamma: float = DEFAULT_GAMMA
    gae_lambda: float = DEFAULT_GAE_LAMBDA
    clip_ratio: float = DEFAULT_CLIP_RATIO
    lr: float = DEFAULT_LR
    adam_eps: float = DEFAULT_ADAM_EPS
    value_coef: float = DEFAULT_VALUE_COEF
    max_grad_norm: float = DEFAULT_MAX_GRAD_NORM
    entropy_coef: float = DEFAULT_ENTROPY_COEF
    entropy_coef_per_head: dict[str, float] = field(default_factory=default_entropy_coef_per_head)
    """Per-head multipliers of ``entropy_coef``; heads left out get 1.0, unknown heads are an error."""
    entropy_floor: float = DEFAULT_ENTROPY_FLOOR
    """Per-head entropy floor (nats): a head whose mean entropy over its causally relevant steps with a real choice
    (more than one valid action) falls below it pays ``entropy_floor_coef * (floor - entropy)``, which keeps it from
    collapsing prematurely. 0 disables."""
    entropy_floor_coef: float = DEFAULT_ENTROPY_FLOOR_COEF
    ppo_epochs: int = DEFAULT_PPO_EPOCHS
    n_minibatches: int = DEFAULT_N_MINIBATCHES
    """Minibatches of whole env sequences per epoch (capped at the number of non-empty sequences)."""
    target_kl: float | None = DEFAULT_TARGET_KL
    """``None`` disables the KL early stop."""
    value_clip: float | None = DEFAULT_CLIP_RATIO
    """Clip range of the value update around the rollout value; ``None`` disables value clipping."""
    normalize_advantages: bool = True

    def __post_init__(self) -> None:
        # DEC.validation.3: every float is finite; lr and adam_eps have bounds outside which one Adam step
        # overflows (lr=1e308) or divides by a subnormal (adam_eps=1e-320 is 0 in float32).
        bounds: dict[str, dict[str, Any]] = {
            "gamma": {"low": 0.0, "high": 1.0},
            "gae_lambda": {"low": 0.0, "high": 1.0},
            "clip_ratio": {"low": 0.0, "low_open": True},
            "lr": {"low": 0.0, "low_open": True, "high": MAX_LR},
            "adam_eps": {"low": MIN_ADAM_EPS, "high": 1.0},
            "max_grad_norm": {"low": 0.0, "low_open": True},
            "value_coef": {"low": 0.0},
            "entropy_coef": {"low": 0.0},
            "entropy_floor": {"low": 0.0},
            "entropy_floor_coef": {"low": 0.0},
        }
        for name, kw in bounds.items():
            object.__setattr__(self, name, check_float(f"PPOConfig.{name}", getattr(self, name), **kw))
        for name in ("target_kl", "value_clip"):
            value = check_optional_float(f"PPOConfig.{name}", getattr(self, name), low=0.0, low_open=True)
            object.__setattr__(self, name, value)
        for name in ("ppo_epochs", "n_minibatches"):
            check_int(f"PPOConfig.{name}", getattr(self, name), low=1, high=MAX_COUNT)
        check_bool("PPOConfig.normalize_advantages", self.normalize_advantages)
        coefs = self.entropy_coef_per_head
        if not isinstance(coefs, Mapping):
            raise TypeError(
                f"PPOConfig.entropy_coef_per_head must be a dict mapping heads {list(HEAD_NAMES)} to floats >= 0, "
                f"got {type(coefs).__name__}"
            )
        unknown = sorted(str(k) for k in coefs if k not in HEAD_NAMES)
        if unknown:
            raise ValueError(f"entropy_coef_per_head has unknown heads {unknown}; valid: {list(HEAD_NAMES)}")
        merged = default_entropy_coef_per_head()
        for name, coef in coefs.items():
            merged[name] = check_float(f"PPOConfig.entropy_coef_per_head[{name!r}]", coef, low=0.0)
        object.__setattr__(self, "entropy_coef_per_head", merged)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PPOConfig:
        """Inverse of :meth:`to_dict` (missing keys take defaults). A non-dict or a wrongly typed value raises
        ``TypeError``; an unknown key or a value out of range raises ``ValueError``."""
        return dataclass_from_dict(cls, data)


HeadValues: TypeAlias = Mapping[str, torch.Tensor] | torch.Tensor
"""Per-head ``(B, T)`` tensors: a mapping head → tensor, or one stacked ``(H, B, T)`` tensor whose rows follow the
head order of the ``counted`` argument they come with (``HEAD_NAMES`` when ``counted`` is itself stacked)."""


def _head_order(counted: HeadValues) -> tuple[str, ...]:
    """The heads of ``counted``, in the order of a stacked ``(H, B, T)`` layout."""
    return HEAD_NAMES if isinstance(counted, torch.Tensor) else tuple(counted)


def _stacked(values: HeadValues, names: tuple[str, ...]) -> torch.Tensor:
    """``values`` as one ``(H, B, T)`` tensor in ``names`` order (a stacked tensor is passed through)."""
    return values if isinstance(values, torch.Tensor) else torch.stack([values[name] for name in names])


@functools.lru_cache(maxsize=32)
def _head_weights(weights: tuple[float, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(H, 1, 1)`` constant weights, made once per (weights, dtype, device) so the update never copies them to
    the device (a blocking copy on CUDA). Read-only: shared between calls."""
    return torch.tensor(weights, dtype=dtype, device=device).view(-1, 1, 1)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, values, 0.0).sum() / count


def _degenerate(variance: torch.Tensor, mean_square: torch.Tensor) -> torch.Tensor:
    """True when ``variance`` of some values is rounding noise: ``std <= DEGENERATE_RELATIVE_SPREAD * rms``, with
    ``rms = sqrt(mean_square)`` the values' size (also true when there are no values). Both moments are sums over
    steps, so processes can all-reduce them (issue 15). No host sync."""
    return variance.sqrt() <= DEGENERATE_RELATIVE_SPREAD * mean_square.sqrt()


def _policy_term(
    ratio: HeadValues,
    advantages: torch.Tensor,
    counted: HeadValues,
    steps: torch.Tensor,
    clip_ratio: float,
) -> torch.Tensor:
    """Clipped surrogate, per head: ``−Σ_head Σ_counted min(r·A, clip(r, 1 ± ε)·A) / steps`` (plan Task 10: a head
    gets advantage only where it was causally relevant; ``steps`` = number of padding-valid steps). All heads at
    once on the stacked ``(H, B, T)`` layout; ``advantages`` ``(B, T)`` is shared by the heads."""
    names = _head_order(counted)
    ratio, counted = _stacked(ratio, names), _stacked(counted, names)
    clipped_ratio = ratio.clamp(1.0 - clip_ratio, 1.0 + clip_ratio)
    surrogate = torch.minimum(ratio * advantages, clipped_ratio * advantages)
    return -_masked_mean(surrogate, counted, steps)


def _value_term(
    value: torch.Tensor,
    returns: torch.Tensor,
    old_value: torch.Tensor,
    padding_valid: torch.Tensor,
    steps: torch.Tensor,
    value_clip: float | None,
) -> torch.Tensor:
    """``0.5 · mean (V − R)²`` over padding-valid steps; with ``value_clip`` the larger of that and the error of
    ``V`` clipped to ``old_value ± value_clip`` (PPO2-style value clipping)."""
    error = (value - returns).square()
    if value_clip is not None:
        clipped_value = old_value + (value - old_value).clamp(-value_clip, value_clip)
        error = torch.maximum(error, (clipped_value - returns).square())
    return 0.5 * _masked_mean(error, padding_valid, steps)


def _entropy_term(
    entropy: HeadValues,
    counted: HeadValues,
    steps: torch.Tensor,
    coef_per_head: Mapping[str, float],
) -> torch.Tensor:
    """Entropy bonus ``Σ_head coef_head · Σ_counted H / steps`` (gated by causal relevance like the policy term)."""
    names = _head_order(counted)
    entropy, counted = _stacked(entropy, names), _stacked(counted, names)
    coefs = _head_weights(tuple(coef_per_head[name] for name in names), entropy.dtype, entropy.device)
    return _masked_mean(entropy * coefs, counted, steps)


def _entropy_floor_term(
    entropy: HeadValues,
    counted: HeadValues,
    action_validity: Mapping[str, torch.Tensor] | torch.Tensor,
    floor: float,
    totals: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """``Σ_head max(0, floor − H̄_head)``, ``H̄_head`` the mean entropy over the head's counted steps with a real
    choice (more than one valid action); a head with no such step adds 0, and ``floor = 0`` disables the term.

    ``action_validity``: per head the ``(B, T, n)`` action masks, or already the stacked ``(H, B, T)`` bool
    "more than one valid action" (what :meth:`PPOAgent._minibatch_loss` passes).

    ``totals``: when the minibatch is split over processes, ``(entropy sums, choice-step counts)`` per head (in
    ``counted``'s order) of the *whole* minibatch, detached. The max is not linear in a process's steps, so a
    process contributes ``(floor·C_r − S_r) / C`` where the whole minibatch's head is below the floor; the
    contributions add up to the term and its gradient (decision ``DEC.distributed.2``). Default: this minibatch
    is the whole one."""
    names = _head_order(counted)
    entropy, counted = _stacked(entropy, names), _stacked(counted, names)
    if floor <= 0.0:
        return entropy.new_zeros(())
    real_choice = (
        action_validity
        if isinstance(action_validity, torch.Tensor)
        else torch.stack([action_validity[name].sum(dim=-1) > 1 for name in names])
    )
    choice = counted & real_choice
    own_sum = torch.where(choice, entropy, 0.0).sum(dim=(1, 2))  # (H,)
    own_count = choice.sum(dim=(1, 2)).to(entropy.dtype)
    total_sum, count = (own_sum.detach(), own_count) if totals is None else totals
    below = (count > 0) & (total_sum < floor * count)
    # (floor·C_r − S_r) / C per head: summed over processes, max(0, floor − H̄) and its gradient (DEC.distributed.2)
    return torch.where(below, (floor * own_count - own_sum) / count.clamp_min(1), 0.0).sum()


def _head_membership(params: list[nn.Parameter], head_params: Mapping[str, list[nn.Parameter]]) -> torch.Tensor:
    """``(H, P)`` 0/1 matrix: row ``h`` marks which of ``params`` belong to head ``h`` (``head_params`` order)."""
    position = {id(p): i for i, p in enumerate(params)}
    membership = torch.zeros(len(head_params), len(params), device=params[0].device)
    for row, members in enumerate(head_params.values()):
        membership[row, [position[id(p)] for p in members]] = 1.0
    return membership


def _grad_norms(params: list[nn.Parameter], membership: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Global gradient L2 norm over ``params`` and the ``(H,)`` norms of each head's gradients (``membership`` from
    :func:`_head_membership`), from one fused per-tensor norm (DEC.perf.4); a missing gradient counts as 0."""
    grads = [p.grad if p.grad is not None else p.new_zeros(()) for p in params]
    squared = torch.stack(torch._foreach_norm(grads)).square()
    return squared.sum().sqrt(), (membership @ squared).sqrt()


class PPOAgent:
    """Owns the policy network, its Adam optimiser and the observation normaliser; trains with PPO."""

    def __init__(
        self,
        state_dim: int,
        config: PPOConfig | None = None,
        num_slots: int = NUM_SLOTS,
        device: str | torch.device = "cpu",
        *,
        hidden_dim: int = DEFAULT_HIDDEN_DIM,
        slot_feature_size: int | None = None,
        entropy_coef_per_head: Mapping[str, float] | None = None,
        collective: Collective | None = None,
    ) -> None:
        if collective is not None and not isinstance(collective, Collective):
            raise TypeError(f"collective must be a Collective or None, got {type(collective).__name__}")
        self.collective: Collective = LocalCollective() if collective is None else collective
        """The processes this agent's updates are summed over (one process: :class:`LocalCollective`)."""
        if config is not None and not isinstance(config, PPOConfig):
            raise TypeError(f"config must be a PPOConfig or None, got {type(config).__name__}")
        config = config or PPOConfig()
        if entropy_coef_per_head is not None:
            config = dataclasses.replace(config, entropy_coef_per_head=dict(entropy_coef_per_head))
        self.config = config
        self.device = torch.device(device)
        sizes = head_sizes(num_slots)
        self.network = FactoredRecurrentActorCritic(
            state_dim,
            hidden_dim=hidden_dim,
            num_slots=sizes["slot"],
            num_blueprints=sizes["blueprint"],
            num_blend=sizes["blend"],
            num_tempo=sizes["tempo"],
            num_ops=sizes["op"],
            device=self.device,
        )
        # fused=True: one kernel for all parameters (CPU and CUDA); ~20x faster than the per-tensor loop (DEC.perf.2).
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.lr, eps=config.adam_eps, fused=True)
        self.obs_normalizer = RunningMeanStd(state_dim, device=self.device)
        self.num_slots = num_slots
        self.slot_feature_size = slot_feature_size
        self.layout = PolicyLayout(
            obs_dim=state_dim,
            head_names=self.network.head_names,
            head_sizes=dict(self.network.head_sizes),
            num_slots=num_slots,
            hidden_dim=hidden_dim,
            slot_feature_size=slot_feature_size,
        )

    @property
    def entropy_coef_per_head(self) -> dict[str, float]:
        return self.config.entropy_coef_per_head

    # --- acting ------------------------------------------------------------------------------------------
    def normalize_obs(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        """Normalise raw observations (optionally folding them into the running statistics first).

        The training loop feeds the *normalised* observation to :meth:`get_action` and stores it in the buffer,
        so the update replays exactly what the policy saw.
        """
        if update:
            self.obs_normalizer.update(obs)
        return self.obs_normalizer.normalize(obs)

    def get_action(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None = None,
        masks: dict[str, torch.Tensor] | None = None,
        deterministic: bool = False,
    ) -> ActionSample:
        """Passthrough to :meth:`FactoredRecurrentActorCritic.get_action`."""
        return self.network.get_action(obs, hidden, masks, deterministic)

    def initial_hidden(self, batch_size: int) -> LSTMState:
        return self.network.initial_hidden(batch_size)

    def make_buffer(self, num_envs: int, max_steps: int) -> TamiyoRolloutBuffer:
        """A rollout buffer sized for this agent."""
        return TamiyoRolloutBuffer(
            num_envs, max_steps, self.network.state_dim, self.network.head_sizes, self.network.hidden_dim, self.device
        )

    # --- learning ----------------------------------------------------------------------------------------
    def _check_buffer(self, buffer: TamiyoRolloutBuffer) -> None:
        if not isinstance(buffer, TamiyoRolloutBuffer):
            raise TypeError(f"buffer must be a TamiyoRolloutBuffer, got {type(buffer).__name__}")
        mine = (self.network.state_dim, self.network.hidden_dim, self.network.head_sizes)
        theirs = (buffer.obs_dim, buffer.hidden_dim, buffer.head_sizes)
        if mine != theirs:
            raise ValueError(f"buffer layout (obs_dim, hidden_dim, head_sizes) {theirs} does not match the agent's {mine}")
        if not same_device(buffer.device, self.device):
            raise ValueError(f"buffer is on {buffer.device}, the agent on {self.device}")
        if not buffer.finished:
            raise ValueError("buffer.finish(last_values) must be called after the last step, before update()")

    def _stat_keys(self) -> list[str]:
        """Per-minibatch statistics, in the fixed order they are summed over processes."""
        entropies = [f"entropy_{name}" for name in HEAD_NAMES]
        return [*entropies, "approx_kl", "clipped", "relevant", "policy_loss", "value_loss", "loss", "entropy_floor_penalty"]

    def _stack(self, data: SequenceBatch) -> StackedBatch:
        """``data`` in the update's stacked layout (DEC.perf.5): once per update, everything that does not depend on
        the parameters (per-head stacks, padded masks, causal-relevance and real-choice masks). One host sync, to
        learn whether any episode starts after step 0 (if none, the replay never splits a sequence)."""
        heads = HEAD_NAMES  # the heads that learn (the one source of truth, also for the causal masks)
        starts = data.episode_starts
        keep = (~starts[:, 0]).unsqueeze(-1).to(data.initial_hidden.h.dtype)  # a start at step 0 zeroes the state
        causal_relevance = causal_head_masks(data.actions["op"])
        counted = torch.stack([causal_relevance[name] for name in heads]) & data.valid
        real_choice = torch.stack([data.masks[name].sum(dim=-1) > 1 for name in heads])  # from the action validity
        return StackedBatch(
            obs=data.obs,
            initial_hidden=LSTMState(data.initial_hidden.h * keep, data.initial_hidden.c * keep),
            episode_starts=starts if bool(starts[:, 1:].any()) else None,
            actions=torch.stack([data.actions[name] for name in self.network.head_names], dim=-1),
            padded_masks=self.network.padded_masks(data.masks, tuple(data.valid.shape)),
            advantages=data.advantages,
            returns=data.returns,
            values=data.values,
            valid=data.valid,
            old_log_probs=torch.stack([data.log_probs[name] for name in heads]),
            counted=counted,
            real_choice=real_choice,
            choice=counted & real_choice,
        )

    def _evaluate(self, mb: StackedBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """New log-probs and entropies ``(K, B, T)`` and values ``(B, T)`` of ``mb``'s stored actions: the network's
        fast path, or with ``network.fused_replay = False`` its step-by-step reference path."""
        network, heads = self.network, HEAD_NAMES
        if network.fused_replay:
            log_probs, entropy, values = network.evaluate_padded(
                mb.obs, mb.actions, mb.initial_hidden, mb.padded_masks, mb.episode_starts
            )
            if heads != network.head_names:  # only the heads that learn, in their order
                rows = torch.tensor([network.head_names.index(n) for n in heads], device=values.device)
                log_probs, entropy = log_probs.index_select(-1, rows), entropy.index_select(-1, rows)
            return log_probs.permute(2, 0, 1), entropy.permute(2, 0, 1), values
        names = network.head_names
        actions = dict(zip(names, mb.actions.unbind(-1)))
        masks = {name: mb.padded_masks[..., k, : network.head_sizes[name]] for k, name in enumerate(names)}
        new = network.evaluate_actions(mb.obs, actions, mb.initial_hidden, masks, mb.episode_starts, check_values=False)
        return torch.stack([new.log_probs[n] for n in heads]), torch.stack([new.entropy[n] for n in heads]), new.value

    def _minibatch_loss(
        self, mb: StackedBatch | SequenceBatch | None
    ) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        """PPO loss of this process's share of one minibatch of whole sequences, and its detached statistics, as
        contributions: every mean is over the *whole* minibatch's steps (one all-reduce of per-head sums gives
        them), so the losses and statistics of all processes add up to the single-process minibatch's (all on the
        device). ``mb=None``: this process holds none of the minibatch's envs (zero contributions, no loss). A
        :class:`SequenceBatch` is stacked first (:meth:`_stack`); the update passes stacked minibatches.

        ``loss = policy + value_coef·value − entropy_coef·entropy + entropy_floor_coef·entropy_floor``, each term
        computed by the function of that name below. Three kinds of mask, each ``True`` = counts:

        - padding-valid ``mb.valid`` ``(B, T)``: a real step, not padding past the end of a sequence;
        - causal-relevance ``(B, T)`` per head: the head's choice influenced the step (plan Task 10.1), from the
          op actions;
        - action-validity ``(B, T, n)`` per head: the actions that were allowed (they shaped the logits; the
          entropy floor only counts steps where a head had more than one).
        """
        cfg = self.config
        heads = HEAD_NAMES
        if mb is None:
            self.collective.all_reduce_sum(torch.zeros(1 + 2 * len(heads), device=self.device))
            return None, {key: torch.zeros((), device=self.device) for key in self._stat_keys()}
        if isinstance(mb, SequenceBatch):
            mb = self._stack(mb)
        # Per-head quantities as (H, B, T) in ``heads`` order: every term is a few ops for all heads at once,
        # forward and backward (DEC.perf.4).
        new_log_probs, entropy_per_head, new_value = self._evaluate(mb)
        padding_valid, counted, real_choice, choice = mb.valid, mb.counted, mb.real_choice, mb.choice
        old_log_probs = mb.old_log_probs
        dtype = new_value.dtype
        # The whole minibatch over all processes (DEC.distributed.2): its step count, and per head the entropy sums
        # and step counts where the head had a real choice (for the entropy floor). One all-reduce.
        totals = self.collective.all_reduce_sum(
            torch.cat(
                [
                    padding_valid.sum().to(dtype).view(1),
                    torch.where(choice, entropy_per_head.detach(), 0.0).sum(dim=(1, 2)),
                    choice.sum(dim=(1, 2)).to(dtype),
                ]
            )
        )
        steps = totals[0].clamp_min(1)
        log_ratio = torch.where(counted, new_log_probs - old_log_probs, 0.0)
        ratio = log_ratio.exp()

        policy = _policy_term(ratio, mb.advantages, counted, steps, cfg.clip_ratio)
        value = _value_term(new_value, mb.returns, mb.values, padding_valid, steps, cfg.value_clip)
        entropy = _entropy_term(entropy_per_head, counted, steps, cfg.entropy_coef_per_head)
        entropy_floor = _entropy_floor_term(
            entropy_per_head, counted, real_choice, cfg.entropy_floor, (totals[1 : 1 + len(heads)], totals[1 + len(heads) :])
        )
        loss = (
            policy
            + cfg.value_coef * value
            - cfg.entropy_coef * entropy
            + cfg.entropy_floor_coef * entropy_floor
        )

        with torch.no_grad():
            head_entropy = torch.where(padding_valid, entropy_per_head, 0.0).sum(dim=(1, 2)) / steps
            stats = {f"entropy_{name}": mean for name, mean in zip(heads, head_entropy.unbind())}
            joint_log_ratio = log_ratio.sum(dim=0)  # heads are independent
            clipped = ((ratio - 1.0).abs() > cfg.clip_ratio) & counted
            stats["approx_kl"] = _masked_mean(joint_log_ratio.exp() - 1.0 - joint_log_ratio, padding_valid, steps)
            stats["clipped"] = clipped.sum().to(dtype)  # clip_fraction = clipped / relevant, after summing
            stats["relevant"] = counted.sum().to(dtype)
            stats["policy_loss"] = policy.detach()
            stats["value_loss"] = value.detach()
            stats["loss"] = loss.detach()
            stats["entropy_floor_penalty"] = entropy_floor.detach()
        return loss, stats

    def _sum_over_processes(self, params: list[nn.Parameter], stats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Sum gradients and statistics over processes in one all-reduce (a no-op for one process).

        After it every process holds the gradient of the whole minibatch's loss (missing ``.grad`` count as 0).
        """
        if self.collective.world_size == 1:
            return stats
        keys = self._stat_keys()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads] + [torch.stack([stats[k] for k in keys]).to(grads[0].dtype)])
        self.collective.all_reduce_sum(flat)
        offset = 0
        for param in params:
            param.grad = flat[offset : offset + param.numel()].view_as(param)
            offset += param.numel()
        return dict(zip(keys, flat[offset:].unbind(), strict=True))

    def _check_shard(self, buffer: TamiyoRolloutBuffer, shard: EnvShard | None) -> EnvShard:
        if shard is None:
            shard = EnvShard.whole(buffer.num_envs)
        if not isinstance(shard, EnvShard):
            raise TypeError(f"shard must be an EnvShard or None, got {type(shard).__name__}")
        if shard.count != buffer.num_envs:
            raise ValueError(f"shard holds {shard.count} envs ({shard}), the buffer {buffer.num_envs}")
        if self.collective.world_size == 1 and shard.count != shard.total:
            raise ValueError(f"a single process must hold all envs, got {shard}")
        return shard

    def _global_step_counts(self, buffer: TamiyoRolloutBuffer, shard: EnvShard) -> list[int]:
        """Stored steps of every env of every process (one all-reduce and host sync when distributed)."""
        if self.collective.world_size == 1:
            return list(buffer.step_counts)
        counts = torch.zeros(shard.total, dtype=torch.float64, device=self.device)
        counts[shard.rows] = torch.tensor(buffer.step_counts, dtype=torch.float64, device=self.device)
        return [int(c) for c in self.collective.all_reduce_sum(counts).tolist()]

    def update(
        self,
        buffer: TamiyoRolloutBuffer,
        shard: EnvShard | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> dict[str, float]:
        """Run PPO on a finished buffer (GAE with this config's gamma/lambda); returns float metrics.

        ``shard``: the global env ids of the buffer's rows when this agent's :attr:`collective` spans several
        processes (default: the buffer holds all envs). The minibatch permutations are drawn from ``generator``
        (default: torch's global RNG, on this agent's device); every process must call ``update`` with the same
        config and RNG state, and they all end with the same parameters.

        Metrics: ``policy_loss``, ``value_loss``, ``loss``, ``entropy_<head>``, ``approx_kl``, ``clip_fraction``
        (means over evaluated minibatches; ``clip_fraction`` is 0.0 when no step is causally relevant), ``grad_norm`` and ``grad_norm_<head>`` (before clipping),
        ``explained_variance``, ``updates_applied``, ``updates_skipped`` (non-finite loss/gradient, or a step that
        made a parameter non-finite and was reverted),
        ``early_stopped`` (1.0 if the KL guard fired), ``epochs_completed``, ``n_minibatches``.
        """
        self._check_buffer(buffer)
        shard = self._check_shard(buffer, shard)
        cfg = self.config
        buffer.compute_gae(cfg.gamma, cfg.gae_lambda)
        step_counts = self._global_step_counts(buffer, shard)
        active = [env for env, steps in enumerate(step_counts) if steps > 0]
        mine = [position for position, env in enumerate(active) if shard.start <= env < shard.stop]
        data = buffer.get_batched_sequences([active[position] - shard.start for position in mine])
        self._check_data(data)
        data, explained_variance = self._normalize_advantages(data)
        stacked = self._stack(data)

        params = list(self.network.parameters())
        head_params = {name: list(self.network.heads[name].parameters()) for name in self.network.head_names}
        membership = _head_membership(params, head_params)
        guard = StepGuard(params, self.optimizer)  # undoes a step that makes a parameter non-finite (issue 13)
        n_mb = min(cfg.n_minibatches, len(active))
        # Row of ``data`` holding the env at each position of ``active`` (-1: another process holds it).
        row_of: torch.Tensor | None = None
        if self.collective.world_size > 1:
            row_of = torch.full((len(active),), -1, dtype=torch.long, device=self.device)
            row_of[torch.tensor(mine, dtype=torch.long, device=self.device)] = torch.arange(len(mine), device=self.device)
        keys: list[str] = []
        per_minibatch: list[torch.Tensor] = []
        evaluated = applied = skipped = epochs_completed = 0
        early_stopped = False
        for _ in range(cfg.ppo_epochs):
            for mb_index in torch.randperm(len(active), generator=generator, device=self.device).tensor_split(n_mb):
                rows = mb_index
                if row_of is not None:
                    rows = row_of[mb_index]
                    rows = rows[rows >= 0]
                if rows.numel() == 0:
                    mb: StackedBatch | None = None
                else:  # a minibatch of all rows needs no gather: the loss is a sum over rows (order: rounding only)
                    mb = stacked if rows.numel() == stacked.obs.shape[0] else stacked.select(rows)
                loss, stats = self._minibatch_loss(mb)
                self.optimizer.zero_grad(set_to_none=True)
                if loss is not None:
                    torch.autograd.backward(loss)
                stats = self._sum_over_processes(params, stats)
                # 0.0 when no step is causally relevant (the documented degenerate value, issue 13)
                stats["clip_fraction"] = stats.pop("clipped") / stats.pop("relevant").clamp_min(1)
                grad_norm, head_norms = _grad_norms(params, membership)
                stats.update(zip([f"grad_norm_{name}" for name in head_params], head_norms.unbind()))
                nn.utils.clip_grads_with_norm_(params, cfg.max_grad_norm, grad_norm)
                stats["grad_norm"] = grad_norm.detach()
                keys = keys or list(stats)
                per_minibatch.append(torch.stack([stats[key] for key in keys]))  # one op, not one add per metric
                evaluated += 1
                finite = torch.isfinite(stats["loss"]) & torch.isfinite(grad_norm)
                kl_high = (
                    stats["approx_kl"] > KL_STOP_FACTOR * cfg.target_kl
                    if cfg.target_kl is not None
                    else torch.zeros((), dtype=torch.bool, device=self.device)
                )
                is_finite, too_far = (bool(flag) for flag in torch.stack([finite, kl_high]).tolist())
                if too_far:
                    early_stopped = True
                    break
                if not is_finite:
                    skipped += 1
                    continue
                if not guard.step():
                    skipped += 1
                    continue
                applied += 1
            if early_stopped:
                break
            epochs_completed += 1
        means = (
            torch.stack(per_minibatch).sum(dim=0).to(torch.float64) / evaluated
            if per_minibatch
            else torch.zeros(0, dtype=torch.float64, device=self.device)
        )
        read = torch.cat([means, explained_variance.to(torch.float64).view(1)]).tolist()  # the one read of all metrics
        metrics = {key: float(value) for key, value in zip([*keys, "explained_variance"], read)}
        metrics.update(
            updates_applied=float(applied),
            updates_skipped=float(skipped),
            early_stopped=float(early_stopped),
            epochs_completed=float(epochs_completed),
            n_minibatches=float(n_mb),
        )
        return metrics

    def _check_data(self, data: SequenceBatch) -> None:
        """Validate masks and stored actions once per update (a few host syncs here instead of per minibatch)."""
        for name in self.network.head_names:
            check_mask_rows(name, data.masks[name])
            check_actions(name, data.actions[name], self.network.head_sizes[name], data.masks[name])

    def _normalize_advantages(self, data: SequenceBatch) -> tuple[SequenceBatch, torch.Tensor]:
        """``data`` with its advantages normalised by the mean and std over all processes' valid steps (when the
        config says so), and the explained variance ``1 - Var(returns - values) / Var(returns)`` over the same
        steps. Two all-reduces of a few scalars.

        Documented degenerate values (issue 13): when the advantages, or the returns, are constant up to rounding
        (see :func:`_degenerate`), the normalised advantages are 0, or the explained variance is 0.0, instead of
        rounding noise divided by a tiny spread.
        """
        valid = data.valid
        advantages, returns, values = data.advantages, data.returns, data.values
        residuals = returns - values
        zeros = torch.zeros_like(values)

        def total(x: torch.Tensor) -> torch.Tensor:
            return torch.where(valid, x, zeros).sum()

        first = self.collective.all_reduce_sum(
            torch.stack([valid.sum().to(values.dtype), total(advantages), total(returns), total(residuals)])
        )
        count = first[0].clamp_min(1)
        adv_mean, ret_mean, resid_mean = (first[1:] / count).unbind()
        second = self.collective.all_reduce_sum(
            torch.stack(
                [
                    total((advantages - adv_mean).square()),
                    total((returns - ret_mean).square()),
                    total((residuals - resid_mean).square()),
                    total(advantages.square()),
                    total(returns.square()),
                ]
            )
        )
        adv_var, var_ret, var_resid, adv_square, ret_square = (second / count).unbind()
        if self.config.normalize_advantages:
            spread = ~_degenerate(adv_var, adv_square)
            normalized = torch.where(spread, (advantages - adv_mean) / (adv_var.sqrt() + 1e-8), zeros)
            data = data.with_advantages(torch.where(valid, normalized, zeros))
        spread = ~_degenerate(var_ret, ret_square)
        explained = torch.where(spread, 1.0 - var_resid / var_ret.clamp_min(1e-30), torch.zeros_like(var_ret))
        return data, explained

    # --- checkpoints -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], extra: Mapping[str, object] | None = None) -> Path:
        """Save network, optimiser, normaliser, config and layout (+ ``extra`` primitives) atomically."""
        return save_checkpoint(
            path,
            layout=self.layout,
            network_state=self.network.state_dict(),
            optimizer_state=self.optimizer.state_dict(),
            config=self.config.to_dict(),
            normalizer_state=self.obs_normalizer.state_dict(),
            extra=extra,
        )

    def load(self, path: str | os.PathLike[str]) -> dict[str, Primitive]:
        """Restore everything :meth:`save` wrote; returns the ``extra`` dict.

        Raises :class:`CheckpointIncompatibleError` for another layout, :class:`CheckpointFormatError` for a
        foreign/corrupt file.
        """
        ckpt = load_checkpoint(path, expected_layout=self.layout, map_location=self.device)
        try:
            config = PPOConfig.from_dict(ckpt.config)
        except (TypeError, ValueError) as exc:
            raise CheckpointFormatError(f"{ckpt.path}: invalid PPO config: {exc}") from exc
        check_finite(f"{ckpt.path}", [(f"network weight {k!r}", v) for k, v in ckpt.network.items()])
        check_finite(f"{ckpt.path}", [(f"normaliser {k!r}", v) for k, v in (ckpt.normalizer or {}).items()])
        check_optimizer_state(f"{ckpt.path}", ckpt.optimizer, [p for g in self.optimizer.param_groups for p in g["params"]])
        try:
            self.network.load_state_dict(ckpt.network)
        except RuntimeError as exc:
            raise CheckpointIncompatibleError(
                f"checkpoint {ckpt.path} matches layout {self.layout.describe()} but its weights do not: {exc}"
            ) from exc
        try:
            self.optimizer.load_state_dict(ckpt.optimizer)
            for group in self.optimizer.param_groups:  # a checkpoint from before DEC.perf.2 says fused=None
                group.update(fused=True, foreach=None)
            if ckpt.normalizer is not None:
                self.obs_normalizer.load_state_dict(ckpt.normalizer)
        except (ValueError, KeyError, RuntimeError) as exc:
            raise CheckpointFormatError(f"{ckpt.path}: optimizer or normaliser state does not fit: {exc}") from exc
        self.config = config
        return ckpt.extra

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str], device: str | torch.device = "cpu"
    ) -> tuple[PPOAgent, dict[str, Primitive]]:
        """Build an agent with the checkpoint's layout and config and load it; returns ``(agent, extra)``."""
        device = check_available_device("device", device)
        ckpt = load_checkpoint(path, map_location=device)
        layout = ckpt.layout
        try:
            config = PPOConfig.from_dict(ckpt.config)
        except (TypeError, ValueError) as exc:
            raise CheckpointFormatError(f"{ckpt.path}: invalid PPO config: {exc}") from exc
        agent = cls(
            layout.obs_dim,
            config,
            num_slots=layout.num_slots,
            device=device,
            hidden_dim=layout.hidden_dim,
            slot_feature_size=layout.slot_feature_size,
        )
        return agent, agent.load(path)


__all__ = ["DEGENERATE_RELATIVE_SPREAD", "KL_STOP_FACTOR", "MAX_LR", "MIN_ADAM_EPS", "PPOAgent", "PPOConfig", "default_entropy_coef_per_head"]
