"""SeedSlot: one injection point of the host that holds at most one seed and drives its lifecycle.

Lifecycle (one ``step_epoch`` per epoch, after the epoch's metrics were recorded):
GERMINATED -G1-> TRAINING -G2-> BLENDING (ramp of ``blend_tempo_epochs`` steps) -G3-> PROBATIONARY
-> FOSSILIZED (only via :meth:`SeedSlot.fossilize`, gate G5) or CULLED (Tamiyo, or auto-cull when G4 fails);
CULLED -> EMBARGOED -> (EMBARGO_EPOCHS) -> RESETTING -> DORMANT (slot free again).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from esper.kasmina.blending import BlendGate, alpha_at_step, blend, check_blend_algorithm, gated_weight
from esper.kasmina.blueprints import blueprint_names, create_blueprint
from esper.kasmina.gates import HEALTH_CHECKS, GateResult, QualityGates
from esper.kasmina.health import HEALTH_SUMS
from esper.kasmina.metrics import SeedMetrics
from esper.kasmina.state import SeedState
from esper.kasmina.task_config import TaskConfig, probation_timeout_epochs
from esper.leyline.validation import MAX_COUNT, check_device, check_int, check_str
from esper.kasmina.straight_through import proximal_straight_through
from esper.kasmina.typed import run
from esper.leyline import (
    TEMPO_TO_EPOCHS,
    SeedStage,
    SeedStateReport,
    SeedTelemetry,
    TelemetryEvent,
    TelemetryEventType,
    TempoAction,
    check_topology,
    check_transition,
    is_cullable,
)
from esper.leyline.defaults import (
    DEFAULT_BLENDING_TOTAL_STEPS,
    DEFAULT_MAX_EPOCHS,
    EMBARGO_EPOCHS,
    MIN_CULL_AGE,
    SEED_PROXIMAL_STRENGTH,
)
from esper.leyline.telemetry import TelemetryValue

#: step_epoch calls from a cull until the slot is free: CULLED->EMBARGOED, EMBARGO_EPOCHS in EMBARGOED, ->DORMANT.
COOLDOWN_EPOCHS: int = EMBARGO_EPOCHS + 2

EventCallback = Callable[[TelemetryEvent], None]


class _Mode(enum.Enum):
    """What the forward pass does (derived from the stage; read by ``forward`` so it traces cleanly)."""

    IDENTITY = 0
    TRAINING = 1
    BLEND = 2


_MODE_BY_STAGE = {
    SeedStage.TRAINING: _Mode.TRAINING,
    SeedStage.BLENDING: _Mode.BLEND,
    SeedStage.PROBATIONARY: _Mode.BLEND,
    SeedStage.FOSSILIZED: _Mode.BLEND,
}


class SeedSlot(nn.Module):
    """An injection point holding at most one seed.

    Args:
        slot_id: name of the slot (e.g. ``"r0c1"``).
        channels: feature width at the injection point (CNN channels or transformer embedding size).
        device: where seeds are built (seeds follow the slot if it is later moved with ``.to``).
        topology: ``"cnn"`` or ``"transformer"``; defaults to ``task_config.topology`` or ``"cnn"``.
        task_config: task settings (ramp fallback, episode length for the probation timeout).
        on_event: callback receiving every :class:`TelemetryEvent` the slot emits.
        gates: gate thresholds (defaults from ``esper.leyline.defaults``).
    """

    seed: nn.Module | None
    blend_gate: BlendGate | None
    _alpha: torch.Tensor
    _health: torch.Tensor

    def __init__(
        self,
        slot_id: str,
        channels: int,
        device: str | torch.device = "cpu",
        *,
        topology: str | None = None,
        task_config: TaskConfig | None = None,
        on_event: EventCallback | None = None,
        gates: QualityGates | None = None,
    ) -> None:
        super().__init__()
        if not check_str("slot_id", slot_id):
            raise ValueError("slot_id must be a non-empty str, got ''")
        check_int("channels", channels, low=1, high=MAX_COUNT)
        device = check_device("device", device, available=True)
        if gates is not None and not isinstance(gates, QualityGates):
            raise TypeError(f"gates must be a QualityGates or None, got {type(gates).__name__}")
        if task_config is not None and not isinstance(task_config, TaskConfig):
            raise TypeError(f"task_config must be a TaskConfig or None, got {type(task_config).__name__}")
        resolved = topology if topology is not None else (task_config.topology if task_config else "cnn")
        check_topology(resolved)
        if task_config is not None and task_config.topology != resolved:
            raise ValueError(f"topology {resolved!r} disagrees with task_config.topology {task_config.topology!r}")
        self.slot_id = slot_id
        self.channels = channels
        self.topology = resolved
        self.task_config = task_config
        self.on_event = on_event
        self.gates = gates if gates is not None else QualityGates()
        self.state: SeedState | None = None
        self.register_module("seed", None)
        self.register_module("blend_gate", None)
        self.register_buffer("_alpha", torch.zeros((), device=device), persistent=False)
        self.register_buffer("_health", torch.zeros(HEALTH_SUMS, dtype=torch.float64, device=device), persistent=False)
        self.host_stats_stale = False
        """True once a seed whose output reached the host (BLENDING or later) was culled: normalisation statistics
        downstream were measured with it and must be recomputed (the trainer does, DEC.seedhealth.4)."""
        self.isolate_gradients = False
        self._blend_algorithm_id: str | None = None
        self._blend_tempo_epochs: int | None = None
        self._force_zero = False
        self._mode = _Mode.IDENTITY
        self.telemetry = SeedTelemetry(slot_id=slot_id)
        self.epoch = 0
        """Number of ``step_epoch`` calls so far (the epoch stamped on events)."""
        self.gate_results: dict[str, GateResult] = {}
        """Latest result of each gate evaluated in this slot."""
        self._germinations = 0

    # ------------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return self._alpha.device

    @property
    def is_empty(self) -> bool:
        """True when the slot holds no seed and no cooldown (a germination may target it)."""
        return self.state is None

    @property
    def stage(self) -> SeedStage:
        """Current stage (DORMANT when empty)."""
        return SeedStage.DORMANT if self.state is None else self.state.stage

    @property
    def alpha(self) -> float:
        return 0.0 if self.state is None else self.state.alpha

    @property
    def can_cull(self) -> bool:
        """Tamiyo may cull: cullable stage and the seed lived at least ``MIN_CULL_AGE`` epochs."""
        s = self.state
        return s is not None and is_cullable(s.stage) and s.metrics.epochs_total >= MIN_CULL_AGE

    @property
    def can_fossilize(self) -> bool:
        """PROBATIONARY and gate G5 would pass now."""
        s = self.state
        return s is not None and s.stage == SeedStage.PROBATIONARY and self.gates.g5(s).passed

    @property
    def probation_timeout(self) -> int:
        """Epochs in PROBATIONARY before an undecided seed is culled."""
        max_epochs = self.task_config.max_epochs if self.task_config is not None else DEFAULT_MAX_EPOCHS
        return probation_timeout_epochs(max_epochs)

    # ------------------------------------------------------------------ lifecycle
    def germinate(
        self,
        blueprint_id: str,
        seed_id: str | None = None,
        host_module: nn.Module | None = None,
        blend_algorithm_id: str = "sigmoid",
        blend_tempo_epochs: int = 5,
    ) -> SeedState:
        """Germinate a new seed in this slot.

        Args:
            blueprint_id: blueprint to instantiate (e.g. ``"norm"``, ``"attention"``).
            seed_id: unique identifier; generated from the slot id when None.
            host_module: host network; when given, the seed is built on the device and dtype of its parameters.
            blend_algorithm_id: ``"linear"``, ``"sigmoid"`` or ``"gated"``.
            blend_tempo_epochs: epochs of the alpha ramp during BLENDING (3, 5 or 8 from the tempo head).

        Everything is validated before the slot changes; on error the slot is untouched.
        """
        if not isinstance(blueprint_id, str):
            raise TypeError(f"blueprint_id must be a str, got {type(blueprint_id).__name__}")
        if seed_id is not None:
            check_str("seed_id (or None)", seed_id)
            if not seed_id:
                raise ValueError("seed_id must be a non-empty str or None, got ''")
        if host_module is not None and not isinstance(host_module, nn.Module):
            raise TypeError(f"host_module must be an nn.Module or None, got {type(host_module).__name__}")
        algorithm = check_blend_algorithm(blend_algorithm_id)
        if isinstance(blend_tempo_epochs, TempoAction):  # DEC.validation.5: an index is not a ramp length
            raise TypeError(
                f"blend_tempo_epochs must be an int number of epochs, got {blend_tempo_epochs!r} (a tempo index); "
                f"pass TEMPO_TO_EPOCHS[{blend_tempo_epochs!r}] = {TEMPO_TO_EPOCHS[blend_tempo_epochs]}"
            )
        tempo = check_int("blend_tempo_epochs", blend_tempo_epochs, low=1, high=MAX_COUNT)
        g0 = self._record_gate(self.gates.g0(self.state, blueprint_id, self.topology, blueprint_names(self.topology)))
        if not g0.passed:
            raise ValueError(f"cannot germinate in slot {self.slot_id!r}: " + "; ".join(g0.reasons))

        device, dtype = self.device, None
        host_param = next(host_module.parameters(), None) if host_module is not None else None
        if host_param is not None:
            device, dtype = host_param.device, host_param.dtype
        seed_module = create_blueprint(self.topology, blueprint_id, self.channels, device=device)
        gate = BlendGate(self.channels, self.topology, device=device) if algorithm == "gated" else None
        if dtype is not None:
            seed_module.to(dtype=dtype)
            if gate is not None:
                gate.to(dtype=dtype)

        # --- validated: mutate from here on
        self._germinations += 1
        state = SeedState(
            seed_id=seed_id if seed_id is not None else f"{self.slot_id}-seed{self._germinations}",
            blueprint_id=blueprint_id,
            slot_id=self.slot_id,
            blend_algorithm_id=algorithm,
        )
        self._alpha = self._alpha.to(device)
        self._health = torch.zeros(HEALTH_SUMS, dtype=torch.float64, device=device)
        self.seed = seed_module
        self.blend_gate = gate
        # Store blend settings for use in start_blending() (plan Task 6)
        self._blend_algorithm_id = algorithm
        self._blend_tempo_epochs = tempo
        self.state = state
        state.blend_tempo_epochs = tempo
        state.metrics.seed_param_count = sum(p.numel() for p in self.seed_parameters())
        self.isolate_gradients = False
        self._set_alpha(0.0)
        self._transition(SeedStage.GERMINATED)
        self._emit(TelemetryEventType.SEED_GERMINATED, {
            "blueprint_id": blueprint_id, "blend_algorithm_id": algorithm, "blend_tempo_epochs": tempo,
            "seed_param_count": state.metrics.seed_param_count,
        })
        self.sync_telemetry()
        return state

    def step_epoch(self) -> bool:
        """Advance the lifecycle by one epoch. Returns True iff the seed was auto-culled this epoch."""
        self.epoch += 1
        state = self.state
        if state is None:
            self.sync_telemetry()
            return False
        state.metrics.epochs_total += 1
        state.metrics.epochs_in_current_stage += 1
        auto_culled = False
        stage = state.stage
        if stage == SeedStage.GERMINATED:
            if self._record_gate(self.gates.g1(state, self.seed is not None)).passed:
                self._transition(SeedStage.TRAINING)
        elif stage == SeedStage.TRAINING:
            g2 = self._record_gate(self.gates.g2(state))
            if g2.passed:
                self._transition(SeedStage.BLENDING)
            else:
                auto_culled = self._cull_if_unhealthy(g2)
        elif stage in (SeedStage.BLENDING, SeedStage.PROBATIONARY) and self._cull_if_unhealthy(
            self._record_gate(self.gates.health(state))
        ):
            auto_culled = True
        elif stage == SeedStage.BLENDING:
            self._advance_blending(state)
        elif stage == SeedStage.PROBATIONARY:
            g4 = self._record_gate(self.gates.g4(state, self.probation_timeout))
            if not g4.passed:
                self._cull(g4.failed_checks[0], auto=True)
                auto_culled = True
        elif stage == SeedStage.CULLED:
            self._transition(SeedStage.EMBARGOED)
        elif stage == SeedStage.EMBARGOED:
            if state.metrics.epochs_in_current_stage >= EMBARGO_EPOCHS:
                self._transition(SeedStage.RESETTING)
        elif stage == SeedStage.RESETTING:
            self._transition(SeedStage.DORMANT)
        self.sync_telemetry()
        return auto_culled

    def _cull_if_unhealthy(self, gate: GateResult) -> bool:
        """Auto-cull when ``gate`` failed a health check; the reason is the first failed health check's name."""
        failed = [name for name in gate.failed_checks if name in HEALTH_CHECKS]
        if not failed:
            return False
        self._cull(failed[0], auto=True)
        return True

    def start_blending(self, total_steps: int) -> None:
        """Start the alpha ramp: ``total_steps`` epochs from alpha 0 to exactly 1 (stage must be BLENDING)."""
        check_int("total_steps", total_steps, low=1)
        state = self.state
        if state is None or state.stage != SeedStage.BLENDING:
            raise ValueError(f"start_blending needs a seed in stage BLENDING; slot {self.slot_id!r} is {self.stage.name}")
        state.blending_steps_total = total_steps
        state.blending_steps_done = 0
        self._set_alpha(alpha_at_step(state.blend_algorithm_id, 0, total_steps))

    def cull(self, reason: str) -> None:
        """Remove the seed now (any cullable stage, whatever its age); the slot enters the cooldown."""
        self._cull(reason, auto=False)

    def fossilize(self) -> GateResult:
        """Make a PROBATIONARY seed permanent if gate G5 passes; a failed gate leaves the state unchanged.

        Raises ``InvalidTransitionError`` when the slot is not PROBATIONARY.
        """
        state = self.state
        check_transition(self.stage, SeedStage.FOSSILIZED)
        assert state is not None  # a DORMANT slot fails the transition check above
        g5 = self._record_gate(self.gates.g5(state))
        if g5.passed:
            self._transition(SeedStage.FOSSILIZED)
            self._emit(TelemetryEventType.SEED_FOSSILIZED, {
                "blueprint_id": state.blueprint_id, "blend_tempo_epochs": state.blend_tempo_epochs,
                "counterfactual_contribution": state.metrics.counterfactual_contribution,
                "epochs_total": state.metrics.epochs_total, "seed_param_count": state.metrics.seed_param_count,
            })
            self.sync_telemetry()
        return g5

    # ------------------------------------------------------------------ forward
    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Host features in, host features out (same shape).

        TRAINING: returns ``h`` exactly; the seed learns on ``h.detach()`` through a straight-through term.
        BLENDING/PROBATIONARY/FOSSILIZED: ``h + w * (seed(x) - h)``, ``x = h.detach()`` while isolating.
        Empty, other stages or inside :meth:`force_alpha_zero`: ``h``.
        """
        self._check_input(h)
        seed = self.seed
        mode = self._mode
        if self._force_zero or seed is None or mode is _Mode.IDENTITY:
            return h
        x = h.detach() if self.isolate_gradients else h
        s = run(seed, x)
        if self.training and torch.is_grad_enabled():
            self._accumulate_health(s, x)
        if mode is _Mode.TRAINING:
            channel_dim = 1 if self.topology == "cnn" else -1
            return proximal_straight_through(h, s, x, SEED_PROXIMAL_STRENGTH, channel_dim=channel_dim)
        weight = self._alpha
        gate = self.blend_gate
        if gate is not None:
            weight = gated_weight(weight, run(gate, x))
        return blend(h, s, weight)

    def _accumulate_health(self, s: torch.Tensor, x: torch.Tensor) -> None:
        with torch.no_grad():
            residual = (s.detach() - x.detach()).double()
            sums = torch.stack([
                residual.square().sum(), x.detach().double().square().sum(), (~torch.isfinite(s.detach())).sum().double(),
            ])
            self._health.add_(sums)

    def reset_health(self) -> None:
        """Zero the health sums (the trainer calls it at the start of every training epoch)."""
        self._health.zero_()

    @property
    def health_sums(self) -> torch.Tensor:
        """Device tensor ``[sum |s(x) - x|^2, sum |x|^2, non-finite outputs]`` over the training forwards of the live
        seed since :meth:`reset_health` (see ``esper.kasmina.health``). Read it once per epoch."""
        return self._health

    @contextmanager
    def force_alpha_zero(self) -> Iterator[None]:
        """Within the block the slot returns its input unchanged (counterfactual validation)."""
        previous = self._force_zero
        self._force_zero = True
        try:
            yield
        finally:
            self._force_zero = previous

    def seed_parameters(self) -> list[nn.Parameter]:
        """Parameters of the seed and of its blend gate (empty when no seed module exists)."""
        params: list[nn.Parameter] = []
        for module in (self.seed, self.blend_gate):
            if module is not None:
                params.extend(module.parameters())
        return params

    # ------------------------------------------------------------------ reporting
    def report(self) -> SeedStateReport | None:
        """Immutable snapshot for Tamiyo and rewards; None when the slot is empty."""
        s = self.state
        if s is None:
            return None
        return SeedStateReport(
            slot_id=self.slot_id, seed_id=s.seed_id, blueprint_id=s.blueprint_id, stage=s.stage,
            blend_algorithm_id=s.blend_algorithm_id, blend_tempo_epochs=s.blend_tempo_epochs,
            blending_steps_done=s.blending_steps_done, blending_steps_total=s.blending_steps_total,
            metrics=s.metrics.to_report(),
        )

    def sync_telemetry(self) -> SeedTelemetry:
        """Refresh :attr:`telemetry` from the state; blending velocity = alpha / epochs in BLENDING."""
        s = self.state
        if s is None:
            self.telemetry = SeedTelemetry(slot_id=self.slot_id)
            return self.telemetry
        m = s.metrics
        t = self.telemetry
        t.seed_id, t.slot_id, t.blueprint_id = s.seed_id, self.slot_id, s.blueprint_id
        t.stage = int(s.stage)
        t.alpha = s.alpha
        t.accuracy = m.current_val_accuracy
        t.accuracy_delta = m.improvement_since_stage_start
        t.epochs_in_stage = m.epochs_in_current_stage
        t.gradient_norm_ratio = m.seed_gradient_norm_ratio
        t.counterfactual_contribution = m.counterfactual_contribution
        t.blend_tempo_epochs = s.blend_tempo_epochs
        epochs_in_blend = m.epochs_in_current_stage
        if s.stage == SeedStage.BLENDING and epochs_in_blend > 0:
            t.blending_velocity = s.alpha / epochs_in_blend
        else:
            t.blending_velocity = 0.0
        return t

    def extra_repr(self) -> str:
        return f"slot_id={self.slot_id!r}, channels={self.channels}, topology={self.topology!r}, stage={self.stage.name}"

    # ------------------------------------------------------------------ internals
    def _on_enter_stage(self, new_stage: SeedStage, old_stage: SeedStage) -> None:
        """Handle stage entry logic uniformly (plan Task 7)."""
        state = self.state
        assert state is not None
        if new_stage == SeedStage.TRAINING and old_stage == SeedStage.GERMINATED:
            self.isolate_gradients = True
        elif new_stage == SeedStage.BLENDING and old_stage == SeedStage.TRAINING:
            # Topology-aware gradient isolation: CNN hosts never get gradients through the seed path.
            self.isolate_gradients = self.topology == "cnn"
            # Snapshot accuracy at blending start
            state.metrics.accuracy_at_blending_start = state.metrics.current_val_accuracy
            state.metrics.blending_started = True
            self.start_blending(total_steps=self._blending_steps())
        elif new_stage == SeedStage.PROBATIONARY:
            self._set_alpha(1.0)
        elif new_stage == SeedStage.FOSSILIZED:
            self.isolate_gradients = False  # the seed is now part of the host
            self._set_alpha(1.0)
        elif new_stage == SeedStage.CULLED:
            if state.metrics.blending_started:
                self.host_stats_stale = True
            self.seed = None
            self.blend_gate = None
            self.isolate_gradients = False
            self._set_alpha(0.0)

    def _blending_steps(self) -> int:
        """Ramp length. Priority: stored tempo > TaskConfig.blending_steps > DEFAULT_BLENDING_TOTAL_STEPS."""
        total_steps = self._blend_tempo_epochs
        if total_steps is None:
            total_steps = DEFAULT_BLENDING_TOTAL_STEPS
            if self.task_config is not None:
                configured_steps = self.task_config.blending_steps
                if isinstance(configured_steps, int) and configured_steps > 0:
                    total_steps = configured_steps
        return total_steps

    def _advance_blending(self, state: SeedState) -> None:
        if state.blending_steps_done < state.blending_steps_total:
            state.blending_steps_done += 1
            done = state.blending_steps_done >= state.blending_steps_total
            alpha = 1.0 if done else alpha_at_step(state.blend_algorithm_id, state.blending_steps_done,
                                                   state.blending_steps_total)
            self._set_alpha(alpha)
        if state.blending_steps_done >= state.blending_steps_total:
            if self._record_gate(self.gates.g3(state)).passed:
                self._transition(SeedStage.PROBATIONARY)

    def _cull(self, reason: str, *, auto: bool) -> None:
        if not isinstance(reason, str) or not reason:
            raise ValueError(f"reason must be a non-empty str, got {reason!r}")
        check_transition(self.stage, SeedStage.CULLED)
        state = self.state
        assert state is not None  # a DORMANT slot fails the transition check above
        from_stage = state.stage
        self._transition(SeedStage.CULLED)
        state.cull_reason = reason
        self._emit(TelemetryEventType.SEED_CULLED, {
            "reason": reason, "auto": auto, "from_stage": from_stage.name,
            "blueprint_id": state.blueprint_id, "blend_tempo_epochs": state.blend_tempo_epochs,
            "epochs_total": state.metrics.epochs_total,
            "counterfactual_contribution": state.metrics.counterfactual_contribution,
        })
        self.sync_telemetry()

    def _transition(self, new_stage: SeedStage) -> None:
        state = self.state
        assert state is not None
        old_stage = state.stage
        state.transition(new_stage)  # validates before changing anything
        self._on_enter_stage(new_stage, old_stage)
        self._mode = _MODE_BY_STAGE.get(new_stage, _Mode.IDENTITY)
        self._emit(TelemetryEventType.SEED_STAGE_CHANGED, {"from_stage": old_stage.name, "to_stage": new_stage.name})
        if new_stage == SeedStage.DORMANT:
            self._free()

    def _free(self) -> None:
        self.state = None
        self.seed = None
        self.blend_gate = None
        self._blend_algorithm_id = None
        self._blend_tempo_epochs = None
        self.isolate_gradients = False
        self._mode = _Mode.IDENTITY
        self._set_alpha(0.0)

    def _set_alpha(self, alpha: float) -> None:
        if self.state is not None:
            self.state.alpha = alpha
            self.state.metrics.current_alpha = alpha
        with torch.no_grad():
            self._alpha.fill_(alpha)

    def _record_gate(self, result: GateResult) -> GateResult:
        self.gate_results[result.gate] = result
        self._emit(TelemetryEventType.SEED_GATE_EVALUATED, result.to_event_data())
        return result

    def _emit(self, event_type: TelemetryEventType, data: dict[str, TelemetryValue]) -> None:
        if self.on_event is None:
            return
        seed_id = self.state.seed_id if self.state is not None else None
        self.on_event(TelemetryEvent(event_type=event_type, data=data, slot_id=self.slot_id, seed_id=seed_id,
                                     epoch=self.epoch))

    def _check_input(self, h: torch.Tensor) -> None:
        """Same rule in every stage (issue 13): a floating tensor of the slot's dtype (its buffers follow
        ``.to(dtype)``; under autocast any floating dtype), on the slot's device, of the topology's shape."""
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"h must be a torch.Tensor at slot {self.slot_id!r}, got {type(h).__name__}")
        if not h.is_floating_point():
            raise TypeError(f"h must be a floating tensor at slot {self.slot_id!r}, got {h.dtype}")
        if h.dtype != self._alpha.dtype and not torch.is_autocast_enabled(h.device.type):
            raise TypeError(
                f"h must have the slot's dtype {self._alpha.dtype} at slot {self.slot_id!r} (convert the model with "
                f".to(dtype) or use autocast), got {h.dtype}"
            )
        if h.device.type != self._alpha.device.type:
            raise ValueError(f"h must be on {self._alpha.device} at slot {self.slot_id!r}, got {h.device}")
        if self.topology == "cnn":
            if h.dim() != 4 or h.shape[1] != self.channels:
                raise ValueError(f"h must have shape (B, {self.channels}, H, W) at slot {self.slot_id!r}, "
                                 f"got {tuple(h.shape)}")
        elif h.dim() != 3 or h.shape[-1] != self.channels:
            raise ValueError(f"h must have shape (B, T, {self.channels}) at slot {self.slot_id!r}, got {tuple(h.shape)}")


__all__ = ["COOLDOWN_EPOCHS", "GateResult", "QualityGates", "SeedMetrics", "SeedSlot", "SeedStage", "SeedState"]
