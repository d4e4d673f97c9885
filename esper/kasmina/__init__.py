"""Kasmina: seed slots, the seed lifecycle and its gates, blending, blueprints and hosts."""

from esper.kasmina.blending import BlendGate, alpha_at_step, check_blend_algorithm, ramp_alpha
from esper.kasmina.blueprints import blueprint_names, blueprint_param_count, create_blueprint
from esper.kasmina.gates import GATE_NAMES, GateResult, QualityGates
from esper.kasmina.host import CNNHost, Host, HostNetwork, MorphogeneticModel, TransformerHost
from esper.kasmina.metrics import SeedMetrics
from esper.kasmina.slot import COOLDOWN_EPOCHS, SeedSlot
from esper.kasmina.state import SeedState
from esper.kasmina.task_config import TaskConfig, probation_timeout_epochs
from esper.leyline import SeedStage

__all__ = [
    "COOLDOWN_EPOCHS",
    "GATE_NAMES",
    "BlendGate",
    "CNNHost",
    "GateResult",
    "Host",
    "HostNetwork",
    "MorphogeneticModel",
    "QualityGates",
    "SeedMetrics",
    "SeedSlot",
    "SeedStage",
    "SeedState",
    "TaskConfig",
    "TransformerHost",
    "alpha_at_step",
    "blueprint_names",
    "blueprint_param_count",
    "check_blend_algorithm",
    "create_blueprint",
    "probation_timeout_epochs",
    "ramp_alpha",
]
