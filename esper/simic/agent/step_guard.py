"""An optimiser step that is undone when it makes a parameter non-finite (issue 13, ISSUE.13.52; DEC.perf.5).

:class:`StepGuard` snapshots the parameters and the optimiser's per-parameter state into buffers allocated once,
with one fused copy per tensor list (``torch._foreach_copy_``), takes the step, and checks all parameters with one
fused norm (exactly, per tensor, only when that norm is not finite). Only when a parameter is non-finite are the
parameters and the state restored; state that did not exist before the step (Adam's first step) is removed again.
Cost per step: a few fused ops and one host sync, instead of one clone and one ``isfinite`` per tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

_StateKey = tuple[int, str]
"""(position of the parameter, state key) of one state tensor."""


class StepGuard:
    """Runs ``optimizer.step()`` over ``params`` and reverts it if any parameter became non-finite.

    ``params``: the parameters the optimiser updates (every one must be in ``optimizer``'s param groups, or have no
    optimiser state). Make one guard per update (no ``load_state_dict`` of the optimiser while it is in use): its
    buffers are allocated for the state tensors it first sees under each (parameter, key).
    """

    def __init__(self, params: Sequence[torch.Tensor], optimizer: torch.optim.Optimizer) -> None:
        if not params:
            raise ValueError("params must hold at least one parameter")
        self.params: list[torch.Tensor] = list(params)
        self.optimizer = optimizer
        self._saved_params = [torch.empty_like(p, memory_format=torch.preserve_format) for p in params]
        self._state_layout: list[_StateKey] = []
        self._saved_state: list[torch.Tensor] = []
        self._complete: tuple[list[_StateKey], list[torch.Tensor], dict[int, dict[str, object]]] | None = None
        """The state listing once every parameter has state (it then keeps its tensors: updated in place)."""

    def _state_tensors(self) -> tuple[list[_StateKey], list[torch.Tensor], dict[int, dict[str, object]]]:
        """The optimiser's state tensors (and its other state entries, by parameter position) right now."""
        if self._complete is not None:
            return self._complete
        layout: list[_StateKey] = []
        tensors: list[torch.Tensor] = []
        others: dict[int, dict[str, object]] = {}
        state = self.optimizer.state
        for position, param in enumerate(self.params):
            entries = state.get(param)
            if not entries:
                continue
            others[position] = {}
            for key, value in entries.items():
                if isinstance(value, torch.Tensor):
                    layout.append((position, key))
                    tensors.append(value)
                else:
                    others[position][key] = value
        if len(others) == len(self.params):
            self._complete = (layout, tensors, others)
        return layout, tensors, others

    def step(self) -> bool:
        """``optimizer.step()``; returns ``True`` if every parameter is finite afterwards, otherwise restores the
        parameters and the optimiser state of before the step and returns ``False``. One host sync."""
        layout, tensors, others = self._state_tensors()
        with torch.no_grad():
            if layout != self._state_layout:  # Adam's first step creates the state; its tensors then stay put
                self._state_layout = layout
                self._saved_state = [torch.empty_like(t, memory_format=torch.preserve_format) for t in tensors]
            torch._foreach_copy_(self._saved_params + self._saved_state, self.params + tensors)
        self.optimizer.step()
        with torch.no_grad():
            if self._all_finite():
                return True
            torch._foreach_copy_(self.params, self._saved_params)
        self._restore_state(layout, others)
        return False

    def _all_finite(self) -> bool:
        """Whether every parameter entry is finite. Fast path: the sum of the per-tensor L2 norms (one fused op) is
        finite, which an inf or NaN entry never allows; only when it is not (a non-finite entry, or finite entries
        so large that their squares overflow) is every tensor checked exactly."""
        norms = torch._foreach_norm(self.params)
        if bool(torch.isfinite(torch.stack(norms).sum())):
            return True
        return bool(torch.stack([torch.isfinite(p).all() for p in self.params]).all())

    def _restore_state(self, layout: list[_StateKey], others: dict[int, dict[str, object]]) -> None:
        """Put back the optimiser state of before the step (fresh tensors; entries the step created are dropped)."""
        state = self.optimizer.state
        restored: dict[int, dict[str, object]] = {position: dict(entries) for position, entries in others.items()}
        for (position, key), saved in zip(layout, self._saved_state):
            restored[position][key] = saved.clone()
        for position, param in enumerate(self.params):
            if position in restored:
                state[param] = restored[position]
            else:
                state.pop(param, None)


__all__ = ["StepGuard"]
