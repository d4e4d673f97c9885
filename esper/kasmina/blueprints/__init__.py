"""Seed blueprints: a registry keyed by (topology, name) of shape-preserving, identity-at-init modules."""

from esper.kasmina.blueprints.registry import (
    BlueprintSpec,
    blueprint_names,
    blueprint_param_count,
    create_blueprint,
    get_blueprint_spec,
)

__all__ = ["BlueprintSpec", "blueprint_names", "blueprint_param_count", "create_blueprint", "get_blueprint_spec"]
