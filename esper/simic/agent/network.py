"""Tamiyo's policy: a factored recurrent actor-critic with one action head per ``HEAD_NAMES`` entry.

Architecture (design note §5): ``Linear(obs→hidden) + LayerNorm + ReLU → LSTMCell (unrolled over time) →
LayerNorm →`` one head per action head (``Linear(hidden→64), ReLU, Linear(64→n)``) plus a value head.
``nn.LSTMCell`` unrolled in Python keeps ``forward``/``get_action`` (the acting path) a single ``torch.compile``
graph (``nn.LSTM`` breaks it). The training path, eager ``evaluate_actions``, replays whole sequences with the fused
LSTM kernel (``torch.lstm``) on the same cell's Parameters and evaluates all heads batched (DEC.perf.1, issue 12);
``fused_replay = False`` or ``torch.compile`` select the unrolled cell, which gives the same values and gradients.

Conventions:
- ``obs`` is ``(B, D)`` (one step) or ``(B, T, D)`` (a sequence); outputs drop or keep the ``T`` axis to match.
- ``hidden`` is ``(h, c)`` (a plain tuple or an :class:`LSTMState`), each ``(B, hidden_dim)``: the recurrent state
  *before* the first step of ``obs``. Returned states are :class:`LSTMState`.
- ``get_action`` returns an :class:`ActionSample`, ``evaluate_actions`` an :class:`ActionEvaluation` (NamedTuples in
  the plan's Task 8.4 / 8.5 order, so the plan's tuple unpacking works).
- ``masks`` maps every head to a bool tensor ``(B, n)`` / ``(B, T, n)``; ``True`` = valid action.
- ``episode_starts`` (optional, ``(B, T)`` bool) zeroes the recurrent state before a step that begins a new
  episode, so a replayed sequence never carries memory across an episode boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypedDict, cast

import torch
from torch import nn

from esper.leyline import HEAD_NAMES, NUM_BLENDS, NUM_BLUEPRINTS, NUM_OPS, NUM_SLOTS, NUM_TEMPO
from esper.leyline.defaults import DEFAULT_HEAD_HIDDEN, DEFAULT_HIDDEN_DIM
from esper.leyline.validation import check_int
from esper.simic.agent.distributions import (
    apply_mask,
    check_actions,
    check_mask_rows,
    entropy_of,
    log_probs_and_entropy,
    log_probs_of,
    masked_logit,
    sample,
)
from esper.simic.agent.outputs import ActionEvaluation, ActionSample, Hidden, LSTMState

MAX_ABS_OBS = 1.0e6
"""Largest accepted observation magnitude (checked with ``check_values``). The agent feeds normalised observations
(clipped to ±10), so this only refuses inputs that would overflow the trunk (issue 13)."""

POLICY_OUTPUT_GAIN = 0.01
"""Orthogonal-init gain of the last layer of every policy head (near-uniform initial policy)."""


class _ForwardOutput(TypedDict):
    """Type hints for forward() output."""

    slot_logits: torch.Tensor
    blueprint_logits: torch.Tensor
    blend_logits: torch.Tensor
    tempo_logits: torch.Tensor
    op_logits: torch.Tensor
    value: torch.Tensor
    hidden: tuple[torch.Tensor, torch.Tensor]


def _check_dim(name: str, value: int) -> int:
    check_int(name, value, low=1)
    return value


def _mlp_head(hidden_dim: int, out_dim: int, out_gain: float) -> nn.Sequential:
    head = nn.Sequential(nn.Linear(hidden_dim, DEFAULT_HEAD_HIDDEN), nn.ReLU(), nn.Linear(DEFAULT_HEAD_HIDDEN, out_dim))
    for layer, gain in ((head[0], math.sqrt(2.0)), (head[2], out_gain)):
        assert isinstance(layer, nn.Linear)
        nn.init.orthogonal_(layer.weight, gain=gain)
        nn.init.zeros_(layer.bias)
    return head


def _linear(head: nn.Sequential, index: int) -> nn.Linear:
    layer = head[index]
    assert isinstance(layer, nn.Linear)
    return layer


_block_diag = cast(Callable[..., torch.Tensor], torch.block_diag)
"""``torch.block_diag`` (untyped in torch's stubs)."""


class FactoredRecurrentActorCritic(nn.Module):
    """Recurrent actor-critic with factored heads (slot, blueprint, blend, tempo, op) and a value head."""

    def __init__(
        self,
        state_dim: int,
        hidden_dim: int = DEFAULT_HIDDEN_DIM,
        num_slots: int = NUM_SLOTS,
        num_blueprints: int = NUM_BLUEPRINTS,
        num_blend: int = NUM_BLENDS,
        num_tempo: int = NUM_TEMPO,
        num_ops: int = NUM_OPS,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        self.state_dim = _check_dim("state_dim", state_dim)
        self.hidden_dim = _check_dim("hidden_dim", hidden_dim)
        sizes = {
            "slot": _check_dim("num_slots", num_slots),
            "blueprint": _check_dim("num_blueprints", num_blueprints),
            "blend": _check_dim("num_blend", num_blend),
            "tempo": _check_dim("num_tempo", num_tempo),
            "op": _check_dim("num_ops", num_ops),
        }
        unknown = [name for name in HEAD_NAMES if name not in sizes]
        if unknown:
            raise ValueError(f"HEAD_NAMES contains heads {unknown} that this network has no size for; known: {list(sizes)}")
        expected_keys = {f"{name}_logits" for name in HEAD_NAMES} | {"value", "hidden"}
        if set(_ForwardOutput.__annotations__) != expected_keys:
            raise ValueError(
                f"_ForwardOutput keys {sorted(_ForwardOutput.__annotations__)} disagree with HEAD_NAMES {list(HEAD_NAMES)}"
            )
        self.head_names: tuple[str, ...] = tuple(HEAD_NAMES)
        self.head_sizes: dict[str, int] = {name: sizes[name] for name in self.head_names}

        self.feature_net = nn.Sequential(nn.Linear(state_dim, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU())
        self.lstm = nn.LSTMCell(hidden_dim, hidden_dim)
        self.lstm_norm = nn.LayerNorm(hidden_dim)
        self.heads = nn.ModuleDict(
            {name: _mlp_head(hidden_dim, n, POLICY_OUTPUT_GAIN) for name, n in self.head_sizes.items()}
        )
        self.value_head = _mlp_head(hidden_dim, 1, 1.0)
        self.fused_replay = True
        """``evaluate_actions`` replays sequences with the fused LSTM kernel and batched heads (DEC.perf.1);
        ``False`` selects the step-by-step ``LSTMCell`` reference path (equal within 1e-5)."""
        self._pad_indices: dict[torch.device, torch.Tensor] = {}
        """Per device: the row index of the padded second-layer layout (:meth:`_pad_index`)."""
        self._init_trunk()
        self.to(device)

    def _init_trunk(self) -> None:
        first = self.feature_net[0]
        assert isinstance(first, nn.Linear)
        nn.init.orthogonal_(first.weight, gain=math.sqrt(2.0))
        nn.init.zeros_(first.bias)
        for weight in (self.lstm.weight_ih, self.lstm.weight_hh):
            for gate in weight.data.chunk(4, dim=0):
                nn.init.orthogonal_(gate)
        nn.init.zeros_(self.lstm.bias_ih)
        nn.init.zeros_(self.lstm.bias_hh)

    # --- named heads (plan Task 8.2) ---------------------------------------------------------------------
    def _head(self, name: str) -> nn.Sequential:
        if name not in self.heads:  # AttributeError: Module.__getattr__ then reports the missing `<name>_head`
            raise AttributeError(name)
        head = self.heads[name]
        assert isinstance(head, nn.Sequential)
        return head

    @property
    def slot_head(self) -> nn.Sequential:
        return self._head("slot")

    @property
    def blueprint_head(self) -> nn.Sequential:
        return self._head("blueprint")

    @property
    def blend_head(self) -> nn.Sequential:
        return self._head("blend")

    @property
    def tempo_head(self) -> nn.Sequential:
        return self._head("tempo")

    @property
    def op_head(self) -> nn.Sequential:
        return self._head("op")

    @property
    def device(self) -> torch.device:
        return self.lstm.weight_ih.device

    # --- recurrent state --------------------------------------------------------------------------------
    def initial_hidden(self, batch_size: int) -> LSTMState:
        """Zero LSTM state for ``batch_size`` sequences (start of an episode)."""
        _check_dim("batch_size", batch_size)
        zeros = torch.zeros(batch_size, self.hidden_dim, device=self.device, dtype=self.lstm.weight_ih.dtype)
        return LSTMState(zeros, zeros.clone())

    @staticmethod
    def reset_hidden(hidden: Hidden, episode_done: torch.Tensor) -> LSTMState:
        """Zero the state of rows whose episode just ended (``episode_done``: ``(B,)`` bool), no host sync."""
        h, c = hidden
        if episode_done.dtype != torch.bool or episode_done.shape != h.shape[:1]:
            raise ValueError(
                f"episode_done must be a bool tensor of shape {tuple(h.shape[:1])}, "
                f"got {episode_done.dtype} {tuple(episode_done.shape)}"
            )
        keep = (~episode_done).unsqueeze(-1).to(h.dtype)
        return LSTMState(h * keep, c * keep)

    # --- validation (shape checks are static, so they also trace under torch.compile) -------------------
    def _check_obs(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs`` as ``(B, T, D)``."""
        if not isinstance(obs, torch.Tensor):
            raise TypeError(f"obs must be a torch.Tensor, got {type(obs).__name__}")
        if obs.dim() not in (2, 3) or obs.shape[-1] != self.state_dim or obs.shape[0] == 0 or obs.shape[1] == 0:
            raise ValueError(
                f"obs must have shape (B, {self.state_dim}) or (B, T, {self.state_dim}) with B >= 1 and T >= 1, "
                f"got {tuple(obs.shape)}"
            )
        if obs.dtype != self.lstm.weight_ih.dtype:
            raise TypeError(f"obs must have dtype {self.lstm.weight_ih.dtype}, got {obs.dtype}")
        if obs.device != self.device:
            raise ValueError(f"obs must be on {self.device}, got {obs.device}")
        return obs if obs.dim() == 3 else obs.unsqueeze(1)

    def _check_hidden(self, hidden: Hidden | None, batch: int) -> Hidden:
        if hidden is None:
            return self.initial_hidden(batch)
        if not isinstance(hidden, tuple) or len(hidden) != 2:
            raise TypeError("hidden must be a tuple (h, c) of two tensors")
        want = (batch, self.hidden_dim)
        for label, part in zip(("h", "c"), hidden):
            if not isinstance(part, torch.Tensor):
                raise TypeError(f"hidden {label} must be a torch.Tensor of shape {want}, got {type(part).__name__}")
            if tuple(part.shape) != want:
                raise ValueError(f"hidden {label} must have shape {want}, got {tuple(part.shape)}")
            if part.dtype != self.lstm.weight_ih.dtype:
                raise TypeError(f"hidden {label} must have dtype {self.lstm.weight_ih.dtype}, got {part.dtype}")
            if part.device != self.device:
                raise ValueError(f"hidden {label} must be on {self.device}, got {part.device}")
        return hidden

    def _check_finite(self, x: torch.Tensor, hidden: Hidden) -> None:
        """Eager-only value check of the inputs (one host sync): finite, and ``|obs| <= MAX_ABS_OBS`` so that no
        finite input can overflow the trunk into inf/NaN log-probs or values."""
        h, c = hidden
        flags = torch.stack(
            [
                ~torch.isfinite(x).all(),
                (x.abs() > MAX_ABS_OBS).any(),
                ~torch.isfinite(h).all() | ~torch.isfinite(c).all(),
            ]
        ).tolist()
        if flags[0]:
            raise ValueError("obs must be finite (no NaN/inf)")
        if flags[1]:
            raise ValueError(f"obs entries must lie in [-{MAX_ABS_OBS:g}, {MAX_ABS_OBS:g}] (normalise observations first)")
        if flags[2]:
            raise ValueError("hidden (h, c) must be finite (no NaN/inf)")

    def _check_head_dict(
        self, arg: str, values: dict[str, torch.Tensor], lead: tuple[int, ...], with_size: bool, dtype: torch.dtype
    ) -> None:
        if not isinstance(values, dict):
            raise TypeError(f"{arg} must be a dict keyed by {list(self.head_names)}, got {type(values).__name__}")
        if set(values) != set(self.head_names):
            raise ValueError(
                f"{arg} must have exactly the keys {list(self.head_names)}; "
                f"missing {[h for h in self.head_names if h not in values]}, "
                f"unknown {sorted(k for k in values if k not in self.head_names)}"
            )
        for name in self.head_names:
            tensor = values[name]
            want = (*lead, self.head_sizes[name]) if with_size else lead
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{arg}[{name!r}] must be a {dtype} tensor of shape {want}, got {type(tensor).__name__}")
            if tuple(tensor.shape) != want:
                raise ValueError(f"{arg}[{name!r}] must have shape {want}, got {tuple(tensor.shape)}")
            if tensor.dtype != dtype:
                raise TypeError(f"{arg}[{name!r}] must have dtype {dtype}, got {tensor.dtype}")
            if tensor.device != self.device:
                raise ValueError(f"{arg}[{name!r}] must be on {self.device}, got {tensor.device}")

    def _seq_masks(
        self, masks: dict[str, torch.Tensor] | None, lead: tuple[int, ...], check_values: bool
    ) -> dict[str, torch.Tensor] | None:
        """Validated masks reshaped to ``(B, T, n)``."""
        if masks is None:
            return None
        self._check_head_dict("masks", masks, lead, True, torch.bool)
        if check_values and not torch.compiler.is_compiling():
            for name in self.head_names:
                check_mask_rows(name, masks[name])
        if len(lead) == 1:
            return {name: m.unsqueeze(1) for name, m in masks.items()}
        return masks

    @staticmethod
    def _check_episode_starts(episode_starts: torch.Tensor | None, batch: int, steps: int) -> None:
        if episode_starts is not None and (
            not isinstance(episode_starts, torch.Tensor)
            or episode_starts.dtype != torch.bool
            or tuple(episode_starts.shape) != (batch, steps)
        ):
            got = (
                f"{episode_starts.dtype} {tuple(episode_starts.shape)}"
                if isinstance(episode_starts, torch.Tensor)
                else type(episode_starts).__name__
            )
            raise ValueError(f"episode_starts must be a bool tensor of shape {(batch, steps)}, got {got}")

    # --- core --------------------------------------------------------------------------------------------
    def _validated(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None,
        masks: dict[str, torch.Tensor] | None,
        episode_starts: torch.Tensor | None,
        check_values: bool,
    ) -> tuple[torch.Tensor, LSTMState, dict[str, torch.Tensor] | None]:
        """``obs`` as ``(B, T, D)``, the initial state (zeros for ``None``) and the ``(B, T, n)`` masks, validated."""
        x = self._check_obs(obs)
        batch, steps = x.shape[0], x.shape[1]
        lead = (batch,) if obs.dim() == 2 else (batch, steps)
        h, c = self._check_hidden(hidden, batch)
        if check_values and not torch.compiler.is_compiling():
            self._check_finite(x, (h, c))
        seq_masks = self._seq_masks(masks, lead, check_values)
        self._check_episode_starts(episode_starts, batch, steps)
        return x, LSTMState(h, c), seq_masks

    def _trunk(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None,
        masks: dict[str, torch.Tensor] | None,
        episode_starts: torch.Tensor | None,
        check_values: bool,
    ) -> tuple[torch.Tensor, LSTMState, dict[str, torch.Tensor] | None]:
        """Normalised LSTM output ``(B, T, H)``, final hidden and the validated ``(B, T, n)`` masks, with the
        ``LSTMCell`` unrolled step by step (the acting path, a single ``torch.compile`` graph)."""
        x, (h, c), seq_masks = self._validated(obs, hidden, masks, episode_starts, check_values)
        features = self.feature_net(x)
        outputs: list[torch.Tensor] = []
        for t in range(x.shape[1]):
            if episode_starts is not None:
                keep = (~episode_starts[:, t]).unsqueeze(-1).to(h.dtype)
                h, c = h * keep, c * keep
            h, c = self.lstm(features[:, t], (h, c))
            outputs.append(h)
        return self.lstm_norm(torch.stack(outputs, dim=1)), LSTMState(h, c), seq_masks

    def _core(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None,
        masks: dict[str, torch.Tensor] | None,
        episode_starts: torch.Tensor | None,
        check_values: bool,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, LSTMState, dict[str, torch.Tensor] | None]:
        """Masked logits ``(B, T, n)`` per head, value ``(B, T)``, final hidden and the ``(B, T, n)`` masks."""
        core, new_hidden, seq_masks = self._trunk(obs, hidden, masks, episode_starts, check_values)
        logits = {
            name: apply_mask(self.heads[name](core), None if seq_masks is None else seq_masks[name])
            for name in self.head_names
        }
        value = self.value_head(core).squeeze(-1)
        return logits, value, new_hidden, seq_masks

    # --- fast training path (issue 12, DEC.perf.1) ------------------------------------------------------
    def _lstm_params(self) -> list[torch.Tensor]:
        """The acting cell's own Parameters, in the order ``torch.lstm`` expects (shared, never copied)."""
        return [self.lstm.weight_ih, self.lstm.weight_hh, self.lstm.bias_ih, self.lstm.bias_hh]

    def _replay_fused(
        self, features: torch.Tensor, hidden: Hidden, episode_starts: torch.Tensor | None
    ) -> tuple[torch.Tensor, Hidden]:
        """The LSTM over ``features`` ``(B, T, H)`` with the fused kernel (``torch.lstm``, the op behind ``nn.LSTM``).

        Uses the same Parameter objects as :attr:`lstm` (the acting ``LSTMCell``), so gradients land on them.
        A start at ``t = 0`` zeroes the initial state (no host sync). Starts at ``t > 0`` split each row into
        segments that are replayed as separate packed sequences from a zero state (one host sync to read the
        segment layout). Returns the per-step output ``(B, T, H)`` and the final ``(h, c)``.
        """
        h0, c0 = hidden
        params = self._lstm_params()
        if episode_starts is None:
            out, h_n, c_n = torch.lstm(features, [h0[None], c0[None]], params, True, 1, 0.0, self.training, False, True)
            return out, (h_n[0], c_n[0])
        keep0 = (~episode_starts[:, 0]).unsqueeze(-1).to(h0.dtype)
        h0, c0 = h0 * keep0, c0 * keep0
        starts = episode_starts.detach().to("cpu", copy=True)  # the one host sync of a replay
        if not bool(starts[:, 1:].any()):
            out, h_n, c_n = torch.lstm(features, [h0[None], c0[None]], params, True, 1, 0.0, self.training, False, True)
            return out, (h_n[0], c_n[0])
        return self._replay_segments(features, (h0, c0), starts)

    def _replay_segments(self, features: torch.Tensor, hidden: Hidden, starts: torch.Tensor) -> tuple[torch.Tensor, Hidden]:
        """Replay rows split at episode starts (``starts``: ``(B, T)`` bool on the CPU) as one packed batch."""
        batch, steps, width = features.shape
        starts[:, 0] = True
        seg_row, seg_t = starts.nonzero(as_tuple=True)  # segments in (row, t) order; they tile every row
        seg_end = torch.full_like(seg_t, steps)
        same_row = seg_row[1:] == seg_row[:-1]
        seg_end[:-1] = torch.where(same_row, seg_t[1:], seg_end[:-1])
        lengths = seg_end - seg_t
        span = torch.arange(int(lengths.max()))
        pos = (seg_t[:, None] + span[None]).clamp(max=steps - 1)
        device = features.device
        seg_in = features[seg_row.to(device)[:, None], pos.to(device)]  # (S, L, H), padding gathers junk
        first = (seg_t == 0).to(device)
        h0, c0 = hidden
        zeros = features.new_zeros(())
        hx = [torch.where(first[:, None], h0[seg_row.to(device)], zeros)[None],
              torch.where(first[:, None], c0[seg_row.to(device)], zeros)[None]]
        packed = nn.utils.rnn.pack_padded_sequence(seg_in, lengths, batch_first=True, enforce_sorted=False)
        assert packed.sorted_indices is not None and packed.unsorted_indices is not None
        hx = [part.index_select(1, packed.sorted_indices) for part in hx]
        data, h_n, c_n = torch.lstm(
            packed.data, packed.batch_sizes, hx, self._lstm_params(), True, 1, 0.0, self.training, False
        )
        padded, _ = nn.utils.rnn.pad_packed_sequence(
            nn.utils.rnn.PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
            batch_first=True,
        )
        valid = (span[None] < lengths[:, None]).to(device)
        out = padded[valid].reshape(batch, steps, width)  # segments tile rows in order: row-major (B, T)
        last = (seg_end == steps).nonzero(as_tuple=True)[0].to(device)  # each row's final segment
        h_n = h_n[0].index_select(0, packed.unsorted_indices)
        c_n = c_n[0].index_select(0, packed.unsorted_indices)
        return out, (h_n[last], c_n[last])

    def _padded_heads(self, core: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All policy heads at once: raw logits ``(B, T, K, W)`` (``K`` heads padded to the widest ``W``; a padding
        entry repeats another logit and must be masked, as :meth:`padded_masks` does) and the value ``(B, T)``.

        Two matmuls: the heads' first layers concatenated, their second layers as one block-diagonal matrix (only
        the heads' real outputs: padding rows in the weights would multiply the second matmul's cost), then one
        gather into the padded layout. Both matrices are assembled from each head's own Parameters on every call (a
        few ops on the small weights), so every head keeps its parameters (plan Task 8.2 names them) and receives
        its gradients. A masked padding entry passes no gradient back (``apply_mask`` is a ``where``).
        """
        heads = [self._head(name) for name in self.head_names] + [self.value_head]
        firsts = [_linear(head, 0) for head in heads]
        seconds = [_linear(head, 2) for head in heads]
        w1 = torch.cat([layer.weight for layer in firsts])
        b1 = torch.cat([layer.bias for layer in firsts])
        w2 = _block_diag(*[layer.weight for layer in seconds])
        b2 = torch.cat([layer.bias for layer in seconds])
        flat = nn.functional.linear(torch.relu(nn.functional.linear(core, w1, b1)), w2, b2)
        padded = flat.index_select(-1, self._pad_index(flat.device))
        return padded.view(*padded.shape[:-1], len(self.head_names), -1), flat[..., -1]

    def _pad_index(self, device: torch.device) -> torch.Tensor:
        """Column of the concatenated head outputs for every ``(head, j)`` of the padded ``(K, W)`` layout; a
        padding entry takes column 0 (it is masked). Made once per device."""
        cached = self._pad_indices.get(device)
        if cached is not None:
            return cached
        width = max(self.head_sizes.values())
        index: list[int] = []
        offset = 0
        for name in self.head_names:
            size = self.head_sizes[name]
            index += [offset + j for j in range(size)] + [0] * (width - size)
            offset += size
        made = torch.tensor(index, dtype=torch.long, device=device)
        self._pad_indices[device] = made
        return made

    def padded_masks(self, masks: dict[str, torch.Tensor] | None, lead: tuple[int, ...]) -> torch.Tensor:
        """Masks ``(*lead, K, W)`` in the padded layout of the fast path (heads in ``head_names`` order, padded to
        the widest head ``W``; padding is never valid). ``masks=None``: every action valid. Shapes as validated by
        :meth:`evaluate_actions` (``masks[head]`` ``(*lead, n_head)`` bool)."""
        width = max(self.head_sizes.values())
        parts: list[torch.Tensor] = []
        for name in self.head_names:
            size = self.head_sizes[name]
            mask = torch.ones(*lead, size, dtype=torch.bool, device=self.device) if masks is None else masks[name]
            parts.append(nn.functional.pad(mask, (0, width - size), value=False))
        return torch.stack(parts, dim=-2)

    def forward(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None = None,
        masks: dict[str, torch.Tensor] | None = None,
        episode_starts: torch.Tensor | None = None,
        *,
        check_values: bool = True,
    ) -> _ForwardOutput:
        """Forward pass returning all (masked) head logits, the value and the final hidden state."""
        logits, value, new_hidden, _ = self._core(obs, hidden, masks, episode_starts, check_values)
        if obs.dim() == 2:
            logits = {name: out.squeeze(1) for name, out in logits.items()}
            value = value.squeeze(1)
        return {
            "slot_logits": logits["slot"],
            "blueprint_logits": logits["blueprint"],
            "blend_logits": logits["blend"],
            "tempo_logits": logits["tempo"],
            "op_logits": logits["op"],
            "value": value,
            "hidden": new_hidden,
        }

    def get_action(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None = None,
        masks: dict[str, torch.Tensor] | None = None,
        deterministic: bool = False,
    ) -> ActionSample:
        """Sample (or argmax) one action per head; returns ``ActionSample(actions, log_probs, value, hidden)``, no grad.

        With ``obs`` ``(B, D)``: actions/log-probs ``(B,)`` per head, value ``(B,)``.
        """
        with torch.no_grad():
            logits, value, new_hidden, _ = self._core(obs, hidden, masks, None, True)
            actions: dict[str, torch.Tensor] = {}
            log_probs: dict[str, torch.Tensor] = {}
            for name in self.head_names:
                head_logits = logits[name]
                action = sample(head_logits, deterministic)
                actions[name] = action
                log_probs[name] = log_probs_of(head_logits, action)
            if obs.dim() == 2:
                actions = {name: a.squeeze(1) for name, a in actions.items()}
                log_probs = {name: lp.squeeze(1) for name, lp in log_probs.items()}
                value = value.squeeze(1)
        return ActionSample(actions, log_probs, value, new_hidden)

    def evaluate_actions(
        self,
        obs: torch.Tensor,
        actions: dict[str, torch.Tensor],
        hidden: Hidden | None = None,
        masks: dict[str, torch.Tensor] | None = None,
        episode_starts: torch.Tensor | None = None,
        *,
        check_values: bool = True,
    ) -> ActionEvaluation:
        """Log-probs and entropies of stored actions; returns ``ActionEvaluation(log_probs, entropy, value)``.

        ``obs`` ``(B, T, D)``, ``actions[head]`` ``(B, T)`` int64, ``masks[head]`` ``(B, T, n)`` bool. The
        recurrence is replayed from ``hidden`` (the state before step 0). ``check_values=False`` skips the
        data-dependent checks (mask rows, action ranges), which need a host sync. The order is the plan's
        (Task 8.5); the state after the last step is not returned (``forward`` returns it), see DEC.api.1.
        """
        if not isinstance(obs, torch.Tensor) or obs.dim() != 3:
            got = tuple(obs.shape) if isinstance(obs, torch.Tensor) else type(obs).__name__
            raise ValueError(f"obs must have shape (B, T, {self.state_dim}), got {got}")
        self._check_head_dict("actions", actions, (obs.shape[0], obs.shape[1]), False, torch.long)
        if self.fused_replay and not torch.compiler.is_compiling():
            return self._evaluate_fused(obs, actions, hidden, masks, episode_starts, check_values)
        logits, values, _, seq_masks = self._core(obs, hidden, masks, episode_starts, check_values)
        self._check_stored_actions(actions, masks, check_values)
        log_probs = {name: log_probs_of(logits[name], actions[name]) for name in self.head_names}
        entropy = {
            name: entropy_of(logits[name], None if seq_masks is None else seq_masks[name]) for name in self.head_names
        }
        return ActionEvaluation(log_probs, entropy, values)

    def _check_stored_actions(
        self, actions: dict[str, torch.Tensor], masks: dict[str, torch.Tensor] | None, check_values: bool
    ) -> None:
        if check_values and not torch.compiler.is_compiling():
            for name in self.head_names:
                check_actions(name, actions[name], self.head_sizes[name], None if masks is None else masks[name])

    def _evaluate_fused(
        self,
        obs: torch.Tensor,
        actions: dict[str, torch.Tensor],
        hidden: Hidden | None,
        masks: dict[str, torch.Tensor] | None,
        episode_starts: torch.Tensor | None,
        check_values: bool,
    ) -> ActionEvaluation:
        """:meth:`evaluate_actions` on the fast path (DEC.perf.1): :meth:`evaluate_padded` with validated inputs,
        split back into per-head dicts. Same values as the reference path."""
        x, initial, seq_masks = self._validated(obs, hidden, masks, episode_starts, check_values)
        self._check_stored_actions(actions, masks, check_values)
        stacked = torch.stack([actions[name] for name in self.head_names], dim=-1)
        padded_masks = self.padded_masks(seq_masks, (x.shape[0], x.shape[1]))
        log_probs, entropy, values = self.evaluate_padded(x, stacked, initial, padded_masks, episode_starts)
        names = self.head_names
        return ActionEvaluation(dict(zip(names, log_probs.unbind(-1))), dict(zip(names, entropy.unbind(-1))), values)

    def evaluate_padded(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        hidden: Hidden,
        padded_masks: torch.Tensor,
        episode_starts: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The fast path's core, for callers that hold the stacked layout already (PPO's update, DEC.perf.5).

        ``obs`` ``(B, T, D)``, ``actions`` ``(B, T, K)`` int64 (heads in ``head_names`` order), ``hidden`` the state
        before step 0 (each ``(B, hidden_dim)``), ``padded_masks`` ``(B, T, K, W)`` from :meth:`padded_masks`,
        ``episode_starts`` ``(B, T)`` bool or ``None``. Returns log-probs ``(B, T, K)``, entropies ``(B, T, K)`` and
        values ``(B, T)``: fused LSTM replay, all heads in two matmuls, one masked log-softmax. Unvalidated: callers
        pass what :meth:`evaluate_actions` validates (PPO validates its buffer once per update).
        """
        features = self.feature_net(obs)
        lstm_out, _ = self._replay_fused(features, hidden, episode_starts)
        logits, values = self._padded_heads(self.lstm_norm(lstm_out))
        log_probs, entropy = log_probs_and_entropy(apply_mask(logits, padded_masks), actions, padded_masks)
        return log_probs, entropy, values

__all__ = [
    "ActionEvaluation",
    "ActionSample",
    "FactoredRecurrentActorCritic",
    "Hidden",
    "LSTMState",
    "MAX_ABS_OBS",
    "POLICY_OUTPUT_GAIN",
    "_ForwardOutput",
]
