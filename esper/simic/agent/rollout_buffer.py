"""Rollout storage for recurrent PPO: one pre-allocated sequence per environment.

Per env and step the buffer holds the observation fed to the policy, one action, log-probability and mask per
``HEAD_NAMES`` entry, the value estimate, the reward, ``done`` (terminal) vs ``truncated`` (cut by a time limit
or the end of collection), and the LSTM state ``(h, c)`` *before* the step. Sequences are replayed from the
stored state at step 0; the state is zeroed at every step that follows an episode end, and :meth:`finish`
rejects a buffer whose stored state leaks across an episode boundary.

GAE (:meth:`compute_gae`): a terminal step does not bootstrap; a truncated step bootstraps ``V(s_T)``, given as
``bootstrap_value`` when it is added, or, for the last stored step of an env, as ``last_values`` in
:meth:`finish`. A step that is neither (the episode continues into the next batch) bootstraps ``last_values``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from esper.leyline import HEAD_NAMES
from esper.leyline.defaults import DEFAULT_GAE_LAMBDA, DEFAULT_GAMMA
from esper.leyline.validation import check_device, check_float, check_int, check_tensor
from esper.simic.agent.minibatch import SequenceBatch
from esper.simic.agent.outputs import LSTMState
from esper.simic.agent.scan import discounted_reverse_sum

Scalar = torch.Tensor | float | int | bool


LOG_PROB_TOLERANCE = 1e-5
"""A stored log-probability may exceed 0 by at most this much (float rounding of ``log_softmax``); more is a
caller's bug (e.g. a probability or a logit passed as a log-prob) and is refused."""


def _check_tensor(arg: str, value: object, shape: tuple[int, ...]) -> torch.Tensor:
    """A floating tensor of ``shape`` (observations, values, rewards, hidden states)."""
    return check_tensor(arg, value, shape=shape, dtype="float")


