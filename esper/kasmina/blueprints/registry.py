"""Blueprint registry keyed by (topology, name)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from esper.kasmina.blueprints.cnn import CNN_BLUEPRINTS
from esper.kasmina.blueprints.transformer import TRANSFORMER_BLUEPRINTS
from esper.leyline.validation import check_int
from esper.leyline import TOPOLOGIES, check_topology


@dataclass(frozen=True, slots=True)
class BlueprintSpec:
    """One registered blueprint: ``factory(dim)`` builds a shape-preserving, identity-at-init module."""

    topology: str
    name: str
    factory: Callable[[int], nn.Module]
    description: str


_REGISTRY: dict[tuple[str, str], BlueprintSpec] = {
    (topology, name): BlueprintSpec(topology, name, factory, description)
    for topology, table in (("cnn", CNN_BLUEPRINTS), ("transformer", TRANSFORMER_BLUEPRINTS))
    for name, (factory, description) in table.items()
}


def blueprint_names(topology: str) -> tuple[str, ...]:
    """Registered blueprint names for ``topology``, in registration order."""
    check_topology(topology)
    return tuple(name for (topo, name) in _REGISTRY if topo == topology)


def get_blueprint_spec(topology: str, name: str) -> BlueprintSpec:
    """The spec for ``(topology, name)``; raises ``ValueError`` listing the valid names for the topology."""
    check_topology(topology)
    spec = _REGISTRY.get((topology, name))
    if spec is None:
        valid = list(blueprint_names(topology))
        elsewhere = [t for t in TOPOLOGIES if (t, name) in _REGISTRY]
        hint = f" (it exists for topology {elsewhere})" if elsewhere else ""
        raise ValueError(f"blueprint_id {name!r} is unknown for topology {topology!r}{hint}; valid: {valid}")
    return spec


def create_blueprint(topology: str, name: str, dim: int, device: str | torch.device = "cpu") -> nn.Module:
    """Build blueprint ``name`` for ``topology`` with width ``dim`` (channels or embedding size) on ``device``."""
    spec = get_blueprint_spec(topology, name)
    check_int("dim", dim, low=1)
    with torch.device(device):
        return spec.factory(dim)


@lru_cache(maxsize=None)
def blueprint_param_count(topology: str, name: str, dim: int) -> int:
    """Measured number of parameters of the blueprint (built on the meta device, no memory used)."""
    module = create_blueprint(topology, name, dim, device="meta")
    return sum(p.numel() for p in module.parameters())


__all__ = ["BlueprintSpec", "blueprint_names", "blueprint_param_count", "create_blueprint", "get_blueprint_spec"]
