"""The compile checker: ``torch.compile(fullgraph=True)`` with a backend that counts the graphs it is given.

``fullgraph=True`` turns any graph break into an error; :class:`GraphCounter` counts (re)compilations, so a test
can assert that once warm, later calls compile nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import torch
import torch._dynamo

P = ParamSpec("P")
R = TypeVar("R")


class GraphBreakError(AssertionError):
    """A function compiled with ``fullgraph=True`` hit a graph break (the message has dynamo's reason)."""


class GraphCounter:
    """A torch.compile backend that runs the captured graph eagerly and counts how many were captured."""

    def __init__(self) -> None:
        self.graphs = 0

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list[torch.Tensor]) -> Callable[..., Any]:
        self.graphs += 1
        return gm.forward


def compile_fullgraph(
    fn: Callable[P, R], counter: GraphCounter | None = None, backend: str | None = None
) -> Callable[P, R]:
    """``torch.compile(fn, fullgraph=True)`` with ``counter`` as backend (or the named real ``backend``); calling
    the result raises :class:`GraphBreakError` on a graph break."""
    compiled = torch.compile(fn, fullgraph=True, backend=counter if counter is not None else (backend or "inductor"))

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return compiled(*args, **kwargs)
        except torch._dynamo.exc.Unsupported as exc:
            raise GraphBreakError(f"graph break in {getattr(fn, '__qualname__', fn)!r}: {exc}") from exc

    return call


def reset() -> None:
    """Forget every compiled graph (each test starts cold)."""
    torch._dynamo.reset()