def _check_scalar(arg: str, value: Scalar) -> None:
    """A 0-d float tensor (finiteness checked later, with the step's other tensors) or a finite number."""
    if isinstance(value, torch.Tensor):
        if value.dim() != 0:
            raise ValueError(f"{arg} must be a 0-d tensor or a finite number, got shape {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(f"{arg} must be a 0-d floating tensor or a finite number, got dtype {value.dtype}")
    else:
        check_float(arg, value)


def _check_flag(arg: str, value: Scalar, shape: tuple[int, ...]) -> None:
    if isinstance(value, bool) and not shape:
        return
    if not isinstance(value, torch.Tensor) or value.dtype != torch.bool:
        raise TypeError(f"{arg} must be a bool or a bool tensor of shape {shape}, got {type(value).__name__}")
    if tuple(value.shape) != shape:
        raise ValueError(f"{arg} must have shape {shape}, got {tuple(value.shape)}")


class TamiyoRolloutBuffer:
    """Stores rollout data for PPO updates, one sequence per environment (shapes ``(num_envs, max_steps, ...)``)."""

    def __init__(
        self,
        num_envs: int,
        max_steps: int,
        obs_dim: int,
        head_sizes: Mapping[str, int],
        hidden_dim: int,
        device: str | torch.device = "cpu",
    ) -> None:
        self.num_envs = check_int("num_envs", num_envs, low=1)
        self.max_steps = check_int("max_steps", max_steps, low=1)
        self.obs_dim = check_int("obs_dim", obs_dim, low=1)
        self.hidden_dim = check_int("hidden_dim", hidden_dim, low=1)
        if not isinstance(head_sizes, Mapping):
            raise TypeError(f"head_sizes must be a dict keyed by HEAD_NAMES {list(HEAD_NAMES)}, got {type(head_sizes).__name__}")
        if list(head_sizes) != list(HEAD_NAMES):
            raise ValueError(f"head_sizes must be keyed by HEAD_NAMES {list(HEAD_NAMES)} in order, got {list(head_sizes)}")
        self.head_names: tuple[str, ...] = tuple(HEAD_NAMES)
        self.head_sizes = {name: check_int(f"head_sizes[{name!r}]", head_sizes[name], low=1) for name in self.head_names}
        self.device = check_device("device", device, available=True)

        n, t, dev = num_envs, max_steps, self.device
        self.obs = torch.zeros(n, t, obs_dim, device=dev)
        self.actions = {h: torch.zeros(n, t, dtype=torch.long, device=dev) for h in self.head_names}
        self.log_probs = {h: torch.zeros(n, t, device=dev) for h in self.head_names}
        self.masks = {h: torch.ones(n, t, size, dtype=torch.bool, device=dev) for h, size in self.head_sizes.items()}
        self.values = torch.zeros(n, t, device=dev)
        self.rewards = torch.zeros(n, t, device=dev)
        self.dones = torch.zeros(n, t, dtype=torch.bool, device=dev)
        self.truncated = torch.zeros(n, t, dtype=torch.bool, device=dev)
        self.bootstrap_values = torch.zeros(n, t, device=dev)
        self.has_bootstrap = torch.zeros(n, t, dtype=torch.bool, device=dev)
        self.hidden_h = torch.zeros(n, t, hidden_dim, device=dev)
        self.hidden_c = torch.zeros(n, t, hidden_dim, device=dev)
        self.advantages = torch.zeros(n, t, device=dev)
        self.returns = torch.zeros(n, t, device=dev)
        self.last_values = torch.zeros(n, device=dev)
        self.step_counts: list[int] = [0] * n
        self.finished = False
        self.gae_ready = False

    # --- plan Task 9 field names -------------------------------------------------------------------------
    @property
    def slot_actions(self) -> torch.Tensor:
        return self.actions["slot"]

    @property
    def blueprint_actions(self) -> torch.Tensor:
        return self.actions["blueprint"]

    @property
    def blend_actions(self) -> torch.Tensor:
        return self.actions["blend"]

    @property
    def tempo_actions(self) -> torch.Tensor:
        return self.actions["tempo"]

    @property
    def op_actions(self) -> torch.Tensor:
        return self.actions["op"]

    @property
    def slot_log_probs(self) -> torch.Tensor:
        return self.log_probs["slot"]

    @property
    def blueprint_log_probs(self) -> torch.Tensor:
        return self.log_probs["blueprint"]

    @property
    def blend_log_probs(self) -> torch.Tensor:
        return self.log_probs["blend"]

    @property
    def tempo_log_probs(self) -> torch.Tensor:
        return self.log_probs["tempo"]

    @property
    def op_log_probs(self) -> torch.Tensor:
        return self.log_probs["op"]

    @property
    def num_steps(self) -> int:
        """Steps stored over all envs."""
        return sum(self.step_counts)

    # --- filling -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Empty the buffer (storage is kept and cleared)."""
        for tensor in (self.obs, self.values, self.rewards, self.bootstrap_values, self.hidden_h, self.hidden_c):
            tensor.zero_()
        for tensor in (self.advantages, self.returns, self.last_values):
            tensor.zero_()
        for flags in (self.dones, self.truncated, self.has_bootstrap):
            flags.fill_(False)
        for name in self.head_names:
            self.actions[name].zero_()
            self.log_probs[name].zero_()
            self.masks[name].fill_(True)
        self.step_counts = [0] * self.num_envs
        self.finished = False
        self.gae_ready = False

    def _check_heads(self, arg: str, values: object, lead: tuple[int, ...], dtype: torch.dtype) -> dict[str, torch.Tensor]:
        """Per-head tensors of shape ``lead`` (``lead + (n,)`` for bool masks) and the given dtype kind."""
        if not isinstance(values, Mapping):
            raise TypeError(f"{arg} must be a dict keyed by {list(self.head_names)}, got {type(values).__name__}")
        if set(values) != set(self.head_names):
            raise ValueError(f"{arg} must be a dict with exactly the keys {list(self.head_names)}, got {sorted(values)}")
        out: dict[str, torch.Tensor] = {}
        for name in self.head_names:
            shape = (*lead, self.head_sizes[name]) if dtype == torch.bool else lead
            kind: torch.dtype | str = "float" if dtype.is_floating_point else dtype
            out[name] = check_tensor(f"{arg}[{name!r}]", values[name], shape=shape, dtype=kind)
        return out

    def _next_step(self, env_id: int) -> int:
        check_int("env_id", env_id, low=0, high=self.num_envs - 1)
        step = self.step_counts[env_id]
        if step >= self.max_steps:
            raise ValueError(
                f"env {env_id} already holds max_steps={self.max_steps} steps; update and reset() the buffer "
                "before adding more (or create it with a larger max_steps)"
            )
        return step

    def add_step(
        self,
        env_id: int,
        obs: torch.Tensor,
        actions: Mapping[str, torch.Tensor],
        log_probs: Mapping[str, torch.Tensor],
        masks: Mapping[str, torch.Tensor],
        value: Scalar,
        reward: Scalar,
        done: Scalar,
        truncated: Scalar,
        hidden: tuple[torch.Tensor, torch.Tensor],
        bootstrap_value: Scalar | None = None,
    ) -> None:
        """Append one transition of env ``env_id``.

        ``obs`` ``(obs_dim,)``; ``actions``/``log_probs`` one 0-d tensor per head; ``masks[head]`` ``(n,)`` bool;
        ``hidden`` the ``(h, c)`` state (each ``(hidden_dim,)``) fed to the policy at this step;
        ``bootstrap_value`` = ``V(s_T)`` when this step truncates the episode.
        """
        step = self._next_step(env_id)
        _check_tensor("obs", obs, (self.obs_dim,))
        acts = self._check_heads("actions", actions, (), torch.long)
        lps = self._check_heads("log_probs", log_probs, (), torch.float32)
        msks = self._check_heads("masks", masks, (), torch.bool)
        self._check_hidden(hidden, ())
        for arg, scalar in (("value", value), ("reward", reward)):
            _check_scalar(arg, scalar)
        for arg, flag in (("done", done), ("truncated", truncated)):
            _check_flag(arg, flag, ())
        if bootstrap_value is not None:
            _check_scalar("bootstrap_value", bootstrap_value)
        self._check_contents(
            obs, acts, lps, msks, hidden, {"value": value, "reward": reward, "bootstrap_value": bootstrap_value}
        )
        self._write(env_id, step, obs, acts, lps, msks, value, reward, done, truncated, hidden, bootstrap_value)
        self.step_counts[env_id] = step + 1

    def add_batch(
        self,
        *,
        obs: torch.Tensor,
        actions: Mapping[str, torch.Tensor],
        log_probs: Mapping[str, torch.Tensor],
        masks: Mapping[str, torch.Tensor],
        values: torch.Tensor,
        rewards: torch.Tensor,
        dones: torch.Tensor,
        truncated: torch.Tensor,
        hidden: tuple[torch.Tensor, torch.Tensor],
        bootstrap_values: torch.Tensor | None = None,
    ) -> None:
        """Append one step for every env at once (all envs must hold the same number of steps); keywords only.

        Shapes: ``obs`` ``(N, obs_dim)``, per-head ``(N,)`` / masks ``(N, n)``, ``values``/``rewards``/``dones``/
        ``truncated`` ``(N,)``, ``hidden`` two ``(N, hidden_dim)``; ``bootstrap_values`` ``(N,)`` is used where
        ``truncated`` is set.

        Raises ``TypeError`` for a wrong type or dtype and ``ValueError`` (naming the argument, and the env and
        head where it applies) for a wrong shape, a non-finite observation/value/reward/log-prob/hidden state, a
        log-prob above 0, an action outside its head or forbidden by its own mask, or a mask row with no valid
        action. The content checks cost one host sync; nothing is stored when a check fails.
        """
        if len(set(self.step_counts)) != 1:
            raise ValueError(f"add_batch needs equal step counts for all envs, got {self.step_counts}; use add_step")
        step = self._next_step(0)
        n = self.num_envs
        _check_tensor("obs", obs, (n, self.obs_dim))
        acts = self._check_heads("actions", actions, (n,), torch.long)
        lps = self._check_heads("log_probs", log_probs, (n,), torch.float32)
        msks = self._check_heads("masks", masks, (n,), torch.bool)
        self._check_hidden(hidden, (n,))
        for arg, tensor in (("values", values), ("rewards", rewards)):
            _check_tensor(arg, tensor, (n,))
        for arg, flags in (("dones", dones), ("truncated", truncated)):
            _check_flag(arg, flags, (n,))
        if bootstrap_values is not None:
            _check_tensor("bootstrap_values", bootstrap_values, (n,))
        self._check_contents(
            obs, acts, lps, msks, hidden, {"values": values, "rewards": rewards, "bootstrap_values": bootstrap_values}
        )
        env = slice(None)
        self._write(env, step, obs, acts, lps, msks, values, rewards, dones, truncated, hidden, None)
        if bootstrap_values is not None:
            self.bootstrap_values[:, step] = bootstrap_values
            self.has_bootstrap[:, step] = truncated.to(self.device)
        self.step_counts = [step + 1] * n

    def add_reward(self, env_id: int, step: int, amount: Scalar) -> None:
        """Add ``amount`` to the reward of an already stored step (e.g. a governor penalty for the transition
        that caused a rollback); advantages must be recomputed afterwards."""
        check_int("env_id", env_id, low=0, high=self.num_envs - 1)
        stored = self.step_counts[env_id]
        check_int("step", step)
        if not 0 <= step < stored:
            allowed = f"an int in [0, {stored - 1}]" if stored else "none stored yet"
            raise ValueError(f"step must be a stored step of env {env_id} ({allowed}), got {step!r}")
        _check_scalar("amount", amount)
        self.rewards[env_id, step] += amount
        self.gae_ready = False

    def _check_contents(
        self,
        obs: torch.Tensor,
        actions: dict[str, torch.Tensor],
        log_probs: dict[str, torch.Tensor],
        masks: dict[str, torch.Tensor],
        hidden: tuple[torch.Tensor, torch.Tensor],
        scalars: Mapping[str, Scalar | None],
    ) -> None:
        """Value checks of one step (shapes and dtypes already checked): one host sync for all of them."""
        checks: list[tuple[str, torch.Tensor]] = [
            ("obs must be finite (no NaN/inf)", ~torch.isfinite(obs).all()),
            ("hidden h must be finite", ~torch.isfinite(hidden[0]).all()),
            ("hidden c must be finite", ~torch.isfinite(hidden[1]).all()),
        ]
        for arg, value in scalars.items():
            if isinstance(value, torch.Tensor):
                checks.append((f"{arg} must be finite (no NaN/inf)", ~torch.isfinite(value).all()))
        for name in self.head_names:
            size, act, mask = self.head_sizes[name], actions[name], masks[name]
            lp = log_probs[name]
            checks.append((f"log_probs[{name!r}] must be finite", ~torch.isfinite(lp).all()))
            checks.append(
                (f"log_probs[{name!r}] must be <= 0 (log-probabilities; tolerance {LOG_PROB_TOLERANCE})",
                 (lp > LOG_PROB_TOLERANCE).any())
            )
            checks.append((f"masks[{name!r}] has a row with no valid action (all False)", ~mask.any(-1).all()))
            in_range = (act >= 0) & (act < size)
            checks.append((f"actions[{name!r}] must be in [0, {size - 1}]", ~in_range.all()))
            allowed = mask.gather(-1, act.clamp(0, size - 1).unsqueeze(-1).to(mask.device)).squeeze(-1)
            checks.append((f"actions[{name!r}] picks an action that masks[{name!r}] forbids", ~(allowed | ~in_range).all()))
        failed = torch.stack([flag.to(self.device) for _, flag in checks]).tolist()  # the one host sync
        for (message, _), bad in zip(checks, failed):
            if bad:
                raise ValueError(message)

    def _check_hidden(self, hidden: object, lead: tuple[int, ...]) -> None:
        if not isinstance(hidden, tuple) or len(hidden) != 2:
            raise TypeError(f"hidden must be a tuple (h, c) of tensors of shape {(*lead, self.hidden_dim)}")
        for label, part in zip(("h", "c"), hidden):
            _check_tensor(f"hidden {label}", part, (*lead, self.hidden_dim))

    def _write(
        self,
        env: int | slice,
        step: int,
        obs: torch.Tensor,
        actions: dict[str, torch.Tensor],
        log_probs: dict[str, torch.Tensor],
        masks: dict[str, torch.Tensor],
        value: Scalar,
        reward: Scalar,
        done: Scalar,
        truncated: Scalar,
        hidden: tuple[torch.Tensor, torch.Tensor],
        bootstrap_value: Scalar | None,
    ) -> None:
        self.finished = False
        self.gae_ready = False
        self.obs[env, step] = obs
        for name in self.head_names:
            self.actions[name][env, step] = actions[name]
            self.log_probs[name][env, step] = log_probs[name]
            self.masks[name][env, step] = masks[name]
        self.values[env, step] = value
        self.rewards[env, step] = reward
        self.dones[env, step] = done
        self.truncated[env, step] = truncated
        self.hidden_h[env, step] = hidden[0]
        self.hidden_c[env, step] = hidden[1]
        if bootstrap_value is not None:
            self.bootstrap_values[env, step] = bootstrap_value
            self.has_bootstrap[env, step] = truncated

    # --- GAE ---------------------------------------------------------------------------------------------
    def _lengths(self) -> torch.Tensor:
        return torch.tensor(self.step_counts, device=self.device)

    def finish(self, last_values: torch.Tensor | None = None) -> None:
        """Close the collection: record ``V`` of the state after each env's last step and check consistency.

        ``last_values`` ``(num_envs,)`` may be omitted only if every env's last step is terminal or carries a
        ``bootstrap_value``. Raises ``ValueError`` if the stored LSTM state leaks across an episode boundary or a
        truncated step in mid-sequence has no ``bootstrap_value``. One host sync.
        """
        if self.num_steps == 0:
            raise ValueError("finish() called on an empty buffer; add steps first")
        if last_values is not None:
            _check_tensor("last_values", last_values, (self.num_envs,))
            self.last_values.copy_(last_values)
        else:
            self.last_values.zero_()
        lengths = self._lengths()
        index = torch.arange(self.max_steps, device=self.device)
        valid = index < lengths.unsqueeze(1)
        is_last = index == (lengths - 1).unsqueeze(1)
        ended = self.dones | self.truncated
        after_end = torch.zeros_like(ended)
        after_end[:, 1:] = ended[:, :-1]
        nonzero_state = (self.hidden_h != 0).any(-1) | (self.hidden_c != 0).any(-1)
        leak = after_end & valid & nonzero_state
        orphan_truncation = self.truncated & ~self.dones & ~self.has_bootstrap & valid & ~is_last
        open_end = is_last & ~self.dones & ~self.has_bootstrap
        flags = torch.stack([leak.any(), orphan_truncation.any(), open_end.any()]).tolist()
        if flags[0]:
            env, step = (int(i) for i in leak.nonzero()[0].tolist())
            raise ValueError(
                f"LSTM state leaks across episodes: env {env} step {step} follows an episode end but its stored "
                "hidden state is not zero; reset the hidden state (network.reset_hidden) after done/truncated"
            )
        if flags[1]:
            env, step = (int(i) for i in orphan_truncation.nonzero()[0].tolist())
            raise ValueError(
                f"env {env} step {step} is truncated in mid-sequence without a bootstrap_value; pass "
                "bootstrap_value=V(s_T) to add_step/add_batch so GAE can bootstrap the cut episode"
            )
        if flags[2] and last_values is None:
            raise ValueError(
                "last_values (num_envs,) is required: some env's last step is not terminal, so GAE must bootstrap "
                "V(s_T) of the state after it"
            )
        self.finished = True

    def compute_gae(self, gamma: float = DEFAULT_GAMMA, gae_lambda: float = DEFAULT_GAE_LAMBDA) -> None:
        """Fill ``advantages`` and ``returns`` (GAE(gamma, lambda)); needs :meth:`finish` first. No host sync."""
        for name, value in (("gamma", gamma), ("gae_lambda", gae_lambda)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if not self.finished:
            raise ValueError("compute_gae() needs finish(last_values) to be called after the last add_step")
        lengths = self._lengths().unsqueeze(1)
        steps = max(self.step_counts)
        index = torch.arange(steps, device=self.device)
        valid = index < lengths
        is_last = index == lengths - 1
        values, last_values = self.values[:, :steps], self.last_values.unsqueeze(1)
        dones = self.dones[:, :steps]
        # V(s_{t+1}): the next stored value, V(s_T) of last_values after an env's last step, a truncated step's
        # bootstrap_value, 0 after a terminal step.
        next_value = torch.cat([values[:, 1:], last_values], dim=1)
        next_value = torch.where(is_last, last_values, next_value)
        next_value = torch.where(self.has_bootstrap[:, :steps], self.bootstrap_values[:, :steps], next_value)
        next_value = torch.where(dones, 0.0, next_value)
        delta = torch.where(valid, self.rewards[:, :steps] + gamma * next_value - values, 0.0)
        chain = ~(dones | self.truncated[:, :steps] | is_last) & valid
        # A_t = delta_t + gamma·lambda·A_{t+1} inside an episode (DEC.perf.6: one scan, no loop over steps)
        advantages = discounted_reverse_sum(delta, gamma * gae_lambda, chain)
        self.advantages.zero_()
        self.advantages[:, :steps] = advantages
        self.returns.zero_()
        self.returns[:, :steps] = torch.where(valid, advantages + values, 0.0)
        self.gae_ready = True

    # --- reading -----------------------------------------------------------------------------------------
    def get_batched_sequences(self, env_ids: torch.Tensor | Sequence[int] | None = None) -> SequenceBatch:
        """Per-env sequences ``(B, T, ...)`` with ``T = max(step_counts)``, padded at the end, as a
        :class:`SequenceBatch` (shapes there).

        Fields: ``obs``; ``actions``, ``log_probs``, ``masks`` per head; ``values``, ``rewards``, ``dones``,
        ``truncated``, ``advantages``, ``returns`` (zeros until :meth:`compute_gae`); ``valid`` (False on padding),
        ``episode_starts`` (step follows an episode end); ``initial_hidden`` ``(h, c)`` each ``(B, hidden_dim)``:
        the stored LSTM state before step 0. The plan's flat names (``batch["tempo_actions"]``) read too.
        """
        if self.num_steps == 0:
            raise ValueError("get_batched_sequences() called on an empty buffer")
        if env_ids is None:
            index = torch.arange(self.num_envs, device=self.device)
        elif isinstance(env_ids, torch.Tensor):
            if env_ids.dtype != torch.long or env_ids.dim() != 1:
                raise ValueError(f"env_ids must be a 1-D int64 tensor, got {env_ids.dtype} {tuple(env_ids.shape)}")
            index = env_ids.to(self.device)
        else:
            ids = [check_int(f"env_ids[{k}]", i, low=0, high=self.num_envs - 1) for k, i in enumerate(env_ids)]
            index = torch.tensor(ids, dtype=torch.long, device=self.device)
        steps = max(self.step_counts)
        lengths = self._lengths()[index]
        valid = torch.arange(steps, device=self.device) < lengths.unsqueeze(1)
        ended = (self.dones | self.truncated)[index, :steps]
        starts = torch.zeros_like(ended)
        starts[:, 1:] = ended[:, :-1]
        return SequenceBatch(
            obs=self.obs[index, :steps],
            actions={name: self.actions[name][index, :steps] for name in self.head_names},
            log_probs={name: self.log_probs[name][index, :steps] for name in self.head_names},
            masks={name: self.masks[name][index, :steps] for name in self.head_names},
            values=self.values[index, :steps],
            rewards=self.rewards[index, :steps],
            dones=self.dones[index, :steps],
            truncated=self.truncated[index, :steps],
            advantages=self.advantages[index, :steps],
            returns=self.returns[index, :steps],
            valid=valid,
            episode_starts=starts,
            initial_hidden=LSTMState(self.hidden_h[index, 0], self.hidden_c[index, 0]),
        )


__all__ = ["TamiyoRolloutBuffer"]
